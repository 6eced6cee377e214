"""Frequency rules written in the rules language, enforced by the ledger (issue 4 scenario)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from compliance.engine import Engine
from compliance.errors import RulesError
from compliance.frequency import Send

SH = ZoneInfo("Asia/Shanghai")
DAY1 = dt.datetime(2026, 11, 24, 9, 0, tzinfo=SH)
DAY2 = dt.datetime(2026, 11, 25, 9, 0, tzinfo=SH)


def sms(merchant: str, at: dt.datetime, message_class: str = "marketing") -> Send:
    return Send("jd.sms", message_class, merchant, "13800000000", at, id=f"{merchant}-{at:%d%H%M}-{message_class}")


def refs(decision) -> set[str]:
    return {v.ref for v in decision.violations}


@pytest.mark.parametrize("url", ["memory://", "sqlite:///{tmp}/ledger.db"])
def test_jd_sms_scenario(engine: Engine, tmp_path, url: str) -> None:
    ledger = engine.ledger(url.format(tmp=tmp_path))
    for minute, merchant in enumerate("ABC"):
        assert ledger.reserve(sms(merchant, DAY1 + dt.timedelta(minutes=minute))).allowed
    d = ledger.reserve(sms("D", DAY1 + dt.timedelta(hours=1)))
    assert not d.allowed
    assert refs(d) == {"JD-SMS-18"}
    assert d.retry_after == dt.datetime(2026, 11, 25, 0, 0, tzinfo=SH)
    assert "3" in d.violations[0].message
    assert ledger.reserve(sms("E", DAY2)).allowed
    assert ledger.reserve(sms("F", DAY2 + dt.timedelta(minutes=1))).allowed
    g = ledger.reserve(sms("G", DAY2 + dt.timedelta(minutes=2)))
    assert not g.allowed and "JD-SMS-19" in refs(g) and "JD-SMS-18" not in refs(g)
    a = ledger.reserve(sms("A", DAY2 + dt.timedelta(minutes=3)))
    assert not a.allowed and "JD-SMS-20" in refs(a)
    # A notice is judged by the notice caps only: marketing counts do not touch it.
    for i in range(5):
        assert ledger.reserve(sms("A", DAY2 + dt.timedelta(minutes=10 + i), "notice_optout")).allowed
    sixth = ledger.reserve(sms("A", DAY2 + dt.timedelta(minutes=20), "notice_optout"))
    assert refs(sixth) == {"JD-SMS-21"}
    ledger.close()


def test_test_sms_counts_toward_marketing_caps(engine: Engine) -> None:
    ledger = engine.ledger()
    assert ledger.reserve(sms("A", DAY1, "test")).allowed
    assert refs(ledger.reserve(sms("A", DAY1 + dt.timedelta(minutes=1)))) == {"JD-SMS-20"}


def test_promotion_period_relaxes_caps(tmp_path) -> None:
    engine = Engine(params={"jd.sms": {"promotions": [["2026-11-24T00:00:00+08:00", "2026-11-26T00:00:00+08:00"]]}})
    ledger = engine.ledger()
    allowed = [ledger.reserve(sms(m, DAY1 + dt.timedelta(minutes=i))).allowed for i, m in enumerate("ABCDEF")]
    assert allowed == [True, True, True, True, True, False]  # promotion_daily_marketing = 5
    outside = engine.ledger()
    later = DAY1 + dt.timedelta(days=10)
    assert [outside.reserve(sms(m, later + dt.timedelta(minutes=i))).allowed for i, m in enumerate("ABCD")] == \
        [True, True, True, False]


def test_promotions_in_a_user_pack(tmp_path) -> None:
    pack = tmp_path / "promo.rules"
    pack.write_text('pack promo { extends jd.sms\n channel "jd.sms"\n'
                    ' param promotions = [period(2026-11-24, 2026-11-25)] }\n', encoding="utf-8")
    caps = {c.rule: c for c in Engine([pack]).caps("jd.sms")}
    override = caps["jd-sms-daily-marketing"].overrides[0]
    assert (override.start, override.end, override.limit) == \
        (dt.datetime(2026, 11, 24, tzinfo=SH), dt.datetime(2026, 11, 26, tzinfo=SH), 5)


def test_caps_carry_rule_data(engine: Engine) -> None:
    caps = {c.rule: c for c in engine.caps()}
    cap = caps["jd-sms-two-day-marketing"]
    assert cap.ref == "JD-SMS-19" and cap.limit == 5 and cap.scope == ("recipient",)
    assert (cap.window.kind, cap.window.unit, cap.window.count) == ("calendar", "day", 2)
    assert cap.classes == {"marketing", "test"} and cap.channels == {"jd.sms"}
    assert caps["tb-subscription-interval"].window.seconds == 10 * 86400
    assert caps["wx-news-monthly"].channels == {"wechat.news"}


def test_frequency_rule_errors(tmp_path) -> None:
    bad = tmp_path / "bad.rules"
    bad.write_text("pack bad { frequency f-1 { classes marketing\n scope recipent\n window dya\n limit 3 } }\n",
                   encoding="utf-8")
    with pytest.raises(RulesError) as info:
        Engine([bad], builtins=False)
    text = str(info.value)
    assert "unknown scope recipent" in text and "did you mean recipient?" in text
    assert "unknown window dya" in text and "did you mean day?" in text
