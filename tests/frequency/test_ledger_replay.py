"""Replay: auditing an archive reports each send that broke a cap and the earlier sends."""

from __future__ import annotations

import random
import tracemalloc
from collections.abc import Iterator
from datetime import timedelta

import pytest

from compliance.frequency import Ledger, Send
from ledger_fixtures import jd_sms_caps, sh


def archive() -> list[Send]:
    d1, d2 = sh("2024-06-01T00:00"), sh("2024-06-02T00:00")
    rows = [("a1", "A", d1, 9), ("b1", "B", d1, 10), ("c1", "C", d1, 11), ("d1", "D", d1, 15),
            ("e2", "E", d2, 9), ("a2", "A", d2, 13)]
    sends = [Send("jd.sms", "marketing", m, "P", day + timedelta(hours=h), id=i) for i, m, day, h in rows]
    sends.append(Send("jd.sms", "notice_optout", "A", "P", d2 + timedelta(hours=14), id="n1"))
    return sends


EXPECTED = [
    # D on day 1: A, B, C already went that day.
    ("d1", "JD-SMS-18", ("a1", "b1", "c1")),
    # A on day 2: the archive's D did go out, so days 1-2 already hold five marketing SMS...
    ("a2", "JD-SMS-19", ("a1", "b1", "c1", "d1", "e2")),
    # ...and A had already sent to P on day 1.
    ("a2", "JD-SMS-20", ("a1",)),
]


def test_replay_reports_rule_and_earlier_sends() -> None:
    with Ledger.open("memory://", jd_sms_caps()) as ledger:
        found = [(v.send.id, v.ref, v.earlier) for v in ledger.replay(archive(), assume_sorted=True)]
        assert found == EXPECTED
        first = next(iter(ledger.replay(archive())))
        assert first.position == 3 and first.rule == "jd-sms-marketing-daily"
        assert first.finding.category == "frequency"
        assert "earlier sends: a1, b1, c1" in first.finding.explanation
        # replay audits; it does not write to the ledger's store
        assert ledger.reserve(archive()[0]).allowed


def test_unsorted_archive_is_sorted_and_ids_default_to_positions() -> None:
    sends = archive()
    shuffled = sends[:]
    random.Random(7).shuffle(shuffled)
    with Ledger.open("memory://", jd_sms_caps()) as ledger:
        assert [(v.send.id, v.ref, v.earlier) for v in ledger.replay(shuffled)] == EXPECTED
        anonymous = [Send(s.channel, s.message_class, s.merchant, s.recipient, s.at) for s in sends]
        (first, *_) = ledger.replay(anonymous)
        assert first.earlier == ("#0", "#1", "#2")
        with pytest.raises(ValueError, match="assume_sorted=False"):
            list(ledger.replay(list(reversed(sends)), assume_sorted=True))


def test_unsorted_archive_larger_than_one_sorted_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import compliance.frequency.replay as replay_module

    monkeypatch.setattr(replay_module, "_RUN_SIZE", 2)  # force spilling to temporary files
    shuffled = archive()
    random.Random(3).shuffle(shuffled)
    with Ledger.open("memory://", jd_sms_caps()) as ledger:
        assert [(v.send.id, v.ref, v.earlier) for v in ledger.replay(shuffled)] == EXPECTED


def days_of_traffic(days: int, per_day: int = 400) -> Iterator[Send]:
    """Fresh recipients every day: a replay that kept every scope would grow with ``days``."""
    start = sh("2024-01-01T08:00")
    step = timedelta(seconds=12 * 3600 // per_day)
    for day in range(days):
        for i in range(per_day):
            yield Send("jd.sms", "marketing", f"M{i % 7}", f"P{day}-{i % 100}",
                       start + timedelta(days=day) + i * step)


def peak_replay_memory(days: int) -> tuple[int, int]:
    with Ledger.open("memory://", jd_sms_caps()) as ledger:
        tracemalloc.start()
        try:
            violations = sum(1 for _ in ledger.replay(days_of_traffic(days), assume_sorted=True))
            return tracemalloc.get_traced_memory()[1], violations
        finally:
            tracemalloc.stop()


def test_replay_memory_follows_open_windows_not_archive_size() -> None:
    small, small_violations = peak_replay_memory(3)
    large, large_violations = peak_replay_memory(24)
    assert large_violations > 7 * small_violations > 0  # the large archive really was replayed
    assert large < 1.5 * small
