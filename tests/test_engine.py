"""Engine behaviour users rely on: decisions, grants, explanations, fact errors, audiences."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import compliance
from compliance.engine import Engine
from compliance.errors import FactError, UnknownChannelError

MB_OK = {"fans": 86_000, "private_posts_last_month": 52, "avg_material_uv": 210.5, "category_avg_uv": 150.0,
         "bottom3_click_rate_months": 0, "messages_last_month": 24, "revoked_on": None}


def test_public_contract_names() -> None:
    engine = compliance.Engine()
    decision = engine.eligibility({"shop": MB_OK, "today": dt.date(2026, 11, 25)}, channel="jd.message_box")
    assert decision.eligible is True
    assert decision.unmet == []
    assert decision.grants == {}


def test_unmet_rule_has_ref_message_and_explanation(engine: Engine) -> None:
    facts = {"shop": {**MB_OK, "fans": 42_000}, "today": "2026-11-25"}
    decision = engine.eligibility(facts, channel="jd.message_box")
    assert not decision.eligible
    [finding] = decision.unmet
    assert (finding.rule, finding.ref, finding.category, finding.severity) == \
        ("jd-mb-fans", "JD-MB-01", "eligibility", "error")
    assert "42000" in finding.message and "50000" in finding.message
    assert finding.explanation == ("shop.fans = 42000 < 50000",)


def test_revocation_waits_three_months(engine: Engine) -> None:
    facts = {"shop": {**MB_OK, "revoked_on": "2026-09-25"}, "today": "2026-11-25"}
    assert [f.ref for f in engine.eligibility(facts, channel="jd.message_box").unmet] == ["JD-MB-04"]
    facts["shop"]["revoked_on"] = "2026-08-25"
    assert engine.eligibility(facts, channel="jd.message_box").eligible


@pytest.mark.parametrize(
    ("account", "grants", "eligible"),
    [
        ({"old_customer_fans": 1200, "fan_revisit_rate": 0.05, "broadcasts_7d": 0}, {"level": 2, "quota": 100_000}, True),
        ({"old_customer_fans": 1200, "fan_revisit_rate": 0.04, "broadcasts_7d": 5}, {"level": 1, "quota": 30_000}, True),
        ({"old_customer_fans": 49, "fan_revisit_rate": 0.5, "broadcasts_7d": 9}, {}, False),
    ],
)
def test_recall_tiers_first_match_wins(engine: Engine, account: dict, grants: dict, eligible: bool) -> None:
    facts = {"account": {"subscribed_fans": 100, "campaign_grants": 0, "campaign_recipient_cap": None, **account},
             "send": {"message_class": "recall"}}
    decision = engine.eligibility(facts, channel="taobao.weitao")
    assert decision.eligible is eligible
    assert {k: v for k, v in decision.grants.items() if k != "tier"} == grants
    if not eligible:
        assert decision.unmet[0].ref == "TB-03"
        assert any(line.startswith("tier level1: account.old_customer_fans = 49 < 50")
                   for line in decision.unmet[0].explanation)


def test_rules_that_do_not_apply_pass(engine: Engine) -> None:
    facts = {"account": {"subscribed_fans": 0, "old_customer_fans": 0, "broadcasts_7d": 0, "fan_revisit_rate": 0,
                         "campaign_grants": 0, "campaign_recipient_cap": None},
             "send": {"message_class": "subscription"}}
    decision = engine.eligibility(facts, channel="taobao.weitao")
    assert [f.ref for f in decision.unmet] == ["TB-01"]  # recall and mass rules do not apply


def test_missing_and_mistyped_facts_are_named(engine: Engine) -> None:
    with pytest.raises(FactError) as info:
        engine.eligibility({"shop": {"fans": "many"}, "today": "2026-11-25"}, channel="jd.message_box")
    text = str(info.value)
    assert "shop.fans: expected int, got str" in text
    assert "shop.private_posts_last_month: missing (expected int)" in text
    with pytest.raises(FactError, match="today"):
        engine.eligibility({"shop": MB_OK}, channel="jd.message_box")
    with pytest.raises(FactError, match="mapping"):
        engine.eligibility(["not", "facts"], channel="jd.message_box")  # type: ignore[arg-type]


def test_unknown_channel_suggests(engine: Engine) -> None:
    with pytest.raises(UnknownChannelError, match="did you mean jd.sms"):
        engine.eligibility({}, channel="jd.smss")


def test_warning_does_not_block(tmp_path) -> None:
    rules = tmp_path / "mine.rules"
    rules.write_text('pack mine { extends jd.sms\n channel "jd.sms"\n override jd-sms-balance { severity warning } }\n',
                     encoding="utf-8")
    engine = Engine([rules])
    facts = {"shop": {"sms_enabled": True, "signature": "好物", "sms_balance": 1, "main_category": "服饰"},
             "send": {"audience_size": 100}}
    decision = engine.eligibility(facts, channel="jd.sms")
    assert decision.eligible and decision.unmet[0].severity == "warning"


# audience ----------------------------------------------------------------------------------

users = st.fixed_dictionaries({
    "spend_30d": st.floats(0, 3000, allow_nan=False).map(lambda v: round(v, 2)),
    "preferred_category": st.sampled_from(["彩妆护肤", "数码"]),
    "views_7d": st.integers(0, 8),
    "recency_days": st.integers(0, 90),
    "orders_90d": st.integers(0, 6),
    "spend_90d": st.floats(0, 3000, allow_nan=False).map(lambda v: round(v, 2)),
})


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(users, min_size=1, max_size=30))
def test_audience_table_equals_rows(engine: Engine, rows: list[dict]) -> None:
    table = engine.audience(pa.Table.from_pylist(rows), channel="getui.push")
    for index, row in enumerate(rows):
        one = engine.audience(row, channel="getui.push")
        assert one.selected == {c: table.column(c)[index].as_py() for c in table.column_names}


def test_audience_over_polars_and_duckdb(engine: Engine) -> None:
    polars = pytest.importorskip("polars")
    duckdb = pytest.importorskip("duckdb")
    frame = polars.DataFrame({"purchase_days_6m": [0, 1, 2, 7]})
    result = engine.audience(frame, channel="taobao.weitao")
    assert result.column("tb-old-customer").to_pylist() == [False, False, True, True]
    relation = duckdb.sql("select * from (values (3), (1)) t(purchase_days_6m)")
    assert engine.audience(relation, channel="taobao.weitao").column("tb-old-customer").to_pylist() == [True, False]


def test_audience_require_rule_reports_stale_snapshot(engine: Engine) -> None:
    result = engine.audience({"snapshot_on": dt.date(2026, 11, 1), "size": 10}, channel="jd.message_box",
                             facts={"today": dt.date(2026, 11, 25)})
    [finding] = result.findings
    assert (finding.ref, finding.severity) == ("JD-MB-10", "warning")
    table = pa.table({"snapshot_on": [dt.date(2026, 11, 1), dt.date(2026, 11, 20)], "size": [1, 2]})
    out = engine.audience(table, channel="jd.message_box", facts={"today": dt.date(2026, 11, 25)})
    assert out.column("jd-mb-snapshot-age").to_pylist() == [False, True]


def test_audience_table_missing_column_is_named(engine: Engine) -> None:
    with pytest.raises(FactError, match="no column 'purchase_days_6m'"):
        engine.audience(pa.table({"other": [1]}), channel="taobao.weitao")


def test_max_message_chars_is_an_engine_setting(tmp_path) -> None:
    """A service sets its own limit once; a longer message is denied unscanned."""
    from compliance.engine import Engine as _Engine

    small = _Engine(max_message_chars=50)
    report = small.lint("【小米旗舰店】" + "好" * 60 + "回T退订", channel="jd.sms")
    assert not report.ok and [f.rule for f in report.findings] == ["message-too-large"]
    assert small.lint("【小米旗舰店】好物上新 回T退订", channel="jd.sms").ok
    with pytest.raises(ValueError, match="positive integer"):
        _Engine(max_message_chars=0)


def test_a_rules_file_that_is_not_utf8_is_a_positioned_error(tmp_path) -> None:
    from compliance.engine import Engine as _Engine
    from compliance.errors import RulesSyntaxError

    path = tmp_path / "latin1.rules"
    path.write_bytes(b'pack p {\n title "caf\xe9"\n}\n')
    with pytest.raises(RulesSyntaxError) as info:
        _Engine([path])
    assert f"{path}:2:12" in str(info.value) and "UTF-8" in str(info.value)
