"""Faults under the ledger: Redis killed, stopped or black-holed mid-run, a reply lost on the
wire; SQLite locked, full, read-only or corrupted. Every fault must end in a `LedgerError`
(a `ComplianceError`) naming the store and what failed — never ``allowed=True`` on a
fail-closed ledger — and the counts must stay exact (a send is counted at most once).

Redis faults use a real redis-server per test (it is killed), started on a free loopback port.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from compliance.errors import ComplianceError
from compliance.frequency import (
    Cap,
    Decision,
    Ledger,
    LedgerError,
    LedgerLockedError,
    LedgerUnavailableError,
    Send,
)
from conftest import _free_port
from ledger_fixtures import DAY, sh

pytestmark = pytest.mark.fault

#: Generous guard for "bounded time" (a 2-core CI box); the measured figures are far lower.
BOUND = 30.0
AT = sh("2024-06-01T12:00")


def one_a_day(limit: int = 1) -> list[Cap]:
    """A cap per recipient and a tighter one per (merchant, recipient): a multi-cap send."""
    return [
        Cap("per-recipient", None, frozenset(), frozenset({"m"}), ("recipient",), DAY, limit + 1),
        Cap("per-merchant", None, frozenset(), frozenset({"m"}), ("merchant", "recipient"), DAY, limit),
    ]


def send(recipient: str, merchant: str = "A", **kw: object) -> Send:
    return Send("c", "m", merchant, recipient, AT, **kw)  # type: ignore[arg-type]


# -- a redis-server this test may kill ---------------------------------------------------------


class RedisServer:
    """A redis-server on a fixed loopback port that can be killed, stopped and restarted.

    Writes are fsynced before each reply (``appendfsync always``), so a restarted server holds
    every count a client was told about — what a production Redis with AOF would do.
    """

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            if os.environ.get("CI") == "true":
                pytest.fail("redis-server is not installed; CI must run the Redis fault tests")
            pytest.skip("redis-server not installed (apt-get install redis-server)")
        self.binary = binary
        self.workdir = workdir
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        import redis

        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except (redis.ConnectionError, redis.BusyLoadingError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.proc.kill()
                    pytest.fail(f"redis-server did not start on port {self.port}")
                time.sleep(0.02)
        client.close()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def pause(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def counts(self, prefix: str) -> dict[str, int]:
        """Every calendar count under ``prefix`` (reservation markers left out)."""
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            keys = [k.decode() for k in client.scan_iter(f"{prefix}*") if b":res:" not in k]
            return {k: int(client.get(k) or 0) for k in keys}
        finally:
            client.close()

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    srv = RedisServer(tmp_path)
    srv.start()
    try:
        yield srv
    finally:
        srv.close()


def counted_per_send(counts: dict[str, int]) -> dict[str, int]:
    """Counts of the per-(merchant, recipient) cap by recipient (each send counts there once)."""
    out: dict[str, int] = {}
    for key, n in counts.items():
        if "per-merchant" in key:
            recipient = key.split("{", 1)[1].split("}", 1)[0]
            out[recipient] = out.get(recipient, 0) + n
    return out


def assert_clear_redis_error(exc: BaseException, url: str) -> None:
    assert isinstance(exc, LedgerUnavailableError) and isinstance(exc, ComplianceError)
    text = str(exc)
    assert url in text, text
    assert "nothing was decided" in text, text


# -- Redis ---------------------------------------------------------------------------------------


@pytest.mark.redis
def test_redis_killed_mid_run_fails_closed_then_recovers_without_double_counts(server: RedisServer) -> None:
    """Two threads reserve (one by reserve, one by reserve_many); Redis is SIGKILLed, every later
    call raises; Redis restarts from its AOF and the same ledger carries on. Every send told
    "allowed" is counted exactly once; a failed call is counted at most once."""
    url = f"{server.url}?prefix=k:&socket_timeout=2"
    ledger = Ledger.open(url, one_a_day())
    allowed: list[str] = []
    failed: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    killed = threading.Event()
    after_kill: list[tuple[str, float]] = []

    def worker(name: str, batch: int) -> None:
        i = 0
        deadline = time.monotonic() + BOUND
        while time.monotonic() < deadline and sum(n == name for n, _ in after_kill) < 4:
            names = [f"{name}{i + j}" for j in range(batch)]
            i += batch
            started = time.monotonic()
            try:
                if batch == 1:
                    decisions = [ledger.reserve(send(names[0]))]
                else:
                    decisions = ledger.reserve_many(send(n) for n in names)
            except LedgerError as exc:
                with lock:
                    failed.extend(names)
                    errors.append(exc)
                    if killed.is_set():
                        after_kill.append((name, time.monotonic() - started))
                continue
            except BaseException as exc:  # anything else is a bug: record it, fail below
                with lock:
                    errors.append(exc)
                return
            with lock:
                assert all(isinstance(d, Decision) and d.allowed and not d.degraded for d in decisions)
                allowed.extend(names)

    threads = [threading.Thread(target=worker, args=("s", 1)), threading.Thread(target=worker, args=("b", 5))]
    for t in threads:
        t.start()
    deadline = time.monotonic() + BOUND
    while len(allowed) < 60 and time.monotonic() < deadline:
        time.sleep(0.005)
    server.kill()
    killed.set()
    for t in threads:
        t.join(BOUND)
        assert not t.is_alive(), "a reserve hung after Redis died"
    assert errors and all(isinstance(e, LedgerUnavailableError) for e in errors), errors
    for exc in errors:
        assert_clear_redis_error(exc, server.url)
    assert sorted({name for name, _ in after_kill}) == ["b", "s"]  # both paths failed after the kill
    assert max(seconds for _, seconds in after_kill) < BOUND

    # Down: a fresh call fails too (fail-closed), in bounded time.
    with pytest.raises(LedgerUnavailableError) as info:
        ledger.reserve(send("late"))
    assert_clear_redis_error(info.value, server.url)
    assert "could not reach Redis" in str(info.value)

    server.start()
    # Back: the same ledger object works again, and nothing was counted twice.
    decision = ledger.reserve(send("after"))
    assert decision.allowed and not decision.degraded
    per_send = counted_per_send(server.counts("k:"))
    assert set(allowed) | {"after"} <= set(per_send)  # every "allowed" send is counted …
    assert all(n == 1 for n in per_send.values())  # … once, and nothing twice
    assert set(per_send) - set(allowed) - {"after"} <= set(failed)  # extra: only failed calls
    assert not ledger.reserve(send("after")).allowed  # the cap still holds after the restart
    ledger.close()


@pytest.mark.redis
def test_redis_killed_with_fail_open_allows_visibly_undecided(server: RedisServer,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    ledger = Ledger.open(f"{server.url}?prefix=o:&socket_timeout=2", one_a_day(), fail_open=True)
    assert ledger.reserve(send("r1")).degraded is False
    server.kill()
    decision = ledger.reserve(send("r2"))
    assert decision.allowed and decision.degraded
    assert [f.rule for f in decision.violations] == ["frequency-ledger-unavailable"]
    assert server.url in decision.violations[0].explanation[0]
    batch = ledger.reserve_many([send("r3"), send("r4")])
    assert all(d.allowed and d.degraded for d in batch)
    assert "failing open" in caplog.text
    server.start()
    assert not ledger.reserve(send("r1")).allowed  # counted before the fault, still denied
    assert ledger.peek(send("r2")).allowed  # a degraded "allowed" was not counted
    ledger.close()


class LossyProxy:
    """A loopback TCP proxy in front of Redis that can drop the next reply on the floor (the
    request reaches Redis and runs; the client never hears back)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.drop_next_reply = threading.Event()
        self.dropped = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, replies: bool) -> None:
        try:
            while data := source.recv(65536):
                if replies and self.drop_next_reply.is_set():
                    self.drop_next_reply.clear()
                    self.dropped += 1
                    break
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self) -> None:
        self.listener.close()


@pytest.mark.redis
def test_a_reservation_whose_reply_is_lost_is_counted_once_and_reported(server: RedisServer) -> None:
    """The script ran, the reply never came back: the caller gets an error (so it does not
    send), the store counted the send once, and no retry counts it a second time."""
    proxy = LossyProxy(server.port)
    ledger = Ledger.open(f"redis://127.0.0.1:{proxy.port}/0?prefix=l:&socket_timeout=2", one_a_day(limit=2))
    try:
        assert ledger.reserve(send("warm-up")).allowed  # connection and script in place
        proxy.drop_next_reply.set()
        with pytest.raises(LedgerUnavailableError) as info:
            ledger.reserve(send("lost"))
        assert proxy.dropped == 1
        assert "may have been counted once, never twice" in str(info.value)
        assert counted_per_send(server.counts("l:"))["lost"] == 1
        # The next call reconnects by itself and sees the count the lost reply carried.
        assert ledger.reserve(send("lost")).allowed
        assert not ledger.reserve(send("lost")).allowed  # limit 2: the lost one did count
        assert counted_per_send(server.counts("l:"))["lost"] == 2
        proxy.drop_next_reply.set()
        with pytest.raises(LedgerUnavailableError):
            ledger.reserve_many([send("m1"), send("m2")])
        assert counted_per_send(server.counts("l:")).get("m1", 0) <= 1
    finally:
        ledger.close()
        proxy.close()


@pytest.mark.redis
def test_a_stopped_redis_times_out_then_recovers_without_mixing_replies(server: RedisServer) -> None:
    ledger = Ledger.open(f"{server.url}?prefix=p:&socket_timeout=0.5", one_a_day())
    try:
        assert ledger.reserve(send("before")).allowed
        server.pause()  # accepts nothing, answers nothing
        started = time.monotonic()
        with pytest.raises(LedgerUnavailableError) as info:
            ledger.reserve(send("frozen"))
        assert time.monotonic() - started < BOUND
        assert "socket timeout" in str(info.value) and server.url in str(info.value)
        server.resume()  # the frozen script now runs, its reply goes to a closed socket
        # The next reply is this call's own, not the late one of "frozen".
        assert not ledger.reserve(send("before")).allowed
        assert ledger.reserve(send("after")).allowed
        assert counted_per_send(server.counts("p:")).get("frozen", 0) <= 1
    finally:
        server.resume()
        ledger.close()


@pytest.mark.redis
def test_a_server_that_accepts_but_never_answers_is_bounded_by_the_socket_timeout() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # listens; never accepts or answers
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0?socket_timeout=0.5"
        with Ledger.open(url, one_a_day()) as ledger:
            started = time.monotonic()
            with pytest.raises(LedgerUnavailableError, match="socket timeout") as info:
                ledger.reserve(send("r"))
            assert time.monotonic() - started < BOUND
            assert url.split("?")[0] in str(info.value)
            with pytest.raises(LedgerUnavailableError):
                ledger.peek(send("r"))


@pytest.mark.redis
def test_redis_unreachable_at_open_fails_on_first_use_and_works_once_it_is_up(tmp_path: Path) -> None:
    srv = RedisServer(tmp_path)  # port chosen, nothing started yet
    try:
        with Ledger.open(f"{srv.url}?prefix=u:", one_a_day()) as ledger:  # opening does not connect
            with pytest.raises(LedgerUnavailableError, match="could not reach Redis") as info:
                ledger.reserve(send("r"))
            assert srv.url in str(info.value)
            srv.start()
            assert ledger.reserve(send("r")).allowed
    finally:
        srv.close()


def test_a_redis_password_never_appears_in_errors() -> None:
    url = f"redis://:s3cret@127.0.0.1:{_free_port()}/0?socket_timeout=0.5"
    with Ledger.open(url, one_a_day()) as ledger:
        with pytest.raises(LedgerUnavailableError) as info:
            ledger.reserve(send("r"))
    assert "s3cret" not in str(info.value) and ":***@" in str(info.value)


# -- SQLite --------------------------------------------------------------------------------------


def sqlite_counts(path: Path) -> dict[tuple[str, int], int]:
    conn = sqlite3.connect(path)
    try:
        return {(k, b): n for k, b, n in conn.execute("SELECT key, bucket, n FROM counts")}
    finally:
        conn.close()


def assert_all_or_nothing(path: Path, recipients: list[str]) -> set[str]:
    """Each send counted in both of its caps or in neither; returns the counted recipients."""
    counts = sqlite_counts(path)
    counted = set()
    for r in recipients:
        per = [n for (k, _), n in counts.items() if k.endswith("|" + r)]
        hits = {n for n in per}
        assert len(per) in (0, 2) and hits <= {1}, (r, per)
        if per:
            counted.add(r)
    return counted


@pytest.mark.parametrize("lock", ["IMMEDIATE", "EXCLUSIVE"])
def test_sqlite_locked_beyond_the_busy_timeout_raises_and_writes_nothing(tmp_path: Path, lock: str) -> None:
    path = tmp_path / "locked.db"
    ledger = Ledger.open(f"sqlite:///{path}?busy_timeout=0.2", one_a_day())
    assert ledger.reserve(send("r0")).allowed
    before = sqlite_counts(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute(f"BEGIN {lock}")
    holder.execute("INSERT INTO reservations VALUES ('other-writer', 0)")  # really holds the lock
    started = time.monotonic()
    with pytest.raises(LedgerLockedError) as info:
        ledger.reserve_many([send(f"r{i}") for i in range(1, 6)])
    assert time.monotonic() - started < BOUND
    assert str(path) in str(info.value) and "nothing was recorded" in str(info.value)
    with pytest.raises(LedgerLockedError):
        ledger.reserve(send("r1"))
    holder.execute("ROLLBACK")
    holder.close()
    assert sqlite_counts(path) == before
    assert [d.allowed for d in ledger.reserve_many([send("r1"), send("r1")])] == [True, False]
    ledger.close()


def test_sqlite_locked_with_fail_open_allows_undecided(tmp_path: Path) -> None:
    path = tmp_path / "locked-open.db"
    ledger = Ledger.open(f"sqlite:///{path}?busy_timeout=0.1", one_a_day(), fail_open=True)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    decision = ledger.reserve(send("r"))
    holder.execute("ROLLBACK")
    holder.close()
    assert decision.allowed and decision.degraded
    assert ledger.peek(send("r")).allowed and not ledger.peek(send("r")).degraded  # not counted
    ledger.close()


def test_sqlite_disk_full_raises_writes_nothing_half_and_recovers(tmp_path: Path) -> None:
    """``PRAGMA max_page_count`` makes the database full (portable stand-in for a full disk)."""
    path = tmp_path / "full.db"
    ledger = Ledger.open(f"sqlite:///{path}", one_a_day())
    conn = ledger.store._connection()  # type: ignore[attr-defined] - this thread's connection
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + 2}")
    recipients = [f"recipient-with-a-long-name-{i:05d}" for i in range(3000)]
    allowed: list[str] = []
    error: LedgerError | None = None
    for i in range(0, len(recipients), 3):
        chunk = recipients[i : i + 3]
        try:
            decisions = ledger.reserve_many([send(r) for r in chunk])
        except LedgerError as exc:
            error = exc
            break
        assert all(d.allowed for d in decisions)
        allowed += chunk
    assert isinstance(error, LedgerUnavailableError), "the database never filled up"
    assert "full" in str(error) and str(path) in str(error) and "nothing was recorded" in str(error)
    with pytest.raises(LedgerUnavailableError, match="full"):
        ledger.reserve(send(recipients[-1]))
    assert assert_all_or_nothing(path, recipients) == set(allowed)
    conn.execute("PRAGMA max_page_count = 1073741823")  # space is back
    rest = recipients[len(allowed) :][:20]
    assert all(d.allowed for d in ledger.reserve_many([send(r) for r in rest]))
    assert not any(d.allowed for d in ledger.reserve_many([send(r) for r in allowed[:20] + rest]))
    assert assert_all_or_nothing(path, recipients) == set(allowed) | set(rest)
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    check.close()
    ledger.close()


def test_a_corrupted_sqlite_file_is_a_clear_error_at_open(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(os.urandom(8192))
    with pytest.raises(LedgerUnavailableError) as info:
        Ledger.open(f"sqlite:///{garbage}", one_a_day())
    assert str(garbage) in str(info.value) and "not a database" in str(info.value)


def test_a_sqlite_file_with_a_damaged_table_is_a_clear_error_on_use(tmp_path: Path) -> None:
    path = tmp_path / "damaged.db"
    with Ledger.open(f"sqlite:///{path}", one_a_day()) as ledger:
        ledger.reserve_many([send(f"r{i}") for i in range(500)])
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(2 * page, len(data), page):  # every page but the header and schema
        data[offset : offset + 64] = b"\xa5" * 64
    path.write_bytes(bytes(data))
    with pytest.raises(LedgerError) as info:
        with Ledger.open(f"sqlite:///{path}", one_a_day()) as ledger:
            ledger.reserve(send("r1"))
    assert str(path) in str(info.value) and "malformed" in str(info.value)


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(writable dir, the same dir read-only). Root ignores file modes, so as root this is a
    read-only bind mount (skipped where mounting is not allowed)."""
    source = tmp_path / "rw"
    source.mkdir()
    if os.geteuid() != 0:
        view = source
        yield source, view
        source.chmod(0o755)
        return
    view = tmp_path / "ro"
    view.mkdir()
    mounted = subprocess.run(["mount", "--bind", "-o", "ro", str(source), str(view)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"running as root and cannot bind-mount read-only: {mounted.stderr.decode().strip()}")
    try:
        yield source, view
    finally:
        subprocess.run(["umount", str(view)], check=True)


@pytest.mark.parametrize("what", ["file", "directory"])
def test_a_read_only_sqlite_ledger_is_a_clear_error_at_open(read_only_dir: tuple[Path, Path], what: str) -> None:
    source, view = read_only_dir
    if what == "file":
        Ledger.open(f"sqlite:///{source / 'ro.db'}", one_a_day()).close()
        for extra in source.iterdir():
            extra.chmod(0o444)
    if view == source:
        source.chmod(0o555)  # not root: modes are enough
    path = view / "ro.db"
    with pytest.raises(LedgerUnavailableError) as info:
        Ledger.open(f"sqlite:///{path}", one_a_day())
    assert str(path) in str(info.value)
    assert "readonly" in str(info.value) or "unable to open" in str(info.value), str(info.value)


def test_a_failed_sweep_after_a_committed_reservation_does_not_report_it_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The periodic deletion of expired rows runs after the reservation committed; another
    writer holding the lock just then must not turn a recorded send into an error."""
    import compliance.frequency.stores.sqlite as sqlite_store

    path = tmp_path / "sweep.db"
    monkeypatch.setattr(sqlite_store, "_SWEEP_EVERY", 1)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def lock_then_horizon(at_us: int) -> int:  # another writer takes the lock right now
        holder.execute("BEGIN IMMEDIATE")
        return at_us

    ledger = Ledger.open(f"sqlite:///{path}?busy_timeout=0.1", one_a_day())
    monkeypatch.setattr(sqlite_store, "sweep_horizon_us", lock_then_horizon)
    decision = ledger.reserve(send("r"))
    holder.execute("ROLLBACK")
    holder.close()
    assert decision.allowed
    assert not ledger.peek(send("r")).allowed  # it was recorded
    ledger.close()


@pytest.mark.redis
def test_reserve_many_reloads_a_script_the_server_lost_in_the_same_round_trip(server: RedisServer) -> None:
    """SCRIPT FLUSH (or a restart without persistence) drops the reserve script: the next
    batch still decides every send, in order, with the counts kept."""
    import redis

    ledger = Ledger.open(f"{server.url}?prefix=f:", one_a_day())
    client = redis.Redis.from_url(server.url)
    try:
        assert [d.allowed for d in ledger.reserve_many([send("a"), send("b")])] == [True, True]
        client.script_flush()
        assert [d.allowed for d in ledger.reserve_many([send("a"), send("c"), send("c")])] == [False, True, False]
        assert counted_per_send(server.counts("f:")) == {"a": 1, "b": 1, "c": 1}
    finally:
        client.close()
        ledger.close()
