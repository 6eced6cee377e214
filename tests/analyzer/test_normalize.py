"""Normalizer: folding rules and the offset map back to the original text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.analyzer.normalize import _SEPARATOR_RUN, Normalized, fold_char, normalize


@pytest.mark.parametrize(
    ("original", "folded"),
    [
        ("全網最低價", "全网最低价"),  # traditional → simplified
        ("國家級", "国家级"),
        ("ＶＸ号", "vx号"),  # full-width Latin → half-width, lower case
        ("ＴＯＰ１", "top1"),
        ("最*低*价", "最低价"),  # separators between CJK
        ("全 网 最 低 价", "全网最低价"),
        ("最·低_价", "最低价"),
        ("最　低价", "最低价"),  # ideographic space
        ("微.信号", "微信号"),
        ("最\u200b低\u200d价", "最低价"),  # zero-width characters
        ("V\u200bX", "vx"),  # invisible characters go even between Latin letters
        ("加 V 信", "加v信"),  # a short Latin token glued to Chinese
        ("JD 官方", "jd官方"),
        ("J D官方", "jd官方"),  # spelled-out letters
        ("Q - Q 12345678", "qq 12345678"),
        ("薇❤信", "薇信"),  # decorative symbols between CJK characters
        ("最★低★价", "最低价"),
        ("最 😀\ufe0f 低价", "最低价"),
        ("𝐕𝐗号", "vx号"),  # mathematical bold letters
        ("ВХ号", "vx号"),  # Cyrillic look-alikes
        ("⼀流", "一流"),  # Kangxi radical
    ],
)
def test_folding(original: str, folded: str) -> None:
    assert normalize(original).text == folded


@pytest.mark.parametrize(
    "text",
    [
        "点击 https://m.jd.com/abc 领取",  # URL keeps its dots, slashes and the space before it
        "hello world",
        "1-3个工作日",  # separator between digits
        "满100 - 20",
        "VIP 会员",  # a real English word next to Chinese keeps its space
        "jd.com/京东",  # '.' and '/' are never removed next to Latin letters
        "ab c",  # only single letters are joined
        "www.a b.com",
        "a❤b",  # symbols are separators between CJK characters only
    ],
)
def test_separators_outside_cjk_are_kept(text: str) -> None:
    assert normalize(text).text == text.lower()


def test_fullwidth_chinese_punctuation_is_kept() -> None:
    # No lexicon term contains it; keeping it keeps ordinary text on the fast path.
    norm = normalize("你好，欢迎光临！")
    assert norm.text == "你好，欢迎光临！"
    assert norm.is_identity


def test_identity_fast_path_for_plain_text() -> None:
    for text in ["亲爱的会员，春季新品上市", "Hello World", "全網最低價", ""]:
        norm = normalize(text)
        assert norm.is_identity
        assert list(norm.offsets) == list(range(len(text) + 1))


def test_span_maps_separated_hit_to_whole_original() -> None:
    norm = normalize("买 最*低*价 的")
    start = norm.text.index("最低价")
    assert norm.text == "买最低价的"
    s, e = norm.span(start, start + 3)
    assert "买 最*低*价 的"[s:e] == "最*低*价"


def test_span_of_expanded_character() -> None:
    # ㍿ folds to four characters; any part of them maps back to the one original character.
    norm = normalize("a㍿b")
    assert norm.text == "a株式会社b"
    assert norm.span(1, 5) == (1, 2)
    assert norm.span(2, 3) == (1, 2)
    assert norm.span(0, 6) == (0, 3)
    assert norm.span(3, 3) == (1, 1)


def test_span_rejects_out_of_range() -> None:
    with pytest.raises(IndexError):
        normalize("最低价").span(0, 4)


def test_offsets_end_with_original_length() -> None:
    norm = normalize("最 低 价")
    assert norm.offsets[-1] == len("最 低 价")
    assert len(norm.offsets) == len(norm.text) + 1


def test_fold_char_matches_normalize() -> None:
    assert fold_char("價") == "价"
    assert fold_char("Ａ") == "a"
    assert fold_char("\u200b") == ""


# ------------------------------------------------------------------------------------------
# properties over random text mixing every kind of character the folding touches

_ALPHABET = st.sampled_from(
    list("全网最低价國家級銷量第一微信优惠券abcXYZ019")
    + list("ＡＺａ１２＊．／｜～　")  # full-width
    + list(" *·_-./|~\t\n")  # separators
    + ["\u200b", "\u200c", "\u200d", "\ufeff", "\u2060", "\u00ad"]  # invisible
    + ["😀", "🎉", "\U0001d415", "㍿", "ﬁ", "①", "İ", "В", "【", "】", "，", "！"]
    + ["\ue001", "\U00020000"]  # private use (legacy emoji), CJK extension B
)
_TEXT = st.lists(_ALPHABET, max_size=40).map("".join) | st.text(max_size=40)


@settings(max_examples=400, deadline=None)
@given(_TEXT)
def test_offsets_are_monotonic_and_inside(text: str) -> None:
    norm = normalize(text)
    offsets = list(norm.offsets)
    assert len(offsets) == len(norm.text) + 1
    assert offsets == sorted(offsets)
    assert all(0 <= o <= len(text) for o in offsets)
    assert offsets[-1] == len(text)


@settings(max_examples=400, deadline=None)
@given(_TEXT)
def test_every_folded_char_comes_from_its_original_char(text: str) -> None:
    norm = normalize(text)
    for i, ch in enumerate(norm.text):
        s, e = norm.span(i, i + 1)
        assert e - s == 1
        assert ch in fold_char(text[s])


@settings(max_examples=400, deadline=None)
@given(_TEXT)
def test_folded_text_is_the_folds_of_the_kept_characters(text: str) -> None:
    """Removed characters are only separators or invisible ones; nothing else is lost."""
    norm = normalize(text)
    offsets = list(norm.offsets)[:-1]
    kept = sorted(set(offsets))
    assert "".join(fold_char(text[i]) for i in kept) == norm.text
    removed = set(range(len(text))) - set(kept)
    for i in removed:
        folded = fold_char(text[i])
        # Separators: spaces and marks, and decorative symbols (❤ ★ 😀) between CJK characters.
        assert folded == "" or _SEPARATOR_RUN.fullmatch(folded) or _SEPARATOR_RUN.fullmatch(text[i])


@settings(max_examples=300, deadline=None)
@given(_TEXT, st.data())
def test_any_span_maps_inside_original(text: str, data: st.DataObject) -> None:
    norm = normalize(text)
    n = len(norm.text)
    start = data.draw(st.integers(0, n))
    end = data.draw(st.integers(start, n))
    s, e = norm.span(start, end)
    assert 0 <= s <= e <= len(text)
    if end > start:
        # The original span folds to a text containing the folded span.
        assert norm.text[start:end] in normalize(text[s:e]).text or _only_separator_context(norm, start, end)


def _only_separator_context(norm: Normalized, start: int, end: int) -> bool:
    # Folding the slice alone can differ at its edges (a separator needs CJK on both sides);
    # the characters themselves still match one by one.
    return all(norm.text[i] in fold_char(norm.original[norm.span(i, i + 1)[0]]) for i in range(start, end))


def test_normalize_returns_normalized() -> None:
    assert isinstance(normalize("x"), Normalized)
