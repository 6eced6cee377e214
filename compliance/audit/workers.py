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


def lint_many(engine: Any, items: Sequence[tuple[str, Message]]) -> list[LintResult]:
    """Lint each (channel, message); a failure becomes a `LintFailure`, never an exception."""
    from compliance.errors import ComplianceError

    out: list[LintResult] = []
    for channel, message in items:
        try:
            report = engine.lint(message, channel=channel)
        except ComplianceError as exc:
            out.append(LintFailure(f"cannot lint for channel {channel!r}: {exc}"))
            continue
        out.append((tuple(finding_tuple(f) for f in report.findings), dict(report.offsets)))
    return out


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
