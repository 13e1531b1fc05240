"""The ``ResponseNotifier`` contract (``notifier_contract``) for the fake and every real adapter:
SMTP against a real aiosmtpd server; webhooks, Slack and Teams against respx fixtures that follow
each vendor's published request and answer shapes."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from email.message import Message
from pathlib import Path

import httpx
import pytest
import respx
from notifier_contract import CHECKS, Arrived, Harness

from deskguard.adapters.channels.fake import FakeResponseNotifier
from deskguard.adapters.channels.slack import API as SLACK_API
from deskguard.adapters.channels.slack import SlackNotifier, SlackSettings
from deskguard.adapters.channels.smtp import SmtpNotifier, SmtpSettings
from deskguard.adapters.channels.teams import TeamsNotifier, TeamsSettings
from deskguard.adapters.channels.webhooks import WebhookNotifier, WebhookSettings, verify
from deskguard.adapters.system import SeededRandomness
from smtp_server import PASSWORD, USER, silent_server, smtp_server

WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"contract-webhook-key-32-bytes!!!").decode()
TEAMS_HOOK = "https://prod-01.westeurope.logic.azure.com/workflows/w/triggers/manual/paths/invoke?sig=S"


class Far:
    """A respx far end: records what it accepted; refuses once when asked."""

    def __init__(
        self, accept: Callable[[httpx.Request, int], httpx.Response], refuse: httpx.Response
    ) -> None:
        self.accepted: list[httpx.Request] = []
        self.refusing = False
        self._accept, self._refuse = accept, refuse

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.refusing:
            self.refusing = False
            return self._refuse
        self.accepted.append(request)
        return self._accept(request, len(self.accepted))

    def refuse_next(self) -> None:
        self.refusing = True


def _fake(stack: ExitStack, tmp_path: Path) -> Harness:
    fake = FakeResponseNotifier(randomness=SeededRandomness(1))
    slow = FakeResponseNotifier(randomness=SeededRandomness(2))
    slow.timeouts = 10

    def refuse() -> None:
        fake.fail_next = "channel_not_found"

    return Harness(
        notifier=fake,
        channel="slack",
        to="#soc",
        arrived=lambda: [Arrived(s.to, s.subject, s.text) for s in fake.sent],
        refuse_next=refuse,
        timing_out=slow,
        exclusive=False,
    )


def _smtp(stack: ExitStack, tmp_path: Path) -> Harness:
    server = stack.enter_context(smtp_server(tmp_path))
    silent = stack.enter_context(silent_server())
    mp = stack.enter_context(pytest.MonkeyPatch.context())
    mp.setenv("DG_CONTRACT_SMTP_PASSWORD", PASSWORD)

    def notifier(port: int, timeout_s: float) -> SmtpNotifier:
        settings = SmtpSettings(
            host="127.0.0.1",
            port=port,
            sender="deskguard@example.org",
            username=USER,
            password="env://DG_CONTRACT_SMTP_PASSWORD",
            ca_file=server.ca_file,
            timeout_s=timeout_s,
        )
        return SmtpNotifier(settings)

    def arrived() -> list[Arrived]:
        def one(m: Message) -> Arrived:
            body = m.get_payload(decode=True).decode().replace("\r\n", "\n").strip()
            return Arrived(str(m["To"]), str(m["Subject"]), body)

        return [one(m) for _, m in server.mailbox.messages]

    def refuse() -> None:
        server.mailbox.refuse_next = "550 5.1.1 mailbox unavailable"

    return Harness(
        notifier=notifier(server.port, 5.0),
        channel="email",
        to="soc@example.org",
        arrived=arrived,
        refuse_next=refuse,
        timing_out=notifier(silent, 0.3),
    )


def _router(stack: ExitStack) -> respx.MockRouter:
    return stack.enter_context(respx.mock(assert_all_called=False))


def _webhook(stack: ExitStack, tmp_path: Path) -> Harness:
    router, mp = _router(stack), stack.enter_context(pytest.MonkeyPatch.context())
    mp.setenv("DG_CONTRACT_WEBHOOK_SECRET", WEBHOOK_SECRET)
    far = Far(lambda r, n: httpx.Response(204), httpx.Response(400, json={"error": "unknown receiver"}))
    router.post("https://soar.example.org/in").mock(side_effect=far)
    router.post("https://slow.example.org/in").mock(side_effect=httpx.ReadTimeout("slow"))

    def notifier(url: str) -> WebhookNotifier:
        settings = WebhookSettings(url=url, secret="env://DG_CONTRACT_WEBHOOK_SECRET")
        return WebhookNotifier(settings, client=httpx.Client(), sleep=lambda s: None)

    def arrived() -> list[Arrived]:
        out = []
        for r in far.accepted:
            verify(
                WEBHOOK_SECRET,
                headers=dict(r.headers),
                body=r.content,
                now=float(r.headers["webhook-timestamp"]),
            )
            data = json.loads(r.content)["data"]
            out.append(Arrived(data["to"], data["subject"], data["text"]))
        return out

    return Harness(
        notifier=notifier("https://soar.example.org/in"),
        channel="webhook",
        to="soar",
        arrived=arrived,
        refuse_next=far.refuse_next,
        timing_out=notifier("https://slow.example.org/in"),
    )


def _slack(stack: ExitStack, tmp_path: Path) -> Harness:
    router, mp = _router(stack), stack.enter_context(pytest.MonkeyPatch.context())
    mp.setenv("DG_CONTRACT_SLACK_TOKEN", "xoxb-contract")
    far = Far(
        lambda r, n: httpx.Response(200, json={"ok": True, "channel": "C0SOC", "ts": f"1700000000.{n:06d}"}),
        httpx.Response(200, json={"ok": False, "error": "not_in_channel"}),
    )
    router.post(SLACK_API).mock(side_effect=far)
    router.post("https://slow.slack.test/api/chat.postMessage").mock(side_effect=httpx.ConnectTimeout("slow"))

    def notifier(url: str) -> SlackNotifier:
        return SlackNotifier(
            SlackSettings(bot_token="env://DG_CONTRACT_SLACK_TOKEN", api_url=url), client=httpx.Client()
        )

    def arrived() -> list[Arrived]:
        out = []
        for r in far.accepted:
            body = json.loads(r.content)
            header, section = body["blocks"][0]["text"]["text"], body["blocks"][1]["text"]["text"]
            out.append(Arrived(body["channel"], header, section))
        return out

    return Harness(
        notifier=notifier(SLACK_API),
        channel="slack",
        to="#soc",
        arrived=arrived,
        refuse_next=far.refuse_next,
        timing_out=notifier("https://slow.slack.test/api/chat.postMessage"),
    )


def _teams(stack: ExitStack, tmp_path: Path) -> Harness:
    router, mp = _router(stack), stack.enter_context(pytest.MonkeyPatch.context())
    mp.setenv("DG_CONTRACT_TEAMS_URL", TEAMS_HOOK)
    mp.setenv("DG_CONTRACT_TEAMS_SLOW", "https://slow.logic.azure.test/invoke?sig=S")
    far = Far(
        lambda r, n: httpx.Response(202), httpx.Response(400, json={"error": {"message": "flow disabled"}})
    )
    router.post(TEAMS_HOOK).mock(side_effect=far)
    router.post("https://slow.logic.azure.test/invoke").mock(side_effect=httpx.ReadTimeout("slow"))

    def notifier(env: str) -> TeamsNotifier:
        settings = TeamsSettings(
            webhook_url=f"env://{env}", approval_base_url="https://deskguard.example.org"
        )
        return TeamsNotifier(settings, client=httpx.Client())

    def arrived() -> list[Arrived]:
        out = []
        for r in far.accepted:
            body = json.loads(r.content)["attachments"][0]["content"]["body"]
            out.append(Arrived(body[2]["text"].removeprefix("For "), body[0]["text"], body[1]["text"]))
        return out

    return Harness(
        notifier=notifier("DG_CONTRACT_TEAMS_URL"),
        channel="teams",
        to="SOC on call",
        arrived=arrived,
        refuse_next=far.refuse_next,
        timing_out=notifier("DG_CONTRACT_TEAMS_SLOW"),
    )


HARNESSES = {"fake": _fake, "smtp": _smtp, "webhook": _webhook, "slack": _slack, "teams": _teams}


@pytest.fixture(params=list(HARNESSES))
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    with ExitStack() as stack:
        yield HARNESSES[request.param](stack, tmp_path)


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_response_notifier_contract(harness: Harness, check: Callable[[Harness], None]) -> None:
    check(harness)
