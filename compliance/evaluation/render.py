"""The evaluation text of a corpus line: what is labelled, linted and scored.

* ``sms_spam_zh.tsv``: the text after the tab, exactly as distributed (its digits are masked
  as ``x``: ``138xxxxxxxx`` is still a phone number, and is labelled as one).
* ``fbs_*.txt``: the line is word-segmented and its contacts and names were replaced by
  placeholders. Each placeholder is rendered into a realistic value, deterministically (a
  `random.Random` seeded with ``"file:line"``), then the line is rejoined as
  `compliance.corpora.rejoin` does: spaces between two CJK characters are removed, and so are
  spaces between a rendered number (``DIGIT``) and a CJK character. The result is stripped.

The rendered ``PHONE``, ``CELLPHONE``, ``HOTLINE``, ``WECHAT`` and ``URL`` values are contacts by
construction (the dataset marked them): `EvalText.auto_spans` gives them as gold ``contact``
spans with origin ``"placeholder"``. docs/accuracy.md lists every format drawn.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "CONTACT_PLACEHOLDERS",
    "EvalText",
    "RenderedPlaceholder",
    "TSV_FILE",
    "evaluation_text",
    "text_sha",
]

#: The one tab-separated corpus file; every other corpus file is an FBS file.
TSV_FILE = "sms_spam_zh.tsv"
#: Placeholders whose rendering is a contact (gold ``contact`` by construction).
CONTACT_PLACEHOLDERS: frozenset[str] = frozenset({"PHONE", "CELLPHONE", "HOTLINE", "WECHAT", "URL"})

#: The FBS placeholders. ``URL`` may have letters and digits glued after it (``URLab12cd``):
#: they are the link's path. Longest first (``CELLPHONE`` before ``PHONE``). Rare tokens of the
#: data (``BANK``, 5 times; the typo ``CELLPHON``) and the literal word ``QQ`` stay as written.
_PLACEHOLDER = re.compile(r"CELLPHONE|HOTLINE|PHONE|WECHAT|URL(?P<tail>[a-z0-9]*)|NAME|PLACE|DIGIT")
#: Same character class as `compliance.corpora.CJK_GAP` (CJK, CJK punctuation, full width).
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
_ALNUM = re.compile(r"[A-Za-z0-9]")

_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "176", "177", "178", "180", "181", "182",
    "183", "184", "185", "186", "187", "188", "189", "191", "198", "199",
)
#: Area codes: 3-digit ones take 8-digit local numbers, 4-digit ones 7 or 8.
_AREA_CODES = ("010", "020", "021", "022", "023", "025", "027", "028", "029", "0571", "0574",
               "0755", "0512", "0531", "0532", "0591", "0731", "0371", "0851", "0769")
_LINK_DOMAINS = ("t.cn", "dwz.cn", "url.cn", "suo.im", "sina.lt", "w.url.cn")
_WECHAT_WORDS = ("lily", "meimei", "xiaoya", "shop", "vip", "mall", "beauty", "home", "kefu",
                 "tina", "amy", "yoyo", "sunny", "happy", "abc", "jia")
#: Neutral names and places: none contains a lexicon term of any category, or a brand.
_NAMES = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄丽", "吴敏", "徐强",
          "孙悦", "马琳", "朱红", "胡军", "郭涛", "林平")
_PLACES = ("朝阳路", "人民广场", "中山路", "解放大道", "滨江新区", "建设路", "高新区",
           "五一广场", "东湖路", "新华街", "城南", "西湖区", "南京东路", "文化广场")
_LETTERS = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
_CODE_CHARS = _LETTERS + "23456789"


@dataclass(frozen=True, slots=True)
class RenderedPlaceholder:
    """Where a placeholder's rendered value lies in the evaluation text."""

    placeholder: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class EvalText:
    """The text of one corpus line as it is labelled and linted.

    Attributes:
        file: corpus file basename.
        line: 1-based line number in that file.
        text: the evaluation text.
        placeholders: the FBS placeholders rendered into ``text`` (empty for the TSV file).
    """

    file: str
    line: int
    text: str
    placeholders: tuple[RenderedPlaceholder, ...] = ()

    @property
    def id(self) -> str:
        """``"file:line"``."""
        return f"{self.file}:{self.line}"

    @property
    def sha(self) -> str:
        """Short hash of ``text`` (`text_sha`)."""
        return text_sha(self.text)

    def auto_spans(self) -> list[tuple[int, int, str]]:
        """(start, end, placeholder) of every rendered contact: gold ``contact`` by construction."""
        return [(p.start, p.end, p.placeholder) for p in self.placeholders
                if p.placeholder in CONTACT_PLACEHOLDERS]


def text_sha(text: str) -> str:
    """The first 12 hex digits of the SHA-256 of ``text``: ties labels to the exact text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def evaluation_text(file: str, line: int, raw: str) -> EvalText:
    """The evaluation text of line ``line`` (1-based) of corpus file ``file``.

    ``raw`` is the line as distributed: for the TSV file, the whole ``label<TAB>text`` line or
    just its text; for an FBS file, the segmented line.
    """
    if file == TSV_FILE:
        return EvalText(file, line, raw.partition("\t")[2] if "\t" in raw else raw)
    return _render_fbs(file, line, raw)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _mobile(rng: random.Random) -> str:
    prefix, middle, last = rng.choice(_MOBILE_PREFIXES), _digits(rng, 4), _digits(rng, 4)
    style = rng.random()
    if style < 0.55:
        return prefix + middle + last
    if style < 0.70:
        return f"{prefix} {middle} {last}"
    if style < 0.85:
        return f"{prefix}-{middle}-{last}"
    if style < 0.90:
        return rng.choice(("+86 ", "+86")) + prefix + middle + last
    return f"{prefix}****{last}"


def _landline(rng: random.Random) -> str:
    area = rng.choice(_AREA_CODES)
    local = rng.choice("2345678") + _digits(rng, 7 if len(area) == 3 or rng.random() < 0.5 else 6)
    style = rng.random()
    if style < 0.50:
        return f"{area}-{local}"
    if style < 0.65:
        return f"{area} {local}"
    if style < 0.75:
        return f"({area}){local}"
    if style < 0.85:
        return area + local
    return local


def _service_number(rng: random.Random) -> str:
    prefix = "400" if rng.random() < 0.8 else "800"
    a, b = rng.choice("123456789") + _digits(rng, 2), _digits(rng, 4)
    style = rng.random()
    if style < 0.6:
        return f"{prefix}-{a}-{b}"
    if style < 0.85:
        return prefix + a + b
    return f"{prefix} {a} {b}"


def _phone(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.45:
        return _mobile(rng)
    if kind < 0.85:
        return _landline(rng)
    return _service_number(rng)


def _hotline(rng: random.Random) -> str:
    return _service_number(rng) if rng.random() < 0.6 else _landline(rng)


def _wechat(rng: random.Random) -> str:
    if rng.random() < 0.15:  # 微信同号: the mobile number is the WeChat id
        return rng.choice(_MOBILE_PREFIXES) + _digits(rng, 8)
    word = rng.choice(_WECHAT_WORDS)
    return word + rng.choice(("", "_", "_", "-")) + _digits(rng, rng.randint(max(3, 6 - len(word)), 6))


def _url(rng: random.Random, tail: str) -> str:
    path = tail or "".join(rng.choice(_CODE_CHARS) for _ in range(rng.randint(5, 7)))
    scheme = rng.choice(("", "", "http://", "https://"))
    if rng.random() < 0.2:
        host = "www." + rng.choice(_WECHAT_WORDS) + _digits(rng, rng.randint(2, 4)) + ".com"
        return f"{scheme}{host}/{tail}" if tail else scheme + host
    return f"{scheme}{rng.choice(_LINK_DOMAINS)}/{path}"


def _number(rng: random.Random) -> str:
    size = rng.choices((1, 2, 3), weights=(4, 4, 2))[0]
    return rng.choice("123456789") + _digits(rng, size - 1)


_RENDERERS: dict[str, Callable[[random.Random], str]] = {
    "PHONE": _phone,
    "CELLPHONE": _mobile,
    "HOTLINE": _hotline,
    "WECHAT": _wechat,
    "NAME": lambda rng: rng.choice(_NAMES),
    "PLACE": lambda rng: rng.choice(_PLACES),
    "DIGIT": _number,
}


def _render_fbs(file: str, line: int, raw: str) -> EvalText:
    rng = random.Random(f"{file}:{line}")
    out: list[str] = []
    size = 0
    rendered: list[tuple[str, int, int]] = []  # placeholder, start, end in the joined-up string
    pos = 0
    for match in _PLACEHOLDER.finditer(raw):
        before = raw[pos:match.start()]
        name = "URL" if match.group(0).startswith("URL") else match.group(0)
        value = _url(rng, match.group("tail")) if name == "URL" else _RENDERERS[name](rng)
        if name in CONTACT_PLACEHOLDERS and before and _ALNUM.match(before[-1]):
            before += " "  # abcWECHAT: keep the contact apart from the letters glued to it
        out.append(before)
        size += len(before)
        if (name in CONTACT_PLACEHOLDERS and rendered and rendered[-1][2] == size
                and rendered[-1][0] in CONTACT_PLACEHOLDERS):
            out.append(" ")  # PHONEPHONE, URLWECHAT: two contacts, not one
            size += 1
        out.append(value)
        rendered.append((name, size, size + len(value)))
        size += len(value)
        pos = match.end()
        after = raw[pos:pos + 1]
        if name in CONTACT_PLACEHOLDERS and after and _ALNUM.match(after):
            out.append(" ")  # PHONEab, CELLPHONE0: not glued to what follows
            size += 1
    out.append(raw[pos:])
    joined = "".join(out)
    return _rejoin(file, line, joined, rendered)


def _rejoin(file: str, line: int, text: str, rendered: list[tuple[str, int, int]]) -> EvalText:
    """Remove the segmentation spaces (see the module docstring), keeping the spans in step."""
    digit = bytearray(len(text))
    for name, start, end in rendered:
        if name == "DIGIT":
            digit[start:end] = b"\x01" * (end - start)

    def cjk(i: int) -> bool:
        return _CJK.match(text[i]) is not None

    def joinable(i: int) -> bool:
        return cjk(i) or digit[i] == 1

    keep = bytearray(b"\x01" * len(text))
    for run in re.finditer(r" +", text):
        left, right = run.start() - 1, run.end()
        if left >= 0 and right < len(text) and joinable(left) and joinable(right) and (cjk(left) or cjk(right)):
            keep[run.start():run.end()] = b"\x00" * (run.end() - run.start())
    # Strip: outer whitespace goes too.
    stripped = text.strip()
    lead = len(text) - len(text.lstrip())
    for i in range(lead):
        keep[i] = 0
    for i in range(lead + len(stripped), len(text)):
        keep[i] = 0
    new_index = [0] * (len(text) + 1)
    kept: list[str] = []
    count = 0
    for i, ch in enumerate(text):
        new_index[i] = count
        if keep[i]:
            kept.append(ch)
            count += 1
    new_index[len(text)] = count
    placeholders = tuple(RenderedPlaceholder(name, new_index[start], new_index[end])
                         for name, start, end in rendered)
    return EvalText(file, line, "".join(kept), placeholders)
