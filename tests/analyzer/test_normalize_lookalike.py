"""The look-alike fold (compliance/lexicons/scanners/lookalike.toml): a rare character that spam
writes for a common one (偍高 for 提高, 媬分 for 保分) folds to it, one character for one, so every
lexicon sees the common word while findings point at the original characters."""

from __future__ import annotations

import collections
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from compliance import Engine, diskcache as cache
from compliance.analyzer import normalize

CORPORA = Path(__file__).resolve().parents[3] / "shared" / "corpora"
#: How many characters count as common: the size of the 一级字表 of 《通用规范汉字表》.
COMMON_SIZE = 3500

ENTRIES = normalize.lookalike_entries()


@pytest.fixture(scope="module")
def common_chars() -> frozenset[str]:
    """The 3,500 most frequent characters of jieba's dictionary (word frequencies summed per
    character): an offline stand-in for the 一级字表."""
    import jieba

    freq: collections.Counter[str] = collections.Counter()
    with open(os.path.join(os.path.dirname(jieba.__file__), "dict.txt"), encoding="utf-8") as f:
        for line in f:
            word, count, *_ = line.split()
            for ch in word:
                freq[ch] += int(count)
    return frozenset(ch for ch, _ in freq.most_common(COMMON_SIZE))


# ------------------------------------------------------------------------ the table itself


def test_the_table_is_not_empty_and_every_entry_has_a_note() -> None:
    assert len(ENTRIES) >= 40
    for key, (to, note) in ENTRIES.items():
        assert len(key) == 1 and len(to) == 1 and key != to, key
        assert note.strip(), key


def test_every_key_is_rare_and_every_value_common(common_chars: frozenset[str]) -> None:
    assert not [k for k in ENTRIES if k in common_chars], "a common character must not be folded"
    assert not [to for to, _ in ENTRIES.values() if to not in common_chars], "values are common characters"


@pytest.mark.corpus
@pytest.mark.skipif(not (CORPORA / "sms_spam_zh.tsv").exists(), reason="../shared/corpora absent")
def test_no_key_occurs_in_ordinary_sentences() -> None:
    ordinary: set[str] = set()
    for line in (CORPORA / "sms_spam_zh.tsv").read_text(encoding="utf-8").splitlines():
        label, _, text = line.partition("\t")
        if label == "0":
            ordinary.update(text)
    assert sorted(set(ENTRIES) & ordinary) == []


def test_values_are_fixed_points_and_keys_fold_to_them_in_the_translate_table() -> None:
    fold = normalize._tables().fold
    for key, (to, _) in ENTRIES.items():
        assert normalize.fold_char(to) == to, to
        assert fold[ord(key)] == to, key  # one table: no second pass over the text
        assert key not in normalize._tables().length_changing


@pytest.mark.parametrize(
    "source",
    [
        '[fold]\n"卩艮" = { to = "限", note = "two characters" }\n',
        '[fold]\n"偍" = { to = "提高", note = "an expansion" }\n',
        '[fold]\n"偍" = { to = "提" }\n',
        '[fold]\n"偍" = { to = "提", note = " " }\n',
        '[fold]\n"偍" = "提"\n',
    ],
)
def test_a_malformed_entry_is_rejected(source: str) -> None:
    with pytest.raises(ValueError):
        normalize.lookalike_entries(source.encode("utf-8"))


# --------------------------------------------------------------------------------- offsets


def test_folded_text_keeps_the_identity_offset_map() -> None:
    n = normalize.normalize("确保偍高20分")
    assert n.text == "确保提高20分"
    assert n.is_identity
    assert n.span(2, 4) == (2, 4)
    # With a removed separator the map is no longer the identity; it still points at 偍高.
    n = normalize.normalize("确保 偍 高20分")
    assert n.text == "确保提高20分"
    start, end = n.span(2, 4)
    assert n.original[start:end] == "偍 高"


# ---------------------------------------------------------- lexicon level: bad and good copy

#: (copy, the original characters a finding must span): each is a violation only once the
#: look-alike characters are read as the characters they imitate.
BAD = [
    ("签协议媬分", "媬分"),                 # 保分: a guarantee of scores (ad law art. 24)
    ("保证偍高20分", "保证偍高20分"),       # 保证提高20分
    ("囯内首家品牌", "囯内首家"),           # 国内首家: a superlative
    ("不满意无效退歀", "无效退歀"),         # 无效退款
    ("本店扴值无限", "扴值无限"),           # 价值无限
]
#: Copy with look-alike characters that still says nothing unlawful once folded.
GOOD = ["新敩期开课啦", "荭包已到账", "领取优僡券", "用戸您好，欢迎光临", "锞子是古代的小金锭"]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


@pytest.mark.parametrize(("text", "span"), BAD)
def test_bad_copy_is_found_on_the_original_characters(engine: Engine, text: str, span: str) -> None:
    findings = [f for f in engine.lint(text, channel="jd.sms").findings
                if f.rule == "copy-ad-law" and f.start is not None]
    assert [(f.start, f.end) for f in findings] == [(text.index(span), text.index(span) + len(span))]
    assert f"“{span}”" in findings[0].message  # the report quotes what was written


@pytest.mark.parametrize("text", GOOD)
def test_good_copy_stays_clean(engine: Engine, text: str) -> None:
    assert [f.rule for f in engine.lint(text, channel="jd.sms").findings if f.field == "body"] == []


# ------------------------------------------------------------------------------ the cache


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("COMPLIANCE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("COMPLIANCE_NO_CACHE", raising=False)
    monkeypatch.setattr(normalize, "_tables_cache", None)
    yield tmp_path
    normalize._tables_cache = None


def test_a_changed_table_is_a_new_key_and_the_stale_cache_is_not_used(
        fresh_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert normalize.fold_char("偍") == "提"  # builds and stores the tables of the real file
    old_key = normalize._tables_key()
    assert cache.load_object(old_key, normalize._valid_table_data) is not None
    changed = fresh_cache / "lookalike.toml"
    changed.write_bytes(normalize.LOOKALIKE_PATH.read_bytes() + '"叒" = { to = "又", note = "test" }\n'.encode())
    monkeypatch.setattr(normalize, "LOOKALIKE_PATH", changed)
    monkeypatch.setattr(normalize, "_tables_cache", None)
    assert normalize._tables_key() != old_key
    assert normalize.fold_char("叒") == "又"
