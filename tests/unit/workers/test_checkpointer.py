"""Checkpoints are signed every N records or T seconds, per tenant, and published to the witness."""

from __future__ import annotations

from pathlib import Path

from deskguard.adapters.witness import FileWitness
from deskguard.app import directory
from deskguard.workers.checkpointer import Checkpointer
from world import World, build_world


def _ticket(world: World, ref: str) -> None:
    directory.open_ticket(
        world.ctx, actor=world.operator("agent"), tenant_id="t_a", external_ref=ref, channel="phone"
    )


def test_signs_after_n_records_or_t_seconds_and_publishes(uow_factory, tmp_path: Path) -> None:
    world = build_world(uow_factory)
    object.__setattr__(world.ctx, "witness", FileWitness(tmp_path))
    worker = Checkpointer(world.ctx, every_records=3, every_seconds=60)
    assert worker.tick() == 0  # an empty ledger: nothing to sign
    _ticket(world, "INC-1")
    assert worker.tick() == 1  # first record of a tenant: signed at once (no checkpoint yet)
    _ticket(world, "INC-2")
    assert worker.tick() == 0  # 1 new record, last checkpoint 0 s old
    _ticket(world, "INC-3")
    _ticket(world, "INC-4")
    assert worker.tick() == 1  # 3 new records
    _ticket(world, "INC-5")
    world.clock.advance(seconds=61)
    assert worker.tick() == 1  # 1 new record, but the last checkpoint is a minute old
    assert worker.tick() == 0  # nothing new
    with world.ctx.reads() as uow:
        sizes = [c.size for c in uow.ledger.checkpoints(tenant_id="t_a")]
    assert sizes == [1, 4, 5]
    assert len(FileWitness(tmp_path).published(tenant_id="t_a")) == 3
