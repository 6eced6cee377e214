"""`memory://`: a dict-backed store for tests and single-process services (not durable)."""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right, insort
from collections.abc import Sequence

from compliance.frequency.plan import Check
from compliance.frequency.stores.base import BatchItem, Evaluation, Marker, Store, sweep_horizon_us

# Writes between sweeps of expired counts: frequent enough to bound memory, rare enough
# that the O(size) sweep costs little per send.
_SWEEP_EVERY = 8192


class MemoryStore(Store):
    """All counts in process memory behind one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # key -> {bucket: count} and key -> {bucket: expires_us}. One lookup tells that a key
        # has no count at all (a recipient's first send, the common case), whatever its
        # window's length. Dicts of ints only: the garbage collector does not track them, so
        # a store of millions of counts costs it nothing (with a list per bucket, the full
        # collections over them took a third of a reservation's time).
        self._buckets: dict[str, dict[int, int]] = {}
        self._expires: dict[str, dict[int, int]] = {}
        # key -> ascending [(timestamp_us, member)], and the key's window length
        self._events: dict[str, list[tuple[int, str]]] = {}
        self._event_window_us: dict[str, int] = {}
        # marker key -> expires_us
        self._markers: dict[str, int] = {}
        self._writes = 0
        # No count, event or marker expires before this (µs): a sweep before it would find
        # nothing, so it returns at once instead of walking the whole store.
        self._earliest = _NEVER

    def _observe_rolling(self, check: Check) -> tuple[int, ...]:
        events = self._events.get(check.key)
        if not events:
            return ()
        lo = bisect_right(events, check.at_us - check.window_us, key=_timestamp)
        hi = bisect_left(events, check.at_us + check.window_us, key=_timestamp)
        return tuple(ts for ts, _ in events[lo:hi])

    def _evaluate_locked(
        self, checks: Sequence[Check], record: bool, marker: Marker | None
    ) -> Evaluation:
        # One pass reads every check (what `plan.passes` decides, inlined: this is the whole
        # cost of a reservation), a second records them only if all blocking ones passed.
        buckets = self._buckets
        observations: list[tuple[int, ...]] = []
        # Per check, the key's buckets as read (None: no count yet, or a rolling check).
        found: list[dict[int, int] | None] = []
        allowed = True
        for check in checks:
            if check.rolling:
                per_key = None
                observation = self._observe_rolling(check)
                count = len(observation)
            else:
                numbers = check.buckets
                per_key = buckets.get(check.key)
                if per_key is None:
                    observation = _ZEROS[len(numbers)] if len(numbers) < len(_ZEROS) else (0,) * len(numbers)
                    count = 0
                else:
                    counts = []
                    count = 0
                    for number in numbers:
                        n = per_key.get(number, 0)
                        counts.append(n)
                        count += n
                    observation = tuple(counts)
            found.append(per_key)
            observations.append(observation)
            if count >= check.limit and check.blocking:
                allowed = False
        if allowed and record:
            for check, per_key in zip(checks, found):
                expires = check.at_us + check.ttl_us
                if check.rolling:
                    insort(self._events.setdefault(check.key, []), (check.at_us, check.member))
                    self._event_window_us[check.key] = check.window_us
                    if check.at_us + check.window_us < self._earliest:
                        self._earliest = check.at_us + check.window_us
                    continue
                if expires < self._earliest:
                    self._earliest = expires
                key, number = check.key, check.buckets[check.own]
                if per_key is None:
                    per_key = buckets.get(key)  # None unless two checks share a key
                    if per_key is None:
                        buckets[key] = {number: 1}
                        self._expires[key] = {number: expires}
                        continue
                per_key[number] = per_key.get(number, 0) + 1
                key_expires = self._expires[key]
                if expires > key_expires.get(number, 0):
                    key_expires[number] = expires
            if marker is not None:
                marker_expires = checks[0].at_us + marker.ttl_us
                self._markers[_marker_key(marker)] = marker_expires
                if marker_expires < self._earliest:
                    self._earliest = marker_expires
            self._writes += 1
            if self._writes % _SWEEP_EVERY == 0:
                self._sweep(sweep_horizon_us(checks[0].at_us))
        return Evaluation(allowed, tuple(observations))

    def evaluate(self, checks: Sequence[Check], *, record: bool, marker: Marker | None) -> Evaluation:
        with self._lock:
            return self._evaluate_locked(checks, record, marker)

    def evaluate_many(self, items: Sequence[BatchItem]) -> list[Evaluation]:
        with self._lock:
            return [self._evaluate_locked(checks, True, marker) for checks, marker in items]

    def release(self, marker: Marker, checks: Sequence[Check]) -> bool:
        with self._lock:
            if self._markers.pop(_marker_key(marker), None) is None:
                return False
            for check in checks:
                if check.rolling:
                    events = self._events.get(check.key, [])
                    item = (check.at_us, check.member)
                    i = bisect_right(events, item) - 1
                    if i >= 0 and events[i] == item:
                        del events[i]
                else:
                    per_key = self._buckets.get(check.key)
                    number = check.buckets[check.own]
                    count = per_key.get(number, 0) if per_key is not None else 0
                    if per_key is None or count == 0:
                        continue
                    if count > 1:
                        per_key[number] = count - 1
                        continue
                    del per_key[number]
                    key_expires = self._expires[check.key]
                    del key_expires[number]
                    if not per_key:
                        del self._buckets[check.key], self._expires[check.key]
            return True

    def _sweep(self, horizon_us: int) -> None:
        if horizon_us < self._earliest:
            return  # nothing has expired yet
        earliest = _NEVER
        buckets: dict[str, dict[int, int]] = {}
        expires: dict[str, dict[int, int]] = {}
        for key, key_expires in self._expires.items():
            live = {b: e for b, e in key_expires.items() if e > horizon_us}
            if live:
                earliest = min(earliest, min(live.values()))
            if len(live) == len(key_expires):
                buckets[key], expires[key] = self._buckets[key], key_expires
            elif live:
                counts = self._buckets[key]
                buckets[key], expires[key] = {b: counts[b] for b in live}, live
        self._buckets, self._expires = buckets, expires
        self._markers = {k: v for k, v in self._markers.items() if v > horizon_us}
        if self._markers:
            earliest = min(earliest, min(self._markers.values()))
        for key in list(self._events):
            cutoff = horizon_us - self._event_window_us[key]
            items = self._events[key]
            # An event at ts counts for sends before ts + window; none can come before horizon.
            keep = bisect_right(items, cutoff, key=_timestamp)
            if keep == len(items):
                del self._events[key], self._event_window_us[key]
                continue
            if keep:
                del items[:keep]
            earliest = min(earliest, items[0][0] + self._event_window_us[key])
        self._earliest = earliest

    def close(self) -> None:
        with self._lock:
            self._buckets.clear()
            self._expires.clear()
            self._events.clear()
            self._event_window_us.clear()
            self._markers.clear()
            self._earliest = _NEVER


_NEVER = 2**63  # µs: later than any expiry

#: The observation of a key without counts, by number of buckets.
_ZEROS: tuple[tuple[int, ...], ...] = tuple((0,) * n for n in range(16))


def _timestamp(event: tuple[int, str]) -> int:
    return event[0]


def _marker_key(marker: Marker) -> str:
    return f"{marker.tag}|{marker.token}"
