"""Audience rules over 1,000,000 users: column-wise (pyarrow) vs a Python loop per row.

Run: .venv/bin/python -m pytest benchmarks/bench_audience.py --benchmark-only
Target (issue 2): vectorized ≥ 20× faster than the per-row loop over the same compiled rules.
"""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from conftest import RESULTS, record

N = 1_000_000


@pytest.fixture(scope="module")
def users():
    rng = random.Random(42)
    return pa.table({
        "spend_30d": [round(rng.expovariate(1 / 400), 2) for _ in range(N)],
        "preferred_category": [rng.choice(["彩妆护肤", "数码", "服饰", "食品"]) for _ in range(N)],
        "views_7d": [rng.randint(0, 12) for _ in range(N)],
        "recency_days": [rng.randint(0, 180) for _ in range(N)],
        "orders_90d": [rng.randint(0, 8) for _ in range(N)],
        "spend_90d": [round(rng.expovariate(1 / 900), 2) for _ in range(N)],
    })


def per_row(program, rows):
    """The loop a user would write: every compiled rule on every row dict."""
    checks = [(rule.id, program.checks[rule.id]) for rule in program.audience_rules]
    counts = {rule_id: 0 for rule_id, _ in checks}
    for row in rows:
        facts = {"user": row}
        for rule_id, check in checks:
            if check(facts):
                counts[rule_id] += 1
    return counts


@pytest.mark.benchmark(group="audience 1M users", min_rounds=3, warmup=False)
def test_vectorized(benchmark, engine, users):
    result = benchmark.pedantic(engine.audience, args=(users, "getui.push"), rounds=3, iterations=1)
    assert result.num_rows == N
    record("audience.vectorized", benchmark)


@pytest.mark.benchmark(group="audience 1M users")
def test_per_row_loop(benchmark, engine, users):
    program = engine.program("getui.push")
    rows = users.to_pylist()  # conversion not timed: the loop gets its best case
    counts = benchmark.pedantic(per_row, args=(program, rows), rounds=1, iterations=1)
    table = engine.audience(users, "getui.push")
    import pyarrow.compute as pc

    assert counts == {c: pc.sum(table.column(c)).as_py() for c in table.column_names}
    record("audience.per_row_loop", benchmark)


def test_ratio():
    speedup = RESULTS["audience.per_row_loop"] / RESULTS["audience.vectorized"]
    print(f"\nper-row loop / vectorized = {speedup:.1f}x")
    assert speedup >= 20
