"""What the table tests of ad_law ask of a sentence: its ad_law findings on jd.sms, and the
severities of those that overlap a wording (tests/analyzer/test_ad_law_*.py)."""

from __future__ import annotations

import functools

from compliance import Engine


@functools.cache
def engine() -> Engine:
    """One engine for the tests (building it loads every pack and lexicon)."""
    return Engine()


def ad_law(text: str) -> list[tuple[int, int, str]]:
    """(start, end, severity) of the ad_law findings of `text` linted as a JD SMS."""
    report = engine().lint(text, "jd.sms")
    return [(f.start, f.end, f.severity) for f in report.findings
            if f.category == "ad_law" and f.start is not None and f.end is not None]


def overlapping(text: str, wording: str) -> list[str]:
    """Severities of the ad_law findings that overlap `wording` in `text`."""
    start = text.index(wording)
    end = start + len(wording)
    return [severity for s, e, severity in ad_law(text) if s < end and start < e]
