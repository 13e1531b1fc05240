"""The SMTP notifier against a real aiosmtpd server with STARTTLS and AUTH required."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskguard.adapters.channels.smtp import SmtpNotifier, SmtpSettings
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout
from smtp_server import PASSWORD, USER, free_port, self_signed, silent_server, smtp_server

pytestmark = pytest.mark.integration


def _notifier(
    monkeypatch: pytest.MonkeyPatch,
    *,
    port: int,
    ca_file: Path | None,
    password: str = PASSWORD,
    timeout_s: float = 5.0,
) -> SmtpNotifier:
    monkeypatch.setenv("DG_TEST_SMTP_PASSWORD", password)
    return SmtpNotifier(
        SmtpSettings(
            host="127.0.0.1",
            port=port,
            sender="deskguard@example.org",
            username=USER,
            password="env://DG_TEST_SMTP_PASSWORD",
            ca_file=ca_file,
            timeout_s=timeout_s,
        )
    )


def _send(notifier: SmtpNotifier, key: str = "rsp_1:0", to: str = "soc@example.org") -> str:
    return notifier.send(
        tenant_id="acme",
        channel="email",
        to=to,
        subject="Takeover chain on j.doe",
        text="Sessions revoked.\nReview the case.",
        idempotency_key=key,
    )


def test_the_message_arrives_over_starttls_with_auth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with smtp_server(tmp_path) as server:
        notifier = _notifier(monkeypatch, port=server.port, ca_file=server.ca_file)
        ref = _send(notifier)
        assert _send(notifier) == ref  # idempotent by key: sent once
    [(rcpt, message)] = server.mailbox.messages
    assert rcpt == ["soc@example.org"] and message["To"] == "soc@example.org"
    assert message["Subject"] == "Takeover chain on j.doe" and message["Message-ID"] == ref
    body = message.get_payload(decode=True).decode().replace("\r\n", "\n")
    assert body.strip() == "Sessions revoked.\nReview the case."


def test_a_server_without_starttls_is_refused_and_nothing_is_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with smtp_server(tmp_path, starttls=False) as server:
        notifier = _notifier(monkeypatch, port=server.port, ca_file=server.ca_file)
        with pytest.raises(ConnectorError, match="STARTTLS"):
            _send(notifier)
    assert server.mailbox.messages == []


def test_a_certificate_not_from_the_configured_ca_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other_ca, _ = self_signed(tmp_path, name="other")
    with smtp_server(tmp_path) as server:
        notifier = _notifier(monkeypatch, port=server.port, ca_file=other_ca)
        with pytest.raises(ConnectorError, match="TLS failed"):
            _send(notifier)
    assert server.mailbox.messages == []


def test_a_wrong_password_is_a_connector_error_with_the_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with smtp_server(tmp_path) as server:
        notifier = _notifier(monkeypatch, port=server.port, ca_file=server.ca_file, password="wrong")
        with pytest.raises(ConnectorError, match="535"):
            _send(notifier)
    assert server.mailbox.messages == []


def test_a_refused_recipient_is_a_connector_error_with_the_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with smtp_server(tmp_path) as server:
        notifier = _notifier(monkeypatch, port=server.port, ca_file=server.ca_file)
        server.mailbox.refuse_next = "550 5.1.1 no such user"
        with pytest.raises(ConnectorError, match="550"):
            _send(notifier)
        assert _send(notifier)  # the refusal was not remembered as a delivery
    assert len(server.mailbox.messages) == 1


def test_an_unreachable_server_is_a_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notifier = _notifier(monkeypatch, port=free_port(), ca_file=None)  # nothing listens there
    with pytest.raises(ConnectorTimeout, match="could not be reached"):
        _send(notifier)


def test_a_server_that_never_answers_is_a_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    with silent_server() as port:
        notifier = _notifier(monkeypatch, port=port, ca_file=None, timeout_s=0.3)
        with pytest.raises(ConnectorTimeout, match="timed out|in time"):
            _send(notifier)


def test_header_injection_and_wrong_channel_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notifier = _notifier(monkeypatch, port=free_port(), ca_file=None)
    with pytest.raises(ConnectorError, match="one e-mail address"):
        _send(notifier, to="soc@example.org\r\nBcc: x@evil.test")
    with pytest.raises(ConnectorError, match="channel"):
        notifier.send(tenant_id="t", channel="slack", to="#soc", subject="s", text="t", idempotency_key="k")


def test_settings_refuse_an_inline_password_and_an_unreadable_ca() -> None:
    with pytest.raises(ValueError, match="reference"):
        SmtpSettings(host="h", sender="a@b.c", username="u", password="hunter2")
    with pytest.raises(ConfigurationError, match="smtp_ca_file"):
        SmtpNotifier(SmtpSettings(host="h", sender="a@b.c", ca_file=Path("/nonexistent/ca.pem")))
