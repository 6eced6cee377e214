"""Contact and link scanners: phone numbers, QQ, WeChat ids, e-mail, URLs and domains.

Both scanners find *shapes*; whether a shape is forbidden on a channel (a private mobile,
an off-platform link) is decided by rules, which may pass an allowlist to
`disallowed_links`.

Masked digits. Public corpora (and logs) mask digits as ``x`` / ``X`` and apps display
``138****5678``. A masked run is still reported as a phone when its shape leaves no doubt:

* mobile: 11 positions ``[1xX][3-9xX]`` + 9 × ``[0-9xX*]`` (optionally grouped 3-4-4 by
  space, dash or dot), not touching further digits or mask characters, e.g. ``138xxxxxxxx``,
  ``xxxxxxxxxxx``, ``138****5678``;
* full-width digits (１３８…) are an evasion of the same shapes and count as digits;
* landline: an area code and a local number joined by a dash, ``xxxx-xxxxxxx``; or 7–8
  digits/masks right after a phone keyword (电话, 热线, 座机, 致电, Tel, ☎).

Masks are never accepted where fewer positions would also fit something else (``xx-xxx``
is a range of square metres in the corpus, not a phone).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Collection
from typing import Any

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

_EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@(?:[A-Za-z0-9\-]+\.)+[A-Za-z]{2,24}"
    r"(?![A-Za-z0-9\-])"
)

# A maximal run of characters that phone shapes are made of; phones are searched in it only.
_PHONE_RUN_RE = re.compile(f"[+(（{_D}xX*][{_D}xX* \u3000.\\-+()（）]{{6,}}")
_PHONE_RE = re.compile(
    # Mobile, optionally with the country code; 3-4-4 grouping by space, dash or dot.
    f"(?P<mobile>(?<![{_D}xX*+])(?:(?:\\+|00)86{_DASH})?[1１][3-9３-９]{_DIGIT}{_SEP}"
    f"{_DIGIT}{{4}}{_SEP}{_DIGIT}{{4}}{_NOT_BEFORE})"
    f"|(?P<mobile_masked>{_NOT_AFTER}[1１xX][3-9３-９xX]{_MASKED}{_SEP}{_MASKED}{{4}}{_SEP}"
    f"{_MASKED}{{4}}{_NOT_BEFORE})"
    # Landline: area code 0xx / 0xxx (optionally bracketed) + 7-8 digit local number not
    # starting with 0, optional extension; 400/800 service numbers; masked area-local
    # pairs only with the dash.
    f"|(?P<landline>{_NOT_AFTER}(?:[(（][0０][1-9１-９]{_DIGIT}{{1,2}}[)）]|[0０][1-9１-９]{_DIGIT}{{1,2}})"
    f"{_DASH}[1-9１-９]{_DIGIT}{{6,7}}(?:-{_DIGIT}{{1,4}})?{_NOT_BEFORE}"
    f"|{_NOT_AFTER}[48４８][0０][0０]{_DASH}{_DIGIT}{{3}}{_DASH}{_DIGIT}{{4}}{_NOT_BEFORE}"
    f"|{_NOT_AFTER}[0０xX][{_D}xX]{{2,3}}-[{_D}xX]{{7,8}}{_NOT_BEFORE})"
)

_WECHAT_KEYWORDS = (
    "微信", "威信", "薇信", "徽信", "危信", "V信", "v信", "W信", "w信", "加V", "加v", "加微", "+微",
)
_WECHAT_LATIN_KEYWORDS = (
    "VX", "Vx", "vX", "vx", "WX", "Wx", "wX", "wx", "WeChat", "Wechat", "wechat", "Weixin",
    "weixin", "+V", "+v",
)
_QQ_KEYWORDS = ("QQ", "Qq", "qQ", "qq", "Q号", "q号", "Q號", "q號", "扣扣", "企鹅", "企鵝")
_PHONE_KEYWORDS = (
    "电话", "热线", "座机", "固话", "致电", "電話", "熱線", "座機", "固話", "致電", "Tel", "TEL",
    "tel", "☎",
)
_KEYWORD_KIND: dict[str, str] = {
    **{word: "wechat" for word in _WECHAT_KEYWORDS},
    **{word: "wechat_latin" for word in _WECHAT_LATIN_KEYWORDS},
    **{word: "qq" for word in _QQ_KEYWORDS},
    **{word: "phone" for word in _PHONE_KEYWORDS},
}
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


# Found on the width-folded text (`_WIDTH`), so ＶＸ and ＱＱ are keywords too.
_KEYWORD_RE = re.compile(_trie_pattern(_KEYWORD_KIND))
#: The keyword as listed, from what `_KEYWORD_RE` matched (gap characters removed).
_KEYWORD_GAP_RE = re.compile(_KEYWORD_GAP)

_WECHAT_ID = r"[A-Za-z][A-Za-z0-9_\-]{5,19}(?![A-Za-z0-9_\-])"
_MOBILE_ID = r"[1１][3-9３-９][0-9０-９]{9}(?![0-9０-９])"
_KEY_SEP = r"(?:号码?|[Ii][Dd])?[ \u3000]*[:：]?[ \u3000]*"
_TAILS: dict[str, re.Pattern[str]] = {
    # After a Chinese keyword the id may follow directly (微信abc123).
    "wechat": re.compile(rf"{_KEY_SEP}(?P<id>{_WECHAT_ID}|{_MOBILE_ID})"),
    # After a Latin keyword a separator is required unless a phone number follows,
    # otherwise "wxabcdef" would split one word into keyword and id.
    "wechat_latin": re.compile(
        rf"(?:(?:号码?|[Ii][Dd])?[ \u3000]*[:：][ \u3000]*|[ \u3000]+)(?P<id>{_WECHAT_ID}|{_MOBILE_ID})"
        rf"|(?P<phone>{_MOBILE_ID})"
    ),
    "qq": re.compile(
        r"(?:号码?|號碼?|群)?[ \u3000]*[:：]?[ \u3000]*(?P<id>[1-9１-９xX][0-9０-９xX]{4,11})"
        r"(?![0-9０-９xX])"
    ),
    "phone": re.compile(r"[ \u3000]*[:：]?[ \u3000]*(?P<id>[0-9０-９xX]{7,8})(?![0-9０-９xX*])"),
}
_TAIL_LABELS: dict[str, tuple[str, str]] = {
    "wechat": ("wechat_id", "微信号"),
    "wechat_latin": ("wechat_id", "微信号"),
    "qq": ("qq", "QQ号"),
    "phone": ("landline", "固定电话"),
}
_PHONE_LABELS: dict[str, tuple[str, str]] = {
    "mobile": ("mobile", "手机号"),
    "mobile_masked": ("mobile", "手机号（含掩码）"),
    "landline": ("landline", "固定电话"),
}
_ASCII_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _keyword_hits(text: str, original: str) -> list[Hit]:
    """QQ numbers, WeChat ids and local phone numbers introduced by a keyword.

    ``text`` is ``original`` width-folded (same length); hits quote ``original``. Keywords
    may overlap (加vx: 加v introduces nothing, vx does), so a keyword that introduces no id
    moves the search on by one character only.
    """
    hits: list[Hit] = []
    position = 0
    search = _KEYWORD_RE.search
    while True:
        keyword = search(text, position)
        if keyword is None:
            return hits
        position = keyword.start() + 1
        word = keyword.group()
        kind = _KEYWORD_KIND.get(word) or _KEYWORD_KIND[_KEYWORD_GAP_RE.sub("", word)]
        if word.isascii() and word[0] in _ASCII_LETTERS:
            # A Latin keyword must be a word of its own: not "Box", not "qqmail".
            start = keyword.start()
            if start and text[start - 1] in _ASCII_LETTERS:
                continue
            end = keyword.end()
            if end < len(text) and text[end] in _ASCII_LETTERS and word[-1] in _ASCII_LETTERS:
                continue
        tail = _TAILS[kind].match(text, keyword.end())
        if tail is None:
            continue
        group = "id" if tail.start("id") >= 0 else "phone"
        label, note = _TAIL_LABELS[kind]
        start, end = tail.span(group)
        hits.append(Hit(start, end, original[start:end], "contact", "contact", label, "error", note,
                        None))
        position = keyword.end()


def _phone_hits(text: str, original: str) -> list[Hit]:
    """Mobile and landline shapes, searched only inside runs of digit-like characters."""
    hits: list[Hit] = []
    for run in _PHONE_RUN_RE.finditer(text):
        for match in _PHONE_RE.finditer(text, run.start(), run.end()):
            label, note = _PHONE_LABELS[match.lastgroup or "mobile"]
            start, end = match.span()
            hits.append(Hit(start, end, original[start:end], "contact", "contact",
                            label, "error", note, None))
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
_FULL_WIDTH_ALNUM_RE = re.compile(f"[{_FULL_WIDTH_ALNUM}]")


#: Chinese numerals written for digits (一三八一二三四五六七八, 壹叁捌…, 幺 for 1, 〇 for 0):
#: a phone or QQ number spelled out to get past digit filters. Only runs of 7 or more are
#: read as digits, spaces or dashes between them allowed (幺三八 一二三四 五六七八); so
#: 二〇二四年 and 一二三 stay words. The pattern starts with a set so `re` skips ahead in C.
_NUMERALS = "〇零一二三四五六七八九幺壹贰叁肆伍陆柒捌玖貳參陸"
_NUMERAL_DIGITS = str.maketrans(_NUMERALS, "00123456789" "1" "123456789" "236")
_NUMERAL_RUN_RE = re.compile(f"[{_NUMERALS}](?:[ \u3000\\-]?[{_NUMERALS}]){{6,}}")


#: Either disguise: a full-width letter or digit, or a run of Chinese numerals. One set
#: first, then a look back at what it consumed: `re` skips ahead in C only when a pattern
#: starts with a set (an alternation of two sets costs ~3x more).
_DISGUISED_RE = re.compile(
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
    keyworded = _keyword_hits(text, original)
    phones = _phone_hits(text, original)
    if not emails and not keyworded:
        return phones
    return _without_overlaps([emails, keyworded, phones])


# --- links -----------------------------------------------------------------------------

#: Top-level domains recognised for bare domains (with a scheme any host is accepted).
#: Short English words that are also TLDs (to, us, de, it, be) are left out on purpose:
#: "go.to" in English prose is likelier than a link in a Chinese SMS.
_TLDS = (
    "com|cn|net|org|gov|edu|cc|co|me|io|tv|top|xyz|vip|shop|club|site|online|info|biz|"
    "mobi|wang|ren|ltd|link|ink|cloud|app|tech|store|hk|tw|mo|im|ly|gl|gd|la|so|ws|asia"
)

#: Hosts that only redirect. Matched exactly against the lower-cased host.
SHORT_LINK_HOSTS: frozenset[str] = frozenset(
    {
        "t.cn", "dwz.cn", "url.cn", "w.url.cn", "suo.im", "3.cn", "u.jd.com", "tb.cn",
        "m.tb.cn", "c.tb.cn", "bit.ly", "t.co", "tinyurl.com", "goo.gl", "is.gd", "dwz.date",
        "mrw.so", "u.nu", "s.click.taobao.com",
    }
)

_URL_CHARS = r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]"
_HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+(?:" + _TLDS + r")"
# ASCII-only boundaries: Python's \b and \w treat Han as word characters, which would hide
# "访问jd.com" and "点击https://...".
_LINK_RE = re.compile(
    rf"(?P<url>(?<![A-Za-z0-9])(?:[Hh][Tt][Tt][Pp][Ss]?|[Ff][Tt][Pp])://{_URL_CHARS}+)"
    rf"|(?P<domain>(?<![A-Za-z0-9@.\-_/])(?i:{_HOST})(?![A-Za-z0-9\-])(?::[0-9]{{1,5}})?"
    rf"(?:/{_URL_CHARS}*)?)"
)
_TRAILING_PUNCT = ".,;:!?'\"*"
_LINK_PRECHECK_RE = re.compile(r"[.:]")
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


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
