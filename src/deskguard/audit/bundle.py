"""Verify an exported audit bundle offline: no database, no deskguard configuration, no network.

A bundle is four files (``app.ledger.export_bundle`` writes them): ``manifest.json`` (format,
tenant, origin), ``records.jsonl`` (one canonical record per line, in log order: the exact bytes
that were hashed), ``checkpoints.jsonl`` (one signed note per line, as a JSON string) and
``keys.json`` (the verifier keys with the interval each signed in). This is what a client runs on
what its provider hands over; it trusts only the keys, which it should compare with keys it got
separately (the witness, a contract annex).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime

from deskguard.audit.checkpoint import Keyring, TrustedKey
from deskguard.audit.note import Verifier
from deskguard.audit.verify import LogRecord, Report, verify_log

FORMAT = "deskguard.audit-bundle/1"
FILES = ("manifest.json", "records.jsonl", "checkpoints.jsonl", "keys.json")


class BundleError(ValueError):
    """The bundle is not one: a file is missing or unreadable. Names the file."""


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
    return origin, verify_log(
        records=_records(text) if text else iter(()), checkpoints=notes, keyring=keyring
    )
