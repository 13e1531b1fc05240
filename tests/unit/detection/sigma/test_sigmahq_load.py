"""The SigmaHQ identity and cloud-identity rules load as published, and known ones match real shapes.

The rules live in ``../shared/sigma/rules`` beside the repository (not copied into it). Outside CI a
checkout without them skips these tests; in CI (``CI=true``) their absence fails.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from sigma_events import make_event, okta

from deskguard.detection.sigma import LoadResult, load_rules, logsource_matches

REPO = next(parent for parent in Path(__file__).resolve().parents if (parent / "pyproject.toml").exists())
RULES = REPO.parent / "shared" / "sigma" / "rules"
FOLDERS = [RULES / "identity" / "okta", RULES / "cloud" / "azure", RULES / "cloud" / "gcp" / "gworkspace"]


@pytest.fixture(scope="module", autouse=True)
def _shared_rules() -> None:
    if not all(folder.is_dir() for folder in FOLDERS):
        if os.environ.get("CI") == "true":
            pytest.fail(f"the SigmaHQ rules are missing: {RULES}")
        pytest.skip(f"the SigmaHQ rules are not beside the repository ({RULES})")


@cache
def loaded() -> LoadResult:
    return load_rules(FOLDERS)


def rule_documents() -> int:
    count = 0
    for folder in FOLDERS:
        for path in sorted(folder.rglob("*.y*ml")):
            for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
                if isinstance(document, dict) and document.get("action") not in ("global", "reset"):
                    count += 1
    return count


def test_every_rule_is_loaded_or_reported_with_a_reason(record_property: pytest.RecordProperty) -> None:
    result = loaded()
    reasons = Counter(item.reason for item in result.unsupported)
    summary = {
        "documents": rule_documents(),
        "loaded": len(result.rules),
        "correlations": len(result.correlations),
        "unsupported": len(result.unsupported),
        "dispatched": sum(rule.dispatch is not None for rule in result.rules),
        "reasons": dict(reasons),
    }
    print("SigmaHQ:", json.dumps(summary))
    record_property("sigmahq", json.dumps(summary))
    assert summary["loaded"] + summary["correlations"] + summary["unsupported"] == summary["documents"]
    assert all(item.reason and item.path for item in result.unsupported)
    assert summary["loaded"] >= 140  # 154 at SigmaHQ 8eaafff, all supported


def test_okta_mfa_reset_or_deactivated() -> None:
    rule = loaded().rule("50e068d7-1e6b-4054-87e5-0a592c40c7e0")
    assert rule.title == "Okta MFA Reset or Deactivated" and rule.path.endswith(
        "okta_mfa_reset_or_deactivated.yml"
    )
    deactivate = okta("user.mfa.factor.deactivate")
    assert logsource_matches(rule.logsource, deactivate)
    assert rule.predicate(deactivate)
    assert rule.predicate(okta("user.mfa.factor.reset_all"))
    assert not rule.predicate(okta("user.session.start"))
    assert rule.dispatch is not None and "user.mfa.factor.deactivate" in rule.dispatch
    assert rule.attack == ("T1556.006",)


def test_okta_password_in_alternate_id() -> None:
    rule = loaded().rule("Potential Okta Password in AlternateID Field")
    event = okta("user.session.start", legacyEventType="core.user_auth.login_failed")
    event.raw["actor"]["alternateId"] = "Summer2026!"
    assert rule.predicate(event)
    event.raw["actor"]["alternateId"] = "jane@acme.com"
    assert not rule.predicate(event)


def test_entra_temporary_access_pass_added() -> None:
    rule = loaded().rule("fa84aaf5-8142-43cd-9ec2-78cfebf878ce")
    record = {
        "operationName": "Admin registered security info",
        "category": "UserManagement",
        "properties": {"message": "Admin registered security info"},
        "Status": "Admin registered temporary access pass method for user",
    }
    event = make_event(record, product="azure", service="auditlogs", source="entra")
    assert logsource_matches(rule.logsource, event)
    assert rule.predicate(event)
    record["Status"] = "Admin registered phone method for user"
    assert not rule.predicate(event)


def test_entra_mfa_disabled_reads_through_nested_lists() -> None:
    rule = loaded().rule("b18454c8-0be3-41f7-86bc-9c614611b839")
    record = {
        "LoggedByService": "Core Directory",
        "Category": "UserManagement",
        "OperationName": "Update user",
        "TargetResources": [
            {
                "UserPrincipalName": "jane@acme.com",
                "ModifiedProperties": [
                    {"DisplayName": "StrongAuthenticationRequirement", "NewValue": '[{"State":0}]'},
                    {"DisplayName": "Included Updated Properties", "NewValue": "x"},
                ],
            }
        ],
    }
    event = make_event(record, product="azure", service="auditlogs", type="Update user")
    assert rule.predicate(event)
    record["TargetResources"][0]["ModifiedProperties"][0]["NewValue"] = '[{"State":1}]'
    assert not rule.predicate(event)


def test_entra_sign_in_from_an_unregistered_device_with_null_or_empty_trust() -> None:
    rule = loaded().rule("572b12d4-9062-11ed-a1eb-0242ac120002")
    base = {
        "Status": "Success",
        "AuthenticationRequirement": "singleFactorAuthentication",
        "RiskState": "atRisk",
    }
    for device in ({"trusttype": ""}, {"trusttype": None}, {}):
        event = make_event(base | {"DeviceDetail": device}, product="azure", service="signinlogs")
        assert rule.predicate(event), device
    trusted = make_event(base | {"DeviceDetail": {"trusttype": "Azure AD joined"}}, product="azure")
    assert not rule.predicate(trusted)


def test_azure_activity_keyword_rule() -> None:
    rule = loaded().rule("Granting Of Permissions To An Account")
    record = {"operationName": "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE", "resultType": "Success"}
    event = make_event(record, product="azure", service="activitylogs")
    assert rule.dispatch is None and rule.predicate(event)
    assert not rule.predicate(make_event({"operationName": "MICROSOFT.COMPUTE/DISKS/WRITE"}, product="azure"))


def test_google_workspace_mfa_disabled() -> None:
    rule = loaded().rule("780601d1-6376-4f2a-884e-b8d45599f78c")
    record = {
        "eventService": "admin.googleapis.com",
        "eventName": "ENFORCE_STRONG_AUTHENTICATION",
        "new_value": "false",
    }
    event = make_event(
        record, product="gcp", service="google_workspace.admin", source="gworkspace", type=record["eventName"]
    )
    assert logsource_matches(rule.logsource, event)
    assert rule.predicate(event) and event.type in rule.dispatch
    record["new_value"] = "true"
    assert not rule.predicate(event)


def test_no_rule_matches_an_empty_event_of_its_source() -> None:
    for rule in loaded().rules:
        product, service, _ = rule.logsource
        event = make_event({}, product=product or "", service=service or "")
        assert not rule.predicate(event), rule.title


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)
KEYS = [
    "eventType",
    "operationName",
    "OperationName",
    "properties",
    "Status",
    "TargetResources",
    "actor",
    "target",
]


@settings(max_examples=200, deadline=None)
@given(raw=st.dictionaries(st.sampled_from(KEYS), JSON, max_size=6))
def test_predicates_never_raise_on_odd_values(raw: dict) -> None:
    for rule in loaded().rules:
        product, service, _ = rule.logsource
        assert rule.predicate(make_event(raw, product=product or "", service=service or "")) in (True, False)
