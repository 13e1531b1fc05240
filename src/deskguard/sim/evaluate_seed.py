"""Read a simulated dataset (``docs/simulation.md``) and seed its MSP into deskguard's repositories.

The first half of ``deskguard evaluate``: ``load_dataset(folder)`` checks the files and returns the
records; ``seed_msp(ctx, dataset)`` writes tenants, providers, operators and persons through the real
repositories (``uow.tenants.add`` ...), the way an import would. The dataset's operators carry no
role: an operator the dataset names as an approver is seeded as a supervisor (``benign.py``: "a
supervisor approves"), every other one as an agent. Every person gets the deskguard portal device a
push goes to, and their registered phone with the date it last changed (``phone_changed_at``); a
change inside the simulated window (a SIM swap) is replayed at its time, the phone having been
registered a year before the window until then.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from deskguard.app.context import AppContext
from deskguard.domain.model import (
    Factor,
    FactorKind,
    Operator,
    OperatorRole,
    Person,
    Phone,
    PhoneSource,
    Provider,
    ProviderKind,
    Tenant,
)

READS = (1, 2)  # dataset format versions: 2 adds the learning period before ``start``
PHONE_KNOWN_FOR = timedelta(days=365)  # a phone changed during the dataset was registered this long before
RECORD_FILES = ("okta.ndjson", "entra.json", "tickets.ndjson", "calls.ndjson")
REQUIRED = ("manifest.json", "msp.json", "labels.json", "helpdesk_requests.ndjson", *RECORD_FILES)


class DatasetError(ValueError):
    """The folder is not a dataset ``deskguard evaluate`` can read; the message names the file."""


@dataclass(slots=True)
class Dataset:
    folder: Path
    manifest: dict[str, Any]
    msp: dict[str, Any]
    labels: list[dict[str, Any]]
    requests: list[dict[str, Any]]
    records: dict[str, list[dict[str, Any]]]  # file name -> records (entra: the ``records`` list)
    person_ids: dict[str, str] = field(default_factory=dict)  # login -> seeded person id
    operator_ids: dict[str, str] = field(default_factory=dict)  # login -> seeded operator id
    tenant_of_domain: dict[str, str] = field(default_factory=dict)  # e-mail domain -> tenant id
    phone_changes: list[tuple[datetime, str, str]] = field(default_factory=list)  # (when, tenant, login)

    @property
    def window(self) -> datetime:
        """When the scored window starts (``start``): what happens before it is history, learned only."""
        return parse_time(self.manifest.get("start"), where="manifest.json start")

    @property
    def begins(self) -> datetime:
        """When the records begin: the learning period's start (format 2), else the window's."""
        if "history_start" not in self.manifest:
            return self.window
        return parse_time(self.manifest["history_start"], where="manifest.json history_start")


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path.name}: not readable JSON ({exc})") from None


def _ndjson(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise DatasetError(f"{path.name}:{number}: not JSON ({exc})") from None
        if not isinstance(row, dict):
            raise DatasetError(f"{path.name}:{number}: a record must be a JSON object")
        rows.append(row)
    return rows


def load_dataset(folder: Path) -> Dataset:
    """The dataset in ``folder``, checked: every file present, the format version known."""
    if not folder.is_dir():
        raise DatasetError(f"{folder}: no such folder (run deskguard simulate --out {folder} first)")
    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    if missing:
        raise DatasetError(f"{folder}: missing {', '.join(missing)}")
    manifest = _json(folder / "manifest.json")
    version = manifest.get("format_version") if isinstance(manifest, dict) else None
    if version not in READS:
        raise DatasetError(
            f"manifest.json: format_version {version!r}; this evaluator reads {' and '.join(map(str, READS))}"
        )
    entra = _json(folder / "entra.json")
    if not isinstance(entra, dict) or not isinstance(entra.get("records"), list):
        raise DatasetError('entra.json: expected {"records": [...]}')
    labels = _json(folder / "labels.json")
    if not isinstance(labels, dict) or not isinstance(labels.get("labels"), list):
        raise DatasetError('labels.json: expected {"labels": [...]}')
    msp = _json(folder / "msp.json")
    for key in ("tenants", "providers", "persons", "operators"):
        if not isinstance(msp, dict) or not isinstance(msp.get(key), list):
            raise DatasetError(f"msp.json: {key} must be a list")
    records = {name: _ndjson(folder / name) for name in RECORD_FILES if name.endswith(".ndjson")}
    records["entra.json"] = entra["records"]
    return Dataset(
        folder=folder,
        manifest=manifest,
        msp=msp,
        labels=labels["labels"],
        requests=_ndjson(folder / "helpdesk_requests.ndjson"),
        records=records,
    )


def parse_time(value: Any, *, where: str) -> datetime:
    """An ISO-8601 time of the dataset (``Z`` or an offset; ServiceNow's ``YYYY-MM-DD hh:mm:ss`` is UTC)."""
    if not isinstance(value, str) or not value:
        raise DatasetError(f"{where}: missing time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise DatasetError(f"{where}: {value!r} is not an ISO-8601 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _need(row: dict[str, Any], key: str, *, where: str) -> Any:
    if key not in row:
        raise DatasetError(f"msp.json: {where} has no {key!r}")
    return row[key]


def seed_msp(ctx: AppContext, data: Dataset) -> None:
    """Write the dataset's organisation through the repositories, in one transaction."""
    msp = data.msp
    by_slug = {_need(t, "slug", where="a tenant"): t for t in msp["tenants"]}
    approvers = {a.get("approver", "") for r in data.requests for a in r.get("approvals", [])}
    start = data.begins
    data.tenant_of_domain = {str(t["domain"]).lower(): t["id"] for t in msp["tenants"]}
    for number, row in enumerate(msp["persons"]):
        data.person_ids[str(_need(row, "login", where=f"person {number}")).lower()] = f"per_{number:05d}"
    with ctx.uow() as uow:
        for row in msp["providers"]:
            uow.providers.add(Provider(id=row["id"], name=row["name"], kind=ProviderKind(row["kind"])))
        for slug, row in by_slug.items():
            uow.tenants.add(Tenant(id=row["id"], slug=slug, name=slug.title(), timezone=row["timezone"]))
        for row in msp["operators"]:
            login = str(_need(row, "login", where="an operator"))
            unknown = [slug for slug in row.get("tenants", []) if slug not in by_slug]
            if unknown:
                raise DatasetError(
                    f"msp.json: operator {login} serves unknown tenant(s) {', '.join(unknown)}"
                )
            data.operator_ids[login.lower()] = f"op_{login.split('@')[0]}"
            uow.operators.add(
                Operator(
                    id=data.operator_ids[login.lower()],
                    username=login,
                    display_name=login.split("@")[0],
                    role=OperatorRole.SUPERVISOR if login in approvers else OperatorRole.AGENT,
                    provider_id=row["provider"],
                    tenant_ids=frozenset(by_slug[slug]["id"] for slug in row.get("tenants", [])),
                    workstation=f"WS-{row.get('ip', '')}",
                )
            )
        # managers first: a person's manager must exist when the person is added
        rows = sorted(msp["persons"], key=lambda row: row.get("manager") is not None)
        for row in rows:
            uow.persons.add(_person(data, row, tenants=by_slug, start=start))
        uow.commit()


def _person(data: Dataset, row: dict[str, Any], *, tenants: dict[str, Any], start: datetime) -> Person:
    login = str(row["login"]).lower()
    slug = _need(row, "tenant", where=f"person {login}")
    if slug not in tenants:
        raise DatasetError(f"msp.json: person {login} is in unknown tenant {slug!r}")
    pid = data.person_ids[login]
    manager = str(row["manager"]).lower() if row.get("manager") else None
    if manager is not None and manager not in data.person_ids:
        raise DatasetError(f"msp.json: person {login} names unknown manager {manager}")
    hired = parse_time(row["hired_on"], where=f"person {login} hired_on") if row.get("hired_on") else None
    enrolled = hired or start - timedelta(days=365)
    changed = parse_time(_need(row, "phone_changed_at", where=f"person {login}"), where=f"person {login}")
    if changed > start:
        # the change happens during the replay (a SIM swap): until then the number is the old one's
        data.phone_changes.append((changed, tenants[slug]["id"], login))
        changed = start - PHONE_KNOWN_FOR
    return Person(
        id=pid,
        tenant_id=tenants[slug]["id"],
        employee_id=pid,
        email=login,
        display_name=str(row.get("display_name") or login),
        manager_id=data.person_ids[manager] if manager else None,
        privileged=bool(row.get("privileged")),
        groups=frozenset({"staff"}),
        phones=(
            Phone(
                number=_need(row, "phone", where=f"person {login}"), source=PhoneSource.HR, changed_at=changed
            ),
        ),
        factors=(
            Factor(
                id=f"{pid}-push", kind=FactorKind.PORTAL_PUSH, label="deskguard portal", enrolled_at=enrolled
            ),
        ),
    )
