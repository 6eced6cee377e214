"""A message's verdict in the compact form that travels between processes and sits in the cache.

Workers send back plain tuples (cheap to pickle); the parent wraps them once per distinct
text in a `Verdict` that precomputes what every repeat of that text needs: the JSON fragment
of each finding row, counts by category/rule/severity and a score for "worst texts".
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

#: Columns of one finding, in output order (after the record's own columns).
FINDING_COLUMNS: tuple[str, ...] = ("rule", "ref", "category", "severity", "field", "start", "end", "message", "fix")
_SEVERITY_WEIGHT = {"error": 2, "warning": 1, "info": 0}

#: (rule, ref, category, severity, field, start, end, message, fix)
FindingTuple = tuple[str, "str | None", str, str, "str | None", "int | None", "int | None", str, "str | None"]


@dataclass(frozen=True, slots=True)
class LintFailure:
    """Linting raised for this input (unknown channel, facts that do not fit...)."""

    reason: str


class Verdict:
    """The findings of one distinct (channel, text) and what the tallies need from them.

    Attributes:
        findings: finding tuples in `FINDING_COLUMNS` order.
        offsets: where each field starts in a whole rendered text (see `LintReport.offsets`).
        fragments: each finding as the tail of a JSON object (``"rule": ..., "fix": ...}``).
        counts: Counter of ("category"|"rule"|"severity", value) over the findings.
        score: (errors, warnings, findings) — larger is worse.
    """

    __slots__ = ("findings", "offsets", "fragments", "counts", "score", "severities")

    def __init__(self, findings: tuple[FindingTuple, ...], offsets: dict[str, int]) -> None:
        self.findings = findings
        self.offsets = offsets
        self.fragments = tuple(
            json.dumps(dict(zip(FINDING_COLUMNS, f)), ensure_ascii=False)[1:] for f in findings
        )
        counts: Counter[tuple[str, str]] = Counter()
        for f in findings:
            counts[("category", f[2])] += 1
            counts[("rule", f[0])] += 1
            counts[("severity", f[3])] += 1
        self.counts = counts
        self.severities = frozenset(f[3] for f in findings)
        errors = sum(1 for f in findings if f[3] == "error")
        warnings = sum(1 for f in findings if f[3] == "warning")
        self.score = (errors, warnings, len(findings))


def finding_tuple(finding: Any) -> FindingTuple:
    """A `compliance.findings.Finding` as a `FindingTuple`."""
    return (finding.rule, finding.ref, finding.category, finding.severity, finding.field,
            finding.start, finding.end, finding.message, finding.fix)


def severity_at_least(severity: str, threshold: str) -> bool:
    """Whether ``severity`` reaches ``threshold`` (``"never"`` is reached by nothing)."""
    if threshold == "never":
        return False
    return _SEVERITY_WEIGHT[severity] >= _SEVERITY_WEIGHT[threshold]
