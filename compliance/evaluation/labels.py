"""Gold labels: spans per category, by corpus file and line, offsets only (never the text).

One JSON object per line, in any number of ``*.jsonl`` files of one directory (one file per
labelling batch, so labellers working in parallel never edit the same file)::

    {"file": "sms_spam_zh.tsv", "line": 17, "split": "dev",
     "spans": [{"category": "ad_law", "start": 5, "end": 10, "borderline": false,
                "reason": "", "origin": "hand"}],
     "labeller": "ana", "note": ""}

``start``/``end`` are offsets into the evaluation text (`compliance.evaluation.render`), end
exclusive. ``origin`` is ``"hand"`` (a labeller's call) or ``"placeholder"`` (an FBS contact
placeholder: gold by construction). A record with ``"spans": []`` asserts that the message has
no violation of any labelled category. A borderline span needs a ``reason``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import CATEGORIES
from .draw import Item, ManifestRow, split_of
from .render import EvalText

__all__ = ["Label", "LabelError", "ORIGINS", "Span", "read_labels", "validate", "write_labels"]

ORIGINS = ("hand", "placeholder")
_RECORD_KEYS = {"file", "line", "split", "spans", "labeller", "note"}
_SPAN_KEYS = {"category", "start", "end", "borderline", "reason", "origin"}


class LabelError(ValueError):
    """A label file is malformed; the message names the file, the line and what was expected."""


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """A gold span: ``[start, end)`` of the evaluation text violates ``category``."""

    start: int
    end: int
    category: str
    borderline: bool = False
    reason: str = ""
    origin: str = "hand"

    def to_dict(self) -> dict[str, Any]:
        return {"category": self.category, "start": self.start, "end": self.end,
                "borderline": self.borderline, "reason": self.reason, "origin": self.origin}


@dataclass(frozen=True, slots=True)
class Label:
    """Every gold span of one corpus line (none: the line asserts no violation)."""

    file: str
    line: int
    split: str
    spans: tuple[Span, ...]
    labeller: str
    note: str = ""
    source: str = field(default="", compare=False)  # "path:line" it was read from

    @property
    def item(self) -> Item:
        return Item(self.file, self.line)

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"file": self.file, "line": self.line, "split": self.split,
                                "spans": [s.to_dict() for s in sorted(self.spans)],
                                "labeller": self.labeller}
        if self.note:
            data["note"] = self.note
        return data


def _span(value: Any, where: str) -> Span:
    if not isinstance(value, dict):
        raise LabelError(f"{where}: a span must be an object, got {value!r}")
    unknown = set(value) - _SPAN_KEYS
    missing = {"category", "start", "end"} - set(value)
    if unknown or missing:
        raise LabelError(f"{where}: span keys must be {sorted(_SPAN_KEYS)}; "
                         f"unknown {sorted(unknown)}, missing {sorted(missing)}")
    start, end = value["start"], value["end"]
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool) or isinstance(end, bool):
        raise LabelError(f"{where}: start and end must be integers, got {start!r}, {end!r}")
    borderline = value.get("borderline", False)
    if not isinstance(borderline, bool):
        raise LabelError(f"{where}: borderline must be true or false, got {borderline!r}")
    reason = value.get("reason", "")
    origin = value.get("origin", "hand")
    if not isinstance(reason, str) or not isinstance(origin, str) or not isinstance(value["category"], str):
        raise LabelError(f"{where}: category, reason and origin must be strings")
    return Span(start, end, value["category"], borderline, reason, origin)


def _record(value: Any, where: str) -> Label:
    if not isinstance(value, dict):
        raise LabelError(f"{where}: expected a JSON object, got {type(value).__name__}")
    unknown = set(value) - _RECORD_KEYS
    missing = {"file", "line", "split", "spans", "labeller"} - set(value)
    if unknown or missing:
        raise LabelError(f"{where}: record keys must be {sorted(_RECORD_KEYS)}; "
                         f"unknown {sorted(unknown)}, missing {sorted(missing)}")
    if not isinstance(value["file"], str) or not isinstance(value["line"], int) or not isinstance(value["spans"], list):
        raise LabelError(f"{where}: file must be a string, line an integer and spans a list")
    if not isinstance(value["labeller"], str) or not isinstance(value.get("note", ""), str):
        raise LabelError(f"{where}: labeller and note must be strings")
    spans = tuple(_span(s, f"{where}, span {i + 1}") for i, s in enumerate(value["spans"]))
    return Label(value["file"], value["line"], value["split"], spans, value["labeller"],
                 value.get("note", ""), where)


def read_labels(directory: Path) -> list[Label]:
    """Every record of every ``*.jsonl`` file of ``directory``, in (file, line) order.

    Raises `LabelError` for malformed JSON or records, and for a line labelled twice.
    """
    labels: dict[str, Label] = {}
    for path in sorted(directory.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise LabelError(f"{where}: not JSON ({exc.msg}, column {exc.colno})") from None
            label = _record(value, where)
            if label.id in labels:
                raise LabelError(f"{where}: {label.id} is already labelled at {labels[label.id].source}")
            labels[label.id] = label
    return sorted(labels.values(), key=lambda lb: (lb.file, lb.line))


def write_labels(path: Path, labels: Iterable[Label]) -> None:
    """Write records as JSON lines, in (file, line) order (UTF-8, non-ASCII kept readable)."""
    ordered = sorted(labels, key=lambda lb: (lb.file, lb.line))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(lb.to_dict(), ensure_ascii=False) + "\n" for lb in ordered),
                    encoding="utf-8")


def validate(label: Label, text: EvalText | None, manifest: Mapping[Item, ManifestRow]) -> list[str]:
    """Problems of one record (empty when it is well formed).

    Checks that the line is in the manifest and its split matches the fixed hash, that the
    categories and origins are known, offsets lie within the text, borderline spans have a
    reason, and (when ``text`` is given: the corpus is present) that the text still hashes as
    the manifest says and every rendered contact placeholder is a gold ``contact`` span.
    """
    where = label.source or label.id
    problems = []
    row = manifest.get(label.item)
    if row is None:
        problems.append(f"{where}: {label.id} is not in the manifest")
    if label.split != split_of(label.file, label.line):
        problems.append(f"{where}: split {label.split!r} but the hash puts {label.id} in "
                        f"{split_of(label.file, label.line)!r}")
    if not label.labeller.strip():
        problems.append(f"{where}: labeller is empty")
    seen: set[tuple[int, int, str]] = set()
    for span in label.spans:
        name = f"{where}: span [{span.start}, {span.end}) {span.category}"
        if span.category not in CATEGORIES:
            problems.append(f"{name}: unknown category (expected one of {', '.join(CATEGORIES)})")
        if span.origin not in ORIGINS:
            problems.append(f"{name}: unknown origin {span.origin!r} (expected {' or '.join(ORIGINS)})")
        if not 0 <= span.start < span.end:
            problems.append(f"{name}: expected 0 <= start < end")
        elif text is not None and span.end > len(text.text):
            problems.append(f"{name}: end beyond the text ({len(text.text)} characters)")
        if span.borderline and not span.reason.strip():
            problems.append(f"{name}: a borderline span needs a one-line reason")
        if "\n" in span.reason:
            problems.append(f"{name}: the reason must be one line")
        if (span.start, span.end, span.category) in seen:
            problems.append(f"{name}: the same span twice")
        seen.add((span.start, span.end, span.category))
    if text is not None and row is not None:
        if text.sha != row.sha:
            problems.append(f"{where}: the evaluation text of {label.id} hashes {text.sha}, the manifest "
                            f"says {row.sha} (corpus or rendering changed: offsets cannot be trusted)")
        auto = {(start, end) for start, end, _ in text.auto_spans()}
        labelled_auto = {(s.start, s.end) for s in label.spans if s.origin == "placeholder" and s.category == "contact"}
        if auto != labelled_auto:
            problems.append(f"{where}: placeholder contact spans {sorted(labelled_auto)} differ from the "
                            f"rendered placeholders {sorted(auto)}")
    return problems
