"""The ``otp_sms`` proof over the API: start it (the OTP service sends the code to the registered
phone), submit the code read back; a recently changed phone refuses it; bad input names the field;
a lost answer is a 504 that leaves the proof pending."""

from __future__ import annotations

from http_client import Api

T = "/api/v1/tenants/t_a"


def _open(api: Api, person: str = "plain") -> str:
    body = {"kind": "unlock_account", "person_id": person}
    return api.post(f"{T}/requests", "agent", body).json()["id"]


def test_an_agent_completes_otp_sms_over_the_api(api: Api) -> None:
    rid = _open(api)
    started = api.post(f"{T}/requests/{rid}/proofs", "agent", {"method": "otp_sms"})
    assert started.status_code == 201, started.text
    proof = started.json()
    assert proof["method"] == "otp_sms" and proof["strength"] == "low" and proof["status"] == "pending"
    assert proof["challenge"]["registered_number_masked"].endswith(" 11")
    assert "+33611111111" not in started.text
    [sent] = api.world.otp.sent
    done = api.post(f"{T}/proofs/{proof['id']}/otp", "agent", {"code": sent.code})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "succeeded"
    assert api.get(f"{T}/requests/{rid}", "agent").json()["state"] == "ready"


def test_a_recently_changed_phone_refuses_it_with_the_reason(api: Api) -> None:
    rid = _open(api, person="swapped")
    r = api.post(f"{T}/requests/{rid}/proofs", "agent", {"method": "otp_sms"})
    assert r.status_code == 422
    problem = r.json()
    assert problem["code"] == "proof_rejected.disallowed" and "SIM swap" in problem["detail"]
    assert api.world.otp.sent == []


def test_a_wrong_code_is_422_and_a_malformed_one_names_the_field(api: Api) -> None:
    rid = _open(api)
    pid = api.post(f"{T}/requests/{rid}/proofs", "agent", {"method": "otp_sms"}).json()["id"]
    code = api.world.otp.sent[-1].code
    wrong = api.post(f"{T}/proofs/{pid}/otp", "agent", {"code": f"{(int(code) + 1) % 10**6:06d}"})
    assert wrong.status_code == 422 and wrong.json()["code"] == "proof_rejected.pending"
    malformed = api.post(f"{T}/proofs/{pid}/otp", "agent", {"code": "12ab56"})
    assert malformed.status_code == 422 and malformed.json()["field"] == "code"
    assert len(api.world.otp.checks) == 1


def test_a_lost_answer_is_504_and_the_proof_stays_pending(api: Api) -> None:
    rid = _open(api)
    pid = api.post(f"{T}/requests/{rid}/proofs", "agent", {"method": "otp_sms"}).json()["id"]
    api.world.otp.timeouts = 1
    r = api.post(f"{T}/proofs/{pid}/otp", "agent", {"code": api.world.otp.sent[-1].code})
    assert r.status_code == 504 and r.json()["code"] == "connector_timeout"
    [proof] = api.get(f"{T}/requests/{rid}", "agent").json()["proofs"]
    assert proof["status"] == "pending" and proof["attempts"] == 1
