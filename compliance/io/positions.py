"""Source positions: from an offset into a message field back to (line, column) in a file.

Conventions used by every reader (and by `compliance.output`):

* A file is decoded as UTF-8; a leading byte-order mark is dropped before anything else,
  so it never counts as a column.
* Line terminators are LF, CRLF and a lone CR (universal newlines). U+2028, U+0085 etc. are
  ordinary characters on a line.
* ``line`` is 1-based. ``column`` is 1-based and counts Unicode code points (a CJK character
  or an emoji is one column). ``byte_column`` is 1-based and counts UTF-8 bytes from the start
  of the line (BOM excluded); editors and some SARIF consumers want one or the other.
* Span ends are exclusive: the end position is the position just after the last character.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from enum import Enum

from compliance import recache

_LINE_BREAK = recache.compile(r"\r\n?|\n")


@dataclass(frozen=True, slots=True)
class SourcePosition:
    """A point in a source file.

    Attributes:
        line: 1-based line number.
        column: 1-based column in code points.
        byte_column: 1-based column in UTF-8 bytes (BOM excluded).
        offset: 0-based code-point offset into the decoded (BOM-less) file text.
        exact: False when the reader could not map this offset exactly (for example inside a
            YAML folded scalar); the position is then the start of the enclosing scalar.
    """

    line: int
    column: int
    byte_column: int
    offset: int
    exact: bool = True


class SourceText:
    """The decoded text of one file with a line table.

    Args:
        text: the file's text, BOM already removed, line terminators kept as they are.
    """

    __slots__ = ("text", "line_starts", "had_bom")

    def __init__(self, text: str, *, had_bom: bool = False) -> None:
        self.text = text
        self.had_bom = had_bom
        # LF, CRLF or a lone CR ends a line (a regex scan: linear and fast on 50 MB lines).
        self.line_starts: list[int] = [0, *(m.end() for m in _LINE_BREAK.finditer(text))]

    @property
    def line_count(self) -> int:
        """Number of lines (a trailing terminator does not open a new, counted line)."""
        if len(self.line_starts) > 1 and self.line_starts[-1] == len(self.text):
            return len(self.line_starts) - 1
        return len(self.line_starts)

    def line_of(self, offset: int) -> int:
        """The 1-based line holding `offset`."""
        return bisect.bisect_right(self.line_starts, offset)

    def line_span(self, line: int) -> tuple[int, int]:
        """``(start, end)`` offsets of 1-based `line`, end excluding the terminator."""
        start = self.line_starts[line - 1]
        end = self.line_starts[line] if line < len(self.line_starts) else len(self.text)
        while end > start and self.text[end - 1] in "\r\n":
            end -= 1
        return start, end

    def line_text(self, line: int) -> str:
        """Text of 1-based `line` without its terminator."""
        start, end = self.line_span(line)
        return self.text[start:end]

    def lines(self) -> list[tuple[int, int, int]]:
        """Every line as ``(line_number, start_offset, end_offset)`` (end without terminator)."""
        return [(n, *self.line_span(n)) for n in range(1, self.line_count + 1)]

    def position(self, offset: int, *, exact: bool = True) -> SourcePosition:
        """The `SourcePosition` of a 0-based code-point offset into the text."""
        offset = max(0, min(offset, len(self.text)))
        line = self.line_of(offset)
        start = self.line_starts[line - 1]
        column = offset - start + 1
        byte_column = len(self.text[start:offset].encode("utf-8", "surrogatepass")) + 1
        return SourcePosition(line, column, byte_column, offset, exact)


class _Mode(Enum):
    CONTIGUOUS = "contiguous"
    MAPPED = "mapped"
    ANCHOR = "anchor"


@dataclass(frozen=True, slots=True)
class FieldMap:
    """How the characters of one field value sit in the source text.

    Three shapes: a contiguous run (plain text, unescaped strings), an explicit per-character
    map (strings with escapes or folded lines), or an anchor only (the reader could not map
    characters; every offset goes to the scalar's start and is marked inexact).
    """

    mode: _Mode
    anchor: int
    length: int
    starts: tuple[int, ...] = ()
    ends: tuple[int, ...] = ()

    @classmethod
    def contiguous(cls, start: int, length: int) -> FieldMap:
        """Field ``value`` equals ``source[start:start + length]``."""
        return cls(_Mode.CONTIGUOUS, start, length)

    @classmethod
    def mapped(cls, starts: list[int], ends: list[int]) -> FieldMap:
        """Character ``i`` of the value comes from ``source[starts[i]:ends[i]]``."""
        if len(starts) != len(ends):
            raise ValueError("starts and ends differ in length")
        anchor = starts[0] if starts else 0
        if starts and all(
            e - s == 1 for s, e in zip(starts, ends)
        ) and ends[-1] - starts[0] == len(starts):
            return cls.contiguous(starts[0], len(starts))
        return cls(_Mode.MAPPED, anchor, len(starts), tuple(starts), tuple(ends))

    @classmethod
    def anchored(cls, anchor: int, length: int) -> FieldMap:
        """Inexact: every offset maps to `anchor`."""
        return cls(_Mode.ANCHOR, anchor, length)

    @property
    def exact(self) -> bool:
        """True when offsets map to the exact character."""
        return self.mode is not _Mode.ANCHOR

    def start_of(self, index: int) -> int:
        """Source offset where character `index` starts (``index == length`` gives the end)."""
        index = max(0, min(index, self.length))
        if self.mode is _Mode.CONTIGUOUS:
            return self.anchor + index
        if self.mode is _Mode.ANCHOR:
            return self.anchor
        if index == self.length:
            return self.ends[-1] if self.ends else self.anchor
        return self.starts[index]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Source ``(start, end)`` offsets of the value's ``[start, end)``; end exclusive."""
        start = max(0, min(start, self.length))
        end = max(start, min(end, self.length))
        if self.mode is _Mode.CONTIGUOUS:
            return self.anchor + start, self.anchor + end
        if self.mode is _Mode.ANCHOR:
            return self.anchor, self.anchor
        if end == start:
            point = self.start_of(start)
            return point, point
        return self.starts[start], self.ends[end - 1]
