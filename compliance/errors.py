"""Error types users see, and how a source error is drawn (file:line:col, the line, a caret).

Every error the library raises on purpose derives from `ComplianceError`, so embedding
services can catch one type.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from compliance.grammar.ast import Pos


class ComplianceError(Exception):
    """Base of every error the compliance library raises on purpose."""


def did_you_mean(word: str, candidates: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The closest candidate to a misspelt word, or None."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return matches[0] if matches else None


def _display_width(text: str) -> int:
    """Terminal columns of text: CJK and full-width characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


@dataclass(frozen=True)
class Diagnostic:
    """One problem in a rules file, with where it is and what would fix it."""

    message: str
    pos: Pos
    hint: str | None = None
    source_line: str | None = None

    def render(self) -> str:
        """Rust/Ruff style: ``file:line:col: error: message``, the line, a caret, the hint."""
        out = [f"{self.pos.file}:{self.pos.line}:{self.pos.column}: error: {self.message}"]
        if self.source_line is not None and self.pos.line > 0:
            gutter = str(self.pos.line)
            pad = " " * len(gutter)
            line = self.source_line.rstrip("\n").expandtabs(4)
            prefix = line[: max(self.pos.column - 1, 0)]
            if self.pos.end_line == self.pos.line and self.pos.end_column > self.pos.column:
                span = line[self.pos.column - 1 : self.pos.end_column - 1]
                width = max(_display_width(span), 1)
            else:
                width = 1
            out.append(f"{pad} |")
            out.append(f"{gutter} | {line}")
            out.append(f"{pad} | {' ' * _display_width(prefix)}{'^' * width}")
        if self.hint:
            out.append(f"  = {self.hint}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.render()


class RulesError(ComplianceError):
    """A rules file that does not parse or does not check. Holds every diagnostic found."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        super().__init__("\n\n".join(d.render() for d in diagnostics))


class RulesSyntaxError(RulesError):
    """A rules file that does not parse."""


@dataclass(frozen=True)
class FactProblem:
    """One fact that does not fit its declared type: where, what was expected, what was given.

    ``given`` is the type of the value given (``str``, ``bool``, ``null``, a column's Arrow
    type) or ``missing``; ``detail`` says more when the type alone does not (a date string in
    another format). The value itself is never repeated: facts may be personal data.
    """

    field: str
    expected: str
    given: str
    detail: str = ""

    def __str__(self) -> str:
        if self.given == "missing":
            text = f"{self.field}: missing (expected {self.expected})"
        else:
            text = f"{self.field}: expected {self.expected}, got {self.given}"
        return f"{text} ({self.detail})" if self.detail else text

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "expected": self.expected, "given": self.given, "message": str(self)}


class FactError(ComplianceError, ValueError):
    """Facts given to `Engine.eligibility` (or audience rows) that do not fit the schema.

    ``problems`` lists every fact that did not fit its type, when the error is about types
    (empty for other fact errors, e.g. a send without a channel).
    """

    def __init__(self, message: str, problems: Iterable[FactProblem] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[FactProblem, ...] = tuple(problems)


class EvaluationError(ComplianceError):
    """A rule failed at run time (division by zero, a regex time-out, ...)."""


class UnknownChannelError(ComplianceError, KeyError):
    """A channel no loaded pack applies to."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def source_line(text: str, line: int) -> str | None:
    """The 1-based ``line`` of text, or None when out of range.

    Lines end at ``\n`` only, as the parser counts them (``str.splitlines`` would also split at
    U+2028, form feeds and others, and show the wrong line).
    """
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    if 1 <= line <= len(lines):
        return lines[line - 1]
    return None
