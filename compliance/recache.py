"""Regular expressions that compile fast at start-up: the regex compiler's output cached on disk.

`re.compile` parses a pattern and generates its matching code in Python, then hands the code
to the C engine (``_sre.compile``). For the few hundred patterns a lint compiles at import —
the normalizer's character tables, the scanners' cue words, the lexicons' patterns — that
Python half costs about a third of a short `compliance lint` run (issue 13). `compile` keeps
the generated code of every pattern it compiled in the on-disk cache (`compliance.cache`) and,
in the next process, passes it straight to ``_sre.compile``: the same pattern object `re`
would build, without the parsing.

Never trusted, never fatal:

* the entry lives under `compliance.cache`'s rules (a SHA-256 digest, the key it was built for,
  a file owned by this user and writable by no one else; a damaged entry is deleted and
  rebuilt); its key names the interpreter (``sys.version``) and the regex engine
  (``_sre.MAGIC``, ``_sre.CODESIZE``), so code is never handed to another engine;
* ``_sre.compile`` validates the code it is given; a cached entry it refuses (or any other
  failure) is compiled afresh by `re` and replaced;
* where the regex internals differ from what this module expects (another Python), every
  pattern goes through `re.compile` and nothing is cached.

New patterns are written when the process exits, to the cache directory the entries were
read from (if it is still the current one).
"""

from __future__ import annotations

import atexit
import re
import threading
from typing import Any

try:  # the regex engine's internals (CPython 3.11+): without them, plain re.compile
    import _sre  # type: ignore[import-not-found]
    from re import _compiler, _parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - another implementation
    _sre = None  # type: ignore[assignment]

#: (pattern, flags) → the arguments of ``_sre.compile`` after the pattern.
_Entry = tuple[int, list[int], int, dict[str, int], tuple[Any, ...]]

#: Most patterns kept in the cache entry (a few hundred are in use; the rest are patterns of
#: earlier versions or of other programs' lexicons, dropped when the entry grows past this).
MAX_ENTRIES = 4096

_lock = threading.Lock()
_entries: dict[tuple[str, int], _Entry] | None = None
_added: dict[tuple[str, int], _Entry] = {}
_used: set[tuple[str, int]] = set()
_directory: Any = None
_save_registered = False


def compile(pattern: str, flags: int | re.RegexFlag = 0) -> re.Pattern[str]:  # noqa: A001 - as re.compile
    """`re.compile(pattern, flags)`, from cached compiler output when there is some."""
    flags = int(flags)
    if _sre is None or not isinstance(pattern, str):
        return re.compile(pattern, flags)
    key = (pattern, flags)
    entries = _load()
    entry = entries.get(key)
    if entry is None:
        entry = _added.get(key)
    if entry is not None:
        try:
            compiled = _sre.compile(pattern, *entry)
        except Exception:  # noqa: BLE001 - refused or damaged code: compile afresh
            pass
        else:
            _used.add(key)
            return compiled  # type: ignore[no-any-return]
    try:
        entry = _generate(pattern, flags)
        compiled = _sre.compile(pattern, *entry)
    except re.error:
        raise
    except Exception:  # noqa: BLE001 - internals not as expected: the plain way, uncached
        return re.compile(pattern, flags)
    with _lock:
        _added[key] = entry
        _register_save()
    return compiled  # type: ignore[no-any-return]


def _generate(pattern: str, flags: int) -> _Entry:
    """What `re._compiler.compile` passes to ``_sre.compile`` after the pattern."""
    parsed = _parser.parse(pattern, flags)
    code = _compiler._code(parsed, flags)
    groupindex = dict(parsed.state.groupdict)
    indexgroup: list[str | None] = [None] * parsed.state.groups
    for name, index in groupindex.items():
        indexgroup[index] = name
    # int(): the opcodes are int subclasses (named constants) that do not pickle
    return (int(flags | parsed.state.flags), [int(c) for c in code], parsed.state.groups - 1, groupindex,
            tuple(indexgroup))


def _key() -> str:
    from compliance import cache

    return cache.cache_key("regex-code-1", str(_sre.MAGIC), str(_sre.CODESIZE))


def _valid(data: object) -> bool:
    """Is ``data`` shaped like the entries (the code itself is checked by ``_sre.compile``)?"""
    if not isinstance(data, dict):
        return False
    for key, entry in data.items():
        if not (isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], str) and type(key[1]) is int):
            return False
        if not (isinstance(entry, tuple) and len(entry) == 5 and type(entry[0]) is int
                and isinstance(entry[1], list) and type(entry[2]) is int
                and isinstance(entry[3], dict) and isinstance(entry[4], tuple)):
            return False
    return True


def _load() -> dict[tuple[str, int], _Entry]:
    global _entries, _directory
    entries = _entries
    if entries is None:
        with _lock:
            if _entries is None:
                from compliance import cache

                _directory = cache.cache_dir()
                loaded = cache.load_object(_key(), _valid) if _directory is not None else None
                _entries = loaded if loaded is not None else {}
            entries = _entries
    return entries


def _register_save() -> None:
    global _save_registered
    if not _save_registered:
        _save_registered = True
        atexit.register(save)


def save() -> None:
    """Store the patterns compiled since the entry was read (run at exit; never raises)."""
    from compliance import cache

    with _lock:
        if not _added or _entries is None or _directory is None or cache.cache_dir() != _directory:
            return
        merged = {**_entries, **_added}
        if len(merged) > MAX_ENTRIES:
            merged = {key: merged[key] for key in (_used | _added.keys())}
        try:
            cache.store_object(_key(), merged)
        except Exception:  # noqa: BLE001 - an optimisation, never a failure
            return
        _entries.update(_added)
        _added.clear()
