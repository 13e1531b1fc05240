"""An alert reaches the SOC's inbox through a real SMTP server, by a response runbook.

The demo runs with ``DESKGUARD_SMTP_*`` pointing at a local submission server that requires
STARTTLS and AUTH (aiosmtpd), and a runbook that e-mails the SOC when an operator is far above
their baseline. Oscar's burst of MFA resets reaches the ingest API; the alert is raised, the
runbook's ``notify`` step runs in the same call, and the message is in the inbox, naming the rule
and the operator. The ``notify`` outcome is a ``response.step`` event on the record.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from demo_desk import ANNA, OSCAR, Desk
from fastapi.testclient import TestClient

from deskguard.adapters.system import FixedClock, SeededRandomness
from deskguard.api.app import create_app
from deskguard.bootstrap import build
from deskguard.settings import load_settings
from deskguard.sim.demo import seed_demo
from smtp_server import PASSWORD, USER, SmtpServer, smtp_server

TUESDAY_10_PARIS = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
RUNBOOK = """\
id: Respond.Operator.MailTheSoc
title: Tell the SOC by e-mail when an operator is far above their baseline
trigger: {rules: [Deskguard.Operator.FarAboveBaseline]}
steps:
  - notify: {channel: email, to: soc@acme.example, text: "{severity}: {title} ({actor}) - {explanation}"}
"""


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path) as server:
        yield server


@pytest.fixture
def mail_desk(db_url: str, tmp_path: Path, smtp: SmtpServer) -> Iterator[Desk]:
    runbooks = tmp_path / "runbooks"
    runbooks.mkdir()
    (runbooks / "mail_the_soc.yml").write_text(RUNBOOK)
    secret = tmp_path / "smtp.secret"
    secret.write_text(PASSWORD + "\n")
    settings = load_settings(
        database_url=db_url,
        demo=True,
        witness_dir=tmp_path / "witness",
        runbooks_path=runbooks,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_username=USER,
        smtp_password=f"file://{secret}",
        smtp_from="deskguard@desk.example",
        smtp_ca_file=smtp.ca_file,
    )
    runtime = build(settings, clock=FixedClock(TUESDAY_10_PARIS), randomness=SeededRandomness(3))
    creds = seed_demo(runtime.ctx).to_json()
    app = create_app(runtime.ctx, webhook_key=runtime.settings.webhook_key())
    with TestClient(app) as client:
        yield Desk(runtime, client, creds)
    runtime.engine.dispose()


def _burst(oscar_id: str) -> str:
    start = datetime(2026, 12, 1, 7, 50, tzinfo=UTC)
    return "\n".join(
        json.dumps(
            {
                "schema": "deskguard.event",
                "version": 1,
                "id": f"evt_mail_{n}",
                "type": "request.executed",
                "tenant_id": "tnt_acme",
                "occurred_at": (start + timedelta(minutes=3 * n)).isoformat(),
                "actor": {"kind": "operator", "id": oscar_id, "role": "agent"},
                "subject": {"request_id": f"req_mail_{n}", "person_id": f"per_acme_1{n:02d}"},
                "data": {"kind": "reset_mfa", "tier": "critical"},
            }
        )
        for n in range(12)
    )


def test_the_alert_arrives_in_the_soc_inbox(mail_desk: Desk, smtp: SmtpServer) -> None:
    oscar_id = mail_desk.creds["operators"][OSCAR]["id"]
    response = mail_desk.client.post(
        "/api/v1/ingest/deskguard?tenant=tnt_acme", content=_burst(oscar_id), headers=mail_desk._auth(ANNA)
    )
    assert response.status_code == 200, response.text
    outcome = [step for step in response.json()["responses"] if step["kind"] == "notify"]
    assert [step["outcome"] for step in outcome] == ["done"], outcome
    ((recipients, message),) = smtp.mailbox.messages
    assert recipients == ["soc@acme.example"]
    body = message.get_payload(decode=True).decode() if not message.is_multipart() else str(message)
    text = f"{message['Subject']} {body}"
    assert "high: An operator far above their own usual rate of sensitive actions" in text, text
    assert f"sensitive actions by {oscar_id} in 60 min" in text and "(p = " in text, text
