"""The pressure-cue model: texts scored per second (one core) and its held-out figures, one JSON line.

`{"texts_per_s": ..., "precision": ..., "recall": ..., "f1": ..., "held_out_texts": ..., "train_texts": ...}`
The held-out texts come from templates the model never saw in training (``detection.pressure.split``).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from deskguard.detection.pressure import PressureModel, f1, load_corpus, split

ROOT = Path(__file__).resolve().parents[1] / "content"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    rounds = int(argv[0]) if argv else 20
    model = PressureModel.load(ROOT / "models" / "pressure.json")
    training, held_out = split(load_corpus(ROOT / "corpus" / "pressure.yml"))
    texts = [s.text for s in training + held_out]
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        for text in texts:
            model.score(text)
        rates.append(len(texts) / (time.perf_counter() - start))
    result = {
        "texts_per_s": round(statistics.median(rates)),
        **f1(model, held_out),
        "held_out_texts": len(held_out),
        "train_texts": len(training),
    }
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
