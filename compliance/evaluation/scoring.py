"""Scoring predictions against gold labels, span by span and message by message.

Span level, per category: a predicted span is **correct** when it overlaps a gold span of the
same category (precision = correct / predicted); a gold span is **found** when a predicted span
of its category overlaps it (recall = found / gold). Two predictions on one gold span are both
correct and the gold span is found once; one prediction across two gold spans finds both.

Modes: **strict** counts a borderline gold span as a violation. **lenient** ignores borderline
spans both ways: they are not in the recall, and a prediction that overlaps only borderline
spans is neither correct nor a false positive.

Whole-message predictions (a finding without a span) are left out of span scoring (counted
apart, `Score.whole_message`) and take part in message-level scoring: per category, a message
is predicted positive when it has a scored prediction (a span prediction that is not ignored,
or a whole-message one) and gold positive when it has a gold span (strict) or a non-borderline
gold span (lenient; a message whose only spans of the category are borderline is left out of
that category in lenient mode).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import CATEGORIES
from .labels import Label, Span
from .systems import Prediction

__all__ = ["Counts", "Error", "MODES", "Score", "overlaps", "score"]

MODES = ("strict", "lenient")


def overlaps(start: int, end: int, other_start: int, other_end: int) -> bool:
    """Do ``[start, end)`` and ``[other_start, other_end)`` share a character?

    An empty span (an insertion point) overlaps a span that contains its position.
    """
    if start == end:
        return other_start <= start < other_end
    return max(start, other_start) < min(end, other_end)


@dataclass
class Counts:
    """Counts behind precision and recall."""

    predicted: int = 0
    correct: int = 0
    gold: int = 0
    found: int = 0

    @property
    def precision(self) -> float | None:
        """correct / predicted (None when nothing was predicted)."""
        return self.correct / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        """found / gold (None when there is no gold)."""
        return self.found / self.gold if self.gold else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, other: Counts) -> None:
        self.predicted += other.predicted
        self.correct += other.correct
        self.gold += other.gold
        self.found += other.found

    def to_dict(self) -> dict[str, Any]:
        return {"predicted": self.predicted, "correct": self.correct, "gold": self.gold, "found": self.found,
                "precision": self.precision, "recall": self.recall, "f1": self.f1}


@dataclass(frozen=True, slots=True)
class Error:
    """A false positive (a predicted span matching no gold) or a false negative (a gold span missed)."""

    kind: str  # "FP" or "FN"
    id: str
    category: str
    start: int
    end: int
    span_text: str
    text: str
    detail: str = ""  # rule or term (FP); the reason of a borderline span (FN)
    borderline: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "category": self.category, "start": self.start,
                "end": self.end, "span": self.span_text, "text": self.text, "detail": self.detail,
                "borderline": self.borderline}


@dataclass
class Score:
    """One system on one split in one mode."""

    system: str
    split: str
    mode: str
    messages_scored: int = 0
    spans: dict[str, Counts] = field(default_factory=lambda: {c: Counts() for c in CATEGORIES})
    messages: dict[str, Counts] = field(default_factory=lambda: {c: Counts() for c in CATEGORIES})
    whole_message: dict[str, int] = field(default_factory=lambda: {c: 0 for c in CATEGORIES})
    errors: list[Error] = field(default_factory=list)

    def total(self, level: str = "spans") -> Counts:
        """The counts summed over the categories (micro average)."""
        out = Counts()
        for counts in (self.spans if level == "spans" else self.messages).values():
            out.add(counts)
        return out

    def to_dict(self, *, errors: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "system": self.system, "split": self.split, "mode": self.mode,
            "messages_scored": self.messages_scored,
            "spans": {c: n.to_dict() for c, n in self.spans.items()} | {"all": self.total("spans").to_dict()},
            "messages": {c: n.to_dict() for c, n in self.messages.items()} | {"all": self.total("messages").to_dict()},
            "whole_message_predictions": dict(self.whole_message),
        }
        if errors:
            data["errors"] = [e.to_dict() for e in self.errors]
        return data


def _score_message(out: Score, label: Label, text: str, predictions: Sequence[Prediction]) -> None:
    strict = out.mode == "strict"
    for category in CATEGORIES:
        gold = [s for s in label.spans if s.category == category]
        counted: list[Span] = [s for s in gold if strict or not s.borderline]
        ignorable: list[Span] = [] if strict else [s for s in gold if s.borderline]
        spans = out.spans[category]
        predicted_positive = False
        for p in predictions:
            if p.category != category:
                continue
            if p.start is None or p.end is None:
                out.whole_message[category] += 1
                predicted_positive = True
                continue
            start, end = p.start, p.end
            if any(overlaps(start, end, g.start, g.end) for g in counted):
                spans.predicted += 1
                spans.correct += 1
                predicted_positive = True
            elif any(overlaps(start, end, g.start, g.end) for g in ignorable):
                continue
            else:
                spans.predicted += 1
                predicted_positive = True
                out.errors.append(Error("FP", label.id, category, start, end, text[start:end], text, p.detail))
        for g in counted:
            spans.gold += 1
            if any(p.category == category and p.start is not None and p.end is not None
                   and overlaps(p.start, p.end, g.start, g.end) for p in predictions):
                spans.found += 1
            else:
                out.errors.append(Error("FN", label.id, category, g.start, g.end, text[g.start:g.end], text,
                                        g.reason, g.borderline))
        gold_positive = bool(counted)
        if not strict and not counted and ignorable and not predicted_positive:
            continue  # only borderline spans of this category, nothing else predicted: left out
        messages = out.messages[category]
        messages.predicted += predicted_positive
        messages.gold += gold_positive
        if predicted_positive and gold_positive:
            messages.correct += 1
            messages.found += 1


def score(system: str, labels: Iterable[Label], predictions: Mapping[str, Sequence[Prediction]],
          texts: Mapping[str, str], *, split: str, mode: str) -> Score:
    """Score one system's ``predictions`` (by message id) against ``labels`` of ``split``.

    ``split`` is ``"dev"``, ``"test"`` or ``"all"``; ``texts`` gives each message's evaluation
    text (for the error listings).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    out = Score(system, split, mode)
    for label in labels:
        if split != "all" and label.split != split:
            continue
        out.messages_scored += 1
        _score_message(out, label, texts[label.id], predictions.get(label.id, ()))
    return out
