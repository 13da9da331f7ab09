"""Train the crisis backstop model on the dev part of the corpus, reproducibly.

    .venv/bin/python -m service.understanding.train

Writes ``service/data/understanding/crisis_model.json``. The model only
speaks when the reviewed patterns find nothing, so its threshold is chosen
from out-of-fold probabilities on the dev texts the patterns miss: the
lowest one that reads at most MAX_FALSE_RATE of the dev texts that are not
crises as one. The folds are the corpus parts: each part's texts are scored
by a model trained on the other parts, so the threshold is set on voices the
model has not read, as a new peer's will be. Retrain after changing crisis.txt.
The held-out part is never read here. Needs scikit-learn (a test dependency).
"""

from __future__ import annotations

import json

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict

from service.understanding.corpus import CRISIS_CLASS, load
from service.understanding.model import MODEL_FILE, features, scale
from service.understanding.normalise import normalise
from service.understanding.safety import model_view, pattern_level

MAX_FALSE_RATE = 0.01
# Chosen by leave-one-part-out recall at 1-3% false crises on the dev part.
REGULARISATION = 30.0


def dataset() -> tuple[list[dict[str, float]], np.ndarray, np.ndarray, list[str]]:
    """Feature rows, crisis labels, whether the patterns already catch each text,
    and the part each comes from."""
    examples = load("dev")
    texts = [normalise(e.text) for e in examples]
    found = [features(model_view(text)) for text in texts]
    rows = [dict.fromkeys(names, scale(len(names))) for names in found]
    labels = np.array([e.label in CRISIS_CLASS for e in examples], dtype=int)
    by_patterns = np.array([pattern_level(text) is not None for text in texts])
    return rows, labels, by_patterns, [e.part for e in examples]


def classifier() -> LogisticRegression:
    return LogisticRegression(C=REGULARISATION, max_iter=2000, class_weight="balanced")


def threshold(probabilities: np.ndarray, labels: np.ndarray, by_patterns: np.ndarray) -> float:
    """The lowest threshold whose out-of-fold false-positive rate stays under the bar,
    counting only texts the patterns leave to the model."""
    negatives = np.sort(probabilities[(labels == 0) & ~by_patterns])[::-1]
    allowed = int(MAX_FALSE_RATE * int(np.sum(labels == 0)))
    return float(negatives[min(allowed, len(negatives) - 1)]) + 1e-6


def train() -> dict:
    rows, labels, by_patterns, parts = dataset()
    vectorizer = DictVectorizer()
    matrix = vectorizer.fit_transform(rows)
    folds = LeaveOneGroupOut()
    out_of_fold = cross_val_predict(
        classifier(), matrix, labels, cv=folds, groups=parts, method="predict_proba"
    )
    model = classifier().fit(matrix, labels)
    names = vectorizer.get_feature_names_out()
    weights = {
        str(name): round(float(weight), 5)
        for name, weight in zip(names, model.coef_[0], strict=True)
        if abs(weight) >= 1e-4
    }
    cut = threshold(out_of_fold[:, 1], labels, by_patterns)
    left = (labels == 1) & ~by_patterns
    caught = float(np.mean(out_of_fold[left, 1] >= cut)) if left.any() else 1.0
    return {
        "about": "service/understanding/model.py; trained by python -m service.understanding.train",
        "intercept": round(float(model.intercept_[0]), 5),
        "threshold": round(cut, 5),
        "out_of_fold_share_of_pattern_misses_caught": round(caught, 4),
        "weights": dict(sorted(weights.items())),
    }


def main() -> None:
    model = train()
    MODEL_FILE.write_text(json.dumps(model, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    print(
        f"wrote {MODEL_FILE.name}: {len(model['weights'])} weights, threshold "
        f"{model['threshold']}, share of the patterns' misses caught out of fold "
        f"{model['out_of_fold_share_of_pattern_misses_caught']}"
    )


if __name__ == "__main__":
    main()
