"""Compiled eligibility vs a hand-written function vs tree-walking evaluation (JD message box).

Run: .venv/bin/python -m pytest benchmarks/bench_eligibility.py --benchmark-only
Targets (issue 2): compiled ≤ 1.3× hand-written; ≥ 5× faster than tree-walking.
"""

from __future__ import annotations

import datetime as dt

import pytest

from compliance.checker.evaluator import Env, evaluate
from compliance.checker.functions import months_between

from conftest import RESULTS, record

FACTS = {
    "shop": {"fans": 86_000, "private_posts_last_month": 52, "avg_material_uv": 210.5, "category_avg_uv": 150.0,
             "bottom3_click_rate_months": 0, "messages_last_month": 24, "revoked_on": dt.date(2026, 5, 1)},
    "today": dt.date(2026, 11, 25),
}


def hand_written(facts):
    """What an engineer would write by hand for JD-MB-01…04, returning the same result."""
    shop = facts["shop"]
    today = facts["today"]
    unmet = []
    if not shop["fans"] >= 50_000:
        unmet.append(0)
    if not shop["private_posts_last_month"] >= 40:
        unmet.append(1)
    if not shop["avg_material_uv"] > shop["category_avg_uv"]:
        unmet.append(2)
    revoked = shop["revoked_on"]
    if not (shop["bottom3_click_rate_months"] < 2 and shop["messages_last_month"] >= 5
            and (revoked is None or months_between(revoked, today) >= 3)):
        unmet.append(3)
    return unmet, {}


def tree_walking(rules, facts):
    env = Env(facts)
    return [i for i, rule in enumerate(rules) if not evaluate(rule.require, env)], {}


@pytest.mark.benchmark(group="eligibility jd.message_box")
def test_compiled(benchmark, engine):
    program = engine.program("jd.message_box")
    assert program.eligibility(FACTS) == hand_written(FACTS)
    benchmark(program.eligibility, FACTS)
    record("eligibility.compiled", benchmark)


@pytest.mark.benchmark(group="eligibility jd.message_box")
def test_hand_written(benchmark):
    benchmark(hand_written, FACTS)
    record("eligibility.hand_written", benchmark)


@pytest.mark.benchmark(group="eligibility jd.message_box")
def test_tree_walking(benchmark, engine):
    rules = engine.program("jd.message_box").eligibility_rules
    assert tree_walking(rules, FACTS) == hand_written(FACTS)
    benchmark(tree_walking, rules, FACTS)
    record("eligibility.tree_walking", benchmark)


@pytest.mark.benchmark(group="eligibility jd.message_box")
def test_engine_end_to_end(benchmark, engine):
    """The public call: pydantic validation of facts + compiled rules + findings."""
    benchmark(engine.eligibility, FACTS, "jd.message_box")
    record("eligibility.engine_end_to_end", benchmark)


def test_ratios():
    compiled = RESULTS["eligibility.compiled"]
    ratio_hand = compiled / RESULTS["eligibility.hand_written"]
    speedup_tree = RESULTS["eligibility.tree_walking"] / compiled
    print(f"\ncompiled / hand-written = {ratio_hand:.2f}x; tree-walking / compiled = {speedup_tree:.1f}x")
    assert ratio_hand <= 1.3
    assert speedup_tree >= 5
