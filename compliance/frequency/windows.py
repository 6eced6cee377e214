"""`Window`: the stretch of time a cap counts over — calendar units in a time zone, or rolling.

Calendar windows are made of *buckets* (a day, a month or a year in the window's time zone),
numbered so that consecutive buckets have consecutive integers. A window of ``count`` units
is the bucket holding the send plus the ``count - 1`` before it: "per 2 days" is today and
yesterday, not the last 48 hours (rolling windows say that explicitly).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_US = timedelta(microseconds=1)

_UNIT_NAMES: dict[str, str] = {"day": "自然日", "month": "自然月", "year": "自然年"}
_UNIT_COUNTED: dict[str, str] = {"day": "个自然日", "month": "个自然月", "year": "个自然年"}


def to_us(at: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime (exact, no float rounding)."""
    return (at - _EPOCH) // _ONE_US


def from_us(us: int, tz: ZoneInfo) -> datetime:
    """The aware datetime in ``tz`` for microseconds since the Unix epoch."""
    return (_EPOCH + timedelta(microseconds=us)).astimezone(tz)


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """A cached `ZoneInfo` (construction is cheap, but not free on a hot path)."""
    return ZoneInfo(name)


@dataclass(frozen=True)
class Window:
    """How far back a cap counts.

    Attributes:
        kind: ``"calendar"`` (whole days/months/years in ``tz``) or ``"rolling"`` (a duration
            ending at the send).
        unit: calendar unit: ``"day"``, ``"month"`` or ``"year"``.
        count: calendar windows: the current unit plus ``count - 1`` previous ones.
        seconds: rolling windows: length in seconds; a send at ``t`` counts the sends in
            ``(t - seconds, t]``.
        tz: time zone of calendar boundaries (IANA name).
    """

    kind: Literal["calendar", "rolling"]
    unit: Literal["day", "month", "year"] | None = None
    count: int = 1
    seconds: int | None = None
    tz: str = "Asia/Shanghai"
    _zone: ZoneInfo = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.kind == "calendar":
            if self.unit not in _UNIT_NAMES:
                raise ValueError(f"calendar window needs unit day, month or year, got {self.unit!r}")
            if self.count < 1:
                raise ValueError(f"calendar window count must be >= 1, got {self.count}")
            if self.seconds is not None:
                raise ValueError("a calendar window has no seconds; use kind='rolling'")
        elif self.kind == "rolling":
            if self.seconds is None or self.seconds <= 0:
                raise ValueError(f"rolling window needs seconds > 0, got {self.seconds!r}")
            if self.unit is not None:
                raise ValueError("a rolling window has no calendar unit")
        else:
            raise ValueError(f"window kind must be 'calendar' or 'rolling', got {self.kind!r}")
        try:
            object.__setattr__(self, "_zone", zone(self.tz))
        except Exception as exc:  # ZoneInfoNotFoundError, ValueError for malformed keys
            raise ValueError(f"unknown time zone {self.tz!r}") from exc

    @property
    def zone(self) -> ZoneInfo:
        """The window's time zone."""
        return self._zone

    def describe(self) -> str:
        """The window in Chinese, for messages: 自然日, 2个自然日, 自然月, 滚动48小时, ..."""
        if self.kind == "calendar":
            assert self.unit is not None
            if self.count == 1:
                return _UNIT_NAMES[self.unit]
            return f"{self.count}{_UNIT_COUNTED[self.unit]}"
        assert self.seconds is not None
        s = self.seconds
        # Short windows read in hours as the rules write them ("滚动48小时"), long ones in days.
        if s % 86400 == 0 and s > 72 * 3600:
            return f"滚动{s // 86400}天"
        if s % 3600 == 0:
            return f"滚动{s // 3600}小时"
        if s % 60 == 0:
            return f"滚动{s // 60}分钟"
        return f"滚动{s}秒"

    @property
    def store_tag(self) -> str:
        """Part of a store key: counts kept for one window shape must not be read by another."""
        if self.kind == "calendar":
            return f"{self.unit}@{self.tz}"
        return "rolling"

    # -- calendar buckets -------------------------------------------------------------------

    def bucket_of(self, at: datetime) -> int:
        """Number of the calendar bucket (day/month/year in ``tz``) holding ``at``."""
        local = at.astimezone(self._zone)
        if self.unit == "day":
            return local.toordinal()
        if self.unit == "month":
            return local.year * 12 + local.month - 1
        return local.year

    def bucket_start(self, bucket: int) -> datetime:
        """Start (aware, in ``tz``) of a calendar bucket."""
        if self.unit == "day":
            d = date.fromordinal(bucket)
            return datetime(d.year, d.month, d.day, tzinfo=self._zone)
        if self.unit == "month":
            return datetime(bucket // 12, bucket % 12 + 1, 1, tzinfo=self._zone)
        return datetime(bucket, 1, 1, tzinfo=self._zone)

    def span(self, at: datetime) -> tuple[datetime, datetime]:
        """``[start, end)`` of the window a send at ``at`` is judged in."""
        if self.kind == "rolling":
            assert self.seconds is not None
            local = at.astimezone(self._zone)
            return local - timedelta(seconds=self.seconds), local
        b = self.bucket_of(at)
        return self.bucket_start(b - self.count + 1), self.bucket_start(b + 1)

    def retention_us(self, at: datetime) -> int:
        """How long after ``at`` a send at ``at`` can still count in some window (µs).

        Stores use it to expire counts: a calendar bucket matters until the last window that
        contains it closes; a rolling event for ``seconds``.
        """
        if self.kind == "rolling":
            assert self.seconds is not None
            return self.seconds * 1_000_000
        end = self.bucket_start(self.bucket_of(at) + self.count)
        return to_us(end) - to_us(at)
