"""The provider-assurance repository on SQLite and PostgreSQL: upserts, evidence content, tenant scoping."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from deskguard.domain.assurance import Assessment, Evidence, ItemStatus
from deskguard.domain.ports import UnitOfWorkFactory

AT = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 4


def _assessment(tenant: str, item: str = "iso27001_certificate", **kw: object) -> Assessment:
    base = Assessment(
        tenant_id=tenant,
        provider_id="prv",
        item_id=item,
        status=ItemStatus.PARTIAL,
        note="certificate requested",
        reviewer_id="op_adrien",
        reviewed_at=AT,
        review_due=date(2027, 6, 30),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def _evidence(tenant: str, eid: str, at: datetime = AT) -> Evidence:
    return Evidence(
        id=eid,
        tenant_id=tenant,
        provider_id="prv",
        item_id="iso27001_certificate",
        name="iso.pdf",
        media_type="application/pdf",
        size=len(PDF),
        sha256="ab" * 32,
        attached_by="op_adrien",
        attached_at=at,
    )


def test_an_assessment_is_replaced_and_scoped_by_tenant_and_provider(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.assurance.put_assessment(_assessment("t_a"))
        uow.assurance.put_assessment(_assessment("t_b", status=ItemStatus.NOT_MET))
        uow.assurance.put_assessment(_assessment("t_a", item="audit_rights"))
        uow.commit()
    with uow_factory() as uow:
        uow.assurance.put_assessment(
            _assessment("t_a", status=ItemStatus.MET, note="", review_due=date(2027, 12, 1))
        )
        uow.commit()
    with uow_factory() as uow:
        mine = uow.assurance.assessments(tenant_id="t_a", provider_id="prv")
        assert sorted(mine) == ["audit_rights", "iso27001_certificate"]
        got = mine["iso27001_certificate"]
        assert (got.status, got.note, got.review_due, got.reviewed_at) == (
            ItemStatus.MET,
            "",
            date(2027, 12, 1),
            AT,
        )
        assert uow.assurance.assessments(tenant_id="t_b", provider_id="prv")[
            "iso27001_certificate"
        ].status == (ItemStatus.NOT_MET)
        assert uow.assurance.assessments(tenant_id="t_a", provider_id="other") == {}


def test_evidence_keeps_its_bytes_and_is_read_only_in_its_tenant(uow_factory: UnitOfWorkFactory) -> None:
    later = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)
    with uow_factory() as uow:
        uow.assurance.add_evidence(_evidence("t_a", "evd_2", later), PDF)
        uow.assurance.add_evidence(_evidence("t_a", "evd_1"), PDF[:100])
        uow.assurance.add_evidence(_evidence("t_b", "evd_3"), PDF)
        uow.commit()
    with uow_factory() as uow:
        assert [e.id for e in uow.assurance.evidence(tenant_id="t_a", provider_id="prv")] == [
            "evd_1",
            "evd_2",
        ]
        found = uow.assurance.evidence_content(tenant_id="t_a", evidence_id="evd_2")
        assert found is not None and found[1] == PDF and found[0] == _evidence("t_a", "evd_2", later)
        assert uow.assurance.evidence_content(tenant_id="t_a", evidence_id="evd_3") is None
        assert uow.assurance.evidence_content(tenant_id="t_b", evidence_id="evd_3") is not None
