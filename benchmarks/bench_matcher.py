"""Lexicon matching over the real corpus: Matcher.find against the alternatives a user would pick.

Run: ``pytest benchmarks/bench_matcher.py --benchmark-only -s`` (``-s`` shows the
naive-substring report). Every benchmark processes every corpus body once per round; divide
the mean by ``extra_info["messages"]`` for the cost per message.

* ``matcher_warm``: `Matcher.find` with its jieba-confirmation cache warm (an archive replay).
* ``matcher_cold``: the confirmation cache cleared before each round.
* ``jieba_lcut_all``: the design's rejected alternative: segment every message with jieba and
  look each word up in the set of the same (folded) terms.
* ``naive_substring``: ``term in text`` for every term; fast to write, but wrong on near
  misses (最近上新, 第一次下单 …), see `test_naive_substring_false_positives`.
* ``normalize_*``: the normalizer alone on typical 60-character messages.

Skipped when ../shared/corpora is absent.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from compliance.analyzer.lexicon import load_builtin_lexicons
from compliance.analyzer.matcher import Matcher
from compliance.analyzer.normalize import normalize


CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"

pytestmark = pytest.mark.skipif(not (CORPORA / "sms_spam_zh.tsv").exists(), reason="corpora absent")

#: Texts a naive matcher flags although no claim is made (each contains a lexicon term).
NEAR_MISSES = [
    "最近上新，欢迎选购",
    "第一次下单立减10元",
    "第一批春装到店",
    "首次登录送好礼",
    "最后一公里配送",
    "我们会第一时间发货",
    "首单立减5元",
    "积极参与活动有惊喜",
    "极速发货",
    "点击页面顶部领取",
    "每单最多限购两件",
    "防伪码具有唯一性",
    "冠军同款跑鞋到店",
    "支持微信支付",
]


def _bodies() -> list[str]:
    from compliance import corpora

    return corpora.all_texts()


@pytest.fixture(scope="module")
def bodies() -> list[str]:
    return _bodies()


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    m = Matcher(load_builtin_lexicons())
    m.find("本店最靠谱")  # load jieba once, outside the timings
    return m


@pytest.fixture(scope="module")
def folded_terms() -> set[str]:
    return {normalize(e.term).text for lex in load_builtin_lexicons().values() for e in lex}


def _run_all(fn: Callable[[str], Any], bodies: list[str]) -> int:
    n = 0
    for text in bodies:
        n += len(fn(text))
    return n


def test_matcher_warm(benchmark: Any, matcher: Matcher, bodies: list[str]) -> None:
    benchmark.extra_info["messages"] = len(bodies)
    hits = benchmark(_run_all, matcher.find, bodies)
    benchmark.extra_info["hits"] = hits


def test_matcher_cold(benchmark: Any, matcher: Matcher, bodies: list[str]) -> None:
    benchmark.extra_info["messages"] = len(bodies)

    def setup() -> tuple[tuple[Callable[[str], Any], list[str]], dict[str, Any]]:
        matcher._confirm.cache_clear()
        return (matcher.find, bodies), {}

    benchmark.pedantic(_run_all, setup=setup, rounds=5, iterations=1)


def test_jieba_lcut_all(benchmark: Any, bodies: list[str], folded_terms: set[str]) -> None:
    import jieba

    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for term in sorted(folded_terms):
        if not tokenizer.FREQ.get(term):
            tokenizer.add_word(term)

    def lcut_lookup(text: str) -> list[str]:
        return [w for w in tokenizer.lcut(normalize(text).text, HMM=False) if w in folded_terms]

    benchmark.extra_info["messages"] = len(bodies)
    benchmark.pedantic(_run_all, args=(lcut_lookup, bodies), rounds=3, iterations=1)


def test_naive_substring(benchmark: Any, bodies: list[str], folded_terms: set[str]) -> None:
    terms = sorted(folded_terms)

    def naive(text: str) -> list[str]:
        lowered = text.lower()
        return [t for t in terms if t in lowered]

    benchmark.extra_info["messages"] = len(bodies)
    benchmark.pedantic(_run_all, args=(naive, bodies), rounds=3, iterations=1)


@pytest.mark.parametrize(
    "message",
    [
        "【某某旗舰店】亲爱的会员，春季新品上市，全场满299减50，点击 https://m.jd.com/abc 领取，回T退订",
        "亲爱的会员，春季新品上市，全场满减，欢迎光临本店选购新品上市，详情请咨询客服哦，回T退订",
        "全網最低價，馬上搶購，限時優惠，歡迎光臨本店選購新品上市，詳情請諮詢客服哦，回T退訂",
    ],
    ids=["simplified_url", "simplified", "traditional"],
)
def test_normalize_typical(benchmark: Any, message: str) -> None:
    benchmark(normalize, message)


def test_find_typical_message(benchmark: Any, matcher: Matcher) -> None:
    message = "【某某旗舰店】亲爱的会员，春季新品上市，全场满299减50，点击 https://m.jd.com/abc 领取，回T退订"
    benchmark(matcher.find, message)


def test_naive_substring_false_positives(matcher: Matcher, folded_terms: set[str]) -> None:
    """Report what naive substring matching flags on the near-miss texts; Matcher flags none."""
    ad_and_contact = {
        normalize(e.term).text for name in ("ad_law", "contact") for e in load_builtin_lexicons()[name]
    }
    rows = []
    naive_total = 0
    for text in NEAR_MISSES:
        naive = sorted(t for t in ad_and_contact if t in text.lower())
        ours = [h.text for h in matcher.find(text, ["ad_law", "contact"])]
        naive_total += len(naive)
        rows.append((text, naive, ours))
    print("\nnaive substring vs Matcher on near misses (ad_law + contact):")
    for text, naive, ours in rows:
        print(f"  {text:<14} naive={naive} matcher={ours}")
    print(f"  false positives: naive {naive_total}, matcher {sum(len(o) for _, _, o in rows)}")
    assert all(not ours for _, _, ours in rows)
    assert sum(1 for _, naive, _ in rows if naive) == len(NEAR_MISSES)
