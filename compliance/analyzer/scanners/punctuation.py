"""Punctuation scanners: half-width marks in Chinese text, repeated marks (JD-SMS-12).

"Chinese context", precisely: take a maximal run of the half-width marks
``, . ! ? : ; ( ) "``; the run is in Chinese context when the character directly before it
or directly after it is a CJK character (see `CJK_CLASS`: Han, CJK punctuation, kana,
full-width forms). Spaces are not skipped, so "Hello, 世界" and "Hello, world." are left
alone while "你好,世界" and "英文: Hello" are reported. Every mark of such a run is a hit,
except

* marks inside a URL, domain or e-mail (``links``), or inside a kaomoji/emoticon (``:)``,
  ``(^o^)``);
* a ``.`` directly after an ASCII digit (list numbers "1.新品", decimals);
* ``:`` between digits (times, ratios) — never adjacent to CJK anyway.

A run of two or more ``.`` is one ``ellipsis`` hit fixed to ``……``. Brackets and straight
quotes are fixed as pairs: when one member of a ``(``/``)`` or ``"``/``"`` pair is reported,
the other one is too, so a fix never leaves ``（ABC)``. Quotes are paired in order of
appearance in the whole text (1st opens “, 2nd closes ”, ...).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from compliance import recache
from compliance.analyzer.hits import Hit
from compliance.analyzer.scanners._charclasses import CJK_CLASS
from compliance.analyzer.scanners.contact import links
from compliance.analyzer.scanners.symbols import EMOTICON_PATTERN

_HALF = r"[,.!?:;()\"]"
# A plain character-set run is scanned with `re`'s fast skip loop; the CJK neighbour test
# is done per run afterwards (lookarounds on every character cost ~2.5x more). Written
# "[c][c]*", not "[c]+": `re` only skips ahead in C when a pattern starts with a set
# (0.75 -> 0.31 µs on an 80-character message without a match).
_RUN_RE = recache.compile(rf"{_HALF}{_HALF}*")
_CJK_CHAR_RE = recache.compile(rf"[{CJK_CLASS}]")
_DOTS_RE = recache.compile(r"\.{2,}")
_FACE_RE = recache.compile(EMOTICON_PATTERN)

_FULLWIDTH: dict[str, str] = {
    ",": "，",
    ".": "。",
    "!": "！",
    "?": "？",
    ":": "：",
    ";": "；",
    "(": "（",
    ")": "）",
}
_NOTES: dict[str, str] = {
    ",": "半角逗号",
    ".": "半角句号",
    "!": "半角感叹号",
    "?": "半角问号",
    ":": "半角冒号",
    ";": "半角分号",
    "(": "半角左括号",
    ")": "半角右括号",
    '"': "半角引号",
}
_LABELS: dict[str, str] = {
    ",": "comma",
    ".": "period",
    "!": "exclamation",
    "?": "question",
    ":": "colon",
    ";": "semicolon",
    "(": "paren",
    ")": "paren",
    '"': "quote",
}


class _Spans:
    """Spans (possibly overlapping) with a membership test by bisection.

    ``position in spans``: does any span contain it? Sorted by start, with the running
    maximum of the ends; one bisection instead of a scan of every span (a text with 50,000
    links took 155 s).
    """

    __slots__ = ("_starts", "_reach")

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        spans.sort()
        self._starts = [start for start, _ in spans]
        self._reach: list[int] = []
        reach = -1
        for _, end in spans:
            reach = max(reach, end)
            self._reach.append(reach)

    def __contains__(self, position: int) -> bool:
        i = bisect_right(self._starts, position)
        return i > 0 and self._reach[i - 1] > position


def _protected_spans(text: str) -> _Spans:
    """Spans whose half-width marks are not prose punctuation: links and faces."""
    spans = [(hit.start, hit.end) for hit in links(text)]
    spans.extend(match.span() for match in _FACE_RE.finditer(text))
    return _Spans(spans)


class _PairMarks:
    """Where the straight quotes and parentheses of a text are, found once per text (looking
    each partner up by scanning the text was quadratic on a text of many marks)."""

    __slots__ = ("_quotes", "_quote_rank", "_opens", "_closes")

    def __init__(self, text: str) -> None:
        self._quotes = [i for i, char in enumerate(text) if char == '"']
        self._quote_rank = {position: rank for rank, position in enumerate(self._quotes)}
        self._opens = [i for i, char in enumerate(text) if char == "("]
        self._closes = [i for i, char in enumerate(text) if char == ")"]

    def quote_fix(self, position: int) -> str:
        """“ for the odd-numbered straight quote of the text, ” for the even-numbered one."""
        return "“" if self._quote_rank[position] % 2 == 0 else "”"

    def partner(self, char: str, position: int) -> int | None:
        """Position of the bracket or quote that pairs with the one at `position`, if any."""
        if char == '"':
            rank = self._quote_rank[position]
            other = rank + 1 if rank % 2 == 0 else rank - 1
            return self._quotes[other] if other < len(self._quotes) else None
        if char == "(":
            close = _next_after(self._closes, position)
            nested = _next_after(self._opens, position)
            return close if close is not None and (nested is None or nested > close) else None
        if char == ")":
            opening = _last_before(self._opens, position)
            nested = _last_before(self._closes, position)
            return opening if opening is not None and (nested is None or nested < opening) else None
        return None


def _next_after(positions: list[int], position: int) -> int | None:
    i = bisect_right(positions, position)
    return positions[i] if i < len(positions) else None


def _last_before(positions: list[int], position: int) -> int | None:
    i = bisect_left(positions, position)
    return positions[i - 1] if i else None


def _mark_hit(text: str, position: int, marks: _PairMarks | None) -> Hit:
    """The hit for the single half-width mark at `position` (``marks``: needed for a quote)."""
    char = text[position]
    if char == '"':
        assert marks is not None  # built before the first pair mark is reported
        fix = marks.quote_fix(position)
    else:
        fix = _FULLWIDTH[char]
    return Hit(position, position + 1, char, "punctuation", "halfwidth_punctuation",
               _LABELS[char], "error", _NOTES[char], fix)


def halfwidth_punctuation(text: str) -> list[Hit]:
    """Half-width , . ! ? : ; ( ) " in Chinese context, each fixed to its full-width form.

    See the module docstring for the exact definition of Chinese context and the exceptions.
    """
    protected: _Spans | None = None
    marks: _PairMarks | None = None  # built at the first quote or parenthesis reported
    repeats: dict[int, int] | None = None  # start -> end of runs `repeated_punctuation` reports
    hits: dict[int, Hit] = {}
    pair_marks: list[int] = []
    for run in _RUN_RE.finditer(text):
        start, end = run.span()
        if not (start and _CJK_CHAR_RE.match(text, start - 1)) and not _CJK_CHAR_RE.match(
            text, end
        ):
            continue
        if protected is None:
            protected = _protected_spans(text)
        if repeats is None and end - start > 1:
            repeats = {hit.start: hit.end for hit in repeated_punctuation(text) if _is_halfwidth_repeat(hit.text)}
        position = start
        while position < end:
            if repeats and position in repeats:
                position = repeats[position]  # one problem, one finding: the repeat
                continue
            char = text[position]
            if char == "." and position + 1 < end and text[position + 1] == ".":
                dots = _DOTS_RE.match(text, position)
                assert dots is not None  # two dots were just seen
                if position not in protected:
                    hits[position] = Hit(position, dots.end(), dots.group(), "punctuation",
                                         "halfwidth_punctuation", "ellipsis", "error",
                                         "半角省略号", "……")
                position = dots.end()
                continue
            if position not in protected and not (
                char == "." and position > 0 and text[position - 1].isascii()
                and text[position - 1].isdigit()
            ):
                if char in '()"':
                    if marks is None:
                        marks = _PairMarks(text)
                    pair_marks.append(position)
                hits[position] = _mark_hit(text, position, marks)
            position += 1
    for position in pair_marks:
        assert marks is not None and protected is not None  # both built before a pair mark
        partner = marks.partner(text[position], position)
        if partner is not None and partner not in hits and partner not in protected:
            hits[partner] = _mark_hit(text, partner, marks)
    return [hits[key] for key in sorted(hits)]


_REPEAT_RE = recache.compile(r"[!?！？]{2,}|([。，、；：,;:])\1+|\.{2,}")
# Candidate runs first: a character-set pattern is skipped through quickly, the exact
# pattern above (a branch with a back-reference) then only runs inside the rare candidates.
_REPEAT_CANDIDATE_RE = recache.compile(r"[!?！？。，、；：,;:.][!?！？。，、；：,;:.]+")  # "[c][c]+": see _RUN_RE
_EXCLAIM = frozenset("!！")
_REPEAT_NOTES: dict[str, str] = {
    "!": "重复感叹号",
    "！": "重复感叹号",
    "?": "重复问号",
    "？": "重复问号",
    ".": "重复句点",
    "。": "重复句号",
    "，": "重复逗号",
    ",": "重复逗号",
    "、": "重复顿号",
    "；": "重复分号",
    ";": "重复分号",
    "：": "重复冒号",
    ":": "重复冒号",
}


def _is_halfwidth_repeat(run: str) -> bool:
    """A repeat of half-width marks other than dots (``!!``, ``,,``; ``...`` is an ellipsis)."""
    return run.isascii() and run[0] != "."


def _in_chinese_context(text: str, start: int, end: int) -> bool:
    """Is the maximal run of half-width marks around ``text[start:end]`` next to CJK text?"""
    while start and text[start - 1] in _FULLWIDTH_OR_QUOTE:
        start -= 1
    while end < len(text) and text[end] in _FULLWIDTH_OR_QUOTE:
        end += 1
    return bool(start and _CJK_CHAR_RE.match(text, start - 1)) or bool(_CJK_CHAR_RE.match(text, end))


_FULLWIDTH_OR_QUOTE = frozenset(',.!?:;()"')


def repeated_punctuation(text: str) -> list[Hit]:
    """Runs of repeated marks (！！, ？？, !!!, 。。。, ，，) fixed to the first mark.

    Allowed: …… and —— (the standard Chinese ellipsis and dash), a two-mark ？！ / !? (one
    question, one exclamation: accepted Chinese usage), and ``...`` / ``..`` (an English
    ellipsis; in Chinese text `halfwidth_punctuation` reports it, fixed to ……). Marks
    inside links and faces (``/::)``) are ignored.

    A repeat of half-width marks in Chinese context (``新品!!欢迎``) is fixed to the
    full-width mark (``！``) and is the only finding for it: `halfwidth_punctuation` leaves
    its marks alone (it reports ``...`` as an ellipsis, and this scanner does not).
    """
    candidates = list(_REPEAT_CANDIDATE_RE.finditer(text))
    if not candidates:
        return []
    matches = [
        match
        for candidate in candidates
        for match in _REPEAT_RE.finditer(text, candidate.start(), candidate.end())
    ]
    protected: _Spans | None = None
    hits: list[Hit] = []
    for match in matches:
        start, end = match.span()
        run = match.group()
        first = run[0]
        if first in "!?！？" and end - start == 2 and ((run[0] in _EXCLAIM) != (run[1] in _EXCLAIM)):
            continue
        fix = first
        if first == ".":
            # ... is an English ellipsis, or in Chinese context `halfwidth_punctuation`'s
            # ellipsis hit (fixed to ……): never a repeat.
            continue
        if run.isascii():
            if protected is None:
                protected = _protected_spans(text)
            if start in protected:
                continue
            if first != "." and _in_chinese_context(text, start, end):
                fix = _FULLWIDTH[first]
        hits.append(Hit(start, end, run, "punctuation", "repeated_punctuation", "repeated",
                        "error", _REPEAT_NOTES[first], fix))
    return hits

