"""Window descriptions and calendar arithmetic."""

from __future__ import annotations

from datetime import datetime, timezone

from compliance.frequency import Window
from ledger_fixtures import sh


def test_describe_in_chinese() -> None:
    assert Window("calendar", "day").describe() == "自然日"
    assert Window("calendar", "day", count=2).describe() == "2个自然日"
    assert Window("calendar", "month").describe() == "自然月"
    assert Window("calendar", "year").describe() == "自然年"
    assert Window("rolling", seconds=48 * 3600).describe() == "滚动48小时"
    assert Window("rolling", seconds=10 * 86400).describe() == "滚动10天"
    assert Window("rolling", seconds=90).describe() == "滚动90秒"


def test_span_of_two_calendar_days() -> None:
    start, end = Window("calendar", "day", count=2).span(sh("2024-03-01T00:30"))
    assert (start, end) == (sh("2024-02-29T00:00"), sh("2024-03-02T00:00"))  # leap year


def test_buckets_are_consecutive_across_boundaries() -> None:
    day, month, year = (Window("calendar", u) for u in ("day", "month", "year"))  # type: ignore[arg-type]
    assert day.bucket_of(sh("2025-01-01T00:00")) - day.bucket_of(sh("2024-12-31T23:59")) == 1
    assert month.bucket_of(sh("2025-01-01T00:00")) - month.bucket_of(sh("2024-12-31T23:59")) == 1
    assert year.bucket_of(sh("2025-01-01T00:00")) - year.bucket_of(sh("2024-12-31T23:59")) == 1
    b = month.bucket_of(sh("2024-02-10T00:00"))
    assert month.bucket_start(b) == sh("2024-02-01T00:00")
    # 2024-12-31T16:00Z is already 2025 in Shanghai
    assert year.bucket_of(datetime(2024, 12, 31, 16, tzinfo=timezone.utc)) == 2025
