"""The syslog destination against a real, private rsyslogd: RFC 5424 + CEF over TCP and over TLS.

Each test starts its own rsyslogd (a temporary work directory, imtcp plain or gtls with a
self-signed certificate made here, omfile output) and polls the output file. Without rsyslogd
the tests skip, except under CI=true where ``.ci/run`` installs it and a skip would hide a gap.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from deskguard.adapters.export.syslog import SyslogSink
from deskguard.app import detection, directory
from deskguard.domain.errors import ConnectorTimeout
from deskguard.domain.ports_export import ExportItem, ExportKind, ExportPlan
from deskguard.workers.exporter import Exporter
from records import ADMIN_RESET
from world import build_world

pytestmark = pytest.mark.integration
RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
GTLS = Path("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _require_rsyslog(tls: bool) -> None:
    missing = not Path(RSYSLOGD).exists() or (tls and not GTLS.exists())
    if not missing:
        return
    if os.environ.get("CI") == "true":
        pytest.fail("rsyslogd (and rsyslog-gnutls) must be installed in CI: see .ci/run")
    pytest.skip("rsyslogd or rsyslog-gnutls is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _certificate(folder: Path, name: str) -> tuple[Path, Path]:
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass
class Collector:
    port: int
    out: Path
    cert: Path | None

    def lines(self, count: int, timeout_s: float = 5.0) -> list[str]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.out.exists():
                lines = self.out.read_text(encoding="utf-8").splitlines()
                if len(lines) >= count:
                    return lines
            time.sleep(0.02)
        found = self.out.read_text(encoding="utf-8") if self.out.exists() else "(no file)"
        raise AssertionError(f"rsyslog wrote fewer than {count} lines: {found}")


def _start(tmp_path: Path, *, tls: bool) -> Iterator[Collector]:
    _require_rsyslog(tls)
    work = tmp_path / "work"
    work.mkdir()
    port, out = _free_port(), tmp_path / "out.log"
    cert = key = None
    glob = f'global(workDirectory="{work}" maxMessageSize="64k"'
    imtcp = 'module(load="imtcp")'
    if tls:
        cert, key = _certificate(tmp_path, "collector")
        glob += (
            f' DefaultNetstreamDriver="gtls" DefaultNetstreamDriverCAFile="{cert}"'
            f' DefaultNetstreamDriverCertFile="{cert}" DefaultNetstreamDriverKeyFile="{key}"'
        )
        imtcp = (
            'module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")'
        )
    conf = tmp_path / "rsyslog.conf"
    conf.write_text(
        f"{glob})\n{imtcp}\n"
        f'input(type="imtcp" address="127.0.0.1" port="{port}" ruleset="r")\n'
        f'ruleset(name="r") {{ action(type="omfile" file="{out}"'
        ' template="RSYSLOG_SyslogProtocol23Format") }\n'
    )
    check = subprocess.run([RSYSLOGD, "-N1", "-f", str(conf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    stderr = (tmp_path / "rsyslogd.stderr").open("w")
    proc = subprocess.Popen(
        [RSYSLOGD, "-n", "-f", str(conf), "-i", str(tmp_path / "rsyslogd.pid")],
        stdout=stderr,
        stderr=stderr,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            assert proc.poll() is None, (tmp_path / "rsyslogd.stderr").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "rsyslogd did not listen"
                time.sleep(0.05)
        yield Collector(port=port, out=out, cert=cert)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        stderr.close()


@pytest.fixture
def plain(tmp_path: Path) -> Iterator[Collector]:
    yield from _start(tmp_path, tls=False)


@pytest.fixture
def tls(tmp_path: Path) -> Iterator[Collector]:
    yield from _start(tmp_path, tls=True)


def alert_item(key: str = "alr_1", **payload: object) -> ExportItem:
    body: dict[str, object] = {
        "id": key,
        "rule_id": "Okta.Chain.ResetMfaNewFactor",
        "title": "MFA reset | then a new factor",
        "severity": "high",
        "tenant": "t_a",
        "entities": {"user": "vip@t_a.example", "actor": "op_1"},
        "first_seen": "2026-12-01T08:59:00Z",
        "last_seen": "2026-12-01T09:00:00Z",
        "event_ids": ["e1", "e2"],
        "explanation": "a=b \\ back\nslash",
        "attack": ["T1556.006"],
        "count": 2,
    }
    body.update(payload)
    return ExportItem(
        id=1,
        destination="syslog",
        tenant_id="t_a",
        kind=ExportKind.ALERT,
        key=key,
        payload=body,
        created_at=NOW,
        next_attempt_at=NOW,
    )


def ledger_item() -> ExportItem:
    payload = {
        "index": 7,
        "tenant_id": "t_a",
        "event_id": "evt_9",
        "type": "request.executed",
        "occurred_at": "2026-12-01T09:00:00+00:00",
        "actor_id": "op_1",
        "person_id": "vip",
        "request_id": "req_1",
        "ticket_id": None,
        "record": {"type": "request.executed"},
    }
    return ExportItem(
        id=2,
        destination="syslog",
        tenant_id="t_a",
        kind=ExportKind.LEDGER_RECORD,
        key="evt_9",
        payload=payload,
        created_at=NOW,
        next_attempt_at=NOW,
    )


def test_alerts_and_ledger_records_arrive_over_tcp_as_5424_with_cef(plain: Collector) -> None:
    sink = SyslogSink(host="127.0.0.1", port=plain.port, hostname="desk1")
    try:
        sink.send(alert_item())
        sink.send(ledger_item())
    finally:
        sink.close()
    first, second = plain.lines(2)
    assert first.startswith("<83>1 2026-12-01T09:00:00.000Z desk1 deskguard ")  # authpriv.err
    assert '[deskguard@32473 tenant="t_a" kind="alert" key="alr_1"]' in first
    assert "CEF:0|deskguard|deskguard|" in first
    assert "|Okta.Chain.ResetMfaNewFactor|MFA reset \\| then a new factor|8|" in first
    assert "msg=a\\=b \\\\ back\\nslash" in first
    assert "externalId=alr_1" in first and "duser=vip@t_a.example" in first
    assert second.startswith("<86>1 ")  # authpriv.info
    assert "|request.executed|request.executed|3|" in second and "cn1=7" in second


def test_tls_delivery_verifies_the_collector_against_the_ca_file(tls: Collector, tmp_path: Path) -> None:
    assert tls.cert is not None
    sink = SyslogSink(host="localhost", port=tls.port, tls_ca=tls.cert, hostname="desk1")
    try:
        for n in range(3):  # one connection, several messages
            sink.send(alert_item(f"alr_{n}"))
    finally:
        sink.close()
    lines = tls.lines(3)
    assert [f'key="alr_{n}"' in line for n, line in enumerate(lines)] == [True] * 3


def test_a_collector_whose_certificate_the_ca_does_not_sign_is_refused(
    tls: Collector, tmp_path: Path
) -> None:
    other, _ = _certificate(tmp_path, "other")
    sink = SyslogSink(host="localhost", port=tls.port, tls_ca=other)
    with pytest.raises(ConnectorTimeout, match="TLS failed"):
        sink.send(alert_item())
    time.sleep(0.2)
    assert not tls.out.exists() or tls.out.read_text() == ""


def test_a_collector_that_restarted_is_reconnected(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    first = _start(tmp_path / "one", tls=False)
    collector = next(first)
    sink = SyslogSink(host="127.0.0.1", port=collector.port)
    sink.send(alert_item("alr_before"))
    collector.lines(1)
    first.close()  # rsyslogd stopped: the kept connection is dead
    with pytest.raises(ConnectorTimeout):
        sink.send(alert_item("alr_down"))
    sink.close()


def test_an_unreachable_collector_is_a_timeout_not_a_hang() -> None:
    sink = SyslogSink(host="127.0.0.1", port=_free_port(), timeout_s=1.0)
    with pytest.raises(ConnectorTimeout, match="cannot be reached"):
        sink.send(alert_item())


def test_the_exporter_delivers_queued_alerts_and_ledger_records_to_rsyslog(
    plain: Collector, uow_factory
) -> None:
    world = build_world(uow_factory)
    both = frozenset({ExportKind.ALERT, ExportKind.LEDGER_RECORD})
    world.ctx = replace(world.ctx, exports=ExportPlan(destinations={"syslog": both}))
    agent, analyst = world.operator("agent"), world.operator("analyst")
    directory.open_ticket(world.ctx, actor=agent, tenant_id="t_a", external_ref="INC-1", channel="phone")
    body = json.dumps(ADMIN_RESET).encode()
    raised = detection.ingest(world.ctx, actor=analyst, tenant_id="t_a", source="okta", body=body).alerts
    sink = SyslogSink(host="127.0.0.1", port=plain.port)
    exporter = Exporter(world.ctx, [sink])
    try:
        sent = exporter.tick()
    finally:
        sink.close()
    lines = plain.lines(sent)
    assert sent == len(raised) + 1
    assert any(f"externalId={raised[0].id}" in line for line in lines)
    assert any("|ticket.opened|ticket.opened|3|" in line for line in lines)
