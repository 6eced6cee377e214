"""`compliance demo`: the main jobs run on the bundled examples in ./examples."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _section(title: str) -> None:
    print()
    print(f"== {title} " + "=" * max(0, 70 - len(title)))


def run_demo() -> int:
    """Run every demo step; returns 0 when each step behaved as documented."""
    from compliance.cli import _print_decision
    from compliance.engine import Engine
    from compliance.errors import RulesError

    started = time.perf_counter()
    engine = Engine()
    print(f"loaded {len(engine.packs)} built-in packs, {sum(len(p.rules) for p in engine.packs.values())} rules "
          f"in {time.perf_counter() - started:.2f}s")

    _section("Eligibility: JD message box (JD-MB-01…04)")
    for name in ("jd_message_box_eligible.json", "jd_message_box_small_shop.json"):
        facts = json.loads((EXAMPLES / "facts" / name).read_text(encoding="utf-8"))
        _print_decision(engine.eligibility(facts, channel="jd.message_box"), label=f"{name}: ")

    _section("Graded eligibility: Taobao old-customer recall tiers (TB-03/TB-04)")
    facts = json.loads((EXAMPLES / "facts" / "taobao_recall.json").read_text(encoding="utf-8"))
    _print_decision(engine.eligibility(facts, channel="taobao.weitao"), label="taobao_recall.json: ")

    _section("A merchant pack extending jd.sms (examples/rules/my_shop.rules)")
    mine = Engine([EXAMPLES / "rules" / "my_shop.rules"])
    shop = {"shop": {"sms_enabled": True, "signature": "好物小铺", "sms_balance": 500, "main_category": "彩票",
                     "vip_level": 1}, "send": {"audience_size": 800}}
    _print_decision(mine.eligibility(shop, channel="jd.sms"), label="built-in + my_shop: ")

    _section("Audience: RFM segments over 200,000 users, column-wise (GT-01, GT-02)")
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = random.Random(7)
    n = 200_000
    table = pa.table({
        "spend_30d": [round(rng.expovariate(1 / 400), 2) for _ in range(n)],
        "preferred_category": [rng.choice(["彩妆护肤", "数码", "服饰", "食品"]) for _ in range(n)],
        "views_7d": [rng.randint(0, 12) for _ in range(n)],
        "recency_days": [rng.randint(0, 180) for _ in range(n)],
        "orders_90d": [rng.randint(0, 8) for _ in range(n)],
        "spend_90d": [round(rng.expovariate(1 / 900), 2) for _ in range(n)],
    })
    started = time.perf_counter()
    selected = engine.audience(table, channel="getui.push")
    elapsed = time.perf_counter() - started
    for column in selected.column_names:
        print(f"  {column:28} {pc.sum(selected.column(column)).as_py() or 0:>7,} users")
    print(f"  ({n:,} users in {elapsed * 1000:.0f} ms)")
    first = engine.audience(table.slice(0, 1).to_pylist()[0], channel="getui.push")
    agree = all(first.selected[c] == selected.column(c)[0].as_py() for c in selected.column_names)
    print(f"  row 0 evaluated one-by-one agrees with the table: {agree}")

    _section("What a mistake in a rules file looks like (examples/rules/broken.rules)")
    try:
        Engine([EXAMPLES / "rules" / "broken.rules"], use_cache=False)
        print("unexpectedly clean")
        return 1
    except RulesError as exc:
        print(exc)
    return 0 if agree else 1
