"""The x5u fetcher against a real HTTPS server on loopback (a certificate made here, trusted here)."""

from __future__ import annotations

import ipaddress
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from deskguard.adapters.telephony.x5u import MAX_BYTES, HttpCertificateFetcher
from deskguard.detection.passport import load_chain
from deskguard.domain.errors import ConnectorError

pytestmark = pytest.mark.integration
LOOPBACK = ipaddress.ip_address("127.0.0.1")


def _tls_files(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "server.pem", folder / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path, list[str], bytes]]:
    cert_path, key_path = _tls_files(tmp_path)
    served = cert_path.read_bytes()  # any certificate will do as the "chain" served
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            hits.append(self.path)
            body = {"/passport.pem": served, "/huge.pem": b"x" * (MAX_BYTES + 10)}.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            if body is not None:
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{httpd.server_address[1]}", cert_path, hits, served
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_fetches_over_https_and_caches(server: tuple[str, Path, list[str], bytes]) -> None:
    base, ca, hits, served = server
    fetcher = HttpCertificateFetcher(verify=ssl.create_default_context(cafile=str(ca)))
    assert fetcher.fetch(f"{base}/passport.pem") == served
    assert fetcher.fetch(f"{base}/passport.pem") == served
    assert hits == ["/passport.pem"]  # the second answer came from the cache
    assert load_chain(served)[0].subject.rfc4514_string() == "CN=127.0.0.1"


def test_refuses_what_it_should(server: tuple[str, Path, list[str], bytes]) -> None:
    base, ca, hits, _ = server
    fetcher = HttpCertificateFetcher(verify=ssl.create_default_context(cafile=str(ca)))
    with pytest.raises(ConnectorError, match="answered 404"):
        fetcher.fetch(f"{base}/missing.pem")
    with pytest.raises(ConnectorError, match="more than"):
        fetcher.fetch(f"{base}/huge.pem")
    with pytest.raises(ConnectorError, match="https URL"):
        fetcher.fetch(base.replace("https://", "http://") + "/passport.pem")
    with pytest.raises(ConnectorError):  # a server whose certificate is not trusted
        HttpCertificateFetcher().fetch(f"{base}/passport.pem")
    assert "/missing.pem" in hits
