"""Dead letters over HTTP: admin, analyst (and auditor) list them, only an admin sends one back."""

from __future__ import annotations

from deskguard.domain.ports_export import ExportItem, ExportKind
from http_client import Api


def dead_letter(api: Api, tenant: str, key: str = "alr_dead") -> int:
    """A dead letter in ``tenant``; returns its id."""
    now = api.world.clock.now()
    with api.world.ctx.uow() as uow:
        uow.exports.add(
            [
                ExportItem(
                    id=0,
                    destination="splunk",
                    tenant_id=tenant,
                    kind=ExportKind.ALERT,
                    key=key,
                    payload={"id": key},
                    created_at=now,
                    next_attempt_at=now,
                )
            ]
        )
        (item,) = [i for i in uow.exports.due(destination="splunk", at=now, limit=100) if i.key == key]
        uow.exports.mark_failed(
            item_id=item.id, error="ConnectorError: refused", next_attempt_at=None, attempts=8, at=now
        )
        uow.commit()
    return item.id


BASE = "/api/v1/tenants/t_a/exports/dead-letters"


def test_staff_list_dead_letters_with_the_reason(api: Api) -> None:
    item_id = dead_letter(api, "t_a")
    dead_letter(api, "t_b", "alr_other")
    for who in ("admin", "analyst"):
        r = api.get(BASE, who)
        assert r.status_code == 200, r.text
        (body,) = r.json()
        assert body["id"] == item_id and body["status"] == "dead" and body["attempts"] == 8
        assert body["last_error"] == "ConnectorError: refused" and body["destination"] == "splunk"
    assert api.get(BASE, "agent").status_code == 403
    assert api.get(BASE, "sup").status_code == 403


def test_only_an_admin_sends_a_dead_letter_back_and_only_once(api: Api) -> None:
    item_id = dead_letter(api, "t_a")
    assert api.post(f"{BASE}/{item_id}/retry", "analyst").status_code == 403
    r = api.post(f"{BASE}/{item_id}/retry", "admin")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "pending" and r.json()["attempts"] == 0
    assert api.get(BASE, "admin").json() == []
    again = api.post(f"{BASE}/{item_id}/retry", "admin")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition.not_dead"
    assert api.post(f"{BASE}/999999/retry", "admin").status_code == 404
    assert api.post(f"{BASE}/not-a-number/retry", "admin").status_code == 404
