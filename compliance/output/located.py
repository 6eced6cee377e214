"""`LocatedFinding`: a `Finding` placed in a file, the input of every formatter.

Columns follow `compliance.io.positions`: 1-based, counted in code points; ``end_column`` is
exclusive (the column just after the span), as in SARIF. An empty span (an insertion point,
such as a missing signature) has ``end_column == column``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from compliance.findings import Finding
    from compliance.io.copyfiles import CopyMessage


@dataclass(frozen=True, slots=True)
class LocatedFinding:
    """A finding with its place in a source file.

    Attributes:
        finding: the `compliance.findings.Finding`.
        path: file path as it should be shown (relative to the working directory usually).
        line, column: 1-based start (column in code points).
        end_line, end_column: 1-based end, exclusive.
        source_line: text of ``line`` without its terminator ("" when unknown).
        exact: False when the position is only the start of the scalar or message holding the
            span (then formatters do not offer fixes as edits).
        message_index: index of the message in its file, if known.
        message_id: the message's ``id``, if it has one.
    """

    finding: Finding
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    source_line: str = ""
    exact: bool = True
    message_index: int | None = None
    message_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the finding's fields plus the location."""
        data: dict[str, Any] = {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "exact": self.exact,
            "message_index": self.message_index,
            "message_id": self.message_id,
        }
        data.update(self.finding.to_dict())
        return data


@dataclass(frozen=True, slots=True)
class MessageRef:
    """A message that was checked (so reports can list messages without findings).

    Attributes:
        path: file path as shown in reports.
        index: 0-based index of the message in its file.
        line: 1-based first line of the message.
        id: the message's own id, if any.
    """

    path: str
    index: int
    line: int
    id: str | None = None


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What formatters may say about a rule (SARIF ``tool.driver.rules``)."""

    id: str
    short_description: str
    ref: str | None = None
    category: str | None = None
    help_uri: str | None = None


@dataclass(frozen=True, slots=True)
class OutputContext:
    """Optional extra input for formatters.

    Attributes:
        messages: every message checked (JUnit writes a passing test case for each one
            without findings).
        rules: rule metadata by rule id; missing rules get a description from their first
            finding.
        tool_name, tool_version: written by SARIF and JUnit.
        color: force colour on/off in the text format (None: only when the stream is a TTY).
        summary: write the closing summary line in the text format (``--quiet`` turns it off).
    """

    messages: Sequence[MessageRef] = ()
    rules: Mapping[str, RuleInfo] = field(default_factory=dict)
    tool_name: str = "compliance"
    tool_version: str = "0.1.0"
    color: bool | None = None
    summary: bool = True


def locate(
    finding: Finding,
    message: CopyMessage,
    path: str | Path,
    *,
    field_origins: Mapping[str, tuple[str, int]] | None = None,
) -> LocatedFinding:
    """Place a finding reported on `message` in its source file.

    Args:
        finding: the finding; ``field``/``start``/``end`` are offsets into that field.
        message: the copy-file message it was reported on.
        path: path to show.
        field_origins: for findings on fields the engine derived from another field (a whole
            ``text`` split into signature/body/opt-out), ``derived -> (source field, offset of
            the derived field inside it)``.

    Findings without a span, or on a field the message does not have (and that
    `field_origins` does not explain), are placed at the message start and marked inexact
    when they had a span; the span is then the whole message text.
    """
    name, start, end = finding.field, finding.start, finding.end
    if name is not None and name not in message.fields and field_origins and name in field_origins:
        name, base = field_origins[name]
        start = None if start is None else start + base
        end = None if end is None else end + base
    source = message.source
    if name is not None and name in message.fields and start is not None:
        s, e = message.span(name, start, end if end is not None else start)
        exact = s.exact
    else:
        s, e = message.extent
        exact = finding.start is None
    return LocatedFinding(
        finding=finding,
        path=str(path),
        line=s.line,
        column=s.column,
        end_line=e.line,
        end_column=e.column,
        source_line=source.line_text(s.line),
        exact=exact,
        message_index=message.index,
        message_id=message.id,
    )


def rule_label(finding: Finding) -> str:
    """The rule id with its catalogue ref beside it, as the text, ``github`` and ``junit``
    formats show it: ``copy-ad-law (JD-SMS-13)``; the id alone for a rule without a ref."""
    ref = finding.ref
    return f"{finding.rule} ({ref})" if ref and ref != finding.rule else finding.rule


def sort_key(item: LocatedFinding) -> tuple[str, int, int, str]:
    """Report order: path, line, column, rule."""
    return (item.path, item.line, item.column, item.finding.rule)
