"""The ``IdentityVerification`` contract (``idv_contract``) for the fake and for Veriff, the latter
against a respx fixture of Veriff's published ``POST /v1/sessions`` (``tests/veriff_station.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
import respx
from idv_contract import CHECKS, Harness

from deskguard.adapters.channels.fake import FakeIdentityVerification
from deskguard.adapters.channels.veriff import VeriffIdentityVerification
from deskguard.adapters.system import SeededRandomness
from veriff_station import API_KEY, SESSIONS, SHARED_SECRET, Station


def _fake() -> Iterator[Harness]:
    fake = FakeIdentityVerification(randomness=SeededRandomness(1))
    slow = FakeIdentityVerification(randomness=SeededRandomness(2))
    slow.timeouts = 10
    yield Harness(
        idv=fake,
        sessions=lambda: [(sid, tenant) for sid, tenant, _ in fake.sessions],
        timing_out=slow,
        attempts=lambda: 10 - slow.timeouts,
    )


def _veriff(monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    monkeypatch.setenv("VERIFF_KEY", API_KEY)
    monkeypatch.setenv("VERIFF_SECRET", SHARED_SECRET)
    station, dropped = Station(), []

    def never(request: httpx.Request) -> httpx.Response:
        dropped.append(request)
        raise httpx.ReadTimeout("no answer", request=request)

    with respx.mock(assert_all_called=False) as mock:
        mock.post(SESSIONS).side_effect = station
        mock.post("https://slow.veriff.example/v1/sessions").side_effect = never
        refs = {"api_key": "env://VERIFF_KEY", "shared_secret": "env://VERIFF_SECRET"}
        yield Harness(
            idv=VeriffIdentityVerification(**refs),
            sessions=station.sessions,
            timing_out=VeriffIdentityVerification(**refs, api_base="https://slow.veriff.example"),
            attempts=lambda: len(dropped),
        )


HARNESSES: dict[str, Callable[..., Iterator[Harness]]] = {
    "fake": lambda _mp: _fake(),
    "veriff": _veriff,
}


@pytest.fixture(params=list(HARNESSES))
def harness(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    yield from HARNESSES[request.param](monkeypatch)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_idv_contract(harness: Harness, check: Callable[[Harness], None]) -> None:
    check(harness)
