"""The ``text`` format: Ruff-like lines with the source line and an underline.

::

    copy/sms.txt:3:3: jd-sms-ad-law (JD-SMS-13) [error] 含有广告法禁用词“最低价”
      3 | 全网最低价，快来抢购！
        |     ^~~~~
        = fix: replace “最低价” with “超低价”

Underlines are aligned by display width: East-Asian wide and full-width characters (CJK,
most emoji) take two terminal cells, combining marks none, a tab four.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence
from typing import TextIO

from compliance.output.located import LocatedFinding, OutputContext, rule_label, sort_key

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
TAB_WIDTH = 4


def char_width(ch: str) -> int:
    """Terminal cells taken by one character."""
    if ch == "\t":
        return TAB_WIDTH
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Terminal cells taken by `text`."""
    return sum(char_width(ch) for ch in text)


#: A long source line is shown as a window: this many characters either side of the span,
#: and at most `EXCERPT_SPAN` characters of the span itself (a 10 MB line stays one screen).
EXCERPT_CONTEXT = 40
EXCERPT_SPAN = 80
#: Header messages longer than this are cut (they can quote a long run of the copy).
MESSAGE_CHARS = 300


def one_line(text: str) -> str:
    """`text` with line breaks turned into spaces, so one finding keeps one header line; cut
    to `MESSAGE_CHARS` characters."""
    if "\n" in text or "\r" in text:
        text = " ".join(part.strip() for part in text.splitlines() if part.strip())
    return text if len(text) <= MESSAGE_CHARS else text[:MESSAGE_CHARS] + "…"


def printable(text: str) -> str:
    """`text` as a terminal can show it: tabs as spaces; control, format (bidi overrides,
    zero-width) and line/paragraph-separator characters as ``\\uXXXX``, so they neither
    reorder nor hide what is around them."""
    if text.isprintable():
        return text
    return "".join(
        " " * TAB_WIDTH if ch == "\t"
        else f"\\u{ord(ch):04x}" if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch
        for ch in text
    )


def excerpt(line: str, start: int, end: int) -> tuple[str, str, str]:
    """(before, span, after) of `line` as shown: a window around ``line[start:end]``, each part
    made `printable`, with "…" where the line or the span is cut."""
    end = max(end, start)
    lo = max(0, start - EXCERPT_CONTEXT)
    span_end = min(end, start + EXCERPT_SPAN)
    before = ("…" if lo > 0 else "") + printable(line[lo:start])
    span = printable(line[start:span_end]) + ("…" if span_end < end else "")
    if span_end < end:
        return before, span, ""
    hi = min(len(line), end + EXCERPT_CONTEXT)
    return before, span, printable(line[end:hi]) + ("…" if hi < len(line) else "")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary_line(findings: Sequence[LocatedFinding]) -> str:
    """``Found N problems (E errors, W warnings)``, or ``All checks passed!``."""
    if not findings:
        return "All checks passed!"
    counts = Counter(item.finding.severity for item in findings)
    parts = [_plural(counts["error"], "error"), _plural(counts["warning"], "warning")]
    if counts["info"]:
        parts.append(f"{counts['info']} info")
    return f"Found {_plural(len(findings), 'problem')} ({', '.join(parts)})"


def _is_tty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed stream
        return False


class TextFormatter:
    """Human output for terminals and pre-commit logs."""

    name = "text"
    description = "path:line:col: RULE (REF) [severity] message, with the source line underlined"

    def render(self, item: LocatedFinding) -> list[tuple[str, str | None]]:
        """The lines for one finding as ``(text, rich style or None)`` pieces, one per line."""
        f = item.finding
        head = (f"{item.path}:{item.line}:{item.column}: {rule_label(f)} [{f.severity}] "
                f"{printable(one_line(f.message))}")
        lines: list[tuple[str, str | None]] = [(head, None)]
        if item.line >= 1:
            gutter = str(item.line)
            pad = " " * len(gutter)
            line = item.source_line
            end = item.end_column - 1 if item.end_line == item.line else len(line)
            before, under, after = excerpt(line, item.column - 1, end)
            width = max(1, display_width(under))
            marker = "^" + "~" * (width - 1)
            lines.append((f"  {gutter} | {before}{under}{after}", None))
            lines.append((f"  {pad} | {' ' * display_width(before)}{marker}", _SEVERITY_STYLE.get(f.severity)))
            if f.fix is not None:
                lines.append((f"  {pad} = fix: {self._describe_fix(item, under)}", "green"))
        return lines

    @staticmethod
    def _describe_fix(item: LocatedFinding, original: str) -> str:
        fix = item.finding.fix or ""
        if item.exact and item.end_line == item.line and original:
            return f"delete “{original}”" if not fix else f"replace “{original}” with “{fix}”"
        return f"insert “{fix}”" if item.exact and not original and fix else f"“{fix}”"

    def write(
        self,
        findings: Sequence[LocatedFinding],
        stream: TextIO,
        context: OutputContext | None = None,
    ) -> None:
        """Write every finding, then the summary line; colour only on a TTY (or if forced)."""
        ordered = sorted(findings, key=sort_key)
        color = context.color if context is not None and context.color is not None else _is_tty(stream)
        summary = context.summary if context is not None else True
        if color:
            self._write_rich(ordered, stream, summary)
            return
        for item in ordered:
            for text, _style in self.render(item):
                stream.write(text + "\n")
        if summary:
            if ordered:
                stream.write("\n")
            stream.write(summary_line(ordered) + "\n")

    def _write_rich(self, ordered: Sequence[LocatedFinding], stream: TextIO, summary: bool = True) -> None:
        from rich.console import Console
        from rich.text import Text

        console = Console(file=stream, force_terminal=True, highlight=False, soft_wrap=True, emoji=False)
        for item in ordered:
            f = item.finding
            for i, (text, style) in enumerate(self.render(item)):
                if i == 0:
                    line = Text()
                    prefix = f"{item.path}:{item.line}:{item.column}:"
                    line.append(prefix, style="bold")
                    line.append(f" {rule_label(f)} ", style="bold magenta")
                    line.append(f"[{f.severity}]", style=_SEVERITY_STYLE.get(f.severity))
                    line.append(f" {one_line(f.message)}")
                    console.print(line)
                else:
                    console.print(Text(text, style=style or ""))
        if summary:
            if ordered:
                console.print()
            console.print(Text(summary_line(ordered), style="bold"))
