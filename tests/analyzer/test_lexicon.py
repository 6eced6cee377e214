"""Lexicon loading, validation errors, self-tests and the built-in word lists."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from compliance.analyzer.lexicon import (
    Lexicon,
    LexiconError,
    build_lexicon,
    builtin_lexicon_paths,
    check_examples,
    load_builtin_lexicons,
    load_lexicon,
)
from compliance.findings import CATEGORIES

EXPECTED = {
    "ad_law": "ad_law",
    "contact": "contact",
    "inducement": "inducement",
    "impersonation": "impersonation",
    "neutral_signature": "signature",
    "sensitive_category": "sensitive_category",
    "template_marketing": "marketing",
    "optout": "unsubscribe",
    "typo": "typo",
}

GOOD_HEADER = """\
[lexicon]
name = "demo"
title = "示例"
category = "ad_law"
severity = "error"
source = "test"
"""


def write(tmp_path: Path, body: str, header: str = GOOD_HEADER) -> Path:
    path = tmp_path / "demo.toml"
    path.write_text(header + textwrap.dedent(body), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------
# built-in lexicons


def test_builtin_paths_and_categories() -> None:
    paths = builtin_lexicon_paths()
    assert set(EXPECTED) <= set(paths)
    lexicons = load_builtin_lexicons()
    for name, category in EXPECTED.items():
        assert lexicons[name].name == name
        assert lexicons[name].category == category
        assert lexicons[name].source
    assert all(lex.category in CATEGORIES for lex in lexicons.values())


def test_builtin_sizes_and_labels() -> None:
    lexicons = load_builtin_lexicons()
    ad_law = lexicons["ad_law"]
    assert len(ad_law) >= 300
    assert {e.label for e in ad_law if e.kind != "lawful"} == {"absolute", "ranking", "authority", "urgency", "guarantee", "medical"}
    typo = lexicons["typo"]
    assert len(typo) >= 40
    assert all(e.fix and e.fix != e.term for e in typo)
    assert typo.entry("优惠卷") is not None and typo.entry("优惠卷").fix == "优惠券"  # type: ignore[union-attr]
    impersonation = lexicons["impersonation"]
    assert {"jd", "wechat", "taobao"} <= set(impersonation.platforms)
    assert all(e.platforms for e in impersonation if e.kind != "lawful")  # lawful entries take no platforms
    sensitive = {e.term for e in lexicons["sensitive_category"] if e.label == "jd_sms"}
    assert sensitive == {"计生情趣", "医药", "教育培训", "农药", "兽药"}


def test_builtin_ambiguous_entries_have_both_examples() -> None:
    ambiguous = [e for lex in load_builtin_lexicons().values() for e in lex if e.ambiguous]
    # single 首 and 极 were dropped (measure words and adverbs far more often than claims)
    assert {"最", "第一", "唯一", "冠军", "顶", "首个"} <= {e.term for e in ambiguous}
    assert all(e.bad and e.good and e.allow for e in ambiguous)


def test_most_builtin_entries_have_a_bad_example() -> None:
    entries = [e for lex in load_builtin_lexicons().values() for e in lex]
    with_bad = sum(1 for e in entries if e.bad)
    assert with_bad / len(entries) > 0.9


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_builtin_examples_pass_with_jieba(name: str) -> None:
    """Load time defers jieba-only decisions; here every example is decided for real."""
    failures = check_examples(load_builtin_lexicons()[name], use_jieba=True)
    assert [f.describe() for f in failures] == []


def test_loading_builtins_does_not_import_jieba() -> None:
    code = (
        "import sys\n"
        "from compliance.analyzer.lexicon import load_builtin_lexicons\n"
        "from compliance.analyzer.matcher import Matcher\n"
        "m = Matcher(load_builtin_lexicons())\n"
        "assert m.find('销量第一，全网最低价')\n"
        "print('jieba' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_builtin_load_is_cached() -> None:
    assert load_builtin_lexicons()["ad_law"] is load_builtin_lexicons()["ad_law"]
    path = builtin_lexicon_paths()["typo"]
    assert load_lexicon(path) is load_lexicon(path)


# ------------------------------------------------------------------------------------------
# loading a file


def test_load_valid_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        labels = ["absolute"]

        [[entry]]
        term = "最佳"
        label = "absolute"
        note = "绝对化"
        bad = "品质最佳"

        [[entry]]
        term = "第一"
        label = "absolute"
        severity = "warning"
        ambiguous = true
        allow = ["第一次"]
        bad = ["口碑第一"]
        good = "第一次下单"
        """,
    )
    lexicon = load_lexicon(path)
    assert isinstance(lexicon, Lexicon)
    assert lexicon.terms() == ("最佳", "第一")
    first = lexicon.entries[1]
    assert first.severity == "warning" and first.ambiguous and first.allow == ("第一次",)
    assert first.bad == ("口碑第一",) and first.good == ("第一次下单",)
    assert lexicon.entries[0].severity == "error"  # lexicon default
    assert lexicon.entries[0].line == 10  # the [[entry]] header


def test_unknown_entry_key_with_did_you_mean_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [[entry]]
        term = "最佳"
        sevrity = "warning"
        """,
    )
    with pytest.raises(LexiconError) as info:
        load_lexicon(path)
    err = info.value
    assert err.path == path.resolve()
    assert err.term == "最佳"
    assert err.line == 10
    assert "unknown key 'sevrity'" in str(err) and "did you mean 'severity'" in str(err)
    assert f"{path.resolve()}:10" in str(err)


def test_unknown_lexicon_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[[entry]]\nterm = "最佳"\n', header=GOOD_HEADER + 'catgory = "x"\n')
    with pytest.raises(LexiconError, match="did you mean 'category'"):
        load_lexicon(path)


def test_wrong_types(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [[entry]]
        term = "最佳"
        ambiguous = "yes"
        allow = "最佳品质"
        """,
    )
    with pytest.raises(LexiconError) as info:
        load_lexicon(path)
    text = str(info.value)
    assert "'ambiguous' must be a boolean, got string" in text
    assert "'allow' must be an array of strings" in text


def test_non_string_term(tmp_path: Path) -> None:
    path = write(tmp_path, "[[entry]]\nterm = 12\n")
    with pytest.raises(LexiconError, match="'term' must be a string, got integer"):
        load_lexicon(path)


def test_duplicate_term_after_folding(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [[entry]]
        term = "V信"

        [[entry]]
        term = "v信"
        """,
    )
    with pytest.raises(LexiconError) as info:
        load_lexicon(path)
    assert info.value.term == "v信"
    assert info.value.line == 12
    assert "duplicate term: same as 'V信' at line 9" in str(info.value)


def test_traditional_duplicate(tmp_path: Path) -> None:
    path = write(tmp_path, '[[entry]]\nterm = "國家級"\n\n[[entry]]\nterm = "国家级"\n')
    with pytest.raises(LexiconError, match="duplicate term"):
        load_lexicon(path)


def test_unknown_category(tmp_path: Path) -> None:
    header = GOOD_HEADER.replace('category = "ad_law"', 'category = "adlaw"')
    path = write(tmp_path, '[[entry]]\nterm = "最佳"\n', header=header)
    with pytest.raises(LexiconError, match="unknown category 'adlaw' \\(did you mean 'ad_law'\\?\\)") as info:
        load_lexicon(path)
    assert info.value.line == 4


def test_unknown_label_and_platform(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        labels = ["absolute"]
        platforms = ["jd"]

        [[entry]]
        term = "最佳"
        label = "absolut"
        platforms = ["jdd"]
        """,
    )
    with pytest.raises(LexiconError) as info:
        load_lexicon(path)
    text = str(info.value)
    assert "unknown label 'absolut' (did you mean 'absolute'?)" in text
    assert "unknown platform 'jdd' (did you mean 'jd'?)" in text


def test_allow_word_must_contain_term(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [[entry]]
        term = "第一"
        ambiguous = true
        allow = ["首次"]
        bad = "口碑第一"
        good = "第一次"
        """,
    )
    with pytest.raises(LexiconError, match="allow word '首次' does not contain the term"):
        load_lexicon(path)


def test_ambiguous_entry_needs_examples(tmp_path: Path) -> None:
    path = write(tmp_path, '[[entry]]\nterm = "第一"\nambiguous = true\n')
    with pytest.raises(LexiconError, match="needs both a 'bad' and a 'good' example"):
        load_lexicon(path)


def test_failing_bad_example_blocks_loading(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [[entry]]
        term = "最佳"
        bad = "品质很好"
        """,
    )
    with pytest.raises(LexiconError) as info:
        load_lexicon(path)
    assert info.value.term == "最佳"
    assert info.value.line == 10  # the line of `bad = …`
    assert "example '品质很好' must hit" in str(info.value)


def test_jieba_only_examples_are_deferred_then_checked(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [[entry]]
        term = "第一"
        ambiguous = true
        allow = ["第一次"]
        bad = "口碑第一"
        good = ["第一批春装", "销量全国第一"]
        """,
    )
    # Neither good example is decided by the allow list, so loading (no jieba) defers them…
    lexicon = load_lexicon(path)
    # …and the jieba check decides: 第一批 is one word (holds), 全国/第一 is not (fails).
    failures = check_examples(lexicon, use_jieba=True)
    assert [(f.term, f.example, f.expected_hit) for f in failures] == [("第一", "销量全国第一", False)]


def test_good_example_refuted_by_allowless_entry(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [[entry]]
        term = "最低价"
        good = "全场最低价"
        """,
    )
    with pytest.raises(LexiconError, match="example '全场最低价' must not hit"):
        load_lexicon(path)


def test_invalid_toml_reports_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[[entry]]\nterm = "最佳\n')
    with pytest.raises(LexiconError, match="invalid TOML") as info:
        load_lexicon(path)
    assert info.value.line == 8


def test_missing_file() -> None:
    with pytest.raises(LexiconError, match="cannot read lexicon"):
        load_lexicon("/nonexistent/lexicon.toml")


def test_reload_after_edit(tmp_path: Path) -> None:
    path = write(tmp_path, '[[entry]]\nterm = "最佳"\n')
    assert load_lexicon(path).terms() == ("最佳",)
    path.write_text(GOOD_HEADER + '[[entry]]\nterm = "顶级"\n\n[[entry]]\nterm = "极品"\n', encoding="utf-8")
    assert load_lexicon(path).terms() == ("顶级", "极品")


# ------------------------------------------------------------------------------------------
# building in code


def test_build_lexicon_from_terms() -> None:
    lexicon = build_lexicon("banned", ["竞品A", {"term": "内部价", "note": "商家禁用", "bad": "内部价购买"}], category="ad_law")
    assert lexicon.terms() == ("竞品A", "内部价")
    assert lexicon.path is None
    assert lexicon.entries[1].note == "商家禁用"


def test_build_lexicon_validates() -> None:
    with pytest.raises(LexiconError) as info:
        build_lexicon("banned", ["内部价", "内部价"], category="ad_law")
    assert info.value.path is None and "duplicate term" in str(info.value)
    with pytest.raises(LexiconError, match="unknown category"):
        build_lexicon("banned", ["内部价"], category="nope")
    with pytest.raises(LexiconError, match="must match"):
        build_lexicon("Bad Name", ["内部价"], category="ad_law")
    with pytest.raises(LexiconError, match="must hit"):
        build_lexicon("banned", [{"term": "内部价", "bad": "外部价"}], category="ad_law")
