"""On-disk cache of checked and compiled packs (and of the normalizer's tables, the built-in
lexicons and the regex compiler's output: `compliance.recache`), keyed by a hash of everything
they depend on.

A pre-commit hook starts often: parsing and checking every built-in pack on each start would
cost more than the lint itself. The cache file holds the checked packs, generated sources and
marshalled code objects.

Never trusted, never fatal:

* the payload is protected by a SHA-256 digest and names the key it was built for; a file
  that is truncated, corrupted, of another version or another key, or whose contents are not
  a build, is deleted and rebuilt;
* the file is unpickled only if it is a regular file (not a symlink) owned by the current
  user and writable by no one else, since unpickling runs code: a cache directory others can
  write to cannot be used to run code as this user (such a file is ignored, with a warning);
* any failure to read or write (a directory where the file should be, the cache directory
  path is a file, a read-only directory, a full disk) costs only the time to rebuild: the
  engine works without the cache and logs a warning; no temporary file is left behind.

Location: ``$COMPLIANCE_CACHE_DIR``, else ``$XDG_CACHE_HOME/compliance``, else
``~/.cache/compliance`` (created ``0700``). ``COMPLIANCE_NO_CACHE=1`` turns it off.
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
import pickle
import stat
import sys
import tempfile
import types
from pathlib import Path
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

MAGIC = b"COMPLIANCE-CACHE-2\n"
#: What a build holds: the same pack names in each of these mappings.
BUILD_KEYS = ("packs", "compiled", "code")


def cache_dir() -> Path | None:
    """Where compiled packs are cached, or None when caching is off."""
    if os.environ.get("COMPLIANCE_NO_CACHE"):
        return None
    explicit = os.environ.get("COMPLIANCE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "compliance"


def cache_key(*parts: str | bytes) -> str:
    """A digest of every input of a build (sources, grammar, compiler version, parameters)."""
    digest = hashlib.sha256()
    digest.update(sys.version.encode())
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def load(key: str) -> dict[str, Any] | None:
    """The cached build for key, or None (missing, corrupted, untrusted or unreadable: the
    caller rebuilds). A damaged file is deleted; this never raises."""

    def decode(build: Any) -> Any:
        build["code"] = {name: marshal.loads(code) for name, code in build["code"].items()}
        return build

    return load_object(key, _is_build, decode)  # type: ignore[no-any-return]


def load_object(key: str, valid: Callable[[Any], bool], decode: Callable[[Any], Any] | None = None) -> Any | None:
    """The object stored under ``key`` by `store_object`, or None.

    None when there is none, and also — after deleting the file — when it is damaged (another
    version or key, a digest mismatch, a payload that does not unpickle, ``decode`` raises, or
    ``valid`` says no), or untrusted (not a regular file owned by us and writable by no one
    else: it is then left alone, with a warning). Never raises.
    """
    directory = cache_dir()
    if directory is None:
        return None
    path = directory / f"{key}.bin"
    data = _read_trusted(path)
    if data is None:
        return None
    header = MAGIC + b"0" * 64 + b"\n" + key.encode("ascii") + b"\n"
    if not data.startswith(MAGIC) or len(data) < len(header):
        _reject(path, "not a cache file of this version")
        return None
    digest = data[len(MAGIC) : len(MAGIC) + 64].decode("ascii", "replace")
    if data[len(MAGIC) + 64 : len(header)] != header[len(MAGIC) + 64 :]:
        _reject(path, "built for another key")
        return None
    payload = data[len(header) :]
    if hashlib.sha256(payload).hexdigest() != digest:
        _reject(path, "digest mismatch (truncated or corrupted)")
        return None
    try:
        obj = pickle.loads(payload)  # noqa: S301 - our own file: owner-only, digest verified
        if decode is not None:
            obj = decode(obj)
    except Exception as exc:  # noqa: BLE001 - any failure means: rebuild
        _reject(path, f"unreadable payload ({type(exc).__name__})")
        return None
    if not valid(obj):
        _reject(path, "payload is not what this key holds")
        return None
    return obj


def store(key: str, build: dict[str, Any]) -> None:
    """Write a build atomically (temp file + rename). Never raises: a failure (read-only or
    full disk, a directory in the way) is logged and costs only the next start."""
    store_object(key, {**build, "code": {n: marshal.dumps(c) for n, c in build["code"].items()}})


def store_object(key: str, obj: Any) -> None:
    """Pickle ``obj`` under ``key`` atomically (temp file + rename), with the digest and key
    header `load_object` checks. Never raises: a failure is logged and costs a rebuild."""
    directory = cache_dir()
    if directory is None:
        return
    tmp: str | None = None
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        header = MAGIC + hashlib.sha256(payload).hexdigest().encode("ascii") + b"\n" + key.encode("ascii") + b"\n"
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".bin")
        with os.fdopen(fd, "wb") as handle:
            handle.write(header + payload)
        os.replace(tmp, directory / f"{key}.bin")
        tmp = None
    except Exception as exc:  # noqa: BLE001 - the cache is an optimisation, never a failure
        log.warning("compliance cache: could not write %s (%s); running without it", directory, exc)
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _read_trusted(path: Path) -> bytes | None:
    """The file's bytes if it is a regular file owned by us and writable by no one else."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("compliance cache: cannot read %s (%s); rebuilding", path, exc)
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            if stat.S_ISDIR(info.st_mode):
                try:
                    path.rmdir()  # an empty directory in the way: make room for the file
                except OSError:
                    pass
            log.warning("compliance cache: %s is not a regular file; ignored", path)
            return None
        if hasattr(os, "geteuid") and (info.st_uid != os.geteuid() or info.st_mode & 0o022):
            log.warning("compliance cache: %s is owned by someone else or writable by others; "
                        "ignored (unpickling it could run their code)", path)
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    except OSError as exc:
        log.warning("compliance cache: cannot read %s (%s); rebuilding", path, exc)
        return None
    finally:
        os.close(fd)


def _is_build(build: Any) -> bool:
    if not isinstance(build, dict) or any(not isinstance(build.get(k), dict) for k in BUILD_KEYS):
        return False
    names = set(build["packs"])
    return (names == set(build["compiled"]) == set(build["code"])
            and all(isinstance(c, types.CodeType) for c in build["code"].values()))


def _reject(path: Path, why: str) -> None:
    log.warning("compliance cache: %s: %s; rebuilding", path, why)
    _discard(path)


def _discard(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
