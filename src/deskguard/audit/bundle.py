"""Verify an exported audit bundle offline: no database, no deskguard configuration, no network.

A bundle is four files, written by ``app.ledger.export_bundle``: ``manifest.json`` (format, tenant,
origin), ``records.jsonl`` (one canonical record per line, in log order: the exact bytes that were
hashed), ``checkpoints.jsonl`` (one signed note per line, as a JSON string) and ``keys.json`` (the
verifier keys with the interval each signed in). A partial bundle (a time range) adds
``proofs.jsonl``: one inclusion proof per record against the latest signed checkpoint. This is what
a client runs on what its provider hands over; it trusts only the keys, which it should compare
with keys it got separately (the witness, a contract annex). The console hands the same files over
as one zip archive (``to_zip``; ``deskguard audit verify bundle.zip`` reads it with ``from_zip``).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator, Mapping
from datetime import datetime

from deskguard.audit.checkpoint import Keyring, TrustedKey, verify_checkpoint
from deskguard.audit.merkle import ProofError, leaf_hash, verify_inclusion
from deskguard.audit.note import Verifier
from deskguard.audit.verify import LogRecord, Report, verify_log
from deskguard.domain.errors import DeskguardError

FORMAT = "deskguard.audit-bundle/1"
FILES = ("manifest.json", "records.jsonl", "checkpoints.jsonl", "keys.json")


class BundleError(ValueError):
    """The bundle is not one: a file is missing or unreadable. Names the file."""


OPTIONAL = ("proofs.jsonl",)
MAX_ZIP_MEMBER = 1 << 30  # a bundle file larger than this is refused rather than inflated in memory


def to_zip(files: Mapping[str, str], *, folder: str) -> bytes:
    """The bundle's files as one zip archive, each under ``folder/`` (deterministic: fixed dates)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name].encode("utf-8"))
    return buffer.getvalue()


def from_zip(data: bytes) -> dict[str, str]:
    """The bundle files of a ``to_zip`` archive, whatever folder holds them; BundleError otherwise."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise BundleError(f"not a zip archive: {exc}") from None
    files: dict[str, str] = {}
    with archive:
        for info in archive.infolist():
            name = info.filename.rsplit("/", 1)[-1]
            if name not in (*FILES, *OPTIONAL):
                continue
            if name in files:
                raise BundleError(f"{name} appears twice in the archive")
            if info.file_size > MAX_ZIP_MEMBER:
                raise BundleError(f"{info.filename} is larger than {MAX_ZIP_MEMBER} bytes")
            try:
                files[name] = archive.read(info).decode("utf-8")
            except (UnicodeDecodeError, zipfile.BadZipFile) as exc:
                raise BundleError(f"{info.filename}: {exc}") from None
    return files


PRUNED_KEY = "deskguard.pruned"  # never a key of a record: records are event envelopes


def pruned_marker(leaf_hash: bytes) -> str:
    """The line that stands for a record pruned under retention: only its leaf hash remains."""
    return json.dumps({PRUNED_KEY: leaf_hash.hex()}, separators=(",", ":"))


def _records(text: str) -> Iterator[LogRecord]:
    for index, line in enumerate(text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")):
        if line.startswith('{"' + PRUNED_KEY + '":'):
            yield LogRecord(
                index=index, canonical=None, stored_leaf_hash=bytes.fromhex(json.loads(line)[PRUNED_KEY])
            )
        else:
            yield LogRecord(index=index, canonical=line.encode())


def verify_bundle(files: Mapping[str, str]) -> tuple[str, Report]:
    """Verify the bundle's records against its signed checkpoints; returns (origin, report)."""
    missing = [name for name in FILES if name not in files]
    if missing:
        raise BundleError(f"not an audit bundle: missing {', '.join(missing)}")
    try:
        manifest = json.loads(files["manifest.json"])
        keys = json.loads(files["keys.json"])
        notes = [json.loads(line) for line in files["checkpoints.jsonl"].splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise BundleError(f"unreadable bundle file: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise BundleError(f"manifest.json: format {manifest.get('format')!r}, expected {FORMAT!r}")
    origin = manifest["origin"]
    keyring = Keyring(
        origin,
        tuple(
            TrustedKey(
                Verifier.from_text(k["verifier"]),
                not_before=datetime.fromisoformat(k["not_before"]),
                not_after=datetime.fromisoformat(k["not_after"]) if k["not_after"] else None,
            )
            for k in keys
        ),
    )
    text = files["records.jsonl"]
    records = _records(text) if text else iter(())
    if "partial" in manifest:
        return origin, _verify_partial(
            records, proofs=files.get("proofs.jsonl", ""), notes=notes, keyring=keyring
        )
    return origin, verify_log(records=records, checkpoints=notes, keyring=keyring)


def _verify_partial(
    records: Iterator[LogRecord], *, proofs: str, notes: list[str], keyring: Keyring
) -> Report:
    """A range of records, each with its inclusion proof against the latest signed checkpoint."""
    if not notes:
        return Report(
            ok=False, size=0, checkpoints_verified=0, reason="a partial bundle needs a signed checkpoint"
        )
    try:
        latest = max((verify_checkpoint(n, keyring=keyring).checkpoint for n in notes), key=lambda c: c.size)
    except DeskguardError as exc:
        return Report(
            ok=False, size=0, checkpoints_verified=0, reason=f"a checkpoint does not verify: {exc.message}"
        )
    entries = [json.loads(line) for line in proofs.splitlines() if line.strip()]
    lines = list(records)
    if len(entries) != len(lines):
        return Report(
            ok=False,
            size=0,
            checkpoints_verified=1,
            reason=f"{len(lines)} records but {len(entries)} proofs: the bundle was altered",
        )
    for count, (record, entry) in enumerate(zip(lines, entries, strict=True)):
        leaf = record.stored_leaf_hash if record.canonical is None else leaf_hash(record.canonical)
        try:
            verify_inclusion(
                leaf_hash=leaf or b"",
                index=entry["index"],
                size=latest.size,
                proof=[bytes.fromhex(h) for h in entry["proof"]],
                root=latest.root,
            )
        except ProofError as exc:
            return Report(
                ok=False,
                size=count,
                checkpoints_verified=1,
                first_bad_index=entry["index"],
                reason=f"record is not in the signed log as handed over: {exc}",
            )
    return Report(ok=True, size=len(lines), checkpoints_verified=1)
