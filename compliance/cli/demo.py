"""`compliance demo`: the main jobs run on the bundled examples (compliance/examples/, shipped
in every distribution, so the demo runs from an installed wheel too)."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _section(title: str) -> None:
    print()
    print(f"== {title} " + "=" * max(0, 70 - len(title)))


def run_demo() -> int:
    """Run every demo step; returns 0 when each step behaved as documented."""
    from compliance.cli.decisions import print_decision as _print_decision
    from compliance.engine import Engine
    from compliance.errors import RulesError

    started = time.perf_counter()
    engine = Engine()
    print(f"loaded {len(engine.packs)} built-in packs, {sum(len(p.rules) for p in engine.packs.values())} rules "
          f"in {time.perf_counter() - started:.2f}s")

    _section("Copy: JD SMS messages linted (JD-SMS-04…17, 26; CN-01…05)")
    for text in (
        "【京东好物】全網最低價！！加威信领优惠卷★ 回T退订",
        "【好物小铺】最近上新，第一次下单立减10元，详情进店查看 回T退订",
        "你好{0}",
    ):
        report = engine.lint(text, channel="jd.sms")
        print(f"{'ok  ' if report.ok else 'FAIL'} {text}")
        for finding in report.findings:
            where = ""
            if finding.field is not None and finding.start is not None:
                origin = report.offsets.get(finding.field, 0)
                where = f"[{origin + finding.start}:{origin + (finding.end or 0)}] "
            fix = f"  → {finding.fix!r}" if finding.fix else ""
            print(f"     {where}{finding.rule} ({finding.ref}) [{finding.severity}] {finding.message}{fix}")

    _section("Frequency: one phone, merchants A–G over two days (JD-SMS-18…20)")
    import datetime as dt
    from zoneinfo import ZoneInfo

    from compliance.frequency import Send

    tz = ZoneInfo("Asia/Shanghai")
    day1, day2 = dt.datetime(2026, 11, 24, 9, tzinfo=tz), dt.datetime(2026, 11, 25, 9, tzinfo=tz)
    with engine.ledger("memory://") as ledger:
        plan = [("A", day1), ("B", day1), ("C", day1), ("D", day1), ("E", day2), ("F", day2), ("G", day2), ("A", day2)]
        for minute, (merchant, day) in enumerate(plan):
            send = Send("jd.sms", "marketing", merchant, "13800000000", day + dt.timedelta(minutes=minute))
            decision = ledger.reserve(send)
            verdict = "allowed" if decision.allowed else \
                "denied " + ", ".join(f"{v.ref}" for v in decision.violations) + \
                (f", retry after {decision.retry_after:%m-%d %H:%M}" if decision.retry_after else "")
            print(f"  {send.at:%m-%d %H:%M} merchant {merchant}: {verdict}")

    _section("Schedule: when may it go out? (JD-MB-09, JD-SMS-27)")
    for send in ({"channel": "jd.message_box", "at": day2 + dt.timedelta(hours=3), "submitted_at": day2 + dt.timedelta(hours=2, minutes=5)},
                 {"channel": "jd.sms", "at": day2 + dt.timedelta(hours=13), "audience_size": 1}):
        decision = engine.schedule(send)
        reasons = "; ".join(f"{r.ref} {r.message}" for r in decision.reasons) or "no rule delays it"
        print(f"  {send['channel']} at {send['at']:%H:%M}: earliest {decision.earliest:%m-%d %H:%M} — {reasons}")

    _section("Eligibility: JD message box (JD-MB-01…04)")
    for name in ("jd_message_box_eligible.json", "jd_message_box_small_shop.json"):
        facts = json.loads((EXAMPLES / "facts" / name).read_text(encoding="utf-8"))
        _print_decision(engine.eligibility(facts, channel="jd.message_box"), label=f"{name}: ")

    _section("Graded eligibility: Taobao old-customer recall tiers (TB-03/TB-04)")
    facts = json.loads((EXAMPLES / "facts" / "taobao_recall.json").read_text(encoding="utf-8"))
    _print_decision(engine.eligibility(facts, channel="taobao.weitao"), label="taobao_recall.json: ")

    _section("A merchant pack extending jd.sms (compliance/examples/rules/my_shop.rules)")
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

    _section("What a mistake in a rules file looks like (compliance/examples/rules/broken.rules)")
    try:
        Engine([EXAMPLES / "rules" / "broken.rules"], use_cache=False)
        print("unexpectedly clean")
        return 1
    except RulesError as exc:
        print(exc)
    return 0 if agree else 1
