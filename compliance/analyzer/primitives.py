"""The copy analyzer as functions of the rules language.

Registers the lexicon matcher and the scanners in `compliance.checker.functions.REGISTRY`, so copy
rules can say ``find lexicon("ad_law", text)`` or ``require width(text) <= 18``. Imported by
the engine before rules are checked; nothing heavy happens at import (the matcher and jieba
load on first use).

The matcher runs once per text: `lexicon()` keeps the hits of the last text it saw (per
thread), and the compiled copy function evaluates every rule of one field before moving to
the next, so all lexicon rules on a field share one Aho-Corasick pass.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from typing import Any

from compliance.analyzer import scanners
from compliance.analyzer.hits import Hit
from compliance.checker.functions import Function, SignatureError, register
from compliance.checker.types import BOOL, HIT, INT, STR, Type, assignable, list_of, set_of

HITS = list_of(HIT)
_local = threading.local()


_default_matcher: Any = None


def _matcher() -> Any:
    """The process-wide default matcher, built on first use (not at import: start-up time)."""
    global _default_matcher
    matcher = _default_matcher
    if matcher is None:
        from compliance.analyzer.matcher import default_matcher

        matcher = _default_matcher = default_matcher()
    return matcher


def known_lexicons() -> list[str]:
    """Names of the lexicons rules may name (built-in lexicon files)."""
    from compliance.analyzer.lexicon import builtin_lexicon_paths

    return sorted(builtin_lexicon_paths())


_NO_HITS: tuple[Hit, ...] = ()


def _hits_by_lexicon(text: str) -> dict[str, tuple[Hit, ...]]:
    """Every lexicon hit in text grouped by lexicon, computed once per text per thread.

    Grouping once makes each of the 5-7 ``lexicon(name, text)`` calls a field triggers a
    dict lookup instead of a filter over all hits. The cache is the last text only (by
    identity; the cache holds a reference, so the id cannot be reused): it serves the rules
    of one field, not repeated messages.
    """
    cached = getattr(_local, "last", None)
    if cached is not None and cached[0] is text:
        return cached[1]
    grouped = _matcher().find_by_lexicon(text)
    _local.last = (text, grouped)
    return grouped


def lexicon(name: str, text: str, platform: str | None = None) -> tuple[Hit, ...]:
    """Hits of one lexicon in text; with platform, only entries for that platform (or none)."""
    cached = getattr(_local, "last", None)  # inlined `_hits_by_lexicon` hit: 5-7 calls a field
    grouped = cached[1] if cached is not None and cached[0] is text else _hits_by_lexicon(text)
    hits = grouped.get(name, _NO_HITS)
    if platform and hits:
        return for_platform(_matcher(), hits, platform)
    return hits


def as_errors(hits: tuple[Hit, ...], on: bool) -> tuple[Hit, ...]:
    """``hits`` with every warning and info raised to severity error when ``on``, else as they are.

    What a strict-mode pack parameter does to a lexicon's lawful-when-true wording:
    ``find as_errors(lexicon("ad_law", text), ad_law_strict)``.
    """
    if not on or not hits:
        return hits
    return tuple(hit if hit.severity == "error" else Hit(
        hit.start, hit.end, hit.text, hit.category, hit.kind, hit.label, "error", hit.note, hit.fix, hit.term)
        for hit in hits)


def hits_by_lexicon(text: str) -> dict[str, tuple[Hit, ...]]:
    """Every lexicon hit in text grouped by lexicon name (what compiled copy rules read)."""
    return _hits_by_lexicon(text)


def platform_filter(hits: tuple[Hit, ...], platform: str) -> tuple[Hit, ...]:
    """`for_platform` over the built-in matcher (what compiled copy rules call)."""
    return for_platform(_matcher(), hits, platform) if hits else hits


def for_platform(matcher: Any, hits: tuple[Hit, ...], platform: str) -> tuple[Hit, ...]:
    """The hits whose entry names no platform or names this one (impersonation per platform)."""
    kept = []
    for hit in hits:
        entry = matcher.entry(hit)
        if entry is None or not entry.platforms or platform in entry.platforms:
            kept.append(hit)
    return tuple(kept)


def folded(text: str) -> str:
    """Text as the matcher sees it: width, case, traditional→simplified and separators folded.

    Remembers the last text per thread: rules call it several times on one field (JD-SMS-06
    looks for 京东 and for jd in the folded signature).
    """
    cached = getattr(_local, "folded", None)
    if cached is not None and cached[0] is text:
        return cached[1]
    from compliance.analyzer.normalize import normalize

    result = normalize(text).text
    _local.folded = (text, result)
    return result


_last_rendered: tuple[str, str, str, int] = ("", "", "", 0)


def rendered_length(signature: str, body: str, optout: str) -> int:
    """Characters of the message as sent: 【signature】 + body + opt-out.

    Remembers the last message (by identity of its three parts): the length and segment
    rules and their messages ask for the same message's length three times in a row.
    """
    global _last_rendered
    last = _last_rendered
    if last[1] is body and last[0] is signature and last[2] is optout:
        return last[3]
    length = len(body) - body.count("\r\n") + len(optout) - optout.count("\r\n")
    if signature:
        length += scanners.char_count(signature) + 2
    _last_rendered = (signature, body, optout, length)
    return length


def _lexicon_type(args: list[Type]) -> Type:
    if len(args) not in (2, 3):
        raise SignatureError(f"takes 2 or 3 arguments (name, text[, platform]), got {len(args)}")
    for index, arg in enumerate(args, 1):
        if not assignable(arg, STR):
            raise SignatureError(f"argument {index} must be str, got {arg}")
    return HITS


def _validate_lexicon(values: list[Any]) -> str | None:
    from compliance.checker.functions import CHECK_CONTEXT

    names = sorted({*known_lexicons(), *CHECK_CONTEXT.get().get("lexicons", ())})
    if values and isinstance(values[0], str) and values[0] not in names:
        from compliance.errors import did_you_mean

        guess = did_you_mean(values[0], names)
        return f"unknown lexicon {values[0]!r}" + (f"; did you mean {guess!r}?" if guess else
                                                  f"; lexicons: {', '.join(names)}")
    return None


def _text_to_hits(name: str, doc: str, impl: Any) -> Function:
    def rule(args: list[Type]) -> Type:
        if len(args) != 1 or not assignable(args[0], STR):
            raise SignatureError(f"takes one text, got {', '.join(map(str, args)) or 'nothing'}")
        return HITS

    return Function(name, f"{name}(str) -> list[hit]", doc, rule, _as_tuple(impl), iterate=impl)


def _as_tuple(impl: Any) -> Any:
    """``impl`` returning a tuple (the rules language's immutable list); the shared empty
    tuple when nothing is found, the common case, without building one."""

    def call(text: str) -> tuple[Hit, ...]:
        found = impl(text)
        return tuple(found) if found else _NO_HITS

    call.__name__ = call.__qualname__ = getattr(impl, "__name__", "scanner")
    call.__doc__ = impl.__doc__
    return call


def _fixed(params: tuple[Type, ...], returns: Type) -> Any:
    from compliance.checker.functions import _fixed as fixed

    return fixed(params, returns)


def _register_all() -> None:
    register(Function(
        "lexicon", "lexicon(name, text[, platform]) -> list[hit]",
        "Confirmed hits of a lexicon (compliance/lexicons/NAME.toml) in the text, after "
        "normalization (full-width, traditional, separators, look-alikes).",
        _lexicon_type, lexicon, pure=False, literal_args=(0, 2), validate=_validate_lexicon))
    register(Function(
        "as_errors", "as_errors(list[hit], on: bool) -> list[hit]",
        "The hits with severity error when `on` (a strict-mode parameter), else unchanged.",
        _fixed((HITS, BOOL), HITS), as_errors))
    for name, doc, impl in (
        ("halfwidth_punctuation", "Half-width , . ! ? : ; ( ) \" in Chinese context (fix: full-width).",
         scanners.halfwidth_punctuation),
        ("repeated_punctuation", "Runs such as ！！ or ？？ (fix: one mark).", scanners.repeated_punctuation),
        ("special_symbols", "Emoji, dingbats, private-use legacy emoji, kaomoji, QQ codes, decorative ¥.",
         scanners.special_symbols),
        ("placeholders", "Template variables {0} {name} ${name} {{name}} #name#.", scanners.placeholders),
        ("handwritten_values", "A link or coupon amount written by hand in a template with variables.",
         scanners.handwritten_values),
        ("embedded_signature_or_optout", "A 【signature】 or opt-out text inside a template body.",
         scanners.embedded_signature_or_optout),
        ("contacts", "Mobile and landline numbers, QQ numbers, WeChat ids, e-mail addresses.", scanners.contacts),
        ("links", "URLs, bare domains and short links.", scanners.links),
        ("signature_problems", "Characters other than letters and digits in a signature.",
         scanners.signature_problems),
    ):
        register(_text_to_hits(name, doc, impl))
    register(Function(
        "brackets", "brackets(str) -> list[hit]", "【 or 】 used in a text (outside the signature).",
        _fixed((STR,), HITS), lambda text: tuple(scanners.brackets_outside_signature(text, None)),
        iterate=lambda text: scanners.brackets_outside_signature(text, None)))
    register(Function(
        "incomplete_template", "incomplete_template(str, min_words: int) -> list[hit]",
        "A template with fewer fixed content words than min_words around its variables (jieba).",
        _fixed((STR, INT), HITS), lambda text, n: tuple(scanners.incomplete_template(text, n)),
        iterate=scanners.incomplete_template))
    register(Function(
        "disallowed_links", "disallowed_links(str, allowed: set[str]) -> list[hit]",
        "Links whose host is not allowed (\"m.jd.com\" exactly; \".jd.com\" and its subdomains).",
        _fixed((STR, set_of(STR)), HITS), lambda text, allowed: tuple(scanners.disallowed_links(text, allowed)),
        iterate=scanners.disallowed_links))
    register(Function("char_count", "char_count(str) -> int", "Characters as a phone counts them.",
                      _fixed((STR,), INT), scanners.char_count))
    register(Function("sms_segments", "sms_segments(int) -> int",
                      "SMS billing segments for a length: 70 in one, 67 each when concatenated.",
                      _fixed((INT,), INT), scanners.sms_segments))
    register(Function("rendered_length", "rendered_length(signature, body, optout) -> int",
                      "Characters of the message as sent: 【signature】 + body + opt-out.",
                      _fixed((STR, STR, STR), INT), rendered_length))
    register(Function("folded", "folded(str) -> str",
                      "The text as the matcher sees it (width, case, traditional, separators folded).",
                      _fixed((STR,), STR), folded))
    register(Function("has_placeholders", "has_placeholders(str) -> bool", "Does the text use variables?",
                      _fixed((STR,), BOOL), lambda text: bool(scanners.placeholders(text))))


def optout_phrases() -> Collection[str]:
    """Opt-out phrases of the built-in `optout` lexicon (used to split a rendered message)."""
    from compliance.analyzer.lexicon import load_builtin_lexicons

    return tuple(load_builtin_lexicons()["optout"].terms())


_register_all()
