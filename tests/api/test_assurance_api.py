"""Provider assurance over the API: roles, tenant scoping, evidence upload and download, domain events."""

from __future__ import annotations

from hashlib import sha256

from deskguard.domain.events import EventType
from http_client import Api

ITEM = "/api/v1/tenants/t_a/providers/farshore/assurance/items/iso27001_certificate"
PDF = b"%PDF-1.4\n" + b"0" * 100_000 + b"\n%%EOF\n"  # larger than the API's ordinary body limit


def test_an_admin_assesses_and_attaches_and_every_change_is_an_event(api: Api) -> None:
    r = api.client.put(
        ITEM,
        json={"status": "met", "note": "cert #123", "review_due": "2027-06-30"},
        headers=api.as_("admin"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "met" and r.json()["review_due"] == "2027-06-30"
    up = api.client.post(
        ITEM + "/evidence", params={"name": "iso.pdf"}, content=PDF, headers=api.as_("admin")
    )
    assert up.status_code == 201, up.text
    assert up.json()["sha256"] == sha256(PDF).hexdigest() and up.json()["size"] == len(PDF)
    got = api.get("/api/v1/tenants/t_a/providers/farshore/assurance", "sup").json()
    iso = next(i for s in got["sections"] for i in s["items"] if i["id"] == "iso27001_certificate")
    assert iso["status"] == "met" and iso["evidence"][0]["name"] == "iso.pdf" and not iso["overdue"]
    assert "step_up_share" in got["measured"] and got["measured"]["exercises"] == []
    file = api.get(f"/api/v1/tenants/t_a/providers/farshore/assurance/evidence/{up.json()['id']}", "sup")
    assert file.content == PDF and file.headers["x-content-sha256"] == sha256(PDF).hexdigest()
    types = [e["type"] for e in api.get("/api/v1/tenants/t_a/events", "admin").json()]
    assert EventType.ASSURANCE_ASSESSED in types and EventType.ASSURANCE_EVIDENCE_ATTACHED in types
    listed = api.get("/api/v1/tenants/t_a/providers", "admin").json()
    assert [p["id"] for p in listed] == ["farshore"]  # the internal desk is not an outsourced provider
    assert listed[0]["items_by_status"]["met"] == 1 and listed[0]["evidence"] == 1


def test_bad_input_is_named_and_roles_are_checked(api: Api) -> None:
    def put(who: str, body: dict) -> object:
        return api.client.put(ITEM, json=body, headers=api.as_(who))

    assert put("sup", {"status": "met"}).status_code == 403  # supervisors read only
    assert put("agent", {"status": "met"}).status_code == 403
    bad = put("admin", {"status": "great"})
    assert bad.status_code == 422 and "status 'great' is one of met, partial" in bad.text
    past = put("admin", {"status": "met", "review_due": "2020-01-01"})
    assert past.status_code == 422 and "in the past" in past.text
    assert api.get("/api/v1/tenants/t_a/providers", "agent").status_code == 403
    unknown = api.client.put(
        "/api/v1/tenants/t_a/providers/farshore/assurance/items/nope",
        json={"status": "met"},
        headers=api.as_("admin"),
    )
    assert unknown.status_code == 422 and "'nope' is not in the assurance checklist" in unknown.text
    internal = api.client.put(
        ITEM.replace("farshore", "internal"), json={"status": "met"}, headers=api.as_("admin")
    )
    assert internal.status_code == 404  # only outsourced providers are assessed
    fake = api.client.post(
        ITEM + "/evidence", params={"name": "iso.pdf"}, content=b"MZ\x90", headers=api.as_("admin")
    )
    assert fake.status_code == 422 and "is not a application/pdf file" in fake.text
    with api.world.ctx.reads() as uow:
        assert uow.assurance.evidence(tenant_id="t_a", provider_id="farshore") == []


def test_another_tenants_evidence_is_not_found_under_this_tenant(api: Api) -> None:
    up = api.client.post(
        ITEM + "/evidence", params={"name": "iso.pdf"}, content=PDF, headers=api.as_("admin")
    )
    evidence_id = up.json()["id"]
    other = api.get(f"/api/v1/tenants/t_b/providers/farshore/assurance/evidence/{evidence_id}", "admin")
    assert other.status_code == 404 and other.json()["code"] == "not_found.evidence"
    page = api.get("/api/v1/tenants/t_b/providers/farshore/assurance", "admin").json()
    assert all(not item["evidence"] for section in page["sections"] for item in section["items"])
