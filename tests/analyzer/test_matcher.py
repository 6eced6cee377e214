"""Matcher: one Aho-Corasick pass, spans into the original text, ambiguous-hit confirmation."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.analyzer.hits import Hit
from compliance.analyzer.lexicon import build_lexicon, load_builtin_lexicons
from compliance.analyzer.matcher import Matcher, default_matcher
from compliance.findings import CATEGORIES

# repo-root/../shared/corpora (tests/analyzer/<file> → parents[3] is the checkout's parent)
CORPORA = Path(__file__).resolve().parents[3] / "shared" / "corpora"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_builtin_lexicons())


def spans(hits: list[Hit], kind: str) -> list[tuple[int, int, str]]:
    return [(h.start, h.end, h.text) for h in hits if h.kind == kind]


# ------------------------------------------------------------------------------------------
# required behaviour


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("全網最低價", [(0, 5, "全網最低價")]),  # traditional
        ("最*低*价", [(0, 5, "最*低*价")]),  # separators
        ("全 网 最 低 价", [(0, 9, "全 网 最 低 价")]),
        ("今天全 网 最 低 价！", [(2, 11, "全 网 最 低 价")]),
        ("销量第一", [(0, 4, "销量第一")]),
        ("國家級", [(0, 3, "國家級")]),
        ("ＴＯＰ１单品", [(0, 4, "ＴＯＰ１")]),  # full-width Latin
        ("本店最便宜", [(2, 5, "最便宜")]),
    ],
)
def test_ad_law_hits_with_original_spans(matcher: Matcher, text: str, expected: list[tuple[int, int, str]]) -> None:
    hits = matcher.find(text, ["ad_law"])
    assert spans(hits, "ad_law") == expected
    for h in hits:
        assert text[h.start : h.end] == h.text
        assert h.category == "ad_law"


@pytest.mark.parametrize(
    "text",
    [
        "最近上新",
        "第一次下单立减",
        "第一批春装到店",
        "首次登录送好礼",
        # 最后一公里 is logistics wording, not a time-limit claim: 最后 is an allow word of 最,
        # and only the phrases 最后一天/最后一次/最后机会… are urgency entries.
        "最后一公里配送",
        "我们会第一时间发货",
        "首单立减5元",
        "积极参与活动",
        "极速发货",
        "点击页面顶部领取",
        "每单最多限购两件",
        "防伪码具有唯一性",
        "冠军同款跑鞋",
    ],
)
def test_near_misses_give_no_ad_law_hit(matcher: Matcher, text: str) -> None:
    assert matcher.find(text, ["ad_law"]) == []


@pytest.mark.parametrize(
    ("text", "expected_text", "label"),
    [
        ("加威信", "威信", "wechat"),
        ("VX：abc123", "VX", "wechat"),
        ("QQ 12345678", "QQ", "qq"),
        ("ＱＱ号码", "ＱＱ号", "qq"),  # full-width; the longer term QQ号 wins over QQ
        ("加 V 信 详聊", "V 信", "wechat"),
        ("扫码添加店长微信", "微信", "wechat"),
        ("微.信号：abc", "微.信号", "wechat"),
        ("薇 信 同号", "薇 信", "wechat"),
    ],
)
def test_contact_hits(matcher: Matcher, text: str, expected_text: str, label: str) -> None:
    hits = [h for h in matcher.find(text, ["contact"])]
    assert expected_text in [h.text for h in hits]
    hit = next(h for h in hits if h.text == expected_text)
    assert hit.label == label and hit.category == "contact"
    assert text[hit.start : hit.end] == expected_text


@pytest.mark.parametrize("text", ["支持微信支付", "tvx系列", "qqmusic", "nvx"])
def test_contact_near_misses(matcher: Matcher, text: str) -> None:
    assert matcher.find(text, ["contact"]) == []


def test_impersonation_for_platform(matcher: Matcher) -> None:
    hits = matcher.find("京东官方客服提醒您", ["impersonation"], platforms={"jd"})
    assert [(h.text, h.label) for h in hits] == [("京东官方客服", "jd")]
    assert matcher.entry(hits[0]) is not None and matcher.entry(hits[0]).platforms == ("jd",)  # type: ignore[union-attr]
    assert matcher.find("京东官方客服提醒您", ["impersonation"], platforms={"wechat"}) == []
    assert [h.label for h in matcher.find("【京東】您的订单", ["impersonation"])] == ["jd"]


def test_typo_fix(matcher: Matcher) -> None:
    hits = matcher.find("领取优惠卷", ["typo"])
    assert [(h.text, h.fix, h.category) for h in hits] == [("优惠卷", "优惠券", "typo")]
    assert [h.fix for h in matcher.find("優惠卷", ["typo"])] == ["优惠券"]


def test_optout_and_neutral_signature(matcher: Matcher) -> None:
    text = "【验证码】春季上新，回T退订"
    by_kind = {h.kind: h for h in matcher.find(text)}
    assert by_kind["optout"].text == "回T退订" and by_kind["optout"].category == "unsubscribe"
    assert by_kind["neutral_signature"].text == "验证码" and by_kind["neutral_signature"].category == "signature"
    # 退订回T must not match inside 退订回TD (a Latin term needs a word boundary)
    assert [h.term for h in matcher.find("退订回TD", ["optout"])] == ["退订回td"]


def test_template_marketing_and_inducement(matcher: Matcher) -> None:
    assert [h.text for h in matcher.find("秒杀活动进行中", ["template_marketing"])] == ["秒杀"]
    # Partially overlapping terms of one lexicon are both reported: two distinct claims.
    hits = matcher.find("五星好评返现5元", ["inducement"])
    assert [(h.text, h.category) for h in hits] == [("五星好评", "inducement"), ("好评返现", "inducement")]


# ------------------------------------------------------------------------------------------
# matching mechanics


def test_contained_hit_of_same_lexicon_is_dropped(matcher: Matcher) -> None:
    hits = matcher.find("全网销量第一", ["ad_law"])
    assert [h.term for h in hits] == ["全网销量第一"]


def test_overlapping_hits_of_other_lexicons_are_kept(matcher: Matcher) -> None:
    kinds = {h.kind for h in matcher.find("领取优惠卷")}
    assert {"typo", "template_marketing"} <= kinds


def test_ambiguous_confirmed_by_jieba(matcher: Matcher) -> None:
    assert [h.text for h in matcher.find("本店最靠谱", ["ad_law"])] == ["最"]
    assert [h.text for h in matcher.find("口碑第一，欢迎选购", ["ad_law"])] == ["第一"]
    # 最 inside the jieba word 最近 (not in the allow list's reach: 最近 is, so also test 最初)
    assert matcher.find("我们最初的想法", ["ad_law"]) == []


def test_latin_terms_need_word_boundaries(matcher: Matcher) -> None:
    assert matcher.find("TOP10榜单", ["ad_law"]) == []
    assert [h.text for h in matcher.find("TOP1单品", ["ad_law"])] == ["TOP1"]
    assert [h.text for h in matcher.find("加vx123", ["contact"])] == ["vx"]


def test_hit_fields(matcher: Matcher) -> None:
    (hit,) = matcher.find("品质最佳", ["ad_law"])
    assert hit.kind == "ad_law" and hit.label == "absolute" and hit.severity == "error"
    assert hit.term == "最佳" and hit.note and hit.fix is None
    assert hit.category in CATEGORIES


def test_lexicon_selection_and_unknown_name(matcher: Matcher) -> None:
    text = "销量第一，加微信"
    assert {h.kind for h in matcher.find(text)} == {"ad_law", "contact"}
    assert {h.kind for h in matcher.find(text, ["contact"])} == {"contact"}
    with pytest.raises(ValueError, match="did you mean 'contact'"):
        matcher.find(text, ["contacts"])


def test_hits_sorted_by_position(matcher: Matcher) -> None:
    hits = matcher.find("加微信，销量第一，全网最低价")
    assert [h.start for h in hits] == sorted(h.start for h in hits)


def test_user_lexicon_in_code() -> None:
    banned = build_lexicon("banned", ["竞品A", "内部价"], category="ad_law")
    m = Matcher({"banned": banned})
    assert [(h.text, h.kind) for h in m.find("内部价，比竞品Ａ便宜")] == [("内部价", "banned"), ("竞品Ａ", "banned")]
    assert m.find("") == []
    assert Matcher({}).find("全网最低价") == []


def test_results_do_not_depend_on_other_matchers() -> None:
    """Each matcher has its own jieba word table: another lexicon's words change nothing."""
    first = build_lexicon(
        "first",
        [{"term": "第一", "ambiguous": True, "allow": ["第一次"], "bad": "口碑第一", "good": "第一次"}],
        category="ad_law",
    )
    alone = Matcher({"first": first}).find("销量全国第一")
    other = build_lexicon("other", ["全国第一"], category="ad_law")
    Matcher({"other": other, "first": first}).find("销量全国第一")
    assert Matcher({"first": first}).find("销量全国第一") == alone


_RESTRICTED_TEXTS = [
    "全網最低價，加威信 abc123，回T退订", "第一次下单，口碑第一", "本店最靠谱，京东官方客服", "优惠卷限时领取",
    "【京东好物】全网最低价", "最近上新，欢迎选购", "尊敬的会员，您的订单已发货", "五星好评返现5元",
]


@pytest.mark.parametrize("names", [("ad_law",), ("ad_law", "contact", "optout"), ("typo", "impersonation"), ()])
def test_restricted_matcher_finds_exactly_the_parents_hits_of_its_lexicons(matcher: Matcher,
                                                                            names: tuple[str, ...]) -> None:
    """A pack's matcher holds only the lexicons its rules name; what it finds must not change."""
    restricted = matcher.restricted(names)
    assert restricted.lexicon_names == frozenset(names)
    for text in _RESTRICTED_TEXTS + (_corpus_lines()[:2000] if (CORPORA / "sms_spam_zh.tsv").exists() else []):
        assert restricted.find(text) == [h for h in matcher.find(text) if h.kind in names], text


def test_restricted_matcher_is_built_once_and_ignores_unknown_names(matcher: Matcher) -> None:
    assert matcher.restricted(["ad_law", "typo"]) is matcher.restricted(("typo", "ad_law", "no_such_lexicon"))
    assert matcher.restricted(matcher.lexicon_names) is matcher


def test_engine_pack_matches_only_the_lexicons_its_rules_name() -> None:
    from compliance import Engine
    from compliance.compiler.codegen import lexicon_names

    engine = Engine()
    assert lexicon_names(engine.program("jd.sms").pack) == {
        "ad_law", "contact", "impersonation", "inducement", "neutral_signature", "optout", "typo"}
    assert "template_marketing" in lexicon_names(engine.program("wechat.template").pack)
    # WX-04 template wording is reported on a WeChat template, and jd.sms never looks for it.
    report = engine.lint({"title": "限时优惠活动", "body": "您的订单已发货"}, channel="wechat.template")
    assert [(f.ref, f.field, report.fields["title"][f.start:f.end]) for f in report.findings] == [
        ("WX-04", "title", "限时"), ("WX-04", "title", "优惠")]


def test_every_lexicon_the_generated_code_reads_is_in_the_packs_matcher(tmp_path: Path) -> None:
    """`lexicon_names` must not miss a lexicon a rule reads: the restricted matcher would then
    find nothing for it, silently. Checked against the generated source of every built-in
    pack and of a user pack that names lexicons in a `when`, a `require` and a message."""
    import re

    from compliance import Engine
    from compliance.compiler.codegen import lexicon_names

    rules = tmp_path / "extra.rules"
    rules.write_text(
        'pack extra.push {\n'
        '  title "extra"\n'
        '  fact message { title: str = "", body: str = "" }\n'
        '  copy extra-typo {\n'
        '    title "typos in a title that has ad-law words"\n'
        '    category typo\n'
        '    on title\n'
        '    when len(lexicon("ad_law", text)) > 0\n'
        '    require len(lexicon("typo", text)) == 0\n'
        '    message """含有 {len(lexicon("contact", text))} 个联系方式"""\n'
        '  }\n'
        '}\n', encoding="utf-8")
    engine = Engine([rules])
    for name, pack in engine.packs.items():
        source = engine.programs[name].source
        read = set(re.findall(r"_lex\.get\('(\w+)'", source)) | set(re.findall(r"_fn_lexicon\('(\w+)'", source))
        assert read <= lexicon_names(pack), (name, read - lexicon_names(pack))
    assert lexicon_names(engine.packs["extra.push"]) == {"ad_law", "typo", "contact"}
    report = engine.lint({"title": "全网最低价，优惠卷，加微信"}, channel="extra.push")
    assert [(f.rule, f.message) for f in report.findings] == [("extra-typo", "含有 1 个联系方式")]


def test_default_matcher_is_shared() -> None:
    assert default_matcher() is default_matcher()
    assert default_matcher().lexicon_names == frozenset(load_builtin_lexicons())


def test_find_is_thread_safe(matcher: Matcher) -> None:
    texts = ["本店最靠谱", "第一次下单", "全網最低價", "加 V 信", "口碑第一", "最近上新"] * 50
    expected = [matcher.find(t) for t in texts]
    fresh = Matcher(load_builtin_lexicons())  # cold caches and a jieba table built under contention
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(fresh.find, texts))
    assert results == expected


def test_jieba_only_imported_when_confirmation_needed() -> None:
    code = (
        "import sys\n"
        "from compliance.analyzer.matcher import default_matcher\n"
        "m = default_matcher()\n"
        "m.find('全网最低价，销量第一，第一次下单，加威信')\n"  # decided without jieba
        "before = 'jieba' in sys.modules\n"
        "m.find('本店最靠谱')\n"
        "print(before, 'jieba' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False True"


# ------------------------------------------------------------------------------------------
# robustness


_TEXT = st.text(
    alphabet=st.sampled_from(list("全网最低价國家級銷量第一微信加威V信QqXx 1*·.-_/\u200b\u3000😀\ue001首次近最后")),
    max_size=40,
) | st.text(max_size=40)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_random_text_spans(text: str) -> None:
    for hit in default_matcher().find(text):
        assert 0 <= hit.start < hit.end <= len(text)
        assert text[hit.start : hit.end] == hit.text


def _corpus_lines() -> list[str]:
    from compliance import corpora

    return corpora.all_texts()


@pytest.mark.corpus
@pytest.mark.skipif(not (CORPORA / "sms_spam_zh.tsv").exists(), reason="../shared/corpora absent")
def test_corpus_spans_are_valid(matcher: Matcher) -> None:
    lines = _corpus_lines()
    assert len(lines) > 8000
    total = 0
    for text in lines:
        for hit in matcher.find(text):
            assert 0 <= hit.start < hit.end <= len(text)
            assert text[hit.start : hit.end] == hit.text
            total += 1
    assert total > 0
