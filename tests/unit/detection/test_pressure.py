"""The pressure model: its cues, its held-out figures on templates it never saw, its shipped weights."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from deskguard.detection.pressure import (
    PressureModel,
    cue_hits,
    f1,
    features,
    fold,
    load_corpus,
    split,
    train,
)

ROOT = Path(__file__).resolve().parents[3] / "content"
CORPUS = load_corpus(ROOT / "corpus" / "pressure.yml")
SHIPPED = PressureModel.load(ROOT / "models" / "pressure.json")


def test_folding_and_negated_cues() -> None:
    assert fold("Dépêchez-vous, c'est URGENT !") == "depechez vous c est urgent"
    assert ("urgency", "urgent") in cue_hits(fold("c'est urgent"))
    assert cue_hits(fold("rien d'urgent, nothing urgent")) == []  # a negation just before cancels
    assert features("do not call me back")["cue:callback_refusal"] == 1.0


def test_splits_never_share_a_template_and_hold_out_every_cue_in_both_languages() -> None:
    training, held_out = split(CORPUS)
    assert {s.template for s in training}.isdisjoint({s.template for s in held_out})
    assert {(s.lang, s.cue) for s in held_out if s.label} == {(s.lang, s.cue) for s in CORPUS if s.label}
    assert {s.label for s in held_out} == {0, 1}  # each held-out pressure template brings its benign twin


def test_the_shipped_model_meets_its_target_on_held_out_templates() -> None:
    _, held_out = split(CORPUS)
    figures = f1(SHIPPED, held_out)
    assert figures["f1"] >= 0.85, figures


def test_the_shipped_model_is_what_training_gives() -> None:
    training, _ = split(CORPUS)
    assert train(training) == SHIPPED, "content/models/pressure.json is stale: run deskguard text train"


def test_every_pressure_template_scores_above_its_benign_twin() -> None:
    pairs: dict[str, dict[int, list[float]]] = {}
    for sample in CORPUS:
        pairs.setdefault(sample.pair, {0: [], 1: []})[sample.label].append(
            SHIPPED.score(sample.text).probability
        )
    for pair, scores in pairs.items():
        assert min(scores[1]) > max(scores[0]), (pair, scores)


def test_a_score_says_which_phrases_weighed() -> None:
    score = SHIPPED.score("Please hurry, I am calling on behalf of the CEO, do not call me back")
    assert score.pressured and score.weighed and "cue:" in score.explanation()
    assert any(c.startswith("callback_refusal") for c in score.cues)


@given(st.text(max_size=300))
def test_any_text_scores_between_0_and_1(text: str) -> None:
    assert 0.0 <= SHIPPED.score(text).probability <= 1.0
