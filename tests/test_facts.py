"""Strict facts: a value of the wrong type is a FactError naming the field, the expected and the
given type, wherever facts enter (eligibility, audience rows and tables, schedule, lint fields);
`coerce` per call or per declaration reads them leniently, as before."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.engine import Engine
from compliance.errors import FactError, FactProblem

SHANGHAI = ZoneInfo("Asia/Shanghai")
MB_OK = {"fans": 86_000, "private_posts_last_month": 52, "avg_material_uv": 210.5, "category_avg_uv": 150.0,
         "bottom3_click_rate_months": 0, "messages_last_month": 24, "revoked_on": None}
WX_OK = {"kind": "service", "verified": True, "fans": 60_000, "permanent_qr_codes": 0,
         "industry": "IT科技/互联网电子商务", "free_template_slots": 5, "enabled_notices": 1}


def mb(**shop: object) -> dict:
    return {"shop": {**MB_OK, **shop}, "today": "2026-11-25"}


def fact_error(call, *args, **kwargs) -> FactError:
    with pytest.raises(FactError) as info:
        call(*args, **kwargs)
    return info.value


# the acceptance cases ------------------------------------------------------------------------


def test_a_number_as_text_is_a_fact_error_naming_field_expected_and_given(engine: Engine) -> None:
    error = fact_error(engine.eligibility, mb(fans="12"), channel="jd.message_box")
    assert error.problems == (FactProblem("shop.fans", "int", "str",
                                          "text is not read as a number unless coerce is on"),)
    assert "shop.fans: expected int, got str" in str(error)
    assert "facts do not fit pack jd.message_box" in str(error)


def test_yes_for_a_bool_is_a_fact_error(engine: Engine) -> None:
    error = fact_error(engine.eligibility, {"account": {**WX_OK, "verified": "yes"}}, channel="wechat.account")
    assert [(p.field, p.expected, p.given) for p in error.problems] == [("account.verified", "bool", "str")]


@pytest.mark.parametrize(("value", "given"), [(True, "bool"), (12.0, "float"), (None, "null"), ([12], "list")])
def test_an_int_takes_only_an_int(engine: Engine, value: object, given: str) -> None:
    """A bool is an int to Python, not to a rule: True for shop.fans is refused, as is 12.0."""
    error = fact_error(engine.eligibility, mb(fans=value), channel="jd.message_box")
    assert [(p.field, p.expected, p.given) for p in error.problems] == [("shop.fans", "int", given)]


def test_a_float_takes_an_int_but_not_a_bool(engine: Engine) -> None:
    assert engine.eligibility(mb(avg_material_uv=211, category_avg_uv=150), channel="jd.message_box").eligible
    error = fact_error(engine.eligibility, mb(avg_material_uv=True), channel="jd.message_box")
    assert [(p.field, p.given) for p in error.problems] == [("shop.avg_material_uv", "bool")]


def test_every_problem_is_listed_not_only_the_first(engine: Engine) -> None:
    facts = {"shop": {**MB_OK, "fans": "12", "messages_last_month": True, "revoked_on": "2026/09/25"}}
    del facts["shop"]["avg_material_uv"]
    error = fact_error(engine.eligibility, facts, channel="jd.message_box")
    assert [str(p) for p in error.problems] == [
        "shop.avg_material_uv: missing (expected float)",
        "shop.fans: expected int, got str (text is not read as a number unless coerce is on)",
        "shop.messages_last_month: expected int, got bool",
        "shop.revoked_on: expected date or null, got str (not a date written YYYY-MM-DD)",
        "today: missing (expected date)",
    ]
    assert all(str(p) in str(error) for p in error.problems)


def test_coerce_per_call_keeps_the_lenient_reading(engine: Engine) -> None:
    decision = engine.eligibility(mb(fans="12"), channel="jd.message_box", coerce=True)
    assert [f.ref for f in decision.unmet] == ["JD-MB-01"]
    assert decision.unmet[0].explanation == ("shop.fans = 12 < 50000",)
    wx = engine.eligibility({"account": {**WX_OK, "verified": "yes"}}, channel="wechat.account", coerce=True)
    assert wx.eligible
    assert engine.eligibility(mb(fans=True), channel="jd.message_box", coerce=True).unmet[0].ref == "JD-MB-01"
    # coercion still refuses what it cannot read, naming the field
    error = fact_error(engine.eligibility, mb(fans="many"), channel="jd.message_box", coerce=True)
    assert [(p.field, p.expected, p.given) for p in error.problems] == [("shop.fans", "int", "str")]


def test_coerce_per_declaration(tmp_path: Path) -> None:
    """`fact shop coerce = true { … }` in a user pack: those fields are read leniently, the
    others stay strict; a later declaration saying `coerce = false` turns it back off."""
    rules = tmp_path / "mine.rules"
    rules.write_text(
        'pack mine.mb {\n  extends jd.message_box\n  channel "jd.message_box"\n'
        '  fact shop coerce = true { fans: int }\n}\n'
        'pack mine.wx {\n  extends wechat.account\n  channel "wechat.account"\n'
        '  fact account coerce = true { verified: bool, fans: int }\n'
        '  fact account coerce = false { fans: int }\n}\n', encoding="utf-8")
    engine = Engine([rules])
    assert engine.eligibility(mb(fans="60000"), channel="jd.message_box").eligible
    error = fact_error(engine.eligibility, mb(fans="60000", private_posts_last_month="52"), channel="jd.message_box")
    assert [p.field for p in error.problems] == ["shop.private_posts_last_month"]
    assert engine.eligibility({"account": {**WX_OK, "verified": "yes"}}, channel="wechat.account").eligible
    error = fact_error(engine.eligibility, {"account": {**WX_OK, "fans": "60000"}}, channel="wechat.account")
    assert [p.field for p in error.problems] == ["account.fans"]
    pack = engine.program("wechat.account").pack
    assert pack.facts["account"].fields["verified"].coerce and not pack.facts["account"].fields["fans"].coerce
    assert not pack.facts["account"].fields["kind"].coerce


def test_a_scalar_fact_declared_coerce(tmp_path: Path) -> None:
    rules = tmp_path / "vip.rules"
    rules.write_text('pack vip {\n  fact level: int coerce = true\n  fact strict_level: int = 0\n'
                     '  eligibility vip-level { require level + strict_level >= 2 }\n}\n', encoding="utf-8")
    engine = Engine([rules], builtins=False)
    assert engine.eligibility({"level": "3"}, channel="vip").eligible
    error = fact_error(engine.eligibility, {"level": 3, "strict_level": "1"}, channel="vip")
    assert [(p.field, p.given) for p in error.problems] == [("strict_level", "str")]


# what strict accepts --------------------------------------------------------------------------


def test_json_natural_dates_and_date_times_are_accepted(engine: Engine) -> None:
    assert engine.eligibility(mb(revoked_on="2026-09-25"), channel="jd.message_box").unmet[0].ref == "JD-MB-04"
    assert engine.eligibility({"shop": MB_OK, "today": dt.date(2026, 11, 25)}, channel="jd.message_box").eligible
    for today, detail in [("2026-11-25T10:00", "not a date written YYYY-MM-DD"),
                          ("2026-13-01", "not a valid date: month must be in 1..12")]:
        error = fact_error(engine.eligibility, {"shop": MB_OK, "today": today}, channel="jd.message_box")
        assert [(p.field, p.detail) for p in error.problems] == [("today", detail)]
    error = fact_error(engine.eligibility, {"shop": MB_OK, "today": dt.datetime(2026, 11, 25, 10)},
                       channel="jd.message_box")
    assert [(p.field, p.given) for p in error.problems] == [("today", "datetime")]


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-25T10:00", dt.datetime(2026, 11, 25, 10, tzinfo=SHANGHAI)),
    ("2026-11-25 10:00:30", dt.datetime(2026, 11, 25, 10, 0, 30, tzinfo=SHANGHAI)),
    ("2026-11-25T02:00:00Z", dt.datetime(2026, 11, 25, 10, tzinfo=SHANGHAI)),
    ("2026-11-25T10:00:00.250+08:00", dt.datetime(2026, 11, 25, 10, 0, 0, 250_000, tzinfo=SHANGHAI)),
])
def test_iso_date_times_are_read_and_naive_ones_are_shanghai(engine: Engine, text: str, expected: dt.datetime) -> None:
    program = engine.program("jd.sms")
    checked = engine.validate_facts({"send": {"at": text, "message_class": "marketing"}}, program, "schedule")
    assert checked["send"]["at"] == expected and checked["send"]["at"].tzinfo is not None
    naive = engine.validate_facts({"send": {"at": dt.datetime(2026, 11, 25, 10)}}, program, "schedule")
    assert naive["send"]["at"] == dt.datetime(2026, 11, 25, 10, tzinfo=SHANGHAI)


@pytest.mark.parametrize(("text", "detail"), [
    ("2026-11-25", "a date without a time"),
    ("1764036000", "not an ISO 8601 date-time such as 2026-11-25T10:00:00+08:00"),
    ("tomorrow", "not an ISO 8601 date-time such as 2026-11-25T10:00:00+08:00"),
])
def test_a_date_time_needs_a_date_and_a_time(engine: Engine, text: str, detail: str) -> None:
    error = fact_error(engine.validate_facts, {"send": {"at": text}}, engine.program("jd.sms"), "schedule")
    assert [(p.field, p.expected, p.given, p.detail) for p in error.problems] == \
        [("send.at", "datetime or null", "str", detail)]


def test_a_unix_time_is_no_date_time_unless_coerced(engine: Engine) -> None:
    program = engine.program("jd.sms")
    error = fact_error(engine.validate_facts, {"send": {"at": 1764036000}}, program, "schedule")
    assert [(p.field, p.given) for p in error.problems] == [("send.at", "int")]
    checked = engine.validate_facts({"send": {"at": 1764036000}}, program, "schedule", coerce=True)
    assert checked["send"]["at"] == dt.datetime(2025, 11, 25, 2, tzinfo=dt.timezone.utc)


def test_other_types_in_strict_mode(tmp_path: Path) -> None:
    rules = tmp_path / "types.rules"
    rules.write_text(
        "pack types {\n  fact x { tags: set[str], hours: list[time], wait: duration, window: period?, n: int? }\n"
        "  eligibility uses-them { require len(x.tags) >= 0 and len(x.hours) >= 0 and x.wait >= 0s\n"
        "    and (x.window == null or x.window != null) and (x.n == null or x.n >= 0) }\n}\n", encoding="utf-8")
    engine = Engine([rules], builtins=False)
    program = engine.program("types")
    checked = engine.validate_facts(
        {"x": {"tags": ["a", "b", "a"], "hours": ["09:00", dt.time(18, 30)], "wait": "P1DT2H30M",
               "window": ["2026-11-01T00:00", "2026-11-12T00:00+08:00"], "n": None}}, program, "eligibility")
    assert checked["x"]["tags"] == frozenset({"a", "b"})
    assert checked["x"]["hours"] == (dt.time(9), dt.time(18, 30))
    assert checked["x"]["wait"] == dt.timedelta(days=1, hours=2, minutes=30)
    assert checked["x"]["window"] == (dt.datetime(2026, 11, 1, tzinfo=SHANGHAI),
                                      dt.datetime(2026, 11, 12, tzinfo=SHANGHAI))
    assert engine.eligibility({"x": {"tags": set(), "hours": (), "wait": dt.timedelta(0)}}, channel="types").eligible
    error = fact_error(engine.validate_facts,
                       {"x": {"tags": ["a", 1, None], "hours": "09:00", "wait": 3600, "window": ["2026-11-01"],
                              "n": "1"}}, program, "eligibility")
    assert [str(p) for p in error.problems] == [
        "x.hours: expected list[time], got str",
        "x.n: expected int or null, got str (text is not read as a number unless coerce is on)",
        "x.tags[1]: expected str, got int",
        "x.tags[2]: expected str, got null",
        "x.wait: expected duration, got int",
        "x.window: expected period or null, got list (a period is a pair [start, end] of date-times)",
    ]


def test_groups_must_be_mappings_and_facts_a_mapping(engine: Engine) -> None:
    error = fact_error(engine.eligibility, {"shop": ["fans", 1], "today": "2026-11-25"}, channel="jd.message_box")
    assert [(p.field, p.expected, p.given) for p in error.problems] == \
        [("shop", "a group of fields (an object)", "list")]
    with pytest.raises(FactError, match="facts must be a mapping of fact names to values, got str"):
        engine.eligibility("shop", channel="jd.message_box")  # type: ignore[arg-type]


def test_fields_no_rule_reads_are_ignored_and_defaults_fill_the_gaps(engine: Engine) -> None:
    facts = {"shop": {"sms_enabled": True, "signature": "好物", "sms_balance": 500, "main_category": "服饰",
                      "unused": "anything"},
             "send": {"audience_size": 100}, "other": object()}
    assert engine.eligibility(facts, channel="jd.sms").eligible


def test_a_hostile_list_makes_a_bounded_message(tmp_path: Path) -> None:
    rules = tmp_path / "tags.rules"
    rules.write_text("pack tags {\n  fact user { tags: list[str] }\n"
                     "  eligibility t { require len(user.tags) >= 0 }\n}\n", encoding="utf-8")
    engine = Engine([rules], builtins=False)
    error = fact_error(engine.eligibility, {"user": {"tags": list(range(5000))}}, channel="tags")
    assert len(error.problems) == 5000
    assert str(error).count("\n") == 101 and str(error).endswith("… and 4900 more problem(s)")


# every place facts enter ---------------------------------------------------------------------


def test_audience_rows_are_strict(engine: Engine) -> None:
    row = {"spend_30d": 1200.0, "preferred_category": "彩妆护肤", "views_7d": "3", "recency_days": 5,
           "orders_90d": 4, "spend_90d": 1500.0}
    error = fact_error(engine.audience, row, channel="getui.push")
    assert [(p.field, p.expected, p.given) for p in error.problems] == [("user.views_7d", "int", "str")]
    assert engine.audience(row, channel="getui.push", coerce=True).selected == \
        engine.audience({**row, "views_7d": 3}, channel="getui.push").selected


def test_audience_tables_are_checked_by_column_type(engine: Engine) -> None:
    table = pa.table({"purchase_days_6m": pa.array(["3", "1"])})
    error = fact_error(engine.audience, table, channel="taobao.weitao")
    assert [(p.field, p.expected, p.given) for p in error.problems] == \
        [("customer.purchase_days_6m", "int", "column of string")]
    assert engine.audience(table, channel="taobao.weitao", coerce=True).column("tb-old-customer").to_pylist() == \
        [True, False]
    error = fact_error(engine.audience, pa.table({"purchase_days_6m": ["x"]}), channel="taobao.weitao", coerce=True)
    assert error.problems[0].field == "customer.purchase_days_6m" and "cannot be cast" in error.problems[0].detail
    nulls = fact_error(engine.audience, pa.table({"purchase_days_6m": pa.array([3, None])}), channel="taobao.weitao")
    assert [(p.field, p.given, p.detail) for p in nulls.problems] == \
        [("customer.purchase_days_6m", "null", "in 1 row(s)")]
    bools = fact_error(engine.audience, pa.table({"purchase_days_6m": [True]}), channel="taobao.weitao")
    assert bools.problems[0].given == "column of bool"


def test_audience_table_context_facts_are_strict(engine: Engine) -> None:
    table = pa.table({"snapshot_on": [dt.date(2026, 11, 1)], "size": [1]})
    error = fact_error(engine.audience, table, channel="jd.message_box", facts={"today": "25/11/2026"})
    assert [p.field for p in error.problems] == ["today"]
    out = engine.audience(table, channel="jd.message_box", facts={"today": "2026-11-25"})
    assert out.column("jd-mb-snapshot-age").to_pylist() == [False]


def test_send_facts_of_a_schedule_are_strict(engine: Engine) -> None:
    send = {"channel": "jd.sms", "at": "2026-11-25T10:00", "audience_size": 1, "template_approved": "yes"}
    error = fact_error(engine.schedule, send)
    assert [(p.field, p.expected, p.given) for p in error.problems] == [("send.template_approved", "bool", "str")]
    assert engine.schedule(send, coerce=True).allowed


def test_message_fields_given_as_facts_are_strict(engine: Engine) -> None:
    message = {"body": "新品上市", "signature": "【好店】", "optout": "回T退订", "send": {"via_template": "yes"}}
    error = fact_error(engine.lint, message, channel="jd.sms")
    assert [(p.field, p.expected, p.given) for p in error.problems] == [("send.via_template", "bool", "str")]


# the fast path and the careful path agree -----------------------------------------------------

shops = st.fixed_dictionaries({
    "fans": st.integers(0, 200_000), "private_posts_last_month": st.integers(0, 100),
    "avg_material_uv": st.one_of(st.floats(0, 500, allow_nan=False), st.integers(0, 500)),
    "category_avg_uv": st.floats(0, 500, allow_nan=False), "bottom3_click_rate_months": st.integers(0, 3),
    "messages_last_month": st.integers(0, 30),
    "revoked_on": st.one_of(st.none(), st.dates(dt.date(2025, 1, 1), dt.date(2026, 11, 25))),
})


@settings(max_examples=80, deadline=None)
@given(shop=shops, today=st.dates(dt.date(2026, 1, 1), dt.date(2027, 1, 1)), as_text=st.booleans())
def test_strict_and_coerced_agree_on_well_typed_facts(engine: Engine, shop: dict, today: dt.date,
                                                      as_text: bool) -> None:
    facts = {"shop": shop, "today": today.isoformat() if as_text else today}
    program = engine.program("jd.message_box")
    strict = engine.validate_facts(facts, program, "eligibility")
    assert strict == engine.validate_facts(facts, program, "eligibility", coerce=True)
    assert all(type(strict["shop"][k]) is float for k in ("avg_material_uv", "category_avg_uv"))
    assert engine.eligibility(facts, channel="jd.message_box") == \
        engine.eligibility(facts, channel="jd.message_box", coerce=True)
