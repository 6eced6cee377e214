"""The ``github`` format: GitHub Actions workflow commands (annotations).

::

    ::error file=copy/sms.txt,line=3,endLine=3,col=3,endColumn=6,title=jd-sms-ad-law (JD-SMS-13)::含有…

Escaping follows the Actions runner (``@actions/core`` ``command.ts``): in the message
``%``, CR and LF become ``%25``, ``%0D``, ``%0A``; in property values ``:`` and ``,`` are also
escaped as ``%3A`` and ``%2C``. The title is the rule id with its catalogue ref (`rule_label`).
``info`` findings become ``notice`` annotations. Columns are
1-based code points; ``endColumn`` is exclusive, as in every format here, and written only
for single-line spans.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from compliance.output.located import LocatedFinding, OutputContext, rule_label, sort_key

_LEVELS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    """Escape a workflow-command message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow-command property value."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


class GithubFormatter:
    """Annotations for GitHub Actions logs and pull-request diffs."""

    name = "github"
    description = "GitHub Actions ::error/::warning/::notice workflow commands"

    def format_one(self, item: LocatedFinding) -> str:
        """The workflow command for one finding."""
        f = item.finding
        props = [
            f"file={escape_property(item.path)}",
            f"line={item.line}",
            f"endLine={item.end_line}",
            f"col={item.column}",
        ]
        if item.end_line == item.line:
            props.append(f"endColumn={max(item.end_column, item.column)}")
        props.append(f"title={escape_property(rule_label(f))}")
        message = f.message
        if f.fix is not None:
            message += f"\nfix: “{f.fix}”"
        return f"::{_LEVELS.get(f.severity, 'error')} {','.join(props)}::{escape_data(message)}"

    def write(
        self,
        findings: Sequence[LocatedFinding],
        stream: TextIO,
        context: OutputContext | None = None,
    ) -> None:
        """One command per line."""
        for item in sorted(findings, key=sort_key):
            stream.write(self.format_one(item) + "\n")
