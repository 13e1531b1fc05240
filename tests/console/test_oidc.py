"""Signing in to the console with OpenID Connect, against a real local provider (tests/oidc_provider.py).

The console runs in process (TestClient over HTTPS, SQLite and PostgreSQL); the provider is an HTTP
server on a loopback port that the console's Authlib client really calls (discovery, JWKS, token).
The "browser" follows each redirect by hand: console → provider's /authorize → console's callback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from oidc_provider import OidcProvider, oidc_provider

pytestmark = pytest.mark.db
ALICE = "alice.agent@desk.example"
SECRET_ENV = "OIDC_TEST_CLIENT_SECRET"


@dataclass
class Oidc:
    console: Any  # tests/console/conftest.py's Console
    provider: OidcProvider

    def start(self, browser: TestClient) -> httpx.Response:
        """The browser clicks the link and follows the console's redirect to the provider."""
        begun = browser.get("/login/oidc")
        assert begun.status_code == 303, begun.text
        assert begun.headers["location"].startswith(self.provider.issuer + "/authorize?")
        return httpx.get(begun.headers["location"])

    def sign_in(self, browser: TestClient) -> httpx.Response:
        """The whole round trip; the console's answer to the callback."""
        back = self.start(browser)
        assert back.status_code == 302, back.text
        return browser.get(back.headers["location"])


@pytest.fixture
def oidc(console_with: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Oidc]:
    monkeypatch.setenv(SECRET_ENV, "s3cret-of-the-console")
    with (
        oidc_provider() as provider,
        console_with(
            oidc_issuer=provider.issuer,
            oidc_client_id=provider.client_id,
            oidc_client_secret=f"env://{SECRET_ENV}",
        ) as console,
    ):
        provider.now = lambda: console.clock.now().timestamp()  # the provider and the console agree
        yield Oidc(console=console, provider=provider)


def _signed_out(browser: TestClient) -> None:
    assert not any(name.endswith("dg_session") for name in browser.cookies)
    page = browser.get("/account")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_the_company_account_opens_a_full_session_for_the_mapped_login(oidc: Oidc) -> None:
    browser = oidc.console.browser()
    login = browser.get("/login")
    assert 'href="/login/oidc"' in login.text and "Sign in with your company account" in login.text
    answer = oidc.sign_in(browser)
    assert answer.status_code == 200, answer.text
    assert '<meta http-equiv="refresh" content="0;url=/home">' in answer.text  # the Strict-cookie hop
    cookie = next(c for c in browser.cookies.jar if c.name == "__Host-dg_session")
    assert cookie.secure and cookie.path == "/"
    assert "samesite=strict" in answer.headers["set-cookie"].lower()
    account = browser.get("/account")
    assert account.status_code == 200 and ALICE in account.text
    assert browser.get("/home").status_code in (200, 303)
    assert "dg_oidc" not in browser.cookies  # the transaction is spent
    assert oidc.provider.requests.count("POST /token") == 1


def test_the_transaction_cookie_is_lax_sealed_and_scoped(oidc: Oidc) -> None:
    browser = oidc.console.browser()
    begun = browser.get("/login/oidc")
    header = begun.headers["set-cookie"].lower()
    assert "dg_oidc=" in header and "samesite=lax" in header and "path=/login/oidc" in header
    assert "httponly" in header and "secure" in header
    sealed = browser.cookies["dg_oidc"]
    query = httpx.URL(begun.headers["location"]).params
    assert query["state"] not in sealed and query["nonce"] not in sealed  # sealed, not plain
    assert query["code_challenge_method"] == "S256" and query["response_type"] == "code"


@pytest.mark.parametrize(
    ("knob", "words"),
    [
        ("wrong_nonce", "the ID token is not valid"),
        ("wrong_aud", "the ID token is not valid"),
        ("wrong_iss", "the ID token is not valid"),
        ("expired", "the ID token is not valid"),
        ("bad_signature", "the ID token is not valid"),
        ("unverified_email", "did not give a verified e-mail address"),
        ("no_mfa", "without multi-factor authentication"),
        ("deny", "access_denied"),
    ],
)
def test_a_misbehaving_provider_is_refused_with_a_clear_page_and_no_session(
    oidc: Oidc, knob: str, words: str
) -> None:
    oidc.provider.misbehave = {knob}
    browser = oidc.console.browser()
    answer = oidc.sign_in(browser)
    assert answer.status_code == 401, answer.text
    assert "Sign-in with your company account was refused" in answer.text and words in answer.text
    assert 'role="alert"' in answer.text
    _signed_out(browser)


def test_an_unknown_email_is_refused_with_that_reason(oidc: Oidc) -> None:
    oidc.provider.email = "nobody@desk.example"
    browser = oidc.console.browser()
    answer = oidc.sign_in(browser)
    assert answer.status_code == 401
    assert "nobody@desk.example has no console account" in answer.text
    _signed_out(browser)


def test_a_locked_account_stays_locked(oidc: Oidc) -> None:
    with oidc.console.runtime.ctx.uow() as uow:  # as an administrator's "lock" leaves it
        account = uow.console_accounts.get_by_login(ALICE)
        uow.console_accounts.update(replace(account, disabled=True))
        uow.commit()
    browser = oidc.console.browser()
    answer = oidc.sign_in(browser)
    assert answer.status_code == 401 and "this console account is locked" in answer.text
    _signed_out(browser)


def test_a_callback_whose_state_differs_is_refused_before_the_code_is_used(oidc: Oidc) -> None:
    browser = oidc.console.browser()
    back = oidc.start(browser)
    forged = httpx.URL(back.headers["location"]).copy_set_param("state", "someone-elses-state")
    answer = browser.get(str(forged))
    assert answer.status_code == 401 and "does not belong to this sign-in" in answer.text
    assert "POST /token" not in oidc.provider.requests
    _signed_out(browser)


def test_a_callback_in_another_browser_or_a_replayed_one_is_refused(oidc: Oidc) -> None:
    browser = oidc.console.browser()
    back = oidc.start(browser)
    other = oidc.console.browser()  # the victim of a login CSRF: the attacker's code and state
    answer = other.get(back.headers["location"])
    assert answer.status_code == 401 and "did not start here" in answer.text
    _signed_out(other)
    assert browser.get(back.headers["location"]).status_code == 200  # the real one still works
    replay = browser.get(back.headers["location"])  # the transaction was spent
    assert replay.status_code == 401 and "did not start here" in replay.text


def test_a_wrong_client_secret_is_refused_by_the_provider(
    oidc: Oidc, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, "not-the-secret")
    browser = oidc.console.browser()
    answer = oidc.sign_in(browser)
    assert answer.status_code == 401 and "refused the code" in answer.text and "invalid_client" in answer.text
    _signed_out(browser)


def test_a_rotated_signing_key_is_fetched_once_and_accepted(oidc: Oidc) -> None:
    assert oidc.sign_in(oidc.console.browser()).status_code == 200
    oidc.console.clock.advance(seconds=5)
    oidc.provider.rotate()
    assert oidc.sign_in(oidc.console.browser()).status_code == 200
    assert oidc.provider.requests.count("GET /jwks") == 2
    assert oidc.provider.requests.count("GET /.well-known/openid-configuration") == 1


def test_a_bad_signature_does_not_make_the_console_refetch_the_keys(oidc: Oidc) -> None:
    assert oidc.sign_in(oidc.console.browser()).status_code == 200
    oidc.provider.misbehave = {"bad_signature"}
    assert oidc.sign_in(oidc.console.browser()).status_code == 401
    assert oidc.provider.requests.count("GET /jwks") == 1


def test_without_mfa_required_a_single_factor_is_accepted(
    console_with: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, "s3cret-of-the-console")
    with (
        oidc_provider(misbehave={"no_mfa"}) as provider,
        console_with(
            oidc_issuer=provider.issuer,
            oidc_client_id=provider.client_id,
            oidc_client_secret=f"env://{SECRET_ENV}",
            oidc_require_mfa=False,
        ) as console,
    ):
        provider.now = lambda: console.clock.now().timestamp()
        browser = console.browser()
        assert Oidc(console=console, provider=provider).sign_in(browser).status_code == 200
        assert browser.get("/account").status_code == 200


def test_not_configured_there_is_no_oidc_route_and_no_link(console: Any) -> None:
    browser = console.browser()
    assert browser.get("/login/oidc").status_code == 404
    assert browser.get("/login/oidc/callback?code=x&state=y").status_code == 404
    login = browser.get("/login")
    assert login.status_code == 200 and "/login/oidc" not in login.text
