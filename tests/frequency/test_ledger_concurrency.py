"""Atomicity under load: threads and processes racing for one recipient never exceed a cap.

The limits are below the number of attempts, so every run ends with the caps exactly full;
the final counts are asserted from the decisions and from the ledger itself.
"""

from __future__ import annotations

import multiprocessing
import re
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from compliance.frequency import Cap, Ledger, Send, Window
from ledger_fixtures import DAY, sh

AT = sh("2024-06-01T12:00")
RECIPIENT_LIMIT = 23
MERCHANT_LIMIT = 5
ROLLING_LIMIT = 17


def race_caps() -> list[Cap]:
    return [
        Cap("recipient-daily", None, frozenset(), frozenset({"m"}), ("recipient",), DAY, RECIPIENT_LIMIT),
        Cap("merchant-daily", None, frozenset(), frozenset({"m"}), ("merchant", "recipient"), DAY,
            MERCHANT_LIMIT),
        Cap("recipient-hour", None, frozenset(), frozenset({"r"}), ("recipient",),
            Window("rolling", seconds=3600), ROLLING_LIMIT),
    ]


def attempt(ledger: Ledger, worker: int, attempts: int, *, batched: bool = False) -> tuple[int, int, int]:
    """(allowed "m", most allowed "m" for one merchant, allowed "r").

    Each worker sends for two merchants of its own, every send a second later than its
    previous one — so workers interleave out of time order, as racing service instances do.
    """
    sends = []
    for i in range(attempts):
        cls = "m" if i % 2 == 0 else "r"
        merchant = f"M{worker}{'ab'[i // 2 % 2]}"
        sends.append(Send("c", cls, merchant, "P", AT + timedelta(seconds=i), id=f"{worker}-{i}"))
    if batched:
        decisions = []
        for start in range(0, len(sends), 4):
            decisions += ledger.reserve_many(sends[start:start + 4])
    else:
        decisions = [ledger.reserve(s) for s in sends]
    per_merchant: dict[str, int] = {}
    for s, d in zip(sends, decisions):
        if s.message_class == "m" and d.allowed:
            per_merchant[s.merchant] = per_merchant.get(s.merchant, 0) + 1
    r = sum(d.allowed for s, d in zip(sends, decisions) if s.message_class == "r")
    return sum(per_merchant.values()), max(per_merchant.values(), default=0), r


def process_worker(url: str, caps: Sequence[Cap], worker: int, attempts: int, start_at: float) -> tuple[int, int, int]:
    ledger = Ledger.open(url, caps)
    # Start together so the processes really contend instead of running one after another.
    while time.time() < start_at:
        time.sleep(0.001)
    try:
        return attempt(ledger, worker, attempts, batched=worker % 2 == 1)
    finally:
        ledger.close()


def stored_count(ledger: Ledger, cls: str, merchant: str = "X") -> int:
    """The count the ledger holds for recipient P, read back through a denied peek."""
    decision = ledger.peek(Send("c", cls, merchant, "P", AT + timedelta(minutes=30)))
    rule = "recipient-daily" if cls == "m" else "recipient-hour"
    (finding,) = [f for f in decision.violations if f.rule == rule]
    match = re.search(r"count: (\d+)", " ".join(finding.explanation))
    assert match is not None
    return int(match.group(1))


def check_totals(ledger: Ledger, results: Sequence[tuple[int, int, int]]) -> None:
    assert sum(m for m, _, _ in results) == RECIPIENT_LIMIT
    assert all(per_merchant <= MERCHANT_LIMIT for _, per_merchant, _ in results)
    assert sum(r for _, _, r in results) == ROLLING_LIMIT
    assert stored_count(ledger, "m") == RECIPIENT_LIMIT
    assert stored_count(ledger, "r") == ROLLING_LIMIT


def test_eight_threads_never_exceed_a_cap(make_ledger) -> None:
    ledger = make_ledger(race_caps())
    results: list[tuple[int, int, int]] = [(0, 0, 0)] * 8
    barrier = threading.Barrier(8)

    def run(worker: int) -> None:
        barrier.wait()
        results[worker] = attempt(ledger, worker, 24, batched=worker % 2 == 1)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check_totals(ledger, results)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def test_four_processes_never_exceed_a_cap(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    from conftest import store_url

    url = store_url(kind, request, tmp_path)
    caps = race_caps()
    Ledger.open(url, caps).close()  # create the schema before the race
    context = multiprocessing.get_context("spawn")
    start_at = time.time() + 2.0
    with context.Pool(4) as pool:
        results = pool.starmap(process_worker, [(url, caps, w, 24, start_at) for w in range(4)])
    with Ledger.open(url, caps) as ledger:
        check_totals(ledger, results)
