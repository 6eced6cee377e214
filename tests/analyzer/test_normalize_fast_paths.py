"""The normalizer's fast paths agree with its readable definitions.

`normalize` finds removable separator runs with one regex (`removable_runs`; `_REMOVABLE_SPLIT`
is the same regex as a group) instead of calling `_removable` per run, and folds text without
length-changing characters by ``str.lower`` or ``fold_runs.sub``. These tests compare both with a slow
reference built from `_removable` and `fold_char` on generated text made of the characters that matter: CJK,
Latin letters on both sides of the 2-letter limit, digits, every separator, URL punctuation,
traditional and full-width characters, invisibles and expansions (ﬁ, ㎡).
"""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from compliance.analyzer import normalize as N

ALPHABET = (
    "最低价网一【】𠀀"  # CJK (BMP, bracket, astral)
    "abcxyzABVX"  # Latin, both cases
    "0129"
    " \t\n\u3000*·・•‧_-./|~～"  # separators
    "❤★◆※😀\ufe0f"  # decorative symbols (separators between CJK only)
    ":@,"  # URL-ish neighbours
    "網價ＶＸ１"  # traditional, full-width
    "\u200b\u00adﬁ㎡"  # invisible, expansions
    "а"  # Cyrillic look-alike
)

texts = st.text(alphabet=ALPHABET, max_size=24)


def reference_runs(folded: str) -> list[tuple[int, int]]:
    """Removable runs as the module docstring defines them, one `_removable` call per run."""
    out = []
    for match in N._SEPARATOR_RUN.finditer(folded):
        start, end = match.span()
        if start and end < len(folded) and N._removable(folded, start, end):
            out.append((start, end))
    return out


def reference_fold(text: str) -> str:
    return "".join(N.fold_char(c) for c in text)


@settings(max_examples=600, deadline=None)
@given(texts)
@example("加 v 信")
@example("【\n一")
@example("ab 最")
@example("x.ab 最")
@example("最 ab.c")
@example("最 - ab")
@example("最 abc")
@example("j d官方")
@example("q - q 1")
@example("a b c")
@example("ab c")
@example("x.a b")
def test_removable_run_regex_matches_the_definition(text: str) -> None:
    folded = reference_fold(text)
    assert [m.span() for m in N.removable_runs().finditer(folded)] == reference_runs(folded)


@settings(max_examples=600, deadline=None)
@given(texts)
@example("VIP最低价PHONE")
@example("ﬁ最")
def test_fold_fast_paths_match_per_character_folding(text: str) -> None:
    folded, origin = N._fold(text, N._tables())
    assert folded == reference_fold(text)
    if origin is None:
        assert len(folded) == len(text)
    else:
        assert len(origin) == len(folded)


def test_spelled_out_whitespace_is_backslash_s() -> None:
    spelled = re.compile(f"[{N._WHITESPACE}]")
    backslash_s = re.compile(r"\s")
    for cp in range(0x110000):
        ch = chr(cp)
        assert bool(spelled.match(ch)) == bool(backslash_s.match(ch)), hex(cp)


def test_lower_fast_path_is_taken_for_chinese_with_capitals() -> None:
    tables = N._tables()
    assert tables.beyond_lower_re.search("最新款PHONE手机VIP") is None
    assert tables.beyond_lower_re.search("全網") is not None  # traditional needs the table
    assert tables.beyond_lower_re.search("ＶＸ") is not None
    assert N.normalize("最新款PHONE手机").is_identity


def reference_origin(text: str) -> tuple[str, list[int]]:
    """Folded text and the original index of every folded character, one character at a time."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        for folded_char in N.fold_char(char):
            chars.append(folded_char)
            origin.append(index)
    folded = "".join(chars)
    kept, kept_origin, pos = [], [], 0
    for start, end in reference_runs(folded):
        kept.append(folded[pos:start])
        kept_origin.extend(origin[pos:start])
        pos = end
    kept.append(folded[pos:])
    kept_origin.extend(origin[pos:])
    return "".join(kept), kept_origin


@settings(max_examples=600, deadline=None)
@given(texts)
@example("最 低 价")
@example("ﬁ 最 低")
@example("加 v 信 ab")
def test_offset_map_matches_the_per_character_reference(text: str) -> None:
    """Whatever form the map takes (None, a list, pieces with one shift each), it is the
    per-character map: by index, by slice and by iteration."""
    folded, origin = N.fold_with_origin(text)
    expected_text, expected_origin = reference_origin(text)
    assert folded == expected_text
    if origin is None:
        assert expected_origin == list(range(len(text)))
        return
    assert len(origin) == len(expected_origin)
    assert list(origin) == expected_origin
    assert [origin[i] for i in range(len(origin))] == expected_origin
    assert origin[1:] == expected_origin[1:]
    if expected_origin:
        assert origin[-1] == expected_origin[-1]


def test_piecewise_origin_is_a_sequence() -> None:
    folded, origin = N.fold_with_origin("最 低 价")
    assert folded == "最低价" and isinstance(origin, N.PiecewiseOrigin)
    assert list(origin) == [0, 2, 4] and origin == [0, 2, 4] and len(origin) == 3
    assert N.normalize("最 低 价").span(0, 3) == (0, 5)
    import pytest

    with pytest.raises(IndexError):
        origin[3]
