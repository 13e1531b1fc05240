"""Per-tenant rule modes in the engine: off drops, monitor marks, on overrides the pack's monitor."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_detection_engine import CHAIN, RULES, content, okta

from deskguard.detection.pipeline import Pipeline


def _reset(pipeline: Pipeline, uuid: str, tenant: str, minute: int = 1) -> list[str]:
    alerts = pipeline.feed(
        okta(uuid, "user.mfa.factor.reset_all", minute, user=f"{uuid}@acme.example"), tenant=tenant
    )
    return [f"{a.rule_id}:{a.mode}" for a in alerts]


def test_off_and_monitor_apply_to_their_tenant_only(tmp_path: Path) -> None:
    pipeline = Pipeline(content(tmp_path, RULES))
    pipeline.engine.set_modes("tnt_a", {"Test.Okta.MfaReset": "off"})
    pipeline.engine.set_modes("tnt_b", {"Test.Okta.MfaReset": "monitor"})
    assert _reset(pipeline, "a", "tnt_a") == []
    assert _reset(pipeline, "b", "tnt_b") == ["Test.Okta.MfaReset:monitor"]
    assert _reset(pipeline, "c", "tnt_c") == ["Test.Okta.MfaReset:alert"]
    assert pipeline.engine.stats.disabled == 1
    pipeline.engine.set_modes("tnt_a", {})  # back to the pack's mode
    assert _reset(pipeline, "d", "tnt_a") == ["Test.Okta.MfaReset:alert"]


def test_on_overrides_the_pack_and_the_deployment_monitor_list(tmp_path: Path) -> None:
    pipeline = Pipeline(content(tmp_path, RULES), monitor={"Test.Okta.MfaReset"})
    assert _reset(pipeline, "a", "tnt_a") == ["Test.Okta.MfaReset:monitor"]
    pipeline.engine.set_modes("tnt_a", {"Test.Okta.MfaReset": "on", "Test.Okta.WatchedSignIn": "on"})
    assert _reset(pipeline, "b", "tnt_a") == ["Test.Okta.MfaReset:alert"]
    sign_in = okta("s", "user.session.start", 2, actor="watched@acme.example")
    sign_in["target"] = []
    (alert,) = pipeline.feed(sign_in, tenant="tnt_a")
    assert alert.rule_id == "Test.Okta.WatchedSignIn" and alert.mode == "alert"  # the pack says monitor


@pytest.mark.parametrize(
    ("modes", "chained"),
    [({"Test.Chain.Reset": "off"}, 1), ({"Test.Chain.ResetThenFactor": "off"}, 0), ({}, 1)],
)
def test_a_rule_off_still_feeds_the_correlations_built_on_it(
    tmp_path: Path, modes: dict[str, str], chained: int
) -> None:
    pipeline = Pipeline(content(tmp_path, CHAIN))
    pipeline.engine.set_modes("tnt_a", modes)
    pipeline.feed(okta("r", "user.account.reset_password", 1), tenant="tnt_a")
    raised = pipeline.feed(
        okta("f", "user.mfa.factor.activate", 5, actor="jane@acme.example"), tenant="tnt_a"
    )
    assert len([a for a in raised if a.rule_id == "Test.Chain.ResetThenFactor"]) == chained
