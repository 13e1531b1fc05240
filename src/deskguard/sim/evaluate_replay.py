"""Replay a simulated dataset through the whole product, in simulated time.

Every record and every helpdesk gesture becomes a step on one timeline, sorted by time (a stable
sort: the files' own order breaks ties). The clock (a ``FixedClock``) is set to each step's time:

- identity-provider, ticket and call records are ingested through ``app.detection.ingest`` (the
  ingest API's use case: normalisation, caller enrichment, rules, correlations, learned analytics,
  risk, triage, runbooks), batched per tenant between two helpdesk gestures;
- a helpdesk request is opened (``app.directory.open_ticket``, ``app.requests.open_request``), its
  proofs given with the dataset's outcomes (``app.verification``: the person answers the push in
  their portal session, the telephony provider reports the call-back, the manager confirms, the
  identity check reports), its approvals decided (``app.approvals``), and executed when the policy
  says ``ready`` (``app.execution``) — a refusal is an answer, recorded, never an error of the run;
- after each step deskguard's own outbox events are fed to the engine (``app.detection.consume_outbox``).

Alerts are read back from the database; each one keeps the simulated time it was first stored at.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from deskguard.app import approvals, directory, execution, requests, verification
from deskguard.app.context import AppContext
from deskguard.app.detection import MAX_BATCH, consume_outbox, ingest
from deskguard.app.kpis import Month, month_kpis
from deskguard.detection.alerts import Alert
from deskguard.domain.errors import DeskguardError
from deskguard.domain.events import Actor, ActorKind
from deskguard.domain.ports import AlertQuery
from deskguard.domain.requests import RequestState
from deskguard.sim.evaluate_seed import Dataset, DatasetError, parse_time

TIME_FIELDS = {
    "okta.ndjson": "published",
    "entra.json": "time",
    "tickets.ndjson": "sys_created_on",
    "calls.ndjson": "started_at",
}
DEFAULT_PARAMS = {"enroll_factor": {"kind": "portal_push", "label": "new device"}}
ALERT_LIMIT = 1_000_000


@dataclass(slots=True)
class RequestRun:
    """What became of one dataset request in deskguard."""

    dataset_id: str
    tenant: str
    request_id: str = ""
    state: str = "not_opened"
    executed: bool = False
    refusals: list[str] = field(default_factory=list)  # what the broker refused, with its codes


@dataclass(slots=True)
class Replay:
    runs: dict[str, RequestRun]
    alerts: list[Alert]
    raised_at: dict[str, float]  # alert id -> simulated time it was first stored
    evidence: dict[str, str]  # deskguard outbox event id -> dataset request id
    events: int  # records ingested + outbox events consumed
    quarantined: int
    seconds: float


@dataclass(order=True, slots=True)
class Step:
    at: datetime
    seq: int
    kind: str = field(compare=False)  # record | phone | open | proof | approval | execute
    tenant: str = field(compare=False)
    body: dict[str, Any] = field(compare=False)
    index: int = field(default=0, compare=False)


def _tenant_of(data: Dataset, record: Any) -> str | None:
    """The tenant whose person a record names: the first login of a tenant's domain found in it."""
    stack = [record]
    while stack:
        value = stack.pop(0)
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and "@" in value:
            tenant = data.tenant_of_domain.get(value.rsplit("@", 1)[1].lower())
            if tenant:
                return tenant
    return None


def timeline(data: Dataset) -> list[Step]:
    steps: list[Step] = []
    for name, records in data.records.items():
        for number, record in enumerate(records, start=1):
            where = f"{name} record {number}"
            tenant = record.get("tenant") if name == "calls.ndjson" else _tenant_of(data, record)
            if not tenant:
                raise DatasetError(f"{where}: names no person of a tenant's domain")
            at = parse_time(record.get(TIME_FIELDS[name]), where=where)
            steps.append(Step(at, len(steps), "record", tenant, record))
    for req in data.requests:
        rid = str(req.get("id", "?"))
        at = parse_time(req.get("at"), where=f"helpdesk_requests.ndjson {rid}")
        steps.append(Step(at, len(steps), "open", req["tenant"], req))
        last = at
        for kind in ("proofs", "approvals"):
            for index, item in enumerate(req.get(kind, [])):
                when = parse_time(item.get("at"), where=f"helpdesk_requests.ndjson {rid} {kind}[{index}]")
                last = max(last, when)
                steps.append(Step(when, len(steps), kind[:-1], req["tenant"], req, index))
        steps.append(Step(last, len(steps), "execute", req["tenant"], req))
    for when, tenant, login in data.phone_changes:
        steps.append(Step(when, len(steps), "phone", tenant, {"login": login}))
    return sorted(steps)


class Replayer:
    def __init__(self, ctx: AppContext, clock: Any, data: Dataset) -> None:
        self.ctx, self.clock, self.data = ctx, clock, data
        self.runs: dict[str, RequestRun] = {}
        self.raised_at: dict[str, float] = {}
        self.events = 0
        self.quarantined = 0
        self.calls = {c.get("call_id"): c for c in reversed(data.records["calls.ndjson"])}  # first wins
        with ctx.reads() as uow:
            self.operators = {op: uow.operators.get(oid) for op, oid in data.operator_ids.items()}
            self.providers = {p.id: p.kind.value for p in uow.providers.list()}

    def operator(self, login: str) -> Actor:
        op = self.operators.get(login.lower())
        if op is None:
            raise DatasetError(f"helpdesk_requests.ndjson: unknown operator {login!r}")
        return Actor(
            kind=ActorKind.OPERATOR,
            id=op.id,
            role=op.role.value,
            provider_id=op.provider_id,
            provider_kind=self.providers.get(op.provider_id, ""),
            tenant_ids=op.tenant_ids,
            workstation=op.workstation,
        )

    def person(self, login: str, tenant: str) -> Actor:
        return Actor(
            kind=ActorKind.PERSON, id=self.person_id(login), role="person", tenant_ids=frozenset({tenant})
        )

    def person_id(self, login: str) -> str:
        pid = self.data.person_ids.get(str(login).lower())
        if pid is None:
            raise DatasetError(f"helpdesk_requests.ndjson: unknown person {login!r}")
        return pid

    # --- records --------------------------------------------------------------------------------
    def ingest(self, pending: dict[str, list[Step]]) -> None:
        for tenant, steps in pending.items():
            for start in range(0, len(steps), MAX_BATCH):
                chunk = steps[start : start + MAX_BATCH]
                self.clock.set(chunk[-1].at)
                body = "\n".join(_dumps(step.body) for step in chunk).encode()
                system = Actor(
                    kind=ActorKind.SYSTEM,
                    id="deskguard-evaluate",
                    role="system",
                    tenant_ids=frozenset({tenant}),
                )
                result = ingest(self.ctx, actor=system, tenant_id=tenant, source=None, body=body)
                self.events += result.events
                self.quarantined += len(result.errors)
            self.after(tenant)
        pending.clear()

    def after(self, tenant: str) -> None:
        """Deskguard's own events to the engine, then note the alerts that appeared."""
        while (read := consume_outbox(self.ctx, tenant_id=tenant)) > 0:
            self.events += read
        with self.ctx.reads() as uow:
            stored = uow.alerts.list(AlertQuery(tenant_id=tenant, limit=ALERT_LIMIT))
        now = self.ctx.clock.now().timestamp()
        for alert in stored:
            # first sighting: its last evidence is the event that completed it (no later than now)
            self.raised_at.setdefault(alert.id, min(alert.last_seen, now))

    def phone_changed(self, step: Step) -> None:
        """The directory learns that the person's phone changed (the carrier moved the number)."""
        self.clock.set(step.at)
        with self.ctx.uow() as uow:
            person = uow.persons.get(tenant_id=step.tenant, person_id=self.person_id(step.body["login"]))
            assert person is not None  # seeded
            phones = tuple(replace(phone, changed_at=step.at) for phone in person.phones)
            uow.persons.update(replace(person, phones=phones))
            uow.commit()

    # --- helpdesk gestures ---------------------------------------------------------------------------
    def gesture(self, step: Step) -> None:
        req = step.body
        run = self.runs.setdefault(req["id"], RequestRun(dataset_id=req["id"], tenant=step.tenant))
        self.clock.set(step.at)
        if step.kind != "open" and run.state in ("not_opened", RequestState.DENIED.value):
            return  # nothing to prove, approve or execute on a request that is refused or absent
        try:
            getattr(self, f"_{step.kind}")(run, req, step.index)
        except DeskguardError as exc:
            run.refusals.append(f"{step.kind}: {exc.code}: {exc.message}")
        self._refresh(run)
        self.after(step.tenant)

    def _refresh(self, run: RequestRun) -> None:
        if run.request_id:
            with self.ctx.reads() as uow:
                found = requests.load_request(uow, tenant_id=run.tenant, request_id=run.request_id)
            run.state = found.state.value
            run.executed = found.state == RequestState.EXECUTED

    def _open(self, run: RequestRun, req: dict[str, Any], _: int) -> None:
        agent = self.operator(req["operator"])
        ticket_id = None
        if req.get("ticket"):
            call = self.calls.get(req.get("call_id"), {})
            ticket = directory.open_ticket(
                self.ctx,
                actor=agent,
                tenant_id=run.tenant,
                external_ref=req["ticket"],
                channel=req.get("channel", "phone"),
                claimed_identity=str(call.get("claimed_identity", req["person"])),
                caller_number=str(call.get("caller_number", "")),
            )
            ticket_id = ticket.id
        draft = requests.RequestDraft(
            kind=req["kind"],
            person_id=self.person_id(req["person"]),
            params=req.get("params") or DEFAULT_PARAMS.get(req["kind"]),
            ticket_id=ticket_id,
            justification=str(req.get("justification", "")),
        )
        opened = requests.open_request(self.ctx, actor=agent, tenant_id=run.tenant, draft=draft)
        run.request_id = opened.id

    def _proof(self, run: RequestRun, req: dict[str, Any], index: int) -> None:
        given = req["proofs"][index]
        method, ok = given.get("method"), given.get("outcome") == "succeeded"
        agent = self.operator(req["operator"])
        if method == "knowledge":
            verification.record_knowledge(
                self.ctx,
                actor=agent,
                tenant_id=run.tenant,
                request_id=run.request_id,
                topic="knowledge",
                matched=True,
            )
            return
        proof = verification.start_proof(
            self.ctx, actor=agent, tenant_id=run.tenant, request_id=run.request_id, method=str(method)
        )
        answer = _ANSWERS.get(str(method))
        if answer is None:
            raise DatasetError(
                f"helpdesk_requests.ndjson {req['id']}: proof method {method!r} cannot be replayed"
            )
        answer(self, run, req, proof, ok, given)

    def _approval(self, run: RequestRun, req: dict[str, Any], index: int) -> None:
        given = req["approvals"][index]
        granted = given.get("decision") == "granted"
        approvals.decide_approval(
            self.ctx,
            actor=self.operator(given["approver"]),
            tenant_id=run.tenant,
            request_id=run.request_id,
            verdict="approve" if granted else "deny",
            comment="approved in the replay" if granted else "denied in the replay",
        )

    def _execute(self, run: RequestRun, req: dict[str, Any], _: int) -> None:
        self._refresh(run)
        if run.state == RequestState.READY.value:
            execution.execute_request(
                self.ctx,
                actor=self.operator(req["operator"]),
                tenant_id=run.tenant,
                request_id=run.request_id,
            )


def _push(
    rp: Replayer, run: RequestRun, req: dict[str, Any], proof: Any, ok: bool, _: dict[str, Any]
) -> None:
    verification.respond_push(
        rp.ctx,
        actor=rp.person(req["person"], run.tenant),
        tenant_id=run.tenant,
        proof_id=proof.id,
        approve=ok,
        number=int(proof.challenge["number_to_read_out"]),
    )


def _callback(
    rp: Replayer, run: RequestRun, req: dict[str, Any], proof: Any, ok: bool, _: dict[str, Any]
) -> None:
    verification.callback_result(rp.ctx, call_id=str(proof.challenge["call_id"]), confirmed=ok)


def _attest(
    rp: Replayer, run: RequestRun, req: dict[str, Any], proof: Any, ok: bool, _: dict[str, Any]
) -> None:
    agent = rp.operator(req["operator"])
    verification.attest_callback(rp.ctx, actor=agent, tenant_id=run.tenant, proof_id=proof.id, reached=ok)


def _manager(
    rp: Replayer, run: RequestRun, req: dict[str, Any], proof: Any, ok: bool, given: dict[str, Any]
) -> None:
    with rp.ctx.reads() as uow:
        manager = uow.persons.get(tenant_id=run.tenant, person_id=str(proof.challenge["manager_id"]))
    assert manager is not None  # start_proof found them
    actor = rp.person(manager.email, run.tenant)
    verification.confirm_as_manager(rp.ctx, actor=actor, tenant_id=run.tenant, proof_id=proof.id, confirm=ok)


def _idv(rp: Replayer, run: RequestRun, req: dict[str, Any], proof: Any, ok: bool, _: dict[str, Any]) -> None:
    verification.idv_result(rp.ctx, session_id=str(proof.challenge["session_id"]), verified=ok)


_ANSWERS: dict[str, Callable[..., None]] = {
    "push_number_match": _push,
    "callback_automated": _callback,
    "callback_agent": _attest,
    "manager_confirmation": _manager,
    "external_idv": _idv,
}


def _dumps(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def replay(
    ctx: AppContext, clock: Any, data: Dataset, *, progress: Callable[[int, int], None] = lambda d, t: None
) -> Replay:
    """Run every step of the dataset's timeline; return what deskguard did and raised."""
    started = time.perf_counter()
    steps = timeline(data)
    rp = Replayer(ctx, clock, data)
    pending: dict[str, list[Step]] = {}
    for done, step in enumerate(steps, start=1):
        if step.kind == "record":
            pending.setdefault(step.tenant, []).append(step)
        elif step.kind == "phone":
            rp.ingest(pending)
            rp.phone_changed(step)
        else:
            rp.ingest(pending)
            rp.gesture(step)
        if done % 500 == 0:
            progress(done, len(steps))
    rp.ingest(pending)
    progress(len(steps), len(steps))
    return Replay(
        runs=rp.runs,
        alerts=list(_alerts(ctx, data)),
        raised_at=rp.raised_at,
        evidence=_evidence(ctx, data, rp.runs),
        events=rp.events,
        quarantined=rp.quarantined,
        seconds=time.perf_counter() - started,
    )


def _tenants(data: Dataset) -> list[str]:
    return [t["id"] for t in data.msp["tenants"]]


def _alerts(ctx: AppContext, data: Dataset) -> Iterator[Alert]:
    with ctx.reads() as uow:
        for tenant in _tenants(data):
            yield from uow.alerts.list(AlertQuery(tenant_id=tenant, limit=ALERT_LIMIT))


def _evidence(ctx: AppContext, data: Dataset, runs: dict[str, RequestRun]) -> dict[str, str]:
    """Which dataset request each of deskguard's own events is about (alerts cite event ids)."""
    by_request = {run.request_id: run.dataset_id for run in runs.values() if run.request_id}
    found: dict[str, str] = {}
    with ctx.reads() as uow:
        for tenant in _tenants(data):
            for event in uow.outbox.list(tenant_id=tenant, after_seq=0, limit=ALERT_LIMIT):
                if event.request_id in by_request:
                    found[event.id] = by_request[event.request_id]
    return found


def monthly_kpis(ctx: AppContext, data: Dataset) -> list[dict[str, Any]]:
    """The console's monthly figures (``app.kpis``) per tenant, for every month the dataset spans."""
    start = data.window
    days = int(data.manifest.get("sizes", {}).get("days", 1))
    months = sorted({str(Month.of(start + timedelta(days=d))) for d in range(max(days, 1))})
    found: list[dict[str, Any]] = []
    for tenant in _tenants(data):
        reader = Actor(
            kind=ActorKind.OPERATOR, id="deskguard-evaluate", role="analyst", tenant_ids=frozenset({tenant})
        )
        for month in months:
            kpis = month_kpis(ctx, actor=reader, tenant_id=tenant, month=month)
            found.append(
                {
                    "tenant": tenant,
                    "month": month,
                    "sensitive_actions": kpis.sensitive_actions,
                    "step_up_share": kpis.step_up_share,
                    "verification_failures": kpis.verification_failures,
                    "failure_rate": kpis.failure_rate,
                    "alerts": kpis.alerts,
                    "mean_time_to_detect_s": kpis.mean_time_to_detect_s,
                    "mean_time_to_respond_s": kpis.mean_time_to_respond_s,
                }
            )
    return found
