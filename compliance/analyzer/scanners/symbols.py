"""Special-symbol scanners: emoji, decorative symbols, legacy emoji, kaomoji, 【】 misuse.

What counts as a special symbol (JD-SMS-11, carrier gateways reject or garble them):

* ``emoji``: an emoji sequence, reported as ONE hit: regional-indicator flags, keycaps
  (1️⃣), and Extended_Pictographic characters with their variation selectors, skin-tone
  modifiers, tags and ZWJ joins (👨‍👩‍👧 is one hit). A pictograph is labelled ``emoji`` when it
  is in the supplementary planes, has Emoji_Presentation, or carries U+FE0F / a ZWJ;
  otherwise (❤ ♥ ✔ ☎ without FE0F) it is ``decorative``.
* ``decorative``: BMP blocks that hold only ornaments for marketing copy: Arrows
  (U+2190–21FF), Miscellaneous Technical (2300–23FF), Box Drawing, Block Elements,
  Geometric Shapes, Miscellaneous Symbols, Dingbats (2500–27BF), Supplemental Arrows
  (27F0–27FF, 2900–297F), Miscellaneous Symbols and Arrows (2B00–2BFF), plus ※ ‼ ⁉ 〓 and √
  (used as a tick). Mathematical operators (× ÷ ±), letterlike symbols (℃ №), CJK
  compatibility units (㎡) and © ® ™ are NOT reported: they carry meaning.
* ``enclosed``: ①②, ⒈, ㈠, ㊣, 🄰 (Enclosed Alphanumerics, Enclosed CJK Letters and Months,
  Enclosed Alphanumeric Supplement); severity ``warning`` because numbered lists use them.
* ``private_use``: Private Use Area code points (U+E000–F8FF and planes 15–16), the legacy
  carrier emoji that old phones still send.
* ``kaomoji``: text faces such as ^_^, (^o^), o(╯□╰)o, ╭(╯x╰)╮, T_T, -_-, :) — a bracketed
  face needs at least one face character inside, so "(A款)" is not a face.
* ``qq_code``: QQ expression codes (/:share, /:rose, /::)).
* ``currency``: ¥/￥ not followed by an amount (digits, masked x, Chinese numerals), i.e.
  used as decoration.
* ``invisible``: a run of characters nobody sees: format characters (zero-width space and
  joiners, bidi controls such as U+202E, soft hyphen, BOM, tags), control characters other
  than tab and line breaks (NUL, DEL, C1), and the Unicode line/paragraph separators. They
  split words to slip past filters or reorder what the reader sees (``最\u202e价低`` shows as
  最低价), and gateways garble them. A ZWJ inside an emoji sequence belongs to the emoji.
"""

from __future__ import annotations


import regex

from compliance import recache
from compliance.analyzer.hits import Hit

# Characters that only occur inside faces; a bracketed run needs one of them.
_FACE = r"\^＾╯╰□▽￣ω≧≦∀・´｀°Д﹏≖ᴗ⊙◕‿ε≡ˇ▔"
_FACE_INNER = rf"[^()（）\s\u3400-\u9FFF{_FACE}]"

#: Kaomoji and western emoticons (the punctuation scanners must not "fix" the half-width
#: brackets and colons inside a face; see `EMOTICON_PATTERN`).
KAOMOJI_PATTERN: str = (
    # Bracketed faces, with optional arms: o(╯□╰)o, ╭(╯x╰)╮, (^o^), （＾ω＾）.
    rf"(?:(?<![A-Za-z])[oOヽ٩\\╭╮])?[(（]{_FACE_INNER}{{0,4}}[{_FACE}]"
    rf"(?:{_FACE_INNER}|[{_FACE}]){{0,6}}[)）](?:[oOノ۶/╭╮](?![A-Za-z]))?"
    # Bare faces: ^_^, ^^, ^o^, T_T, T^T, -_-, =_=, >_<, o_O, *_*.
    r"|(?<![A-Za-z0-9])[\^＾][_\-oOω.。▽ー]?[\^＾](?![A-Za-z0-9])"
    r"|(?<![A-Za-z0-9])(?:[TtＴ][_\^][TtＴ]|[\-=>oO*][_][\-=<oO*])(?![A-Za-z0-9])"
    # Western emoticons; the lookarounds keep "10:00)" and "电话:(010)" out.
    # ":(" is a face only when no ")" closes it later ("时间:(周一至周五)" is prose), and
    # ":D" / ":P" only when no word follows ("地址:D座" is prose).
    r"|(?<![A-Za-z0-9:/])[:;][\-']?(?:\)|\((?![^()（）]*[)）])|[DPp](?![A-Za-z0-9\u3400-\u9FFF]))"
    r"(?![A-Za-z0-9])"
)

_QQ_CODE_PATTERN = r"(?<![A-Za-z0-9.:/])/::?(?:[A-Za-z]{2,10}|[()<>@?!~*$&|^;\-PDOB]{1,4})"

#: Kaomoji, emoticons and QQ codes: spans whose ASCII marks are not prose punctuation.
EMOTICON_PATTERN: str = f"{KAOMOJI_PATTERN}|{_QQ_CODE_PATTERN}"

_EXT_PICT = r"(?:(?![©®™])\p{Extended_Pictographic})"
_EMOJI_TAIL = r"[\uFE0E\uFE0F\p{EMod}\U000E0020-\U000E007F]*"
_EMOJI_PATTERN = (
    r"\p{RI}\p{RI}"
    r"|[0-9#*]\uFE0F?\u20E3"
    rf"|{_EXT_PICT}{_EMOJI_TAIL}(?:\u200D{_EXT_PICT}{_EMOJI_TAIL})*"
)
_ENCLOSED_PATTERN = r"[\u2460-\u24FF\u3200-\u32FF\U0001F100-\U0001F1E5]"
_DECORATIVE_PATTERN = (
    r"[\u2190-\u21FF\u2300-\u23FF\u2500-\u27BF\u27F0-\u27FF\u2900-\u297F\u2B00-\u2BFF"
    r"\u203B\u203C\u2049\u3013\u221A]"
)
_PUA_PATTERN = r"[\uE000-\uF8FF\U000F0000-\U000FFFFD\U00100000-\U0010FFFD]"
_CURRENCY_PATTERN = r"[¥￥](?![ \u3000]*[0-9xX０-９一二三四五六七八九十百千万两壹贰叁肆伍陆柒捌玖])"
_INVISIBLE_PATTERN = r"[\p{Cf}\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]+"

# Order matters: at one position the first alternative wins, so a kaomoji containing box
# drawing or geometric shapes (╯□╰) is one face, not three decorations.
_SYMBOL_RE = regex.compile(
    rf"(?P<kaomoji>{KAOMOJI_PATTERN})"
    rf"|(?P<qq_code>{_QQ_CODE_PATTERN})"
    rf"|(?P<emoji>{_EMOJI_PATTERN})"
    rf"|(?P<enclosed>{_ENCLOSED_PATTERN})"
    rf"|(?P<decorative>{_DECORATIVE_PATTERN})"
    rf"|(?P<private_use>{_PUA_PATTERN})"
    rf"|(?P<currency>{_CURRENCY_PATTERN})"
    rf"|(?P<invisible>{_INVISIBLE_PATTERN})"
)

# Cheap rejection: every alternative above contains at least one of these characters
# (ASCII faces need ^ _ : ;, bracketed faces a face character, the rest are non-ASCII
# symbol ranges), so most plain Chinese text is rejected by one scan.
_SYMBOL_PRECHECK_RE = recache.compile(
    r"[\^_:;\u00A5\u00B0\u00B4\u02C7\u03B5\u03C9\u0414\u1D17\u203B\u203C\u203F\u2049"
    r"\u20E3\u2100-\u2BFF\u3013\u3030\u303D\u30FB\u3200-\u32FF\uE000-\uF8FF\uFE0F\uFF3E"
    r"\uFF40\uFFE3\uFFE5\U00011000-\U0010FFFF"
    # invisible: controls, line/paragraph separators and every format (Cf) character (a test
    # checks each code point against `_INVISIBLE_PATTERN`)
    r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891"
    r"\u08e2\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
    # (the astral format characters, U+110BD and up, are inside U+11000-U+10FFFF above)
)

_EMOJI_PRESENTATION_RE = regex.compile(r"\p{Emoji_Presentation}")

_NOTES: dict[str, str] = {
    "emoji": "表情符号",
    "decorative": "装饰符号",
    "enclosed": "带圈或带括号的字符",
    "private_use": "私有区字符（旧式手机表情）",
    "kaomoji": "颜文字",
    "qq_code": "QQ表情代码",
    "currency": "装饰性货币符号",
    "invisible": "不可见字符",
}
_SEVERITY: dict[str, str] = {"enclosed": "warning"}
# Deleting an ornament is safe; an arrow or an enclosed number may carry meaning (8:00→22:00,
# ①), so those get no automatic fix.
_NO_FIX: frozenset[str] = frozenset({"enclosed"})
_ARROWS_RE = recache.compile(r"[\u2190-\u21FF\u27F0-\u27FF\u2900-\u297F\u2B00-\u2BFF]")


def _emoji_label(sequence: str) -> str:
    """``emoji`` for emoji-presentation sequences, ``decorative`` for text-style pictographs."""
    if (
        len(sequence) > 1
        or ord(sequence[0]) > 0xFFFF
        or _EMOJI_PRESENTATION_RE.match(sequence)
    ):
        return "emoji"
    return "decorative"


def special_symbols(text: str) -> list[Hit]:
    """Emoji, decorative symbols, legacy private-use emoji, kaomoji, QQ codes, decorative ¥.

    Each hit's label is one of ``emoji``, ``decorative``, ``enclosed``, ``private_use``,
    ``kaomoji``, ``qq_code``, ``currency``, ``invisible`` (see the module docstring for the
    exact sets);
    the fix is ``""`` (delete) except for arrows and enclosed characters.
    """
    if not _SYMBOL_PRECHECK_RE.search(text):
        return []
    hits: list[Hit] = []
    for match in _SYMBOL_RE.finditer(text):
        label = match.lastgroup or ""
        found = match.group()
        if label == "emoji":
            label = _emoji_label(found)
        fix: str | None = None
        if label not in _NO_FIX and not _ARROWS_RE.fullmatch(found):
            fix = ""
        note = _NOTES[label]
        if label == "invisible":
            note = f"{note} {'、'.join(sorted({f'U+{ord(c):04X}' for c in found[:16]}))}"
        hits.append(Hit(match.start(), match.end(), found, "symbol", "special_symbols", label,
                        _SEVERITY.get(label, "error"), note, fix))
    return hits


_BRACKET_RE = recache.compile(r"[【】]")
_BRACKET_PAIR_RE = recache.compile(r"【[^【】]*】")


def brackets_outside_signature(text: str, signature_span: tuple[int, int] | None) -> list[Hit]:
    """Every 【 or 】 outside `signature_span` (gateways read 【…】 as a signature).

    One hit per bracket character. A properly paired 【…】 gets the fix “…” (emphasis kept,
    signature look removed); an unpaired bracket gets no fix.
    """
    if "【" not in text and "】" not in text:
        return []
    sig_start, sig_end = signature_span if signature_span is not None else (-1, -1)
    paired: set[int] = set()
    for pair in _BRACKET_PAIR_RE.finditer(text):
        paired.add(pair.start())
        paired.add(pair.end() - 1)
    hits: list[Hit] = []
    for match in _BRACKET_RE.finditer(text):
        start = match.start()
        if sig_start <= start < sig_end:
            continue
        is_open = match.group() == "【"
        fix = ("“" if is_open else "”") if start in paired else None
        hits.append(Hit(start, start + 1, match.group(), "symbol", "brackets_outside_signature",
                        "open" if is_open else "close", "error",
                        "签名外使用【】" if start in paired else "签名外使用不成对的【】", fix))
    return hits
