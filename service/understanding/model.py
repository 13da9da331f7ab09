"""A small statistical backstop for crisis language, next to the reviewed patterns.

The patterns of ``data/understanding/crisis.txt`` decide first. When they find
nothing, this linear model (logistic regression over word and letter n-grams
of the reader form, each text's features scaled by the square root of how
many it has, so a long message is not a crisis just for having many words;
a short one is scaled as if it had SHORTEST features, so a single "y" cannot
weigh as much as a sentence) may still find the text
*possibly* a crisis, so wording
nobody wrote a pattern for gets the gentle crisis answer and an urgent flag
instead of a cheerful template. It never makes a text less of a crisis.

The weights are a data file, ``data/understanding/crisis_model.json``, trained
only on the ``dev`` part of the labelled corpus by one command
(``python -m service.understanding.train``); nothing is loaded from outside at
run time and scoring needs no machine-learning library.
"""

from __future__ import annotations

import json
import math
from functools import cache
from itertools import pairwise

from service.understanding.normalise import DATA_DIR

MODEL_FILE = DATA_DIR / "crisis_model.json"
SHORTEST = 12  # chosen with the regularisation in train.py, by leave-one-part-out recall


def scale(count: int) -> float:
    """What each present feature counts for in a text that has ``count`` of them."""
    return 1.0 / math.sqrt(max(count, SHORTEST))


def features(text: str) -> set[str]:
    """Words, word pairs, and four-letter pieces of words (for misspellings)."""
    tokens = text.split()
    found = {f"w:{token}" for token in tokens}
    found |= {f"b:{a} {b}" for a, b in pairwise(tokens)}
    for token in tokens:
        padded = f"<{token}>"
        found |= {f"c:{padded[i : i + 4]}" for i in range(max(1, len(padded) - 3))}
    return found


@cache
def weights() -> tuple[float, float, dict[str, float]]:
    """(intercept, threshold, weight per feature); a missing file means no model."""
    if not MODEL_FILE.exists():
        return 0.0, 2.0, {}
    model = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    return model["intercept"], model["threshold"], model["weights"]


def crisis_probability(text: str) -> float:
    """The model's probability that a reader-form text is crisis language."""
    intercept, _, coefficients = weights()
    if not coefficients:
        return 0.0
    found = features(text)
    score = intercept + scale(len(found)) * sum(coefficients.get(f, 0.0) for f in found)
    return 1.0 / (1.0 + math.exp(-max(min(score, 30.0), -30.0)))


def possibly_crisis(text: str) -> bool:
    """True when the model's probability reaches the threshold chosen at training."""
    return crisis_probability(text) >= weights()[1]
