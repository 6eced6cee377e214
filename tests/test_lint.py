"""Acceptance tests for `Engine.lint` on the JD SMS channel (issue 3).

Every category has hits, near misses (text a naive substring matcher would flag), traditional
Chinese and an evasion (separators, full-width forms). Every finding's span is checked
against the ORIGINAL text: ``report.fields[f.field][f.start:f.end]`` is the flagged text, and
adding ``report.offsets[f.field]`` gives the same span in the whole message. Fixes are
checked where the rule offers one.

The corpus test lints every line of ../shared/corpora (skipped when the folder is absent).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from compliance import Engine
from compliance.findings import CATEGORIES, Finding
from compliance.analyzer.lint import LintReport

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
CHANNEL = "jd.sms"
#: A compliant signature and opt-out around a body, so only the body's problems show.
SIGNATURE = "【小米旗舰店】"
OPTOUT = "回T退订"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


def lint(engine: Engine, text: str | dict[str, str], **options: object) -> LintReport:
    """Lint ``text`` and check every span against the original text before returning."""
    report = engine.lint(text, channel=CHANNEL, **options)
    check_spans(text, report)
    return report


def check_spans(text: str | dict[str, str], report: LintReport) -> None:
    """Spans lie inside their field, and the field sits at its offset in the whole text."""
    whole = text if isinstance(text, str) else None  # a mapping of fields has no whole text
    for name, offset in report.offsets.items():
        value = report.fields[name]
        if whole is not None:
            assert whole[offset:offset + len(value)] == value, (name, offset, value)
    for f in report.findings:
        assert f.category in CATEGORIES
        assert f.severity in ("error", "warning", "info")
        if f.field is None:
            assert f.start is None and f.end is None
            continue
        field_text = report.fields[f.field]
        assert f.start is not None and f.end is not None
        assert 0 <= f.start <= f.end <= len(field_text), (f, field_text)
        offset = report.offsets.get(f.field)
        if offset is not None and whole is not None:
            assert whole[offset + f.start:offset + f.end] == field_text[f.start:f.end]


def spans(report: LintReport, category: str) -> list[tuple[str | None, str | None, str | None]]:
    """(field, flagged original text, fix) of the findings of one category, in report order."""
    out: list[tuple[str | None, str | None, str | None]] = []
    for f in report.findings:
        if f.category == category:
            flagged = report.fields[f.field][f.start:f.end] if f.field is not None else None
            out.append((f.field, flagged, f.fix))
    return out


def of(report: LintReport, category: str) -> list[Finding]:
    return [f for f in report.findings if f.category == category]


def wrapped(body: str) -> str:
    return f"{SIGNATURE}{body}{OPTOUT}"


# --- the examples named in the issue -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("全網最低價", "全網最低價"),  # traditional
        ("最*低*价", "最*低*价"),  # separator evasion: the span covers the separators
        ("全 网 最 低 价", "全 网 最 低 价"),
        ("销量第一", "销量第一"),  # 第一 inside it is not reported again
        ("國家級", "國家級"),
    ],
)
def test_issue_ad_law_errors(engine: Engine, text: str, flagged: str) -> None:
    report = lint(engine, text)
    assert spans(report, "ad_law") == [("body", flagged, None)]
    assert [f.severity for f in of(report, "ad_law")] == ["error"]
    assert not report.ok


@pytest.mark.parametrize("text", ["最近上新", "第一次下单", "第一批春装", "首次登录"])
def test_issue_ad_law_near_misses(engine: Engine, text: str) -> None:
    assert of(lint(engine, text), "ad_law") == []


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("加威信", ["威信"]),  # look-alike of 微信
        ("VX：abc123", ["VX", "abc123"]),  # the keyword and the id behind it
        ("QQ 12345678", ["QQ", "12345678"]),
        ("138 1234 5678", ["138 1234 5678"]),  # grouped mobile number
    ],
)
def test_issue_contacts(engine: Engine, text: str, flagged: list[str]) -> None:
    report = lint(engine, text)
    assert [s for _, s, _ in spans(report, "contact")] == flagged
    assert all(f.severity == "error" for f in of(report, "contact"))


def test_issue_template(engine: Engine) -> None:
    report = lint(engine, "你好{0}")
    assert spans(report, "template") == [("body", "你好{0}", None)]
    assert [f.rule for f in of(report, "template")] == ["jd-sms-template-complete"]


def test_issue_signature(engine: Engine) -> None:
    report = lint(engine, "【京东好物】春季新品上架，欢迎选购。回T退订")
    assert report.fields["signature"] == "京东好物" and report.offsets["signature"] == 1
    assert spans(report, "signature") == [("signature", "京东好物", None)]
    assert [f.rule for f in report.findings] == ["jd-sms-signature-platform-name"]


# --- every category: hit, traditional, evasion, near miss ----------------------------------

#: (category, body, [(flagged original text, fix)]) — the body is wrapped in a compliant
#: signature and opt-out, and the findings of that category must be exactly these.
HITS = [
    # ad_law
    ("ad_law", "本店全网最低价", [("全网最低价", None)]),
    ("ad_law", "本店全網最低價", [("全網最低價", None)]),
    ("ad_law", "本店全-网-最-低-价", [("全-网-最-低-价", None)]),
    ("ad_law", "本店ＴＯＰ１单品", [("ＴＯＰ１", None)]),
    ("ad_law", "本店最★低★价", [("最★低★价", None)]),  # decorative symbols as separators
    # punctuation: half-width mark in Chinese context, repeated marks
    ("punctuation", "新品上架,欢迎选购", [(",", "，")]),
    ("punctuation", "新品上架,歡迎選購", [(",", "，")]),
    ("punctuation", "新品上架！！欢迎选购", [("！！", "！")]),
    ("punctuation", "新品上架？？？欢迎选购", [("？？？", "？")]),
    # symbol: emoji, QQ face codes, 【】 in the body
    ("symbol", "新品上架🎉欢迎选购", [("🎉", "")]),
    ("symbol", "新品上架🎉歡迎選購", [("🎉", "")]),
    ("symbol", "新品/::)上架", [("/::)", "")]),
    ("symbol", "限时秒杀【爆款】", [("【", "“"), ("】", "”")]),
    # template: a greeting and a variable only
    ("template", "你好${name}", [("你好${name}", None)]),
    ("template", "您好#name#", [("您好#name#", None)]),
    ("template", "親愛的會員{name}", [("親愛的會員{name}", None)]),  # traditional greeting
    # contact
    ("contact", "加微信领红包", [("加微信", None)]),  # the longer term covers 微信
    ("contact", "请添薇信领红包", [("薇信", None)]),
    ("contact", "加ＶＸ领红包", [("ＶＸ", None)]),
    ("contact", "電話：12345678", [("12345678", None)]),
    ("contact", "致电１３８１２３４５６７８", [("１３８１２３４５６７８", None)]),
    ("contact", "加ＶＸ：ａｂｃ１２３领红包", [("ＶＸ", None), ("ａｂｃ１２３", None)]),  # full-width id
    ("contact", "请添薇❤信：abc123领红包", [("薇❤信", None), ("abc123", None)]),  # decorated keyword
    ("contact", "加Q Q 12345678领红包", [("Q Q", None), ("12345678", None)]),  # spelled-out letters
    # inducement
    ("inducement", "好评返现10元", [("好评返现", None)]),
    ("inducement", "好評返現10元", [("好評返現", None)]),
    ("inducement", "好 评 返 现10元", [("好 评 返 现", None)]),
    # impersonation
    ("impersonation", "京东官方通知：新品上架", [("京东官方", None)]),
    ("impersonation", "京東官方通知：新品上架", [("京東官方", None)]),
    ("impersonation", "京 东 官 方通知：新品上架", [("京 东 官 方", None)]),
    ("impersonation", "J D官方通知：新品上架", [("J D官方", None)]),  # spelled-out letters
    # typo (the fix is the right word)
    ("typo", "领取优惠卷", [("优惠卷", "优惠券")]),
    ("typo", "領取優惠卷", [("優惠卷", "优惠券")]),
    ("typo", "领取优 惠 卷", [("优 惠 卷", "优惠券")]),
    # link: off-site and short links
    ("link", "点击 https://t.cn/abc 领取", [("https://t.cn/abc", None)]),
    ("link", "點擊 https://t.cn/abc 領取", [("https://t.cn/abc", None)]),
    ("link", "点击 HTTPS://T.CN/abc 领取", [("HTTPS://T.CN/abc", None)]),
    ("link", "访问example.com领取", [("example.com", None)]),
]


@pytest.mark.parametrize(("category", "body", "expected"), HITS)
def test_category_hits(engine: Engine, category: str, body: str,
                       expected: list[tuple[str, str | None]]) -> None:
    report = lint(engine, wrapped(body))
    assert [(flagged, fix) for _, flagged, fix in spans(report, category)] == expected
    assert {f.field for f in of(report, category)} == {"body"}


#: Text a naive matcher would flag (each contains a lexicon term or a suspicious shape).
NEAR_MISSES = [
    ("ad_law", "最近上新，欢迎选购"),
    ("ad_law", "第一次下单立减10元"),
    ("ad_law", "第一批春装到店"),
    ("ad_law", "首次登录送好礼"),
    ("ad_law", "最後一公里配送"),  # traditional 最后
    ("ad_law", "我们会第一时间发货"),
    ("ad_law", "每单最多限购两件"),
    ("punctuation", "Hello, world"),  # no Chinese next to the comma
    ("punctuation", "1.新品3.5折"),  # list number and decimal
    ("punctuation", "访问m.jd.com/a,b领取"),  # inside a link
    ("punctuation", "新品上架……欢迎选购"),  # the Chinese ellipsis is one mark
    ("symbol", "新品上架。欢迎选购"),
    ("symbol", "价格￥99"),
    ("template", "{name}您好，您关注的春季新品已上架，点击查看"),
    ("template", "您好，春季新品已上架"),  # no variable, not a template
    ("contact", "支持微信支付"),
    ("contact", "订单号20240101"),
    ("contact", "满199减30"),
    ("inducement", "感谢您的好评"),
    ("impersonation", "京东物流配送"),
    ("typo", "卷发棒优惠券"),
    ("link", "点击 https://m.jd.com/abc 领取"),  # allowed domain
    ("link", "访问3.cn/abc领取"),  # JD's own short link host
    ("link", "全场3.5折"),
]


@pytest.mark.parametrize(("category", "body"), NEAR_MISSES)
def test_category_near_misses(engine: Engine, category: str, body: str) -> None:
    report = lint(engine, wrapped(body))
    assert of(report, category) == []


def test_near_misses_are_clean_overall(engine: Engine) -> None:
    for _, body in NEAR_MISSES:
        report = lint(engine, wrapped(body + "。"))
        assert report.ok, (body, report.findings)


# --- message-level categories ----------------------------------------------------------


def test_length_over_64_characters(engine: Engine) -> None:
    body = "春" * (64 - 7 - 4)  # 【小米旗舰店】 = 7, 回T退订 = 4
    assert of(lint(engine, wrapped(body)), "length") == []
    report = lint(engine, wrapped(body + "天"))
    assert [(f.rule, f.field, f.start) for f in of(report, "length")] == [("jd-sms-length", None, None)]


def test_length_counts_traditional_and_separators_as_sent(engine: Engine) -> None:
    body = "春" * (64 - 7 - 4)
    # Traditional characters count one each; spaces used to dodge lexicons count too.
    assert of(lint(engine, wrapped("歡" * len(body))), "length") == []
    assert [f.rule for f in of(lint(engine, wrapped(body[:10] + "  " + body[11:])), "length")] == ["jd-sms-length"]


def test_length_segments(engine: Engine) -> None:
    report = lint(engine, wrapped("春" * 60))
    assert {f.rule for f in of(report, "length")} == {"jd-sms-length", "jd-sms-segments"}


def test_signature_categories(engine: Engine) -> None:
    cases = {
        "【京東好物】新品上架。回T退订": ["京東好物"],  # traditional platform name
        "【ＪＤ好物】新品上架。回T退订": ["ＪＤ好物"],  # full-width evasion
        "【京 东好物】新品上架。回T退订": ["京 东好物", " "],  # spaced evasion; the space is a bad character too
        "【京东-好物】新品上架。回T退订": ["京东-好物", "-"],
        "【验证码】新品上架。回T退订": ["验证码"],  # neutral signature
        "【小米+旗舰】新品上架。回T退订": ["+"],
        "新品上架。回T退订": [None],  # missing
        "【小米旗舰店】新品上架。回T退订": [],
        "【東方小米】新品上架。回T退订": [],  # near miss: no platform name
    }
    for text, expected in cases.items():
        report = lint(engine, text)
        assert sorted((s for _, s, _ in spans(report, "signature")), key=str) == sorted(expected, key=str), text


def test_unsubscribe(engine: Engine) -> None:
    assert [f.rule for f in of(lint(engine, "【小米旗舰店】新品上架"), "unsubscribe")] == ["jd-sms-optout"]
    for text in (
        "【小米旗舰店】新品上架，回复TD退订",
        "【小米旗舰店】新品上架。拒收请回复R",
        "【小米旗舰店】新品上架。回t退订",  # lower case
        "【小米旗舰店】新品上架。回T退訂",  # traditional
        "【小米旗舰店】新品上架（退订回T）",  # bracketed
    ):
        assert of(lint(engine, text), "unsubscribe") == [], text
    # A template body gets its opt-out from the platform: no finding.
    assert of(lint(engine, "【小米旗舰店】新品上架", via_template=True), "unsubscribe") == []


def test_split_offsets_point_into_the_message(engine: Engine) -> None:
    text = "  【小米旗舰店】 全网最低价，加微信 回T退订。"
    report = lint(engine, text)
    assert report.fields["signature"] == "小米旗舰店"
    assert report.fields["body"] == "全网最低价，加微信"
    assert report.fields["optout"] == "回T退订。"
    body = report.offsets["body"]
    flagged = [text[body + f.start:body + f.end] for f in report.findings if f.field == "body"]
    assert flagged == ["全网最低价", "加微信"]


def test_fields_as_mapping(engine: Engine) -> None:
    report = lint(engine, {"signature": "【小米旗舰店】", "body": "全网最低价", "optout": "回T退订"})
    assert spans(report, "ad_law") == [("body", "全网最低价", None)]
    assert report.offsets == {"signature": 1}


def test_repeated_lints_are_independent(engine: Engine) -> None:
    """The per-text caches of the analyzer never leak one message's hits into another."""
    first = lint(engine, wrapped("全网最低价"))
    second = lint(engine, wrapped("新品上架"))
    third = lint(engine, wrapped("全网最低价"))
    assert of(second, "ad_law") == []
    assert first.findings == third.findings


# --- corpus ------------------------------------------------------------------------------

_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff]) +(?=[\u3400-\u9fff])")


def _corpus_messages() -> list[str]:
    from compliance import corpora

    lines = [text for _, text in corpora.spam_lines()]
    for _, raw in corpora.fbs_lines():
        lines.append(raw)  # as distributed (word-segmented)
        lines.append(corpora.rejoin(raw))  # as sent
    return lines


@pytest.mark.corpus
@pytest.mark.skipif(not (CORPORA / "sms_spam_zh.tsv").exists(), reason="../shared/corpora absent")
def test_corpus_lints_with_valid_spans(engine: Engine) -> None:
    messages = _corpus_messages()
    assert len(messages) > 9000
    categories: set[str] = set()
    for text in messages:
        report = engine.lint(text, channel=CHANNEL)
        check_spans(text, report)
        categories.update(f.category for f in report.findings)
    # Real spam exercises most of the rules.
    assert {"ad_law", "contact", "unsubscribe", "signature", "length"} <= categories
