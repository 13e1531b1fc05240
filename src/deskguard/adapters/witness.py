"""Witnesses: where signed checkpoints are published outside the database.

The file witness appends them to one file per tenant; the syslog and webhook witnesses hand them to
a collector or a third party (the tenant's SOC, its auditor) who keeps its own copy.

Point ``DESKGUARD_WITNESS_DIR`` at storage the database administrators cannot rewrite (another
host's mount, a WORM bucket synced from it): ``deskguard audit verify`` checks the log against every
checkpoint found there, so a log rewritten after a checkpoint was published no longer verifies.
Each line is one signed note as a JSON string (a note has blank lines of its own).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
from collections.abc import Sequence
from pathlib import Path

import httpx
import structlog

from deskguard.domain.ports import Clock, Witness

log = structlog.get_logger("deskguard.witness")


class FileWitness:
    def __init__(self, directory: Path) -> None:
        self._dir = directory

    def _path(self, tenant_id: str) -> Path:
        if not tenant_id or "/" in tenant_id or tenant_id.startswith("."):
            raise ValueError(f"tenant id {tenant_id!r} cannot name a witness file")
        return self._dir / f"{tenant_id}.checkpoints.jsonl"

    def publish(self, *, tenant_id: str, note: str) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        with self._path(tenant_id).open("a", encoding="utf-8") as out:
            out.write(json.dumps(note) + "\n")
            out.flush()
            os.fsync(out.fileno())

    def published(self, *, tenant_id: str) -> list[str]:
        path = self._path(tenant_id)
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class SyslogWitness:
    """Sends each checkpoint as an RFC 5424 message over UDP to a collector (a SIEM, rsyslog)."""

    def __init__(self, *, host: str, port: int, clock: Clock, hostname: str = "deskguard") -> None:
        self._address, self._clock, self._hostname = (host, port), clock, hostname

    def publish(self, *, tenant_id: str, note: str) -> None:
        # PRI 110 = facility 13 (log audit) * 8 + severity 6 (informational)
        timestamp = self._clock.now().isoformat()
        message = (
            f'<110>1 {timestamp} {self._hostname} deskguard - checkpoint [deskguard tenant="{tenant_id}"] '
        )
        payload = (message + json.dumps(note)).encode()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(payload, self._address)

    def published(self, *, tenant_id: str) -> list[str]:
        return []  # a collector cannot be read back from here; the file witness is what verify reads


class WebhookWitness:
    """POSTs each checkpoint to a URL, signed like deskguard's own webhooks (HMAC-SHA256)."""

    def __init__(self, *, url: str, key: bytes, timeout_s: float = 5.0) -> None:
        self._url, self._key, self._timeout = url, key, timeout_s

    def publish(self, *, tenant_id: str, note: str) -> None:
        body = json.dumps({"tenant_id": tenant_id, "checkpoint": note}).encode()
        signature = "sha256=" + hmac.new(self._key, body, hashlib.sha256).hexdigest()
        response = httpx.post(
            self._url,
            content=body,
            timeout=self._timeout,
            headers={"content-type": "application/json", "x-deskguard-signature": signature},
        )
        response.raise_for_status()

    def published(self, *, tenant_id: str) -> list[str]:
        return []


class Witnesses:
    """Every configured witness. One failing does not stop the others: the failure is logged, and
    the checkpoint stays in the database and the file witness."""

    def __init__(self, witnesses: Sequence[Witness]) -> None:
        self._all = tuple(witnesses)

    def publish(self, *, tenant_id: str, note: str) -> None:
        for witness in self._all:
            try:
                witness.publish(tenant_id=tenant_id, note=note)
            except Exception as exc:  # a witness down must not lose the others' copies
                log.error(
                    "witness_failed",
                    witness=type(witness).__name__,
                    tenant_id=tenant_id,
                    error_type=type(exc).__name__,
                )

    def published(self, *, tenant_id: str) -> list[str]:
        return [note for witness in self._all for note in witness.published(tenant_id=tenant_id)]
