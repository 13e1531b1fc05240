"""Signing in to the console: two steps, lockout, timeouts, sign-out everywhere, CSRF, headers."""

from __future__ import annotations

import pytest
from console_kit import Console, code_for

from deskguard.sim.demo import DEMO_PASSWORD

pytestmark = pytest.mark.db
ALICE, CLAIRE = "alice.agent@desk.example", "claire.dubois0@acme.example"


def test_password_then_totp_opens_the_role_home(console: Console) -> None:
    browser = console.sign_in(ALICE)
    home = browser.get("/")
    assert home.status_code == 303 and home.headers["location"] == "/t/tnt_acme/agent"
    cookie = next(c for c in browser.cookies.jar if c.name == "__Host-dg_session")
    assert cookie.secure and cookie.has_nonstandard_attr("HttpOnly") and cookie.path == "/"


def test_the_password_alone_is_not_a_session(console: Console) -> None:
    browser = console.browser()
    assert browser.post("/login", data={"login": ALICE, "password": DEMO_PASSWORD}).status_code == 303
    assert browser.get("/home").headers["location"] == "/login"  # the half cookie opens nothing


def test_a_wrong_code_is_refused_and_a_code_works_once(console: Console) -> None:
    browser = console.browser()
    browser.post("/login", data={"login": ALICE, "password": DEMO_PASSWORD})
    assert browser.post("/login/totp", data={"code": "000000"}).status_code == 401
    code = code_for(console.creds, ALICE, console.clock.now())
    assert browser.post("/login/totp", data={"code": code}).status_code == 303
    other = console.browser()
    other.post("/login", data={"login": ALICE, "password": DEMO_PASSWORD})
    assert other.post("/login/totp", data={"code": code}).status_code == 401  # replayed


def test_five_failures_lock_the_account_even_for_the_right_password(console: Console) -> None:
    browser = console.browser()
    for _ in range(5):
        refused = browser.post("/login", data={"login": ALICE, "password": "not the password!"})
        assert refused.status_code == 401
    locked = browser.post("/login", data={"login": ALICE, "password": DEMO_PASSWORD})
    assert locked.status_code == 401 and "locked for fifteen minutes" in locked.text
    console.clock.advance(minutes=16)
    console.sign_in(ALICE)  # the lock ends by itself


def test_an_unknown_login_reads_like_a_wrong_password(console: Console) -> None:
    browser = console.browser()
    unknown = browser.post("/login", data={"login": "nobody@desk.example", "password": DEMO_PASSWORD})
    wrong = browser.post("/login", data={"login": ALICE, "password": "wrong password here"})
    assert unknown.status_code == wrong.status_code == 401
    assert "Wrong e-mail, password or code" in unknown.text and "Wrong e-mail" in wrong.text


def test_idle_and_absolute_timeouts_end_the_session(console: Console) -> None:
    browser = console.sign_in(ALICE)
    console.clock.advance(minutes=29)
    assert browser.get("/home").status_code == 303
    assert browser.get("/home").headers["location"] != "/login"
    console.clock.advance(minutes=31)
    assert browser.get("/home").headers["location"] == "/login"
    browser = console.sign_in(ALICE)
    for _ in range(21):  # active all day, never idle, and still out after ten hours
        console.clock.advance(minutes=29)
        browser.get("/home")
    assert browser.get("/home").headers["location"].startswith("/login")


def test_sign_out_everywhere_ends_every_session_of_the_account(console: Console) -> None:
    first, second = console.sign_in(ALICE), console.sign_in(ALICE)
    token = Console.csrf(first.get("/account").text)
    ended = first.post("/logout", data={"csrf": token, "everywhere": "1"})
    assert ended.status_code == 200 and "2 session(s) ended" in ended.text
    assert second.get("/home").headers["location"].startswith("/login")


def test_a_state_change_without_the_csrf_token_is_refused(console: Console) -> None:
    browser = console.sign_in(ALICE)
    refused = browser.post("/logout", data={"everywhere": "1"})
    assert refused.status_code == 403 and "did not come from this console" in refused.text
    forged = browser.post("/logout", data={"csrf": "x" * 43}, headers={"x-csrf-token": "nope"})
    assert forged.status_code == 403
    assert browser.get("/home").status_code == 303 and "login" not in browser.get("/home").headers["location"]


def test_sign_in_from_another_origin_is_refused(console: Console) -> None:
    browser = console.browser()
    refused = browser.post(
        "/login",
        data={"login": ALICE, "password": DEMO_PASSWORD},
        headers={"origin": "https://evil.example"},
    )
    assert refused.status_code == 403


def test_pages_carry_a_strict_content_security_policy(console: Console) -> None:
    page = console.browser().get("/login")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text and " on" + "click=" not in page.text


def test_next_never_leaves_the_console(console: Console) -> None:
    browser = console.browser()
    browser.post("/login", data={"login": CLAIRE, "password": DEMO_PASSWORD, "next": "https://evil.example/"})
    done = browser.post("/login/totp", data={"code": code_for(console.creds, CLAIRE, console.clock.now())})
    assert done.headers["location"] == "/home"


def test_the_language_follows_the_browser_and_the_switch(console: Console) -> None:
    browser = console.browser()
    assert "Mot de passe" in browser.get("/login", headers={"accept-language": "fr-FR,fr;q=0.9"}).text
    assert "Password" in browser.get("/login", headers={"accept-language": "de, en;q=0.5"}).text
    browser.post("/lang", data={"lang": "fr", "next": "/login"})
    assert "Mot de passe" in browser.get("/login").text
