"""Runs the Asterisk ARI event stream: call-back outcomes from ``/ari/events`` into verification.

A daemon thread beside the API, started by ``deskguard serve`` when ``DESKGUARD_TELEPHONY_VENDOR``
is ``ari``. It holds the WebSocket open through ``AriTelephony.listen``, which drives each call
(answer, play the code, compare the keypad digits) and reports the settled ones; each outcome goes
to ``app.verification.callback_result``, the use case of the signed telephony webhook, so a proof
turns ``succeeded`` or ``failed`` exactly as it would through ``/api/v1/webhooks/telephony``.

When the connection cannot be made or drops, the worker waits (capped exponential back-off with
jitter, reset by each successful connection) and connects again; on every connection the adapter
reconciles the calls in flight, so a hang-up missed during the drop still fails its proof. ``stop``
ends the loop within the adapter's read timeout (0.5 s).
"""

from __future__ import annotations

import threading

import structlog

from deskguard.adapters.connectors.retry import Backoff
from deskguard.adapters.telephony.ari import AriTelephony
from deskguard.adapters.telephony.twilio import CallOutcome
from deskguard.app import verification
from deskguard.app.context import AppContext
from deskguard.domain.errors import DeskguardError

RECONNECT = Backoff(base_s=1.0, cap_s=30.0)


class AriEvents:
    name = "deskguard-ari-events"

    def __init__(self, ctx: AppContext, telephony: AriTelephony, *, backoff: Backoff = RECONNECT) -> None:
        self._ctx, self._telephony, self._backoff = ctx, telephony, backoff
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._log = structlog.get_logger("deskguard.ari_events")
        self._failures = 0
        self.connections = 0  # successful connections so far (the first, then each reconnection)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _connected(self) -> None:
        self._failures = 0
        self.connections += 1
        self._log.info("ari_events_connected", url=self._telephony.events_url(), connection=self.connections)

    def _report(self, outcome: CallOutcome) -> None:
        """One settled call into the verification use case; a refusal is logged, the stream goes on."""
        try:
            proof = verification.callback_result(
                self._ctx, call_id=outcome.call_id, confirmed=bool(outcome.confirmed)
            )
        except DeskguardError as exc:  # unknown call, proof no longer pending, storage refusing
            self._log.error("ari_outcome_refused", call_id=outcome.call_id, code=exc.code, error=exc.message)
            return
        self._log.info("ari_outcome", call_id=outcome.call_id, proof_id=proof.id, status=proof.status.value)

    def _event_error(self, exc: Exception) -> None:
        self._log.warning("ari_event_skipped", error_type=type(exc).__name__, error=str(exc))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._telephony.listen(
                    self._report, stop=self._stop, on_connect=self._connected, on_error=self._event_error
                )
            except Exception as exc:  # refused, unreachable or dropped: wait, then connect again
                self._failures += 1
                delay = self._backoff.delay(self._failures)
                self._log.warning(
                    "ari_events_disconnected",
                    error_type=type(exc).__name__,
                    error=str(exc),
                    retry_in_s=round(delay, 2),
                )
                self._stop.wait(delay)
