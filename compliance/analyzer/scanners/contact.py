"""Contact and link scanners: phone numbers, QQ, WeChat ids, e-mail, URLs and domains.

Both scanners find *shapes*; whether a shape is forbidden on a channel (a private mobile,
an off-platform link) is decided by rules, which may pass an allowlist to
`disallowed_links`.

Phone numbers with real digits are recognised by Google's libphonenumber (the
``phonenumbers`` package): `phonenumbers.PhoneNumberMatcher`, region ``CN``, leniency
`LENIENCY` (``VALID``), run only on the windows of digit-like characters that a cheap
regular expression finds first (never on text without digits). What libphonenumber cannot
know is the project's own, cue-anchored, with the cue words as data
(``compliance/lexicons/scanners/contact.toml``):

* masked digits. Public corpora (and logs) mask digits as ``x`` / ``X`` and apps display
  ``138****5678``. A masked run is still reported as a phone when its shape leaves no doubt:
  a mobile, 11 positions ``[1xX][3-9xX]`` + 9 × ``[0-9xX*]`` (optionally grouped 3-4-4),
  e.g. ``138xxxxxxxx``, ``xxxxxxxxxxx``, ``138****5678``; a landline, area code and local
  number joined by a dash, ``xxxx-xxxxxxx``; or 5 to 12 positions after a cue word
  (电话, 热线, 专线, 详询, 咨询 …): ``预约电话xxxxx``, ``售楼热线：xxxx-xxx``;
* numbers libphonenumber does not accept as valid but a reader is asked to call: short local
  numbers and service numbers after a cue word (``详询：12345678``, ``拨打10086``,
  ``咨询电话0571-88888``), a landline with an area code and a separator whose local part
  the library does not know (``0571-8888888``), and a bare 7–8 digit local number standing
  alone (``…火热排卡中 43896219``), unless it is a date, a code (订单号, 券码 …) or a quantity;
* QQ numbers and WeChat ids after their keywords and look-alikes (QQ, 扣扣, Q群, 微信, 薇芯,
  徽信, V❤, VX, 加v …), a bare WeChat-id token (``lily_8866``, ``beauty74349``) and a QQ
  cue with the id glued to it (``QQz9bkbkljsha``).

Full-width digits (１３８…), enclosed digits (①③⑧) and Chinese numerals (一三八…) are
evasions of the same shapes and count as digits. Masks are never accepted where fewer
positions would also fit something else (``xx-xxx`` is a range of square metres in the
corpus, not a phone).
"""

from __future__ import annotations

import functools
import importlib
import re
import tomllib
from bisect import bisect_left
from collections.abc import Collection
from pathlib import Path
from typing import Any

from compliance import recache
from compliance.analyzer.hits import Hit

# --- contacts ---------------------------------------------------------------------------
#
# Speed: one big alternation with lookbehinds would be tried at every character (~20 µs on
# an 80-character message). Instead each family is found from a cheap anchor: an "@" for
# e-mail, a run of digit-like characters for phone shapes, a literal keyword for QQ /
# WeChat / "电话: 12345678". `re` scans a pattern whose alternatives all start with a
# literal, or that starts with a character set, with a fast skip loop.

# Digits include the full-width ０-９ (an evasion of the same shapes); masks are x, X, *.
_D = "0-9０-９"
_DIGIT = f"[{_D}]"
_MASKED = f"[{_D}xX*]"
_NOT_AFTER = f"(?<![{_D}xX*])"
_NOT_BEFORE = f"(?![{_D}xX*])"
_SEP = r"[ \u3000.\-]?"
_DASH = r"[ \-]?"

_EMAIL_RE = recache.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@(?:[A-Za-z0-9\-]+\.)+[A-Za-z]{2,24}"
    r"(?![A-Za-z0-9\-])"
)

# A maximal run of characters that phone shapes are made of; phones are searched in it only.
_PHONE_RUN_RE = recache.compile(f"[+(（{_D}xX*][{_D}xX* \u3000.\\-+()（）]{{6,}}")
#: The shapes libphonenumber cannot judge (unmasked mobile numbers are left to it): a masked
#: mobile, 3-4-4 grouping by space, dash or dot (hits without a mask character are dropped);
#: a landline with an area code, whether or not the library knows the local number.
_PHONE_RE = recache.compile(
    f"(?P<mobile_masked>{_NOT_AFTER}[1１xX][3-9３-９xX]{_MASKED}{_SEP}{_MASKED}{{4}}{_SEP}"
    f"{_MASKED}{{4}}{_NOT_BEFORE})"
    # Landline: area code 0xx / 0xxx (optionally bracketed) + 7-8 digit local number not
    # starting with 0, optional extension; 400/800 service numbers; masked area-local
    # pairs only with the dash.
    f"|(?P<landline>{_NOT_AFTER}(?:[(（][0０][1-9１-９]{_DIGIT}{{1,2}}[)）]|[0０][1-9１-９]{_DIGIT}{{1,2}})"
    f"{_DASH}[1-9１-９]{_DIGIT}{{6,7}}(?:-{_DIGIT}{{1,4}})?{_NOT_BEFORE}"
    f"|{_NOT_AFTER}[48４８][0０][0０]{_DASH}{_DIGIT}{{3}}{_DASH}{_DIGIT}{{4}}{_NOT_BEFORE}"
    f"|{_NOT_AFTER}[0０xX][{_D}xX]{{2,3}}-[{_D}xX]{{7,8}}{_NOT_BEFORE})"
)

#: The scanner's data: cue words by kind, code words, units, WeChat-id allow words.
DATA_PATH = Path(__file__).resolve().parents[2] / "lexicons" / "scanners" / "contact.toml"


def load_data(path: Path = DATA_PATH) -> dict[str, Any]:
    """The scanner's data file (``compliance/lexicons/scanners/contact.toml``), parsed."""
    with path.open("rb") as handle:
        return tomllib.load(handle)


_DATA = load_data()
#: Cue word → kind (``wechat``, ``wechat_latin``, ``qq``, ``phone``, ``call``).
_KEYWORD_KIND: dict[str, str] = {word: str(cue["kind"]) for cue in _DATA["cue"] for word in cue["words"]}
#: Cue word → the fewest digit positions of the number it introduces (5 unless the data says).
_KEYWORD_MIN: dict[str, int] = {word: int(cue.get("min_positions", 5)) for cue in _DATA["cue"]
                                for word in cue["words"]}
_CODE_WORDS: tuple[str, ...] = tuple(_DATA["not_a_contact"]["code_words"])
_UNITS: frozenset[str] = frozenset(_DATA["not_a_contact"]["units"])
_WECHAT_ID_ALLOW: frozenset[str] = frozenset(_DATA["wechat_id"]["allow"])
_QQ_GLUED_ALLOW: tuple[str, ...] = tuple(_DATA["wechat_id"]["qq_glued_allow"])
#: What an evader puts between the characters of a keyword (微 信, Q Q, 薇❤信, V-X): spaces,
#: separator marks, and symbols such as ❤ ★ ♥ (with an emoji variation selector).
_KEYWORD_GAP = (r"(?:[ \u3000*·・•‧_\-~～|\u2190-\u21ff\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff]"
                r"\ufe0f?){0,3}")


def _trie_pattern(words: Collection[str]) -> str:
    """One pattern for ``words``, branching character by character (a trie), with an optional
    `_KEYWORD_GAP` between characters; the longest word wins where one extends another.

    `re` tries the alternatives of a branch one by one: 40 keywords as 40 alternatives
    cost ~1 µs a message, the trie about half (it starts with a character set, so `re`
    skips to candidates in C).
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def branch(node: dict[str, Any]) -> str:
        ends = "" in node
        children = sorted((char, child) for char, child in node.items() if char)
        if not children:
            return ""
        # Characters with the same continuation share one character class.
        groups: dict[str, list[str]] = {}
        for char, child in children:
            groups.setdefault(branch(child), []).append(char)
        alternatives = []
        for rest, chars in sorted(groups.items(), key=lambda item: (-len(item[0]), item[0])):
            head = re.escape(chars[0]) if len(chars) == 1 else "[" + "".join(map(re.escape, chars)) + "]"
            alternatives.append(head + rest)
        inner = alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"
        return f"(?:{_KEYWORD_GAP}{inner})?" if ends else f"{_KEYWORD_GAP}{inner}"

    top = []
    for char, child in sorted(trie.items()):
        top.append(re.escape(char) + branch(child))
    return "|".join(top)


#: The kinds of cue that introduce a phone number (the others introduce a QQ or WeChat id).
_NUMBER_KINDS = frozenset({"phone", "call", "sms", "sms_code"})
# Found on the width-folded text (`_WIDTH`), so ＶＸ and ＱＱ are keywords too. Two searches:
# the number cues (咨询, 联系, 发 … are frequent) only run on text with a digit or a mask.
_ID_KEYWORD_RE = recache.compile(_trie_pattern([w for w, k in _KEYWORD_KIND.items() if k not in _NUMBER_KINDS]))
_NUMBER_KEYWORD_RE = recache.compile(_trie_pattern([w for w, k in _KEYWORD_KIND.items() if k in _NUMBER_KINDS]))
#: Any digit or mask. ASCII only: where full-width digits occur the text is folded first.
_DIGIT_OR_MASK_RE = recache.compile("[0-9xX*]")
#: The keyword as listed, from what a keyword search matched (gap characters removed).
_KEYWORD_GAP_RE = recache.compile(_KEYWORD_GAP)

_WECHAT_ID = r"[A-Za-z][A-Za-z0-9_\-]{5,19}(?![A-Za-z0-9_\-])"
_MOBILE_ID = r"[1１][3-9３-９][0-9０-９]{9}(?![0-9０-９])"
_KEY_SEP = r"(?:公众号|公众账号|公众平台|号码?|[Ii][Dd])?[ \u3000]*[:：]?[ \u3000]*"
#: A number after a phone cue: an optional bracketed area code, then up to 12 digit or mask
#: positions (at least 5 unless the cue's data says fewer, checked after the match), single
#: spaces or dashes between them; it must not run into more of them.
_CUE_NUMBER = (f"(?P<id>(?:[(（][{_D}xX]{{3,4}}[)）][ \u3000]?)?{_MASKED}(?:[ \u3000\\-]?{_MASKED}){{0,11}})"
               f"(?![ \u3000\\-]?[{_D}xX*])")
_CUE_SEP = "[ \u3000]*[:：]?[ \u3000]*"
_TAILS: dict[str, re.Pattern[str]] = {
    # After a Chinese keyword the id may follow directly (微信abc123).
    "wechat": recache.compile(rf"{_KEY_SEP}(?P<id>{_WECHAT_ID}|{_MOBILE_ID})"),
    # After a Latin keyword a separator is required unless a phone number follows,
    # otherwise "wxabcdef" would split one word into keyword and id.
    "wechat_latin": recache.compile(
        rf"(?:(?:号码?|[Ii][Dd])?[ \u3000]*[:：][ \u3000]*|[ \u3000]+)(?P<id>{_WECHAT_ID}|{_MOBILE_ID})"
        rf"|(?P<phone>{_MOBILE_ID})"
    ),
    "qq": recache.compile(
        r"(?:号码?|號碼?|群)?[ \u3000]*[:：]?[ \u3000]*(?P<id>[1-9１-９xX][0-9０-９xX]{4,11})"
        r"(?![0-9０-９xX])"
    ),
    # Strong cues (电话, 热线 …): up to 4 CJK characters (a name, a shop) may come between.
    "phone": recache.compile(f"{_CUE_SEP}(?P<fill>[\u4e00-\u9fff]{{1,4}}?{_CUE_SEP})?{_CUE_NUMBER}"),
    # Other cues (咨询, 详询, 拨打 …): the number right after, separators only.
    "call": recache.compile(f"{_CUE_SEP}{_CUE_NUMBER}"),
    # Texting to a service number: 发送 <content> 到|至 <number>, any length.
    "sms": recache.compile(f"[^，。！？!?,;；、\\n]{{0,20}}?[到至][ \u3000]*{_CUE_NUMBER}"),
    "sms_code": recache.compile(f"[ \u3000]*[A-Za-z0-9]{{1,12}}[ \u3000]*[到至][ \u3000]*{_CUE_NUMBER}"),
}
#: A further number listed after a cue-anchored one: 订购热线翡翠店xxxxxxxx，蓝谷地xxxxxxxx.
_LIST_NEXT_RE = recache.compile(f"[ \u3000]*[，,、/或及和][ \u3000]*(?:[\u4e00-\u9fff]{{1,4}}?{_CUE_SEP})?{_CUE_NUMBER}")
_TAIL_LABELS: dict[str, tuple[str, str]] = {
    "wechat": ("wechat_id", "微信号"),
    "wechat_latin": ("wechat_id", "微信号"),
    "qq": ("qq", "QQ号"),
    "phone": ("phone", "电话号码"),
    "call": ("phone", "电话号码"),
    "sms": ("service", "短信服务号码"),
    "sms_code": ("service", "短信服务号码"),
}
_PHONE_LABELS: dict[str, tuple[str, str]] = {
    "mobile_masked": ("mobile", "手机号（含掩码）"),
    "landline": ("landline", "固定电话"),
}
_ASCII_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_MASK_CHARS = frozenset("xX*")
_DIGIT_CHARS = frozenset("0123456789０１２３４５６７８９")


def _positions(number: str) -> int:
    """How many digit or mask positions ``number`` has."""
    return sum(1 for char in number if char in _DIGIT_CHARS or char in _MASK_CHARS)


def _after_code_word(text: str, start: int) -> bool:
    """Whether a code word (订单号, 券码, 尾号 … from the data) ends at most 2 characters
    before ``start``: the number there is a code, not a contact."""
    before = text[max(0, start - 8):start]
    return any(word in before[-len(word) - 2:] for word in _CODE_WORDS)


def _unit_follows(text: str, end: int) -> bool:
    """Whether a unit (元, 年, 件, % … from the data) follows the number ending at ``end``,
    directly or after one space."""
    if end < len(text) and text[end] in " \u3000":
        end += 1
    return end < len(text) and text[end] in _UNITS


def _cue_number_ok(text: str, start: int, end: int, minimum: int) -> bool:
    """A cue-anchored number: at least ``minimum`` positions, no unit after it, not a code."""
    return (_positions(text[start:end]) >= minimum and not _unit_follows(text, end)
            and not _after_code_word(text, start))


def _keyword_hits(text: str, original: str, pattern: re.Pattern[str]) -> tuple[list[Hit], list[Hit]]:
    """QQ numbers and WeChat ids introduced by a keyword, and numbers introduced by a phone cue.

    ``text`` is ``original`` width-folded (same length); hits quote ``original``. Keywords
    may overlap (加vx: 加v introduces nothing, vx does), so a keyword that introduces no id
    moves the search on by one character only. ``pattern`` is `_ID_KEYWORD_RE` or
    `_NUMBER_KEYWORD_RE`. Returns (ids, cue-anchored numbers): the numbers rank below the
    phone scanner, which knows better what kind of number it is.
    """
    ids: list[Hit] = []
    numbers: list[Hit] = []
    position = 0
    search = pattern.search
    while True:
        keyword = search(text, position)
        if keyword is None:
            return ids, numbers
        position = keyword.start() + 1
        word = keyword.group()
        listed = word if word in _KEYWORD_KIND else _KEYWORD_GAP_RE.sub("", word)
        kind = _KEYWORD_KIND[listed]
        if word.isascii() and word[0] in _ASCII_LETTERS:
            # A Latin keyword must be a word of its own: not "Box", not "qqmail".
            start = keyword.start()
            if start and text[start - 1] in _ASCII_LETTERS:
                continue
            end = keyword.end()
            if end < len(text) and text[end] in _ASCII_LETTERS and word[-1] in _ASCII_LETTERS:
                if kind == "qq" and len(word) == 2:
                    glued = _qq_glued(text, original, start)  # QQz9bkbkljsha: the id glued on
                    if glued is not None:
                        ids.append(glued)
                        position = glued.end
                continue
        tail = _TAILS[kind].match(text, keyword.end())
        if tail is None:
            continue
        group = "id" if tail.start("id") >= 0 else "phone"
        label, note = _TAIL_LABELS[kind]
        start, end = tail.span(group)
        if kind in _NUMBER_KINDS:
            minimum = 1 if kind == "sms" or kind == "sms_code" else _KEYWORD_MIN[listed]
            if kind == "phone" and tail.start("fill") >= 0:
                minimum = max(minimum, 5)  # words between cue and number: a full number only
            if not _cue_number_ok(text, start, end, minimum):
                continue
            numbers.append(Hit(start, end, original[start:end], "contact", "contact", label, "error",
                               note, None))
            following = _LIST_NEXT_RE.match(text, end)
            while following is not None and _cue_number_ok(text, following.start("id"), following.end("id"), 5):
                start, end = following.span("id")
                numbers.append(Hit(start, end, original[start:end], "contact", "contact", label,
                                   "error", note, None))
                following = _LIST_NEXT_RE.match(text, end)
        else:
            ids.append(Hit(start, end, original[start:end], "contact", "contact", label, "error",
                           note, None))
        position = end


#: libphonenumber's leniency for `PhoneNumberMatcher` (its name in `phonenumbers.Leniency`): ``VALID``, the number must be
#: possible *and* valid for its region — an assigned mobile prefix (13x, 15x, 18x, 19x …), a
#: known area code with a local number of the right length, 400/800.
#:
#: Measured on the dev split of the labelled set (docs/accuracy.md, 474 messages; the
#: library's own matches on the digit windows): ``POSSIBLE`` matches 147 strings, ``VALID``
#: 121. The 26 more are dates (2023-12-01, 20231201, 2023.12.01), a coupon code after 券码
#: (20231111), a quantity (1000000 件), 12345678901, the digits of WeChat ids (166261 out of
#: tina_166261, 065308 out of beauty-065308), spans that swallow the next digit
#: (``13588119989 9``) — and bare local numbers and 4-digit area codes with 7-digit locals,
#: which the cue-anchored and shape rules below find anyway, with their own guards (a date, a
#: code word, a unit). The scored figures are the same at both (contact P 0.99, R 0.97
#: strict); ``VALID`` gets them without those false readings. ``STRICT_GROUPING`` and
#: ``EXACT_GROUPING`` score the same on dev but reject groupings people write
#: (``4006-123-456``), so they buy nothing.
LENIENCY = "VALID"
REGION = "CN"
#: libphonenumber number type (a `phonenumbers.PhoneNumberType` name) → (label, note).
_NUMBER_TYPE_LABELS: dict[str, tuple[str, str]] = {
    "MOBILE": ("mobile", "手机号"),
    "FIXED_LINE": ("landline", "固定电话"),
    "FIXED_LINE_OR_MOBILE": ("landline", "固定电话"),
    "TOLL_FREE": ("service", "400/800电话"),
    "SHARED_COST": ("service", "400/800电话"),
    "UAN": ("service", "服务电话"),
}


@functools.cache
def _phonenumbers() -> tuple[Any, Any, Any, dict[int, tuple[str, str]]]:
    """(PhoneNumberMatcher, number_type, leniency, labels by number type), imported on the
    first text with a digit window: a lint of text without digits never imports the library
    (cold start).

    `importlib.import_module`, not an import statement: compiled by mypyc, an import statement
    inside a function imports through the calling frame's builtins, and the generated pack code
    that calls the scanners has no ``__import__`` among its builtins.
    """
    phonenumbers = importlib.import_module("phonenumbers")
    labels = {getattr(phonenumbers.PhoneNumberType, name): value for name, value in _NUMBER_TYPE_LABELS.items()}
    return (phonenumbers.PhoneNumberMatcher, phonenumbers.number_type,
            getattr(phonenumbers.Leniency, LENIENCY), labels)


_DIGIT_RUN_RE = recache.compile(f"{_DIGIT}(?:[^{_D}]?{_DIGIT}){{6}}")
#: A bare local number: 7 or 8 digits, the first 2-8 (Chinese local numbers never start
#: with 0, 1 or 9), alone between non-digits.
_BARE_LOCAL_RE = recache.compile(f"(?<![{_D}xX*])[2-8２-８]{_DIGIT}{{6,7}}(?![{_D}xX*])")
#: What may not touch a bare number: letters and the characters of codes, times, decimals.
_BARE_NEIGHBOURS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.-_/:+#@=&%")


#: What may follow a number that closes the message: spaces and sentence punctuation.
_CLOSING_TAIL = frozenset(" \u3000。！!.…")
_CLOSING_CHARS = frozenset("0123456789０１２３４５６７８９xX")


def _closing_number(text: str, original: str) -> list[Hit]:
    """A number of 5 to 12 digits or masks that closes the message after Chinese text
    (``…美容顾问，汤兰xxxxx``): where an ad signs off with the line to call. A short walk
    back from the end of the text, no search."""
    end = len(text)
    while end and text[end - 1] in _CLOSING_TAIL:
        end -= 1
    start = end
    while start and end - start <= 12 and text[start - 1] in _CLOSING_CHARS:
        start -= 1
    if not 5 <= end - start <= 12 or start == 0:
        return []
    before = text[start - 1]
    if before.isascii() or _unit_follows(text, end) or _after_code_word(text, start):
        return []  # glued to Latin letters, digits or ASCII punctuation: a code, a model
    return [Hit(start, end, original[start:end], "contact", "contact", "phone", "error",
                "电话号码", None)]


def _is_date(digits: str) -> bool:
    """Whether 8 digits read as a date YYYYMMDD (1990-2099)."""
    if len(digits) != 8 or not digits.isascii():
        return False
    year, month, day = int(digits[:4]), int(digits[4:6]), int(digits[6:])
    return 1990 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31


#: The start of a later digit group in a run (after a space): where a second number may begin.
_GROUP_START_RE = recache.compile(f"(?<=[ \u3000])[+(（{_D}]")


def _library_hits(text: str, original: str, start: int, end: int) -> list[Hit]:
    """libphonenumber's numbers in ``text[start:end]`` (with one character of context each
    side, which the matcher checks: a number glued to a Latin letter is not one)."""
    hits = _match_library(text, original, start, end, True)
    if not hits and _GROUP_START_RE.search(text, start, end) is not None:
        # Two numbers side by side (a local line and a mobile, either way round:
        # 50365558 152 5276 3318, 183 0576 5518 50656537) may read as one invalid number:
        # split the run at each later group in turn until a part reads as a number.
        for group in _GROUP_START_RE.finditer(text, start, end):
            hits = (_match_library(text, original, start, group.start(), False)
                    + _match_library(text, original, group.start(), end, False))
            if hits:
                break
    if len(hits) > 1 or (hits and (hits[0].start > start + 8 or hits[0].end < end - 8)):
        # The matcher reads a run greedily and may give up on a number between two others
        # (13812345678 130 4626 3317 13340026849): look again in the gaps it left.
        gaps = []
        previous = start
        for hit in hits:
            gaps.append((previous, hit.start))
            previous = hit.end
        gaps.append((previous, end))
        for gap_start, gap_end in gaps:
            if _DIGIT_RUN_RE.search(text, gap_start, gap_end) is not None:
                hits.extend(_match_library(text, original, gap_start, gap_end, False))
        hits.sort(key=lambda hit: hit.start)
    return hits


def _match_library(text: str, original: str, start: int, end: int, context: bool) -> list[Hit]:
    """`PhoneNumberMatcher` on ``text[start:end]`` (with ``context``, one more character each
    side), spans mapped back to ``text``."""
    base = max(0, start - 1) if context else start
    window = text[base:end + 1] if context else text[start:end]
    hits: list[Hit] = []
    matcher, number_type, leniency, labels = _phonenumbers()
    for match in matcher(window, REGION, leniency=leniency):
        label, note = labels.get(number_type(match.number), ("phone", "电话号码"))
        s, e = base + match.start, base + match.end
        hits.append(Hit(s, e, original[s:e], "contact", "contact", label, "error", note, None))
    return hits


def _phone_hits(text: str, original: str) -> tuple[list[Hit], list[Hit]]:
    """Phone numbers, searched only inside runs of digit-like characters.

    Returns (numbers, bare local numbers): libphonenumber's valid numbers first, then the
    masked and area-code shapes that do not overlap them; separately, bare 7-8 digit local
    numbers that no other reading of the run covers (also beside one: 63166092 151****8923),
    which rank below every cue-anchored reading.
    """
    hits: list[Hit] = []
    bare: list[Hit] = []
    for run in _PHONE_RUN_RE.finditer(text):
        run_start, run_end = run.span()
        found: list[Hit] = []
        if _DIGIT_RUN_RE.search(text, run_start, run_end) is not None:
            found = _library_hits(text, original, run_start, run_end)
        for match in _PHONE_RE.finditer(text, run_start, run_end):
            group = match.lastgroup or "landline"
            start, end = match.span()
            if group == "mobile_masked" and not any(char in _MASK_CHARS for char in text[start:end]):
                continue
            if any(hit.start < end and start < hit.end for hit in found):
                continue
            label, note = _PHONE_LABELS[group]
            found.append(Hit(start, end, original[start:end], "contact", "contact", label, "error",
                             note, None))
        # Bare locals where no other reading covers them (also beside a number found in the
        # same run: 详询 63166092 151****8923).
        for match in _BARE_LOCAL_RE.finditer(text, run_start, run_end):
            start, end = match.span()
            if (any(hit.start < end and start < hit.end for hit in found)
                    or (start and text[start - 1] in _BARE_NEIGHBOURS)
                    or (end < len(text) and text[end] in _BARE_NEIGHBOURS)
                    or _unit_follows(text, end) or _is_date(match.group())
                    or _after_code_word(text, start)):
                continue
            bare.append(Hit(start, end, original[start:end], "contact", "contact", "local",
                            "error", "电话号码（无区号）", None))
        found.sort(key=lambda hit: hit.start)
        hits.extend(found)
    return hits, bare


#: A bare WeChat id: 3-12 lower-case letters, an optional _ or -, 3-8 digits (searched only
#: in text with digits; the pattern starts with a set, so `re` skips ahead in C); QQ with
#: the id glued to it: QQ + letters (tried only where the keyword search found a QQ
#: followed by a letter).
_BARE_WECHAT_ID_RE = recache.compile(r"[a-z](?P<word>[a-z]{2,11})[_\-]?[0-9]{3,8}(?![A-Za-z0-9_\-])")
_QQ_GLUED_RE = recache.compile(r"[Qq][Qq](?P<rest>[A-Za-z][A-Za-z0-9_\-]*)")
#: What may not touch a bare id: what links, e-mail addresses and codes are made of.
_ID_NEIGHBOURS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                           "_-+@./:#=?&%")


def _qq_glued(text: str, original: str, start: int) -> Hit | None:
    """QQ with the id glued to it (``QQz9bkbkljsha``) at ``start``, where a ``QQ`` keyword is
    followed by a letter: the whole token is the id, unless the letters are an allow word
    (QQmail, QQmusic …)."""
    match = _QQ_GLUED_RE.match(text, start)
    if match is None:
        return None
    end = match.end()
    if (end < len(text) and text[end] in _ID_NEIGHBOURS) or match.group("rest").lower().startswith(_QQ_GLUED_ALLOW):
        return None
    return Hit(start, end, original[start:end], "contact", "contact", "qq", "error", "QQ号", None)


def _token_hits(text: str, original: str) -> list[Hit]:
    """Bare WeChat-id tokens (``lily_8866``, ``beauty74349``); only called on text with digits."""
    hits: list[Hit] = []
    for match in _BARE_WECHAT_ID_RE.finditer(text):
        start, end = match.span()
        if (start and text[start - 1] in _ID_NEIGHBOURS) or (end < len(text) and text[end] in _ID_NEIGHBOURS):
            continue
        if text[start] + match.group("word") in _WECHAT_ID_ALLOW or _after_code_word(text, start):
            continue
        hits.append(Hit(start, end, original[start:end], "contact", "contact", "wechat_id", "error",
                        "微信号", None))
    return hits


#: Disguised characters → ASCII, one character for one. Full-width ASCII (！ to ～):
#: ＶＸ：ａｂｃ１２３ is VX:abc123. Enclosed digits, each the digit it shows: ①③⑧, ⑴⑶⑻,
#: ⒈⒊⒏, ❶❸❽, ➀➂➇, ➊➌➑, ⓪ and ⓿ (the two-digit ⑩… cannot map one for one and stay).
_WIDTH = {
    **{code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)},
    **{first + k: ord("1") + k for first in (0x2460, 0x2474, 0x2488, 0x2776, 0x2780, 0x278A) for k in range(9)},
    0x24EA: ord("0"),
    0x24FF: ord("0"),
}
#: Folding is only worth it when a full-width letter, digit, + or @, or an enclosed digit
#: occurs (full-width punctuation alone, in nearly every Chinese message, is already in the
#: patterns).
_FULL_WIDTH_ALNUM = ("\uff0b\uff10-\uff19\uff20-\uff3a\uff41-\uff5a"
                     "\u2460-\u2468\u2474-\u247c\u2488-\u2490\u24ea\u24ff\u2776-\u277e\u2780-\u2788\u278a-\u2792")
_FULL_WIDTH_ALNUM_RE = recache.compile(f"[{_FULL_WIDTH_ALNUM}]")


#: Chinese numerals written for digits (一三八一二三四五六七八, 壹叁捌…, 幺 for 1, 〇 for 0):
#: a phone or QQ number spelled out to get past digit filters. Only runs of 7 or more are
#: read as digits, spaces or dashes between them allowed (幺三八 一二三四 五六七八); so
#: 二〇二四年 and 一二三 stay words. The pattern starts with a set so `re` skips ahead in C.
_NUMERALS = "〇零一二三四五六七八九幺壹贰叁肆伍陆柒捌玖貳參陸"
_NUMERAL_DIGITS = str.maketrans(_NUMERALS, "00123456789" "1" "123456789" "236")
_NUMERAL_RUN_RE = recache.compile(f"[{_NUMERALS}](?:[ \u3000\\-]?[{_NUMERALS}]){{6,}}")


#: Either disguise: a full-width letter or digit, or a run of Chinese numerals. One set
#: first, then a look back at what it consumed: `re` skips ahead in C only when a pattern
#: starts with a set (an alternation of two sets costs ~3x more).
_DISGUISED_RE = recache.compile(
    f"[{_FULL_WIDTH_ALNUM}{_NUMERALS}](?:(?<=[{_FULL_WIDTH_ALNUM}])|(?:[ \u3000\\-]?[{_NUMERALS}]){{6,}})"
)


def _as_digits(run: re.Match[str]) -> str:
    return run[0].translate(_NUMERAL_DIGITS)


def _without_overlaps(ranked: list[list[Hit]]) -> list[Hit]:
    """Merge hit lists given best-first; a hit overlapping an earlier-ranked one is dropped.

    The kept hits never overlap, so sorted by start their ends are sorted too: a new hit
    overlaps one of them exactly when the last kept hit starting before its end ends after
    its start. One bisection per hit (comparing with every kept hit was quadratic: 70,000
    keyworded QQ numbers took 89 s).
    """
    kept: list[Hit] = []
    starts: list[int] = []
    ends: list[int] = []
    for hits in ranked:
        for hit in hits:
            i = bisect_left(starts, hit.end)
            if i and ends[i - 1] > hit.start:
                continue
            kept.insert(i, hit)
            starts.insert(i, hit.start)
            ends.insert(i, hit.end)
    return kept


def contacts(text: str) -> list[Hit]:
    """Private contact details in `text`: mobile, landline, QQ, WeChat id, e-mail.

    For QQ and WeChat the hit covers the number/id only (``VX：abc123`` → ``abc123``), so a
    fix can blank it without touching the surrounding wording. Where shapes overlap, an
    e-mail beats the digits inside it and a keyword-introduced id beats a bare phone shape
    (``微信13812345678`` is one ``wechat_id`` hit).
    """
    original = text
    if _DISGUISED_RE.search(text) is not None:  # one scan for both (rare) disguises
        # Each character for one: offsets into `text` stay offsets into `original`.
        if _FULL_WIDTH_ALNUM_RE.search(text) is not None:
            text = text.translate(_WIDTH)
        if _NUMERAL_RUN_RE.search(text) is not None:
            text = _NUMERAL_RUN_RE.sub(_as_digits, text)
    emails = [
        Hit(match.start(), match.end(), original[match.start():match.end()], "contact", "contact",
            "email", "error", "电子邮箱", None)
        for match in _EMAIL_RE.finditer(text)
    ] if "@" in text else []
    ids, _ = _keyword_hits(text, original, _ID_KEYWORD_RE)
    cue_numbers: list[Hit] = []
    phones: list[Hit] = []
    bare_numbers: list[Hit] = []
    tokens: list[Hit] = []
    if _DIGIT_OR_MASK_RE.search(text) is not None:
        _, cue_numbers = _keyword_hits(text, original, _NUMBER_KEYWORD_RE)
        phones, bare_numbers = _phone_hits(text, original)
        last = text[-1]
        if last in _CLOSING_CHARS or (last in _CLOSING_TAIL and text[-2:-1] in _CLOSING_CHARS):
            bare_numbers.extend(_closing_number(text, original))
        tokens = _token_hits(text, original)
    if not emails and not ids and not cue_numbers and not bare_numbers and not tokens:
        return phones
    return _without_overlaps([emails, ids, phones, cue_numbers, tokens, bare_numbers])


# --- links -----------------------------------------------------------------------------

#: Top-level domains recognised for bare domains (with a scheme any host is accepted).
#: Short English words that are also TLDs (to, us, de, it, be) are left out on purpose:
#: "go.to" in English prose is likelier than a link in a Chinese SMS.
_TLDS = (
    "com|cn|net|org|gov|edu|cc|co|me|io|tv|top|xyz|vip|shop|club|site|online|info|biz|"
    "mobi|wang|ren|ltd|link|ink|cloud|app|tech|store|hk|tw|mo|im|ly|lt|gl|gd|la|so|ws|asia"
)

#: Hosts that only redirect. Matched exactly against the lower-cased host.
SHORT_LINK_HOSTS: frozenset[str] = frozenset(
    {
        "t.cn", "dwz.cn", "url.cn", "w.url.cn", "suo.im", "3.cn", "u.jd.com", "tb.cn",
        "m.tb.cn", "c.tb.cn", "bit.ly", "t.co", "tinyurl.com", "goo.gl", "is.gd", "dwz.date",
        "mrw.so", "u.nu", "s.click.taobao.com", "sina.lt", "t.im", "dwz.mk",
    }
)

_URL_CHARS = r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]"
_HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+(?:" + _TLDS + r")"
# ASCII-only boundaries: Python's \b and \w treat Han as word characters, which would hide
# "访问jd.com" and "点击https://...".
_LINK_RE = recache.compile(
    rf"(?P<url>(?<![A-Za-z0-9])(?:[Hh][Tt][Tt][Pp][Ss]?|[Ff][Tt][Pp])://{_URL_CHARS}+)"
    rf"|(?P<domain>(?<![A-Za-z0-9@.\-_/])(?i:{_HOST})(?![A-Za-z0-9\-])(?::[0-9]{{1,5}})?"
    rf"(?:/{_URL_CHARS}*)?)"
)
_TRAILING_PUNCT = ".,;:!?'\"*"
_LINK_PRECHECK_RE = recache.compile(r"[.:]")
_SCHEME_RE = recache.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


def _trim_link_end(link: str) -> str:
    """Drop sentence punctuation glued to the end of a link (and an unbalanced ')')."""
    while link:
        last = link[-1]
        if last in _TRAILING_PUNCT or (last == ")" and link.count("(") < link.count(")")):
            link = link[:-1]
        else:
            break
    return link


def domain_of(url: str) -> str:
    """The lower-cased host of `url` (with or without a scheme), without port or userinfo.

    ``domain_of("HTTPS://User@M.JD.com:443/x?y") == "m.jd.com"``; ``domain_of("t.cn/abc")
    == "t.cn"``. A trailing root dot is dropped.
    """
    rest = _SCHEME_RE.sub("", url.strip(), count=1)
    for stop in "/?#":
        cut = rest.find(stop)
        if cut >= 0:
            rest = rest[:cut]
    rest = rest.rpartition("@")[2]
    if rest.startswith("["):  # IPv6 literal: keep the brackets' content, drop the port
        return rest[1:rest.find("]")].lower() if "]" in rest else rest[1:].lower()
    return rest.partition(":")[0].rstrip(".").lower()


def links(text: str) -> list[Hit]:
    """URLs (with scheme), bare domains (``m.jd.com``, ``jd.com/x``) and short links.

    Labels: ``url`` (has a scheme), ``domain`` (bare host, optional path), ``short_link``
    (host in `SHORT_LINK_HOSTS`, with or without scheme). Decimals (3.5), version numbers
    (v1.2.3), masked numbers (x.x) and e-mail domains are not links: a bare host must end in
    a known TLD and must not follow ``@``.
    """
    if not _LINK_PRECHECK_RE.search(text):
        return []
    hits: list[Hit] = []
    for match in _LINK_RE.finditer(text):
        start = match.start()
        link = _trim_link_end(match.group())
        if match.lastgroup == "url":
            if len(link) <= link.find("://") + 3:  # "http://" with no host
                continue
            label, note = "url", "网址"
        else:
            label, note = "domain", "域名"
        if domain_of(link) in SHORT_LINK_HOSTS:
            label, note = "short_link", "短链接"
        hits.append(Hit(start, start + len(link), link, "link", "link", label, "error", note,
                        None))
    return hits


def _is_allowed(host: str, exact: frozenset[str], suffixes: tuple[str, ...]) -> bool:
    """Whether `host` is allowed by exact entries or by ``.suffix`` entries."""
    if host in exact:
        return True
    return any(host == suffix[1:] or host.endswith(suffix) for suffix in suffixes)


def disallowed_links(text: str, allowed_domains: Collection[str]) -> list[Hit]:
    """Links in `text` whose host is not in `allowed_domains`.

    Allowlist entries (case-insensitive):

    * ``"m.jd.com"`` allows exactly the host ``m.jd.com`` (not ``a.m.jd.com``, not ``jd.com``);
    * ``".jd.com"`` allows ``jd.com`` and every subdomain (``m.jd.com``, ``a.b.jd.com``), the
      cookie-domain convention, so that a subdomain is only ever allowed on purpose.

    Short links are judged by their own host: a ``t.cn`` link is disallowed unless ``t.cn``
    is listed, since its target cannot be known without following it.
    """
    found = links(text)
    if not found:
        return []
    entries = [entry.strip().lower() for entry in allowed_domains]
    exact = frozenset(entry for entry in entries if not entry.startswith("."))
    suffixes = tuple(entry for entry in entries if entry.startswith(".") and len(entry) > 1)
    bad: list[Hit] = []
    for hit in found:
        host = domain_of(hit.text)
        if not _is_allowed(host, exact, suffixes):
            bad.append(Hit(hit.start, hit.end, hit.text, "link", "disallowed_link", hit.label,
                           "error", f"链接域名不在允许范围：{host}", None))
    return bad
