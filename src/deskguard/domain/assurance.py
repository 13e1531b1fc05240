"""Provider assurance: the checklist an outsourced helpdesk provider is assessed against, per tenant.

The checklist is content (``content/assurance/checklist.yml``, from the seed article's audit and
contract checklist): sections of items, each with a stable id, its words in English and French and a
review cadence. A tenant's assessment of one provider's item (``Assessment``) has a status, a note, the
reviewer and the date of the next review (overdue once past). Evidence (``Evidence``) is an uploaded file
kept with its SHA-256, name, type and size and who attached it; ``check_evidence`` refuses empty,
oversized and mistyped files (the type is read from the content's first bytes, and must match the name).

Pure: parsing and checks take text and bytes; reading the file and storing rows are the app's and the
adapters' business (``app.assurance``, ``adapters.db.repositories_assurance``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

import yaml

from deskguard.domain.errors import ValidationFailed

MAX_EVIDENCE_BYTES = 5 * 1024 * 1024
LANGS = ("en", "fr")


class ItemStatus(StrEnum):
    MET = "met"
    PARTIAL = "partial"
    NOT_MET = "not_met"
    NOT_ASSESSED = "not_assessed"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChecklistItem:
    id: str
    section_id: str
    title: Mapping[str, str]  # by language
    ask: Mapping[str, str]
    review_months: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    id: str
    title: Mapping[str, str]
    items: tuple[ChecklistItem, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Checklist:
    sections: tuple[Section, ...]

    def item(self, item_id: str) -> ChecklistItem:
        for section in self.sections:
            for item in section.items:
                if item.id == item_id:
                    return item
        raise ValidationFailed(f"item {item_id!r} is not in the assurance checklist", field="item_id")

    def items(self) -> list[ChecklistItem]:
        return [item for section in self.sections for item in section.items]


@dataclass(frozen=True, slots=True, kw_only=True)
class Assessment:
    tenant_id: str
    provider_id: str
    item_id: str
    status: ItemStatus
    note: str
    reviewer_id: str  # who assessed it
    reviewed_at: datetime
    review_due: date  # the next review; overdue once past

    def overdue(self, today: date) -> bool:
        return self.review_due < today


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    id: str
    tenant_id: str
    provider_id: str
    item_id: str
    name: str
    media_type: str
    size: int
    sha256: str  # hex of the content
    attached_by: str
    attached_at: datetime


class AssuranceRepository(Protocol):
    def assessments(self, *, tenant_id: str, provider_id: str) -> Mapping[str, Assessment]:
        """The tenant's assessments of the provider, by item id."""
        ...

    def put_assessment(self, assessment: Assessment) -> None:
        """Store (or replace) the tenant's assessment of one item."""
        ...

    def add_evidence(self, evidence: Evidence, content: bytes) -> None: ...

    def evidence(self, *, tenant_id: str, provider_id: str) -> Sequence[Evidence]:
        """The files attached for the provider in the tenant, oldest first (metadata only)."""
        ...

    def evidence_content(self, *, tenant_id: str, evidence_id: str) -> tuple[Evidence, bytes] | None: ...


def _words(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw, dict) or any(
        not isinstance(raw.get(lang), str) or not raw[lang] for lang in LANGS
    ):
        raise ValidationFailed(f"{where} needs a text in each of {', '.join(LANGS)}", field=where)
    return {lang: raw[lang] for lang in LANGS}


def parse_checklist(text: str, *, source: str = "checklist.yml") -> Checklist:
    """The checklist from its YAML; every mistake names the file and the entry."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationFailed(f"{source}: not YAML: {exc}", field="checklist") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("sections"), list) or not raw["sections"]:
        raise ValidationFailed(f"{source}: needs a non-empty list 'sections'", field="sections")
    seen: set[str] = set()
    sections = []
    for n, entry in enumerate(raw["sections"]):
        where = f"{source}: sections[{n}]"
        if not isinstance(entry, dict) or not entry.get("id") or not isinstance(entry.get("items"), list):
            raise ValidationFailed(f"{where} needs an id and a list 'items'", field="sections")
        items = []
        for m, item in enumerate(entry["items"]):
            at = f"{where}.items[{m}]"
            if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
                raise ValidationFailed(f"{at} needs an id", field="items")
            if item["id"] in seen:
                raise ValidationFailed(f"{at}: item id {item['id']!r} is used twice", field="items")
            months = item.get("review_months")
            if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= 36:
                raise ValidationFailed(
                    f"{at}: review_months is a whole number of months, 1 to 36", field="items"
                )
            seen.add(item["id"])
            items.append(
                ChecklistItem(
                    id=item["id"],
                    section_id=str(entry["id"]),
                    title=_words(item.get("title"), f"{at}.title"),
                    ask=_words(item.get("ask"), f"{at}.ask"),
                    review_months=months,
                )
            )
        sections.append(
            Section(
                id=str(entry["id"]), title=_words(entry.get("title"), f"{where}.title"), items=tuple(items)
            )
        )
    return Checklist(sections=tuple(sections))


# Accepted evidence: (media type, the name's extensions, how its content starts)
_SIGNED = (
    ("application/pdf", (".pdf",), b"%PDF-"),
    ("image/png", (".png",), b"\x89PNG\r\n\x1a\n"),
    ("image/jpeg", (".jpg", ".jpeg"), b"\xff\xd8\xff"),
)
_TEXT = (("text/plain", (".txt",)), ("text/csv", (".csv",)))
ACCEPTED = ", ".join(ext for _, exts, *_ in (*_SIGNED, *_TEXT) for ext in exts)


def check_evidence(name: str, content: bytes, *, max_bytes: int = MAX_EVIDENCE_BYTES) -> tuple[str, str]:
    """The file's media type and SHA-256 (hex), or a ``ValidationFailed`` saying what is wrong."""
    clean = evidence_name(name)
    if not clean or len(clean) > 200 or any(c in clean for c in '"<>') or not clean.isprintable():
        raise ValidationFailed(
            'the evidence file needs a printable name of at most 200 characters, without " < >', field="file"
        )
    if not content:
        raise ValidationFailed(f"evidence file {clean!r} is empty", field="file")
    if len(content) > max_bytes:
        raise ValidationFailed(
            f"evidence file {clean!r} is {len(content)} bytes; the limit is {max_bytes}", field="file"
        )
    ext = "." + clean.rsplit(".", 1)[-1].lower() if "." in clean else ""
    for media_type, exts, magic in _SIGNED:
        if ext in exts:
            if not content.startswith(magic):
                raise ValidationFailed(
                    f"evidence file {clean!r} is named {ext} but is not a {media_type} file", field="file"
                )
            return media_type, hashlib.sha256(content).hexdigest()
    for media_type, exts in _TEXT:
        if ext in exts:
            try:
                content.decode("utf-8")
            except UnicodeDecodeError:
                raise ValidationFailed(f"evidence file {clean!r} is not UTF-8 text", field="file") from None
            if b"\x00" in content:
                raise ValidationFailed(f"evidence file {clean!r} is not text", field="file")
            return media_type, hashlib.sha256(content).hexdigest()
    raise ValidationFailed(f"evidence file {clean!r}: accepted types are {ACCEPTED}", field="file")


def evidence_name(name: str) -> str:
    """The name kept for a file: its last path segment, as ``check_evidence`` read it."""
    return name.replace("\\", "/").rsplit("/", 1)[-1].strip()


def next_review(today: date, months: int) -> date:
    """``months`` after ``today`` (the last day of the month when that day does not exist)."""
    index = today.year * 12 + today.month - 1 + months
    year, month = index // 12, index % 12 + 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(today.day, (following - date(year, month, 1)).days))
