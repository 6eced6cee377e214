"""The normalizer's fold tables cached on disk (cold start, issue 13): loaded when the cache
holds them, rebuilt — never trusted — when the entry is damaged, of another shape or stale,
and built in memory when the cache is off or cannot be written."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from compliance import diskcache as cache
from compliance.analyzer import normalize

pytestmark = pytest.mark.fault

SAMPLE = "最★低★價 ＶＸ\u200b加 V 信 ﬁ"


def tables_fingerprint(tables: object) -> tuple[object, ...]:
    t = tables
    return (t.fold, t.fold_runs.pattern, t.length_changing, t.length_changing_re.pattern,  # type: ignore[attr-defined]
            t.beyond_lower_re.pattern)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def reference() -> tuple[object, ...]:
    return tables_fingerprint(normalize._build_tables())


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    directory = tmp_path / "cache"
    monkeypatch.setenv("COMPLIANCE_CACHE_DIR", str(directory))
    monkeypatch.delenv("COMPLIANCE_NO_CACHE", raising=False)
    monkeypatch.setattr(normalize, "_tables_cache", None)
    yield directory
    normalize._tables_cache = None  # the next user of the module builds its own again


def fresh_tables(monkeypatch: pytest.MonkeyPatch) -> object:
    """The tables as a new process gets them."""
    monkeypatch.setattr(normalize, "_tables_cache", None)
    return normalize._tables()


def entry(directory: Path) -> Path:
    return directory / f"{normalize._tables_key()}.bin"


def test_the_first_start_stores_the_tables_and_the_next_loads_the_same(
        cache_dir: Path, monkeypatch: pytest.MonkeyPatch, reference: tuple[object, ...]) -> None:
    built = fresh_tables(monkeypatch)
    assert entry(cache_dir).is_file()
    assert oct(entry(cache_dir).stat().st_mode & 0o777) == oct(0o600)
    calls: list[int] = []
    real = normalize._table_data
    monkeypatch.setattr(normalize, "_table_data", lambda: calls.append(1) or real())
    loaded = fresh_tables(monkeypatch)
    assert calls == []  # loaded, not rebuilt
    assert tables_fingerprint(built) == tables_fingerprint(loaded) == reference
    assert normalize.normalize(SAMPLE).text == "最低价vx加v信fi"


@pytest.mark.parametrize("damage", ["flip a byte", "truncate", "empty", "garbage", "another key"])
def test_a_damaged_entry_is_rebuilt_and_healed(cache_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                               reference: tuple[object, ...], damage: str,
                                               caplog: pytest.LogCaptureFixture) -> None:
    fresh_tables(monkeypatch)
    path = entry(cache_dir)
    data = bytearray(path.read_bytes())
    if damage == "flip a byte":
        data[-100] ^= 0xFF
    elif damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "empty":
        data = bytearray()
    elif damage == "garbage":
        data = bytearray(os.urandom(4096))
    else:  # a sound entry of another key, copied over this one
        cache.store_object("0" * 64, {"not": "tables"})
        data = bytearray((cache_dir / f"{'0' * 64}.bin").read_bytes())
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="compliance.diskcache"):
        tables = fresh_tables(monkeypatch)
    assert tables_fingerprint(tables) == reference
    assert [r for r in caplog.records if "rebuilding" in r.getMessage() and str(path) in r.getMessage()]
    # Healed: the entry holds good tables again.
    assert cache.load_object(normalize._tables_key(), normalize._valid_table_data) is not None


def test_an_entry_of_the_wrong_shape_is_not_used(cache_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                 reference: tuple[object, ...]) -> None:
    key = normalize._tables_key()
    # A well-formed file (right key, right digest) whose payload is not the tables.
    for wrong in ({"fold": {}}, ({}, "", "", ""), ({1: 2}, "a", "b", "c"), ({i: "x" for i in range(2000)}, 1, "b", "c")):
        cache.store_object(key, wrong)
        assert tables_fingerprint(fresh_tables(monkeypatch)) == reference


def test_a_changed_normalizer_is_a_new_key(cache_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    key = normalize._tables_key()
    copy = tmp_path / "normalize.py"
    shutil.copyfile(normalize.__file__, copy)
    copy.write_bytes(copy.read_bytes() + b"\n# a change\n")
    monkeypatch.setattr(normalize, "__file__", str(copy))
    assert normalize._tables_key() != key


def test_cache_off_builds_in_memory_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      reference: tuple[object, ...]) -> None:
    monkeypatch.setenv("COMPLIANCE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COMPLIANCE_NO_CACHE", "1")
    monkeypatch.setattr(normalize, "_tables_cache", None)
    try:
        assert tables_fingerprint(normalize._tables()) == reference
        assert not (tmp_path / "cache").exists()
    finally:
        normalize._tables_cache = None


def test_an_unwritable_cache_costs_only_the_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  reference: tuple[object, ...]) -> None:
    blocker = tmp_path / "file-in-the-way"
    blocker.write_text("not a directory")
    monkeypatch.setenv("COMPLIANCE_CACHE_DIR", str(blocker))
    monkeypatch.delenv("COMPLIANCE_NO_CACHE", raising=False)
    monkeypatch.setattr(normalize, "_tables_cache", None)
    try:
        assert tables_fingerprint(normalize._tables()) == reference
    finally:
        normalize._tables_cache = None
