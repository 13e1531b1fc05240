"""The provider checklist (content and parser), evidence checks and review dates (domain.assurance)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from hashlib import sha256

import pytest

from deskguard.app.assurance import CHECKLIST_PATH, checklist
from deskguard.domain.assurance import (
    Assessment,
    ItemStatus,
    check_evidence,
    next_review,
    parse_checklist,
)
from deskguard.domain.errors import ValidationFailed

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def test_the_shipped_checklist_covers_the_seed_articles_sections() -> None:
    listed = checklist()
    assert [s.id for s in listed.sections] == [
        "certifications",
        "privileges",
        "caller_identification",
        "people",
        "evidence",
        "contract",
    ]
    ids = {item.id for item in listed.items()}
    for wanted in (
        "iso27001_certificate",
        "isms_audits",
        "non_conformities",
        "action_plan",
        "reset_rights",
        "elevation_rights",
        "mfa_rights",
        "identification_process",
        "identification_exceptions",
        "hiring_policy",
        "background_checks",
        "logging",
        "log_retention",
        "evidence_access",
        "security_sla",
        "monitoring_24_7",
        "audit_rights",
        "social_engineering_tests",
        "subcontracting",
    ):
        assert wanted in ids
    assert listed.item("iso27001_certificate").title == {
        "en": "ISO 27001 certificate",
        "fr": "Certificat ISO 27001",
    }
    assert listed.item("social_engineering_tests").review_months == 3  # quarterly exercises


def test_an_unknown_item_is_named() -> None:
    with pytest.raises(ValidationFailed, match="'nope' is not in the assurance checklist"):
        checklist().item("nope")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sections: []", "non-empty list 'sections'"),
        (": :", "not YAML"),
        (
            "sections: [{id: a, title: {en: A, fr: A}, items: [{title: {en: x, fr: x}}]}]",
            r"items\[0\] needs an id",
        ),
        (
            "sections: [{id: a, title: {en: A}, items: []}]",
            r"sections\[0\].title needs a text in each of en, fr",
        ),
        (
            "sections: [{id: a, title: {en: A, fr: A}, items: [{id: i, title: {en: x, fr: x}, "
            "ask: {en: y, fr: y}, review_months: 0}]}]",
            "review_months is a whole number of months",
        ),
        (
            "sections: [{id: a, title: {en: A, fr: A}, items: [{id: i, title: {en: x, fr: x}, "
            "ask: {en: y, fr: y}, review_months: 6}, {id: i, title: {en: x, fr: x}, "
            "ask: {en: y, fr: y}, review_months: 6}]}]",
            "item id 'i' is used twice",
        ),
    ],
)
def test_a_broken_checklist_names_the_file_and_entry(text: str, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message) as raised:
        parse_checklist(text, source="mine.yml")
    assert raised.value.message.startswith("mine.yml")


def test_the_shipped_file_is_the_one_parsed() -> None:
    assert parse_checklist(CHECKLIST_PATH.read_text(encoding="utf-8")) == checklist()


def test_evidence_types_come_from_the_content_and_must_match_the_name() -> None:
    assert check_evidence("certs/ISO27001.pdf", PDF) == ("application/pdf", sha256(PDF).hexdigest())
    assert check_evidence("shot.png", b"\x89PNG\r\n\x1a\n....")[0] == "image/png"
    assert check_evidence("photo.JPG", b"\xff\xd8\xff\xe0....")[0] == "image/jpeg"
    assert check_evidence("plan.csv", b"owner,due\nAna,2027-01-01\n")[0] == "text/csv"
    with pytest.raises(ValidationFailed, match="named .pdf but is not a application/pdf file"):
        check_evidence("fake.pdf", b"MZ\x90\x00 an executable")
    with pytest.raises(ValidationFailed, match="accepted types are .pdf, .png, .jpg, .jpeg, .txt, .csv"):
        check_evidence("tool.exe", b"MZ\x90\x00")
    with pytest.raises(ValidationFailed, match="not UTF-8 text"):
        check_evidence("notes.txt", b"\xff\xfe\x00bad")
    with pytest.raises(ValidationFailed, match="is empty"):
        check_evidence("empty.pdf", b"")
    with pytest.raises(ValidationFailed, match="is 21 bytes; the limit is 20"):
        check_evidence("big.pdf", b"%PDF-" + b"x" * 16, max_bytes=20)
    with pytest.raises(ValidationFailed, match="printable name"):
        check_evidence('a"b.pdf', PDF)


def test_review_dates_follow_the_cadence_and_go_overdue() -> None:
    assert next_review(date(2026, 12, 1), 3) == date(2027, 3, 1)
    assert next_review(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert next_review(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assessment = Assessment(
        tenant_id="t",
        provider_id="p",
        item_id="iso27001_certificate",
        status=ItemStatus.MET,
        note="",
        reviewer_id="op",
        reviewed_at=datetime(2026, 12, 1, tzinfo=UTC),
        review_due=date(2027, 1, 15),
    )
    assert not assessment.overdue(date(2027, 1, 15))
    assert assessment.overdue(date(2027, 1, 16))
