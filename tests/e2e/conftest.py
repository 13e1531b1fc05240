"""End-to-end tests of the console in a real browser: Debian's chromium driven by Playwright.

``live_demo`` serves the whole product (``bootstrap.http_app``) on a loopback port with uvicorn, over
the demo MSP on a fresh SQLite database, with a clock that follows real time plus an offset the test
can move (TOTP codes are single-use: ``sign_in`` steps past the code it used). The browser is
``/usr/bin/chromium`` (``CHROMIUM_PATH``), launched through ``executable_path``; nothing is downloaded.
Without chromium the tests are skipped, except under ``CI=true`` where that fails the run.

Screenshots of each journey go to ``test-artifacts/screenshots/`` (``DESKGUARD_ARTIFACTS`` moves the
folder): ``Journey.shot(page, "step")`` writes ``<journey>-<nn>-<step>.png``."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_kit import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LiveDemo,
    serving,
)

from oidc_provider import OidcProvider, oidc_provider

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{CHROMIUM} is missing: .ci/debian-packages installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def live_demo(tmp_path: Path) -> Iterator[LiveDemo]:
    with serving(tmp_path) as live:
        yield live


@pytest.fixture
def live_demo_oidc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[LiveDemo, OidcProvider]]:
    """``live_demo`` whose sign-in page offers the company account of a local OpenID provider
    (tests/oidc_provider.py) served as ``localhost``: another site than the console's 127.0.0.1, so the
    provider's redirect back is cross-site as in production."""
    monkeypatch.setenv("OIDC_TEST_CLIENT_SECRET", "s3cret-of-the-console")
    with (
        oidc_provider(host="localhost", interactive=True) as provider,
        serving(
            tmp_path,
            oidc_issuer=provider.issuer,
            oidc_client_id=provider.client_id,
            oidc_client_secret="env://OIDC_TEST_CLIENT_SECRET",
        ) as live,
    ):
        provider.now = lambda: live.clock.now().timestamp()
        yield live, provider


@pytest.fixture
def context(browser) -> Iterator[object]:  # noqa: ANN001
    """A fresh browser profile (cookies, storage) for one person; call ``browser.new_context()`` for a
    second person in the same test."""
    ctx = browser.new_context(locale="en-GB", viewport={"width": 1366, "height": 800})
    yield ctx
    ctx.close()


@pytest.fixture
def page(context) -> object:  # noqa: ANN001
    return context.new_page()
