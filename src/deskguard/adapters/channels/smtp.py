"""E-mail notifications over SMTP submission with STARTTLS, never in clear.

The adapter opens one session per message: EHLO, STARTTLS (the server's certificate verified against
the configured CA file, or the system's trust store), EHLO again, AUTH when a username is set, then
the message. A server that does not offer STARTTLS is refused before anything is sent.

- A timeout, a refused or dropped connection: ``ConnectorTimeout`` (the mail may have gone).
- An SMTP 4xx/5xx reply (AUTH refused, recipient refused, message refused): ``ConnectorError`` with
  the server's code.
- A certificate that does not verify, or no STARTTLS: ``ConnectorError``.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from deskguard.adapters.channels.delivery import DeliveryMemo, delivery_id, require_channel
from deskguard.adapters.connectors.secrets import SecretRef, resolve
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout

CHANNEL = "email"


class SmtpSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(min_length=1)
    port: int = Field(default=587, gt=0, lt=65536)
    sender: str = Field(min_length=3, description="the From address")
    username: str | None = None
    password: SecretRef | None = None
    ca_file: Path | None = Field(default=None, description="PEM CA bundle; unset: the system's")
    timeout_s: float = Field(default=10.0, gt=0)
    message_id_domain: str = "deskguard.local"


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Certificate and host-name verification on, TLS 1.2 at least."""
    try:
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(
            f"smtp_ca_file: {ca_file} cannot be loaded ({exc})", field="smtp_ca_file"
        ) from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class SmtpNotifier:
    """``ResponseNotifier`` for the ``email`` channel: ``to`` is the address."""

    def __init__(self, settings: SmtpSettings) -> None:
        if settings.password is not None and not settings.username:
            raise ConfigurationError("smtp_password is set without smtp_username", field="smtp_username")
        self._settings = settings
        self._password = resolve(settings.password, field="smtp_password") if settings.password else None
        self._context = tls_context(settings.ca_file)
        self._memo = DeliveryMemo()

    def send(
        self, *, tenant_id: str, channel: str, to: str, subject: str, text: str, idempotency_key: str
    ) -> str:
        require_channel(channel, expected=CHANNEL)
        if "@" not in to or any(c in to for c in "\r\n,;<>"):
            raise ConnectorError(f"smtp: {to!r} is not one e-mail address")
        message = self._message(tenant_id=tenant_id, to=to, subject=subject, text=text, key=idempotency_key)
        return self._memo.once(
            tenant_id=tenant_id, idempotency_key=idempotency_key, deliver=lambda: self._deliver(message)
        )

    def _message(self, *, tenant_id: str, to: str, subject: str, text: str, key: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._settings.sender
        message["To"] = to
        message["Subject"] = " ".join(subject.split())  # no header injection through a newline
        message["Date"] = formatdate(usegmt=True)
        ident = delivery_id(tenant_id=tenant_id, idempotency_key=key, prefix="")
        message["Message-ID"] = f"<{ident}@{self._settings.message_id_domain}>"
        message.set_content(text)
        return message

    def _deliver(self, message: EmailMessage) -> str:
        s = self._settings
        try:
            with smtplib.SMTP(s.host, s.port, timeout=s.timeout_s) as smtp:
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    raise ConnectorError(
                        f"smtp {s.host}:{s.port} does not offer STARTTLS; not sending in clear"
                    )
                smtp.starttls(context=self._context)
                smtp.ehlo()
                if s.username:
                    smtp.login(s.username, self._password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = ", ".join(
                f"{code} {reply.decode(errors='replace')}" for code, reply in exc.recipients.values()
            )
            raise ConnectorError(f"smtp refused the recipient ({codes})") from None
        except smtplib.SMTPSenderRefused as exc:
            raise ConnectorError(
                f"smtp refused the sender ({exc.smtp_code} {_reply(exc.smtp_error)})"
            ) from None
        except smtplib.SMTPResponseException as exc:  # AUTH, DATA, STARTTLS refused: 4xx/5xx
            raise ConnectorError(f"smtp refused ({exc.smtp_code} {_reply(exc.smtp_error)})") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise ConnectorError(f"smtp {s.host}:{s.port}: {exc}") from None
        except ssl.SSLError as exc:  # includes a certificate that does not verify
            raise ConnectorError(f"smtp {s.host}:{s.port}: TLS failed ({exc.reason or exc})") from None
        except smtplib.SMTPServerDisconnected as exc:
            raise ConnectorTimeout(f"smtp {s.host}:{s.port} dropped the connection ({exc})") from None
        except TimeoutError:
            raise ConnectorTimeout(f"smtp {s.host}:{s.port} did not answer in time") from None
        except OSError as exc:  # refused, unreachable, reset
            raise ConnectorTimeout(f"smtp {s.host}:{s.port} could not be reached ({exc})") from None
        return str(message["Message-ID"])


def _reply(raw: bytes | str) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
