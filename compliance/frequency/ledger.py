"""`Ledger`: "may this send go?" across every frequency cap, atomically, on a chosen store."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit, urlunsplit

from compliance.frequency.caps import Cap
from compliance.frequency.decision import Decision, check_template, unavailable, violation
from compliance.frequency.errors import (
    LedgerLockedError,
    LedgerUnavailableError,
    LedgerURLError,
)
from compliance.fastinit import frozen_builder
from compliance.frequency.plan import Check, Planner
from compliance.frequency.replay import ReplayViolation, replay
from compliance.frequency.retry import retry_after
from compliance.frequency.send import Send, as_send
from compliance.frequency.stores.base import Evaluation, Marker, Store

log = logging.getLogger(__name__)

SendLike = Send | Mapping[str, Any]
_T = TypeVar("_T")

# Every reservation returns a new Decision: built without the frozen dataclass's __init__
# (same instance, a third of the cost; see compliance.fastinit).
_decision_of = frozen_builder(Decision)


class Ledger:
    """Counts sends per cap and decides whether the next one may go.

    Args:
        store: where counts live (`MemoryStore`, `SqliteStore`, `RedisStore`); see `open`.
        caps: the caps to enforce (built from rule files by the rules compiler). Rule ids must
            be unique: they name the stored counts.
        fail_open: when the store fails (unreachable, timed out, locked, disk full), return
            ``Decision(allowed=True, degraded=True)`` with a warning finding (rule
            ``frequency-ledger-unavailable``) and log a warning, instead of raising. Such a send
            is not counted, so caps can be exceeded while the store is down. Off by default
            (fail-closed): every store failure raises `LedgerUnavailableError` or
            `LedgerLockedError` (both `LedgerError`, a `ComplianceError`) naming the store and
            what failed, and no send is allowed without a decision. Turn it on only where a
            missed cap costs less than a blocked send. A ledger recovers by itself when its
            store comes back (no reopen needed).

    A `Ledger` is thread-safe. Use it as a context manager or call `close`.
    """

    def __init__(self, store: Store, caps: Sequence[Cap], *, fail_open: bool = False) -> None:
        self._planner = Planner(caps)
        for cap in self._planner.caps:
            check_template(cap)
        self.store = store
        self.caps: tuple[Cap, ...] = self._planner.caps
        self.fail_open = fail_open

    @classmethod
    def open(cls, url: str, caps: Sequence[Cap], *, fail_open: bool = False) -> Ledger:
        """A ledger on the store named by ``url``.

        * ``memory://`` — process memory (tests, single process; not durable).
        * ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``,
          ``sqlite:///:memory:`` — embedded, durable; query ``?busy_timeout=SECONDS``.
        * ``redis://host:port/db`` (also ``rediss://``, ``unix://``) — shared by several
          processes or hosts; query ``?prefix=KEYPREFIX`` (default ``freq:``) and
          ``?socket_timeout=SECONDS`` (default 5: the longest a call waits for Redis).

        Raises `LedgerURLError` for anything else.
        """
        store = open_store(url)
        return cls(store, caps, fail_open=fail_open)

    # -- the four questions ------------------------------------------------------------------

    def reserve(self, send: SendLike) -> Decision:
        """Check every applicable cap and, only if all pass, record the send — atomically."""
        return self._decide(as_send(send), record=True)

    def peek(self, send: SendLike) -> Decision:
        """What `reserve` would answer now, without recording anything."""
        return self._decide(as_send(send), record=False)

    def reserve_many(self, sends: Iterable[SendLike]) -> list[Decision]:
        """`reserve` each send in order; each is judged after the earlier ones of the batch.

        On SQLite the whole batch is one transaction: after a crash, all of it or none of it
        is recorded. On Redis each send is atomic and the batch is one round trip.
        """
        batch = [as_send(s) for s in sends]
        plan = self._planner.plan
        plans = [plan(send) for send in batch]
        items = [(checks, self._marker(send, checks)) for send, checks in zip(batch, plans) if checks]
        try:
            evaluations = iter(self.store.evaluate_many(items))
        except (LedgerUnavailableError, LedgerLockedError) as exc:
            if not self.fail_open:
                raise
            log.warning("frequency ledger unavailable, failing open for %d sends: %s", len(batch), exc)
            return [Decision(True, [unavailable(exc)], None, degraded=True) for _ in batch]
        return [
            self._decision(send, checks, next(evaluations)) if checks
            else _decision_of(True, [], None, False)
            for send, checks in zip(batch, plans)
        ]

    def release(self, send: SendLike) -> None:
        """Give back the slots of a reserved send whose delivery failed.

        Only caps with ``count_failures=False`` are given back; the others keep counting the
        attempt. Needs ``send.id`` (the id given to `reserve`); releasing twice, or releasing a
        send that was never reserved, changes nothing.
        """
        send = as_send(send)
        if send.id is None:
            raise ValueError("release needs the send's id (the one given to reserve)")
        checks = [c for c in self._planner.plan(send, send.id) if c.refundable]
        if not checks:
            return
        self._call(lambda: self.store.release(self._marker_for(send, checks), checks), None)

    def replay(
        self, sends: Iterable[SendLike], *, assume_sorted: bool = False
    ) -> Iterator[ReplayViolation]:
        """Audit an archive: yield every send that broke a cap, with the earlier sends it
        collided with.

        Every archived send counts (they did go out), whether or not it broke a cap. The
        ledger's store is neither read nor written; memory is bounded by the sends inside
        open windows. Unsorted input is sorted externally (temporary files), so pass
        ``assume_sorted=True`` for archives already in time order (checked as it streams).
        """
        return replay(self._planner, sends, assume_sorted=assume_sorted)

    def ping(self) -> None:
        """Check that the store answers now, whatever ``fail_open`` says.

        Raises `LedgerUnavailableError` or `LedgerLockedError` naming the store and what failed
        (a Redis server that cannot be reached, a SQLite file that is no ledger). `open` does
        not connect (a ledger recovers by itself when its store comes back), so a service
        calls this at start-up, to refuse to start on a ledger it cannot use, and for readiness.
        Records nothing.
        """
        self.store.ping()

    def close(self) -> None:
        """Close the store's connections."""
        self.store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------

    def _plan(self, send: Send) -> list[Check]:
        return self._planner.plan(send)

    @staticmethod
    def _marker(send: Send, checks: Sequence[Check]) -> Marker | None:
        # Only a send that can be released needs remembering.
        if send.id is None:
            return None
        for check in checks:
            if check.refundable:
                return Ledger._marker_for(send, checks)
        return None

    @staticmethod
    def _marker_for(send: Send, checks: Sequence[Check]) -> Marker:
        assert send.id is not None
        return Marker(send.id, send.recipient, max(c.ttl_us for c in checks))

    def _call(self, action: Callable[[], _T], fallback: _T) -> _T:
        try:
            return action()
        except (LedgerUnavailableError, LedgerLockedError) as exc:
            if not self.fail_open:
                raise
            log.warning("frequency ledger unavailable, failing open: %s", exc)
            return fallback

    def _decide(self, send: Send, *, record: bool) -> Decision:
        checks = self._planner.plan(send)
        if not checks:
            return _decision_of(True, [], None, False)
        marker = self._marker(send, checks) if record else None
        try:
            evaluation = self.store.evaluate(checks, record=record, marker=marker)
        except (LedgerUnavailableError, LedgerLockedError) as exc:
            if not self.fail_open:
                raise
            log.warning("frequency ledger unavailable, failing open: %s", exc)
            return Decision(True, [unavailable(exc)], None, degraded=True)
        return self._decision(send, checks, evaluation)

    def _decision(self, send: Send, checks: Sequence[Check], evaluation: Evaluation) -> Decision:
        violations = []
        for check, observation in zip(checks, evaluation.observations):
            # `plan.counted`, inlined (once per check of every reservation).
            count = len(observation) if check.rolling else sum(observation)
            if count >= check.limit:
                violations.append(violation(self.caps[check.index], send, count, check.limit))
        if evaluation.allowed:
            return _decision_of(True, violations, None, False)
        when = retry_after(send.at, self.caps, checks, evaluation.observations)
        return _decision_of(False, violations, when, False)


def open_store(url: str) -> Store:
    """The store named by a ledger URL (see `Ledger.open`)."""
    if not isinstance(url, str) or "://" not in url:
        raise LedgerURLError(
            f"bad ledger URL {url!r}: expected memory://, sqlite:///path or redis://host:port/db"
        )
    scheme = url.split("://", 1)[0].lower()
    if scheme == "memory":
        from compliance.frequency.stores.memory import MemoryStore

        if url.rstrip("/").lower() != "memory:":
            raise LedgerURLError(f"bad ledger URL {url!r}: memory:// takes no host or path")
        return MemoryStore()
    if scheme == "sqlite":
        from compliance.frequency.stores.sqlite import SqliteStore

        rest = url[len("sqlite://"):]
        if not rest.startswith("/") or rest == "/":
            raise LedgerURLError(
                f"bad ledger URL {url!r}: use sqlite:///relative.db, sqlite:////absolute.db "
                "or sqlite:///:memory:"
            )
        path, _, query = rest[1:].partition("?")
        options = parse_qs(query)
        try:
            busy_timeout = float(options.pop("busy_timeout", ["10"])[0])
        except ValueError:
            raise LedgerURLError(f"bad ledger URL {url!r}: busy_timeout must be seconds") from None
        if options:
            raise LedgerURLError(f"bad ledger URL {url!r}: unknown option(s) {sorted(options)}")
        return SqliteStore(path, busy_timeout=busy_timeout)
    if scheme in ("redis", "rediss", "unix"):
        from compliance.frequency.stores.redis import RedisStore

        parts = urlsplit(url)
        options = parse_qs(parts.query)
        prefix = options.pop("prefix", ["freq:"])[0]
        remaining = "&".join(f"{k}={v}" for k, vs in options.items() for v in vs)
        try:
            return RedisStore(urlunsplit(parts._replace(query=remaining)), prefix=prefix)
        except LedgerUnavailableError as exc:
            raise LedgerURLError(str(exc)) from exc
    raise LedgerURLError(
        f"bad ledger URL {url!r}: unknown scheme {scheme!r}; "
        "expected memory://, sqlite:///path or redis://host:port/db"
    )
