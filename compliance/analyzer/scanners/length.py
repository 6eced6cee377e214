"""Length, width, SMS segments, message splitting and signature characters.

Counting conventions (JD-SMS-04, JD-SMS-07, JD-MB-05, CN-03):

* `char_count` counts code points, the unit Chinese carriers bill (every Han character,
  letter, digit, punctuation mark and space is one), except that a ``\\r\\n`` line break
  counts as one character, as phones send it as one newline. An emoji outside the BMP is
  one character here although UCS-2 needs two units for it; such messages are rejected by
  the symbol rules anyway.
* `width` is the display width used by "9 Chinese characters or 18 letters" rules: East
  Asian Width W or F is 2, everything else 1 (ambiguous-width characters count 1).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Collection
from functools import lru_cache
from typing import NamedTuple

from compliance import recache
from compliance.analyzer.hits import Hit

#: Characters in one single SMS and in each part of a concatenated SMS (UCS-2).
SINGLE_SMS_CHARS: int = 70
CONCATENATED_SMS_CHARS: int = 67


def char_count(text: str) -> int:
    """Characters as billed: code points, with each ``\\r\\n`` counted once."""
    return len(text) - text.count("\r\n")


#: Blocks whose every code point (assigned or reserved) has East Asian Width W or F
#: (checked against `unicodedata` by the tests): Han, kana, Hangul syllables, CJK
#: punctuation, full-width forms. Characters outside them and outside ASCII are looked up.
KNOWN_WIDE_RANGES: tuple[tuple[int, int], ...] = (
    (0x3000, 0x303E),
    (0x3041, 0x3096),
    (0x3099, 0x30FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xAC00, 0xD7A3),
    (0xF900, 0xFAFF),
    (0xFF01, 0xFF60),
    (0xFFE0, 0xFFE6),
)
_OTHER_NON_ASCII_RE = recache.compile(
    r"[^\x00-\x7F" + "".join(f"\\u{low:04X}-\\u{high:04X}" for low, high in KNOWN_WIDE_RANGES) + "]"
)


@lru_cache(maxsize=8192)
def _is_wide(char: str) -> bool:
    """Whether `char` has East Asian Width W or F (cached: texts reuse few characters)."""
    return unicodedata.east_asian_width(char) in ("W", "F")


def width(text: str) -> int:
    """Display width: 2 for East Asian Wide/Fullwidth characters, 1 for the rest."""
    if text.isascii():
        return len(text)
    # Count in C where possible: ASCII is 1, the known-wide blocks are 2, and only the
    # few remaining characters (“ ” … — ·, emoji) are classified one by one.
    ascii_count = len(text.encode("ascii", "ignore"))
    others = _OTHER_NON_ASCII_RE.findall(text)
    wide_others = sum(map(_is_wide, others))
    known_wide = len(text) - ascii_count - len(others)
    return ascii_count + 2 * known_wide + len(others) + wide_others


def sms_segments(n_chars: int) -> int:
    """Billing segments for a message of `n_chars` characters: 1 up to 70, else ⌈n/67⌉."""
    if n_chars < 0:
        raise ValueError(f"n_chars must be >= 0, got {n_chars}")
    if n_chars <= SINGLE_SMS_CHARS:
        return 1
    return math.ceil(n_chars / CONCATENATED_SMS_CHARS)


class MessageParts(NamedTuple):
    """A rendered message split into signature, body and opt-out.

    Spans are (start, end) offsets into the whole text, end exclusive; ``text[start:end]``
    equals the part. An absent signature or opt-out is ``""`` with span None. The signature
    includes its brackets (``【店铺】``); `signature_name` is the part inside them.
    (A NamedTuple rather than a frozen dataclass: it is built once per message on the hot
    path, and a frozen dataclass costs ~1 µs to construct.)
    """

    signature: str
    body: str
    optout: str
    signature_span: tuple[int, int] | None
    body_span: tuple[int, int]
    optout_span: tuple[int, int] | None

    @property
    def signature_name(self) -> str:
        """The signature without its 【】 ("" when there is no signature)."""
        return self.signature[1:-1] if self.signature else ""

    @property
    def signature_name_span(self) -> tuple[int, int] | None:
        """Span of `signature_name` in the whole text, or None."""
        if self.signature_span is None:
            return None
        return (self.signature_span[0] + 1, self.signature_span[1] - 1)


_LEADING_SIGNATURE_RE = recache.compile(r"\s*(【[^【】\r\n]{1,40}】)")
_TRAILING_SIGNATURE_RE = recache.compile(r"(【[^【】\r\n]{1,40}】)\s*\Z")
# Punctuation and spaces that may follow a trailing opt-out ("回T退订。", "（退订回T）").
_OPTOUT_TRAILING = frozenset(" \t\r\n\u3000,.;!。，；！、）)")
_OPTOUT_OPENING = frozenset("（(")


class _PhraseTable(NamedTuple):
    """Opt-out phrases prepared for matching at the end of a text."""

    #: (length, case-folded phrases of that length), longest first (回复TD退订 before TD退订)
    by_length: tuple[tuple[int, frozenset[str]], ...]
    #: last character of every case-folded phrase: most texts are rejected by this alone
    last_chars: frozenset[str]


@lru_cache(maxsize=64)
def _phrase_table_of(phrases: tuple[str, ...]) -> _PhraseTable:
    unique = {phrase for phrase in phrases if phrase}
    lengths: dict[int, set[str]] = {}
    for phrase in unique:
        # Length of the phrase as given: a text slice of that length is case-folded and
        # compared (as str.casefold may lengthen a phrase, ß → ss).
        lengths.setdefault(len(phrase), set()).add(phrase.casefold())
    return _PhraseTable(
        by_length=tuple((n, frozenset(folded)) for n, folded in sorted(lengths.items(), reverse=True)),
        last_chars=frozenset(folded[-1] for group in lengths.values() for folded in group),
    )


# The phrase table of the last immutable phrase collection seen. `Engine` passes the same
# tuple for every message; hashing it for the lru_cache cost ~1 µs per message.
_last_phrases: tuple[Collection[str], _PhraseTable] | None = None


def _phrase_table(phrases: Collection[str]) -> _PhraseTable:
    global _last_phrases
    last = _last_phrases
    if last is not None and last[0] is phrases:
        return last[1]
    table = _phrase_table_of(tuple(phrases))
    if isinstance(phrases, (tuple, frozenset)):  # a list could change under the same identity
        _last_phrases = (phrases, table)
    return table


def _trailing_optout(text: str, start: int, end: int, phrases: Collection[str]) -> int | None:
    """Start of an opt-out phrase ending `text[start:end]` (trailing punctuation allowed)."""
    stop = end
    while stop > start and text[stop - 1] in _OPTOUT_TRAILING:
        stop -= 1
    if stop <= start:
        return None
    table = _phrase_table(phrases)
    # casefold works character by character, so the last folded character of the slice is
    # the last character of the folded last character.
    if text[stop - 1].casefold()[-1] not in table.last_chars:
        return None
    for length, folded in table.by_length:
        begin = stop - length
        if begin >= start and text[begin:stop].casefold() in folded:
            if begin > start and text[begin - 1] in _OPTOUT_OPENING:
                begin -= 1
            return begin
    return None


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) so that it neither starts nor ends with whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def split_message(text: str, optout_phrases: Collection[str]) -> MessageParts:
    """Split a whole rendered message into signature, body and opt-out.

    A leading 【…】 is the signature, else a trailing one (leading wins when both exist; the
    trailing one then stays in the body). A trailing opt-out phrase from `optout_phrases`
    (matched case-insensitively, e.g. 回T退订 / 回t退订) is the opt-out, even when wrapped in
    brackets or followed by punctuation or spaces; those belong to the opt-out part, so a
    separating comma before it stays in the body. The body is what remains, with joining
    whitespace trimmed; all offsets are exact.
    """
    region_start, region_end = 0, len(text)
    signature_span: tuple[int, int] | None = None
    leading = _LEADING_SIGNATURE_RE.match(text)
    if leading:
        signature_span = leading.span(1)
        region_start = signature_span[1]
    else:
        trailing = _TRAILING_SIGNATURE_RE.search(text)
        if trailing:
            signature_span = trailing.span(1)
            region_end = signature_span[0]
    optout_span: tuple[int, int] | None = None
    optout_start = _trailing_optout(text, region_start, region_end, optout_phrases)
    if optout_start is not None:
        optout_span = _strip_span(text, optout_start, region_end)
        region_end = optout_start
    body_span = _strip_span(text, region_start, region_end)
    return MessageParts(
        signature=text[signature_span[0]:signature_span[1]] if signature_span else "",
        body=text[body_span[0]:body_span[1]],
        optout=text[optout_span[0]:optout_span[1]] if optout_span else "",
        signature_span=signature_span,
        body_span=body_span,
        optout_span=optout_span,
    )


_SIGNATURE_SPECIAL_RE = recache.compile(r"[^\w]|_")


def signature_problems(signature: str) -> list[Hit]:
    """Special characters inside a signature (JD-SMS-05: 【99%】, 【花+】).

    Letters (CJK and Latin) and digits are fine; anything else — symbols,
    punctuation, ``_``, spaces — is a hit. Enclosing 【】 are accepted and not reported;
    offsets point into `signature` as given.
    """
    start, end = 0, len(signature)
    if signature.startswith("【") and signature.endswith("】") and end >= 2:
        start, end = 1, end - 1
    hits: list[Hit] = []
    for match in _SIGNATURE_SPECIAL_RE.finditer(signature, start, end):
        char = match.group()
        if char.isspace():
            label, note = "space", "签名含空格"
        else:
            label, note = "special_char", f"签名含特殊字符：{char}"
        hits.append(Hit(match.start(), match.end(), char, "signature", "signature_problems",
                        label, "error", note, None))
    return hits
