"""Agreement between two readers of the evaluation set (docs/accuracy.md, "Agreement between readers").

A second reader labels a seeded sample of dev messages blind (`sample`), and the two label sets
are compared:

* **span level**, per category and mode: the second reader's spans are scored against the gold
  labels by the same overlap rule as a system (`compliance.evaluation.scoring.score`), so its
  precision is the share of its spans the gold labels have, its recall the share of the gold
  spans it found; F1 is symmetric (swapping the readers swaps precision and recall).
* **message level**, per category and mode: Cohen's kappa of "the message has a span of this
  category" between the readers (lenient: a message whose spans of the category are all
  borderline, for both readers, is left out of that category — as the scorer leaves it out).
* the **disagreements**: every span one reader has and the other does not (by overlap).

Both readers carry the FBS placeholder
contacts (added at ingest), which always agree; they are left out of the comparison
(``hand_only``) unless asked for, so that contact agreement is the agreement of the readers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import CATEGORIES
from .draw import Item, ManifestRow
from .labels import Label, Span
from .scoring import MODES, Error, Score, overlaps, score
from .systems import Prediction

__all__ = ["AGREEMENT_DIR", "SAMPLE_SALT", "SAMPLE_SIZE", "Agreement", "Disagreement", "Kappa", "compare",
           "cohen_kappa", "sample", "sample_key"]

#: Directory of the second reader's labels, beside (never inside) ``labels/``.
AGREEMENT_DIR = "agreement"
SAMPLE_SALT = "agreement:"
SAMPLE_SIZE = 150


def sample_key(item: Item) -> str:
    """The order of the sample: sha256 of ``"agreement:" + id`` (hex)."""
    return hashlib.sha256(f"{SAMPLE_SALT}{item.id}".encode()).hexdigest()


def sample(rows: Iterable[ManifestRow], size: int = SAMPLE_SIZE, split: str = "dev") -> list[Item]:
    """The agreement sample: the manifest's ``split`` lines sorted by `sample_key`, the first ``size``.

    Every round of the draw takes part (the hash ignores rounds); the sample depends only on the
    ids, so a later round can change it only by adding lines that sort before its last one.
    """
    items = sorted((row.item for row in rows if row.split == split), key=sample_key)
    return items[:size]


def _kept(spans: Iterable[Span], hand_only: bool) -> tuple[Span, ...]:
    return tuple(s for s in spans if not hand_only or s.origin == "hand")


def _predictions(label: Label, hand_only: bool) -> list[Prediction]:
    return [Prediction(s.category, s.start, s.end, "borderline" if s.borderline else "strict")
            for s in _kept(label.spans, hand_only)]


def _restricted(label: Label, hand_only: bool, lenient: bool = False) -> Label:
    spans = _kept(label.spans, hand_only)
    if lenient:
        spans = tuple(s for s in spans if not s.borderline)
    return Label(label.file, label.line, label.split, spans, label.labeller, label.note, label.source)


@dataclass(frozen=True, slots=True)
class Kappa:
    """Message-level agreement on one category: the 2×2 table and Cohen's kappa."""

    both: int = 0      # both readers: positive
    gold_only: int = 0
    second_only: int = 0
    neither: int = 0

    @property
    def messages(self) -> int:
        return self.both + self.gold_only + self.second_only + self.neither

    @property
    def observed(self) -> float | None:
        """The share of messages on which the readers agree."""
        return (self.both + self.neither) / self.messages if self.messages else None

    @property
    def kappa(self) -> float | None:
        """Cohen's kappa; None without messages, or when chance agreement is 1 (both readers
        give every message the same answer: kappa is undefined, see `observed`)."""
        n = self.messages
        if not n:
            return None
        gold_pos = (self.both + self.gold_only) / n
        second_pos = (self.both + self.second_only) / n
        expected = gold_pos * second_pos + (1 - gold_pos) * (1 - second_pos)
        if expected == 1:
            return None
        observed = (self.both + self.neither) / n
        return (observed - expected) / (1 - expected)

    def to_dict(self) -> dict[str, Any]:
        return {"both": self.both, "gold_only": self.gold_only, "second_only": self.second_only,
                "neither": self.neither, "observed": self.observed, "kappa": self.kappa}


def cohen_kappa(pairs: Iterable[tuple[bool, bool]]) -> Kappa:
    """The 2×2 table of (gold, second) answers."""
    both = gold_only = second_only = neither = 0
    for gold, second in pairs:
        if gold and second:
            both += 1
        elif gold:
            gold_only += 1
        elif second:
            second_only += 1
        else:
            neither += 1
    return Kappa(both, gold_only, second_only, neither)


@dataclass(frozen=True, slots=True)
class Disagreement:
    """A span one reader has and the other does not overlap (``kind`` "only"), or a span both have
    but only one calls strict (``kind`` "severity": ``reader`` calls it strict, the other's
    overlapping spans are all borderline; ``reason`` is then theirs: the fact in question)."""

    id: str
    category: str
    start: int
    end: int
    span_text: str
    reader: str  # "gold" or "second": who has the span ("only") or calls it strict ("severity")
    borderline: bool
    reason: str
    kind: str = "only"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "category": self.category, "start": self.start, "end": self.end,
                "span": self.span_text, "reader": self.reader, "borderline": self.borderline,
                "reason": self.reason, "kind": self.kind}


@dataclass
class Agreement:
    """The comparison of two label sets on the messages both labelled."""

    messages: int
    spans: dict[str, Score] = field(default_factory=dict)  # by mode: second scored against gold
    kappa: dict[str, dict[str, Kappa]] = field(default_factory=dict)  # mode → category → table
    disagreements: list[Disagreement] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # ids the second reader has and gold has not

    def to_dict(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "spans": {m: {c: s.spans[c].to_dict() for c in CATEGORIES} | {"all": s.total("spans").to_dict()}
                      for m, s in self.spans.items()},
            "kappa": {m: {c: k.to_dict() for c, k in by.items()} for m, by in self.kappa.items()},
            "disagreements": [d.to_dict() for d in self.disagreements],
            "missing": list(self.missing),
        }


def _message_kappa(gold: Sequence[Label], second: Mapping[str, Label], category: str, mode: str,
                   hand_only: bool) -> Kappa:
    pairs: list[tuple[bool, bool]] = []
    for label in gold:
        answers = []
        borderline_only = []
        for lb in (label, second[label.id]):
            spans = [s for s in _kept(lb.spans, hand_only) if s.category == category]
            counted = [s for s in spans if mode == "strict" or not s.borderline]
            answers.append(bool(counted))
            borderline_only.append(bool(spans) and not counted)
        if mode == "lenient" and not any(answers) and any(borderline_only):
            continue  # nobody positive, somebody borderline: left out (the scorer's rule, both readers)
        pairs.append((answers[0], answers[1]))
    return cohen_kappa(pairs)


def _disagreement(error: Error, reader: str, label: Label) -> Disagreement:
    span = next((s for s in label.spans if (s.start, s.end, s.category) == (error.start, error.end, error.category)),
                None)
    return Disagreement(error.id, error.category, error.start, error.end, error.span_text, reader,
                        span.borderline if span else False, span.reason if span else "")


def _lenient_gold(gold: Label, second: Label) -> Label:
    """Gold for the lenient comparison: a strict gold span that only a *borderline* span of the
    second reader overlaps is left out (neither found nor missed), mirroring the scorer, which
    ignores a prediction that only borderline gold spans overlap."""
    def ignored(g: Span) -> bool:
        if g.borderline:
            return False
        hits = [s for s in second.spans if s.category == g.category and overlaps(s.start, s.end, g.start, g.end)]
        return bool(hits) and all(s.borderline for s in hits)

    return Label(gold.file, gold.line, gold.split, tuple(g for g in gold.spans if not ignored(g)), gold.labeller,
                 gold.note, gold.source)


def compare(gold: Iterable[Label], second: Iterable[Label], texts: Mapping[str, str], *,
            hand_only: bool = True) -> Agreement:
    """Compare ``second`` with ``gold`` on the messages both labelled (``texts``: by id).

    Span counts come from `compliance.evaluation.scoring.score` with the second reader's spans as
    the predictions. Lenient mode ignores borderline spans both ways *for both readers*: the
    scorer leaves out the gold borderline spans and the second reader's spans that only they
    overlap; here the second reader's borderline spans are dropped too, and with them the gold
    strict spans that only they overlap (`_lenient_gold`), so swapping the readers swaps P and R.
    ``hand_only`` leaves out the FBS placeholder contacts, which both readers carry.
    """
    second_by_id = {lb.id: lb for lb in second}
    gold_by_id = {lb.id: lb for lb in gold}
    shared = [gold_by_id[i] for i in sorted(second_by_id) if i in gold_by_id]
    out = Agreement(len(shared), missing=sorted(i for i in second_by_id if i not in gold_by_id))
    for mode in MODES:
        gold_labels = [_restricted(lb, hand_only) for lb in shared]
        second_labels = [_restricted(second_by_id[lb.id], hand_only) for lb in shared]
        if mode == "lenient":
            gold_labels = [_lenient_gold(g, s) for g, s in zip(gold_labels, second_labels)]
            second_labels = [_restricted(s, False, lenient=True) for s in second_labels]
        predictions = {s.id: _predictions(s, False) for s in second_labels}
        out.spans[mode] = score("second reader", gold_labels, predictions, texts, split="all", mode=mode)
        out.kappa[mode] = {c: _message_kappa(shared, second_by_id, c, mode, hand_only) for c in CATEGORIES}
    # Disagreements (strict): each reader's spans the other does not overlap, both ways.
    forward = out.spans["strict"]
    backward = score("gold", [_restricted(second_by_id[lb.id], hand_only) for lb in shared],
                     {lb.id: _predictions(lb, hand_only) for lb in shared}, texts, split="all", mode="strict")
    for error in forward.errors:
        if error.kind == "FN":
            out.disagreements.append(_disagreement(error, "gold", gold_by_id[error.id]))
    for error in backward.errors:
        if error.kind == "FN":
            out.disagreements.append(_disagreement(error, "second", second_by_id[error.id]))
    for lb in shared:
        gold_spans = _kept(lb.spans, hand_only)
        second_spans = _kept(second_by_id[lb.id].spans, hand_only)
        for reader, mine, theirs in (("gold", gold_spans, second_spans), ("second", second_spans, gold_spans)):
            for span in mine:
                if span.borderline:
                    continue
                hits = [t for t in theirs if t.category == span.category
                        and overlaps(t.start, t.end, span.start, span.end)]
                if hits and all(t.borderline for t in hits):
                    out.disagreements.append(Disagreement(
                        lb.id, span.category, span.start, span.end, texts[lb.id][span.start:span.end], reader,
                        False, "; ".join(t.reason for t in hits), "severity"))
    out.disagreements.sort(key=lambda d: (d.id, d.start, d.category, d.kind, d.reader))
    return out

