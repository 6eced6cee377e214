"""The compiled-pack cache damaged in every way we could think of: the engine must still start,
with the very same rules, and the cache must heal (be rebuilt) wherever it can be written.

Never a crash, never wrong rules, at most a logged warning.
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
import pickle
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from compliance import diskcache as cache
from compliance.engine import Engine

pytestmark = pytest.mark.fault

MESSAGE = "【好物】全网最低价，国家级品质，加微信abc123 回T退订"


def fingerprint(engine: Engine) -> tuple[object, ...]:
    """What the rules are: every pack's generated source, and one lint's findings."""
    sources = tuple(sorted((name, program.source) for name, program in engine.programs.items()))
    report = engine.lint(MESSAGE, channel="jd.sms")
    return sources, tuple((f.rule, f.field, f.start, f.end) for f in report.findings)


@pytest.fixture(scope="module")
def reference() -> tuple[object, ...]:
    return fingerprint(Engine(use_cache=False))


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("COMPLIANCE_CACHE_DIR", str(directory))
    monkeypatch.delenv("COMPLIANCE_NO_CACHE", raising=False)
    return directory


def cached_file(directory: Path) -> Path:
    Engine()  # writes the cache
    (path,) = directory.glob("*.bin")
    return path


def rewrite(path: Path, payload: bytes, *, digest: str | None = None, key: str | None = None) -> None:
    """A file with the right header layout around ``payload``."""
    digest = digest if digest is not None else hashlib.sha256(payload).hexdigest()
    header = cache.MAGIC + digest.encode() + b"\n" + (key or path.stem).encode() + b"\n"
    path.write_bytes(header + payload)
    path.chmod(0o600)


def header_length(path: Path) -> int:
    return len(cache.MAGIC) + 64 + 1 + len(path.stem) + 1


def _truncate_half(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def _header_only(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: header_length(p)])


def _empty(p: Path) -> None:
    p.write_bytes(b"")


def _random(p: Path) -> None:
    p.write_bytes(os.urandom(p.stat().st_size))


def _flip_payload_byte(p: Path) -> None:
    data = bytearray(p.read_bytes())
    data[-10] ^= 0xFF
    p.write_bytes(bytes(data))


def _valid_pickle_wrong_digest(p: Path) -> None:
    payload = pickle.dumps({"packs": {}, "compiled": {}, "code": {}})
    rewrite(p, payload, digest=hashlib.sha256(b"something else").hexdigest())


def _digest_ok_unpickle_error(p: Path) -> None:
    rewrite(p, b"\x80\x05this is not a pickle at all")


def _digest_ok_not_a_build(p: Path) -> None:
    rewrite(p, pickle.dumps({"code": {}, "surprise": 1}))


def _digest_ok_bad_code(p: Path) -> None:
    data = p.read_bytes()
    build = pickle.loads(data[header_length(p):])
    build["code"] = {name: b"\x00garbage" for name in build["code"]}
    rewrite(p, pickle.dumps(build))


def _other_key(p: Path) -> None:
    # A well-formed file of another build copied into this one's place.
    data = p.read_bytes()
    rewrite(p, data[header_length(p):], key="0" * 64)


def _old_version(p: Path) -> None:
    p.write_bytes(b"COMPLIANCE-CACHE-1\n" + p.read_bytes()[len(cache.MAGIC):])


def _group_writable(p: Path) -> None:
    p.chmod(0o666)


def _symlink(p: Path) -> None:
    target = p.with_name("elsewhere.bin")
    p.rename(target)
    p.symlink_to(target)


CORRUPTIONS: dict[str, Callable[[Path], None]] = {
    "truncated": _truncate_half,
    "header only": _header_only,
    "empty": _empty,
    "random bytes": _random,
    "payload byte flipped": _flip_payload_byte,
    "valid pickle, wrong digest": _valid_pickle_wrong_digest,
    "digest ok, unpickle error": _digest_ok_unpickle_error,
    "digest ok, not a build": _digest_ok_not_a_build,
    "digest ok, bad code objects": _digest_ok_bad_code,
    "another key's file": _other_key,
    "older cache version": _old_version,
    "writable by others": _group_writable,
    "a symlink": _symlink,
}


@pytest.mark.parametrize("damage", list(CORRUPTIONS), ids=list(CORRUPTIONS))
def test_a_damaged_cache_file_is_detected_and_rebuilt(
    cache_home: Path, reference: tuple[object, ...], damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = cached_file(cache_home)
    key = path.stem
    CORRUPTIONS[damage](path)
    with caplog.at_level(logging.WARNING, logger="compliance.diskcache"):
        assert cache.load(key) is None
    assert "compliance cache" in caplog.text
    engine = Engine()  # never a crash …
    assert fingerprint(engine) == reference  # … never other rules
    healed = cache.load(key)  # the file was rewritten, and is good
    assert healed is not None and set(healed["packs"]) == set(engine.packs)
    assert fingerprint(Engine()) == reference  # served from the rebuilt cache
    assert not list(cache_home.glob(".tmp-*"))


def test_a_file_owned_by_someone_else_is_never_unpickled(cache_home: Path, reference: tuple[object, ...]) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give the file to another user")
    path = cached_file(cache_home)
    os.chown(path, 65534, 65534)
    assert cache.load(path.stem) is None
    assert fingerprint(Engine()) == reference


def test_a_directory_where_the_file_should_be(cache_home: Path, reference: tuple[object, ...]) -> None:
    path = cached_file(cache_home)
    path.unlink()
    path.mkdir()
    (path / "occupied").write_text("x")  # not empty: cannot be cleared
    assert fingerprint(Engine()) == reference
    assert fingerprint(Engine()) == reference
    assert path.is_dir() and not list(cache_home.glob(".tmp-*"))
    (path / "occupied").unlink()  # empty now: cleared and replaced by the file
    assert fingerprint(Engine()) == reference
    assert cache.load(path.stem) is not None


def test_the_cache_directory_path_is_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           reference: tuple[object, ...]) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("I am a file")
    monkeypatch.setenv("COMPLIANCE_CACHE_DIR", str(blocker))
    assert fingerprint(Engine()) == reference
    monkeypatch.setenv("COMPLIANCE_CACHE_DIR", str(blocker / "below"))
    assert fingerprint(Engine()) == reference
    assert blocker.read_text() == "I am a file"


@pytest.fixture
def read_only_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty, read-only cache directory (a read-only bind mount when running as root)."""
    source = tmp_path / "rw"
    source.mkdir()
    if os.geteuid() != 0:
        source.chmod(0o555)
        monkeypatch.setenv("COMPLIANCE_CACHE_DIR", str(source))
        yield source
        source.chmod(0o755)
        return
    view = tmp_path / "ro"
    view.mkdir()
    mounted = subprocess.run(["mount", "--bind", "-o", "ro", str(source), str(view)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"running as root and cannot bind-mount read-only: {mounted.stderr.decode().strip()}")
    monkeypatch.setenv("COMPLIANCE_CACHE_DIR", str(view))
    try:
        yield view
    finally:
        subprocess.run(["umount", str(view)], check=True)


def test_a_read_only_cache_directory(read_only_cache: Path, reference: tuple[object, ...],
                                     caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="compliance.diskcache"):
        assert fingerprint(Engine()) == reference
    assert "could not write" in caplog.text
    assert list(read_only_cache.iterdir()) == []


def test_a_full_disk_while_writing(cache_home: Path, monkeypatch: pytest.MonkeyPatch,
                                   reference: tuple[object, ...], caplog: pytest.LogCaptureFixture) -> None:
    """The temporary file's writes go to /dev/full (a real ENOSPC from the kernel)."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    real_mkstemp = cache.tempfile.mkstemp

    def mkstemp_on_a_full_disk(*args: object, **kwargs: object) -> tuple[int, str]:
        fd, name = real_mkstemp(*args, **kwargs)  # type: ignore[arg-type]
        full = os.open("/dev/full", os.O_WRONLY)
        os.dup2(full, fd)
        os.close(full)
        return fd, name

    monkeypatch.setattr(cache.tempfile, "mkstemp", mkstemp_on_a_full_disk)
    with caplog.at_level(logging.WARNING, logger="compliance.diskcache"):
        assert fingerprint(Engine()) == reference
    assert "No space left" in caplog.text
    assert list(cache_home.iterdir()) == []  # no half-written file, no temporary left behind
    monkeypatch.setattr(cache.tempfile, "mkstemp", real_mkstemp)  # space is back
    assert fingerprint(Engine()) == reference
    assert len(list(cache_home.glob("*.bin"))) == 1


def test_a_new_cache_directory_is_private(cache_home: Path) -> None:
    Engine()
    assert cache_home.stat().st_mode & 0o077 == 0
    (path,) = cache_home.glob("*.bin")
    assert path.stat().st_mode & 0o077 == 0


def test_marshal_round_trip_is_what_the_cache_stores(cache_home: Path) -> None:
    """The cached code objects are the compiled packs (a guard on the format the tests forge)."""
    path = cached_file(cache_home)
    build = pickle.loads(path.read_bytes()[header_length(path):])
    assert all(isinstance(marshal.loads(code), type(compile("1", "x", "eval"))) for code in build["code"].values())
