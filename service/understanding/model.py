"""Small statistical backstops, next to the reviewed patterns, that can only ask.

The patterns decide first. When they find nothing, a linear model (logistic
regression over word and letter n-grams of the reader form, each text's
features scaled by the square root of how many it has, so a long message does
not score high just for having many words; a short one is scaled as if it had
SHORTEST features, so a single "y" cannot weigh as much as a sentence) may
still give a careful reading, for wording nobody wrote a pattern for:

- ``crisis``: *possibly* a crisis, so the text gets the gentle crisis answer
  and an urgent flag instead of a cheerful template. It never makes a text
  less of a crisis.
- ``opt_out``: *possibly* a request to stop the texts. Only ever an unclear
  opt-out: automated texts are held and the peer is asked, never opted out.
  It also doubts: a clear opt-out the patterns found in a longer text whose
  every sentence reads unlike the opt-outs it was trained on ("told my boss to
  take me off the schedule saturday") is held and asked about, not opted out.
- ``help`` and ``goals``: a question about the service or about their goals,
  answered with the HELP or GOALS text instead of waiting for the specialist.

Each model is a data file, ``data/understanding/<name>_model.json``, trained
only on the ``dev`` part of the labelled corpus by one command
(``python -m service.understanding.train``); nothing is loaded from outside at
run time and scoring needs no machine-learning library.
"""

from __future__ import annotations

import json
import math
from functools import cache
from itertools import pairwise
from pathlib import Path

from service.understanding.normalise import DATA_DIR

MODELS = ("crisis", "opt_out", "help", "goals")
SHORTEST = 12  # chosen with the regularisation in train.py, by leave-one-part-out recall


def model_file(name: str) -> Path:
    return DATA_DIR / f"{name}_model.json"


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
def stored(name: str) -> dict:
    """A model's data file, read once; a missing file means no model (it never speaks
    and never doubts)."""
    path = model_file(name)
    if not path.exists():
        return {"intercept": 0.0, "threshold": 2.0, "weights": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def weights(name: str) -> tuple[float, float, dict[str, float]]:
    """(intercept, threshold, weight per feature)."""
    model = stored(name)
    return model["intercept"], model["threshold"], model["weights"]


def probability(name: str, found: set[str]) -> float:
    """The model's probability that a text with these :func:`features` is what it looks
    for (a text's features are worked out once, whichever models read it)."""
    intercept, _, coefficients = weights(name)
    if not coefficients:
        return 0.0
    score = intercept + scale(len(found)) * sum(coefficients.get(f, 0.0) for f in found)
    return 1.0 / (1.0 + math.exp(-max(min(score, 30.0), -30.0)))


def speaks(name: str, found: set[str]) -> bool:
    """True when the model's probability reaches the threshold chosen at training."""
    return probability(name, found) >= threshold(name)


def threshold(name: str) -> float:
    """The probability at which the model speaks, chosen at training."""
    return weights(name)[1]


def doubt(name: str) -> float:
    """The probability under which the model doubts what the patterns read clearly (0.0:
    it never does), chosen at training."""
    return float(stored(name).get("doubt", 0.0))
