"""`retry_after`: the earliest time a denied send would pass, from what the store observed.

Counts only fall as windows move on (calendar buckets leave the window, rolling events age
out) while limits can rise or fall at override boundaries, so the answer is found by
walking the few instants where something changes rather than by search.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from compliance.frequency.caps import Cap
from compliance.frequency.plan import Check
from compliance.frequency.windows import from_us, to_us

# Each round moves the candidate time forward to where the failing caps pass; caps can
# only push each other forward a bounded number of times before all pass or one never does.
_MAX_ROUNDS = 64


class _CapOutlook:
    """One cap's count and limit at future times, assuming no further sends are recorded."""

    def __init__(self, cap: Cap, check: Check, observation: Sequence[int]) -> None:
        self.cap = cap
        self.window = cap.window
        self.rolling = check.rolling
        self.events = tuple(observation) if check.rolling else ()
        self.buckets = dict(zip(check.buckets, observation)) if not check.rolling else {}
        self.last_bucket = check.buckets[-1] if check.buckets else 0

    def count_at(self, t: datetime) -> int:
        # The same conservative count the stores use (plan.counted): every window holding t.
        if self.rolling:
            w = self.window.seconds * 1_000_000  # type: ignore[operator]
            t_us = to_us(t)
            return sum(1 for e in self.events if t_us - w < e < t_us + w)
        current = self.window.bucket_of(t)
        span = self.window.count - 1
        return sum(n for b, n in self.buckets.items() if current - span <= b <= current + span)

    def passes_at(self, t: datetime) -> bool:
        return self.count_at(t) < self.cap.limit_at(t)

    def changes_after(self, t: datetime) -> list[datetime]:
        """Instants after ``t`` where this cap's count or limit may change."""
        if self.rolling:
            w = self.window.seconds * 1_000_000  # type: ignore[operator]
            moments = [from_us(e + w, self.window.zone) for e in self.events]
        else:
            current = self.window.bucket_of(t)
            last_relevant = max(current, self.last_bucket) + 1
            moments = [self.window.bucket_start(b) for b in range(current + 1, last_relevant + 1)]
        for override in self.cap.overrides:
            moments += [override.start, override.end]
        return sorted(m for m in moments if m > t)

    def earliest_pass(self, t: datetime) -> datetime | None:
        if self.passes_at(t):
            return t
        for moment in self.changes_after(t):
            if self.passes_at(moment):
                return moment
        return None


def retry_after(
    at: datetime,
    caps: Sequence[Cap],
    checks: Sequence[Check],
    observations: Sequence[Sequence[int]],
) -> datetime | None:
    """Earliest time ``>= at`` at which every blocking cap passes, or None if never.

    ``checks``/``observations`` are the plan and the store's answer for the denied send;
    ``caps`` is the ledger's cap list (``check.index`` points into it).
    """
    outlooks = [
        _CapOutlook(caps[check.index], check, observation)
        for check, observation in zip(checks, observations)
        if check.blocking
    ]
    t = at
    for _ in range(_MAX_ROUNDS):
        failing = [o for o in outlooks if not o.passes_at(t)]
        if not failing:
            return t.astimezone(at.tzinfo)
        later: list[datetime] = []
        for outlook in failing:
            moment = outlook.earliest_pass(t)
            if moment is None:
                return None
            later.append(moment)
        t = max(later)
    return None
