"""A fake Asterisk ARI HTTP server, built from the published ARI REST reference (Channels API).

Serves ``POST /ari/channels`` (originate: ``endpoint``, ``app`` required, answers the ``Channel``
JSON), ``POST /ari/channels/{id}/answer`` (204), ``POST /ari/channels/{id}/play`` (201, a
``Playback``), ``DELETE /ari/channels/{id}`` (204, 404 when unknown), with basic auth (401 without).
It records every request. ``refuse`` makes the next originate answer 400 ``{"message": ...}`` as
ARI does; ``stall`` makes requests hang past the client's timeout. No WebSocket: events are fed to
the adapter as the JSON ARI would send.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

USER, PASSWORD = "tester", "testpass"


class FakeAri:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []
        self.channels: set[str] = set()
        self.refuse: str | None = None
        self.stall = 0.0
        self.url = ""
        self._n = 0

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
        return 200, {
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
            expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            if self.headers.get("Authorization") != expected:
                self._answer(401, {"message": "Authentication required"})
                return
            segments = parts.path.strip("/").split("/")
            if method == "POST" and segments == ["ari", "channels"]:
                self._answer(*ari.originate(query))
                return
            if len(segments) >= 3 and segments[:2] == ["ari", "channels"]:
                if segments[2] not in ari.channels:
                    self._answer(404, {"message": "Channel not found"})
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

        def do_POST(self) -> None:  # noqa: N802
            self._route("POST")

        def do_DELETE(self) -> None:  # noqa: N802
            self._route("DELETE")

    return Handler


@contextmanager
def fake_ari() -> Iterator[FakeAri]:
    ari = FakeAri()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(ari))
    server.daemon_threads = True
    ari.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ari
    finally:
        ari.stall = 0.0
        server.shutdown()
        server.server_close()
