"""The demo MSP behind the console, in process: a ``Console`` client signs in as any demo login.

Real storage (SQLite and PostgreSQL through ``db_url``), the demo seed, a clock the test moves.
The client speaks HTTPS to the in-process app so that the Secure, ``__Host-`` cookies flow as in a
browser. ``console.sign_in(login)`` goes through both steps with the account's real TOTP code."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path

import pytest
from console_kit import Console, running_console


@pytest.fixture
def console(db_url: str, tmp_path: Path) -> Iterator[Console]:
    with running_console(db_url, tmp_path) as running:
        yield running


@pytest.fixture
def console_with(db_url: str, tmp_path: Path) -> Callable[..., AbstractContextManager[Console]]:
    """``console_with(oidc_issuer=...)``: a ``running_console`` with more settings, for a test to open."""
    return partial(running_console, db_url, tmp_path)
