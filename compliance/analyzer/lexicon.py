"""Lexicons: word lists with a category, per-entry metadata and self-tests.

A lexicon is a TOML file in ``compliance/lexicons/`` (read with stdlib ``tomllib``)::

    [lexicon]
    name = "ad_law"                 # identifier; hits carry it as ``Hit.kind``
    title = "广告法禁用词"            # short Chinese title (default note of hits)
    category = "ad_law"             # finding category of every hit (compliance.findings)
    severity = "error"              # default severity of entries
    source = "《广告法》第九条 …"      # where the words come from
    labels = ["absolute", …]        # optional: the only labels entries may use
    platforms = ["jd", …]           # optional: the only platforms entries may use
    label = ""                      # optional: default label of entries

    [[entry]]
    term = "第一"                    # required
    label = "ranking"               # sub-category
    severity = "warning"            # overrides the lexicon default
    note = "排名用语"                # short Chinese note (source or reason)
    fix = "…"                       # replacement text (typos)
    ambiguous = true                # needs confirmation (allow contexts, then jieba)
    allow = ["第一次", "第一批"]      # longer words in which the term is NOT a hit
    platforms = ["jd"]              # impersonation: which platform the wording claims
    bad = "销量第一"                 # str or list: must produce a hit of this entry
    good = "第一次下单"               # str or list: must not produce a hit of this entry

    [[entry]]                       # a construction: anchor literal(s) + a confirming regex
    term = "超低+价/折"               # the entry's name (Hit.term)
    kind = "pattern"
    anchor = ["超低"]                # found by the matcher's single automaton pass
    pattern = '超低(?:价|折扣|折)'     # matched at the anchor's start (folded text); span = match
    bad = "超低折扣"
    good = "超低温冷冻"

    [[entry]]                       # wording that is NOT a hit and masks the hits it overlaps
    term = "先到先得"                 # a literal phrase, or anchor + pattern as above
    kind = "lawful"
    good = "大家都在领先到先得"        # must leave no hit of the lexicon
    bad = "行业领先，先到先得"         # must still leave a hit

``docs/lexicons.md`` documents the format and the three kinds.

Loading validates everything and reports `LexiconError` with the file, the entry's term and
its line: unknown keys (with a did-you-mean), wrong types, duplicate terms (after folding, so
``V信`` and ``v信`` are duplicates), unknown categories/severities/labels/platforms, ``allow``
words that do not contain the term, and examples that the real `Matcher` does not confirm.

Examples and jieba: loading never imports jieba (it costs ~0.6 s, and a pre-commit hook must
start fast). An ambiguous entry whose example is only decided by jieba segmentation (not by
its ``allow`` list) is accepted as *undecided* at load time; `check_examples` with
``use_jieba=True`` decides those, and the test suite runs it over every built-in lexicon.
Each file is validated once per process (cached by path, size and modification time).
"""

from __future__ import annotations

import difflib
import functools
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compliance.findings import CATEGORIES, SEVERITIES

from .normalize import normalize

__all__ = [
    "ExampleFailure",
    "Lexicon",
    "LexiconEntry",
    "LexiconError",
    "build_lexicon",
    "builtin_lexicon_paths",
    "check_examples",
    "load_builtin_lexicons",
    "load_lexicon",
]

_LEXICON_KEYS = ("name", "title", "category", "severity", "source", "labels", "platforms", "label")
_ENTRY_KEYS = ("term", "kind", "anchor", "pattern", "label", "severity", "note", "fix", "ambiguous", "allow",
               "platforms", "bad", "good")
#: What an entry is: a literal ``term``; a ``pattern`` (anchor literals + a confirming regex);
#: ``lawful`` wording that is never a hit and masks the hits it overlaps.
KINDS = ("term", "pattern", "lawful")
#: Characters from an anchor's start a pattern may match (bounds every confirmation).
PATTERN_WINDOW = 32
#: Longest pattern source accepted (patterns are small confirmations, not programs).
MAX_PATTERN_CHARS = 300
_TOP_KEYS = ("lexicon", "entry")
_NAME_RE = re.compile(r"[a-z][a-z0-9_]*\Z")


class LexiconError(ValueError):
    """A lexicon file or in-code lexicon is invalid.

    Attributes:
        path: the file (None for lexicons built in code).
        term: the offending entry's term, if the problem is in an entry.
        line: 1-based line number in the file, when known.
        problems: every problem found, formatted (the message shows them all).
    """

    def __init__(
        self,
        problems: Sequence[str],
        *,
        path: Path | None = None,
        term: str | None = None,
        line: int | None = None,
    ) -> None:
        self.path = path
        self.term = term
        self.line = line
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True, slots=True)
class LexiconEntry:
    """One term of a lexicon (see module docstring for the meaning of each field).

    ``severity`` is already resolved against the lexicon default.
    """

    term: str
    severity: str
    kind: str = "term"
    anchors: tuple[str, ...] = ()
    pattern: str | None = None
    label: str = ""
    note: str = ""
    fix: str | None = None
    ambiguous: bool = False
    allow: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    bad: tuple[str, ...] = ()
    good: tuple[str, ...] = ()
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Lexicon:
    """A validated word list; immutable, safe to share between threads."""

    name: str
    title: str
    category: str
    severity: str
    source: str
    entries: tuple[LexiconEntry, ...]
    labels: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    path: Path | None = field(default=None, compare=False)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[LexiconEntry]:
        return iter(self.entries)

    def terms(self) -> tuple[str, ...]:
        """The terms as written in the lexicon."""
        return tuple(e.term for e in self.entries)

    def entry(self, term: str) -> LexiconEntry | None:
        """The entry whose term folds to the same text as ``term``, or None."""
        key = normalize(term).text
        for e in self.entries:
            if normalize(e.term).text == key:
                return e
        return None


@dataclass(frozen=True, slots=True)
class ExampleFailure:
    """An entry's bad/good example that the matcher does not confirm."""

    lexicon: str
    term: str
    line: int | None
    example: str
    expected_hit: bool
    #: the entry is lawful wording: its examples are about the lexicon's hits, not its own
    lawful: bool = False

    def describe(self) -> str:
        """A one-line Chinese/English description for error messages."""
        if self.lawful:
            want = "must keep a hit of the lexicon" if self.expected_hit else "must leave no hit of the lexicon"
            return f"entry {self.term!r}: example {self.example!r} {want} but " + (
                "nothing hit it" if self.expected_hit else "it was hit"
            )
        want = "must hit" if self.expected_hit else "must not hit"
        return f"entry {self.term!r}: example {self.example!r} {want} but " + (
            "found no hit of this entry" if self.expected_hit else "the entry hit it"
        )


# --------------------------------------------------------------------------------------------
# building and validation


class _Problems:
    """Collects problems of one lexicon so an author sees all of them at once."""

    def __init__(self, path: Path | None, source_lines: Sequence[str] | None) -> None:
        self.path = path
        self.lines = source_lines
        self.items: list[tuple[str | None, int | None, str]] = []
        self._entry_lines: list[int] = []
        self._lexicon_line: int | None = None
        if source_lines is not None:
            for i, line in enumerate(source_lines, start=1):
                if re.match(r"\s*\[\[\s*entry\s*\]\]", line):
                    self._entry_lines.append(i)
                elif re.match(r"\s*\[\s*lexicon\s*\]", line):
                    self._lexicon_line = i

    def entry_line(self, index: int, key: str | None = None) -> int | None:
        """Line of entry ``index`` (or of its ``key = …`` line when found)."""
        if index >= len(self._entry_lines) or self.lines is None:
            return None
        start = self._entry_lines[index]
        if key is None:
            return start
        stop = self._entry_lines[index + 1] if index + 1 < len(self._entry_lines) else len(self.lines) + 1
        pattern = re.compile(rf"\s*{re.escape(key)}\s*=")
        for i in range(start, stop):
            if pattern.match(self.lines[i - 1]):
                return i
        return start

    def lexicon_line(self, key: str | None = None) -> int | None:
        """Line of the ``[lexicon]`` table (or of its ``key = …`` line)."""
        if self._lexicon_line is None or self.lines is None:
            return None
        if key is not None:
            pattern = re.compile(rf"\s*{re.escape(key)}\s*=")
            for i in range(self._lexicon_line, len(self.lines) + 1):
                if i > self._lexicon_line and re.match(r"\s*\[", self.lines[i - 1]):
                    break
                if pattern.match(self.lines[i - 1]):
                    return i
        return self._lexicon_line

    def add(self, message: str, *, term: str | None = None, line: int | None = None) -> None:
        self.items.append((term, line, message))

    def raise_if_any(self) -> None:
        if not self.items:
            return
        formatted = []
        for term, line, message in self.items:
            where = str(self.path) if self.path is not None else "<lexicon>"
            if line is not None:
                where += f":{line}"
            formatted.append(f"{where}: " + (f"entry {term!r}: " if term is not None else "") + message)
        term, line, _ = self.items[0]
        raise LexiconError(formatted, path=self.path, term=term, line=line)


def _did_you_mean(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _type_name(value: object) -> str:
    return {str: "string", bool: "boolean", int: "integer", float: "float", list: "array", dict: "table"}.get(
        type(value), type(value).__name__
    )


def _as_str(
    value: object, key: str, problems: _Problems, term: str | None, line: int | None
) -> str | None:
    if isinstance(value, str):
        return value
    problems.add(f"{key!r} must be a string, got {_type_name(value)} {value!r}", term=term, line=line)
    return None


def _as_str_tuple(
    value: object, key: str, problems: _Problems, term: str | None, line: int | None, *, single_ok: bool
) -> tuple[str, ...]:
    if single_ok and isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    shape = "a string or an array of strings" if single_ok else "an array of strings"
    problems.add(f"{key!r} must be {shape}, got {_type_name(value)} {value!r}", term=term, line=line)
    return ()


def _build(
    header: Mapping[str, Any],
    raw_entries: Sequence[Mapping[str, Any]],
    problems: _Problems,
    path: Path | None,
) -> Lexicon | None:
    """Validate raw tables and build the Lexicon; problems are collected, not raised."""
    for key in header:
        if key not in _LEXICON_KEYS:
            problems.add(
                f"unknown key {key!r} in [lexicon]{_did_you_mean(key, _LEXICON_KEYS)}",
                line=problems.lexicon_line(key),
            )
    values: dict[str, Any] = {}
    for key in ("name", "title", "category", "severity", "source", "label"):
        if key in header:
            values[key] = _as_str(header[key], key, problems, None, problems.lexicon_line(key))
        elif key in ("name", "category"):
            problems.add(f"[lexicon] needs {key!r}", line=problems.lexicon_line())
    name = values.get("name") or ""
    if name and not _NAME_RE.match(name):
        problems.add(f"lexicon name {name!r} must match [a-z][a-z0-9_]*", line=problems.lexicon_line("name"))
    category = values.get("category") or ""
    if category and category not in CATEGORIES:
        problems.add(
            f"unknown category {category!r}{_did_you_mean(category, CATEGORIES)}",
            line=problems.lexicon_line("category"),
        )
    severity = values.get("severity") or "error"
    if severity not in SEVERITIES:
        problems.add(
            f"unknown severity {severity!r}{_did_you_mean(severity, SEVERITIES)}",
            line=problems.lexicon_line("severity"),
        )
    labels = (
        _as_str_tuple(header["labels"], "labels", problems, None, problems.lexicon_line("labels"), single_ok=False)
        if "labels" in header
        else ()
    )
    platforms = (
        _as_str_tuple(
            header["platforms"], "platforms", problems, None, problems.lexicon_line("platforms"), single_ok=False
        )
        if "platforms" in header
        else ()
    )
    default_label = values.get("label") or ""

    entries: list[LexiconEntry] = []
    seen: dict[str, tuple[str, int | None]] = {}
    for index, raw in enumerate(raw_entries):
        entry = _build_entry(index, raw, problems, severity, default_label, labels, platforms, seen)
        if entry is not None:
            entries.append(entry)
    if not raw_entries:
        problems.add("the lexicon has no [[entry]]")
    if problems.items:
        return None
    return Lexicon(
        name=name,
        title=values.get("title") or name,
        category=category,
        severity=severity,
        source=values.get("source") or "",
        entries=tuple(entries),
        labels=labels,
        platforms=platforms,
        path=path,
    )


def _build_entry(
    index: int,
    raw: Mapping[str, Any],
    problems: _Problems,
    default_severity: str,
    default_label: str,
    labels: tuple[str, ...],
    platforms: tuple[str, ...],
    seen: dict[str, tuple[str, int | None]],
) -> LexiconEntry | None:
    line = problems.entry_line(index)
    raw_term = raw.get("term")
    term_for_msg = raw_term if isinstance(raw_term, str) else None
    before = len(problems.items)

    def at(key: str) -> int | None:
        return problems.entry_line(index, key)

    for key in raw:
        if key not in _ENTRY_KEYS:
            problems.add(f"unknown key {key!r}{_did_you_mean(key, _ENTRY_KEYS)}", term=term_for_msg, line=at(key))
    if raw_term is None:
        problems.add("entry has no 'term'", line=line)
        return None
    term = _as_str(raw_term, "term", problems, None, at("term"))
    if term is None:
        return None
    folded = normalize(term).text
    if not term.strip() or not folded:
        problems.add("term is empty after folding", term=term, line=at("term"))
        return None
    if term != term.strip():
        problems.add("term has leading or trailing whitespace", term=term, line=at("term"))
    if folded in seen:
        other, other_line = seen[folded]
        where = f" at line {other_line}" if other_line is not None else ""
        same = "" if other == term else f" (folds to the same text {folded!r})"
        problems.add(f"duplicate term: same as {other!r}{where}{same}", term=term, line=at("term"))
    else:
        seen[folded] = (term, at("term"))

    def get_str(key: str, default: str | None) -> str | None:
        if key not in raw:
            return default
        return _as_str(raw[key], key, problems, term, at(key))

    kind, anchors, pattern = _kind_anchor_pattern(raw, problems, term, at)
    label = get_str("label", default_label) or ""
    if labels and label not in labels and not (kind == "lawful" and "label" not in raw):
        problems.add(f"unknown label {label!r}{_did_you_mean(label, labels)}", term=term, line=at("label"))
    severity = get_str("severity", default_severity) or default_severity
    if severity not in SEVERITIES:
        problems.add(
            f"unknown severity {severity!r}{_did_you_mean(severity, SEVERITIES)}", term=term, line=at("severity")
        )
    note = get_str("note", "") or ""
    fix = get_str("fix", None)
    ambiguous = raw.get("ambiguous", False)
    if not isinstance(ambiguous, bool):
        problems.add(f"'ambiguous' must be a boolean, got {_type_name(ambiguous)} {ambiguous!r}", term=term, line=at("ambiguous"))
        ambiguous = False
    allow = _as_str_tuple(raw["allow"], "allow", problems, term, at("allow"), single_ok=False) if "allow" in raw else ()
    for word in allow:
        if folded not in normalize(word).text:
            problems.add(f"allow word {word!r} does not contain the term", term=term, line=at("allow"))
        elif normalize(word).text == folded:
            problems.add(f"allow word {word!r} is the term itself", term=term, line=at("allow"))
    if allow and not ambiguous:
        problems.add("'allow' is only used by ambiguous entries: add 'ambiguous = true'", term=term, line=at("allow"))
    entry_platforms = (
        _as_str_tuple(raw["platforms"], "platforms", problems, term, at("platforms"), single_ok=False)
        if "platforms" in raw
        else ()
    )
    for platform in entry_platforms:
        if platform not in platforms:
            hint = _did_you_mean(platform, platforms) if platforms else " ([lexicon] declares no 'platforms')"
            problems.add(f"unknown platform {platform!r}{hint}", term=term, line=at("platforms"))
    bad = _as_str_tuple(raw["bad"], "bad", problems, term, at("bad"), single_ok=True) if "bad" in raw else ()
    good = _as_str_tuple(raw["good"], "good", problems, term, at("good"), single_ok=True) if "good" in raw else ()
    if ambiguous and (not bad or not good):
        problems.add("an ambiguous entry needs both a 'bad' and a 'good' example", term=term, line=line)
    if kind != "term":
        if not bad or not good:
            problems.add(f"a {kind} entry needs both a 'bad' and a 'good' example", term=term, line=line)
        if ambiguous or allow:
            problems.add(f"a {kind} entry is confirmed by its pattern: 'ambiguous' and 'allow' do not apply",
                         term=term, line=at("ambiguous" if ambiguous else "allow"))
    if kind == "lawful":
        for key in ("severity", "fix", "platforms"):
            if key in raw:
                problems.add(f"{key!r} does not apply to a lawful entry (it is never a hit)", term=term, line=at(key))
    if len(problems.items) != before:
        return None
    return LexiconEntry(
        term=term,
        severity=severity,
        kind=kind,
        anchors=anchors,
        pattern=pattern,
        label=label,
        note=note,
        fix=fix,
        ambiguous=ambiguous,
        allow=allow,
        platforms=entry_platforms,
        bad=bad,
        good=good,
        line=line,
    )


def _kind_anchor_pattern(
    raw: Mapping[str, Any], problems: _Problems, term: str, at: Any
) -> tuple[str, tuple[str, ...], str | None]:
    """An entry's ``kind``, its anchors (folded) and its pattern, validated.

    A ``pattern`` entry needs ``anchor`` (the literals the automaton finds) and ``pattern`` (a
    regex matched at each anchor's start against the folded text); a ``lawful`` entry either
    has both or neither (then its ``term`` is the literal lawful phrase).
    """
    kind = raw.get("kind", "term")
    if not isinstance(kind, str) or kind not in KINDS:
        shown = kind if isinstance(kind, str) else f"{_type_name(kind)} {kind!r}"
        problems.add(f"unknown kind {shown!r}{_did_you_mean(str(kind), KINDS)}; kinds: {', '.join(KINDS)}",
                     term=term, line=at("kind"))
        return "term", (), None
    anchors: tuple[str, ...] = ()
    if "anchor" in raw:
        anchors = _as_str_tuple(raw["anchor"], "anchor", problems, term, at("anchor"), single_ok=True)
        folded = []
        for anchor in anchors:
            f = normalize(anchor).text
            if not f:
                problems.add(f"anchor {anchor!r} is empty after folding", term=term, line=at("anchor"))
            elif f not in folded:
                folded.append(f)
        anchors = tuple(folded)
    pattern: str | None = None
    if "pattern" in raw:
        pattern = _as_str(raw["pattern"], "pattern", problems, term, at("pattern"))
        if pattern is not None:
            if len(pattern) > MAX_PATTERN_CHARS:
                problems.add(f"pattern is longer than {MAX_PATTERN_CHARS} characters", term=term, line=at("pattern"))
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.add(f"pattern does not compile: {exc}", term=term, line=at("pattern"))
    if kind == "term":
        for key in ("anchor", "pattern"):
            if key in raw:
                problems.add(f"{key!r} is only used by pattern and lawful entries: add 'kind = \"pattern\"'",
                             term=term, line=at(key))
        return kind, (), None
    if kind == "pattern" and ("anchor" not in raw or "pattern" not in raw):
        problems.add("a pattern entry needs an 'anchor' and a 'pattern'", term=term, line=at("kind"))
    if kind == "lawful" and ("anchor" in raw) != ("pattern" in raw):
        problems.add("a lawful entry has an 'anchor' and a 'pattern', or neither (the term is the phrase)",
                     term=term, line=at("kind"))
    return kind, anchors, pattern


def check_examples(lexicon: Lexicon, *, use_jieba: bool = False) -> list[ExampleFailure]:
    """Run every bad/good example of ``lexicon`` through the real `Matcher`.

    Without jieba, an ambiguous entry that only jieba could decide counts as passing (it is
    left for ``use_jieba=True``, which the test suite runs for every built-in lexicon).
    """
    from .matcher import Matcher  # the matcher imports this module for its types

    matcher = Matcher({lexicon.name: lexicon})
    failures: list[ExampleFailure] = []
    for entry in lexicon.entries:
        key = normalize(entry.term).text
        for example, expected in [(b, True) for b in entry.bad] + [(g, False) for g in entry.good]:
            hit_terms, undecided = matcher._terms_found(example, use_jieba=use_jieba)
            if entry.kind == "lawful":
                # good: the lawful wording masks every hit; bad: a hit remains beside it
                if not hit_terms and undecided:
                    continue
                if bool(hit_terms) != expected:
                    failures.append(ExampleFailure(lexicon.name, entry.term, entry.line, example, expected, True))
                continue
            if key in undecided:
                continue
            if (key in hit_terms) != expected:
                failures.append(ExampleFailure(lexicon.name, entry.term, entry.line, example, expected))
    return failures


def _finish(lexicon: Lexicon | None, problems: _Problems, *, check: bool) -> Lexicon:
    problems.raise_if_any()
    assert lexicon is not None  # _build returns None only together with problems
    if check:
        index = {e.term: i for i, e in enumerate(lexicon.entries)}
        for failure in check_examples(lexicon):
            key = "bad" if failure.expected_hit else "good"
            line = problems.entry_line(index[failure.term], key)
            problems.add(failure.describe().split(": ", 1)[1], term=failure.term, line=line)
        problems.raise_if_any()
    return lexicon


def build_lexicon(
    name: str,
    entries: Iterable[str | Mapping[str, Any]],
    *,
    category: str,
    title: str = "",
    severity: str = "error",
    source: str = "user",
    labels: Sequence[str] = (),
    platforms: Sequence[str] = (),
    check: bool = True,
) -> Lexicon:
    """Build and validate a lexicon in code (e.g. a user's banned or allowed words).

    ``entries`` are plain terms or mappings with the same keys as a TOML ``[[entry]]``.
    Raises `LexiconError` exactly as `load_lexicon` does (without file and line).
    """
    header: dict[str, Any] = {
        "name": name,
        "title": title or name,
        "category": category,
        "severity": severity,
        "source": source,
    }
    if labels:
        header["labels"] = list(labels)
    if platforms:
        header["platforms"] = list(platforms)
    raw = [{"term": e} if isinstance(e, str) else dict(e) for e in entries]
    problems = _Problems(None, None)
    return _finish(_build(header, raw, problems, None), problems, check=check)


def load_lexicon(path: str | Path) -> Lexicon:
    """Load, validate and self-test one lexicon TOML file (cached per file version)."""
    p = Path(path).resolve()
    try:
        stat = p.stat()
    except OSError as exc:
        raise LexiconError([f"{p}: cannot read lexicon: {exc.strerror or exc}"], path=p) from exc
    return _load_cached(p, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=256)
def _load_cached(path: Path, mtime_ns: int, size: int) -> Lexicon:
    text = path.read_text(encoding="utf-8")
    problems = _Problems(path, text.splitlines())
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise LexiconError(
            [f"{path}: invalid TOML: {exc}"], path=path, line=int(match.group(1)) if match else None
        ) from exc
    for key in data:
        if key not in _TOP_KEYS:
            problems.add(f"unknown top-level key {key!r}{_did_you_mean(key, _TOP_KEYS)}")
    header = data.get("lexicon")
    if not isinstance(header, dict):
        problems.add("missing [lexicon] table")
        problems.raise_if_any()
    raw_entries = data.get("entry", [])
    if not isinstance(raw_entries, list) or not all(isinstance(e, dict) for e in raw_entries):
        problems.add("entries must be [[entry]] tables")
        problems.raise_if_any()
    assert isinstance(header, dict)  # raise_if_any raised otherwise
    return _finish(_build(header, raw_entries, problems, path), problems, check=True)


def builtin_lexicon_paths() -> dict[str, Path]:
    """The built-in lexicon files, by file stem (= lexicon name), sorted by name."""
    directory = Path(__file__).resolve().parent.parent / "lexicons"
    return {p.stem: p for p in sorted(directory.glob("*.toml"))}


def _builtin_key(paths: dict[str, Path]) -> str | None:
    """The cache key of the built-in lexicons: every lexicon file, the code that builds and
    self-tests them (this module, the matcher, the normalizer). None if one cannot be read."""
    from compliance import diskcache as cache
    from compliance.analyzer import matcher, normalize

    try:
        parts: list[str | bytes] = ["builtin-lexicons-1", normalize._tables_key()]
        for module in (__file__, matcher.__file__, normalize.__file__):
            parts.append(Path(module).read_bytes())
        for stem, path in paths.items():
            parts += [stem, str(path), path.read_bytes()]  # the path: a Lexicon records it
    except OSError:
        return None
    return cache.cache_key(*parts)


def _valid_builtin(stems: tuple[str, ...]) -> Callable[[object], bool]:
    def valid(data: object) -> bool:
        return (isinstance(data, tuple) and tuple(pair[0] for pair in data if isinstance(pair, tuple)) == stems
                and all(isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[1], Lexicon)
                        and pair[1].name == pair[0] for pair in data))
    return valid


@functools.cache
def _builtin() -> tuple[tuple[str, Lexicon], ...]:
    """The built-in lexicons, from the on-disk cache (`compliance.diskcache`: the same digest, key
    and trust rules as the compiled packs) when it holds this version of them, else loaded,
    validated and self-tested from their files (~90 ms) and stored."""
    from compliance import diskcache as cache

    paths = builtin_lexicon_paths()
    key = _builtin_key(paths)
    if key is not None:
        cached = cache.load_object(key, _valid_builtin(tuple(paths)))
        if cached is not None:
            return cached  # type: ignore[no-any-return]
    loaded = _load_builtin(paths)
    if key is not None:
        cache.store_object(key, loaded)
    return loaded


def _load_builtin(paths: dict[str, Path]) -> tuple[tuple[str, Lexicon], ...]:
    loaded = []
    for stem, path in paths.items():
        lexicon = load_lexicon(path)
        if lexicon.name != stem:
            raise LexiconError(
                [f"{path}: lexicon name {lexicon.name!r} differs from the file name {stem!r}"], path=path
            )
        loaded.append((stem, lexicon))
    return tuple(loaded)


def load_builtin_lexicons() -> dict[str, Lexicon]:
    """All built-in lexicons by name (loaded and validated once per process)."""
    return dict(_builtin())
