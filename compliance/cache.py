"""On-disk cache of checked and compiled packs, keyed by a hash of everything they depend on.

A pre-commit hook starts often: parsing and checking every built-in pack on each start would
cost more than the lint itself. The cache file holds the checked packs, generated sources and
marshalled code objects. Its payload is protected by a SHA-256 digest; a file that is
truncated, corrupted or written by another version is ignored and rebuilt, never trusted.

Location: ``$COMPLIANCE_CACHE_DIR``, else ``$XDG_CACHE_HOME/compliance``, else
``~/.cache/compliance``. ``COMPLIANCE_NO_CACHE=1`` turns it off.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any

MAGIC = b"COMPLIANCE-CACHE-1\n"


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
    """The cached build for key, or None (missing, corrupted or unreadable: rebuilt by caller)."""
    directory = cache_dir()
    if directory is None:
        return None
    path = directory / f"{key}.bin"
    try:
        data = path.read_bytes()
    except OSError:
        return None
    header_end = len(MAGIC) + 65
    if not data.startswith(MAGIC) or len(data) < header_end:
        _discard(path)
        return None
    digest = data[len(MAGIC) : len(MAGIC) + 64].decode("ascii", "replace")
    payload = data[header_end:]
    if hashlib.sha256(payload).hexdigest() != digest:
        _discard(path)
        return None
    try:
        build = pickle.loads(payload)  # noqa: S301 - our own file, verified by digest above
        build["code"] = {name: marshal.loads(code) for name, code in build["code"].items()}
        return build
    except Exception:  # noqa: BLE001 - any failure means: rebuild
        _discard(path)
        return None


def store(key: str, build: dict[str, Any]) -> None:
    """Write a build atomically (temp file + rename); failures only cost the next start."""
    directory = cache_dir()
    if directory is None:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
        payload = pickle.dumps({**build, "code": {n: marshal.dumps(c) for n, c in build["code"].items()}},
                               protocol=pickle.HIGHEST_PROTOCOL)
        header = MAGIC + hashlib.sha256(payload).hexdigest().encode("ascii") + b"\n"
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".bin")
        with os.fdopen(fd, "wb") as handle:
            handle.write(header + payload)
        os.replace(tmp, directory / f"{key}.bin")
    except OSError:
        return


def _discard(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
