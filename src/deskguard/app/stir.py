"""STIR/SHAKEN at ingest: a call's claimed attestation checked against its signer's certificate.

A call record that carries a SIP Identity header (and no attestation its carrier verified) has its
PASSporT verified here: the chain is fetched from ``x5u`` (cached), checked against the configured
trust anchors, and the verdict replaces the claim. A header that does not verify - bad signature,
unknown signer, stale, a caller number it was not issued for, a certificate that cannot be fetched -
makes the attestation ``failed``: the same signal a carrier's failed verification gives.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509

from deskguard.detection.event import Event
from deskguard.detection.passport import IdentityError, load_chain, parse_identity, verify
from deskguard.domain.errors import ConnectorError, ConnectorTimeout
from deskguard.domain.ports import CertificateFetcher


@dataclass(frozen=True, slots=True)
class StirVerifier:
    fetcher: CertificateFetcher
    anchors: tuple[x509.Certificate, ...]

    def check(self, events: Iterable[Event]) -> None:
        for event in events:
            header = event.extra.get("sip_identity")
            if event.extra.get("attestation_source") == "passport" and isinstance(header, str):
                self._check(event, header)

    def _check(self, event: Event, header: str) -> None:
        try:
            identity = parse_identity(header)
            chain = load_chain(self.fetcher.fetch(str(identity.jose.get("x5u") or "")))
        except (IdentityError, ConnectorError, ConnectorTimeout) as exc:
            failures: tuple[str, ...] = (str(exc),)
            attestation = "failed"
        else:
            verdict = verify(
                identity,
                chain=chain,
                anchors=list(self.anchors),
                now=event.time,
                caller_number=event.caller_number,
            )
            failures, attestation = verdict.failures, verdict.attestation
        event.attestation = attestation
        event.extra["attestation_source"] = "verified"
        event.extra["passport_verified"] = not failures
        if failures:
            event.extra["passport_failures"] = list(failures)
