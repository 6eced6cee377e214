"""Properties every scanner must keep, on random text and on the real corpora.

For any input: hits lie inside the text (0 <= start < end <= len), are sorted by start,
carry ``text == original[start:end]`` and a known category. The corpus test runs every
line of ../shared/corpora through every scanner (skipped when the folder is absent).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.analyzer.hits import Hit
from compliance.analyzer.scanners import (
    brackets_outside_signature,
    char_count,
    contacts,
    disallowed_links,
    embedded_signature_or_optout,
    halfwidth_punctuation,
    handwritten_values,
    incomplete_template,
    links,
    placeholders,
    repeated_punctuation,
    signature_problems,
    special_symbols,
    split_message,
    width,
)
from compliance.findings import CATEGORIES

OPTOUTS = ("回T退订", "拒收请回复R", "退订回T")
CORPORA = Path(__file__).resolve().parents[3] / "shared" / "corpora"


def _brackets(text: str) -> list[Hit]:
    return brackets_outside_signature(text, split_message(text, OPTOUTS).signature_span)


SCANNERS: dict[str, Callable[[str], list[Hit]]] = {
    "halfwidth_punctuation": halfwidth_punctuation,
    "repeated_punctuation": repeated_punctuation,
    "special_symbols": special_symbols,
    "brackets_outside_signature": _brackets,
    "placeholders": placeholders,
    "incomplete_template": lambda text: incomplete_template(text, 3),
    "handwritten_values": handwritten_values,
    "embedded_signature_or_optout": embedded_signature_or_optout,
    "contacts": contacts,
    "links": links,
    "disallowed_links": lambda text: disallowed_links(text, ["m.jd.com", ".jd.com"]),
    "signature_problems": signature_problems,
}


def _assert_valid(text: str, hits: list[Hit]) -> None:
    starts = [hit.start for hit in hits]
    assert starts == sorted(starts)
    for hit in hits:
        assert 0 <= hit.start < hit.end <= len(text), hit
        assert text[hit.start : hit.end] == hit.text, hit
        assert hit.category in CATEGORIES, hit
        assert hit.severity in ("error", "warning", "info"), hit


def _assert_parts_valid(text: str) -> None:
    parts = split_message(text, OPTOUTS)
    for value, span in (
        (parts.signature, parts.signature_span),
        (parts.body, parts.body_span),
        (parts.optout, parts.optout_span),
    ):
        if span is not None:
            assert 0 <= span[0] <= span[1] <= len(text)
            assert text[span[0] : span[1]] == value


_ALPHABET = st.one_of(
    st.sampled_from(list("京东全场最低价新品上架你好亲退订回复拒收微信电话店铺優惠價")),
    st.sampled_from(list(",.!?:;()\"'/@#$%^_-+*=~{}[]<> \t\r\n")),
    st.sampled_from(list("，。！？：；（）“”……——【】《》、￥¥ＪＤ１")),
    st.sampled_from(list("0123456789xXTtRrQqVvWwabcjdmon")),
    st.sampled_from(["😀", "❤", "\ufe0f", "\u200d", "👍", "🏻", "★", "→", "①", "\u20e3", "🇨"]),
    st.characters(min_codepoint=0xE000, max_codepoint=0xF8FF),
    st.characters(blacklist_categories=("Cs",)),
)
_TEXTS = st.text(alphabet=_ALPHABET, max_size=80)
# Fragments that trigger the scanners' slower paths, spliced into random text.
_FRAGMENTS = st.sampled_from(
    ["{0}", "{name}", "${x}", "#店#", "http://a.cn/x?", "jd.com/", "t.cn/a", "138 1234 5678",
     "VX：ab_c12", "QQ:12345", "a@b.com", "^_^", "o(╯□╰)o", "/:rose", "满100减20", "5折",
     "【店】", "回T退订", "x.x", "10:00", "...", "！！"]
)
_MIXED = st.lists(st.one_of(_TEXTS, _FRAGMENTS), max_size=6).map("".join)


@settings(max_examples=300, deadline=None)
@given(_MIXED)
def test_every_scanner_returns_valid_sorted_spans(text: str) -> None:
    for scanner in SCANNERS.values():
        _assert_valid(text, scanner(text))
    _assert_parts_valid(text)
    assert char_count(text) <= len(text) <= width(text) <= 2 * len(text)


def _corpus_lines() -> Iterator[str]:
    """Texts of the public corpora, FBS lines rejoined (spaces between CJK removed)."""
    from compliance import corpora

    yield from corpora.all_texts()


@pytest.mark.corpus
@pytest.mark.slow
@pytest.mark.skipif(not (CORPORA / "sms_spam_zh.tsv").exists(), reason="corpora absent")
def test_corpus_through_every_scanner() -> None:
    count = 0
    found: dict[str, int] = dict.fromkeys(SCANNERS, 0)
    for text in _corpus_lines():
        count += 1
        for name, scanner in SCANNERS.items():
            hits = scanner(text)
            _assert_valid(text, hits)
            found[name] += len(hits)
        _assert_parts_valid(text)
    assert count > 9000
    # The corpus is real marketing SMS: these shapes must be seen in it (it contains the
    # private-use legacy emoji, masked phone numbers and half-width colons).
    for name in ("halfwidth_punctuation", "special_symbols", "contacts",
                 "embedded_signature_or_optout"):
        assert found[name] > 0, name
