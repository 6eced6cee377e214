"""The ``junit`` format: JUnit XML for CI dashboards.

One ``<testsuite>`` per file, one ``<testcase>`` per message (passing when it has no
finding; messages come from `OutputContext.messages`, plus any message that only appears in a
finding), one ``<failure>`` per finding. Characters XML 1.0 cannot carry at all (most C0
controls, lone surrogates, U+FFFE/U+FFFF) are written as ``\\xNN`` / ``\\uNNNN`` text; the
rest is escaped by ElementTree.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import TextIO

from compliance.output.located import LocatedFinding, MessageRef, OutputContext, sort_key

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """Replace characters that XML 1.0 forbids with a visible escape."""
    return _INVALID_XML.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text
    )


def _case_name(ref: MessageRef) -> str:
    label = f"message {ref.id}" if ref.id else f"message {ref.index + 1}"
    return f"{label} (line {ref.line})"


class JunitFormatter:
    """JUnit XML: files are suites, messages are test cases, findings are failures."""

    name = "junit"
    description = "JUnit XML, one test case per message and one failure per finding"

    def build(self, findings: Sequence[LocatedFinding], context: OutputContext | None = None) -> ET.Element:
        """The ``<testsuites>`` element."""
        context = context or OutputContext()
        cases: dict[tuple[str, int | str], MessageRef] = {}
        for ref in context.messages:
            cases[(ref.path, ref.index)] = ref
        by_case: dict[tuple[str, int | str], list[LocatedFinding]] = {}
        for item in sorted(findings, key=sort_key):
            key: tuple[str, int | str] = (
                (item.path, item.message_index) if item.message_index is not None else (item.path, f"line {item.line}")
            )
            if key not in cases:
                index = item.message_index if item.message_index is not None else item.line - 1
                cases[key] = MessageRef(item.path, index, item.line, item.message_id)
            by_case.setdefault(key, []).append(item)
        suites: dict[str, list[tuple[MessageRef, list[LocatedFinding]]]] = {}
        for key, ref in sorted(cases.items(), key=lambda kv: (kv[0][0], kv[1].line, kv[1].index)):
            suites.setdefault(ref.path, []).append((ref, by_case.get(key, [])))

        root = ET.Element("testsuites", name=xml_safe(context.tool_name))
        total_tests = total_failures = 0
        for path, entries in suites.items():
            failures = sum(len(items) for _, items in entries)
            suite = ET.SubElement(
                root, "testsuite", name=xml_safe(path), tests=str(len(entries)),
                failures=str(failures), errors="0", skipped="0",
            )
            total_tests += len(entries)
            total_failures += failures
            for ref, items in entries:
                case = ET.SubElement(
                    suite, "testcase", classname=xml_safe(path), name=xml_safe(_case_name(ref)),
                    file=xml_safe(path), line=str(ref.line),
                )
                for item in items:
                    f = item.finding
                    failure = ET.SubElement(
                        case, "failure", message=xml_safe(f"{f.rule}: {f.message}"), type=xml_safe(f.severity)
                    )
                    body = f"{item.path}:{item.line}:{item.column}: {f.rule} [{f.severity}] {f.message}"
                    if f.ref:
                        body += f"\nref: {f.ref}"
                    body += f"\ncategory: {f.category}"
                    if f.fix is not None:
                        body += f"\nfix: “{f.fix}”"
                    failure.text = xml_safe(body)
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
