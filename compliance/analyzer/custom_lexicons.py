"""An engine's own word lists: extra lexicons and allowed words from configuration.

`Engine(lexicons=…, allowed_words=…)` builds one matcher over the built-in lexicons plus the
extra ones (an extra lexicon named like a built-in one adds its entries to it); each compiled
pack gets `lexicon()` functions over that matcher restricted to the lexicons its rules name
(`lexicon_functions`, which every engine uses, extra lexicons or not). Allowed words remove every
hit lying inside one of their occurrences (a brand name that contains a banned word).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from compliance.analyzer.hits import Hit


def merged_lexicons(extra: Sequence[Any]) -> dict[str, Any]:
    """Built-in lexicons with the extra ones added (same name: entries appended)."""
    from compliance.analyzer.lexicon import load_builtin_lexicons

    lexicons = dict(load_builtin_lexicons())
    for lexicon in extra:
        current = lexicons.get(lexicon.name)
        if current is None:
            lexicons[lexicon.name] = lexicon
        else:
            lexicons[lexicon.name] = replace(current, entries=current.entries + lexicon.entries)
    return lexicons


def allowed_spans(text: str, words: Sequence[str]) -> list[tuple[int, int]]:
    """Every occurrence of an allowed word in text (Latin letters compared case-insensitively)."""
    lowered = text.lower()
    spans = []
    for word in words:
        needle = word.lower()
        start = lowered.find(needle)
        while needle and start >= 0:
            spans.append((start, start + len(needle)))
            start = lowered.find(needle, start + 1)
    return spans


def lexicon_functions(base: Callable[[], Any], names: frozenset[str] | None,
                      allowed_words: Sequence[str] = ()) -> dict[str, Callable[..., Any]]:
    """The runtime functions one compiled pack uses for lexicons: ``_fn_lexicon`` (the
    rules-language function), ``_lexicons_of`` (all groups of a text) and ``_for_platform``.

    Args:
        base: returns the engine's matcher (built-in lexicons, plus the extra ones); called
            on the first lint, not here, so that building an engine stays quick.
        names: the lexicons the pack's rules name (`compliance.compiler.codegen.lexicon_names`); the
            pack matches only those (`Matcher.restricted`). None: every lexicon of ``base``.
        allowed_words: hits inside an occurrence of one of these words are dropped.
    """
    from compliance.analyzer.primitives import for_platform

    words = tuple(w for w in allowed_words if w)
    # The last text looked up and its hits: the pack's rules ask for several lexicons of the
    # same text in a row. Shared by threads without a lock: the pair is replaced whole, and a
    # thread that finds another thread's pair for the very same text object gets the same
    # hits it would have computed.
    last: list[tuple[str, dict[str, tuple[Hit, ...]]] | None] = [None]
    matcher: Any = None

    def current() -> Any:
        nonlocal matcher
        if matcher is None:
            whole = base()
            matcher = whole if names is None else whole.restricted(names)
        return matcher

    def hits_of(text: str) -> dict[str, tuple[Hit, ...]]:
        cached = last[0]
        if cached is not None and cached[0] is text:
            return cached[1]
        grouped = (matcher or current()).find_by_lexicon(text)
        if words and grouped:
            spans = allowed_spans(text, words)
            grouped = {name: tuple(h for h in hits if not any(s <= h.start and h.end <= e for s, e in spans))
                       for name, hits in grouped.items()}
        last[0] = (text, grouped)
        return grouped

    def lexicon(name: str, text: str, platform: str | None = None) -> tuple[Hit, ...]:
        hits = hits_of(text).get(name, ())
        return for_platform(matcher or current(), hits, platform) if platform and hits else hits

    def platform_filter(hits: tuple[Hit, ...], platform: str) -> tuple[Hit, ...]:
        return for_platform(matcher or current(), hits, platform) if hits else hits

    return {"_fn_lexicon": lexicon, "_lexicons_of": hits_of, "_for_platform": platform_filter}
