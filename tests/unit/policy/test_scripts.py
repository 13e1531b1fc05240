"""The agent's scripts: both shipped languages complete; bad files named; situations from decisions."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskguard.domain.errors import PolicyError
from deskguard.policy.scripts import SITUATIONS, load_scripts, parse_scripts, situations_for

CONTENT = Path(__file__).parents[3] / "content" / "scripts"


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_shipped_scripts_cover_every_situation(lang: str) -> None:
    scripts = load_scripts(CONTENT / f"{lang}.yml")
    assert list(scripts) == list(SITUATIONS)
    assert "registered number" in load_scripts(CONTENT / "en.yml")["callback_required"].refusal


def test_french_is_not_english() -> None:
    en, fr = load_scripts(CONTENT / "en.yml"), load_scripts(CONTENT / "fr.yml")
    assert all(en[s].refusal != fr[s].refusal for s in SITUATIONS)


def test_bad_files_are_named() -> None:
    full = {s: {"title": "t", "say": "s", "refusal": "r"} for s in SITUATIONS}
    with pytest.raises(PolicyError, match=r"x.yml: unknown situation 'bogus'"):
        parse_scripts({**full, "bogus": {}}, source="x.yml")
    with pytest.raises(PolicyError, match="situation 'blocked' is missing"):
        parse_scripts({k: v for k, v in full.items() if k != "blocked"}, source="x.yml")
    with pytest.raises(PolicyError, match="push_required.refusal"):
        parse_scripts({**full, "push_required": {"title": "t", "say": "s", "refusal": " "}}, source="x.yml")
    with pytest.raises(PolicyError, match="must map"):
        parse_scripts(["a"], source="x.yml")


def test_situations_follow_the_decision() -> None:
    decision = {
        "blocked": False,
        "proofs_satisfied": False,
        "missing_proof_sets": [["callback_automated", "push_number_match"], ["self_service_initiated"]],
        "approvals": {"missing": 1},
        "trace": [
            {"rule": "outsourced-out-of-hours", "matched": True},
            {"rule": "elevated-risk", "matched": False},
        ],
    }
    assert situations_for(decision, privileged=True, phone_recent=False) == [
        "knowledge_does_not_count",
        "callback_required",
        "push_required",
        "approval_required",
        "out_of_hours",
        "privileged_account",
    ]
    done = {"blocked": True, "proofs_satisfied": True, "missing_proof_sets": [], "approvals": {"missing": 0}}
    assert situations_for(done, privileged=False, phone_recent=True) == [
        "blocked",
        "knowledge_does_not_count",
        "phone_recently_changed",
    ]
