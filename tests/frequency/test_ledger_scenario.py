"""The acceptance scenario and the ledger's behaviour, run against memory, SQLite and Redis."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from compliance.frequency import Cap, Decision, Override, Send, Window
from ledger_fixtures import DAY, jd_sms_caps, sh


def sms(merchant: str, at: datetime, cls: str = "marketing", recipient: str = "P", id: str | None = None) -> Send:
    return Send("jd.sms", cls, merchant, recipient, at, id)


def refs(decision: Decision) -> set[str | None]:
    return {f.ref for f in decision.violations}


def test_jd_sms_scenario(make_ledger, jd_caps) -> None:
    ledger = make_ledger(jd_caps)
    day1, day2, day3 = sh("2024-06-01T00:00"), sh("2024-06-02T00:00"), sh("2024-06-03T00:00")
    for hour, merchant in zip((9, 10, 11), "ABC"):
        d = ledger.reserve(sms(merchant, day1 + timedelta(hours=hour)))
        assert d.allowed and d.violations == [] and d.retry_after is None

    d = ledger.reserve(sms("D", day1 + timedelta(hours=15)))
    assert not d.allowed
    assert refs(d) == {"JD-SMS-18"}
    assert d.retry_after == day2 and d.retry_after.utcoffset() == timedelta(hours=8)
    (finding,) = d.violations
    assert finding.category == "frequency" and finding.field is None and finding.severity == "error"
    assert finding.rule == "jd-sms-marketing-daily"
    assert "自然日" in finding.message and "3" in finding.message
    assert any("count: 3" in line and "limit 3" in line for line in finding.explanation)

    for hour, merchant in zip((9, 10), "EF"):
        assert ledger.reserve(sms(merchant, day2 + timedelta(hours=hour))).allowed

    g = ledger.reserve(sms("G", day2 + timedelta(hours=12)))
    assert not g.allowed and refs(g) == {"JD-SMS-19"}
    assert g.retry_after == day3  # day 2 + day 3 then hold E and F only
    assert "2个自然日" in g.violations[0].message

    a = ledger.reserve(sms("A", day2 + timedelta(hours=13)))
    assert not a.allowed
    # A already sent on day 1 (JD-SMS-20); the five sends of days 1-2 also fill JD-SMS-19.
    assert refs(a) == {"JD-SMS-20", "JD-SMS-19"}
    assert a.retry_after == day3

    # A notice is judged by the notice caps only, whatever the marketing counts say.
    notice = ledger.reserve(sms("A", day2 + timedelta(hours=14), cls="notice_optout"))
    assert notice.allowed and notice.violations == []


def test_retry_after_is_when_the_send_passes(make_ledger, jd_caps) -> None:
    ledger = make_ledger(jd_caps)
    day1 = sh("2024-06-01T00:00")
    for hour, merchant in zip((9, 10, 11), "ABC"):
        ledger.reserve(sms(merchant, day1 + timedelta(hours=hour)))
    denied = ledger.reserve(sms("D", day1 + timedelta(hours=20)))
    assert denied.retry_after is not None
    just_before = denied.retry_after - timedelta(microseconds=1)
    assert not ledger.peek(sms("D", just_before)).allowed
    assert ledger.peek(sms("D", denied.retry_after)).allowed


def test_notice_caps(make_ledger, jd_caps) -> None:
    ledger = make_ledger(jd_caps)
    t = sh("2024-06-01T08:00")
    for i in range(5):
        assert ledger.reserve(sms("A", t + timedelta(minutes=i), "notice_optout")).allowed
    sixth = ledger.reserve(sms("A", t + timedelta(minutes=9), "notice_optout"))
    assert not sixth.allowed and refs(sixth) == {"JD-SMS-21"}
    # one merchant's notices do not use up another's
    assert ledger.reserve(sms("B", t + timedelta(minutes=9), "notice_optout")).allowed
    assert ledger.reserve(sms("A", t, "notice_mandatory")).allowed
    assert ledger.reserve(sms("A", t, "notice_mandatory")).allowed
    third = ledger.reserve(sms("A", t, "notice_mandatory"))
    assert refs(third) == {"JD-SMS-22"} and third.retry_after == sh("2024-06-02T00:00")
    # notices did not touch the marketing caps
    assert ledger.reserve(sms("A", t, "marketing")).allowed


def test_test_sms_count_toward_marketing_caps(make_ledger, jd_caps) -> None:
    ledger = make_ledger(jd_caps)
    t = sh("2024-06-01T08:00")
    assert ledger.reserve(sms("A", t, "test")).allowed
    d = ledger.reserve(sms("A", t + timedelta(hours=1)))
    assert not d.allowed and refs(d) == {"JD-SMS-20"}


def test_unrelated_channel_and_class_are_not_capped(make_ledger, jd_caps) -> None:
    ledger = make_ledger(jd_caps)
    t = sh("2024-06-01T08:00")
    for _ in range(10):
        assert ledger.reserve(Send("wechat.news", "marketing", "A", "P", t)).allowed
        assert ledger.reserve(sms("A", t, "transactional")).allowed


def test_promotion_relaxes_caps(make_ledger) -> None:
    promo = Override("618", sh("2024-06-17T20:00"), sh("2024-06-19T00:00"), 0)
    caps = jd_sms_caps([promo], {"JD-SMS-18": 5, "JD-SMS-19": 8, "JD-SMS-20": 2})
    ledger = make_ledger(caps)
    morning = sh("2024-06-17T08:00")
    for i, merchant in enumerate("ABC"):
        assert ledger.reserve(sms(merchant, morning + timedelta(hours=i))).allowed
    before = ledger.reserve(sms("D", sh("2024-06-17T19:00")))
    assert refs(before) == {"JD-SMS-18"}
    assert before.retry_after == sh("2024-06-17T20:00")  # the promotion's start, not midnight
    assert ledger.reserve(sms("D", sh("2024-06-17T20:30"))).allowed
    assert ledger.reserve(sms("E", sh("2024-06-17T21:00"))).allowed
    sixth = ledger.reserve(sms("F", sh("2024-06-17T22:00")))
    assert not sixth.allowed and refs(sixth) == {"JD-SMS-18"}
    assert "上限5条" in sixth.violations[0].message
    assert any("override: 618" in line for line in sixth.violations[0].explanation)
    # a second message from one merchant within 2 days is allowed only during the promotion
    assert ledger.reserve(sms("A", sh("2024-06-18T09:00"))).allowed
    assert refs(ledger.peek(sms("A", sh("2024-06-19T09:00")))) == {"JD-SMS-20"}


def test_peek_does_not_record(make_ledger, jd_caps) -> None:
    ledger = make_ledger(jd_caps)
    t = sh("2024-06-01T08:00")
    for _ in range(5):
        assert ledger.peek(sms("A", t)).allowed
    assert ledger.reserve(sms("A", t)).allowed
    peeked = ledger.peek(sms("A", t))
    assert not peeked.allowed and refs(peeked) == {"JD-SMS-20"}
    assert peeked.retry_after == sh("2024-06-03T00:00")


def test_reserve_many_judges_each_after_the_earlier_ones(make_ledger, jd_caps) -> None:
    ledger = make_ledger(jd_caps)
    t = sh("2024-06-01T08:00")
    batch = [sms(m, t + timedelta(minutes=i)) for i, m in enumerate("ABCDE")]
    batch.insert(2, sms("Z", t, "transactional"))  # no cap applies: allowed, not stored
    decisions = ledger.reserve_many(batch)
    assert [d.allowed for d in decisions] == [True, True, True, True, False, False]
    assert refs(decisions[4]) == {"JD-SMS-18"}
    assert ledger.reserve_many([]) == []
    # the batch was recorded: a later single send sees it
    assert not ledger.reserve(sms("F", t + timedelta(hours=1))).allowed


def test_reserve_accepts_mappings(make_ledger, jd_caps) -> None:
    ledger = make_ledger(jd_caps)
    row = {"channel": "jd.sms", "message_class": "marketing", "merchant": "A", "recipient": "P",
           "at": "2024-06-01T10:00:00"}
    assert ledger.reserve(row).allowed
    d = ledger.reserve({**row, "at": "2024-06-01T02:00:00+00:00"})  # 10:00 Shanghai as well
    assert refs(d) == {"JD-SMS-20"}


def test_release_gives_back_only_refundable_caps(make_ledger) -> None:
    day = Window("calendar", "day")
    caps = [
        Cap("refund", None, frozenset(), frozenset({"marketing"}), ("recipient",), day, 1,
            count_failures=False),
        Cap("keeps", None, frozenset(), frozenset({"marketing"}), ("recipient",), day, 2),
    ]
    ledger = make_ledger(caps)
    t = sh("2024-06-01T08:00")
    first = Send("sms", "marketing", "A", "P", t, id="m1")
    assert ledger.reserve(first).allowed
    assert not ledger.reserve(Send("sms", "marketing", "A", "P", t, id="m2")).allowed
    ledger.release(first)
    ledger.release(first)  # idempotent: the second release must not free another slot
    assert ledger.reserve(Send("sms", "marketing", "A", "P", t, id="m2")).allowed
    d = ledger.reserve(Send("sms", "marketing", "A", "P", t, id="m3"))
    # "keeps" counted m1 and m2 although m1 was released
    assert {f.rule for f in d.violations} == {"refund", "keeps"}
    ledger.release(Send("sms", "marketing", "A", "P", t, id="never-reserved"))
    assert not ledger.peek(Send("sms", "marketing", "A", "P", t, id="m4")).allowed
    with pytest.raises(ValueError, match="id"):
        ledger.release(Send("sms", "marketing", "A", "P", t))


def test_release_of_rolling_window(make_ledger) -> None:
    caps = [Cap("rolling", None, frozenset(), frozenset({"m"}), ("recipient",),
                Window("rolling", seconds=3600), 1, count_failures=False)]
    ledger = make_ledger(caps)
    t = sh("2024-06-01T08:00")
    assert ledger.reserve(Send("c", "m", "A", "P", t, id="x")).allowed
    assert not ledger.peek(Send("c", "m", "A", "P", t + timedelta(minutes=5))).allowed
    ledger.release(Send("c", "m", "A", "P", t, id="x"))
    assert ledger.reserve(Send("c", "m", "A", "P", t + timedelta(minutes=5), id="y")).allowed


def test_rolling_window_boundaries_and_retry_after(make_ledger) -> None:
    tb02 = Cap("tb-subscription", "TB-02", frozenset({"taobao.weitao"}), frozenset({"subscription"}),
               ("merchant",), Window("rolling", seconds=10 * 86400), 1)
    ledger = make_ledger([tb02])
    t0 = sh("2024-03-01T10:00")

    def push(at: datetime, recipient: str = "fans") -> Decision:
        return ledger.reserve(Send("taobao.weitao", "subscription", "shop1", recipient, at))

    assert push(t0).allowed
    d = push(t0 + timedelta(days=10) - timedelta(seconds=1), recipient="other")  # account scope
    assert not d.allowed and d.retry_after == t0 + timedelta(days=10)
    assert d.violations[0].message.count("滚动10天") == 1
    assert push(t0 + timedelta(days=10)).allowed


def test_rolling_retry_after_waits_for_the_right_event(make_ledger) -> None:
    cap = Cap("r48", None, frozenset(), frozenset({"m"}), ("recipient",),
              Window("rolling", seconds=48 * 3600), 2)
    ledger = make_ledger([cap])
    t0 = sh("2024-06-01T10:00")
    assert ledger.reserve(Send("c", "m", "A", "P", t0)).allowed
    assert ledger.reserve(Send("c", "m", "B", "P", t0 + timedelta(hours=5))).allowed
    d = ledger.reserve(Send("c", "m", "C", "P", t0 + timedelta(hours=6)))
    assert d.retry_after == t0 + timedelta(hours=48)
    # rolling, not calendar: the next calendar day does not reset it
    assert not ledger.peek(Send("c", "m", "C", "P", sh("2024-06-02T00:30"))).allowed


def test_calendar_day_is_shanghai_not_utc(make_ledger) -> None:
    cap = Cap("daily", None, frozenset(), frozenset({"m"}), ("recipient",), DAY, 1)
    utc_cap = Cap("daily-utc", None, frozenset(), frozenset({"u"}), ("recipient",),
                  Window("calendar", "day", tz="UTC"), 1)
    ledger = make_ledger([cap, utc_cap])
    utc = timezone.utc
    # 15:30Z is 23:30 in Shanghai, 16:30Z is 00:30 the next Shanghai day: same UTC day.
    assert ledger.reserve(Send("c", "m", "A", "P", datetime(2024, 6, 1, 15, 30, tzinfo=utc))).allowed
    assert ledger.reserve(Send("c", "m", "A", "P", datetime(2024, 6, 1, 16, 30, tzinfo=utc))).allowed
    # 17:00Z on June 1 and 01:00Z on June 2 are the same Shanghai day (June 2).
    d = ledger.reserve(Send("c", "m", "A", "P", datetime(2024, 6, 2, 1, 0, tzinfo=utc)))
    assert not d.allowed and d.retry_after == sh("2024-06-03T00:00")
    # the same instants under a UTC day cap behave the other way round
    assert ledger.reserve(Send("c", "u", "A", "P", datetime(2024, 6, 1, 15, 30, tzinfo=utc))).allowed
    d = ledger.reserve(Send("c", "u", "A", "P", datetime(2024, 6, 1, 16, 30, tzinfo=utc)))
    assert not d.allowed and d.retry_after == datetime(2024, 6, 2, tzinfo=utc)
    # naive times are Shanghai: 23:59:59.999999 and 00:00 are different days
    assert ledger.reserve(Send("c", "m", "A", "Q", datetime(2024, 6, 1, 23, 59, 59, 999999))).allowed
    assert ledger.reserve(Send("c", "m", "A", "Q", datetime(2024, 6, 2, 0, 0))).allowed


def test_calendar_month_boundary(make_ledger) -> None:
    wx03 = Cap("wx-news-monthly", "WX-03", frozenset({"wechat.news"}), frozenset({"news"}),
               ("recipient",), Window("calendar", "month"), 4)
    ledger = make_ledger([wx03])
    jan31 = sh("2024-01-31T08:00")
    for i in range(4):
        assert ledger.reserve(Send("wechat.news", "news", f"M{i}", "U", jan31 + timedelta(hours=i))).allowed
    d = ledger.reserve(Send("wechat.news", "news", "M9", "U", sh("2024-01-31T23:59:59")))
    assert not d.allowed and d.retry_after == sh("2024-02-01T00:00")
    assert d.violations[0].message.startswith("发送频次超限：自然月")
    assert ledger.reserve(Send("wechat.news", "news", "M9", "U", sh("2024-02-01T00:00"))).allowed


def test_calendar_year_boundary_and_multi_month(make_ledger) -> None:
    tb05 = Cap("tb-recall-yearly", "TB-05", frozenset({"taobao.weitao"}), frozenset({"recall"}),
               ("merchant",), Window("calendar", "year"), 2)
    quarterly = Cap("three-months", None, frozenset(), frozenset({"q"}), ("recipient",),
                    Window("calendar", "month", count=3), 1)
    ledger = make_ledger([tb05, quarterly])
    for at in ("2024-03-01T09:00", "2024-12-31T23:00"):
        assert ledger.reserve(Send("taobao.weitao", "recall", "shop", "x", sh(at))).allowed
    d = ledger.reserve(Send("taobao.weitao", "recall", "shop", "y", sh("2024-12-31T23:59")))
    assert not d.allowed and d.retry_after == sh("2025-01-01T00:00")
    assert ledger.reserve(Send("taobao.weitao", "recall", "shop", "y", sh("2025-01-01T00:00"))).allowed
    # 3 calendar months: November's send blocks until February 1st
    assert ledger.reserve(Send("c", "q", "A", "P", sh("2024-11-15T12:00"))).allowed
    d = ledger.reserve(Send("c", "q", "A", "P", sh("2025-01-20T12:00")))
    assert d.retry_after == sh("2025-02-01T00:00")


def test_exempt_merchants_are_neither_judged_nor_counted(make_ledger) -> None:
    cap = Cap("daily", None, frozenset(), frozenset({"m"}), ("recipient",), DAY, 1,
              exempt_merchants=frozenset({"platform"}))
    ledger = make_ledger([cap])
    t = sh("2024-06-01T08:00")
    for _ in range(3):
        assert ledger.reserve(Send("c", "m", "platform", "P", t)).allowed
    assert ledger.reserve(Send("c", "m", "A", "P", t)).allowed
    assert not ledger.reserve(Send("c", "m", "B", "P", t)).allowed


def test_warning_caps_report_but_allow(make_ledger) -> None:
    caps = [Cap("soft", "X-1", frozenset(), frozenset({"m"}), ("recipient",), DAY, 1,
                severity="warning", message="{window}第{count}条以上（{ref}，上限{limit}）")]
    ledger = make_ledger(caps)
    t = sh("2024-06-01T08:00")
    assert ledger.reserve(Send("c", "m", "A", "P", t)).violations == []
    d = ledger.reserve(Send("c", "m", "A", "P", t))
    assert d.allowed and d.retry_after is None
    assert [(f.severity, f.message) for f in d.violations] == [("warning", "自然日第1条以上（X-1，上限1）")]
    # it was recorded although it exceeded the soft cap
    assert ledger.reserve(Send("c", "m", "A", "P", t)).violations[0].message.startswith("自然日第2条")


def test_limit_zero_never_passes(make_ledger) -> None:
    ledger = make_ledger([Cap("never", None, frozenset(), frozenset({"m"}), ("recipient",), DAY, 0)])
    d = ledger.reserve(Send("c", "m", "A", "P", sh("2024-06-01T08:00")))
    assert not d.allowed and d.retry_after is None
