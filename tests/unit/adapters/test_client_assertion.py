"""The shared JWT assertions (RFC 7523), verified with joserfc (an independent implementation): the
general ``JwtAssertion`` (a ``sub`` other than ``iss``, extra claims, ``jti``/``nbf`` optional, the
JWT-bearer grant) and the ``ClientAssertion`` Okta and Entra send (``iss`` = ``sub``, ``jti``, ``nbf``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from deskguard.adapters.connectors.client_assertion import (
    ASSERTION_TYPE,
    JWT_BEARER_GRANT,
    ClientAssertion,
    JwtAssertion,
    SigningKey,
)
from deskguard.domain.errors import ConfigurationError
from oauth_kit import ec_key, pem, rsa_key, verify

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
IAT = int(AT.timestamp())
TOKEN = "https://oauth2.googleapis.com/token"


@pytest.fixture(scope="module")
def rsa_signer() -> tuple[SigningKey, object]:
    key = rsa_key()
    return SigningKey(pem(key), field="key", alg="RS256"), key.public_key()


def test_a_grant_assertion_with_its_own_subject_and_claims_and_no_jti(
    rsa_signer: tuple[SigningKey, object],
) -> None:
    key, public = rsa_signer
    assertion = JwtAssertion(
        key=key,
        issuer="sa@p.iam.gserviceaccount.com",
        subject="admin@acme.example",
        audience=TOKEN,
        now=lambda: AT,
        claims={"scope": "a b"},
        header={"kid": "kid-1"},
        lifetime_s=3600,
        jti=None,
        not_before=False,
    )
    grant = assertion.grant()
    assert grant["grant_type"] == JWT_BEARER_GRANT
    header, claims = verify(grant["assertion"], public, algs=("RS256",))
    assert header == {"alg": "RS256", "typ": "JWT", "kid": "kid-1"}
    assert claims == {
        "iss": "sa@p.iam.gserviceaccount.com",
        "sub": "admin@acme.example",
        "scope": "a b",
        "aud": TOKEN,
        "iat": IAT,
        "exp": IAT + 3600,
    }


def test_the_client_assertion_keeps_iss_equal_sub_a_fresh_jti_and_nbf() -> None:
    key = ec_key()
    ids = iter(["j1", "j2"])
    assertion = ClientAssertion(
        key=SigningKey(pem(key), field="key"),
        client_id="0oa1",
        audience="https://acme.okta.com/oauth2/v1/token",
        now=lambda: AT,
        jti=lambda: next(ids),
    )
    form = assertion.form()
    assert form["client_assertion_type"] == ASSERTION_TYPE
    header, claims = verify(form["client_assertion"], key.public_key(), algs=("ES256",))
    assert header == {"alg": "ES256", "typ": "JWT"}
    assert claims == {
        "iss": "0oa1",
        "sub": "0oa1",
        "aud": "https://acme.okta.com/oauth2/v1/token",
        "jti": "j1",
        "iat": IAT,
        "nbf": IAT,
        "exp": IAT + 300,
    }
    assert verify(assertion(), key.public_key(), algs=("ES256",))[1]["jti"] == "j2"


def test_bad_assertion_settings_are_refused(rsa_signer: tuple[SigningKey, object]) -> None:
    key, _ = rsa_signer
    base = {"key": key, "issuer": "sa@p", "audience": TOKEN, "now": lambda: AT}
    with pytest.raises(ValueError, match=r"\['exp', 'sub'\] are set by the assertion itself"):
        JwtAssertion(**base, claims={"sub": "x", "exp": 1, "scope": "a"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="30 s to 3600 s, not 7200"):
        JwtAssertion(**base, lifetime_s=7200)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-empty subject"):
        JwtAssertion(**base, subject="")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs an issuer"):
        JwtAssertion(**{**base, "issuer": ""})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="client_id is required"):
        ClientAssertion(key=key, client_id="", audience=TOKEN, now=lambda: AT)
