"""Test data shared by the ledger tests: the JD SMS caps as the rules compiler would build them,
and a helper for Asia/Shanghai times. (Policy lives in rule files; these are fixtures.)"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from compliance.frequency import Cap, Override, Window

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = Window("calendar", "day")
TWO_DAYS = Window("calendar", "day", count=2)
# JD-SMS-23: test SMS count toward the marketing caps, so "test" is one of their classes.
MARKETING = frozenset({"marketing", "test"})


def jd_sms_caps(promotion: Sequence[Override] = (), relaxed: dict[str, int] | None = None) -> list[Cap]:
    """The JD SMS caps (JD-SMS-18…22, 23 via classes, 24 via overrides) as the rules compiler
    would build them. ``relaxed`` maps refs to promotion limits (applied for ``promotion``)."""
    relaxed = relaxed or {}

    def overrides(ref: str) -> tuple[Override, ...]:
        if ref not in relaxed:
            return ()
        return tuple(Override(p.name, p.start, p.end, relaxed[ref]) for p in promotion)

    sms = frozenset({"jd.sms"})
    return [
        Cap("jd-sms-marketing-daily", "JD-SMS-18", sms, MARKETING, ("recipient",), DAY, 3,
            overrides=overrides("JD-SMS-18")),
        Cap("jd-sms-marketing-2days", "JD-SMS-19", sms, MARKETING, ("recipient",), TWO_DAYS, 5,
            overrides=overrides("JD-SMS-19")),
        Cap("jd-sms-merchant-2days", "JD-SMS-20", sms, MARKETING, ("merchant", "recipient"),
            TWO_DAYS, 1, overrides=overrides("JD-SMS-20")),
        Cap("jd-sms-notice-optout", "JD-SMS-21", sms, frozenset({"notice_optout"}),
            ("merchant", "recipient"), DAY, 5),
        Cap("jd-sms-notice-mandatory", "JD-SMS-22", sms, frozenset({"notice_mandatory"}),
            ("merchant", "recipient"), DAY, 2),
    ]


def sh(text: str) -> datetime:
    """An ISO time without offset, read as Asia/Shanghai (as the ledger reads naive times)."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)
