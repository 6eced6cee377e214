"""The ``json`` (one array) and ``jsonl`` (one object per line) formats.

Each object is `LocatedFinding.to_dict()`: path, line, column, end_line, end_column, exact,
message_index, message_id and the finding's own fields (rule, ref, category, severity,
message, field, start, end, fix, explanation). Non-ASCII text is written as is (UTF-8).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TextIO

from compliance.output.located import LocatedFinding, OutputContext, sort_key


class JsonFormatter:
    """A single JSON array of findings."""

    name = "json"
    description = "a JSON array of findings with their locations"

    def write(
        self,
        findings: Sequence[LocatedFinding],
        stream: TextIO,
        context: OutputContext | None = None,
    ) -> None:
        """Write the array (indented, UTF-8, trailing newline)."""
        data = [item.to_dict() for item in sorted(findings, key=sort_key)]
        json.dump(data, stream, ensure_ascii=False, indent=2)
        stream.write("\n")


class JsonLinesFormatter:
    """One JSON object per line (streams well for archive audits)."""

    name = "jsonl"
    description = "one JSON object per finding per line"

    def write(
        self,
        findings: Sequence[LocatedFinding],
        stream: TextIO,
        context: OutputContext | None = None,
    ) -> None:
        """Write one compact object per line; no output for no findings."""
        for item in sorted(findings, key=sort_key):
            stream.write(json.dumps(item.to_dict(), ensure_ascii=False, separators=(",", ":")))
            stream.write("\n")
