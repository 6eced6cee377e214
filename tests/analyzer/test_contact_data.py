"""The contact scanner on libphonenumber, its cue-word data and the examples of issue #12.

* every ``[[cue]]`` group of ``compliance/lexicons/scanners/contact.toml`` has bad examples
  (each word of the group in one of them; the scanner finds a contact in each) and good ones
  (no contact), and so have the code words, the units and the WeChat-id allow words;
* the issue's missed numbers with real digits are found, and its false alarm (微信流量高额补贴)
  and the guideline's "not contacts" (prices, dates, times, quantities, years, order and
  coupon codes, model numbers, the opt-out code, 微信 without contact intent) are not, through
  `Engine.lint` on ``jd.sms`` (scanner and lexicon together);
* libphonenumber runs only on windows that hold digits, and its spans map back to the
  message exactly.
"""

from __future__ import annotations

from typing import Any

import pytest

from compliance import Engine
from compliance.analyzer.scanners import contact as contact_module
from compliance.analyzer.scanners import contacts
from compliance.build import compiled_modules

DATA: dict[str, Any] = contact_module.load_data()
CUES: list[dict[str, Any]] = DATA["cue"]


def _spans(text: str) -> list[str]:
    hits = contacts(text)
    assert all(text[h.start:h.end] == h.text for h in hits)
    return [h.text for h in hits]


# --- the data file's own examples --------------------------------------------------------

@pytest.mark.parametrize("cue", CUES, ids=[f"{c['kind']}:{c['words'][0]}" for c in CUES])
def test_every_cue_word_has_a_bad_example(cue: dict[str, Any]) -> None:
    assert cue["bad"] and cue["good"], "every cue group needs bad and good examples"
    missing = [word for word in cue["words"] if not any(word in bad for bad in cue["bad"])]
    assert not missing, f"cue words without a bad example: {missing}"


@pytest.mark.parametrize("text", [bad for cue in CUES for bad in cue["bad"]])
def test_cue_bad_examples_are_found(text: str) -> None:
    assert _spans(text), f"no contact found in {text!r}"


@pytest.mark.parametrize("text", [good for cue in CUES for good in cue["good"]])
def test_cue_good_examples_are_not(text: str) -> None:
    assert _spans(text) == []


@pytest.mark.parametrize(
    "text",
    DATA["not_a_contact"]["code_good"] + DATA["not_a_contact"]["units_good"] + DATA["wechat_id"]["good"]
    + DATA["wechat_id"]["qq_glued_good"],
)
def test_not_a_contact_examples(text: str) -> None:
    assert _spans(text) == []


@pytest.mark.parametrize(
    "text", DATA["not_a_contact"]["code_bad"] + DATA["wechat_id"]["bad"] + DATA["wechat_id"]["qq_glued_bad"]
)
def test_contact_examples_of_the_guards(text: str) -> None:
    assert _spans(text)


def test_every_code_word_and_unit_guards_a_number() -> None:
    for word in DATA["not_a_contact"]["code_words"]:
        assert _spans(f"详询 {word}：87654321") == [], word
    for unit in DATA["not_a_contact"]["units"]:
        assert _spans(f"详询：87654321{unit}") == [], unit
    for word in DATA["wechat_id"]["allow"]:
        assert _spans(f"新到 {word}2023 款") == [], word


# --- issue #12: the missed numbers, with real digits ---------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("咨询电话0571-88888888", ["0571-88888888"]),
        ("咨询电话0571-88888", ["0571-88888"]),
        ("电话0571-88888，欢迎来电", ["0571-88888"]),
        ("售楼热线：0571-8888888", ["0571-8888888"]),
        ("电话xxxx-xxxxx", ["xxxx-xxxxx"]),
        ("咨询电话xxxx-xxxxx", ["xxxx-xxxxx"]),
        ("详询：12345678", ["12345678"]),
        ("详询12345678", ["12345678"]),
        ("详询：123456789", ["123456789"]),
        ("咨询 87654321", ["87654321"]),
        ("咨询：876543219", ["876543219"]),
        ("专线：87654321", ["87654321"]),
        ("专线 876543219", ["876543219"]),
        ("订购热线：87654321", ["87654321"]),
        ("订购热线876543219", ["876543219"]),
        ("热线 88881234", ["88881234"]),
        ("电话 88881234", ["88881234"]),
        ("拨打10086", ["10086"]),
        ("请致电95588", ["95588"]),
        ("发送 KT 到 10086 开通", ["10086"]),
        # the guideline's masked numbers in contact position
        ("张经理：xxxxxxxxxxx", ["xxxxxxxxxxx"]),
        ("热线xxxx-xxxxxxx", ["xxxx-xxxxxxx"]),
        ("预约电话:xxxxxxxx", ["xxxxxxxx"]),
        ("尾号138****5678", ["138****5678"]),
        # what libphonenumber recognises, in any grouping
        ("客服 400-820-1234", ["400-820-1234"]),
        ("客服4008201234", ["4008201234"]),
        ("(0571)88881234", ["(0571)88881234"]),
        ("0571 88881234", ["0571 88881234"]),
        ("057188881234", ["057188881234"]),
        ("香港 +852 2123 4567", ["+852 2123 4567"]),
        ("18544121868 130 4626 3317 13340026849",
         ["18544121868", "130 4626 3317", "13340026849"]),
        # bare: a local number alone, a WeChat id alone, a short link
        ("火热排卡中 43896219 回复 td 退订", ["43896219"]),
        ("邀您加我 tina_166261 看朋友圈", ["tina_166261"]),
        ("如有疑问请联系 QQuriygrhxffsbdum", ["QQuriygrhxffsbdum"]),
        ("关注微信公众账号 xianyidong09 领流量", ["xianyidong09"]),
    ],
)
def test_issue_numbers_are_found(text: str, expected: list[str]) -> None:
    assert _spans(text) == expected


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


def _contact_findings(engine: Engine, text: str) -> list[str]:
    report = engine.lint(text, channel="jd.sms")
    out = []
    for finding in report.findings:
        if finding.category in ("contact", "link"):
            shift = report.offsets.get(finding.field, 0) if finding.field else 0
            start = (finding.start or 0) + shift
            out.append(text[start:(finding.end or 0) + shift] if finding.start is not None else finding.rule)
    return out


@pytest.mark.parametrize(
    "text",
    [
        # the issue's false alarm and 微信 without contact intent
        "【好店】商家福利：微信流量高额补贴，速来报名",
        "【好店】支持微信支付，满100减10",
        "【好店】支持微信付款，下单立减",
        "【好店】下单抢微信红包，最高88元",
        "【好店】分享到微信群和好友一起抢",
        # prices, dates, times, quantities, years
        "【好店】原价199元，现价99元，满299减30",
        "【好店】活动时间2023-12-01至2023-12-12，每天10:00-22:00",
        "【好店】2024年3月8日起，限量1000000件",
        "【好店】12月12日20:00开抢，前1000名送好礼",
        "【好店】创立于1998年，服务超过88888888位顾客",
        # order, coupon, tracking codes; model numbers
        "【好店】您的订单号 20241125123456 已发货，运单号 43896219",
        "【好店】券码 20231111，下单立减",
        "【好店】iPhone 15 到店，618 大促，mate60 现货",
        "【好店】新款 iphone15 与 rtx4090 整机",
        # the opt-out code
        "【好店】年货节全场5折 回T退订",
        "【好店】年货节全场5折 回复TD退订",
    ],
)
def test_no_false_alarm(engine: Engine, text: str) -> None:
    assert _contact_findings(engine, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("【好店】新品到店，咨询电话0571-88888888", ["0571-88888888"]),
        ("【好店】新品到店，详询：12345678", ["12345678"]),
        ("【好店】加微信 lily_8866 领券", ["加微信", "lily_8866"]),
        ("【好店】进群领券，QQ群：123456789", ["进群", "QQ群", "123456789"]),
        ("【好店】薇芯：abc123 领券", ["薇芯", "abc123"]),
    ],
)
def test_lint_finds_issue_contacts(engine: Engine, text: str, expected: list[str]) -> None:
    assert sorted(_contact_findings(engine, text)) == sorted(expected)


# --- libphonenumber: only on digit windows; spans mapped back exactly ------------------------

@pytest.mark.skipif("compliance.analyzer.scanners.contact" in compiled_modules(),
                    reason="a compiled module's globals cannot be patched")
def test_library_never_runs_without_digits(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    import phonenumbers

    calls: list[str] = []
    real = phonenumbers.PhoneNumberMatcher

    def spy(text: str, region: str, **kwargs: Any) -> Any:
        calls.append(text)
        return real(text, region, **kwargs)

    monkeypatch.setattr(phonenumbers, "PhoneNumberMatcher", spy)
    contact_module._phonenumbers.cache_clear()  # the library is looked up on first use
    request.addfinalizer(contact_module._phonenumbers.cache_clear)
    assert [h.text for h in contacts("加微信领券，详询门店，热线xxxx-xxxxxxx")] == ["xxxx-xxxxxxx"]
    assert calls == []
    contacts("满299减30，共计3件")
    assert calls == []
    contacts("电话 0571-88881234")
    assert calls and all(any(ch.isdigit() for ch in window) for window in calls)


def test_library_spans_map_back() -> None:
    text = "【店】ＶＩＰ专享，电话（０５７１）８８８８１２３４，或 +86 138 1234 5678。"
    hits = contacts(text)
    assert [h.text for h in hits] == ["（０５７１）８８８８１２３４", "+86 138 1234 5678"]
    assert all(text[h.start:h.end] == h.text for h in hits)
    assert [h.label for h in hits] == ["landline", "mobile"]


def test_leniency_is_valid() -> None:
    """VALID, not POSSIBLE: dates, 11-digit non-numbers and codes are not read as phones."""
    for text in ("2023-12-01", "20231201", "12345678901", "2023.12.01"):
        assert _spans(text) == [], text
