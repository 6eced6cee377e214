"""On-disk cache of checked and compiled packs, keyed by a hash of everything they depend on.

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
    directory = cache_dir()
    if directory is None:
        return None
    path = directory / f"{key}.bin"
    data = _read_trusted(path)
    if data is None:
        return None
    header = MAGIC + b"0" * 64 + b"\n" + key.encode("ascii") + b"\n"
    if not data.startswith(MAGIC) or len(data) < len(header):
        return _reject(path, "not a cache file of this version")
    digest = data[len(MAGIC) : len(MAGIC) + 64].decode("ascii", "replace")
    if data[len(MAGIC) + 64 : len(header)] != header[len(MAGIC) + 64 :]:
        return _reject(path, "built for another key")
    payload = data[len(header) :]
    if hashlib.sha256(payload).hexdigest() != digest:
        return _reject(path, "digest mismatch (truncated or corrupted)")
    try:
        build = pickle.loads(payload)  # noqa: S301 - our own file: owner-only, digest verified
        build["code"] = {name: marshal.loads(code) for name, code in build["code"].items()}
    except Exception as exc:  # noqa: BLE001 - any failure means: rebuild
        return _reject(path, f"unreadable payload ({type(exc).__name__})")
    if not _is_build(build):
        return _reject(path, "payload is not a build")
    return build  # type: ignore[no-any-return]


def store(key: str, build: dict[str, Any]) -> None:
    """Write a build atomically (temp file + rename). Never raises: a failure (read-only or
    full disk, a directory in the way) is logged and costs only the next start."""
    directory = cache_dir()
    if directory is None:
        return
    tmp: str | None = None
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        payload = pickle.dumps({**build, "code": {n: marshal.dumps(c) for n, c in build["code"].items()}},
                               protocol=pickle.HIGHEST_PROTOCOL)
        header = MAGIC + hashlib.sha256(payload).hexdigest().encode("ascii") + b"\n" + key.encode("ascii") + b"\n"
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".bin")
        with os.fdopen(fd, "wb") as handle:
            handle.write(header + payload)
        os.replace(tmp, directory / f"{key}.bin")
        tmp = None
    except Exception as exc:  # noqa: BLE001 - the cache is an optimisation, never a failure
        log.warning("compiled-pack cache: could not write %s (%s); running without it", directory, exc)
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
        log.warning("compiled-pack cache: cannot read %s (%s); rebuilding", path, exc)
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            if stat.S_ISDIR(info.st_mode):
                try:
                    path.rmdir()  # an empty directory in the way: make room for the file
                except OSError:
                    pass
            log.warning("compiled-pack cache: %s is not a regular file; ignored", path)
            return None
        if hasattr(os, "geteuid") and (info.st_uid != os.geteuid() or info.st_mode & 0o022):
            log.warning("compiled-pack cache: %s is owned by someone else or writable by others; "
                        "ignored (unpickling it could run their code)", path)
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    except OSError as exc:
        log.warning("compiled-pack cache: cannot read %s (%s); rebuilding", path, exc)
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
    log.warning("compiled-pack cache: %s: %s; rebuilding", path, why)
    _discard(path)
    return None


def _discard(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
