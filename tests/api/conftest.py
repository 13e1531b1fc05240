from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from deskguard.adapters.db.health import readiness
from deskguard.api.app import create_app
from deskguard.app.auth import issue_token
from deskguard.domain.ports import UnitOfWorkFactory
from http_client import WEBHOOK_KEY, Api
from world import build_world


@pytest.fixture
def api(uow_factory: UnitOfWorkFactory, engine) -> Iterator[Api]:
    world = build_world(uow_factory)
    tokens: dict[str, str] = {}
    with world.ctx.uow() as uow:
        for oid in world.operators:
            tokens[oid] = issue_token(world.ctx, uow, subject_kind="operator", subject_id=oid, label="test")
        for pid, tenant in [
            ("vip", "t_a"),
            ("plain", "t_a"),
            ("swapped", "t_a"),
            ("boss", "t_a"),
            ("other", "t_b"),
        ]:
            tokens[pid] = issue_token(
                world.ctx, uow, subject_kind="person", subject_id=pid, label="test", tenant_id=tenant
            )
        uow.commit()
    app = create_app(
        world.ctx, webhook_key=WEBHOOK_KEY, max_body_bytes=16 * 1024, readiness=lambda: readiness(engine)
    )
    with TestClient(app) as client:
        yield Api(app, client, world, tokens)
