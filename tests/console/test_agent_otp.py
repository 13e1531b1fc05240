"""The agent's request page with ``otp_sms``: a "send a code to the registered phone" control that
shows the number masked (never editable, never the caller's), the code field, the result; en and fr."""

from __future__ import annotations

import re

import pytest
from console_kit import Console

pytestmark = pytest.mark.db
ALICE = "alice.agent@desk.example"
T = "/t/tnt_acme"


def _open_unlock(browser, person: str) -> str:  # noqa: ANN001
    card = browser.get(f"{T}/persons/{person}?kind=unlock_account")
    assert card.status_code == 200, card.text
    form = {"csrf": Console.csrf(card.text), "kind": "unlock_account", "external_ref": "INC-4410"}
    form |= {"channel": "phone", "claimed_identity": "the person", "caller_number": "+447700900123"}
    opened = browser.post(f"{T}/persons/{person}/requests", data=form)
    assert opened.status_code == 303, opened.text
    return opened.headers["location"]


def _quiet_person(console: Console) -> tuple[str, str]:
    """A person of the demo whose registered phone did not change in the last 30 days."""
    now = console.clock.now()
    with console.runtime.ctx.reads() as uow:
        for person in uow.persons.list(tenant_id="tnt_acme"):
            phone = person.registered_phone()
            if phone is not None and (now - phone.changed_at).days > 30 and not person.privileged:
                return person.id, phone.number
    raise AssertionError("the demo has no person with a settled phone")


def test_send_a_code_to_the_registered_phone_and_check_it(console: Console) -> None:
    person, number = _quiet_person(console)
    alice = console.sign_in(ALICE)
    page_url = _open_unlock(alice, person)
    page = alice.get(page_url).text
    assert "Send a code to the registered phone" in page
    masked = re.search(
        r"Registered phone \(from the directory[^<]*<span class=\"number\">([^<]+)</span>", page
    )
    assert masked is not None and masked.group(1).endswith(number[-2:]) and number not in page
    assert 'name="to_number"' not in page  # the destination is never the agent's to give
    token = Console.csrf(page)
    sent = alice.post(f"{page_url}/proofs", data={"csrf": token, "method": "otp_sms"})
    assert sent.status_code == 303, sent.text
    [code] = [s for s in console.runtime.otp.sent if s.to_number == number]
    page = alice.get(page_url).text
    assert "A code went to" in page and "by sms" in page
    assert "Send a code to the registered phone" not in page  # one code at a time
    proof_id = re.search(r'action="[^"]+/proofs/([^/"]+)/otp"', page).group(1)
    wrong = alice.post(f"{page_url}/proofs/{proof_id}/otp", data={"csrf": token, "code": "12ab"})
    assert wrong.status_code == 422 and "code: only digits" in wrong.text
    done = alice.post(f"{page_url}/proofs/{proof_id}/otp", data={"csrf": token, "code": code.code})
    assert done.status_code == 303, done.text
    page = alice.get(page_url).text
    assert "code sent to the registered phone</strong> — succeeded" in page


def test_the_control_speaks_french(console: Console) -> None:
    person, _ = _quiet_person(console)
    alice = console.sign_in(ALICE)
    page_url = _open_unlock(alice, person)
    page = alice.get(page_url, headers={"accept-language": "fr-FR,fr;q=0.9"}).text
    assert "Envoyer un code au téléphone enregistré" in page
