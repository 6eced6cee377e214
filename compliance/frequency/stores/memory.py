"""`memory://`: a dict-backed store for tests and single-process services (not durable)."""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right, insort
from collections.abc import Sequence

from compliance.frequency.plan import Check, passes
from compliance.frequency.stores.base import BatchItem, Evaluation, Marker, Store, sweep_horizon_us

# Writes between sweeps of expired counts: frequent enough to bound memory, rare enough
# that the O(size) sweep costs little per send.
_SWEEP_EVERY = 8192


class MemoryStore(Store):
    """All counts in process memory behind one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # (key, bucket) -> [count, expires_us]
        self._buckets: dict[tuple[str, int], list[int]] = {}
        # key -> ascending [(timestamp_us, member)], and the key's window length
        self._events: dict[str, list[tuple[int, str]]] = {}
        self._event_window_us: dict[str, int] = {}
        # marker key -> expires_us
        self._markers: dict[str, int] = {}
        self._writes = 0

    def _observe(self, check: Check) -> tuple[int, ...]:
        if check.rolling:
            events = self._events.get(check.key)
            if not events:
                return ()
            lo = bisect_right(events, check.at_us - check.window_us, key=_timestamp)
            hi = bisect_left(events, check.at_us + check.window_us, key=_timestamp)
            return tuple(ts for ts, _ in events[lo:hi])
        buckets = self._buckets
        out = []
        for b in check.buckets:
            entry = buckets.get((check.key, b))
            out.append(entry[0] if entry else 0)
        return tuple(out)

    def _record(self, check: Check) -> None:
        expires = check.at_us + check.ttl_us
        if check.rolling:
            insort(self._events.setdefault(check.key, []), (check.at_us, check.member))
            self._event_window_us[check.key] = check.window_us
            return
        slot = (check.key, check.buckets[check.own])
        entry = self._buckets.get(slot)
        if entry is None:
            self._buckets[slot] = [1, expires]
        else:
            entry[0] += 1
            entry[1] = max(entry[1], expires)

    def _evaluate_locked(
        self, checks: Sequence[Check], record: bool, marker: Marker | None
    ) -> Evaluation:
        observations = tuple(self._observe(c) for c in checks)
        allowed = passes(checks, observations)
        if allowed and record:
            for check in checks:
                self._record(check)
            if marker is not None:
                self._markers[_marker_key(marker)] = checks[0].at_us + marker.ttl_us
            self._writes += 1
            if self._writes % _SWEEP_EVERY == 0:
                self._sweep(sweep_horizon_us(checks[0].at_us))
        return Evaluation(allowed, observations)

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
                    slot = (check.key, check.buckets[check.own])
                    entry = self._buckets.get(slot)
                    if entry is not None:
                        entry[0] -= 1
                        if entry[0] <= 0:
                            del self._buckets[slot]
            return True

    def _sweep(self, horizon_us: int) -> None:
        self._buckets = {k: v for k, v in self._buckets.items() if v[1] > horizon_us}
        self._markers = {k: v for k, v in self._markers.items() if v > horizon_us}
        for key in list(self._events):
            cutoff = horizon_us - self._event_window_us[key]
            items = self._events[key]
            # An event at ts counts for sends before ts + window; none can come before horizon.
            keep = bisect_right(items, cutoff, key=_timestamp)
            if keep == len(items):
                del self._events[key], self._event_window_us[key]
            elif keep:
                del items[:keep]

    def close(self) -> None:
        with self._lock:
            self._buckets.clear()
            self._events.clear()
            self._event_window_us.clear()
            self._markers.clear()


def _timestamp(event: tuple[int, str]) -> int:
    return event[0]


def _marker_key(marker: Marker) -> str:
    return f"{marker.tag}|{marker.token}"
