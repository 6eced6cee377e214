"""Advertising-Law wording beyond literal terms (#12): pattern and lawful lexicon entries, word
boundaries, lawful-when-true wording at severity warning, and the ``ad_law_strict`` parameter.

The examples of the issue are here one by one; the guideline is docs/accuracy.md ("ad_law").
"""

from __future__ import annotations

import pytest

from compliance.analyzer.hits import Hit
from compliance.analyzer.lexicon import LexiconError, build_lexicon, check_examples
from compliance.analyzer.matcher import Matcher
from compliance.analyzer.primitives import as_errors
from compliance.engine import Engine


def ad_law(engine: Engine, text: str) -> list[tuple[str, str]]:
    """(text, severity) of every ad_law finding of `text` linted as a JD SMS body."""
    report = engine.lint({"signature": "好物小铺", "body": text, "optout": "回T退订"}, channel="jd.sms")
    return [(text[f.start:f.end], f.severity) for f in report.findings
            if f.category == "ad_law" and f.start is not None and f.end is not None]


# --- the misses: now errors ------------------------------------------------------------

@pytest.mark.parametrize(("text", "claim"), [
    ("快乐元旦期间烫染超低折扣，会员领洗发水", "超低折扣"),
    ("移动手机一降到底，五寸智能机低至7折", "降到底"),
    ("高新区绝版旺铺，量少速来", "绝版旺铺"),
    ("谁敢比我们价格低？全场包邮", "谁敢比我们价格低"),
    ("签约减肥，承诺减到目标体重，少一斤全额退款", "承诺减到目标体重，少一斤全额退款"),
    ("全网最低价，仅此一天", "全网最低价"),
    ("史上最多的优惠券", "史上最多"),
    ("100%有效，无效退款", "100%有效"),
])
def test_the_missed_constructions_are_errors(engine: Engine, text: str, claim: str) -> None:
    found = ad_law(engine, text)
    assert any(claim in span or span in claim for span, severity in found if severity == "error"), found


def test_a_result_guarantee_is_one_claim(engine: Engine) -> None:
    found = ad_law(engine, "承诺减到目标体重，少一斤全额退款")
    assert found == [("承诺减到目标体重，少一斤全额退款", "error")]


# --- the false alarms --------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "一年一度大促，机不可失，赶快行动吧",
    "春装清仓价，欢迎到店",
    "护肤品99顶199元，欢迎选购",
    "大家都在领先到先得，速来",
])
def test_no_span_wording_gives_no_finding(engine: Engine, text: str) -> None:
    assert ad_law(engine, text) == []


def test_a_real_deadline_is_a_warning_with_its_reason(engine: Engine) -> None:
    report = engine.lint({"signature": "好物小铺", "body": "春节前最后一波特惠", "optout": "回T退订"},
                         channel="jd.sms")
    findings = [f for f in report.findings if f.category == "ad_law"]
    assert [(f.severity, "属实则合法" in f.message) for f in findings] == [("warning", True)]


def test_a_real_deadline_last_day_is_a_warning(engine: Engine) -> None:
    assert ad_law(engine, "春装清仓最后一天") == [("最后一天", "warning")]


@pytest.mark.parametrize("text", [
    "最近上新，第一次下单立减", "第一批春装到店，首次登录有礼",  # the near misses of the issue
    "最高可减200元", "全场最低5折", "额度最高50万，最快当天放款", "最多送3件",  # numeric caps (SAMR 2023)
    "本店最新款", "首单立减", "首付两成", "最后一公里配送",
])
def test_lawful_wording_gives_no_finding(engine: Engine, text: str) -> None:
    assert ad_law(engine, text) == []


def test_a_cap_with_a_scope_is_still_a_claim(engine: Engine) -> None:
    assert ad_law(engine, "全网最低价5折起") == [("全网最低价", "error")]


# --- ad_law_strict ---------------------------------------------------------------------------

def test_ad_law_strict_makes_every_warning_an_error() -> None:
    strict = Engine(params={"jd.sms": {"ad_law_strict": True}})
    assert ad_law(strict, "春装清仓最后一天，独家款") == [("最后一天", "error"), ("独家", "error")]
    assert ad_law(strict, "最高可减200元") == []  # lawful wording stays lawful


def test_as_errors() -> None:
    hits = (Hit(0, 2, "独家", "ad_law", "ad_law", "absolute", "warning", "独家"),
            Hit(3, 5, "最佳", "ad_law", "ad_law", "absolute", "error", "最佳"))
    assert as_errors(hits, False) is hits
    assert [h.severity for h in as_errors(hits, True)] == ["error", "error"]
    assert as_errors(hits, True)[1] is hits[1]
    assert as_errors((), True) == ()


# --- the matcher: pattern and lawful entries ---------------------------------------------------

def _lexicon(*entries: dict[str, object]) -> Matcher:
    return Matcher({"t": build_lexicon("t", list(entries), category="ad_law")})


def test_a_pattern_is_confirmed_at_its_anchor_and_reports_its_match() -> None:
    matcher = _lexicon({"term": "超低价折", "kind": "pattern", "anchor": "超低", "pattern": "超低(?:价|折扣|折)",
                        "bad": "超低折扣", "good": "超低温"})
    assert [(h.text, h.term, h.start, h.end) for h in matcher.find("全场超低折扣，超低温")] == [
        ("超低折扣", "超低价折", 2, 6)]
    # folded text: full-width and traditional forms, separators
    assert [h.text for h in matcher.find("超 低 價")] == ["超 低 價"]


def test_a_lawful_phrase_masks_hits_inside_and_across_its_edge() -> None:
    matcher = _lexicon({"term": "领先", "bad": "行业领先"}, {"term": "最高", "bad": "最高品质"},
                       {"term": "先到先得", "kind": "lawful", "good": "领先到先得", "bad": "领先，先到先得"},
                       {"term": "上限", "kind": "lawful", "anchor": "最高", "pattern": "最高可",
                        "good": "最高可减200元", "bad": "最高品质"})
    assert matcher.find("大家都在领先到先得") == []
    assert matcher.find("最高可减200元") == []
    assert [h.text for h in matcher.find("行业领先，先到先得；最高品质")] == ["领先", "最高"]


def test_a_longer_claim_around_lawful_words_stands() -> None:
    matcher = _lexicon({"term": "最新科技", "bad": "最新科技"},
                       {"term": "最新", "kind": "lawful", "good": "最新款", "bad": "最新科技"})
    assert [h.text for h in matcher.find("最新款用上最新科技")] == ["最新科技"]


def test_an_allowed_word_masks_shorter_hits_inside_it() -> None:
    matcher = _lexicon({"term": "最", "ambiguous": True, "allow": ["最近"], "bad": "最", "good": "最近"},
                       {"term": "最好", "ambiguous": True, "allow": ["最好的体验"], "bad": "最好", "good": "最好的体验"})
    assert matcher.find("给你最好的体验") == []


def test_lawful_examples_are_checked_against_the_lexicon() -> None:
    lexicon = build_lexicon("t", [{"term": "领先", "bad": "行业领先"},
                                  {"term": "先到先得", "kind": "lawful", "good": "领先到先得", "bad": "领先，先到先得"}],
                            category="ad_law")
    assert check_examples(lexicon, use_jieba=True) == []
    with pytest.raises(LexiconError, match="must leave no hit of the lexicon"):
        build_lexicon("t", [{"term": "领先", "bad": "行业领先"},
                            {"term": "先到先得", "kind": "lawful", "good": "行业领先", "bad": "领先"}],
                      category="ad_law")


@pytest.mark.parametrize(("entry", "message"), [
    ({"term": "x", "kind": "regex", "bad": "x", "good": "y"}, "unknown kind 'regex'"),
    ({"term": "x", "kind": "pattern", "pattern": "x", "bad": "x", "good": "y"}, "needs an 'anchor' and a 'pattern'"),
    ({"term": "x", "kind": "pattern", "anchor": "x", "pattern": "x(", "bad": "x", "good": "y"}, "does not compile"),
    ({"term": "x", "kind": "pattern", "anchor": "x", "pattern": "x", "bad": "x"}, "needs both a 'bad' and a 'good'"),
    ({"term": "x", "anchor": "x", "bad": "x"}, "only used by pattern and lawful entries"),
    ({"term": "x", "kind": "lawful", "severity": "warning", "bad": "x", "good": "y"}, "does not apply to a lawful"),
    ({"term": "x", "kind": "lawful", "anchor": "x", "bad": "x", "good": "y"}, "an 'anchor' and a 'pattern', or neither"),
    ({"term": "x", "kind": "pattern", "anchor": "x", "pattern": "x", "ambiguous": True, "allow": ["xy"],
      "bad": "x", "good": "y"}, "'ambiguous' and 'allow' do not apply"),
])
def test_pattern_and_lawful_entries_are_validated(entry: dict[str, object], message: str) -> None:
    with pytest.raises(LexiconError, match=message):
        build_lexicon("t", [entry], category="ad_law")
