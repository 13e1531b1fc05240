"""The ARI event stream end to end: the broker starts an automated call-back through Asterisk ARI,
the worker (``workers/ari_events.py``) holds the events WebSocket of the fake ARI server
(``fake_ari``: a real WebSocket, ARI's event JSON), and the proof settles in storage — on SQLite
and PostgreSQL — exactly as the telephony webhook would settle it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from fake_ari import FakeAri, fake_ari
from test_telephony_contract import ari

from deskguard.adapters.connectors.retry import Backoff
from deskguard.app import requests, verification
from deskguard.app.context import AppContext
from deskguard.app.requests import RequestDraft
from deskguard.bootstrap_routing import TenantAdapters, TenantTelephony
from deskguard.domain.requests import Proof, ProofStatus
from deskguard.workers.ari_events import AriEvents
from world import World, build_world

FAST = Backoff(base_s=0.02, cap_s=0.1)


def eventually(check: Callable[[], Any], *, timeout: float = 5.0) -> Any:
    """The first truthy ``check()`` within ``timeout`` (the worker runs in its own thread)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"not true within {timeout} s: {check.__doc__ or check}")


class Desk:
    def __init__(self, world: World, ctx: AppContext, far: FakeAri, worker: AriEvents) -> None:
        self.world, self.ctx, self.far, self.worker = world, ctx, far, worker

    def call(self) -> Proof:
        """An automated call-back of ``plain``'s reset request: the call is placed through ARI."""
        agent = self.world.operator("agent")
        request = requests.open_request(
            self.ctx, actor=agent, tenant_id="t_a", draft=RequestDraft(kind="reset_mfa", person_id="plain")
        )
        return verification.start_proof(
            self.ctx, actor=agent, tenant_id="t_a", request_id=request.id, method="callback_automated"
        )

    def spoken_code(self, channel_id: str) -> str:
        """The code ARI was asked to play on the channel (``media=digits:<code>``)."""

        def played() -> str:
            for method, path, query in self.far.requests:
                if (method, path) == ("POST", f"/ari/channels/{channel_id}/play"):
                    return query["media"][0].removeprefix("digits:")
            return ""

        return eventually(played)

    def status(self, proof: Proof) -> ProofStatus:
        with self.ctx.reads() as uow:
            found = uow.proofs.get(tenant_id="t_a", proof_id=proof.id)
        assert found is not None
        return found.status

    def settles(self, proof: Proof, status: ProofStatus) -> None:
        eventually(lambda: self.status(proof) == status)
        assert self.status(proof) == status


@pytest.fixture
def desk(uow_factory: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    world = build_world(uow_factory)
    with fake_ari() as far:
        telephony = ari(far.url, monkeypatch)
        ctx = replace(world.ctx, channels=replace(world.ctx.channels, telephony=telephony))
        worker = AriEvents(ctx, telephony, backoff=FAST)
        worker.start()
        far.wait_connected(1)
        try:
            yield Desk(world, ctx, far, worker)
        finally:
            worker.stop()


def test_the_right_digits_make_the_proof_succeed(desk: Desk) -> None:
    proof = desk.call()
    cid = proof.challenge["call_id"]
    assert desk.far.apps == ["deskguard"]
    desk.far.pick_up(cid, args=[proof.id])
    desk.far.press(cid, desk.spoken_code(cid))
    desk.settles(proof, ProofStatus.SUCCEEDED)
    assert ("DELETE", f"/ari/channels/{cid}") in [(m, p) for m, p, _ in desk.far.requests]


def test_wrong_digits_fail_the_proof(desk: Desk) -> None:
    proof = desk.call()
    cid = proof.challenge["call_id"]
    desk.far.pick_up(cid, args=[proof.id])
    code = desk.spoken_code(cid)
    desk.far.press(cid, code[:-1] + str((int(code[-1]) + 1) % 10))
    desk.settles(proof, ProofStatus.FAILED)


def test_a_hang_up_fails_the_proof(desk: Desk) -> None:
    proof = desk.call()
    cid = proof.challenge["call_id"]
    desk.far.pick_up(cid, args=[proof.id])
    desk.spoken_code(cid)
    desk.far.hang_up(cid)
    desk.settles(proof, ProofStatus.FAILED)


def test_a_dropped_websocket_mid_call_is_survived(desk: Desk) -> None:
    proof = desk.call()
    cid = proof.challenge["call_id"]
    desk.far.pick_up(cid, args=[proof.id])
    code = desk.spoken_code(cid)
    desk.far.press(cid, code[0])
    eventually(lambda: desk.worker.connections == 1)
    desk.far.drop()
    desk.far.wait_connected(2)  # the worker connected again, after its back-off
    assert desk.status(proof) == ProofStatus.PENDING  # the call is still up: nothing settled yet
    desk.far.press(cid, code[1:])
    desk.settles(proof, ProofStatus.SUCCEEDED)


def test_a_hang_up_missed_while_disconnected_fails_the_proof_on_reconnection(desk: Desk) -> None:
    proof = desk.call()
    cid = proof.challenge["call_id"]
    desk.far.pick_up(cid, args=[proof.id])
    desk.spoken_code(cid)
    desk.far.unavailable = True  # Asterisk restarting: reconnections are refused (503) for a while
    desk.far.drop()
    desk.far.hang_up(cid, announce=False)  # nobody was listening: ARI sends no event for it
    assert desk.status(proof) == ProofStatus.PENDING
    desk.far.unavailable = False
    desk.far.wait_connected(2)
    desk.settles(proof, ProofStatus.FAILED)  # GET /ari/channels/{id} answered 404: hung up
    assert ("GET", f"/ari/channels/{cid}") in [(m, p) for m, p, _ in desk.far.requests]


def test_events_of_other_channels_and_bad_frames_do_not_stop_the_stream(desk: Desk) -> None:
    proof = desk.call()
    cid = proof.challenge["call_id"]
    for connection in desk.far.ws.connections:  # type: ignore[union-attr]
        connection.send("not json")
        connection.send('["an", "array"]')
        connection.send('{"type": "StasisStart", "channel": {"id": "someone-else"}}')
    desk.far.pick_up(cid, args=[proof.id])
    desk.far.press(cid, desk.spoken_code(cid))
    desk.settles(proof, ProofStatus.SUCCEEDED)
    assert desk.worker.connections == 1  # the same connection throughout


def test_stop_closes_the_stream_promptly(desk: Desk) -> None:
    started = time.monotonic()
    desk.worker.stop()
    assert time.monotonic() - started < 2.0
    eventually(lambda: desk.far.connected() == 0)


def test_refused_credentials_are_retried_with_back_off_and_never_connect(
    uow_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(uow_factory)
    with fake_ari() as far:
        telephony = ari(far.url, monkeypatch)
        monkeypatch.setattr(telephony, "_auth", ("tester", "wrong"))
        worker = AriEvents(world.ctx, telephony, backoff=FAST)
        worker.start()
        try:
            eventually(lambda: worker._failures >= 3)  # three refused handshakes (401), backing off
            assert worker.connections == 0 and far.apps == []
        finally:
            worker.stop()


def test_serve_runs_the_stream_only_for_ari(desk: Desk) -> None:
    from types import SimpleNamespace

    from deskguard.cli.main import _ari_events

    assert _ari_events(SimpleNamespace(ctx=desk.world.ctx)) is None  # the fake telephony: no stream
    # as bootstrap wires it: the deployment's ARI behind the per-tenant routing
    adapters = TenantAdapters(reads=desk.ctx.reads, build=lambda row: None)
    routed = TenantTelephony(adapters, fallback=desk.ctx.channels.telephony)
    wired = replace(desk.ctx, channels=replace(desk.ctx.channels, telephony=routed))
    started = _ari_events(SimpleNamespace(ctx=wired))
    assert started is not None
    try:
        desk.far.wait_connected(2)  # the fixture's worker, then the one serve started
    finally:
        started.stop()
