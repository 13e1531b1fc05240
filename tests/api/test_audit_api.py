"""The auditor API: search records by person, actor, request, type and time; pages; proofs verify."""

from __future__ import annotations

from deskguard.app.ledger import sign_checkpoint
from deskguard.audit.checkpoint import parse_checkpoint
from deskguard.audit.merkle import verify_inclusion
from deskguard.audit.note import Verifier, open_note
from http_client import Api

A = "/api/v1/tenants/t_a"


def _activity(api: Api) -> str:
    rid = api.post(f"{A}/requests", "agent", {"kind": "unlock_account", "person_id": "plain"}).json()["id"]
    api.post(f"{A}/requests", "agent", {"kind": "revoke_sessions", "person_id": "vip"})
    api.post(f"{A}/requests/{rid}/cancel", "agent", {"reason": "wrong person"})
    return rid


def test_only_auditors_admins_and_analysts_read_the_ledger(api: Api) -> None:
    _activity(api)
    assert api.get(f"{A}/audit/records", "agent").status_code == 403
    assert api.get(f"{A}/audit/records", "sup").status_code == 403
    assert api.get(f"{A}/audit/records", "analyst").status_code == 200
    assert api.get(f"{A}/audit/records", "admin").status_code == 200


def test_search_filters_and_pages(api: Api) -> None:
    rid = _activity(api)
    everything = api.get(f"{A}/audit/records", "admin").json()
    assert [r["index"] for r in everything] == list(range(len(everything)))
    mine = api.get(f"{A}/audit/records", "admin", params={"request_id": rid}).json()
    assert mine and all(r["record"]["subject"]["request_id"] == rid for r in mine)
    vip = api.get(f"{A}/audit/records", "admin", params={"person_id": "vip"}).json()
    assert vip and all(r["record"]["subject"]["person_id"] == "vip" for r in vip)
    cancels = api.get(f"{A}/audit/records", "admin", params={"type": "request.state_changed"}).json()
    assert any(r["record"]["data"].get("to") == "cancelled" for r in cancels)
    by_agent = api.get(f"{A}/audit/records", "admin", params={"actor_id": "agent"}).json()
    assert len(by_agent) == len(everything)
    first, second = (
        api.get(f"{A}/audit/records", "admin", params={"limit": 2, "after": after}).json()
        for after in (-1, 1)
    )
    assert [r["index"] for r in first] == [0, 1] and [r["index"] for r in second] == [2, 3]
    later = api.get(f"{A}/audit/records", "admin", params={"since": "2030-01-01T00:00:00+00:00"}).json()
    assert later == []


def test_search_by_ticket_finds_the_ticket_and_its_requests(api: Api) -> None:
    ticket = api.post(f"{A}/tickets", "agent", {"external_ref": "INC-77", "channel": "phone"}).json()["id"]
    rid = api.post(
        f"{A}/requests", "agent", {"kind": "unlock_account", "person_id": "plain", "ticket_id": ticket}
    ).json()["id"]
    api.post(f"{A}/requests/{rid}/cancel", "agent", {"reason": "solved by itself"})
    api.post(
        f"{A}/requests", "agent", {"kind": "revoke_sessions", "person_id": "vip"}
    )  # another ticketless one
    found = api.get(f"{A}/audit/records", "admin", params={"ticket_id": ticket}).json()
    types = [r["record"]["type"] for r in found]
    assert types[0] == "ticket.opened" and "request.opened" in types and "request.state_changed" in types
    assert all(r["record"]["subject"]["request_id"] in (None, rid) for r in found)


def test_a_proof_verifies_against_the_signed_checkpoint(api: Api) -> None:
    _activity(api)
    sign_checkpoint(api.world.ctx, tenant_id="t_a")
    pinned = api.get(f"{A}/audit/checkpoints", "admin").json()
    assert pinned["origin"].endswith("/tenants/t_a") and len(pinned["keys"]) == 1
    key = Verifier.from_text(pinned["keys"][0]["verifier"])
    record = api.get(f"{A}/audit/records", "admin").json()[2]
    proof = api.get(f"{A}/audit/records/{record['record']['id']}/proof", "admin").json()
    body, signers = open_note(proof["checkpoint"], verifiers=[key])  # signed by the pinned key
    checkpoint = parse_checkpoint(body)
    assert signers == [key] and checkpoint.size == proof["tree_size"]
    verify_inclusion(
        leaf_hash=bytes.fromhex(proof["leaf_hash"]),
        index=proof["index"],
        size=proof["tree_size"],
        proof=[bytes.fromhex(p) for p in proof["proof"]],
        root=checkpoint.root,
    )
    assert (
        api.get("/api/v1/tenants/t_b/audit/records/" + record["record"]["id"] + "/proof", "admin").status_code
        == 404
    )  # another tenant's path: not found
