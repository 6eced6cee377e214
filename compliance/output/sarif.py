"""The ``sarif`` format: SARIF 2.1.0 (OASIS), for GitHub code scanning and IDEs.

One run; ``tool.driver.rules`` lists every rule that has a result (id, shortDescription,
optional helpUri, ``properties.ref`` / ``properties.category``, defaultConfiguration.level);
each result has ruleId/ruleIndex, level (error/warning/note), message.text and one physical
location whose region uses 1-based lines and columns. ``run.columnKind`` is
``unicodeCodePoints`` because our columns count code points; endColumn is exclusive as the
spec defines it. A result gets ``fixes`` only when it has a fix and its position is exact.
Relative paths are written as relative URI references (percent-encoded), absolute ones as
``file://`` URIs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, TextIO
from urllib.parse import quote

from compliance.output.located import LocatedFinding, OutputContext, RuleInfo, sort_key

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def artifact_uri(path: str) -> str:
    """A SARIF artifact URI for a path as shown to the user."""
    windows = PureWindowsPath(path)
    if windows.drive:
        return windows.as_uri()
    posix = PurePosixPath(path.replace("\\", "/"))
    if posix.is_absolute():
        return posix.as_uri()
    return quote(posix.as_posix(), safe="/")


class SarifFormatter:
    """SARIF 2.1.0 log with one run."""

    name = "sarif"
    description = "SARIF 2.1.0 JSON (GitHub code scanning, IDEs)"

    def build(self, findings: Sequence[LocatedFinding], context: OutputContext | None = None) -> dict[str, Any]:
        """The SARIF log as a dict."""
        context = context or OutputContext()
        ordered = sorted(findings, key=sort_key)
        rule_ids: list[str] = []
        infos: dict[str, RuleInfo] = {}
        for item in ordered:
            f = item.finding
            if f.rule not in infos:
                rule_ids.append(f.rule)
                infos[f.rule] = context.rules.get(f.rule) or RuleInfo(
                    f.rule, f.message, ref=f.ref, category=f.category
                )
        first_severity = {}
        for item in ordered:
            first_severity.setdefault(item.finding.rule, item.finding.severity)
        rules = [self._rule(infos[r], first_severity[r]) for r in rule_ids]
        index = {r: i for i, r in enumerate(rule_ids)}
        results = [self._result(item, index[item.finding.rule]) for item in ordered]
        driver: dict[str, Any] = {"name": context.tool_name, "version": context.tool_version, "rules": rules}
        return {
            "$schema": SARIF_SCHEMA,
            "version": "2.1.0",
            "runs": [{"tool": {"driver": driver}, "columnKind": "unicodeCodePoints", "results": results}],
        }

    @staticmethod
    def _rule(info: RuleInfo, severity: str) -> dict[str, Any]:
        rule: dict[str, Any] = {
            "id": info.id,
            "shortDescription": {"text": info.short_description},
            "defaultConfiguration": {"level": _LEVELS.get(severity, "error")},
            "properties": {"ref": info.ref, "category": info.category},
        }
        if info.help_uri:
            rule["helpUri"] = info.help_uri
        return rule

    @staticmethod
    def _region(item: LocatedFinding) -> dict[str, int]:
        end_line = max(item.end_line, item.line)
        end_column = item.end_column if end_line > item.line else max(item.end_column, item.column)
        return {
            "startLine": max(1, item.line),
            "startColumn": max(1, item.column),
            "endLine": max(1, end_line),
            "endColumn": max(1, end_column),
        }

    def _result(self, item: LocatedFinding, rule_index: int) -> dict[str, Any]:
        f = item.finding
        location = {
            "physicalLocation": {
                "artifactLocation": {"uri": artifact_uri(item.path)},
                "region": self._region(item),
            }
        }
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "ruleIndex": rule_index,
            "level": _LEVELS.get(f.severity, "error"),
            "message": {"text": f.message},
            "locations": [location],
            "properties": {"category": f.category, "ref": f.ref, "field": f.field, "exact": item.exact},
        }
        if f.fix is not None and item.exact:
            result["fixes"] = [
                {
                    "description": {"text": f"replace with “{f.fix}”" if f.fix else "delete"},
                    "artifactChanges": [
                        {
                            "artifactLocation": {"uri": artifact_uri(item.path)},
                            "replacements": [
                                {"deletedRegion": self._region(item), "insertedContent": {"text": f.fix}}
                            ],
                        }
                    ],
                }
            ]
        return result

    def write(
        self,
        findings: Sequence[LocatedFinding],
        stream: TextIO,
        context: OutputContext | None = None,
    ) -> None:
        """Write the SARIF log (indented JSON, UTF-8)."""
        json.dump(self.build(findings, context), stream, ensure_ascii=False, indent=2)
        stream.write("\n")


__all__ = ["SARIF_SCHEMA", "SarifFormatter", "artifact_uri"]
