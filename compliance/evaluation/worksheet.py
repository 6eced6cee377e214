"""The labeller's worksheet: a plain-text file, outside the repository, read back into labels.

`dump` writes one block per message of a batch::

    === [ ] sms_spam_zh.tsv:17 (dev)
    > 全网最低价，加微信 lily_8866 领券
    # auto contact "lily_8866" (WECHAT)

and the labeller adds, under the block, one line per span::

    ad_law | "全网最低价" | strict
    contact | "加微信" | strict
    ad_law | "最" #2 | borderline | 最后一天：期限真实与否无从得知
    contact | "QQ:[[12345678]]" | strict

then changes ``[ ]`` to ``[x]`` when the message is done (a done message without span lines
asserts that it has no violation). The quoted text must occur in the message; when it occurs
more than once, ``#N`` says which occurrence (1-based; occurrences may overlap: in
``xxxxx`` the text ``xxxx`` occurs twice), or a longer quote gives the context and ``[[…]]``
marks the span inside it. A line may repeat the block's id in
front (``sms_spam_zh.tsv:17 | ad_law | …``). ``note: …`` adds a note to the record. Lines
starting with ``#`` are comments; ``>`` lines are the text (ignored on reading: the text is
always recomputed from the corpus, so an edited copy cannot shift offsets).

`parse` reads a worksheet back, checking every line against the real evaluation text, and
returns `Label` records (hand spans plus the placeholder spans) or every problem found, each
with the worksheet's path and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import CATEGORIES
from .draw import Item
from .labels import Label, Span
from .render import EvalText

__all__ = ["Worksheet", "WorksheetError", "dump", "parse", "read", "span_line"]

_HEADER = re.compile(r"^===\s*\[(?P<done>[ xX]?)\]\s*(?P<id>\S+:\d+)\s*(?:\((?P<split>dev|test)\))?\s*$")
_SPAN = re.compile(
    r'^(?:(?P<id>\S+:\d+)\s*\|\s*)?(?P<category>[a-z_]+)\s*\|\s*"(?P<text>.+)"\s*(?:#(?P<occurrence>\d+))?\s*'
    r"\|\s*(?P<kind>strict|borderline)\s*(?:\|\s*(?P<reason>.*?))?\s*$")
_META = re.compile(r"^(?P<key>labeller|batch)\s*:\s*(?P<value>.*?)\s*$")
_NOTE = re.compile(r"^note\s*:\s*(?P<note>.*?)\s*$")

_INSTRUCTIONS = """\
# compliance accuracy worksheet. Guideline: docs/accuracy.md (read it first).
# Label by reading each message against the guideline. Never run the linter, the benchmark or
# any other tool on these texts: labels derived from our linter would measure nothing.
#
# Under a message, one line per violating span:
#   category | "exact text from the message" | strict | optional reason
#   category | "exact text" #2 | borderline | one-line reason (required for borderline)
# categories: {categories}
# #N picks the N-th occurrence (from 1) when the text occurs more than once; or quote more
# context and mark the span inside it with [[ ]]:   contact | "QQ:[[12345678]]" | strict
# A note for the record: "note: ...". When a message is done, also when it has no violation,
# change its [ ] to [x]; only [x] messages are ingested. "# auto" lines are the dataset's own
# contacts: gold by construction, do not repeat them.
#
# Ingest (from the repository root):
#   python -m benchmarks.accuracy_label ingest {path}
"""


class WorksheetError(ValueError):
    """A worksheet has problems; ``problems`` lists each (path:line: what, expected what)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


@dataclass
class Worksheet:
    """A parsed worksheet: its header values, the finished records and what is still open."""

    labeller: str
    batch: str
    labels: list[Label] = field(default_factory=list)
    open: list[str] = field(default_factory=list)  # ids of blocks not marked [x]


def _quote(text: str) -> str:
    return text.replace("\n", "\\n")


def span_line(text: str, span: Span) -> str:
    """The worksheet line that names ``span`` of ``text`` (``#N`` when the text repeats)."""
    quoted = text[span.start:span.end]
    starts = [m.start() for m in re.finditer(f"(?={re.escape(quoted)})", text)]
    occurrence = f" #{starts.index(span.start) + 1}" if len(starts) > 1 else ""
    kind = "borderline" if span.borderline else "strict"
    reason = f" | {span.reason}" if span.reason else ""
    return f'{span.category} | "{_quote(quoted)}"{occurrence} | {kind}{reason}'


def dump(texts: Iterable[EvalText], *, batch: str, labeller: str = "", path: str = "WORKSHEET",
         labels: Mapping[str, Label] | None = None) -> str:
    """The worksheet for ``texts`` (one block each, in the order given).

    With ``labels`` (by message id), a labelled message is written done (``[x]``) with its hand
    spans and note as span lines: ingesting the worksheet unchanged gives the same labels back,
    which is how a reviewer revises a batch.
    """
    out = [_INSTRUCTIONS.format(categories=", ".join(CATEGORIES), path=path)]
    out.append(f"batch: {batch}")
    out.append(f"labeller: {labeller}")
    out.append("")
    for text in texts:
        item = Item(text.file, text.line)
        label = (labels or {}).get(item.id)
        out.append(f"=== [{'x' if label else ' '}] {item.id} ({item.split})")
        out.append(f"> {_quote(text.text)}")
        for start, end, placeholder in text.auto_spans():
            out.append(f'# auto contact "{text.text[start:end]}" ({placeholder})')
        if label:
            out.extend(span_line(text.text, s) for s in label.spans if s.origin == "hand")
            if label.note:
                out.append(f"note: {label.note}")
        out.append("")
    return "\n".join(out)


def _locate(text: str, quoted: str, occurrence: int | None) -> tuple[int, int] | str:
    """Offsets of the chosen occurrence of ``quoted``, or what is wrong.

    ``quoted`` may mark the span inside a longer, unambiguous quote: ``QQ:[[12345]]``.
    """
    before, marked, after = quoted, "", ""
    if "[[" in quoted or "]]" in quoted:
        match = re.fullmatch(r"(?P<before>.*?)\[\[(?P<span>.+?)\]\](?P<after>.*)", quoted)
        if match is None or "[[" in match["after"] or "]]" in match["after"]:
            return f'"{quoted}": mark one span with [[ and ]] inside the quote, e.g. "QQ:[[12345]]"'
        before, marked, after = match["before"], match["span"], match["after"]
    needle = before + marked + after
    starts = [m.start() for m in re.finditer(f"(?={re.escape(needle)})", text)]
    if not starts:
        return f'"{needle}" does not occur in the message'
    if occurrence is None:
        if len(starts) > 1:
            return (f'"{needle}" occurs {len(starts)} times: add #1 … #{len(starts)} after the quotes, '
                    f'or quote more context and mark the span with [[…]]')
        start = starts[0]
    elif not 1 <= occurrence <= len(starts):
        return f'"{needle}" occurs {len(starts)} time(s), there is no occurrence #{occurrence}'
    else:
        start = starts[occurrence - 1]
    if marked:
        return start + len(before), start + len(before) + len(marked)
    return start, start + len(needle)


@dataclass
class _Block:
    """A message block being read."""

    item: Item
    text: EvalText
    done: bool
    line: int
    spans: list[Span] = field(default_factory=list)
    note: str = ""


def _record(block: _Block, labeller: str, path: str) -> Label:
    """The record of a finished block: the placeholder contacts plus the hand spans."""
    auto = [Span(start, end, "contact", False, f"FBS placeholder {name}", "placeholder")
            for start, end, name in block.text.auto_spans()]
    auto_keys = {(s.start, s.end, s.category) for s in auto}
    hand = [s for s in block.spans if (s.start, s.end, s.category) not in auto_keys]
    return Label(block.item.file, block.item.line, block.item.split, tuple(sorted(auto + hand)),
                 labeller, block.note, f"{path}:{block.line}")


def _span_of(match: re.Match[str], block: _Block) -> Span | str:
    """The span a span line names, or what is wrong with it."""
    if match["id"] and match["id"] != block.item.id:
        return f"the line names {match['id']} inside the block of {block.item.id}"
    if match["category"] not in CATEGORIES:
        return f"unknown category {match['category']!r} (expected one of {', '.join(CATEGORIES)})"
    occurrence = int(match["occurrence"]) if match["occurrence"] else None
    located = _locate(block.text.text, match["text"], occurrence)
    if isinstance(located, str):
        return f"{block.item.id}: {located}"
    borderline = match["kind"] == "borderline"
    reason = match["reason"] or ""
    if borderline and not reason:
        return "a borderline span needs a one-line reason after a last |"
    if any((s.start, s.end, s.category) == (*located, match["category"]) for s in block.spans):
        return f'"{match["text"]}" is already labelled {match["category"]} in this message'
    return Span(located[0], located[1], match["category"], borderline, reason, "hand")


def parse(source: str, path: str, text_of: Callable[[Item], EvalText]) -> Worksheet:
    """Read a worksheet; `WorksheetError` listing every problem when there is any.

    ``text_of`` gives the real evaluation text of an item (KeyError/IndexError if unknown).
    """
    problems: list[str] = []
    meta = {"labeller": "", "batch": ""}
    blocks: list[_Block] = []
    current: _Block | None = None
    in_block = False  # after a header, even one naming an unknown message
    for number, raw in enumerate(source.splitlines(), 1):
        line = raw.strip()
        where = f"{path}:{number}"
        if not line or line.startswith("#") or line.startswith(">"):
            continue
        header = _HEADER.match(line)
        if header:
            in_block, current = True, None
            try:
                item = Item.parse(header["id"])
                text = text_of(item)
            except (ValueError, KeyError, IndexError) as exc:
                problems.append(f"{where}: unknown message {header['id']} ({exc})")
                continue
            if header["split"] and header["split"] != item.split:
                problems.append(f"{where}: {item.id} is in {item.split}, the header says {header['split']}")
            if any(b.item == item for b in blocks):
                problems.append(f"{where}: {item.id} appears twice in the worksheet")
                continue
            current = _Block(item, text, header["done"] in ("x", "X"), number)
            blocks.append(current)
            continue
        meta_match = _META.match(line)
        if meta_match and not in_block:
            meta[meta_match["key"]] = meta_match["value"]
            continue
        if not in_block:
            problems.append(f"{where}: expected a message header (=== [ ] file:line) before {line!r}")
            continue
        if current is None:
            continue  # the header was already reported
        note = _NOTE.match(line)
        if note:
            current.note = note["note"]
            continue
        match = _SPAN.match(line)
        if not match:
            problems.append(f'{where}: expected category | "text" [#N] | strict|borderline [| reason], got {line!r}')
            continue
        span = _span_of(match, current)
        if isinstance(span, str):
            problems.append(f"{where}: {span}")
            continue
        current.spans.append(span)
    sheet = Worksheet(meta["labeller"], meta["batch"])
    sheet.labels = [_record(b, sheet.labeller, path) for b in blocks if b.done]
    sheet.open = [b.item.id for b in blocks if not b.done]
    if sheet.labels and not sheet.labeller:
        problems.append(f"{path}: the header line 'labeller: …' is empty: write your name there")
    if problems:
        raise WorksheetError(problems)
    return sheet


def read(path: Path, text_of: Callable[[Item], EvalText]) -> Worksheet:
    """`parse` a worksheet file."""
    return parse(path.read_text(encoding="utf-8"), str(path), text_of)
