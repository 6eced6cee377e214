"""Crash safety: a process SIGKILLed during `reserve_many` leaves SQLite with all of the batch
or none of it. The ledger runs in a real subprocess that is really killed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from compliance.frequency import Cap, Ledger, Send, Window
from ledger_fixtures import DAY, sh

BATCH = 2000

CHILD = r"""
import sys, time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo
from compliance.frequency import Cap, Ledger, Send, Window
from compliance.frequency.stores import sqlite as sqlite_store
from compliance.frequency.stores.sqlite import SqliteStore

url, mode, size, window = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
window = Window("calendar", "day") if window == "day" else Window("rolling", seconds=86400)
caps = [Cap("once", None, frozenset(), frozenset({"m"}), ("recipient",), window, 1)]
ledger = Ledger.open(url, caps)
at = datetime(2024, 6, 1, 12, tzinfo=ZoneInfo("Asia/Shanghai"))
sends = [Send("c", "m", "A", f"r{i}", at) for i in range(size)]
if mode == "pause-mid-batch":
    # Stop inside the transaction, so the kill is known to land there: half-way through the
    # batch where each send is written in turn (rolling caps), after every write of the batch
    # (calendar caps: written together at the end), before COMMIT either way.
    original = SqliteStore._evaluate_in
    seen = [0]
    def evaluate_in(self, *args, **kwargs):
        seen[0] += 1
        if seen[0] == size // 2:
            print("MID", flush=True)
            time.sleep(120)
        return original(self, *args, **kwargs)
    SqliteStore._evaluate_in = evaluate_in
    batch = sqlite_store._evaluate_calendar_batch
    def calendar_batch(conn, items):
        results = batch(conn, items)
        assert conn.in_transaction and conn.total_changes >= size
        print("MID", flush=True)
        time.sleep(120)
        return results
    sqlite_store._evaluate_calendar_batch = calendar_batch
print("START", flush=True)
ledger.reserve_many(sends)
print("DONE", flush=True)
time.sleep(120)
"""


ROLLING_DAY = Window("rolling", seconds=86400)


def caps(window: str = "day") -> list[Cap]:
    return [Cap("once", None, frozenset(), frozenset({"m"}), ("recipient",),
                DAY if window == "day" else ROLLING_DAY, 1)]


def run_and_kill(db: Path, mode: str, wait_for: str, delay: float = 0.0, window: str = "day") -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, f"sqlite:///{db}", mode, str(BATCH), window],
        stdout=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert child.stdout is not None
        deadline = time.monotonic() + 60
        for line in child.stdout:
            if line.strip() == wait_for:
                break
            assert time.monotonic() < deadline, "child never reached the batch"
        else:
            pytest.fail(f"child exited (rc={child.wait()}) before printing {wait_for}")
        time.sleep(delay)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL


def recorded(db: Path, window: str = "day") -> int:
    """How many of the batch's recipients the ledger counts (each could be counted once)."""
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    with Ledger.open(f"sqlite:///{db}", caps(window)) as ledger:
        at = sh("2024-06-01T13:00")
        return sum(not ledger.peek(Send("c", "m", "B", f"r{i}", at)).allowed for i in range(BATCH))


@pytest.mark.parametrize("window", ["day", "rolling"])
def test_kill_inside_the_batch_transaction_records_none(tmp_path: Path, window: str) -> None:
    # Calendar caps take the batched path (all counts read, then all written), rolling ones
    # the per-send path: a kill before COMMIT leaves nothing of either.
    db = tmp_path / "crash.db"
    run_and_kill(db, "pause-mid-batch", "MID", window=window)
    assert recorded(db, window) == 0


def test_kill_after_the_batch_returned_keeps_all(tmp_path: Path) -> None:
    db = tmp_path / "done.db"
    run_and_kill(db, "plain", "DONE")
    assert recorded(db) == BATCH


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.15])
def test_kill_at_any_moment_leaves_all_or_none(tmp_path: Path, delay: float) -> None:
    db = tmp_path / f"any-{delay}.db"
    run_and_kill(db, "plain", "START", delay)
    assert recorded(db) in (0, BATCH)
