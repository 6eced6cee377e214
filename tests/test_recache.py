"""`compliance.recache`: patterns compiled from cached compiler output are the patterns `re`
builds; the cache entry follows `compliance.cache`'s rules (a damaged entry is rebuilt, code the
engine refuses is compiled afresh), and bad patterns still raise `re.error`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from compliance import cache, recache
from compliance.analyzer import normalize

PATTERNS = [
    (r"(?P<id>[1-9]\d{4,11})(?![0-9])", 0),
    (r"[\s*·・•‧_\-./|~～]+", 0),
    (r"(?i)qq[:：]?(?P<n>\d+)", 0),
    (r"^a.b$", re.DOTALL | re.MULTILINE),
    ("[一-鿿]{1,4}?[ \u3000]*[:：]?", 0),
]
SAMPLES = ["QQ:12345678", "加 微 信", "a\nb", "电话：0571-88881234", "", "x" * 50]


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """recache with no entries loaded yet, over an empty cache directory."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("COMPLIANCE_CACHE_DIR", str(directory))
    monkeypatch.delenv("COMPLIANCE_NO_CACHE", raising=False)
    forget(monkeypatch)
    yield directory


def forget(monkeypatch: pytest.MonkeyPatch) -> None:
    """The state of a new process (the entry not read yet, nothing compiled)."""
    monkeypatch.setattr(recache, "_entries", None)
    monkeypatch.setattr(recache, "_added", {})
    monkeypatch.setattr(recache, "_used", set())
    monkeypatch.setattr(recache, "_directory", None)


def same(a: re.Pattern[str], b: re.Pattern[str]) -> None:
    assert (a.pattern, a.flags, a.groups, a.groupindex) == (b.pattern, b.flags, b.groups, b.groupindex)
    for text in SAMPLES:
        assert [m.span() for m in a.finditer(text)] == [m.span() for m in b.finditer(text)]
        assert [m.groupdict() for m in a.finditer(text)] == [m.groupdict() for m in b.finditer(text)]


def entry_path(directory: Path) -> Path:
    return directory / f"{recache._key()}.bin"


@pytest.mark.parametrize(("pattern", "flags"), PATTERNS)
def test_compiled_from_the_cache_is_what_re_builds(fresh: Path, monkeypatch: pytest.MonkeyPatch,
                                                   pattern: str, flags: int) -> None:
    first = recache.compile(pattern, flags)
    same(first, re.compile(pattern, flags))
    recache.save()
    assert entry_path(fresh).is_file()
    forget(monkeypatch)
    monkeypatch.setattr(recache, "_generate", lambda *a: pytest.fail("compiled again, not from the cache"))
    same(recache.compile(pattern, flags), re.compile(pattern, flags))


def lint_patterns() -> set[tuple[str, int]]:
    """The module-level patterns of the normalizer, the scanners and the copy-file readers,
    and the normalizer's character-table patterns."""
    import importlib

    names = ["compliance.analyzer.normalize", "compliance.io.copyfiles", "compliance.io._scanners",
             *(f"compliance.analyzer.scanners.{n}" for n in ("contact", "length", "punctuation", "symbols", "template"))]
    found = {(value.pattern, value.flags) for name in names for value in vars(importlib.import_module(name)).values()
             if isinstance(value, re.Pattern) and isinstance(value.pattern, str)}
    tables = normalize._build_tables()
    found |= {(p.pattern, p.flags) for p in (tables.fold_runs, tables.length_changing_re, tables.beyond_lower_re)}
    return found


def test_every_pattern_of_a_lint_comes_back_as_re_builds_it(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    patterns = lint_patterns()
    assert len(patterns) > 40
    for pattern, flags in patterns:
        recache.compile(pattern, flags)
    recache.save()
    forget(monkeypatch)
    entries = recache._load()
    assert patterns <= set(entries)  # (and what the imports above compiled)
    for (pattern, flags), entry in entries.items():
        assert entry == recache._generate(pattern, flags)  # the code re generates today
        same(recache.compile(pattern, flags), re.compile(pattern, flags))
    assert recache._added == {}


@pytest.mark.parametrize("damage", ["flip a byte", "truncate", "wrong shape"])
def test_a_damaged_entry_is_rebuilt(fresh: Path, monkeypatch: pytest.MonkeyPatch, damage: str) -> None:
    pattern, flags = PATTERNS[0]
    recache.compile(pattern, flags)
    recache.save()
    path = entry_path(fresh)
    if damage == "flip a byte":
        data = bytearray(path.read_bytes())
        data[-20] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[:60])
    else:
        cache.store_object(recache._key(), {(pattern, flags): "not compiler output"})
    forget(monkeypatch)
    same(recache.compile(pattern, flags), re.compile(pattern, flags))
    assert recache._load() == {}  # the damaged entry was not used
    recache.save()
    forget(monkeypatch)
    assert (pattern, flags) in recache._load()  # rebuilt


def test_code_the_engine_refuses_is_compiled_afresh(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A well-formed entry whose code is wrong (digest and shape fine): `_sre.compile`
    validates the code, refuses it, and the pattern is compiled by `re` instead."""
    pattern, flags = PATTERNS[0]
    good = recache._generate(pattern, flags)
    cache.store_object(recache._key(), {(pattern, flags): (good[0], [999, 1, 2], *good[2:])})
    same(recache.compile(pattern, flags), re.compile(pattern, flags))
    assert recache._added[(pattern, flags)] == good  # replaced at the next save


def test_bad_patterns_raise_re_error(fresh: Path) -> None:
    with pytest.raises(re.error):
        recache.compile("(unclosed")
    assert recache._added == {}


def test_nothing_is_written_with_the_cache_off(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLIANCE_NO_CACHE", "1")
    same(recache.compile(*PATTERNS[1]), re.compile(*PATTERNS[1]))
    recache.save()
    assert not fresh.exists()


def test_not_written_to_another_directory_than_it_was_read_from(fresh: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    recache.compile(*PATTERNS[2])
    monkeypatch.setenv("COMPLIANCE_CACHE_DIR", str(tmp_path / "elsewhere"))
    recache.save()
    assert not (tmp_path / "elsewhere").exists() and not fresh.exists()
