"""The identity check in the console: the agent's page says where the check went and never shows
the link; the person's portal shows "Verify your identity ... Start" with its expiry; the demo's
fake-provider page (demo only, labelled) lets the link's holder pass or fail the check, and the
verdict settles the proof as Veriff's webhook would."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from console_kit import Console

from deskguard.domain.requests import ProofStatus

pytestmark = pytest.mark.db
ALICE = "alice.agent@desk.example"
T = "/t/tnt_acme"
API = "/api/v1/tenants/tnt_acme"
PERSON = "per_acme_002"
LINK = re.compile(r'href="([^"]*/demo/idv/[^"]+)"')


def _start(console: Console) -> tuple[object, str, str]:
    """Alice opens a password reset for PERSON and starts the identity check from her page."""
    alice = console.sign_in(ALICE)
    opened = console.client.post(
        f"{API}/requests",
        json={"kind": "reset_password", "person_id": PERSON, "justification": "caller locked out"},
        headers={"Authorization": f"Bearer {console.creds['operators'][ALICE]['token']}"},
    )
    assert opened.status_code == 201, opened.text
    url = f"{T}/requests/{opened.json()['id']}"
    page = alice.get(url)
    started = alice.post(f"{url}/proofs", data={"csrf": Console.csrf(page.text), "method": "external_idv"})
    assert started.status_code == 303, started.text
    return alice, url, opened.json()["id"]


def _login(console: Console) -> str:
    with console.runtime.ctx.reads() as uow:
        person = uow.persons.get(tenant_id="tnt_acme", person_id=PERSON)
    assert person is not None
    return person.email


def _proof(console: Console, request_id: str):  # noqa: ANN202 - the external_idv Proof
    with console.runtime.ctx.reads() as uow:
        (proof,) = [
            p
            for p in uow.proofs.list_for_request(tenant_id="tnt_acme", request_id=request_id)
            if p.method.value == "external_idv"
        ]
    return proof


def test_the_agent_sees_where_it_went_the_person_gets_the_link_and_passes(console: Console) -> None:
    alice, url, request_id = _start(console)
    agent_page = alice.get(url).text
    assert "Identity check sent to the person&#39;s portal and registered e-mail (" in agent_page
    assert "•••@mail.example" in agent_page and "/demo/idv/" not in agent_page
    person = console.sign_in(_login(console))
    portal = person.get("/portal").text
    assert "Verify your identity for the request opened by" in portal and "Reset the password" in portal
    assert "This check works until 2026-12-01 10:00 UTC." in portal
    (link,) = LINK.findall(portal)
    assert ">Start</a>" in portal
    # the fallback e-mail went to the registered (recovery) address, with the same link
    mail = console.runtime.response_notifier.sent[-1]
    assert mail.channel == "email" and mail.to.endswith(".home@mail.example") and link in mail.text
    assert link not in alice.get(url).text
    # the demo's fake provider: no sign-in needed (the link is the capability), clearly labelled
    path = link.split("127.0.0.1:8000", 1)[-1].replace("&amp;", "&")
    fake = console.browser()
    shown = fake.get(path)
    assert shown.status_code == 200 and "Demo only — fake identity verification provider." in shown.text
    token = path.partition("?t=")[2]
    passed = fake.post(path.partition("?")[0], data={"t": token, "outcome": "approved"})
    assert passed.status_code == 200 and "reported the check as passed" in passed.text
    assert _proof(console, request_id).status == ProofStatus.SUCCEEDED
    assert LINK.findall(person.get("/portal").text) == []  # decided: gone from the portal
    assert "Verify your identity" not in person.get("/portal").text


def test_a_failed_check_fails_the_proof(console: Console) -> None:
    _, _, request_id = _start(console)
    person = console.sign_in(_login(console))
    (link,) = LINK.findall(person.get("/portal").text)
    path = link.split("127.0.0.1:8000", 1)[-1].replace("&amp;", "&")
    failed = console.browser().post(
        path.partition("?")[0], data={"t": path.partition("?t=")[2], "outcome": "declined"}
    )
    assert failed.status_code == 200 and "reported the check as failed" in failed.text
    assert _proof(console, request_id).status == ProofStatus.FAILED
    again = console.browser().post(
        path.partition("?")[0], data={"t": path.partition("?t=")[2], "outcome": "approved"}
    )
    assert again.status_code == 422 and "cannot be answered again" in again.text  # the first verdict stands
    assert _proof(console, request_id).status == ProofStatus.FAILED


def test_the_fake_page_needs_the_links_token_and_demo_mode(console: Console) -> None:
    _, _, request_id = _start(console)
    sid = _proof(console, request_id).challenge["session_id"]
    fake = console.browser()
    assert fake.get(f"/demo/idv/{sid}").status_code == 404
    assert fake.get(f"/demo/idv/{sid}?t=not-the-token").status_code == 404
    guessed = fake.post(f"/demo/idv/{sid}", data={"t": "not-the-token", "outcome": "approved"})
    assert guessed.status_code == 404
    assert _proof(console, request_id).status == ProofStatus.PENDING
    person = console.sign_in(_login(console))
    (link,) = LINK.findall(person.get("/portal").text)
    path = link.split("127.0.0.1:8000", 1)[-1].replace("&amp;", "&")
    bad = fake.post(path.partition("?")[0], data={"t": path.partition("?t=")[2], "outcome": "maybe"})
    assert bad.status_code == 422
    app = console.client.app
    app.state.console = replace(app.state.console, demo=False)  # type: ignore[attr-defined]
    assert fake.get(path).status_code == 404


def test_another_person_and_the_agent_do_not_see_the_check(console: Console) -> None:
    alice, _, _ = _start(console)
    other = console.sign_in("jean.martin1@acme.example")
    assert "Verify your identity" not in other.get("/portal").text
    page = alice.get("/portal")
    assert page.status_code in (303, 403, 404) and "/demo/idv/" not in page.text
