"""RFC 5424 syslog over TCP (RFC 6587 octet counting) or TLS (RFC 5425), carrying CEF.

``<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ID param="value"...] MSG``: PRI is facility x 8
+ severity; the structured data names the tenant, the item's kind and its key under a private
SD-ID (``deskguard@<PEN>``; 32473 is the documentation PEN of RFC 5612: set your own). Parameter
values escape ``"``, ``\\`` and ``]``. The message is the CEF line (``adapters.export.cef``).

TLS verifies the collector's certificate against the configured CA file and its host name. One
connection is kept and reopened when the collector closed it. TCP acknowledges bytes, not
messages: an item counts as delivered once written to the socket (RELP would be the next step).
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import ssl
from datetime import UTC, datetime
from pathlib import Path

from deskguard.adapters.export.cef import alert_cef, ledger_cef
from deskguard.domain.errors import ConnectorTimeout
from deskguard.domain.ports_export import ExportItem, ExportKind

#: alert severity -> syslog severity (2 crit, 3 err, 4 warning, 5 notice, 6 info)
SEVERITY = {"critical": 2, "high": 3, "medium": 4, "low": 5, "informational": 6}
FACILITY_AUTHPRIV = 10
NIL = "-"


def sd_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _printable(value: str, limit: int) -> str:
    text = "".join(c for c in value if 33 <= ord(c) <= 126)[:limit]
    return text or NIL


def timestamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def rfc5424(
    *,
    facility: int,
    severity: int,
    at: datetime,
    hostname: str,
    app_name: str,
    procid: str,
    msgid: str,
    sd_id: str,
    params: dict[str, str],
    msg: str,
) -> bytes:
    pri = facility * 8 + severity
    sd = "[" + sd_id + "".join(f' {k}="{sd_escape(v)}"' for k, v in params.items()) + "]"
    head = (
        f"<{pri}>1 {timestamp(at)} {_printable(hostname, 255)} {_printable(app_name, 48)} "
        f"{_printable(procid, 128)} {_printable(msgid, 32)} {sd}"
    )
    return f"{head} {msg}".encode()


def octet_counted(message: bytes) -> bytes:
    """RFC 6587 octet-counting framing: ``MSG-LEN SP SYSLOG-MSG``."""
    return str(len(message)).encode() + b" " + message


class SyslogSink:
    """An ``ExportSink``: alerts and ledger records to an RFC 5424 collector, as CEF."""

    kinds = frozenset({ExportKind.ALERT, ExportKind.LEDGER_RECORD})

    def __init__(
        self,
        *,
        host: str,
        port: int,
        tls_ca: Path | None = None,
        name: str = "syslog",
        hostname: str | None = None,
        facility: int = FACILITY_AUTHPRIV,
        pen: int = 32473,
        timeout_s: float = 5.0,
    ) -> None:
        self.name = name
        self._host, self._port, self._timeout = host, port, timeout_s
        self._context: ssl.SSLContext | None = None
        if tls_ca is not None:
            self._context = ssl.create_default_context(cafile=str(tls_ca))
            self._context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._hostname = hostname or socket.gethostname()
        self._facility, self._sd_id = facility, f"deskguard@{pen}"
        self._sock: socket.socket | None = None

    def message(self, item: ExportItem) -> bytes:
        payload = item.payload
        if item.kind == ExportKind.ALERT:
            severity, msg = SEVERITY.get(payload.get("severity", "medium"), 4), alert_cef(payload)
        else:
            severity, msg = 6, ledger_cef(payload)
        return rfc5424(
            facility=self._facility,
            severity=severity,
            at=item.created_at,
            hostname=self._hostname,
            app_name="deskguard",
            procid=str(os.getpid()),
            msgid=item.kind.value,
            sd_id=self._sd_id,
            params={"tenant": item.tenant_id, "kind": item.kind.value, "key": item.key},
            msg=msg,
        )

    def send(self, item: ExportItem) -> None:
        frame = octet_counted(self.message(item))
        try:
            self._connection().sendall(frame)
        except (OSError, ssl.SSLError) as exc:
            self.close()
            raise ConnectorTimeout(f"syslog {self._host}:{self._port}: {exc}") from None

    def _connection(self) -> socket.socket:
        if self._sock is not None and not self._closed_by_peer(self._sock):
            return self._sock
        self.close()
        try:
            raw = socket.create_connection((self._host, self._port), timeout=self._timeout)
        except OSError as exc:
            raise ConnectorTimeout(f"syslog {self._host}:{self._port} cannot be reached: {exc}") from None
        if self._context is None:
            self._sock = raw
            return raw
        try:
            self._sock = self._context.wrap_socket(raw, server_hostname=self._host)
        except (OSError, ssl.SSLError) as exc:
            raw.close()
            raise ConnectorTimeout(f"syslog {self._host}:{self._port}: TLS failed: {exc}") from None
        return self._sock

    @staticmethod
    def _closed_by_peer(sock: socket.socket) -> bool:
        """A collector never writes to us: a readable socket means it closed (or broke) the stream."""
        try:
            readable, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is None:
            return
        if isinstance(sock, ssl.SSLSocket):
            with contextlib.suppress(OSError, ssl.SSLError, ValueError):
                sock.unwrap()  # a clean TLS shutdown (rsyslog logs an error otherwise)
        sock.close()
