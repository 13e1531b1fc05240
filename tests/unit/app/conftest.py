from __future__ import annotations

import pytest

from deskguard.domain.ports import UnitOfWorkFactory
from world import World, build_world


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory) -> World:
    return build_world(uow_factory)
