"""The agent's pages: search, identity card, preview, the request's proofs, execution; role and
tenant checks; the employee's push page; and no secret ever shown to the agent."""

from __future__ import annotations

import re

import pytest
from console_kit import Console

pytestmark = pytest.mark.db
ALICE, BRUNO, ANNA, OLGA = (
    "alice.agent@desk.example",
    "bruno.supervisor@desk.example",
    "anna.analyst@desk.example",
    "olga@farshore.example",
)
CLAIRE = "claire.dubois0@acme.example"
T = "/t/tnt_acme"


def _open(
    console: Console, browser, kind: str = "reset_mfa", person: str = "per_acme_000", **extra: str
) -> str:  # noqa: ANN001
    card = browser.get(f"{T}/persons/{person}?kind={kind}")
    assert card.status_code == 200, card.text
    form = {"csrf": Console.csrf(card.text), "kind": kind, "external_ref": "INC-20931", "channel": "phone"}
    form |= {"claimed_identity": "Claire Dubois, CFO", "caller_number": "+447700900123", **extra}
    opened = browser.post(f"{T}/persons/{person}/requests", data=form)
    assert opened.status_code == 303, opened.text
    return opened.headers["location"]


def test_search_card_and_preview_in_words(console: Console) -> None:
    alice = console.sign_in(ALICE)
    found = alice.get(f"{T}/agent?q=dubois", headers={"hx-request": "true"})
    assert found.status_code == 200 and "Claire Dubois" in found.text and "<html" not in found.text
    assert "Claire Dubois" in alice.get(f"{T}/agent?q=dubois").text  # the plain submit
    card = alice.get(f"{T}/persons/per_acme_000")
    assert "privileged" in card.text and "Registered phones" in card.text and "Enrolled factors" in card.text
    jean = alice.get(f"{T}/persons/per_acme_001")
    assert "less than 30 days ago" in jean.text
    token = Console.csrf(card.text)
    preview = alice.post(
        f"{T}/persons/per_acme_000/preview",
        data={"csrf": token, "kind": "reset_mfa"},
        headers={"hx-request": "true"},
    )
    assert preview.status_code == 200
    assert (
        "Security questions do not count" in preview.text and "A second person must approve" in preview.text
    )
    assert "push with number matching" in preview.text
    assert "our procedure requires a call-back to your registered number" in preview.text
    with console.runtime.ctx.reads() as uow:  # a preview opens nothing
        assert not uow.requests.list(tenant_id="tnt_acme", where=_filter())


def _filter():  # noqa: ANN202
    from deskguard.domain.ports import RequestFilter

    return RequestFilter(person_id="per_acme_000")


def test_the_request_page_runs_the_push_with_the_portal_and_the_callback_shows_the_registered_number(
    console: Console,
) -> None:
    alice = console.sign_in(ALICE)
    page_url = _open(console, alice)
    page = alice.get(page_url)
    assert "waiting for proofs of identity" in page.text and 'hx-trigger="every 2s"' in page.text
    token = Console.csrf(page.text)
    alice.post(f"{page_url}/knowledge", data={"csrf": token, "topic": "date of birth", "matched": "yes"})
    assert "never count as proof" in alice.get(page_url).text
    alice.post(f"{page_url}/proofs", data={"csrf": token, "method": "push_number_match"})
    page = alice.get(page_url)
    number = re.search(r'<span class="number" aria-label="Number to read out">(\d+)</span>', page.text).group(
        1
    )
    seen = re.search(r"seen_as=([0-9a-f]+)", page.text).group(1)
    assert alice.get(f"{page_url}/status?seen_as={seen}").status_code == 204
    claire = console.sign_in(CLAIRE)
    portal = claire.get("/portal")
    assert "Verification requests" in portal.text and number not in re.sub(r"csrf[^>]+", "", portal.text)
    proof_id = re.search(r'action="/portal/pushes/([^"]+)"', portal.text).group(1)
    ctoken = Console.csrf(portal.text)
    wrong = claire.post(
        f"/portal/pushes/{proof_id}", data={"csrf": ctoken, "answer": "approve", "number": "00"}
    )
    assert wrong.headers.get("location") == "/portal?answered=mismatch", (
        wrong.status_code,
        wrong.text[-600:],
    )
    done = claire.post(
        f"/portal/pushes/{proof_id}", data={"csrf": ctoken, "answer": "approve", "number": number}
    )
    assert done.headers["location"] == "/portal?answered=approved"
    assert alice.get(f"{page_url}/status?seen_as={seen}").headers.get("hx-refresh") == "true"
    alice.post(f"{page_url}/proofs", data={"csrf": token, "method": "callback_automated"})
    page = alice.get(page_url).text
    with console.runtime.ctx.reads() as uow:
        registered = uow.persons.get(tenant_id="tnt_acme", person_id="per_acme_000").registered_phone().number
    assert registered in page and "+447700900123" not in page.split("Registered number")[1].split("</li>")[0]
    assert 'name="registered_number"' not in page and 'name="to_number"' not in page  # never editable


def test_roles_tenants_and_csrf(console: Console) -> None:
    anna, olga = console.sign_in(ANNA), console.sign_in(OLGA)
    assert anna.get(f"{T}/agent").status_code == 403  # an analyst has no agent desk
    assert anna.get(f"{T}/persons/per_acme_000").status_code == 403
    assert olga.get(f"{T}/agent").status_code == 404  # Globex only: Acme does not exist for her
    assert olga.get(f"{T}/persons/per_acme_000").status_code == 404
    assert console.sign_in(CLAIRE).get(f"{T}/agent").status_code == 404  # a person is no operator
    alice = console.sign_in(ALICE)
    assert alice.get("/portal").status_code == 404  # an operator has no portal
    refused = alice.post(f"{T}/persons/per_acme_000/requests", data={"kind": "reset_mfa"})
    assert refused.status_code == 403 and "did not come from this console" in refused.text
    url = _open(console, alice)
    assert olga.get(url).status_code == 404
    assert alice.post(f"{url}/execute", data={}).status_code == 403


def test_execute_shows_the_result_in_words_and_never_the_secret(console: Console, monkeypatch) -> None:  # noqa: ANN001
    produced: list[str] = []
    idp = console.runtime.ctx.channels.idp
    original = idp.execute

    def spying(**kwargs):  # noqa: ANN003, ANN202
        result = original(**kwargs)
        if result.secret:
            produced.append(result.secret)
        return result

    monkeypatch.setattr(idp, "execute", spying)
    alice = console.sign_in(ALICE)
    url = _open(console, alice, kind="reset_password", person="per_acme_002", p_deliver_to="agent")
    page = alice.get(url)
    token = Console.csrf(page.text)
    alice.post(f"{url}/proofs", data={"csrf": token, "method": "push_number_match"})
    number = re.search(r'aria-label="Number to read out">(\d+)<', alice.get(url).text).group(1)
    with console.runtime.ctx.reads() as uow:
        login = uow.persons.get(tenant_id="tnt_acme", person_id="per_acme_002").email
    person = console.sign_in(login)
    portal = person.get("/portal")
    proof_id = re.search(r'action="/portal/pushes/([^"]+)"', portal.text).group(1)
    person.post(
        f"/portal/pushes/{proof_id}",
        data={"csrf": Console.csrf(portal.text), "answer": "approve", "number": number},
    )
    page = alice.get(url)
    if "waiting for approval" in page.text:  # Bruno approves through the API (4-eyes)
        token_b = console.creds["operators"][BRUNO]["token"]
        approved = console.client.post(
            f"/api/v1/tenants/tnt_acme/requests/{url.rsplit('/', 1)[1]}/approvals",
            json={"verdict": "approve", "comment": "push OK"},
            headers={"Authorization": f"Bearer {token_b}"},
        )
        assert approved.status_code == 200, approved.text
        page = alice.get(url)
    assert "Ready to execute" in page.text, page.text
    done = alice.post(f"{url}/execute", data={"csrf": token})
    page = alice.get(done.headers["location"])
    assert "Done" in page.text and "sent straight to the person" in page.text
    assert produced and all(secret not in page.text for secret in produced)
