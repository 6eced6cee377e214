"""The one interface every ledger store implements."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from compliance.frequency.plan import Check


@dataclass(frozen=True, slots=True)
class Marker:
    """Remembers that a send was reserved, so `release` can undo it once and only once.

    Attributes:
        token: the send's id.
        tag: co-location tag (the recipient) so a Redis Cluster keeps it in the send's slot.
        ttl_us: how long to remember it (the longest retention of the send's checks).
    """

    token: str
    tag: str
    ttl_us: int


class Evaluation(NamedTuple):
    """What a store saw for one send, and whether it recorded it (immutable; a named tuple,
    built for every reservation).

    Attributes:
        allowed: every blocking check passed (and, when recording, the send was recorded).
        observations: per check, in plan order: calendar windows give the count of each
            bucket (oldest first); rolling windows give the timestamps (µs) of the events in
            the window, ascending.
    """

    allowed: bool
    observations: tuple[tuple[int, ...], ...]


BatchItem = tuple[Sequence[Check], Marker | None]


class Store(ABC):
    """Atomically checks a send's caps and records it when all pass."""

    @abstractmethod
    def evaluate(self, checks: Sequence[Check], *, record: bool, marker: Marker | None) -> Evaluation:
        """Read every check's count; when ``record`` and all blocking checks pass, count the
        send in every check (and remember ``marker``) — all in one atomic step."""

    @abstractmethod
    def evaluate_many(self, items: Sequence[BatchItem]) -> list[Evaluation]:
        """`evaluate` with ``record=True`` for each item in order; each sees the earlier ones."""

    @abstractmethod
    def release(self, marker: Marker, checks: Sequence[Check]) -> bool:
        """If ``marker`` is remembered: forget it and uncount the send in ``checks``.
        Returns whether anything was released (False on a repeated call)."""

    def ping(self) -> None:
        """Raise `LedgerUnavailableError` (or `LedgerLockedError`) unless the store answers now.

        Reads nothing that matters and writes nothing: a start-up and readiness check. The
        default (a store in process memory) always answers.
        """

    @abstractmethod
    def close(self) -> None:
        """Release connections; the store is unusable afterwards."""


def sweep_horizon_us(at_us: int) -> int:
    """Time before which expired counts may be deleted.

    The send's own time, so replaying an old archive through a live store does not delete
    what it still needs — but never later than the wall clock, so one send stamped far in
    the future (a caller's bug) cannot wipe every count.
    """
    return min(at_us, time.time_ns() // 1000)
