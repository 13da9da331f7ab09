"""The labelled corpus the reader is measured on, and how it is scored.

``tests/data/understanding/*.jsonl`` holds texts written for this project,
each with the intent it should get and the peer's state (consent, goals, the
question just asked). Every row is in the ``dev`` part (rules may be tuned
on it) or the ``heldout`` part (only scored, never used for tuning).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.understanding import Reading, read
from service.understanding.context import Context

CORPUS_DIR = Path(__file__).resolve().parents[2] / "tests" / "data" / "understanding"
CRISIS_CLASS = {"crisis", "possible_crisis"}
CHECK_INS = {"done", "not_yet", "rest", "mood"}
CHANGES = {"pause", "resume", "later", "time", "goals", "help", "opt_in", "fewer"}


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    language: str
    label: str
    number: int | None
    time: str | None
    context: Context
    split: str
    part: str  # the file it comes from: "street" for street.jsonl


def asked(state: dict[str, Any]) -> str | None:
    question = state.get("asked")
    if not question:
        return None
    if question.get("question") == "pause_number":
        return "number:pause:2"
    return f"{question['question']}:{question['for']}"


def load(split: str | None = "heldout", directory: Path = CORPUS_DIR) -> list[Example]:
    """The corpus rows of one part (or all of them with ``split=None``)."""
    examples = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if split is not None and row["split"] != split:
                continue
            state = row["state"]
            context = Context(
                language=row["lang"],
                consent=state.get("consent", "opted_in"),
                goals=tuple(state.get("goals") or ()),
                asked=asked(state),
            )
            fields = (row["id"], row["text"], row["lang"], row["label"], row.get("number"))
            examples.append(Example(*fields, row.get("time"), context, row["split"], path.stem))
    return examples


def predicted_class(reading: Reading) -> str:
    return "crisis" if reading.intent in CRISIS_CLASS else reading.intent


def expected_class(example: Example) -> str:
    return "crisis" if example.label in CRISIS_CLASS else example.label


def correct(example: Example, reading: Reading) -> bool:
    """Right intent, and the right mood score, time or pause length when the label has one."""
    if predicted_class(reading) != expected_class(example):
        return False
    if example.label == "mood" or (example.label == "time" and example.time):
        return (
            reading.number == example.number
            if example.label == "mood"
            else (reading.time == example.time)
        )
    return True


@dataclass
class Score:
    total: Counter[str] = field(default_factory=Counter)
    predicted: Counter[str] = field(default_factory=Counter)
    right: Counter[str] = field(default_factory=Counter)
    # Opt-out texts after which nothing automated goes out: opted out, or held and asked.
    stopped_or_held: int = 0
    misses: list[tuple[Example, Reading]] = field(default_factory=list)
    false_opt_outs: list[tuple[Example, Reading]] = field(default_factory=list)
    false_crises: list[tuple[Example, Reading]] = field(default_factory=list)

    def recall(self, label: str) -> float:
        return self.right[label] / self.total[label] if self.total[label] else 1.0

    def precision(self, label: str) -> float:
        return self.right[label] / self.predicted[label] if self.predicted[label] else 1.0

    def share_right(self, labels: Iterable[str]) -> float:
        labels = list(labels)
        total = sum(self.total[label] for label in labels)
        return sum(self.right[label] for label in labels) / total if total else 1.0

    def stopped_or_held_share(self) -> float:
        total = self.total["opt_out"]
        return self.stopped_or_held / total if total else 1.0

    def non_crisis_total(self) -> int:
        return sum(n for label, n in self.total.items() if label != "crisis")


def score(examples: Iterable[Example]) -> Score:
    """Per-class counts, and the misses that matter most kept for the report."""
    result = Score()
    for example in examples:
        reading = read(example.text, example.context)
        expected, predicted = expected_class(example), predicted_class(reading)
        result.total[expected] += 1
        result.predicted[predicted] += 1
        if correct(example, reading):
            result.right[expected] += 1
        else:
            result.misses.append((example, reading))
        if example.label == "opt_out" and (
            reading.intent in ("opt_out", "opt_out_unclear") or reading.also_opt_out
        ):
            result.stopped_or_held += 1
        if reading.intent == "opt_out" and example.label not in ("opt_out", "opt_out_unclear"):
            result.false_opt_outs.append((example, reading))
        if predicted == "crisis" and expected != "crisis":
            result.false_crises.append((example, reading))
    return result
