"""Social-engineering pressure in ticket text, call notes and transcripts (English and French).

Two kinds of features, both explainable: a **cue lexicon** (urgency, authority or VIP claims,
secrecy, requests to bypass the procedure, travel or lost-phone pretexts, refusal of a call-back),
whose phrases count unless a negation stands just before them ("nothing urgent", "rien d'urgent"),
and the text's **words and word pairs**. A logistic model trained on the shipped corpus
(``content/corpus/pressure.yml``, ``deskguard text train``) weighs them; its weights are a JSON
file read here, so scoring is pure Python and needs no ML library. A score says which phrases
weighed, with their weights.
"""

from __future__ import annotations

import json
import math
import random
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

LEXICON: dict[str, tuple[str, ...]] = {
    "urgency": (
        "right now",
        "immediately",
        "urgent",
        "hurry",
        "cannot wait",
        "in ten minutes",
        "in an hour",
        "asap",
        "tout de suite",
        "immediatement",
        "depechez",
        "dans l heure",
        "dans dix minutes",
        "vite",
    ),
    "authority": (
        "on behalf of",
        "who i am",
        "escalate",
        "your manager",
        "the ceo",
        "the cfo",
        "chairman",
        "de la part de",
        "a qui vous parlez",
        "votre responsable",
        "le pdg",
        "le president",
    ),
    "secrecy": (
        "between us",
        "do not tell",
        "dont tell",
        "confidential",
        "no need to log",
        "notify anyone",
        "gardez ca pour vous",
        "ne prevenez",
        "confidentiel",
        "pas besoin d ouvrir",
        "qui que ce soit",
    ),
    "bypass": (
        "skip the verification",
        "just this once",
        "takes too long",
        "forget the",
        "read me the",
        "over the phone",
        "sauter la verification",
        "pour cette fois",
        "trop longue",
        "oubliez",
        "lisez moi",
        "au telephone",
    ),
    "pretext": (
        "lost my phone",
        "stolen",
        "new sim",
        "travelling",
        "airport",
        "instead of the one",
        "perdu mon telephone",
        "vole",
        "nouvelle carte sim",
        "en deplacement",
        "aeroport",
        "plutot qu a l ancien",
    ),
    "callback_refusal": (
        "do not call me back",
        "dont call",
        "no point calling",
        "does not work anymore",
        "trust me",
        "ne me rappelez pas",
        "inutile d appeler",
        "ne marche plus",
        "faire confiance",
        "est coupe",
    ),
}
NEGATIONS = frozenset({"nothing", "not", "no", "never", "rien", "pas", "aucun", "aucune", "sans"})
_WORD = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lower case, accents removed, punctuation as spaces: ``Dépêchez-vous !`` -> ``depechez vous``."""
    stripped = unicodedata.normalize("NFKD", text.lower())
    return " ".join(_WORD.findall("".join(ch for ch in stripped if not unicodedata.combining(ch))))


def cue_hits(folded: str) -> list[tuple[str, str]]:
    """(cue, phrase) for each lexicon phrase in the text that no negation just before cancels."""
    padded = " " + folded + " "
    hits = []
    for cue, phrases in LEXICON.items():
        for phrase in phrases:
            at = padded.find(" " + phrase + " ")
            if at < 0:
                continue
            before = padded[:at].split()[-2:]
            if not NEGATIONS & set(before):
                hits.append((cue, phrase))
    return hits


def features(text: str) -> dict[str, float]:
    folded = fold(text)
    words = folded.split()
    out: dict[str, float] = {}
    for cue, _ in cue_hits(folded):
        out[f"cue:{cue}"] = out.get(f"cue:{cue}", 0.0) + 1.0
    for word in words:
        out[f"w:{word}"] = 1.0
    for first, second in zip(words, words[1:], strict=False):
        out[f"b:{first} {second}"] = 1.0
    return out


@dataclass(frozen=True, slots=True)
class PressureScore:
    probability: float
    pressured: bool
    cues: tuple[str, ...]  # the lexicon cues found ("urgency: right now")
    weighed: tuple[tuple[str, float], ...]  # the features that weighed most, with their weights

    def explanation(self) -> str:
        if not self.weighed:
            return f"pressure {self.probability:.2f}: no phrase weighed towards pressure"
        parts = ", ".join(f"{name} ({weight:+.2f})" for name, weight in self.weighed)
        return f"pressure {self.probability:.2f}: {parts}"


@dataclass(frozen=True, slots=True)
class PressureModel:
    bias: float
    weights: dict[str, float]
    threshold: float = 0.5

    def score(self, text: str, *, top: int = 4) -> PressureScore:
        feats = features(text)
        contributions = [
            (name, self.weights[name] * value) for name, value in feats.items() if name in self.weights
        ]
        z = self.bias + sum(c for _, c in contributions)
        probability = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
        weighed = tuple(sorted((c for c in contributions if c[1] > 0), key=lambda c: -c[1])[:top])
        cues = tuple(f"{cue}: {phrase}" for cue, phrase in cue_hits(fold(text)))
        return PressureScore(probability, probability >= self.threshold, cues, weighed)

    def to_json(self) -> str:
        body = {"bias": self.bias, "threshold": self.threshold, "weights": dict(sorted(self.weights.items()))}
        return json.dumps(body, indent=1, ensure_ascii=False) + "\n"

    @classmethod
    def load(cls, path: Path) -> PressureModel:
        body = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            bias=float(body["bias"]),
            weights={k: float(v) for k, v in body["weights"].items()},
            threshold=float(body.get("threshold", 0.5)),
        )


# -- the corpus ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    template: str  # the template id
    pair: str  # the pressure template's id, shared by its benign twin
    lang: str
    cue: str  # a LEXICON key, or "benign"
    text: str

    @property
    def label(self) -> int:
        return 0 if self.cue == "benign" else 1


def load_corpus(path: Path) -> list[Sample]:
    body: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    slots: dict[str, list[str]] = body["slots"]
    templates = body["templates"]
    twins = {t["twin"]: t["id"] for t in templates if t.get("twin")}
    samples = []
    for template in templates:
        pair = template["id"] if template["cue"] != "benign" else twins.get(template["id"], template["id"])
        names = re.findall(r"\{(\w+)\}", template["text"])
        values = slots[names[0]] if names else [""]
        for value in values:
            text = template["text"].replace("{" + names[0] + "}", value) if names else template["text"]
            samples.append(Sample(template["id"], pair, template["lang"], template["cue"], text))
    return samples


def train(samples: Iterable[Sample], *, c: float = 1.0) -> PressureModel:
    """A logistic model on the samples' features (scikit-learn, needed only to train)."""
    from sklearn.feature_extraction import DictVectorizer  # noqa: PLC0415 - training only
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    samples = list(samples)
    vectorizer = DictVectorizer(sparse=False)  # a few hundred texts: dense is simplest
    matrix = vectorizer.fit_transform([features(s.text) for s in samples])
    model = LogisticRegression(C=c, solver="liblinear", random_state=0)
    model.fit(matrix, [s.label for s in samples])
    names = vectorizer.get_feature_names_out()
    weights = {
        str(n): round(float(w), 4) for n, w in zip(names, model.coef_[0], strict=True) if abs(w) >= 1e-3
    }
    return PressureModel(bias=round(float(model.intercept_[0]), 4), weights=weights)


def split(samples: Iterable[Sample], *, seed: int = 4) -> tuple[list[Sample], list[Sample]]:
    """Train and held-out test: for each language and cue, one template pair is held out whole."""
    samples = list(samples)
    pairs: dict[tuple[str, str], set[str]] = {}
    for sample in samples:
        if sample.label:
            pairs.setdefault((sample.lang, sample.cue), set()).add(sample.pair)
    rng = random.Random(seed)
    held = {rng.choice(sorted(group)) for group in pairs.values()}
    return [s for s in samples if s.pair not in held], [s for s in samples if s.pair in held]


def f1(model: PressureModel, samples: Iterable[Sample]) -> dict[str, float]:
    tp = fp = fn = 0
    for sample in samples:
        predicted = model.score(sample.text).pressured
        tp += predicted and sample.label == 1
        fp += predicted and sample.label == 0
        fn += (not predicted) and sample.label == 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    score = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(score, 3)}
