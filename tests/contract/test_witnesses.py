"""Witnesses against real local peers: a file, a UDP syslog collector, an HTTP receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from deskguard.adapters.system import FixedClock
from deskguard.adapters.witness import FileWitness, SyslogWitness, WebhookWitness, Witnesses
from deskguard.domain.errors import ConfigurationError
from deskguard.settings import load_settings

NOTE = "deskguard.local/tenants/t\n3\nAAAA\n\n\u2014 deskguard.local/tenants/t c2ln\n"


def test_the_file_witness_keeps_every_note_intact(tmp_path: Path) -> None:
    witness = FileWitness(tmp_path / "w")
    witness.publish(tenant_id="t", note=NOTE)
    witness.publish(tenant_id="t", note=NOTE.replace("3", "4"))
    assert witness.published(tenant_id="t") == [NOTE, NOTE.replace("3", "4")]
    assert witness.published(tenant_id="other") == []
    with pytest.raises(ValueError):
        witness.publish(tenant_id="../escape", note=NOTE)


def test_the_syslog_witness_sends_an_rfc5424_audit_message() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as collector:
        collector.bind(("127.0.0.1", 0))
        collector.settimeout(5)
        clock = FixedClock(datetime(2026, 12, 1, 9, tzinfo=UTC))
        SyslogWitness(host="127.0.0.1", port=collector.getsockname()[1], clock=clock).publish(
            tenant_id="t", note=NOTE
        )
        message = collector.recv(65536).decode()
    assert message.startswith("<110>1 2026-12-01T09:00:00+00:00 deskguard deskguard - checkpoint")
    assert 'tenant="t"' in message and json.loads(message[message.index('"deskguard.local') :]) == NOTE


def test_the_webhook_witness_posts_a_signed_checkpoint() -> None:
    received: list[tuple[bytes, str]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers["content-length"]))
            received.append((body, self.headers["x-deskguard-signature"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/checkpoints"
        WebhookWitness(url=url, key=b"k").publish(tenant_id="t", note=NOTE)
    finally:
        server.shutdown()
    [(body, signature)] = received
    assert json.loads(body) == {"tenant_id": "t", "checkpoint": NOTE}
    assert signature == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()


def test_one_witness_down_does_not_stop_the_others(tmp_path: Path) -> None:
    unreachable = WebhookWitness(url="http://127.0.0.1:9/nothing", key=b"k", timeout_s=0.5)
    witnesses = Witnesses([unreachable, FileWitness(tmp_path)])
    witnesses.publish(tenant_id="t", note=NOTE)
    assert witnesses.published(tenant_id="t") == [NOTE]


def test_a_bad_syslog_address_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as err:
        load_settings(demo=True, witness_syslog="collector-without-port")
    assert "DESKGUARD_WITNESS_SYSLOG" in err.value.message
