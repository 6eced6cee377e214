"""Replay: audit an archive of sends against the caps, streaming, in bounded memory.

`judge` is the window logic, shared by every replay (``compliance replay``, `Ledger.replay`,
``compliance audit --ledger`` and `compliance.spark.replay`): it takes sends already in time
order and yields each one that broke a cap. `replay` sorts an archive first (externally, on
disk) and then judges it in one stream.

Each (cap, scope) keeps a queue of *runs*: sends that leave every open window at the same
moment (``expires_us``: when the last window containing them closes). Because sends arrive
in time order, runs are ordered by expiry and expired runs are always at the front; a heap
of expiry times finds scopes that went quiet and drops them. A calendar window's sends share
their bucket's expiry, so a (cap, scope) holds at most ``2 * count - 1`` runs however many
sends it gets; each run keeps its count and the names of its first ``max_earlier`` sends
only. Memory is therefore bounded by the scopes with sends in an open window — not by the
archive, nor by one skewed recipient's volume (a rolling window keeps one run per distinct
send time inside the window: two integers and up to ``max_earlier`` names each).
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

#: Names of earlier sends a violation lists (the oldest in its window); ``count`` is exact.
#: Bounds each violation's size and each window's memory when one recipient gets millions.
DEFAULT_MAX_EARLIER = 50


@dataclass(frozen=True, slots=True)
class ReplayViolation:
    """One archived send that exceeded one cap.

    Attributes:
        send: the offending send.
        position: its 0-based position in the input stream (`compliance.spark.replay`: its
            order key).
        rule, ref: the cap's rule id and catalogue reference.
        finding: the same `Finding` a live `reserve` would give, with the earlier sends' ids
            in its explanation.
        earlier: ids of the sends already in the window, oldest first (``#<position>`` for
            sends without id); at most ``max_earlier`` of them.
        count: how many sends were already in the window (``len(earlier)`` unless truncated).
        limit: the limit in force at the send's time (overrides applied).
        window: the window, as its Chinese description (``自然日``, ``2个自然日``, ...).
    """

    send: Send
    position: int
    rule: str
    ref: str | None
    finding: Finding
    earlier: tuple[str, ...]
    count: int = 0
    limit: int = 0
    window: str = ""

    def to_record(self) -> dict[str, Any]:
        """The violation as one flat record: what ``compliance replay --format jsonl`` prints
        per line and what `compliance.spark.replay` returns per row (see docs/SCHEMAS.md)."""
        send = self.send
        return {"position": self.position, "id": send.id, "channel": send.channel,
                "message_class": send.message_class, "merchant": send.merchant, "recipient": send.recipient,
                "at": send.at.isoformat(), "rule": self.rule, "ref": self.ref, "severity": self.finding.severity,
                "limit": self.limit, "window": self.window, "count": self.count,
                "message": self.finding.message, "earlier": list(self.earlier)}


class _Queue:
    """The sends of one (cap, scope) still inside an open window, as runs (see the module doc)."""

    __slots__ = ("runs", "count")

    def __init__(self) -> None:
        # [expires_us, sends in the run, names of its first max_earlier sends]
        self.runs: deque[list[Any]] = deque()
        self.count = 0

    def names(self, most: int | None) -> tuple[str, ...]:
        """The oldest ``most`` names (all when None), in send order."""
        out: list[str] = []
        for run in self.runs:
            names = run[2]
            if most is not None and len(out) + len(names) >= most:
                out.extend(names[: most - len(out)])
                break
            out.extend(names)
            if len(names) < run[1]:  # this run was truncated: nothing later may be listed
                break
        return tuple(out)


def judge(planner: Planner, ordered: Iterable[tuple[int, Send]], *,
          max_earlier: int | None = DEFAULT_MAX_EARLIER, evict: bool = True) -> Iterator[ReplayViolation]:
    """Yield every send that broke one of ``planner``'s caps, for sends in time order.

    Args:
        planner: the caps.
        ordered: ``(position, send)`` pairs in time order (ties in the order they should be
            judged); ``position`` names sends without id (``#<position>``).
        max_earlier: names of earlier sends kept per violation (None: all of them).
        evict: drop the state of scopes that went quiet as the stream goes on (a long stream
            of many scopes); False for a short stream whose state is dropped with it (one
            recipient's sends, as `compliance.spark.replay` feeds them).
    """
    if max_earlier is not None and max_earlier < 0:
        raise ValueError(f"max_earlier must be >= 0 or None, got {max_earlier}")
    caps = planner.caps
    descriptions = [cap.window.describe() for cap in caps]
    windows: dict[str, _Queue] = {}
    # (expires_us, key) per run: the scopes that may have gone quiet, soonest first.
    expiries: list[tuple[int, str]] = []
    for position, send in ordered:
        checks = planner.plan(send, "")
        if not checks:
            continue
        name = send.id if send.id is not None else f"#{position}"
        now = checks[0].at_us
        while evict and expiries and expiries[0][0] <= now:
            _, quiet = heapq.heappop(expiries)
            queue = windows.get(quiet)
            if queue is not None and queue.runs[-1][0] <= now:
                del windows[quiet]
        for check in checks:
            queue = windows.get(check.key)
            if queue is None:
                queue = windows[check.key] = _Queue()
            runs = queue.runs
            at_us = check.at_us
            while runs and runs[0][0] <= at_us:
                queue.count -= runs.popleft()[1]
            if queue.count >= check.limit:
                earlier = queue.names(max_earlier)
                cap = caps[check.index]
                yield ReplayViolation(
                    send, position, cap.rule, cap.ref,
                    violation(cap, send, queue.count, check.limit, earlier=earlier), earlier,
                    queue.count, check.limit, descriptions[check.index],
                )
            expires = at_us + check.ttl_us
            if runs and runs[-1][0] == expires:
                run = runs[-1]
                run[1] += 1
                if max_earlier is None or len(run[2]) < max_earlier:
                    run[2].append(name)
            else:
                runs.append([expires, 1, [name] if max_earlier != 0 else []])
                if evict:
                    heapq.heappush(expiries, (expires, check.key))
            queue.count += 1


def replay(
    planner: Planner, sends: Iterable[Send | Mapping[str, Any]], *, assume_sorted: bool = False,
    max_earlier: int | None = DEFAULT_MAX_EARLIER,
) -> Iterator[ReplayViolation]:
    """Yield every send in ``sends`` that broke one of ``planner``'s caps (see `Ledger.replay`).

    Unsorted archives are sorted by time first (ties keep input order), spilling to
    temporary files; ``assume_sorted`` checks the order instead. Then `judge`.
    """
    numbered = ((position, as_send(s)) for position, s in enumerate(sends))
    ordered = _checked_order(numbered) if assume_sorted else _external_sort(numbered)
    return judge(planner, ordered, max_earlier=max_earlier)


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
