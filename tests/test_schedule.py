"""Schedule rules: the earliest time a send may go out, and why."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from compliance.engine import Engine
from compliance.errors import FactError

SH = ZoneInfo("Asia/Shanghai")


def t(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SH)


def test_message_box_review_batches(engine: Engine) -> None:
    d = engine.schedule({"channel": "jd.message_box", "at": t(25, 12), "submitted_at": t(25, 11, 5)})
    assert not d.allowed and d.earliest == t(25, 18)
    assert d.reasons[0].ref == "JD-MB-09" and "18:00" in d.reasons[0].message
    late = engine.schedule({"channel": "jd.message_box", "at": t(25, 21, 30), "submitted_at": t(25, 21, 1)})
    assert late.earliest == t(26, 11)


def test_taobao_review_delay(engine: Engine) -> None:
    d = engine.schedule({"channel": "taobao.weitao", "message_class": "mass", "at": t(25, 10),
                         "submitted_at": t(25, 9)})
    assert d.earliest == t(26, 9) and d.reasons[0].ref == "TB-08"


def test_sms_marketing_hours_and_approval(engine: Engine) -> None:
    night = engine.schedule({"channel": "jd.sms", "at": t(25, 22), "audience_size": 1})
    assert night.earliest == t(26, 8) and night.reasons[0].ref == "JD-SMS-27"
    notice = engine.schedule({"channel": "jd.sms", "at": t(25, 22), "audience_size": 1,
                              "message_class": "notice_mandatory"})
    assert notice.allowed and notice.reasons == []
    # Submitted Friday 2026-11-20: three working days later is Wednesday 2026-11-25.
    pending = engine.schedule({"channel": "jd.sms", "at": t(23, 10), "audience_size": 1,
                               "template_approved": False, "template_submitted_at": t(20, 10)})
    assert pending.earliest == t(25, 10) and pending.reasons[0].ref == "JD-SMS-25"


def test_wechat_unpaid_order_is_forbidden_not_delayed(engine: Engine) -> None:
    d = engine.schedule({"channel": "wechat.template", "message_class": "unpaid_order", "at": t(25, 10)},
                        facts={"order": {"created_at": t(25, 9), "paid": True}})
    assert not d.allowed and d.earliest is None and d.reasons[0].ref == "WX-10"
    assert d.reasons[0].explanation  # the deciding values


def test_coupon_reminder_three_days_before(engine: Engine) -> None:
    d = engine.schedule({"channel": "wechat.template", "message_class": "coupon_expiry", "at": t(20, 10)},
                        facts={"coupon": {"expires_at": t(30, 10)}})
    assert d.earliest == t(27, 10)


def test_getui_trigger_and_window(engine: Engine) -> None:
    d = engine.schedule({"channel": "getui.push", "trigger": "cart_abandon", "at": t(25, 10)},
                        facts={"user": {"cart_added_at": t(25, 9)}})
    assert d.earliest == t(26, 9) and d.reasons[0].ref == "GT-03"
    w = engine.schedule({"channel": "getui.push", "optimize_time": True, "at": t(25, 9)})
    assert w.earliest == t(25, 20) and w.reasons[0].ref == "GT-04"


def test_schedule_needs_channel_and_time(engine: Engine) -> None:
    with pytest.raises(FactError, match="channel"):
        engine.schedule({"at": t(25, 9)})
    with pytest.raises(FactError, match="at"):
        engine.schedule({"channel": "jd.sms", "audience_size": 1})


@pytest.mark.parametrize("at", [
    dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=-12))),
    dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc),
    "9999-12-31T23:59:59-12:00",
])
def test_send_times_outside_the_supported_years_are_a_fact_error(engine, at) -> None:
    """Near datetime's edges the rules' arithmetic would overflow mid-rule: refused up front."""
    from compliance.errors import FactError

    with pytest.raises(FactError, match="outside the supported years 1970–2999"):
        engine.schedule({"channel": "jd.sms", "merchant": "m", "recipient": "r", "at": at})


def test_a_send_time_that_is_not_iso_is_a_fact_error(engine) -> None:
    from compliance.errors import FactError

    with pytest.raises(FactError, match="send.at"):
        engine.schedule({"channel": "jd.sms", "merchant": "m", "recipient": "r", "at": "tomorrow"})
