"""The ``junit`` format: JUnit XML for CI dashboards (GitLab, Jenkins, Azure DevOps …).

One ``<testsuite>`` per file and one ``<testcase>`` per message: a message without findings
passes; a message with findings fails with exactly one ``<failure>`` (Ant's JUnit schema
allows at most one per test case, and a dashboard counts a test case as one failure), so
``failures`` never exceeds ``tests``. That failure's ``message`` names the rules (with their
catalogue refs), its ``type`` is the worst severity, and its text lists every finding as the
``text`` format heads it (``path:line:col: rule (REF) [severity] message``) with category and
fix. Messages come from `OutputContext.messages`, plus any message that only appears in a
finding; a finding outside every message (a file-wide suppression comment) is a test case
named after its line.

The document validates against the Jenkins xUnit plugin's ``junit-10.xsd``, the strictest
schema consumers use: test cases carry ``classname`` (the file) and ``name`` (the message and
its line) but no ``file``/``line`` attributes, which that schema refuses. Characters XML 1.0
cannot carry at all (most C0 controls, lone surrogates, U+FFFE/U+FFFF) are written as
``\\xNN`` / ``\\uNNNN`` text; the rest is escaped by ElementTree.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO

from compliance.findings import SEVERITY_RANK
from compliance.output.located import LocatedFinding, MessageRef, OutputContext, rule_label, sort_key

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """Replace characters that XML 1.0 forbids with a visible escape."""
    return _INVALID_XML.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text
    )


def _case_name(ref: MessageRef) -> str:
    label = f"message {ref.id}" if ref.id else f"message {ref.index + 1}"
    return f"{label} (line {ref.line})"


@dataclass(slots=True)
class _Case:
    """One test case: a message (or a line outside every message) and its findings."""

    path: str
    line: int
    index: int
    name: str
    findings: list[LocatedFinding] = field(default_factory=list)


def _describe(item: LocatedFinding) -> str:
    f = item.finding
    text = f"{item.path}:{item.line}:{item.column}: {rule_label(f)} [{f.severity}] {f.message}"
    text += f"\ncategory: {f.category}"
    if f.fix is not None:
        text += f"\nfix: “{f.fix}”"
    return text


def failure_summary(items: Sequence[LocatedFinding]) -> str:
    """The ``message`` of a test case's one failure: ``rule (REF): message`` for one finding,
    ``N problems: rule (REF), …`` (each rule once, in report order) for several."""
    if len(items) == 1:
        f = items[0].finding
        return f"{rule_label(f)}: {f.message}"
    labels = dict.fromkeys(rule_label(item.finding) for item in items)
    return f"{len(items)} problems: {', '.join(labels)}"


class JunitFormatter:
    """JUnit XML: files are suites, messages are test cases, a message with findings fails."""

    name = "junit"
    description = "JUnit XML, one test case per message, failing (once) when it has findings"

    def build(self, findings: Sequence[LocatedFinding], context: OutputContext | None = None) -> ET.Element:
        """The ``<testsuites>`` element."""
        context = context or OutputContext()
        cases: dict[tuple[str, int | str], _Case] = {}
        for ref in context.messages:
            cases[(ref.path, ref.index)] = _Case(ref.path, ref.line, ref.index, _case_name(ref))
        for item in sorted(findings, key=sort_key):
            key: tuple[str, int | str]
            if item.message_index is not None:
                key = (item.path, item.message_index)
                if key not in cases:
                    ref = MessageRef(item.path, item.message_index, item.line, item.message_id)
                    cases[key] = _Case(item.path, item.line, item.message_index, _case_name(ref))
            else:
                key = (item.path, f"line {item.line}")
                if key not in cases:
                    cases[key] = _Case(item.path, item.line, -1, f"line {item.line}")
            cases[key].findings.append(item)
        suites: dict[str, list[_Case]] = {}
        for case in sorted(cases.values(), key=lambda c: (c.path, c.line, c.index)):
            suites.setdefault(case.path, []).append(case)

        root = ET.Element("testsuites", name=xml_safe(context.tool_name))
        total_tests = total_failures = 0
        for path, entries in suites.items():
            failures = sum(1 for case in entries if case.findings)
            suite = ET.SubElement(
                root, "testsuite", name=xml_safe(path), tests=str(len(entries)),
                failures=str(failures), errors="0", skipped="0",
            )
            total_tests += len(entries)
            total_failures += failures
            for case in entries:
                element = ET.SubElement(suite, "testcase", classname=xml_safe(path), name=xml_safe(case.name))
                if case.findings:
                    worst = max(case.findings, key=lambda i: SEVERITY_RANK.get(i.finding.severity, 2))
                    failure = ET.SubElement(element, "failure", message=xml_safe(failure_summary(case.findings)),
                                            type=xml_safe(worst.finding.severity))
                    failure.text = xml_safe("\n\n".join(_describe(item) for item in case.findings))
        root.set("tests", str(total_tests))
        root.set("failures", str(total_failures))
        root.set("errors", "0")
        return root

    def write(
        self,
        findings: Sequence[LocatedFinding],
        stream: TextIO,
        context: OutputContext | None = None,
    ) -> None:
        """Write the XML document (declared UTF-8)."""
        root = self.build(findings, context)
        ET.indent(root)
        stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        stream.write(ET.tostring(root, encoding="unicode"))
        stream.write("\n")
