"""Safe fixes applied to copy files: only where the position is exact, verified by re-reading.

A finding's fix replaces ``[start, end)`` of one message field. It becomes an edit of the
file only when

* the field's characters map verbatim onto the source (the source slice equals the field
  slice: no escapes, no folding, no anchored/inexact positions),
* the span lies on one source line and the replacement holds no line break,
* it does not overlap an edit already taken (the first by position wins; identical
  duplicate edits from two rules count once).

Edits are applied right to left, so earlier offsets stay valid. The result is then parsed
again and every message must read back exactly as the fixed fields (a replacement that would
need quoting in YAML/JSON/CSV/TOML, or that changes the file's structure, fails this check);
when the whole batch fails, edits are tried one at a time and only those that verify are
kept.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from compliance.io.copyfiles import CopyFile, CopyFileError, parse_copy_text

_LINE_BREAKS = frozenset("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


@dataclass(frozen=True, slots=True)
class FixRequest:
    """A fix a finding proposes, in the coordinates of the copy file's message fields.

    Attributes:
        message_index: the message (``CopyMessage.index``).
        field: field name as in the file (``text``, ``body``, …).
        start, end: span in that field's text, end exclusive.
        replacement: the new text.
        key: anything identifying the finding (returned with applied edits).
    """

    message_index: int
    field: str
    start: int
    end: int
    replacement: str
    key: object = None


@dataclass(frozen=True, slots=True)
class Edit:
    """A replacement of ``source[start:end]`` (code-point offsets into the decoded text)."""

    start: int
    end: int
    replacement: str
    request: FixRequest


@dataclass(frozen=True, slots=True)
class FixOutcome:
    """The fixed text and what went into it.

    Attributes:
        text: the decoded file text after the edits (unchanged when none applied).
        applied: the edits that were applied.
        skipped: requests that were not applied (inexact position, overlap, or the file
            would not read back as intended).
    """

    text: str
    applied: list[Edit]
    skipped: list[FixRequest]


def plan_edits(copy_file: CopyFile, requests: Sequence[FixRequest]) -> tuple[list[Edit], list[FixRequest]]:
    """Edits for the requests whose positions are exact and verbatim; the rest are skipped."""
    source = copy_file.source
    text = source.text
    edits: list[Edit] = []
    skipped: list[FixRequest] = []
    for request in requests:
        message = copy_file.messages[request.message_index]
        fmap = message.field_maps.get(request.field)
        value = message.fields.get(request.field)
        if fmap is None or value is None or not fmap.exact or any(c in _LINE_BREAKS for c in request.replacement):
            skipped.append(request)
            continue
        if not 0 <= request.start <= request.end <= len(value):
            skipped.append(request)
            continue
        start, end = fmap.span(request.start, request.end)
        if request.start == request.end:
            start = end = fmap.start_of(request.start)
        if text[start:end] != value[request.start : request.end] or source.line_of(start) != source.line_of(
            max(start, end - 1)
        ):
            skipped.append(request)
            continue
        edits.append(Edit(start, end, request.replacement, request))
    edits.sort(key=lambda e: (e.start, e.end))
    kept: list[Edit] = []
    for edit in edits:
        if kept:
            last = kept[-1]  # sorted and disjoint, so the last kept edit reaches furthest
            if (last.start, last.end, last.replacement) == (edit.start, edit.end, edit.replacement):
                kept.append(edit)  # the same edit proposed by two rules: applied once
                continue
            both_insert_here = edit.start == edit.end == last.start == last.end
            if edit.start < last.end or both_insert_here:
                skipped.append(edit.request)
                continue
        kept.append(edit)
    return kept, skipped


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """`text` with non-overlapping `edits` applied right to left (duplicates once)."""
    out = text
    seen: set[tuple[int, int, str]] = set()
    for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        key = (edit.start, edit.end, edit.replacement)
        if key in seen:
            continue
        seen.add(key)
        out = out[: edit.start] + edit.replacement + out[edit.end :]
    return out


def _expected_fields(copy_file: CopyFile, edits: Sequence[Edit]) -> list[dict[str, str]]:
    expected = [dict(m.fields) for m in copy_file.messages]
    seen: set[tuple[int, str, int, int, str]] = set()
    ordered = sorted(edits, key=lambda e: (e.request.message_index, e.request.field, e.request.start), reverse=True)
    for edit in ordered:
        r = edit.request
        key = (r.message_index, r.field, r.start, r.end, r.replacement)
        if key in seen:
            continue
        seen.add(key)
        value = expected[r.message_index][r.field]
        expected[r.message_index][r.field] = value[: r.start] + r.replacement + value[r.end :]
    return expected


def _reads_back(copy_file: CopyFile, new_text: str, edits: Sequence[Edit]) -> bool:
    try:
        reread = parse_copy_text(copy_file.path, new_text, extension=copy_file.format)
    except CopyFileError:
        return False
    expected = _expected_fields(copy_file, edits)
    if len(reread.messages) != len(expected):
        return False
    return all(
        m.fields == e and m.channel == old.channel and m.allow == old.allow
        for m, e, old in zip(reread.messages, expected, copy_file.messages)
    )


def fix_copy_file(copy_file: CopyFile, requests: Sequence[FixRequest]) -> FixOutcome:
    """Apply the safe subset of `requests` to the file's text (nothing is written)."""
    edits, skipped = plan_edits(copy_file, requests)
    text = copy_file.source.text
    if not edits:
        return FixOutcome(text, [], list(skipped))
    new_text = apply_edits(text, edits)
    if _reads_back(copy_file, new_text, edits):
        return FixOutcome(new_text, list(edits), list(skipped))
    accepted: list[Edit] = []
    for edit in edits:
        trial = accepted + [edit]
        if _reads_back(copy_file, apply_edits(text, trial), trial):
            accepted = trial
        else:
            skipped.append(edit.request)
    return FixOutcome(apply_edits(text, accepted), accepted, list(skipped))


def encode_like(copy_file: CopyFile, text: str) -> bytes:
    """The bytes to write back: UTF-8, with the byte-order mark again if the file had one."""
    data = text.encode("utf-8", "surrogatepass")
    return b"\xef\xbb\xbf" + data if copy_file.source.had_bom else data


def diff_label(prefix: str, path: str) -> str:
    """The ``---``/``+++`` name of `path` in a unified diff, as git writes it: ``a/copy/x.txt``
    for a relative path and ``a/tmp/x.txt`` (not ``a//tmp/x.txt``) for an absolute one;
    Windows separators are written as ``/``."""
    if os.sep != "/":
        path = path.replace(os.sep, "/")
    return f"{prefix}/{path.lstrip('/')}"
