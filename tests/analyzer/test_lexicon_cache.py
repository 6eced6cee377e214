"""The built-in lexicons cached on disk (cold start, issue 13): loaded when the cache holds this
version of them, rebuilt — never trusted — when the entry is damaged or of the wrong shape, and
loaded afresh when a lexicon file (or the code that builds them) changes."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from compliance import diskcache as cache
from compliance.analyzer import lexicon

pytestmark = pytest.mark.fault


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    directory = tmp_path / "cache"
    monkeypatch.setenv("COMPLIANCE_CACHE_DIR", str(directory))
    monkeypatch.delenv("COMPLIANCE_NO_CACHE", raising=False)
    lexicon._builtin.cache_clear()
    yield directory
    lexicon._builtin.cache_clear()


def fresh() -> tuple[tuple[str, lexicon.Lexicon], ...]:
    """The built-in lexicons as a new process gets them."""
    lexicon._builtin.cache_clear()
    return lexicon._builtin()


def reference() -> tuple[tuple[str, lexicon.Lexicon], ...]:
    return lexicon._load_builtin(lexicon.builtin_lexicon_paths())


def entry_path(directory: Path) -> Path:
    key = lexicon._builtin_key(lexicon.builtin_lexicon_paths())
    assert key is not None
    return directory / f"{key}.bin"


def test_the_first_load_stores_and_the_next_loads_the_same(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = fresh()
    assert entry_path(cache_dir).is_file()
    calls: list[int] = []
    real = lexicon._load_builtin
    monkeypatch.setattr(lexicon, "_load_builtin", lambda paths: calls.append(1) or real(paths))
    second = fresh()
    assert calls == []  # from the cache, not from the files
    assert first == second == reference()
    assert [lex.path for _, lex in second] == [lex.path for _, lex in reference()]


@pytest.mark.parametrize("damage", ["flip a byte", "truncate", "wrong shape", "wrong names"])
def test_a_damaged_or_foreign_entry_is_rebuilt(cache_dir: Path, damage: str) -> None:
    fresh()
    path = entry_path(cache_dir)
    key = path.stem
    if damage == "flip a byte":
        data = bytearray(path.read_bytes())
        data[-50] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "wrong shape":
        cache.store_object(key, {"ad_law": "not a lexicon"})
    else:  # sound lexicons under the wrong names
        lexicons = reference()
        cache.store_object(key, tuple((f"x{stem}", lex) for stem, lex in lexicons))
    assert fresh() == reference()
    assert cache.load_object(key, lexicon._valid_builtin(tuple(lexicon.builtin_lexicon_paths()))) is not None


def test_a_changed_lexicon_file_is_read_not_served_from_the_cache(cache_dir: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    fresh()  # the cache holds today's lexicons
    copies = tmp_path / "lexicons"
    shutil.copytree(Path(lexicon.__file__).resolve().parent.parent / "lexicons", copies)
    inducement = copies / "inducement.toml"
    inducement.write_text(inducement.read_text(encoding="utf-8") + '''
[[entry]]
term = "测试返现词"
label = "review"
note = "a term added after the cache was written"
bad = "测试返现词，欢迎到店"
''', encoding="utf-8")
    monkeypatch.setattr(lexicon, "builtin_lexicon_paths",
                        lambda: {p.stem: p for p in sorted(copies.glob("*.toml"))})
    loaded = dict(fresh())
    assert "测试返现词" in loaded["inducement"].terms()


def test_cache_off_loads_from_the_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLIANCE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COMPLIANCE_NO_CACHE", "1")
    try:
        assert fresh() == reference()
        assert not (tmp_path / "cache").exists()
    finally:
        lexicon._builtin.cache_clear()
