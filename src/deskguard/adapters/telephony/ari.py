"""Asterisk ARI: the ``Telephony`` port over the Asterisk REST Interface (httpx, no SDK).

Placing the call is ``POST /ari/channels?endpoint=PJSIP/<number>@<trunk>&app=<app>&appArgs=<ref>``
(basic auth, the password from a ``SecretRef``); Asterisk answers the new ``Channel`` whose ``id``
is the call id. The rest happens in the Stasis application, driven by ARI events (the JSON of the
``/ari/events?app=<app>`` WebSocket), which ``handle_event`` consumes:

- ``StasisStart``: the person picked up; the channel is answered (``POST /channels/{id}/answer``)
  and the code is played (``POST /channels/{id}/play?media=digits:<code>``, twice);
- ``ChannelDtmfReceived``: a keypad digit; when as many digits as the code have arrived, they are
  compared in constant time, the channel is hung up (``DELETE /channels/{id}``) and the outcome is
  returned;
- ``StasisEnd`` / ``ChannelDestroyed`` before that: the person hung up: not confirmed.

The code of each call in flight is kept in this process's memory (the process that placed the call
also listens to the events). Creating a channel is not idempotent: tried once; a timeout is
``ConnectorTimeout`` and the proof stays pending. ``listen`` reads the WebSocket with ``websockets``
(one connection; ``workers/ari_events.py`` reconnects). Events sent while the WebSocket was down
are lost (ARI does not queue them), so right after each connection ``reconcile`` asks ARI for every
call still in flight (``GET /channels/{id}``): a channel that is gone (404) is a hang-up, not
confirmed; a channel still up goes on with the events that follow.
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from deskguard.adapters.connectors.http import DEFAULT_TIMEOUT, json_body, send
from deskguard.adapters.connectors.retry import with_retries
from deskguard.adapters.connectors.secrets import resolve
from deskguard.adapters.telephony.twilio import CallOutcome
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout

VENDOR = "Asterisk ARI"


@dataclass(slots=True)
class _Call:
    reference: str
    code: str
    digits: str = ""
    answered: bool = False
    done: bool = field(default=False)


def _number(value: str) -> str:
    """A dial string's number: digits with an optional leading +, nothing that could reach the
    dial string's syntax (``&``, ``@``, ``/``)."""
    body = value[1:] if value.startswith("+") else value
    if not body.isdigit() or len(body) > 20:
        raise ConnectorError(f"{VENDOR}: {value!r} is not a phone number")
    return value


class AriTelephony:
    name = "ari"

    def __init__(
        self,
        *,
        url: str,
        user: str,
        password: str,  # SecretRef
        endpoint_template: str,
        app: str = "deskguard",
        client: httpx.Client | None = None,
        ring_timeout_s: int = 30,
    ) -> None:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(f"ari_url: http(s)://host:8088, not {url!r}", field="ari_url")
        if "{number}" not in endpoint_template:
            raise ConfigurationError(
                "ari_endpoint_template must contain {number}", field="ari_endpoint_template"
            )
        try:
            secret = resolve(password, field="ari_password")
        except ValueError as exc:
            raise ConfigurationError(f"ari_password: {exc}", field="ari_password") from None
        self._base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}/ari"
        self._auth = (user, secret)
        self._template, self._app, self._ring = endpoint_template, app, ring_timeout_s
        self._client = client or httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._calls: dict[str, _Call] = {}
        self._lock = threading.Lock()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = self._base + path
        return with_retries(
            lambda: send(self._client, method, url, vendor=VENDOR, auth=self._auth, **kwargs),
            idempotent=False,
        )

    def place_verification_call(
        self, *, tenant_id: str, to_number: str, reference: str, spoken_code: str
    ) -> str:
        params = {
            "endpoint": self._template.format(number=_number(to_number)),
            "app": self._app,
            "appArgs": reference,
            "timeout": str(self._ring),
        }
        response = self._send("POST", "/channels", params=params)
        body = json_body(response, vendor=VENDOR)
        channel_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(channel_id, str) or not channel_id:
            raise ConnectorError(f"{VENDOR} answered {response.status_code} without a channel id")
        with self._lock:
            self._calls[channel_id] = _Call(reference=reference, code=spoken_code)
        return channel_id

    def handle_event(self, event: dict[str, Any]) -> CallOutcome | None:
        """One ARI event; the call's outcome when this event settles it, else ``None``."""
        channel = event.get("channel")
        channel_id = channel.get("id") if isinstance(channel, dict) else None
        with self._lock:
            call = self._calls.get(channel_id) if isinstance(channel_id, str) else None
        if call is None or call.done or channel_id is None:
            return None  # not one of ours (or already settled)
        kind = event.get("type")
        if kind == "StasisStart":
            call.answered = True
            self._send("POST", f"/channels/{quote(channel_id, safe='')}/answer")
            media = [("media", f"digits:{call.code}")] * 2
            self._send("POST", f"/channels/{quote(channel_id, safe='')}/play", params=media)
            return None
        if kind == "ChannelDtmfReceived":
            call.digits += str(event.get("digit", ""))
            if len(call.digits) < len(call.code):
                return None
            ok = hmac.compare_digest(call.digits.encode(), call.code.encode())
            self._settle(channel_id, call)
            self._hangup(channel_id)
            return CallOutcome(call_id=channel_id, confirmed=ok)
        if kind in ("StasisEnd", "ChannelDestroyed", "ChannelHangupRequest"):
            self._settle(channel_id, call)
            return CallOutcome(call_id=channel_id, confirmed=False)
        return None

    def _settle(self, channel_id: str, call: _Call) -> None:
        with self._lock:
            call.done = True
            self._calls.pop(channel_id, None)

    def _hangup(self, channel_id: str) -> None:
        with contextlib.suppress(ConnectorError):  # already gone: the person hung up first
            self._send("DELETE", f"/channels/{quote(channel_id, safe='')}")

    def events_url(self) -> str:
        scheme = "wss" if self._base.startswith("https") else "ws"
        rest = self._base.split("://", 1)[1]
        return f"{scheme}://{rest}/events?app={quote(self._app, safe='')}"

    def reconcile(self) -> list[CallOutcome]:
        """The calls in flight whose channel ARI no longer knows (hung up while nobody listened)."""
        with self._lock:
            in_flight = list(self._calls.items())
        outcomes = []
        for channel_id, call in in_flight:
            if self._gone(channel_id):
                self._settle(channel_id, call)
                outcomes.append(CallOutcome(call_id=channel_id, confirmed=False))
        return outcomes

    def _gone(self, channel_id: str) -> bool:
        url = f"{self._base}/channels/{quote(channel_id, safe='')}"
        try:
            return self._client.get(url, auth=self._auth).status_code == 404
        except httpx.HTTPError:  # unknown: asked again after the next connection
            return False

    def listen(
        self,
        on_outcome: Callable[[CallOutcome], None],
        *,
        stop: threading.Event,
        on_connect: Callable[[], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        """Read the ARI event WebSocket until ``stop`` is set, reporting each settled call.

        Returns when stopped; raises when the connection cannot be made or drops (``OSError``,
        ``websockets.ConnectionClosed``). An event that cannot be read or handled (not JSON, ARI
        refusing the answer or play) goes to ``on_error`` and the stream goes on."""
        from websockets.sync.client import connect  # the listener only: placing calls needs none

        user, secret = self._auth
        headers = {"Authorization": "Basic " + _basic(user, secret)}
        with connect(self.events_url(), additional_headers=headers, open_timeout=10) as ws:
            if on_connect is not None:
                on_connect()
            for outcome in self.reconcile():
                on_outcome(outcome)
            while not stop.is_set():
                try:
                    message = ws.recv(timeout=0.5)
                except TimeoutError:
                    continue
                try:
                    event = json.loads(message)
                    if not isinstance(event, dict):
                        raise ValueError(f"an ARI event is a JSON object, not {type(event).__name__}")
                    outcome = self.handle_event(event)
                except (ValueError, ConnectorError, ConnectorTimeout) as exc:
                    if on_error is not None:
                        on_error(exc)
                    continue
                if outcome is not None:
                    on_outcome(outcome)


def _basic(user: str, secret: str) -> str:
    return base64.b64encode(f"{user}:{secret}".encode()).decode()
