"""compliance.spark.eligibility / audience on local[2]: row by row what `Engine.eligibility` and
`Engine.audience` answer — verdicts, unmet rules with messages and explanations, grants, and
the rows whose facts do not fit — on the rule files' examples and on generated tables
(100,000 rows for the tiered Taobao rules and the Getui audiences).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

import pytest

from compliance.errors import ComplianceError
from compliance.testing import example_facts

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

JD_SHOP = pa.struct([("fans", pa.int64()), ("private_posts_last_month", pa.int64()), ("avg_material_uv", pa.float64()),
                     ("category_avg_uv", pa.float64()), ("bottom3_click_rate_months", pa.int64()),
                     ("messages_last_month", pa.int64()), ("revoked_on", pa.date32())])
TB_ACCOUNT = pa.struct([("subscribed_fans", pa.int64()), ("old_customer_fans", pa.int64()), ("broadcasts_7d", pa.int64()),
                        ("fan_revisit_rate", pa.float64()), ("campaign_grants", pa.int64()),
                        ("campaign_recipient_cap", pa.int64())])
TB_SEND = pa.struct([("message_class", pa.string()), ("audience_size", pa.int64())])
GT_USER = [("spend_30d", pa.float64()), ("preferred_category", pa.string()), ("views_7d", pa.int64()),
           ("recency_days", pa.int64()), ("orders_90d", pa.int64()), ("spend_90d", pa.float64())]
TODAY = dt.date(2026, 11, 25)


def spark_test(test: Any) -> Any:
    """Needs the local[2] session (tests/conftest.py): slow (a JVM) and marked ``spark``."""
    return pytest.mark.slow(pytest.mark.spark(test))


def maybe(rng: random.Random, value: Any, p: float = 0.02) -> Any:
    return None if rng.random() < p else value


def jd_rows(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        revoked = maybe(rng, TODAY - dt.timedelta(days=rng.randrange(400)), 0.7)
        rows.append({"id": i, "today": TODAY - dt.timedelta(days=rng.randrange(60)), "shop": {
            "fans": maybe(rng, rng.choice([rng.randrange(100_000), 50_000, 49_999])),
            "private_posts_last_month": rng.randrange(80), "avg_material_uv": round(rng.uniform(50, 250), 1),
            "category_avg_uv": rng.choice([150.0, round(rng.uniform(50, 250), 1)]),
            "bottom3_click_rate_months": rng.randrange(4), "messages_last_month": rng.randrange(30),
            "revoked_on": revoked}})
    return rows


def tb_rows(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        rows.append({"id": i, "account": {
            "subscribed_fans": rng.randrange(20), "old_customer_fans": rng.choice([rng.randrange(2000), 50, 1000]),
            "broadcasts_7d": rng.randrange(10), "fan_revisit_rate": rng.choice([0.05, round(rng.random() / 5, 3)]),
            "campaign_grants": rng.randrange(3), "campaign_recipient_cap": maybe(rng, rng.randrange(200), 0.4)},
            "send": {"message_class": rng.choice(["subscription", "recall", "recall", "mass", "other"]),
                     "audience_size": maybe(rng, rng.randrange(250), 0.3)}})
        if rng.random() < 0.01:
            rows[-1]["account"]["broadcasts_7d"] = None  # required and read by a tier: the row's problem
    return rows


def gt_rows(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        rows.append({"id": i, "spend_30d": maybe(rng, rng.choice([1000.0, round(rng.uniform(0, 3000), 2)]), 0.01),
                     "preferred_category": rng.choice(["彩妆护肤", "数码", "食品"]), "views_7d": rng.randrange(8),
                     "recency_days": rng.choice([30, rng.randrange(90)]), "orders_90d": rng.randrange(6),
                     "spend_90d": round(rng.uniform(0, 3000), 2)})
    return rows


def to_parquet(path: Path, rows: list[dict[str, Any]], schema: Any) -> Path:
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def nested_facts(row: dict[str, Any], groups: tuple[str, ...], constants: dict[str, Any] | None = None) -> dict[str, Any]:
    """The facts a caller would pass the engine for a row: null fields left out."""
    facts: dict[str, Any] = dict(constants or {})
    for group in groups:
        value = row[group]
        facts[group] = {k: v for k, v in value.items() if v is not None} if isinstance(value, dict) else value
    return {k: v for k, v in facts.items() if v is not None}


def finding_tuple(f: Any) -> tuple[Any, ...]:
    if isinstance(f, dict):
        return (f["rule"], f["ref"], f["category"], f["severity"], f["message"], tuple(f["explanation"]))
    return (f.rule, f.ref, f.category, f.severity, f.message, tuple(f.explanation))


def eligibility_rows(result: Any, tmp: Path) -> dict[int, dict[str, Any]]:
    """The output written as Parquet and read back with pyarrow (the shared schema round trip)."""
    out = tmp / "out.parquet"
    result.write.mode("overwrite").parquet(str(out))
    return {r["id"]: r for r in pq.read_table(out).to_pylist()}


def expected_eligibility(engine: Any, channel: str, facts: dict[str, Any]) -> tuple[Any, ...]:
    try:
        d = engine.eligibility(facts, channel)
    except ComplianceError as exc:
        return (None, None, None, str(exc))
    return (d.eligible, [finding_tuple(f) for f in d.unmet], d.grants, None)


def got_eligibility(row: dict[str, Any]) -> tuple[Any, ...]:
    if row["problem"] is not None:
        return (row["eligible"], row["unmet"], row["grants"], row["problem"])
    return (row["eligible"], [finding_tuple(f) for f in row["unmet"]], json.loads(row["grants"]), None)


def compare_eligibility(engine: Any, spark: Any, tmp: Path, channel: str, rows: list[dict[str, Any]], schema: Any,
                        groups: tuple[str, ...], **kwargs: Any) -> dict[str, int]:
    from compliance.spark import eligibility

    df = spark.read.parquet(str(to_parquet(tmp / "in.parquet", rows, schema)))
    got = eligibility_rows(eligibility(df, channel, **kwargs), tmp)
    assert sorted(got) == [r["id"] for r in rows]
    tally = {"eligible": 0, "unmet": 0, "problem": 0, "grants": 0}
    for row in rows:
        expected = expected_eligibility(engine, channel, nested_facts(row, groups, kwargs.get("facts")))
        assert got_eligibility(got[row["id"]]) == expected, row
        tally["problem" if expected[3] else "eligible" if expected[0] else "unmet"] += 1
        tally["grants"] += bool(expected[2])
    return tally


@spark_test
def test_eligibility_jd_message_box(engine: Any, spark: Any, tmp_path: Path) -> None:
    schema = pa.schema([("id", pa.int64()), ("today", pa.date32()), ("shop", JD_SHOP)])
    tally = compare_eligibility(engine, spark, tmp_path, "jd.message_box", jd_rows(5000, 1), schema, ("shop", "today"))
    assert min(tally["eligible"], tally["unmet"], tally["problem"]) > 20, tally


@spark_test
def test_eligibility_100k_tiers_and_defaults(engine: Any, spark: Any, tmp_path: Path) -> None:
    """Tiered grants, `when`, defaults (send.audience_size), optional facts, problems."""
    schema = pa.schema([("id", pa.int64()), ("account", TB_ACCOUNT), ("send", TB_SEND)])
    tally = compare_eligibility(engine, spark, tmp_path, "taobao.weitao", tb_rows(100_000, 2), schema,
                                ("account", "send"))
    assert min(tally["eligible"], tally["unmet"], tally["problem"], tally["grants"]) > 500, tally


@spark_test
def test_eligibility_on_the_examples(engine: Any, spark: Any, tmp_path: Path) -> None:
    """Every eligibility example of both packs, laid over a complete row (so the other rules
    have their facts), agrees with the engine."""
    cases = []
    for channel, base, schema, groups in [
        ("jd.message_box", jd_rows(1, 5)[0], pa.schema([("id", pa.int64()), ("today", pa.date32()), ("shop", JD_SHOP)]),
         ("shop", "today")),
        ("taobao.weitao", tb_rows(1, 5)[0], pa.schema([("id", pa.int64()), ("account", TB_ACCOUNT), ("send", TB_SEND)]),
         ("account", "send")),
    ]:
        program = engine.program(channel)
        rows = []
        for rule in program.eligibility_rules:
            for example in rule.examples:
                row = json.loads(json.dumps(base, default=str))
                row = {**base, **{g: dict(base[g]) for g in groups if isinstance(base[g], dict)}}
                for key, value in example_facts(program.pack, rule, example).items():
                    if isinstance(value, dict):
                        row[key].update(value)
                    else:
                        row[key] = value
                row["id"] = len(rows)
                rows.append(row)
        cases.append((channel, rows, schema, groups))
    for channel, rows, schema, groups in cases:
        compare_eligibility(engine, spark, tmp_path, channel, rows, schema, groups)


@spark_test
def test_eligibility_flat_columns_and_constants(engine: Any, spark: Any, tmp_path: Path) -> None:
    from compliance.spark import eligibility

    rows = jd_rows(300, 3)
    flat = [{"id": r["id"], **{f"s_{k}": v for k, v in r["shop"].items()}} for r in rows]
    schema = pa.schema([("id", pa.int64())] + [(f"s_{f.name}", f.type) for f in JD_SHOP])
    df = spark.read.parquet(str(to_parquet(tmp_path / "flat.parquet", flat, schema)))
    columns = {f"shop.{f.name}": f"s_{f.name}" for f in JD_SHOP}
    got = eligibility_rows(eligibility(df, "jd.message_box", columns=columns, facts={"today": TODAY}), tmp_path)
    for row in rows:
        facts = nested_facts(row, ("shop",), {"today": TODAY})
        assert got_eligibility(got[row["id"]]) == expected_eligibility(engine, "jd.message_box", facts)


@spark_test
def test_bad_fact_columns_fail_before_any_job(spark: Any) -> None:
    from compliance.spark import audience, eligibility

    df = spark.createDataFrame([(1, "many", dt.date(2026, 11, 25))], "id long, fans string, today date")
    with pytest.raises(ValueError, match=r"shop\.fans: column of string, expected int"):
        eligibility(df, "jd.message_box", columns={"shop.fans": "fans"})
    with pytest.raises(ValueError, match=r"shop\.private_posts_last_month \(int\): no column"):
        eligibility(df.drop("fans"), "jd.message_box")
    with pytest.raises(ValueError, match=r"user\.spend_30d: column of string"):
        audience(df.withColumnRenamed("fans", "spend_30d"), "getui.push")
    with pytest.raises(ValueError, match=r"reads today; pass it in facts="):
        audience(df, "jd.message_box")


def audience_expected(engine: Any, channel: str, row: dict[str, Any], facts: dict[str, Any] | None) -> tuple[Any, ...]:
    try:
        r = engine.audience(row, channel, facts=facts)
    except ComplianceError as exc:
        return (None, None, str(exc))
    return (r.selected, [finding_tuple(f) for f in r.findings], None)


def audience_got(row: dict[str, Any]) -> tuple[Any, ...]:
    if row["problem"] is not None:
        return (row["selected"], row["findings"], row["problem"])
    return (dict(row["selected"]), [finding_tuple(f) for f in row["findings"]], None)


@spark_test
def test_audience_100k_getui(engine: Any, spark: Any, tmp_path: Path) -> None:
    from compliance.spark import audience

    rows = gt_rows(100_000, 4)
    schema = pa.schema([("id", pa.int64())] + GT_USER)
    df = spark.read.parquet(str(to_parquet(tmp_path / "users.parquet", rows, schema)))
    got = eligibility_rows(audience(df, "getui.push"), tmp_path)
    selected = problems = 0
    for row in rows:
        user = {k: v for k, v in row.items() if k != "id" and v is not None}
        expected = audience_expected(engine, "getui.push", user, None)
        assert audience_got(got[row["id"]]) == expected, row
        problems += expected[2] is not None
        selected += bool(expected[0] and any(expected[0].values()))
    assert problems > 500 and selected > 10_000, (problems, selected)


@spark_test
def test_audience_require_rules_and_struct_column(engine: Any, spark: Any, tmp_path: Path) -> None:
    """A `require` audience rule (JD-MB-10) gives findings with message and explanation."""
    from compliance.spark import audience

    rng = random.Random(6)
    rows = [{"id": i, "segment": {"snapshot_on": maybe(rng, TODAY - dt.timedelta(days=rng.randrange(15))),
                                  "size": rng.randrange(10_000)}} for i in range(2000)]
    schema = pa.schema([("id", pa.int64()), ("segment", pa.struct([("snapshot_on", pa.date32()), ("size", pa.int64())]))])
    df = spark.read.parquet(str(to_parquet(tmp_path / "segments.parquet", rows, schema)))
    got = eligibility_rows(audience(df, "jd.message_box", facts={"today": TODAY}), tmp_path)
    with_findings = 0
    for row in rows:
        segment = {k: v for k, v in row["segment"].items() if v is not None}
        expected = audience_expected(engine, "jd.message_box", segment, {"today": TODAY})
        assert audience_got(got[row["id"]]) == expected, row
        with_findings += bool(expected[1])
    assert with_findings > 200
