"""A file witness: signed checkpoints appended to one file per tenant, outside the database.

Point ``DESKGUARD_WITNESS_DIR`` at storage the database administrators cannot rewrite (another
host's mount, a WORM bucket synced from it): ``deskguard audit verify`` checks the log against every
checkpoint found there, so a log rewritten after a checkpoint was published no longer verifies.
Each line is one signed note as a JSON string (a note has blank lines of its own).
"""

from __future__ import annotations

import json
import os
from pathlib import Path


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
