"""Passkeys: registered on /account, used as the second step of signing in; real WebAuthn bytes.

The authenticator is ``authenticator.SoftAuthenticator`` (P-256 keys, CBOR, ECDSA signatures built
per the WebAuthn spec), so py_webauthn verifies exactly what a browser would send.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from authenticator import SoftAuthenticator, b64url
from console_kit import Console
from fastapi.testclient import TestClient

from deskguard.sim.demo import DEMO_PASSWORD

pytestmark = pytest.mark.db
ALICE, BRUNO = "alice.agent@desk.example", "bruno.supervisor@desk.example"
ORIGIN = "https://console.test"


def register(console: Console, browser: TestClient, key: SoftAuthenticator, label: str = "laptop") -> None:
    csrf = Console.csrf(browser.get("/account").text)
    options = browser.post("/account/passkeys/options", headers={"X-CSRF-Token": csrf})
    assert options.status_code == 200, options.text
    created = key.create(options.json(), origin=ORIGIN)
    added = browser.post("/account/passkeys", data={"csrf": csrf, "credential": created, "label": label})
    assert added.status_code == 303 and added.headers["location"] == "/account?passkey=added", added.text


def password_step(browser: TestClient, login: str) -> dict:
    assert browser.post("/login", data={"login": login, "password": DEMO_PASSWORD}).status_code == 303
    options = browser.post("/login/passkey/options")
    assert options.status_code == 200, options.text
    return options.json()


def test_register_then_sign_in_with_password_and_passkey(console: Console) -> None:
    key = SoftAuthenticator()
    register(console, console.sign_in(ALICE), key, label="work laptop")
    browser = console.browser()
    assert browser.post("/login", data={"login": ALICE, "password": DEMO_PASSWORD}).status_code == 303
    second = browser.get("/login/second")
    assert "Use a passkey" in second.text and "/static/passkeys.js" in second.text
    options = browser.post("/login/passkey/options").json()
    assert options["userVerification"] == "required" and options["rpId"] == "console.test"
    assert [c["id"] for c in options["allowCredentials"]] == [b64url(key.credential_id)]
    signed = browser.post(
        "/login/passkey", data={"credential": key.get(options, origin=ORIGIN), "next": "/account"}
    )
    assert signed.status_code == 303 and signed.headers["location"] == "/account", signed.text
    account = browser.get("/account")
    assert account.status_code == 200 and "work laptop" in account.text


def test_a_challenge_is_good_once_and_for_its_own_half_session(console: Console) -> None:
    key = SoftAuthenticator()
    register(console, console.sign_in(ALICE), key)
    first = console.browser()
    options = password_step(first, ALICE)
    assertion = key.get(options, origin=ORIGIN)
    other = console.browser()
    password_step(other, ALICE)  # its own challenge: the first one is not valid there
    assert other.post("/login/passkey", data={"credential": assertion}).status_code == 401
    assert first.post("/login/passkey", data={"credential": assertion}).status_code == 303
    again = console.browser()
    password_step(again, ALICE)
    assert again.post("/login/passkey", data={"credential": assertion}).status_code == 401  # replayed


def test_the_origin_and_user_verification_are_checked(console: Console) -> None:
    key = SoftAuthenticator()
    register(console, console.sign_in(ALICE), key)
    browser = console.browser()
    phished = key.get(password_step(browser, ALICE), origin="https://console-test.example")
    refused = browser.post("/login/passkey", data={"credential": phished})
    assert refused.status_code == 401 and "Wrong e-mail, password or code" in refused.text
    key.user_verified = False
    unverified = key.get(browser.post("/login/passkey/options").json(), origin=ORIGIN)
    assert browser.post("/login/passkey", data={"credential": unverified}).status_code == 401
    with console.runtime.ctx.reads() as uow:
        assert uow.console_accounts.get_by_login(ALICE).failed_attempts == 2  # both count toward the lock


def test_a_counter_that_does_not_grow_is_refused(console: Console) -> None:
    key = SoftAuthenticator(sign_count=7)  # a security key that keeps a counter
    register(console, console.sign_in(ALICE), key)
    browser = console.browser()
    assert (
        browser.post(
            "/login/passkey", data={"credential": key.get(password_step(browser, ALICE), origin=ORIGIN)}
        ).status_code
        == 303
    )
    cloned = console.browser()
    key.sign_count = 7  # a clone still at the old count
    assert (
        cloned.post(
            "/login/passkey", data={"credential": key.get(password_step(cloned, ALICE), origin=ORIGIN)}
        ).status_code
        == 401
    )


def test_another_accounts_passkey_does_not_open_this_one(console: Console) -> None:
    alices, brunos = SoftAuthenticator(), SoftAuthenticator()
    register(console, console.sign_in(ALICE), alices)
    browser = console.browser()
    assert browser.post("/login", data={"login": BRUNO, "password": DEMO_PASSWORD}).status_code == 303
    assert browser.post("/login/passkey/options").status_code == 422  # Bruno has none yet
    register(console, console.sign_in(BRUNO), brunos)
    options = password_step(browser := console.browser(), BRUNO)
    assert (
        browser.post("/login/passkey", data={"credential": alices.get(options, origin=ORIGIN)}).status_code
        == 401
    )


def test_an_account_with_a_passkey_and_no_totp_signs_in(console: Console) -> None:
    key = SoftAuthenticator()
    register(console, console.sign_in(ALICE), key)
    with console.runtime.ctx.uow() as uow:
        account = uow.console_accounts.get_by_login(ALICE)
        uow.console_accounts.update(replace(account, totp_seed=None))
        uow.commit()
    browser = console.browser()
    options = password_step(browser, ALICE)
    second = browser.get("/login/second")
    assert "Use a passkey" in second.text and 'name="code"' not in second.text
    assert (
        browser.post("/login/passkey", data={"credential": key.get(options, origin=ORIGIN)}).status_code
        == 303
    )
    assert browser.get("/account").status_code == 200


def test_registration_needs_the_csrf_token_and_a_fresh_challenge(console: Console) -> None:
    browser = console.sign_in(ALICE)
    assert browser.post("/account/passkeys/options").status_code == 403
    csrf = Console.csrf(browser.get("/account").text)
    key = SoftAuthenticator()
    options = browser.post("/account/passkeys/options", headers={"X-CSRF-Token": csrf}).json()
    created = key.create(options, origin=ORIGIN)
    assert browser.post("/account/passkeys", data={"credential": created}).status_code == 403
    assert browser.post("/account/passkeys", data={"csrf": csrf, "credential": created}).status_code == 303
    replayed = browser.post("/account/passkeys", data={"csrf": csrf, "credential": created})
    assert replayed.status_code == 422 and "no passkey registration is pending" in replayed.text
    bad = browser.post("/account/passkeys", data={"csrf": csrf, "credential": "not json"})
    assert bad.status_code == 422 and "not JSON" in bad.text


def test_the_console_must_be_reached_by_name_for_passkeys(console: Console) -> None:
    by_ip = TestClient(console.client.app, base_url="https://127.0.0.1", follow_redirects=False)
    browser = console.sign_in(ALICE, client=by_ip)
    csrf = Console.csrf(browser.get("/account").text)
    refused = browser.post("/account/passkeys/options", headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 422 and "host name" in refused.text
