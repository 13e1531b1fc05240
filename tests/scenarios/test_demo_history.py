"""`make demo`'s first start plays a little history, so that every role finds something to do."""

from __future__ import annotations

from pathlib import Path

from deskguard.adapters.system import SeededRandomness
from deskguard.bootstrap import build
from deskguard.domain.ports import RequestFilter
from deskguard.domain.requests import RequestState
from deskguard.settings import load_settings
from deskguard.sim.demo import seed_demo


def test_the_demo_history_gives_the_auditor_records_and_the_analyst_a_queue(tmp_path: Path) -> None:
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'demo.db'}", demo=True, witness_dir=tmp_path / "witness"
    )
    runtime = build(settings, randomness=SeededRandomness(2), migrate=True)
    try:
        seed_demo(runtime.ctx, history=True)
        seed_demo(runtime.ctx, history=True)  # a second start adds nothing
        with runtime.ctx.reads() as uow:
            executed = [
                r
                for r in uow.requests.list(tenant_id="tnt_acme", where=RequestFilter())
                if r.state == RequestState.EXECUTED
            ]
            records = uow.ledger.size(tenant_id="tnt_acme")
            cases = uow.cases.list(tenant_id="tnt_acme")
        assert len(executed) == 1 and executed[0].person_id == "per_acme_004"
        assert records > 10  # the ticket, the request, its proofs, the approval, the execution
        top = max(cases, key=lambda case: case.priority)
        assert "jeanne.martin" in top.entity
    finally:
        runtime.engine.dispose()
