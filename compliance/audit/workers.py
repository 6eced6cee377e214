"""Linting on every core: one `Engine` per worker process, batches of distinct messages in.

`LintExecutor.submit` takes a list of (channel, message) and returns a handle whose ``get()``
gives one result per message, in order: (finding tuples, field offsets) or a `LintFailure`.
With one job the work is done in this process (no pool, no pickling).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from compliance.audit.verdicts import FindingTuple, LintFailure, finding_tuple

Message = str | Mapping[str, str]
LintResult = tuple[tuple[FindingTuple, ...], dict[str, int]] | LintFailure

_ENGINE: Any = None


#: Messages given to `Engine.lint_many` at a time: a few hundred is its measured best (with
#: more, the reports held at once fall out of the CPU caches; docs/BENCHMARKS.md).
LINT_CHUNK = 256


def lint_many(engine: Any, items: Sequence[tuple[str, Message]]) -> list[LintResult]:
    """Lint each (channel, message); a failure becomes a `LintFailure`, never an exception.

    The messages of each channel go through `Engine.lint_many` (in chunks of `LINT_CHUNK`);
    the results come back in the order of ``items``. An engine-like object without
    ``lint_many`` (a wrapper offering ``lint``) is asked message by message.
    """
    from compliance.errors import ComplianceError

    if not hasattr(engine, "lint_many"):  # an engine-like object with `lint` only
        return [_lint_one(engine, channel, message) for channel, message in items]
    by_channel: dict[str, list[int]] = {}
    for index, (channel, _message) in enumerate(items):
        by_channel.setdefault(channel, []).append(index)
    out: list[LintResult | None] = [None] * len(items)
    for channel, indexes in by_channel.items():
        for lo in range(0, len(indexes), LINT_CHUNK):
            chunk = indexes[lo:lo + LINT_CHUNK]
            try:
                reports = engine.lint_many([items[i][1] for i in chunk], channel=channel, errors="return")
            except ComplianceError as exc:  # the channel itself (unknown): every message fails alike
                failure = LintFailure(f"cannot lint for channel {channel!r}: {exc}")
                for i in chunk:
                    out[i] = failure
                continue
            for i, report in zip(chunk, reports, strict=True):
                if isinstance(report, ComplianceError):
                    out[i] = LintFailure(f"cannot lint for channel {channel!r}: {report}")
                else:
                    out[i] = (tuple(finding_tuple(f) for f in report.findings), dict(report.offsets))
    return out  # type: ignore[return-value]  # every index was filled


def _lint_one(engine: Any, channel: str, message: Message) -> LintResult:
    from compliance.errors import ComplianceError

    try:
        report = engine.lint(message, channel=channel)
    except ComplianceError as exc:
        return LintFailure(f"cannot lint for channel {channel!r}: {exc}")
    return tuple(finding_tuple(f) for f in report.findings), dict(report.offsets)


def _init_worker(rules: Sequence[str], use_cache: bool) -> None:
    global _ENGINE
    from compliance.engine import Engine

    _ENGINE = Engine([Path(r) for r in rules], use_cache=use_cache)


def _lint_in_worker(items: Sequence[tuple[str, Message]]) -> list[LintResult]:
    return lint_many(_ENGINE, items)


class Pending(Protocol):
    """A submitted batch; ``get()`` waits for its results."""

    def get(self) -> list[LintResult]: ...


class _Deferred:
    """Inline work, done when asked for (keeps the single-process pipeline lazy and ordered)."""

    def __init__(self, work: Callable[[], list[LintResult]]) -> None:
        self._work = work

    def get(self) -> list[LintResult]:
        return self._work()


class LintExecutor:
    """Runs `lint_many` inline (jobs=1) or on a pool of spawned worker processes.

    Workers are spawned, not forked: the parent may run a progress thread, and a fork taken
    while another thread holds a lock can deadlock the child.
    """

    def __init__(self, engine: Any, jobs: int, rules: Sequence[Path] = (), use_cache: bool = True) -> None:
        self.jobs = jobs
        self._engine = engine
        self._pool: Any = None
        if jobs > 1:
            context = multiprocessing.get_context("spawn")
            self._pool = context.Pool(jobs, initializer=_init_worker,
                                      initargs=([str(r) for r in rules], use_cache))

    def submit(self, items: list[tuple[str, Message]]) -> Pending:
        """Start linting ``items``; results come back in the same order."""
        if self._pool is None:
            engine = self._engine
            return _Deferred(lambda: lint_many(engine, items))
        return self._pool.apply_async(_lint_in_worker, (items,))

    @property
    def depth(self) -> int:
        """Batches worth keeping in flight so no worker waits."""
        return 1 if self._pool is None else 2 * self.jobs + 1

    def close(self) -> None:
        """Stop the workers (after the submitted work is done)."""
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None

    def terminate(self) -> None:
        """Stop the workers now (on errors and interrupts)."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
