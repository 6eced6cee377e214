"""Planning: from one send and the ledger's caps to the list of counts a store must check.

The plan is plain data (`Check`), computed in Python before any store is touched, so the
three stores share every decision about windows, keys, limits and overrides and differ only
in how they read and increment counts atomically.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from compliance.frequency.caps import Cap
from compliance.frequency.send import Send
from compliance.frequency.windows import Window, to_us


@dataclass(frozen=True, slots=True)
class Check:
    """One cap applied to one send.

    Attributes:
        index: position of the cap in the ledger's cap list.
        rolling: rolling window (events with timestamps) rather than calendar buckets.
        key: store key of (cap, scope values); calendar buckets are appended by the store.
        tag: co-location tag (the recipient when the scope has one) for Redis Cluster slots.
        limit: limit in force at the send's time (overrides applied).
        blocking: a violation denies the send.
        buckets: calendar: bucket numbers of every window that contains the send's bucket
            (``2 * count - 1`` of them, oldest first); the send is counted in ``buckets[own]``.
        own: index of the send's own bucket in ``buckets`` (``count - 1``).
        at_us: send time, µs since the epoch.
        window_us: rolling window length in µs (0 for calendar windows).
        ttl_us: how long the recorded count must be kept after the send.
        member: rolling: unique id of this send's event (so `release` can remove exactly it).
        refundable: the cap has ``count_failures=False``.
    """

    index: int
    rolling: bool
    key: str
    tag: str
    limit: int
    blocking: bool
    buckets: tuple[int, ...]
    own: int
    at_us: int
    window_us: int
    ttl_us: int
    member: str
    refundable: bool


def _escape(value: str) -> str:
    # Keys join scope values with "|": escape it so ("a|b", "c") and ("a", "b|c") differ.
    if "|" in value or "%" in value:
        return value.replace("%", "%25").replace("|", "%7C")
    return value


class _CalendarClock:
    """Finds a send's calendar bucket without a time-zone conversion when it falls in the
    same bucket as the previous send — the common case for live traffic and sorted replays.
    """

    __slots__ = ("window", "_cached")

    def __init__(self, window: Window) -> None:
        self.window = window
        # (bucket start µs, bucket end µs, bucket, end of the last window holding it µs)
        self._cached: tuple[int, int, int, int] = (0, 0, 0, 0)

    def locate(self, at: datetime, at_us: int) -> tuple[int, int]:
        """(bucket number, µs when the last window containing that bucket closes)."""
        start, end, bucket, retained = self._cached  # one read: safe without a lock
        if start <= at_us < end:
            return bucket, retained
        window = self.window
        bucket = window.bucket_of(at)
        start = to_us(window.bucket_start(bucket))
        end = to_us(window.bucket_start(bucket + 1))
        retained = to_us(window.bucket_start(bucket + window.count))
        self._cached = (start, end, bucket, retained)
        return bucket, retained


class Planner:
    """Turns sends into `Check` lists for a fixed, validated list of caps."""

    def __init__(self, caps: Sequence[Cap]) -> None:
        seen: set[str] = set()
        for cap in caps:
            if not isinstance(cap, Cap):
                raise TypeError(f"caps must be Cap objects, got {type(cap).__name__}")
            if cap.rule in seen:
                # The rule id names the stored counts; two caps sharing one would share counts.
                raise ValueError(f"duplicate cap rule id {cap.rule!r}")
            seen.add(cap.rule)
        self.caps: tuple[Cap, ...] = tuple(caps)
        self._prefixes: tuple[str, ...] = tuple(
            f"{_escape(cap.rule)}|{cap.window.store_tag}" for cap in self.caps
        )
        self._clocks: tuple[_CalendarClock | None, ...] = tuple(
            _CalendarClock(cap.window) if cap.window.kind == "calendar" else None
            for cap in self.caps
        )

    def plan(self, send: Send, token: str | None = None) -> list[Check]:
        """The checks for ``send``: one per applicable cap, in cap order.

        ``token`` names the send's rolling-window events; defaults to ``send.id`` or a random
        id (a send without id cannot be released, so its events need only be unique).
        """
        if token is None:
            token = send.id if send.id is not None else uuid.uuid4().hex
        at = send.at
        at_us = to_us(at)
        checks: list[Check] = []
        for index, cap in enumerate(self.caps):
            if not cap.applies_to(send):
                continue
            values = [_escape(getattr(send, attr)) for attr in cap.scope]
            key = self._prefixes[index] + "|" + "|".join(values)
            tag = send.recipient if "recipient" in cap.scope else "|".join(values)
            window = cap.window
            if window.kind == "rolling":
                assert window.seconds is not None
                window_us = window.seconds * 1_000_000
                checks.append(
                    Check(index, True, key, tag, cap.limit_at(at), cap.blocking, (), 0, at_us,
                          window_us, window_us, f"{at_us}:{token}", not cap.count_failures)
                )
            else:
                clock = self._clocks[index]
                assert clock is not None
                current, retained_us = clock.locate(at, at_us)
                span = window.count - 1
                buckets = tuple(range(current - span, current + span + 1))
                checks.append(
                    Check(index, False, key, tag, cap.limit_at(at), cap.blocking, buckets, span,
                          at_us, 0, retained_us - at_us, "", not cap.count_failures)
                )
        return checks


def counted(check: Check, observation: Sequence[int]) -> int:
    """Sends that share a window with this one: calendar observations are per-bucket counts,
    rolling observations are event timestamps.

    Every window that contains the send is covered — for a rolling window the sends in
    ``(at - w, at + w)``, for a calendar window the ``count - 1`` buckets on either side — so a
    send that arrives after later-stamped ones (clock skew between service instances, threads
    racing) is judged conservatively and no window ever ends up over its limit. For sends in
    time order nothing later exists, and this is the plain count of the window ending at the
    send.
    """
    return len(observation) if check.rolling else sum(observation)


def passes(checks: Sequence[Check], observations: Sequence[Sequence[int]]) -> bool:
    """Whether a send passes every blocking check, given what the store observed."""
    for check, observation in zip(checks, observations):
        if check.blocking and counted(check, observation) >= check.limit:
            return False
    return True
