"""Replay: audit an archive of sends against the caps, streaming, in bounded memory.

Each (cap, scope) keeps a queue of the sends still inside some open window, as
``(expires_us, id)`` where ``expires_us`` is when the last window containing that send
closes. Because sends arrive in time order, expired entries are always at the front; a heap
of expiry times finds scopes that went quiet and drops them — so memory follows the sends in
open windows, not the archive's size.
"""

from __future__ import annotations

import heapq
import pickle
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from compliance.findings import Finding
from compliance.frequency.decision import violation
from compliance.frequency.plan import Planner
from compliance.frequency.send import Send, as_send
from compliance.frequency.windows import to_us

# Sends per sorted run when sorting an unsorted archive externally.
_RUN_SIZE = 250_000


@dataclass(frozen=True, slots=True)
class ReplayViolation:
    """One archived send that exceeded one cap.

    Attributes:
        send: the offending send.
        position: its 0-based position in the input stream.
        rule, ref: the cap's rule id and catalogue reference.
        finding: the same `Finding` a live `reserve` would give, with the earlier sends' ids
            in its explanation.
        earlier: ids of the sends already in the window (``#<position>`` for sends without id).
    """

    send: Send
    position: int
    rule: str
    ref: str | None
    finding: Finding
    earlier: tuple[str, ...]


def replay(
    planner: Planner, sends: Iterable[Send | Mapping[str, Any]], *, assume_sorted: bool = False
) -> Iterator[ReplayViolation]:
    """Yield every send in ``sends`` that broke one of ``planner``'s caps (see `Ledger.replay`)."""
    numbered = ((position, as_send(s)) for position, s in enumerate(sends))
    ordered = _checked_order(numbered) if assume_sorted else _external_sort(numbered)
    caps = planner.caps
    windows: dict[str, deque[tuple[int, str]]] = {}
    # (expires_us, key) per queued send: the scopes that may have gone quiet, soonest first.
    expiries: list[tuple[int, str]] = []
    for position, send in ordered:
        name = send.id if send.id is not None else f"#{position}"
        checks = planner.plan(send, "")
        if not checks:
            continue
        now = checks[0].at_us
        while expiries and expiries[0][0] <= now:
            _, quiet = heapq.heappop(expiries)
            queue = windows.get(quiet)
            if queue is not None and queue[-1][0] <= now:
                del windows[quiet]
        for check in checks:
            queue = windows.get(check.key)
            if queue is None:
                queue = windows[check.key] = deque()
            at_us = check.at_us
            while queue and queue[0][0] <= at_us:
                queue.popleft()
            if len(queue) >= check.limit:
                earlier = tuple(sent for _, sent in queue)
                cap = caps[check.index]
                yield ReplayViolation(
                    send, position, cap.rule, cap.ref,
                    violation(cap, send, len(queue), check.limit, earlier=earlier), earlier,
                )
            expires = at_us + check.ttl_us
            queue.append((expires, name))
            heapq.heappush(expiries, (expires, check.key))


def _checked_order(numbered: Iterable[tuple[int, Send]]) -> Iterator[tuple[int, Send]]:
    previous = None
    for position, send in numbered:
        if previous is not None and send.at < previous:
            raise ValueError(
                f"send #{position} at {send.at.isoformat()} is earlier than the one before it "
                f"({previous.isoformat()}); pass assume_sorted=False to sort the archive"
            )
        previous = send.at
        yield position, send


def _external_sort(numbered: Iterable[tuple[int, Send]]) -> Iterator[tuple[int, Send]]:
    """Time order (ties keep input order) in bounded memory: sorted runs spill to temp files."""
    runs: list[IO[bytes]] = []
    run: list[tuple[int, int, Send]] = []
    try:
        for position, send in numbered:
            run.append((to_us(send.at), position, send))
            if len(run) >= _RUN_SIZE:
                runs.append(_spill(sorted(run, key=_sort_key)))
                run = []
        run.sort(key=_sort_key)
        if not runs:
            for _, position, send in run:
                yield position, send
            return
        if run:
            runs.append(_spill(run))
        for _, position, send in heapq.merge(*(_read_run(f) for f in runs), key=_sort_key):
            yield position, send
    finally:
        for f in runs:
            f.close()


def _sort_key(item: tuple[int, int, Send]) -> tuple[int, int]:
    return item[0], item[1]


def _spill(run: list[tuple[int, int, Send]]) -> IO[bytes]:
    f = tempfile.TemporaryFile()
    # Blocks of a few thousand keep pickling fast and reading back memory-light.
    for start in range(0, len(run), 4096):
        pickle.dump(run[start : start + 4096], f, protocol=pickle.HIGHEST_PROTOCOL)
    f.seek(0)
    return f


def _read_run(f: IO[bytes]) -> Iterator[tuple[int, int, Send]]:
    while True:
        try:
            block = pickle.load(f)
        except EOFError:
            return
        yield from block
