"""Text folding for lexicon matching, with an offset map back to the original text.

`normalize` folds a message so that one Aho-Corasick pass over the folded text catches the
variants a copywriter (or an evader) can produce:

* NFKC width/compatibility folding (``ＶＸ`` → ``vx``, ``⼀`` → ``一``), applied per character so
  every folded character knows which original character it came from;
* traditional → simplified Chinese, using a character table derived once from OpenCC ``t2s``
  (OpenCC's phrase conversion may change the length of a string; the character table cannot);
* Latin case folding to lower case, plus a handful of Cyrillic/Greek letters that look exactly
  like Latin ones (``ВХ`` → ``vx``);
* removal of invisible characters (zero-width space/joiners, BOM, word joiner, soft hyphen,
  bidi controls, control characters such as NUL; see `INVISIBLE`) anywhere, and of separator
  runs (spaces, ``* · _ - . / | ~``…, and decorative symbols and emoji such as ``★ ❤ ◆ 😀``)
  *between* two CJK characters (``薇❤信``, ``最★低★价``),
  or between a CJK character and a Latin token of at most two letters (``加 V 信``, ``JD 官方``),
  or between two single Latin letters (``J D官方``, ``Q Q 12345678``); next to Latin letters
  only spaces and marks that do not occur in URLs are removed. Separators inside URLs, numbers
  and English phrases are kept (``点击 https://m.jd.com``, ``1-3``, ``hello world``).
* full-width ``，！？：；（）`` and the ideographic space are left alone: no lexicon term
  contains them, and folding them would push nearly every Chinese message off the fast path.

* look-alike characters: a rare character that spam writes for the common one it resembles
  (``偍高`` → ``提高``, ``媬分锞程`` → ``保分课程``), one character for one, from the data file
  ``compliance/lexicons/scanners/lookalike.toml`` (see `LOOKALIKE_PATH`). They are part of the
  same translate table, so they cost nothing extra and keep the offset map exact.

Look-alike *words* (威信, 薇信, V信 for 微信) are not folded here: they are ordinary entries of the
``contact`` lexicon, so each carries its own note and examples and policy stays data.

Offsets: ``Normalized.offsets[i]`` is the index in the original text of the character that
folded character ``i`` came from (``offsets[len(text)] == len(original)``); the sequence is
non-decreasing. `Normalized.span` maps a folded span to the smallest original span that
covers it, so a hit on ``最低价`` in ``最*低*价`` points at the whole ``最*低*价``.

Typical text takes the fast path: ASCII text is lower-cased, and CJK text without
length-changing characters or separators between CJK is folded by one ``str.translate`` and
keeps an identity offset map (no per-character Python loop).
"""

from __future__ import annotations

import importlib.util
import os
import re
import threading
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from itertools import accumulate
from pathlib import Path
from typing import Any
from dataclasses import dataclass

from compliance import recache

__all__ = ["Normalized", "normalize", "fold_char", "fold_with_origin"]

#: Characters nobody can see; removed wherever they occur (they split words for evasion and
#: carry no meaning for matching; ZWJ inside emoji sequences is irrelevant to lexicon terms):
#: zero-width space/joiners, word joiner, BOM, soft hyphen, combining grapheme joiner,
#: Mongolian vowel separator, invisible math operators, bidi marks, embeddings, overrides and
#: isolates (``最\u202e低价``), and the control characters that are not whitespace (NUL…).
#: Text is matched in logical (stored) order: a bidi override that makes other text *display*
#: as a term is not undone.
INVISIBLE = (
    "\u00ad\u034f\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
    + "".join(map(chr, [*range(0x00, 0x09), *range(0x0E, 0x1C), 0x7F, *range(0x80, 0x85), *range(0x86, 0xA0)]))
)
#: The ASCII ones: ASCII text without them folds by lower-casing alone.
_ASCII_INVISIBLE = recache.compile("[\x00-\x08\x0e-\x1b\x7f]")

#: Decorative symbols an evader puts between the characters of a word (薇❤信, 最★低★价):
#: reference mark ※, arrows, geometric shapes ◆●, miscellaneous symbols and dingbats ★♥❤✿,
#: further arrows and stars, emoji, and the emoji variation selector. Between two CJK
#: characters they are separators; next to Latin text they are not (see below).
_SYMBOL_SEPARATORS = "\u203b\u2190-\u21ff\u25a0-\u27bf\u2b00-\u2bff\ufe0f\U0001f000-\U0001faff"
#: Separator characters (checked after width folding, so ＊．／｜ are covered by * . / |).
#: A run of them is removed when it stands between two CJK characters.
_SEPARATOR_RUN = recache.compile(rf"[\s*·・•‧_\-./|~～{_SYMBOL_SEPARATORS}]+")
#: Between a CJK character and a short Latin token (``加 V 信``, ``JD 官方``) only these are
#: removed: no ``.`` or ``/`` so that URLs and file names next to Chinese text stay intact.
_LATIN_SIDE_SEPARATORS = frozenset(" \t*·・•‧_-|~～\u3000")
#: Longest Latin token glued to neighbouring Chinese (``vx``, ``qq``, ``jd``); longer runs are
#: English words or URLs (``点击 https://…``) and keep their spacing.
_MAX_GLUED_LATIN = 2

#: NFKC-changed punctuation that ordinary Chinese text is full of. No lexicon term contains
#: it, so it is left as is: folding it would send nearly every message off the fast path.
_KEEP_AS_IS = frozenset("，！？：；（）\u3000～")

#: Letters from other scripts that are pixel-identical to Latin letters in common fonts.
#: Applied after lower-casing; only unambiguous look-alikes, so Cyrillic/Greek words still
#: fold to something stable (they are not lexicon material either way).
_HOMOGLYPHS = {
    "а": "a", "в": "v", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԛ": "q",
    "ԝ": "w", "α": "a", "ο": "o", "ν": "v", "ρ": "p", "τ": "t", "χ": "x", "ι": "i",
    "κ": "k",
}  # fmt: skip

#: Code point ranges whose NFKC/case/t2s folding is computed. Everything else is kept as is.
_FOLD_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0xD800),
    (0xE000, 0x10000),
    (0x1D400, 0x1D800),  # mathematical alphanumerics: 𝐕𝐗
    (0x1F100, 0x1F200),  # enclosed alphanumeric supplement: 🄵, 🅅
    (0x2F800, 0x2FA20),  # CJK compatibility ideographs supplement
)
_T2S_RANGES: tuple[tuple[int, int], ...] = ((0x3400, 0x4DC0), (0x4E00, 0xA000))

#: The look-alike table (policy is data): rare character -> the common character it imitates.
LOOKALIKE_PATH = Path(__file__).resolve().parent.parent / "lexicons" / "scanners" / "lookalike.toml"


def lookalike_entries(source: bytes | None = None) -> dict[str, tuple[str, str]]:
    """The look-alike table: key character -> (the character it imitates, note).

    Read from ``source`` (the bytes of a TOML file of the `LOOKALIKE_PATH` format) or from
    `LOOKALIKE_PATH`. Raises ValueError for a malformed entry: a key or value that is not one
    character, or a missing note.
    """
    import tomllib  # here: a process that loads the cached tables never parses the file

    data = tomllib.loads((LOOKALIKE_PATH.read_bytes() if source is None else source).decode("utf-8"))
    entries: dict[str, tuple[str, str]] = {}
    for key, entry in data.get("fold", {}).items():
        if not isinstance(entry, dict):
            raise ValueError(f"look-alike {key!r}: expected a table with 'to' and 'note'")
        to, note = entry.get("to"), entry.get("note")
        if len(key) != 1 or not isinstance(to, str) or len(to) != 1 or not isinstance(note, str) or not note.strip():
            raise ValueError(f"look-alike {key!r}: need one character folding to one character, with a note")
        entries[key] = (to, note)
    return entries


@dataclass(frozen=True, slots=True)
class _Tables:
    """Per-character fold tables, built once per process."""

    fold: dict[int, str]  # for str.translate: code point -> folded string ("" = delete)
    # Runs of characters that may fold. BMP keys form one bitmap class (fast scan in C); all
    # astral characters are included wholesale because a class with scattered astral ranges
    # is several times slower to scan, and translating an emoji to itself costs nothing.
    fold_runs: re.Pattern[str]
    # Characters whose fold is not exactly one character ("" or an expansion). A run can keep
    # its total length while its characters do not (an invisible char next to ﬁ).
    length_changing: frozenset[str]
    # Finds any of `length_changing`: text without one keeps the identity offset map, and
    # is folded by `fold_runs.sub` without bookkeeping (one C-level search decides it).
    length_changing_re: re.Pattern[str]
    # ``fold_runs.sub`` callback: one folded run.
    fold_match: Callable[[re.Match[str]], str]
    # Any character that may fold other than A-Z, or that ``str.lower`` would change: text
    # without one folds exactly as ``text.lower()`` (the common case of Chinese text with
    # Latin capitals, ``PHONE``/``URL``/``VIP``), in C.
    beyond_lower_re: re.Pattern[str]


_tables_lock = threading.Lock()
_tables_cache: _Tables | None = None


def _t2s_table() -> dict[str, str]:
    """Traditional → simplified, one character at a time, derived from OpenCC ``t2s``.

    Converting a newline-joined list of single characters in one call gives OpenCC's default
    character mapping (its phrase table never spans a newline) at a cost of a few ms.
    """
    import opencc  # imported here: only the first normalize() of a process pays for it

    try:
        converter = opencc.OpenCC("t2s")
    except Exception:  # older builds of the binding want the file name
        converter = opencc.OpenCC("t2s.json")
    chars = [chr(cp) for lo, hi in _T2S_RANGES for cp in range(lo, hi)]
    converted = converter.convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # pragma: no cover - would mean OpenCC merged lines
        raise RuntimeError("OpenCC t2s changed the number of lines; cannot derive a char table")
    # A one-to-many result would break the per-character offset map; OpenCC has none today,
    # and keeping the traditional character is the safe fallback if a future version adds one.
    return {a: b for a, b in zip(chars, converted, strict=True) if a != b and len(b) == 1}


def _fold_uncached(ch: str, t2s: dict[str, str], lookalike: dict[str, str] | None = None) -> str:
    """Fold one character (NFKC, lower case, homoglyphs, t2s; a look-alike character first, to
    the character it imitates) without the tables."""
    if ch in INVISIBLE:
        return ""
    if lookalike and ch in lookalike:
        return lookalike[ch]
    folded = unicodedata.normalize("NFKC", ch).lower()
    return "".join(t2s.get(c, _HOMOGLYPHS.get(c, c)) for c in folded)


def _table_data() -> tuple[dict[int, str], str, str, str]:
    """What the tables are made of: the fold map and the bodies of the three character
    classes (plain values, so they can be cached on disk; see `_tables`)."""
    t2s = _t2s_table()
    lookalike = {key: to for key, (to, _) in lookalike_entries().items()}
    fold: dict[int, str] = {}
    for lo, hi in _FOLD_RANGES:
        for cp in range(lo, hi):
            ch = chr(cp)
            if ch in _KEEP_AS_IS:
                continue
            folded = _fold_uncached(ch, t2s, lookalike)
            if folded != ch:
                fold[cp] = folded
    bmp_keys = sorted(cp for cp in fold if cp < 0x10000)
    changing = sorted(cp for cp, f in fold.items() if len(f) != 1)
    # Everything `fold` maps except A-Z, plus what lower() alone would change (none today,
    # but then text.lower() stays exact whatever a future Unicode version does).
    beyond_lower = sorted(
        {cp for cp in bmp_keys if not 0x41 <= cp <= 0x5A}
        | {cp for cp in range(0x80, 0x10000) if not 0xD800 <= cp < 0xE000 and chr(cp).lower() != chr(cp)}
    )
    return fold, _char_class(bmp_keys), _char_class(changing), _char_class(beyond_lower)


def _valid_table_data(data: object) -> bool:
    """Is ``data`` shaped like `_table_data`'s result (a cached entry is checked, not trusted)?"""
    if not isinstance(data, tuple) or len(data) != 4 or not isinstance(data[0], dict):
        return False
    fold = data[0]
    return (all(isinstance(c, str) for c in data[1:]) and len(fold) > 1000
            and all(type(k) is int and type(v) is str for k, v in fold.items()))


def _build_tables(data: tuple[dict[int, str], str, str, str] | None = None) -> _Tables:
    fold, bmp_class, changing_class, beyond_lower_class = data if data is not None else _table_data()

    def fold_match(match: re.Match[str]) -> str:
        return match[0].translate(fold)

    return _Tables(
        fold=fold,
        # "[c][c]*", not "[c]+": `re` skips ahead in C only when a pattern starts with a set.
        fold_runs=recache.compile("{0}{0}*".format(f"[{bmp_class}\U00010000-\U0010ffff]")),
        length_changing=frozenset(chr(cp) for cp, f in fold.items() if len(f) != 1),
        length_changing_re=recache.compile(f"[{changing_class}]"),
        fold_match=fold_match,
        beyond_lower_re=recache.compile(f"[{beyond_lower_class}\U00010000-\U0010ffff]"),
    )


def _tables_key() -> str:
    """The cache key of the tables: everything they are derived from — this module's code and
    data (its file), the look-alike table (`LOOKALIKE_PATH`), the Unicode database, OpenCC's
    installed files — so a changed input is a new key."""
    from compliance import diskcache as cache

    source = Path(__file__).read_bytes()
    return cache.cache_key(
        "normalize-tables-3", source, LOOKALIKE_PATH.read_bytes(), unicodedata.unidata_version, _opencc_identity()
    )


def _opencc_identity() -> str:
    """OpenCC as installed: every file of its package (path, size, modification time), found
    without importing it or `importlib.metadata` (which alone costs ~15 ms of a short lint's
    start): an upgraded or reinstalled OpenCC is a new key."""
    spec = importlib.util.find_spec("opencc")
    if spec is None:  # pragma: no cover - a required dependency
        return "opencc: not installed"
    parts = [str(spec.origin)]
    for top in spec.submodule_search_locations or ():
        for directory, subdirectories, files in os.walk(top):
            subdirectories[:] = sorted(d for d in subdirectories if d != "__pycache__")
            for name in sorted(files):
                path = os.path.join(directory, name)
                info = os.stat(path)
                parts.append(f"{os.path.relpath(path, top)}:{info.st_size}:{info.st_mtime_ns}")
    return "\n".join(parts)


def _load_tables() -> _Tables:
    """The tables from the on-disk cache (`compliance.diskcache`: same trust and integrity rules
    as the compiled packs), else built and stored (~0.2 s to build, ~25 ms to load)."""
    from compliance import diskcache as cache

    try:
        key = _tables_key()
    except OSError:
        return _build_tables()
    data = cache.load_object(key, _valid_table_data)
    if data is None:
        data = _table_data()
        cache.store_object(key, data)
    return _build_tables(data)


def _char_class(codepoints: Sequence[int]) -> str:
    """A regex character class body for sorted code points, compressed into ranges."""
    parts: list[str] = []
    i = 0
    while i < len(codepoints):
        j = i
        while j + 1 < len(codepoints) and codepoints[j + 1] == codepoints[j] + 1:
            j += 1
        lo, hi = re.escape(chr(codepoints[i])), re.escape(chr(codepoints[j]))
        parts.append(lo if i == j else f"{lo}-{hi}")
        i = j + 1
    return "".join(parts)


def _tables() -> _Tables:
    global _tables_cache
    tables = _tables_cache
    if tables is None:
        with _tables_lock:
            if _tables_cache is None:
                _tables_cache = _load_tables()
            tables = _tables_cache
    return tables


def fold_char(ch: str) -> str:
    """Fold a single character exactly as `normalize` folds it (possibly to "" or to 2+ chars)."""
    return _tables().fold.get(ord(ch), ch)


class Normalized:
    """Folded text plus the map from folded positions back to the original text.

    Attributes:
        original: the text given to `normalize`.
        text: the folded text (what lexicon terms are matched against).
    """

    __slots__ = ("original", "text", "_origin")

    def __init__(self, original: str, text: str, origin: Sequence[int] | None) -> None:
        self.original = original
        self.text = text
        # origin[i] = original index of folded char i; None means the identity map.
        self._origin = origin

    @property
    def is_identity(self) -> bool:
        """True when folded position ``i`` is original position ``i`` for every ``i``."""
        return self._origin is None

    @property
    def offsets(self) -> Sequence[int]:
        """Original index for each folded index, plus ``len(original)`` at the end.

        Non-decreasing, ``len(offsets) == len(text) + 1``.
        """
        if self._origin is None:
            return range(len(self.text) + 1)
        return (*self._origin, len(self.original))

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map the folded span ``[start, end)`` to the original span that produced it.

        The result covers every original character that contributed to the folded span and
        any separators removed between them; an empty span maps to an empty span.
        """
        if not 0 <= start <= end <= len(self.text):
            raise IndexError(f"span [{start}, {end}) outside folded text of length {len(self.text)}")
        origin = self._origin
        if origin is None:
            return start, end
        n = len(self.text)
        o_start = origin[start] if start < n else len(self.original)
        if end == start:
            return o_start, o_start
        return o_start, origin[end - 1] + 1

    def __repr__(self) -> str:
        return f"Normalized(text={self.text!r}, identity={self.is_identity})"


def _is_cjk(ch: str) -> bool:
    return (
        "\u4e00" <= ch <= "\u9fff"
        or "\u3400" <= ch <= "\u4dbf"
        or "\uf900" <= ch <= "\ufaff"
        or ch == "\u3010"
        or ch == "\u3011"
        or "\U00020000" <= ch <= "\U0003134f"
    )


def _is_latin(ch: str) -> bool:
    return "a" <= ch <= "z"


def _short_latin_run(text: str, start: int, step: int, longest: int = _MAX_GLUED_LATIN) -> bool:
    """Is the run of Latin letters beginning at ``start`` (walking by ``step``) at most
    ``longest`` letters long, and not part of something longer (``a.b``, ``ab1``)?"""
    n = 0
    i = start
    while 0 <= i < len(text) and _is_latin(text[i]):
        n += 1
        if n > longest:
            return False
        i += step
    # A token glued to a URL-ish neighbour (``a.b``) is part of something longer.
    return not (0 <= i < len(text) and (text[i].isalnum() and text[i].isascii() or text[i] in "./:@"))


def _removable(text: str, start: int, end: int) -> bool:
    """May the separator run ``text[start:end]`` be removed (see module docstring)?

    The readable definition. `normalize` uses `_REMOVABLE_SPLIT`, one regex that finds exactly
    the maximal separator runs this accepts (the tests check they agree): calling this for
    every separator run cost ~9 µs per word-segmented message, the regex ~2 µs.
    """
    before, after = text[start - 1], text[end]
    if _is_latin(before) and _is_latin(after):
        # Spelled-out letters (J D官方, Q Q 12345678): two single letters.
        return (
            _short_latin_run(text, start - 1, -1, longest=1)
            and _short_latin_run(text, end, 1, longest=1)
            and all(c in _LATIN_SIDE_SEPARATORS for c in text[start:end])
        )
    if _is_cjk(before):
        if _is_cjk(after):
            return True
        return (
            _is_latin(after)
            and _short_latin_run(text, end, 1)
            and all(c in _LATIN_SIDE_SEPARATORS for c in text[start:end])
        )
    return (
        _is_latin(before)
        and _is_cjk(after)
        and _short_latin_run(text, start - 1, -1)
        and all(c in _LATIN_SIDE_SEPARATORS for c in text[start:end])
    )


#: Exactly the characters ``\s`` matches in a str pattern (a test checks every code point).
_WHITESPACE = "\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


def _removable_run_pattern() -> str:
    """The maximal separator runs `_removable` accepts, as one regex (its source; flags
    `re.DOTALL`).

    It starts with the separator class, so `re` skips to candidates in C; lookbehinds then
    test the consumed first separator together with the character before it:

    * CJK ``sep+`` CJK;
    * CJK ``lsep+`` then a Latin run of 1-2 letters not followed by ``[A-Za-z0-9./:@]``;
    * a Latin run of 1-2 letters not preceded by ``[A-Za-z0-9./:@]``, ``lsep+``, CJK;
    * a single Latin letter not preceded by ``[A-Za-z0-9./:@]``, ``lsep+``, a single Latin
      letter not followed by one (``j d``, ``q q``);

    where ``sep`` is `_SEPARATOR_RUN`'s class and ``lsep`` `_LATIN_SIDE_SEPARATORS`. A match
    can only begin right after a non-separator and end right before one, so it is always a
    maximal run, as in `_removable`. (Folded text is lower case: ``[a-z]`` is every letter.)
    """
    cjk = "\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff\u3010\u3011\U00020000-\U0003134f"
    # The class body of "[...]+", with \s spelled out: a class of plain ranges is one
    # bitmap lookup per character, while the \s category is a Unicode database call.
    sep = _SEPARATOR_RUN.pattern[1:-2].replace(r"\s", _WHITESPACE)
    lsep = "".join(re.escape(c) for c in sorted(_LATIN_SIDE_SEPARATORS))
    url = "A-Za-z0-9./:@"  # what makes a Latin token part of something longer (a.b, ab1)
    return (
        rf"[{sep}](?:"
        rf"(?<=[{cjk}].)(?:[{sep}]*(?=[{cjk}])|(?<=[{lsep}])[{lsep}]*(?=[a-z]{{1,{_MAX_GLUED_LATIN}}}(?![{url}])))"
        rf"|(?<=[{lsep}])(?:(?:(?<=[a-z].)(?<![{url}][a-z].)|(?<=[a-z][a-z].)(?<![{url}][a-z][a-z].))"
        rf"[{lsep}]*(?=[{cjk}])"
        rf"|(?<=[a-z].)(?<![{url}][a-z].)[{lsep}]*(?=[a-z](?![{url}]))))"
    )


#: `_removable_run_pattern` as one capturing group, for `re.split` (kept pieces and runs
#: alternate). DOTALL: "." in the lookbehinds is the consumed separator, a newline included.
#: (Only this form is compiled at import: each costs ~10 ms to compile.)
_REMOVABLE_SPLIT = recache.compile(f"({_removable_run_pattern()})", re.DOTALL)


def removable_runs() -> re.Pattern[str]:
    """The runs of `_REMOVABLE_SPLIT` without the group (compiled on first use; for tests)."""
    return recache.compile(_removable_run_pattern(), re.DOTALL)


def _fold(text: str, tables: _Tables) -> tuple[str, list[int] | None]:
    """Per-character folding; the origin list is None while no character changed length."""
    if tables.beyond_lower_re.search(text) is None:
        return text.lower(), None
    if tables.length_changing_re.search(text) is None:
        # Every fold is one character for one: the identity offset map holds.
        return tables.fold_runs.sub(tables.fold_match, text), None
    pieces: list[str] = []
    changed: list[tuple[int, int, str]] = []  # (start, end, folded) of runs that changed length
    pos = 0
    fold = tables.fold
    for m in tables.fold_runs.finditer(text):
        start, end = m.span()
        folded_run = m[0].translate(fold)
        pieces.append(text[pos:start])
        pieces.append(folded_run)
        if len(folded_run) != end - start or not tables.length_changing.isdisjoint(m[0]):
            changed.append((start, end, folded_run))
        pos = end
    if not pieces:
        return text, None
    pieces.append(text[pos:])
    folded = "".join(pieces)
    if not changed:
        return folded, None
    origin: list[int] = []
    pos = 0
    for start, end, _ in changed:
        origin.extend(range(pos, start))
        for i in range(start, end):
            origin.extend([i] * len(fold.get(ord(text[i]), text[i])))
        pos = end
    origin.extend(range(pos, len(text)))
    return folded, origin


def normalize(text: str) -> Normalized:
    """Fold ``text`` for matching and keep the offset map back to it (see module docstring)."""
    folded, origin = fold_with_origin(text)
    return Normalized(text, folded, origin)


def fold_with_origin(text: str) -> tuple[str, Sequence[int] | None]:
    """`normalize` without the `Normalized` wrapper: the folded text and its origin list.

    ``origin[i]`` is the original index of folded character ``i``; None is the identity map.
    For the matcher's hot path, which maps spans itself (one object less per text).
    """
    if text.isascii() and _ASCII_INVISIBLE.search(text) is None:
        # ASCII folds by lower-casing (NFKC is the identity there); only spelled-out letters
        # (q q) can have a removable separator.
        folded, origin = text.lower(), None
    else:
        folded, origin = _fold(text, _tables())
    # The pieces between removable runs, and the runs, alternating: one C-level pass (a
    # Python loop over `finditer` cost ~4 µs on the half of corpus messages that have a run).
    parts = _REMOVABLE_SPLIT.split(folded)
    if len(parts) == 1:  # about half the corpus messages: no run to remove
        return folded, origin
    kept = parts[0::2]
    result = "".join(kept)
    if origin is None:
        # Removing runs from an otherwise identical text leaves one shift per kept piece.
        starts = list(accumulate(map(len, kept[:-1]), initial=0))
        shifts = list(accumulate(map(len, parts[1::2]), initial=0))
        return result, PiecewiseOrigin(starts, shifts, len(result))
    kept_origin: list[int] = []
    pos = 0
    for i, part in enumerate(parts):
        if not i % 2:
            kept_origin.extend(origin[pos:pos + len(part)])
        pos += len(part)
    return result, kept_origin


class PiecewiseOrigin(Sequence[int]):
    """An offset map made of shifted pieces: ``origin[i] = i + shifts[k]`` for the last piece
    ``k`` with ``starts[k] <= i`` (what removing separator runs from an otherwise identical
    text leaves). Behaves as the list of every position; costs a bisection per look-up."""

    __slots__ = ("_starts", "_shifts", "_length")

    def __init__(self, starts: list[int], shifts: list[int], length: int) -> None:
        self._starts = starts
        self._shifts = shifts
        self._length = length

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._length))]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("origin index out of range")
        return index + self._shifts[bisect_right(self._starts, index) - 1]

    def __iter__(self) -> Iterator[int]:
        starts, shifts = self._starts, self._shifts
        for k, shift in enumerate(shifts):
            stop = starts[k + 1] if k + 1 < len(starts) else self._length
            for i in range(starts[k], stop):
                yield i + shift

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PiecewiseOrigin({list(self)!r})"
