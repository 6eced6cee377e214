"""One Aho-Corasick pass over every lexicon term, jieba only to confirm ambiguous hits.

`Matcher` folds the text with `normalize`, scans the folded text once with a pyahocorasick
automaton built over the folded form of every term of every lexicon, and maps each hit back
to the ORIGINAL text. Then, per lexicon:

1. Latin terms need word boundaries (``vx`` is not a hit in ``nvxx``; ``top1`` not in
   ``top10``), because the automaton has no notion of words.
2. Hits contained in a longer hit of the same lexicon are dropped (``第一`` inside
   ``销量第一``). Partial overlaps are kept: they are different claims.
3. Ambiguous entries are confirmed: first by their ``allow`` words (``第一`` inside ``第一次``
   is not a hit; a plain string comparison), then by jieba segmentation of a ±6-character
   window: the hit stands when its boundaries fall on jieba word boundaries (``最`` in
   ``本店最便宜`` → 本店/最/便宜) or when the jieba word around it is itself a lexicon term.
   ``最`` in ``最近`` sits inside the word 最近 and is dropped.
4. Pattern entries: their anchors are literals of the same automaton; at an anchor's hit the
   entry's regex is matched at that position (at most `PATTERN_WINDOW` characters) and the
   match is the hit. Lawful entries (and the allowed words of step 3) are not hits: they mask
   every hit of their lexicon that lies inside them or across their edge (领先 in
   领|先到先得), unless the hit is longer and covers them whole.

jieba is imported on the first confirmation that needs it (never at import time). Each
Matcher uses its own ``jieba.Tokenizer`` (a copy of jieba's word table plus every lexicon term
added with ``add_word``), so results never depend on other matchers and the global jieba
dictionary of other code is untouched. Confirmations are cached per window.

A Matcher is immutable after construction; `find` may be called from several threads.
"""

from __future__ import annotations

import difflib
import functools
import re
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ahocorasick

from compliance import recache
from compliance.fastinit import frozen_builder

from .hits import Hit
from .lexicon import PATTERN_WINDOW, Lexicon, LexiconEntry, load_builtin_lexicons
from .normalize import fold_with_origin, normalize

if TYPE_CHECKING:  # pragma: no cover
    import jieba

__all__ = ["Matcher", "default_matcher"]

#: `Hit(...)` at half the cost (see `compliance.fastinit.frozen_builder`).
_new_hit = frozen_builder(Hit)

#: Characters either side of an ambiguous hit given to jieba.
CONFIRM_WINDOW = 6

_jieba_lock = threading.Lock()
_jieba_base: jieba.Tokenizer | None = None


def _tokenizer(words: Collection[str]) -> jieba.Tokenizer:
    """A private jieba tokenizer that knows jieba's dictionary plus ``words``.

    jieba is imported and its dictionary loaded once per process (~0.6 s), on the first
    confirmation that needs it. Each Matcher gets its own copy of the word table (~20 ms), so
    what one matcher teaches jieba never changes another matcher's results, and the global
    ``jieba.dt`` that other code may use stays untouched.
    """
    global _jieba_base
    with _jieba_lock:
        if _jieba_base is None:
            from compliance.analyzer.jieba_loader import load_jieba

            jieba = load_jieba()  # only here: importing compliance never loads jieba

            base = jieba.Tokenizer()
            base.initialize()
            _jieba_base = base
        base = _jieba_base
    from compliance.analyzer.jieba_loader import load_jieba

    jieba = load_jieba()

    tokenizer = jieba.Tokenizer(base.dictionary)
    tokenizer.FREQ = dict(base.FREQ)
    tokenizer.total = base.total
    tokenizer.initialized = True
    for word in sorted(words):  # sorted: add_word changes totals, keep the result reproducible
        # Known words keep jieba's own frequency; unknown terms get the frequency that makes
        # jieba keep them whole (add_word's suggest_freq).
        if not tokenizer.FREQ.get(word):
            tokenizer.add_word(word)
    return tokenizer


def _is_ascii_letter(ch: str) -> bool:
    return "a" <= ch <= "z"


def _is_ascii_digit(ch: str) -> bool:
    return "0" <= ch <= "9"


@dataclass(frozen=True, slots=True)
class _Term:
    """One entry of one lexicon, prepared for matching."""

    lexicon: str
    category: str
    entry: LexiconEntry
    folded: str
    note: str
    # (k, word): the allow word ``word`` contains the term at offset k.
    allow: tuple[tuple[int, str], ...]
    platforms: frozenset[str]
    ambiguous: bool  # the entry's: confirmed by its allowed contexts and jieba
    # Word-boundary checks for Latin/digit edges: None, or the class test the neighbour must fail.
    before_check: str | None
    after_check: str | None
    # Hit fields after (start, end, text), in `Hit` order: built once, splatted per hit.
    hit_fields: tuple[str, str, str, str, str, str | None, str]
    # Pattern and lawful entries: the confirming regex (matched at the anchor's start), and
    # whether the entry is lawful wording (masks overlapping hits, is never one itself).
    regex: re.Pattern[str] | None = None
    lawful: bool = False
    special: bool = False  # regex is not None or lawful: the scan's one test for both
    # `allow` grouped by (offset, length): one slice and one set lookup per group rules out
    # every allowed word of the group (移动 has 39 allowed words in 8 groups).
    allow_groups: tuple[tuple[int, int, frozenset[str]], ...] = ()


def _allow_groups(allow: list[tuple[int, str]]) -> tuple[tuple[int, int, frozenset[str]], ...]:
    """``allow`` ((offset, word) pairs) grouped by offset and word length."""
    groups: dict[tuple[int, int], set[str]] = {}
    for k, word in allow:
        groups.setdefault((k, len(word)), set()).add(word)
    return tuple((k, length, frozenset(words)) for (k, length), words in groups.items())


def _longest_first(candidate: tuple[int, int, _Term]) -> tuple[int, int]:
    return candidate[0] - candidate[1], candidate[0]


def _position(hit: Hit) -> tuple[int, int, str]:
    return hit.start, hit.end, hit.kind


def _edge_class(ch: str) -> str | None:
    if _is_ascii_letter(ch):
        return "letter"
    if _is_ascii_digit(ch):
        return "digit"
    return None


def _same_class(ch: str, cls: str | None) -> bool:
    if cls == "letter":
        return _is_ascii_letter(ch)
    if cls == "digit":
        return _is_ascii_digit(ch)
    return False


class Matcher:
    """Finds lexicon terms in text (see module docstring).

    Args:
        lexicons: the lexicons to match, by name (the name becomes ``Hit.kind``).
    """

    def __init__(self, lexicons: Mapping[str, Lexicon], *, _confirm_as: Matcher | None = None) -> None:
        self._lexicons: dict[str, Lexicon] = dict(lexicons)
        self._restricted: dict[frozenset[str], Matcher] = {}
        self._restricted_lock = threading.Lock()
        self._terms: list[_Term] = []
        self._by_key: dict[tuple[str, str], LexiconEntry] = {}
        grouped: dict[str, list[int]] = {}
        # CJK literal terms (not patterns, not lawful wording): a jieba word that is one of
        # them confirms an ambiguous hit inside it.
        term_words: set[str] = set()
        lawful_words: set[str] = set()
        has_patterns = False
        for name, lexicon in self._lexicons.items():
            for entry in lexicon.entries:
                folded = normalize(entry.term).text
                regex = recache.compile(entry.pattern) if entry.pattern is not None else None
                lawful = entry.kind == "lawful"
                if entry.kind == "term":
                    keys: tuple[str, ...] = (folded,)
                    term_words.add(folded)
                elif regex is None:  # a literal lawful phrase
                    keys = (folded,)
                    lawful_words.add(folded)
                else:
                    keys = entry.anchors
                    has_patterns = True
                allow: list[tuple[int, str]] = []
                for word in entry.allow:
                    fw = normalize(word).text
                    k = fw.find(folded)
                    while k != -1:
                        allow.append((k, fw))
                        k = fw.find(folded, k + 1)
                term = _Term(
                    lexicon=name,
                    category=lexicon.category,
                    entry=entry,
                    folded=folded,
                    note=entry.note or lexicon.title,
                    allow=tuple(allow),
                    platforms=frozenset(entry.platforms),
                    ambiguous=entry.ambiguous,
                    # a pattern's regex decides its own boundaries (lookarounds)
                    before_check=_edge_class(folded[0]) if regex is None else None,
                    after_check=_edge_class(folded[-1]) if regex is None else None,
                    hit_fields=(lexicon.category, name, entry.label, entry.severity,
                                entry.note or lexicon.title, entry.fix, folded),
                    regex=regex,
                    lawful=lawful,
                    special=regex is not None or lawful,
                    allow_groups=_allow_groups(allow),
                )
                for key in keys:
                    grouped.setdefault(key, []).append(len(self._terms))
                self._terms.append(term)
                self._by_key[(name, folded)] = entry
        # The automaton runs over UTF-8 bytes (each byte one latin-1 character), not code
        # points: pyahocorasick finds a node's child by a linear search, and over code points
        # the root has a child for every first character of every term (~270), searched for
        # each character of the text; over bytes it has one for each lead byte (~30). Twice
        # as fast on Chinese text, even with the encoding and the offset conversion.
        self._automaton: Any = ahocorasick.Automaton()
        for folded, ids in grouped.items():
            # The value carries the terms themselves (not indexes): one lookup less per match.
            self._automaton.add_word(_as_bytes_text(folded), (len(folded), tuple(self._terms[i] for i in ids)))
        if grouped:
            self._automaton.make_automaton()
        self._has_terms = bool(grouped)
        # Longest folded term: a hit can only be contained in an accepted hit starting at most
        # this far before it (bounds the containment check on texts with many hits).
        self._max_term_len = max(max(map(len, grouped), default=0), PATTERN_WINDOW if has_patterns else 0)
        self._jieba: jieba.Tokenizer | None = None  # set on first confirmation
        self._jieba_init_lock = threading.Lock()
        if _confirm_as is not None:
            # A restricted matcher confirms with its parent's tokenizer and cache: the same
            # words, so the same segmentation, so the same hits for the lexicons it keeps.
            self._jieba_words: frozenset[str] = _confirm_as._jieba_words
            self._term_words: frozenset[str] = _confirm_as._term_words
            self._confirm: Any = _confirm_as._confirm
            return
        # jieba learns the CJK terms and lawful phrases so that each is one word in its
        # segmentation (先到先得 whole, so 领先 is not read across 领|先到先得).
        self._term_words = frozenset(f for f in term_words if any(ord(c) > 0x2E80 for c in f))
        self._jieba_words = self._term_words | frozenset(
            f for f in lawful_words if any(ord(c) > 0x2E80 for c in f))
        self._confirm = functools.lru_cache(maxsize=1 << 16)(self._confirm_uncached)

    @property
    def lexicon_names(self) -> frozenset[str]:
        """Names of the lexicons this matcher was built over."""
        return frozenset(self._lexicons)

    def restricted(self, names: Collection[str]) -> Matcher:
        """A matcher over only the lexicons called ``names`` (unknown names are ignored).

        What a compiled pack uses: its automaton holds only the terms its rules can report,
        so a message is not searched for words no rule reads (an SMS pack does not need the
        WeChat template words). Hits are exactly this matcher's hits of those lexicons:
        containment is decided within a lexicon, and ambiguous hits are confirmed by this
        matcher's jieba tokenizer and cache, which the restricted matcher shares. Built once
        per set of names; this matcher itself when the names cover all its lexicons.
        """
        key = frozenset(self._lexicons.keys() & set(names))
        if key == self._lexicons.keys():
            return self
        matcher = self._restricted.get(key)
        if matcher is None:
            with self._restricted_lock:
                matcher = self._restricted.get(key)
                if matcher is None:
                    kept = {name: lexicon for name, lexicon in self._lexicons.items() if name in key}
                    matcher = self._restricted[key] = Matcher(kept, _confirm_as=self)
        return matcher

    def lexicon(self, name: str) -> Lexicon:
        """The lexicon called ``name`` (KeyError when unknown)."""
        return self._lexicons[name]

    def entry(self, hit: Hit) -> LexiconEntry | None:
        """The lexicon entry that produced ``hit`` (None for hits of other producers)."""
        return self._by_key.get((hit.kind, hit.term))

    def find(
        self,
        text: str,
        lexicons: Collection[str] | None = None,
        *,
        platforms: Collection[str] | None = None,
    ) -> list[Hit]:
        """Every confirmed lexicon hit in ``text``, sorted by position.

        Args:
            text: the original text; hit offsets point into it.
            lexicons: only these lexicon names (None: all). Unknown names raise ValueError.
            platforms: only entries for these platforms, plus entries without ``platforms``
                (None: all entries).
        """
        selected = self._selection(lexicons)
        hits, _ = self._scan(text, selected, platforms, use_jieba=True)
        return hits

    def find_by_lexicon(self, text: str) -> dict[str, tuple[Hit, ...]]:
        """`find` over every lexicon, grouped by lexicon name (hits sorted by position).

        What the rules' ``lexicon(name, text)`` calls share: one scan, then a dict lookup each.
        """
        hits, _ = self._scan(text, None, None, use_jieba=True)
        if not hits:
            return {}
        if len(hits) == 1:
            return {hits[0].kind: (hits[0],)}
        grouped: dict[str, list[Hit]] = {}
        for hit in hits:
            same = grouped.get(hit.kind)
            if same is None:
                grouped[hit.kind] = [hit]
            else:
                same.append(hit)
        return {kind: tuple(same) for kind, same in grouped.items()}

    # ----------------------------------------------------------------------------------------

    def _selection(self, lexicons: Collection[str] | None) -> frozenset[str] | None:
        if lexicons is None:
            return None
        selected = frozenset(lexicons)
        unknown = selected.difference(self._lexicons)
        if unknown:
            name = sorted(unknown)[0]
            close = difflib.get_close_matches(name, list(self._lexicons), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown lexicon {name!r}{hint}; known: {sorted(self._lexicons)}")
        return selected

    def _scan(
        self,
        text: str,
        selected: frozenset[str] | None,
        platforms: Collection[str] | None,
        *,
        use_jieba: bool,
    ) -> tuple[list[Hit], set[tuple[str, str]]]:
        """Hits plus the (lexicon, term) pairs left undecided because jieba was not allowed.

        The hot path of every lint: written for few candidates per text (typically 0-3), with
        attribute lookups hoisted and no work for filters that were not asked for.
        """
        undecided: set[tuple[str, str]] = set()
        if not self._has_terms or not text:
            return [], undecided
        folded, origin = fold_with_origin(text)
        n = len(folded)
        filtered = selected is not None or platforms is not None
        wanted_platforms = frozenset(platforms) if platforms is not None else None
        candidates: list[tuple[int, int, _Term]] = []
        lawful: list[tuple[int, int, str]] = []  # (start, end, lexicon) of lawful wording found
        encoded = folded.encode("utf-8", "surrogatepass")
        one_byte_chars = len(encoded) == n
        byte_end = char_end = 0  # matches come by increasing end: count characters incrementally
        # Declared for the compiled build (mypyc): the automaton yields untyped values.
        last: int
        length: int
        terms: tuple[_Term, ...]
        for last, (length, terms) in self._automaton.iter(encoded.decode("latin-1")):
            # `last` indexes the bytes; a match always ends on a character boundary.
            if one_byte_chars:
                end = last + 1
            else:
                if last + 1 != byte_end:
                    char_end += len(encoded[byte_end:last + 1].decode("utf-8", "surrogatepass"))
                    byte_end = last + 1
                end = char_end
            start = end - length
            for term in terms:
                if filtered:
                    if selected is not None and term.lexicon not in selected:
                        continue
                    if (wanted_platforms is not None and term.platforms
                            and term.platforms.isdisjoint(wanted_platforms)):
                        continue
                if term.before_check is not None and start > 0 and _same_class(folded[start - 1], term.before_check):
                    continue
                if term.after_check is not None and end < n and _same_class(folded[end], term.after_check):
                    continue
                if term.special:
                    regex = term.regex
                    if regex is None:  # a literal lawful phrase
                        lawful.append((start, end, term.lexicon))
                        continue
                    found = regex.match(folded, start, min(n, start + PATTERN_WINDOW))
                    if found is None:
                        continue
                    m_start, m_end = found.span()
                    if m_end <= m_start:
                        continue
                    if term.lawful:
                        lawful.append((m_start, m_end, term.lexicon))
                    else:
                        candidates.append((m_start, m_end, term))
                    continue
                candidates.append((start, end, term))
        if not candidates:
            return [], undecided
        if len(candidates) > 1:
            # Longest first, so that containers are decided before what they contain.
            candidates.sort(key=_longest_first)
        # Accepted spans per lexicon as {start: longest end}. A container is at most
        # `_max_term_len` long, so with many accepted spans only the starts in
        # [end - _max_term_len, start] are looked up: linear, not quadratic, in the hits.
        accepted: dict[str, dict[int, int]] = {}
        max_len = self._max_term_len
        hits: list[Hit] = []
        for start, end, term in candidates:
            spans = accepted.get(term.lexicon)
            if spans is None:
                spans = accepted[term.lexicon] = {}
            else:
                contained = False
                if len(spans) <= 8:
                    for s, e in spans.items():
                        if s <= start and end <= e:
                            contained = True
                            break
                else:
                    for s in range(max(0, end - max_len), start + 1):
                        if spans.get(s, -1) >= end:
                            contained = True
                            break
                if contained:
                    continue
            if lawful and _masked(lawful, start, end, term.lexicon):
                continue
            if term.ambiguous:
                allowed = self._allowed_context(folded, start, term)
                if allowed:
                    # The allowed word is lawful wording too: 最 inside 最好的体验 is no hit either.
                    lawful.append((start - allowed[0], start - allowed[0] + allowed[1], term.lexicon))
                    continue
                if not use_jieba:
                    undecided.add((term.lexicon, term.folded))
                    continue
                lo = max(0, start - CONFIRM_WINDOW)
                hi = min(n, end + CONFIRM_WINDOW)
                if not self._confirm(folded[lo:hi], start - lo, end - lo):
                    continue
            if spans.get(start, -1) < end:
                spans[start] = end
            if origin is None:
                hits.append(_new_hit(start, end, text[start:end], *term.hit_fields))
            else:
                # As `Normalized.span` (terms are never empty): from the first contributing
                # original character to the last, with removed separators in between.
                o_start, o_end = origin[start], origin[end - 1] + 1
                hits.append(_new_hit(o_start, o_end, text[o_start:o_end], *term.hit_fields))
        if len(hits) > 1:
            hits.sort(key=_position)
        return hits, undecided

    @staticmethod
    def _allowed_context(folded: str, start: int, term: _Term) -> tuple[int, int] | None:
        """(offset of the hit in the allowed word, its length) when the hit sits in one, else None.

        The first allowed word in the entry's order that holds the hit decides; the groups only
        rule out, cheaply, the common case where none does.
        """
        possible = False
        for k, length, words in term.allow_groups:
            if start >= k and folded[start - k:start - k + length] in words:
                possible = True
                break
        if not possible:
            return None
        for k, word in term.allow:
            if start >= k and folded.startswith(word, start - k):
                return k, len(word)
        return None

    def _confirm_uncached(self, window: str, start: int, end: int) -> bool:
        """Does jieba segment ``window[start:end]`` as whole word(s), or inside a term?"""
        tokenizer = self._jieba
        if tokenizer is None:
            with self._jieba_init_lock:
                if self._jieba is None:
                    self._jieba = _tokenizer(self._jieba_words)
                tokenizer = self._jieba
        pos = 0
        starts_on_boundary = False
        for token in tokenizer.lcut(window, HMM=False):
            token_end = pos + len(token)
            if pos == start:
                starts_on_boundary = True
            if pos <= start and end <= token_end and (pos, token_end) != (start, end):
                # The term is inside a longer word: it stands only if that word is a term too.
                return token in self._term_words
            if token_end == end:
                return starts_on_boundary
            if token_end > end:
                return False
            pos = token_end
        return False

    def _terms_found(self, text: str, *, use_jieba: bool) -> tuple[set[str], set[str]]:
        """Folded terms that hit ``text`` and those left undecided (for lexicon self-tests)."""
        hits, undecided = self._scan(text, None, None, use_jieba=use_jieba)
        return {h.term for h in hits}, {term for _, term in undecided}


def _masked(lawful: list[tuple[int, int, str]], start: int, end: int, lexicon: str) -> bool:
    """Is the hit ``[start, end)`` masked by lawful wording of its lexicon?

    Lawful wording masks every hit of its lexicon it overlaps — inside it (最高 in 最高可减200元)
    or across its edge (领先 in 大家都在领先到先得: the hit would straddle a word boundary) —
    unless the hit is longer and covers it whole (a claim built around the lawful words).
    """
    for l_start, l_end, name in lawful:
        if name != lexicon or l_end <= start or end <= l_start:
            continue
        if start <= l_start and l_end <= end and end - start > l_end - l_start:
            continue
        return True
    return False


def _as_bytes_text(text: str) -> str:
    """``text``'s UTF-8 bytes, one latin-1 character each (what the automaton matches)."""
    return text.encode("utf-8", "surrogatepass").decode("latin-1")


@functools.cache
def default_matcher() -> Matcher:
    """A matcher over every built-in lexicon (built once per process)."""
    return Matcher(load_builtin_lexicons())
