"""How deskguard proves itself to Microsoft Entra: a certificate credential (recommended by
Microsoft) or a client secret, exactly one.

``EntraSettings`` is the connector's settings model (per tenant, and the deployment's
``DESKGUARD_ENTRA_*`` composed into it). ``EntraCertificate`` names the private key (a
``SecretRef`` to PEM) and either the certificate uploaded to the app registration (a ``SecretRef``
to PEM; left out, the certificate found in the private key's own file) or its thumbprint as the
portal shows it. ``certificate_credential`` turns it into a ``ClientAssertion``
(``connectors.client_assertion``) for ``https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token``:
RS256, header ``x5t#S256`` and ``x5t`` (the certificate's SHA-256 and SHA-1 thumbprints; with a
thumbprint alone, the one it is), ``iss`` = ``sub`` = client id, ``jti``, ``nbf``, ``exp`` in 5
minutes. The certificate must certify the private key; its validity is reported by ``health``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from pydantic import BaseModel, ConfigDict, Field, model_validator

from deskguard.adapters.connectors.client_assertion import (
    PEM_CERTIFICATE,
    ClientAssertion,
    SigningKey,
    certificate_header,
    load_certificate,
    thumbprint_header,
)
from deskguard.adapters.connectors.secrets import SecretRef, resolve
from deskguard.domain.errors import ConfigurationError

LOGIN = "https://login.microsoftonline.com"
KEY_FIELD = "entra_client_certificate.private_key"
CERT_FIELD = "entra_client_certificate.certificate"
THUMBPRINT_FIELD = "entra_client_certificate.thumbprint"


class EntraCertificate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    private_key: SecretRef = Field(description="reference to the PEM RSA private key")
    certificate: SecretRef | None = Field(
        default=None, description="reference to the PEM certificate; unset: the one in the key's file"
    )
    thumbprint: str | None = Field(
        default=None, description="instead of the certificate: its hex thumbprint (SHA-1 or SHA-256)"
    )

    @model_validator(mode="after")
    def _not_both(self) -> EntraCertificate:
        if self.certificate is not None and self.thumbprint is not None:
            raise ValueError("certificate or thumbprint: give one of them, not both")
        return self


class EntraSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str = Field(min_length=1, description="the Entra directory (tenant) id or domain")
    client_id: str = Field(min_length=1)
    client_secret: SecretRef | None = Field(default=None, description="a client secret (discouraged)")
    client_certificate: EntraCertificate | None = Field(
        default=None, description="a certificate credential (recommended)"
    )

    @model_validator(mode="after")
    def _one_credential(self) -> EntraSettings:
        if (self.client_secret is None) == (self.client_certificate is None):
            raise ValueError(
                "client_secret or client_certificate: give exactly one of them (a certificate is recommended)"
            )
        return self


@dataclass(frozen=True, slots=True)
class CertificateCredential:
    assertion: ClientAssertion
    certificate: x509.Certificate | None  # None when only its thumbprint was given

    def describe(self, now: datetime) -> tuple[bool, str]:
        """(still valid, words) for ``health``."""
        if self.certificate is None:
            return True, "certificate credential (by thumbprint)"
        until = self.certificate.not_valid_after_utc
        subject = self.certificate.subject.rfc4514_string() or "?"
        if now.astimezone(UTC) >= until:
            return False, f"certificate {subject} expired on {until:%Y-%m-%d}: upload a new one"
        return True, f"certificate {subject}, valid until {until:%Y-%m-%d}"


def _read(reference: str, *, field: str) -> str:
    try:
        return resolve(reference, field=field)
    except ValueError as exc:
        raise ConfigurationError(f"{field}: {exc}", field=field) from None


def certificate_credential(
    settings: EntraCertificate, *, tenant: str, client_id: str, now: Callable[[], datetime]
) -> CertificateCredential:
    """The assertion builder of a certificate credential; ``ConfigurationError`` naming the field
    (a key that cannot be read or is not RSA, a certificate of another key, a bad thumbprint)."""
    pem = _read(settings.private_key, field=KEY_FIELD)
    key = SigningKey(pem, field=KEY_FIELD, alg="RS256")  # an EC key is refused: Entra wants RSA
    certificate: x509.Certificate | None = None
    if settings.thumbprint is not None:
        header = thumbprint_header(settings.thumbprint, field=THUMBPRINT_FIELD)
    else:
        if settings.certificate is not None:
            certificate = load_certificate(_read(settings.certificate, field=CERT_FIELD), field=CERT_FIELD)
        elif PEM_CERTIFICATE in pem:
            certificate = load_certificate(pem, field=KEY_FIELD)
        else:
            raise ConfigurationError(
                f"{CERT_FIELD}: give the certificate (or its thumbprint); the key's file holds none",
                field=CERT_FIELD,
            )
        header = certificate_header(certificate, key, field=CERT_FIELD)
    assertion = ClientAssertion(
        key=key,
        client_id=client_id,
        audience=f"{LOGIN}/{tenant}/oauth2/v2.0/token",
        now=now,
        header=header,
    )
    return CertificateCredential(assertion=assertion, certificate=certificate)
