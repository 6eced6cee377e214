"""Pinned lint results for a sample of the real corpus: optimizations must not change findings.

The pin file (``data/lint_pinned.json``) holds, for every 10th line of each corpus file, the
fields' lengths and offsets and each finding's rule, field and span, plus a short hash of
its category, severity, ref, message and fix (every 30th line also linted as a template). It holds no corpus text (the corpus must not be
copied into the repository): a line is identified by file and line number, and by a hash of
its text, so that a changed corpus is reported as such rather than as a behaviour change.

When a rules or lexicon change is *meant* to change findings, regenerate the pin and review
the diff:  ``python tests/analyzer/test_lint_pinned.py --update``.

Skipped when ../shared/corpora is absent.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

CORPORA = Path(__file__).resolve().parents[3] / "shared" / "corpora"
PIN = Path(__file__).resolve().parent / "data" / "lint_pinned.json"
#: Every STEP-th line of each corpus file is pinned (~940 messages: fast, yet varied), and
#: every TEMPLATE_STEP-th is linted as a template body too (JD-SMS-08…10 instead of 26).
STEP = 10
TEMPLATE_STEP = 30
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff]) +(?=[\u3400-\u9fff])")


def _digest(*parts: Any) -> str:
    return hashlib.sha1(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()[:10]


def sample() -> list[tuple[str, int, str]]:
    """(file name, 0-based line number, message text) of the pinned lines."""
    out: list[tuple[str, int, str]] = []
    tsv = CORPORA / "sms_spam_zh.tsv"
    for number, raw in enumerate(tsv.read_text(encoding="utf-8").splitlines()):
        if number % STEP == 0:
            out.append((tsv.name, number, raw.partition("\t")[2]))
    for path in sorted(CORPORA.glob("fbs_*.txt")):
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines()):
            if number % STEP == 0:
                out.append((path.name, number, _CJK_GAP.sub("", raw)))
    return out


def lint_record(engine: Any, text: str, *, via_template: bool | None) -> dict[str, Any]:
    """What is pinned for one message: no corpus text, only shapes and hashes."""
    report = engine.lint(text, channel="jd.sms", via_template=via_template)
    return {
        "text": _digest(text),
        "fields": [[name, len(value), report.offsets.get(name)]
                   for name, value in sorted(report.fields.items()) if value or name in report.offsets],
        "findings": [
            [f.rule, f.field, f.start, f.end, _digest(f.category, f.severity, f.ref, f.message, f.fix)]
            for f in report.findings
        ],
    }


def records(engine: Any) -> dict[str, dict[str, Any]]:
    """Pinned records keyed ``file:line`` (rendered message) and ``file:line:template``."""
    out: dict[str, dict[str, Any]] = {}
    for name, number, text in sample():
        out[f"{name}:{number}"] = lint_record(engine, text, via_template=None)
        if number % TEMPLATE_STEP == 0:
            out[f"{name}:{number}:template"] = lint_record(engine, text, via_template=True)
    return out


@pytest.mark.corpus
@pytest.mark.skipif(not (CORPORA / "sms_spam_zh.tsv").exists(), reason="../shared/corpora absent")
def test_lint_results_match_the_pin() -> None:
    from compliance import Engine

    pinned = json.loads(PIN.read_text(encoding="utf-8"))
    current = records(Engine())
    assert current.keys() == pinned.keys(), "corpus files changed: regenerate the pin (see module doc)"
    changed_text = [key for key in pinned if pinned[key]["text"] != current[key]["text"]]
    assert not changed_text, f"corpus lines changed: {changed_text[:5]}; regenerate the pin"
    differing = [key for key in pinned if pinned[key] != current[key]]
    detail = [(key, pinned[key], current[key]) for key in differing[:3]]
    assert not differing, f"{len(differing)} messages lint differently, e.g. {detail}"


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    if sys.argv[1:] != ["--update"]:
        raise SystemExit("usage: python tests/analyzer/test_lint_pinned.py --update")
    from compliance import Engine

    PIN.parent.mkdir(exist_ok=True)
    lines = [f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False, separators=(',', ':'))}"
             for key, value in sorted(records(Engine()).items())]
    PIN.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")  # one message a line
    print(f"wrote {PIN}")
