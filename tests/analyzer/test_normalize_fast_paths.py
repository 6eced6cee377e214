"""The normalizer's fast paths agree with its readable definitions.

`normalize` finds removable separator runs with one regex (`_REMOVABLE_RUN`) instead of
calling `_removable` per run, and folds text without length-changing characters by
``str.lower`` or ``fold_runs.sub``. These tests compare both with a slow reference built from
`_removable` and `fold_char` on generated text made of the characters that matter: CJK,
Latin letters on both sides of the 2-letter limit, digits, every separator, URL punctuation,
traditional and full-width characters, invisibles and expansions (ﬁ, ㎡).
"""

from __future__ import annotations

import inspect
import re
from dataclasses import MISSING, fields

from hypothesis import example, given, settings
from hypothesis import strategies as st

from compliance.analyzer import normalize as N
from compliance.analyzer.hits import Hit

ALPHABET = (
    "最低价网一【】𠀀"  # CJK (BMP, bracket, astral)
    "abcxyzABVX"  # Latin, both cases
    "0129"
    " \t\n\u3000*·・•‧_-./|~～"  # separators
    ":@,"  # URL-ish neighbours
    "網價ＶＸ１"  # traditional, full-width
    "\u200b\u00adﬁ㎡"  # invisible, expansions
    "а"  # Cyrillic look-alike
)

texts = st.text(alphabet=ALPHABET, max_size=24)


def reference_runs(folded: str) -> list[tuple[int, int]]:
    """Removable runs as the module docstring defines them, one `_removable` call per run."""
    out = []
    for match in re.finditer(r"[\s*·・•‧_\-./|~～]+", folded):
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
def test_removable_run_regex_matches_the_definition(text: str) -> None:
    folded = reference_fold(text)
    assert [m.span() for m in N._REMOVABLE_RUN.finditer(folded)] == reference_runs(folded)


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


def test_hit_init_keeps_the_dataclass_signature() -> None:
    """`Hit.__init__` is replaced for speed; its parameters must stay the fields, in order."""
    params = list(inspect.signature(Hit.__init__).parameters.values())[1:]
    assert [p.name for p in params] == [f.name for f in fields(Hit)]
    for param, fld in zip(params, fields(Hit), strict=True):
        expected = inspect.Parameter.empty if fld.default is MISSING else fld.default
        assert param.default == expected, fld.name
    hit = Hit(1, 2, "a", "ad_law", "ad_law", fix="b")
    assert (hit.start, hit.end, hit.text, hit.severity, hit.fix, hit.term) == (1, 2, "a", "error", "b", "")
    assert hit == Hit(start=1, end=2, text="a", category="ad_law", kind="ad_law", fix="b")
