"""A daemon thread that calls ``tick()`` every ``tick_s`` seconds until stopped.

A failing tick is logged and the next one retries: the workers' work is idempotent (a cursor or a
due-list read from the database), so nothing is lost by trying again.
"""

from __future__ import annotations

import threading

import structlog


class Ticker:
    name = "deskguard-worker"
    failure = "worker_failed"  # the log event of a failed tick

    def __init__(self, *, tick_s: float = 1.0) -> None:
        self._tick = tick_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._log = structlog.get_logger(self.name.replace("-", "."))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def tick(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.wait(self._tick):
            try:
                self.tick()
            except Exception as exc:  # keep ticking: the next pass retries what failed
                self._log.error(self.failure, error_type=type(exc).__name__, error=str(exc))
