"""Planning: from one send and the ledger's caps to the list of counts a store must check.

The plan is plain data (`Check`), computed in Python before any store is touched, so the
three stores share every decision about windows, keys, limits and overrides and differ only
in how they read and increment counts atomically.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from compliance.frequency.caps import Cap
from compliance.frequency.send import Send
from compliance.frequency.windows import Window, to_us


class Check(NamedTuple):
    """One cap applied to one send (immutable; a named tuple, as it is built for every cap of
    every send: a frozen dataclass costs several times as much to construct).

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
        # (bucket start µs, bucket end µs, bucket, end of the last window holding it µs,
        #  the buckets of every window holding it)
        self._cached: tuple[int, int, int, int, tuple[int, ...]] = (0, 0, 0, 0, ())

    def locate(self, at: datetime, at_us: int) -> tuple[int, int, tuple[int, ...]]:
        """(bucket number, µs when the last window containing that bucket closes, the bucket
        numbers of every window that contains it: ``2 * count - 1`` of them, oldest first)."""
        start, end, bucket, retained, around = self._cached  # one read: safe without a lock
        if start <= at_us < end:
            return bucket, retained, around
        window = self.window
        bucket = window.bucket_of(at)
        start = to_us(window.bucket_start(bucket))
        end = to_us(window.bucket_start(bucket + 1))
        retained = to_us(window.bucket_start(bucket + window.count))
        span = window.count - 1
        around = tuple(range(bucket - span, bucket + span + 1))
        self._cached = (start, end, bucket, retained, around)
        return bucket, retained, around


class _Applied(NamedTuple):
    """What planning needs of one cap, worked out once (see `Planner`)."""

    index: int
    cap: Cap
    prefix: str
    scope: tuple[str, ...]
    recipient_tag: bool
    clock: _CalendarClock | None
    window_us: int
    span: int
    fixed_limit: int | None  # the cap's limit when it has no overrides
    blocking: bool
    refundable: bool
    exempt: frozenset[str]


#: Distinct (channel, message class) pairs whose applicable caps are remembered; beyond it
#: (arbitrary names from callers) they are worked out for each send.
_GROUPS_MAX = 4096

_new_check = tuple.__new__


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
        self._applied: tuple[_Applied, ...] = tuple(
            _Applied(
                index, cap, f"{_escape(cap.rule)}|{cap.window.store_tag}|", cap.scope,
                "recipient" in cap.scope,
                _CalendarClock(cap.window) if cap.window.kind == "calendar" else None,
                (cap.window.seconds or 0) * 1_000_000 if cap.window.kind == "rolling" else 0,
                cap.window.count - 1, None if cap.overrides else cap.limit, cap.blocking,
                not cap.count_failures, cap.exempt_merchants,
            )
            for index, cap in enumerate(self.caps)
        )
        # (channel, message class) -> the caps that may apply, in cap order (the exempt
        # merchants are checked per send).
        self._groups: dict[tuple[str, str], tuple[_Applied, ...]] = {}

    def _group(self, channel: str, message_class: str) -> tuple[_Applied, ...]:
        group = tuple(
            a for a in self._applied
            if message_class in a.cap.classes and (not a.cap.channels or channel in a.cap.channels)
        )
        if len(self._groups) < _GROUPS_MAX:
            self._groups[(channel, message_class)] = group
        return group

    def plan(self, send: Send, token: str | None = None) -> list[Check]:
        """The checks for ``send``: one per applicable cap, in cap order.

        ``token`` names the send's rolling-window events; defaults to ``send.id`` or a random
        id (a send without id cannot be released, so its events need only be unique).
        """
        group = self._groups.get((send.channel, send.message_class))
        if group is None:
            group = self._group(send.channel, send.message_class)
        checks: list[Check] = []
        if not group:
            return checks
        at = send.at
        at_us = to_us(at)
        merchant = send.merchant
        for applied in group:
            (index, cap, prefix, scope, recipient_tag, clock, window_us, span, limit,
             blocking, refundable, exempt) = applied
            if exempt and merchant in exempt:
                continue
            if len(scope) == 1:
                joined = _escape(getattr(send, scope[0]))
            else:
                joined = "|".join([_escape(getattr(send, attr)) for attr in scope])
            tag = send.recipient if recipient_tag else joined
            if limit is None:
                limit = cap.limit_at(at)
            if clock is None:
                if token is None:
                    token = send.id if send.id is not None else uuid.uuid4().hex
                checks.append(_new_check(Check, (
                    index, True, prefix + joined, tag, limit, blocking, (), 0, at_us,
                    window_us, window_us, f"{at_us}:{token}", refundable)))
            else:
                _, retained_us, around = clock.locate(at, at_us)
                checks.append(_new_check(Check, (
                    index, False, prefix + joined, tag, limit, blocking, around, span,
                    at_us, 0, retained_us - at_us, "", refundable)))
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
