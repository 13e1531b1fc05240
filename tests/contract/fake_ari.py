"""A fake Asterisk ARI server, built from the published ARI reference (Channels API and the
events WebSocket), on one port as Asterisk serves both (``http://host:8088/ari/...``).

REST: ``POST /ari/channels`` (originate: ``endpoint``, ``app`` required, answers the ``Channel``
JSON), ``GET /ari/channels/{id}`` (the ``Channel``, 404 when gone), ``POST /ari/channels/{id}/answer``
(204), ``POST /ari/channels/{id}/play`` (201, a ``Playback``), ``DELETE /ari/channels/{id}`` (204,
404 when unknown), with basic auth (401 without). It records every request. ``refuse`` makes the
next originate answer 400 ``{"message": ...}`` as ARI does; ``stall`` makes requests hang past the
client's timeout.

Events: ``GET /ari/events?app=<name>`` upgrades to a WebSocket (a real ``websockets`` server on the
same socket; basic auth, 401 without; 400 without ``app``; 503 while ``unavailable``). The person's
side of a call is played as the JSON events ARI sends for it (``StasisStart`` when they pick up,
``ChannelDtmfReceived`` per key, ``ChannelHangupRequest`` + ``StasisEnd`` + ``ChannelDestroyed``
when they hang up), each with the ``type``, ``timestamp``, ``application``, ``asterisk_id`` and
``channel`` fields of the ARI event model. ``drop`` cuts every WebSocket at the TCP level, as an
Asterisk restart or a network cut would.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

USER, PASSWORD = "tester", "testpass"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
ASTERISK_ID = "08:00:27:3c:5e:01"


class FakeAri:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []
        self.channels: set[str] = set()
        self.refuse: str | None = None
        self.stall = 0.0
        self.url = ""
        self.unavailable = False  # the events WebSocket answers 503 (Asterisk starting up)
        self.apps: list[str] = []  # the ``app`` of each accepted events connection
        self.ws: Server | None = None
        self._n = 0
        self._channels: dict[str, dict[str, Any]] = {}

    def originate(self, query: dict[str, list[str]]) -> tuple[int, Any]:
        if self.refuse is not None:
            message, self.refuse = self.refuse, None
            return 400, {"message": message}
        if "endpoint" not in query or "app" not in query:
            return 400, {"message": "Endpoint must be specified"}
        self._n += 1
        channel_id = f"1700000000.{self._n}"
        self.channels.add(channel_id)
        number = query["endpoint"][0].split("/", 1)[-1].split("@")[0]
        self._channels[channel_id] = channel = {
            "id": channel_id,
            "name": f"{query['endpoint'][0]}-0000000{self._n}",
            "state": "Down",
            "caller": {"name": "", "number": ""},
            "connected": {"name": "", "number": number},
            "accountcode": "",
            "dialplan": {"context": "default", "exten": "s", "priority": 1},
            "creationtime": "2026-12-03T21:00:00.000+0000",
            "language": "en",
        }
        return 200, channel

    # -- the events WebSocket -------------------------------------------------------------------

    def connected(self) -> int:
        return len(self.ws.connections) if self.ws is not None else 0

    def wait_connected(self, count: int = 1, *, timeout: float = 5.0) -> None:
        """Until ``count`` connections have been accepted so far and one is open."""
        deadline = time.monotonic() + timeout
        while not (len(self.apps) >= count and self.connected()):  # open once the handshake is sent
            if time.monotonic() > deadline:
                raise AssertionError(f"no events WebSocket after {timeout} s ({len(self.apps)} accepted)")
            time.sleep(0.01)

    def _emit(self, kind: str, channel_id: str, **fields: Any) -> None:
        event = {
            "type": kind,
            "timestamp": "2026-12-03T21:00:05.123+0000",
            "application": self.apps[-1] if self.apps else "",
            "asterisk_id": ASTERISK_ID,
            **fields,
            "channel": self._channels[channel_id],
        }
        assert self.ws is not None and self.ws.connections, "no events WebSocket to send on"
        for connection in self.ws.connections:
            connection.send(json.dumps(event))

    def pick_up(self, channel_id: str, *, args: list[str]) -> None:
        self._channels[channel_id]["state"] = "Up"
        self._emit("StasisStart", channel_id, args=args)

    def press(self, channel_id: str, digits: str) -> None:
        for digit in digits:
            self._emit("ChannelDtmfReceived", channel_id, digit=digit, duration_ms=120)

    def hang_up(self, channel_id: str, *, announce: bool = True) -> None:
        """The person hangs up; with ``announce=False`` nobody hears of it (the WebSocket was down)."""
        if announce:
            self._emit("ChannelHangupRequest", channel_id, cause=16, soft=False)
            self._emit("StasisEnd", channel_id)
            self._emit("ChannelDestroyed", channel_id, cause=16, cause_txt="Normal Clearing")
        self.channels.discard(channel_id)

    def drop(self) -> None:
        """Cut every events WebSocket without a closing handshake."""
        assert self.ws is not None
        for connection in self.ws.connections:
            with suppress(OSError):
                connection.socket.shutdown(socket.SHUT_RDWR)

    def handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        if self.unavailable:
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "Service Unavailable")
        if request.headers.get("Authorization") != BASIC:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "Authentication required")
        parts = urlsplit(request.path)
        apps = parse_qs(parts.query).get("app")
        if parts.path != "/ari/events" or not apps:
            return connection.respond(HTTPStatus.BAD_REQUEST, "app parameter is required")
        self.apps.append(apps[0])
        return None


def _listen_until_closed(connection: ServerConnection) -> None:
    for _ in connection:  # ARI ignores what a client sends; the handler lives as long as the socket
        pass


def _handler(ari: FakeAri) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: Any = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _route(self, method: str) -> None:
            if ari.stall:
                time.sleep(ari.stall)
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            ari.requests.append((method, parts.path, query))
            if self.headers.get("Authorization") != BASIC:
                self._answer(401, {"message": "Authentication required"})
                return
            segments = parts.path.strip("/").split("/")
            if method == "POST" and segments == ["ari", "channels"]:
                self._answer(*ari.originate(query))
                return
            if len(segments) >= 3 and segments[:2] == ["ari", "channels"]:
                if segments[2] not in ari.channels:
                    self._answer(404, {"message": "Channel not found"})
                elif method == "GET" and len(segments) == 3:
                    self._answer(200, ari._channels[segments[2]])
                elif method == "POST" and segments[3:] == ["answer"]:
                    self._answer(204)
                elif method == "POST" and segments[3:] == ["play"]:
                    self._answer(201, {"id": "pb1", "media_uri": query["media"][0], "state": "queued"})
                elif method == "DELETE" and len(segments) == 3:
                    ari.channels.discard(segments[2])
                    self._answer(204)
                else:
                    self._answer(404, {"message": "Resource not found"})
                return
            self._answer(404, {"message": "Resource not found"})

        def do_GET(self) -> None:  # noqa: N802
            self._route("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._route("POST")

        def do_DELETE(self) -> None:  # noqa: N802
            self._route("DELETE")

    return Handler


def _is_events_upgrade(sock: socket.socket) -> bool:
    """Peek at the request line: the events WebSocket or a REST call (nothing is consumed)."""
    wanted = b"GET /ari/events"
    head = b""
    for _ in range(50):
        head = sock.recv(len(wanted), socket.MSG_PEEK)
        if len(head) >= len(wanted) or not head:
            break
        time.sleep(0.01)
    return head.startswith(wanted)


@contextmanager
def fake_ari() -> Iterator[FakeAri]:
    ari = FakeAri()
    listener = socket.create_server(("127.0.0.1", 0))
    ws = serve(_listen_until_closed, sock=listener, process_request=ari.handshake)
    ari.ws, websocket_handler, rest = ws, ws.handler, _handler(ari)

    def dispatch(sock: socket.socket, addr: Any) -> None:
        if _is_events_upgrade(sock):
            websocket_handler(sock, addr)
            return
        try:
            rest(sock, addr, ws)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (``stall``)
        finally:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
            with ws.lock:  # as the WebSocket handler does: shutdown() waits for registered threads
                ws.handler_threads.discard(threading.current_thread())

    ws.handler = dispatch
    ari.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    thread = threading.Thread(target=ws.serve_forever, daemon=True)
    thread.start()
    try:
        yield ari
    finally:
        ari.stall = 0.0
        ws.shutdown()
        thread.join(timeout=5)
