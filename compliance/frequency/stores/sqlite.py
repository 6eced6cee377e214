"""`sqlite:///path`: the embedded default store — durable, multi-thread and multi-process safe.

Every reservation (or whole `reserve_many` batch) is one ``BEGIN IMMEDIATE`` transaction:
the write lock is taken before the counts are read, so two writers can never both read
"2 of 3" and both record. WAL lets readers (`peek`) proceed during writes, and
``synchronous=FULL`` makes a returned reservation survive a power cut, not just a crash.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from compliance.frequency.errors import LedgerError, LedgerLockedError, LedgerUnavailableError
from compliance.frequency.plan import Check, passes
from compliance.frequency.stores.base import BatchItem, Evaluation, Marker, Store, sweep_horizon_us

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counts (
    key TEXT NOT NULL, bucket INTEGER NOT NULL, n INTEGER NOT NULL, expires INTEGER NOT NULL,
    PRIMARY KEY (key, bucket)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS counts_expires ON counts (expires);
CREATE TABLE IF NOT EXISTS events (
    key TEXT NOT NULL, ts INTEGER NOT NULL, member TEXT NOT NULL, expires INTEGER NOT NULL,
    PRIMARY KEY (key, ts, member)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_expires ON events (expires);
CREATE TABLE IF NOT EXISTS reservations (
    marker TEXT NOT NULL PRIMARY KEY, expires INTEGER NOT NULL
) WITHOUT ROWID;
"""

log = logging.getLogger(__name__)

# Transactions between deletions of expired rows (per connection).
_SWEEP_EVERY = 4096


class SqliteStore(Store):
    """Counts in one SQLite file (or ``:memory:``, then shared by the threads of one process).

    Args:
        path: database file, created with its tables if missing; ``":memory:"`` for a
            private in-process database.
        busy_timeout: seconds a writer waits for another's lock before `LedgerLockedError`.
    """

    def __init__(self, path: str, *, busy_timeout: float = 10.0) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._in_memory = path == ":memory:" or path == ""
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        # One connection for ":memory:" (each connection would be its own database); its
        # users take turns through this lock.
        self._shared_lock = threading.RLock()
        self._memory_conn: sqlite3.Connection | None = None
        self._closed = False
        with self._shared_lock:
            try:
                self._connection().executescript(_SCHEMA)
            except (sqlite3.Error, LedgerError) as exc:
                self.close()  # a failed open must not keep the file open
                raise (_translate(exc, path) if isinstance(exc, sqlite3.Error) else exc) from exc

    # -- connections ------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path or ":memory:",
                timeout=self.busy_timeout,
                isolation_level=None,  # we issue BEGIN/COMMIT ourselves
                check_same_thread=False,  # close() may run in another thread
            )
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            if not self._in_memory:
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as exc:
            conn.close()  # a failed open must not keep the file open
            raise _translate(exc, self.path) from exc
        with self._all_lock:
            self._all.append(conn)
        return conn

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise LedgerError("the SQLite ledger is closed")
        local = self._local
        if self._in_memory:
            if self._memory_conn is None:
                self._memory_conn = self._connect()
            return self._memory_conn
        # A connection must not cross fork(): a child process opens its own.
        if getattr(local, "pid", None) != os.getpid():
            local.conn = self._connect()
            local.pid = os.getpid()
            local.transactions = 0
        return local.conn  # type: ignore[no-any-return]

    @contextmanager
    def _transaction(self, *, immediate: bool) -> Iterator[sqlite3.Connection]:
        """One transaction: committed when the block ends, rolled back on any exception."""
        with self._shared_lock if self._in_memory else _NO_LOCK:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
            except sqlite3.Error as exc:
                raise _translate(exc, self.path) from exc
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass  # SQLite rolls back a transaction it could not finish on its own
                if isinstance(exc, sqlite3.Error):
                    raise _translate(exc, self.path) from exc
                raise

    # -- Store ------------------------------------------------------------------------------

    def evaluate(self, checks: Sequence[Check], *, record: bool, marker: Marker | None) -> Evaluation:
        with self._transaction(immediate=record) as conn:
            evaluation = self._evaluate_in(conn, checks, record, marker)
        if record and evaluation.allowed:
            self._maybe_sweep(checks[0].at_us)
        return evaluation

    def evaluate_many(self, items: Sequence[BatchItem]) -> list[Evaluation]:
        if not items:
            return []
        with self._transaction(immediate=True) as conn:
            if any(check.rolling for checks, _ in items for check in checks):
                results = [self._evaluate_in(conn, checks, True, marker) for checks, marker in items]
            else:
                results = _evaluate_calendar_batch(conn, items)
        if any(checks for checks, _ in items):
            self._maybe_sweep(max(c[0].at_us for c, _ in items if c))
        return results

    def _evaluate_in(
        self, conn: sqlite3.Connection, checks: Sequence[Check], record: bool, marker: Marker | None
    ) -> Evaluation:
        if not checks:
            return Evaluation(True, ())
        observations = tuple(_observe(conn, check) for check in checks)
        allowed = passes(checks, observations)
        if allowed and record:
            for check in checks:
                expires = check.at_us + check.ttl_us
                if check.rolling:
                    conn.execute(
                        "INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?)",
                        (check.key, check.at_us, check.member, expires),
                    )
                else:
                    conn.execute(
                        "INSERT INTO counts VALUES (?, ?, 1, ?) ON CONFLICT (key, bucket) DO UPDATE"
                        " SET n = n + 1, expires = max(expires, excluded.expires)",
                        (check.key, check.buckets[check.own], expires),
                    )
            if marker is not None:
                conn.execute(
                    "INSERT OR REPLACE INTO reservations VALUES (?, ?)",
                    (_marker_key(marker), checks[0].at_us + marker.ttl_us),
                )
        return Evaluation(allowed, observations)

    def release(self, marker: Marker, checks: Sequence[Check]) -> bool:
        with self._transaction(immediate=True) as conn:
            gone = conn.execute(
                "DELETE FROM reservations WHERE marker = ?", (_marker_key(marker),)
            ).rowcount
            if not gone:
                return False
            for check in checks:
                if check.rolling:
                    conn.execute(
                        "DELETE FROM events WHERE key = ? AND ts = ? AND member = ?",
                        (check.key, check.at_us, check.member),
                    )
                else:
                    slot = (check.key, check.buckets[check.own])
                    conn.execute("UPDATE counts SET n = n - 1 WHERE key = ? AND bucket = ?", slot)
                    conn.execute("DELETE FROM counts WHERE key = ? AND bucket = ? AND n <= 0", slot)
            return True

    def ping(self) -> None:
        """Read one row of the counts table (the file is there, is a ledger, can be read)."""
        with self._transaction(immediate=False) as conn:
            conn.execute("SELECT 1 FROM counts LIMIT 1").fetchall()

    def _maybe_sweep(self, at_us: int) -> None:
        """Now and then delete expired rows. Runs after the reservation committed, so a
        failure here (locked, disk full) is logged, not raised: raising would tell the caller
        "not decided" about a send that was recorded."""
        local = self._local
        local.transactions = getattr(local, "transactions", 0) + 1
        if local.transactions % _SWEEP_EVERY:
            return
        horizon = sweep_horizon_us(at_us)
        try:
            with self._transaction(immediate=True) as conn:
                conn.execute("DELETE FROM counts WHERE expires <= ?", (horizon,))
                conn.execute("DELETE FROM events WHERE expires <= ?", (horizon,))
                conn.execute("DELETE FROM reservations WHERE expires <= ?", (horizon,))
        except LedgerError as exc:
            log.warning("SQLite ledger %r: deleting expired counts failed, retried later: %s", self.path, exc)

    def close(self) -> None:
        self._closed = True
        with self._all_lock:
            for conn in self._all:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass  # closing is best effort; the file is consistent either way
            self._all.clear()


# Keys per SELECT of a batch (SQLite's default limit is 32,766 parameters; 999 before 3.32).
_KEYS_PER_SELECT = 900


def _evaluate_calendar_batch(conn: sqlite3.Connection, items: Sequence[BatchItem]) -> list[Evaluation]:
    """`evaluate_many` of sends whose checks are all calendar checks, in the caller's
    ``BEGIN IMMEDIATE`` transaction: every count the batch can read is fetched in a few
    statements, each send is judged in order on those counts plus the earlier sends of the
    batch, and the increments are written at the end in one ``executemany``. The write lock
    is held throughout, so this decides exactly as one `_evaluate_in` per send would.
    """
    keys = list({check.key for checks, _ in items for check in checks})
    counts: dict[tuple[str, int], int] = {}
    for i in range(0, len(keys), _KEYS_PER_SELECT):
        chunk = keys[i:i + _KEYS_PER_SELECT]
        rows = conn.execute(
            f"SELECT key, bucket, n FROM counts WHERE key IN ({','.join('?' * len(chunk))})", chunk
        )
        for key, bucket, n in rows:
            counts[(key, bucket)] = n
    added: dict[tuple[str, int], list[int]] = {}  # slot -> [sends recorded, latest expiry]
    markers: list[tuple[str, int]] = []
    results: list[Evaluation] = []
    for checks, marker in items:
        if not checks:
            results.append(Evaluation(True, ()))
            continue
        observations = tuple(tuple([counts.get((c.key, b), 0) for b in c.buckets]) for c in checks)
        allowed = passes(checks, observations)
        if allowed:
            for check in checks:
                slot = (check.key, check.buckets[check.own])
                counts[slot] = counts.get(slot, 0) + 1
                expires = check.at_us + check.ttl_us
                entry = added.get(slot)
                if entry is None:
                    added[slot] = [1, expires]
                else:
                    entry[0] += 1
                    entry[1] = max(entry[1], expires)
            if marker is not None:
                markers.append((_marker_key(marker), checks[0].at_us + marker.ttl_us))
        results.append(Evaluation(allowed, observations))
    conn.executemany(
        "INSERT INTO counts VALUES (?, ?, ?, ?) ON CONFLICT (key, bucket) DO UPDATE"
        " SET n = n + excluded.n, expires = max(expires, excluded.expires)",
        [(key, bucket, n, expires) for (key, bucket), (n, expires) in added.items()],
    )
    if markers:
        conn.executemany("INSERT OR REPLACE INTO reservations VALUES (?, ?)", markers)
    return results


def _observe(conn: sqlite3.Connection, check: Check) -> tuple[int, ...]:
    if check.rolling:
        rows = conn.execute(
            "SELECT ts FROM events WHERE key = ? AND ts > ? AND ts < ? ORDER BY ts",
            (check.key, check.at_us - check.window_us, check.at_us + check.window_us),
        ).fetchall()
        return tuple(row[0] for row in rows)
    first = check.buckets[0]
    if len(check.buckets) == 1:
        row = conn.execute(
            "SELECT n FROM counts WHERE key = ? AND bucket = ?", (check.key, first)
        ).fetchone()
        return (row[0] if row else 0,)
    found = dict(
        conn.execute(
            "SELECT bucket, n FROM counts WHERE key = ? AND bucket BETWEEN ? AND ?",
            (check.key, first, check.buckets[-1]),
        ).fetchall()
    )
    return tuple(found.get(b, 0) for b in check.buckets)


def _marker_key(marker: Marker) -> str:
    return f"{marker.tag}|{marker.token}"


def _translate(exc: sqlite3.Error, path: str) -> LedgerError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return LedgerLockedError(
            f"SQLite ledger {path!r} stayed locked by another writer beyond the busy timeout "
            f"({text}); nothing was recorded"
        )
    hint = ""
    if "unable to open" in text or "readonly" in text or "read-only" in text:
        hint = (" (the file and its directory must exist and be writable: SQLite creates "
                f"{os.path.basename(path) or path}-wal and -shm beside it)")
    elif "not a database" in text or "malformed" in text:
        hint = " (the file is damaged or not a ledger; restore it from a backup or start a new one)"
    elif "full" in text:
        hint = " (free space, then retry: the ledger is consistent)"
    return LedgerUnavailableError(f"SQLite ledger {path!r} failed: {text}{hint}; nothing was recorded")


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NO_LOCK = _NoLock()
