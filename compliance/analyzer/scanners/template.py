"""Template scanners: placeholders, completeness, hand-written values, embedded extras.

JD-SMS-08 (no bare greeting plus variable), JD-SMS-09 (coupon values and links come from
system variables), JD-SMS-10 (templates already carry signature and opt-out).

Placeholder styles recognised (label → example): ``positional`` ``{0}``, ``brace``
``{name}``, ``dollar`` ``${name}``, ``double_brace`` ``{{name}}``, ``hash`` ``#name#``.
Names are word characters and dots, CJK included (``{姓名}``, ``#店铺名#``).

Counting fixed content words needs jieba, which is imported inside `fixed_content_words`
only (import plus dictionary load ≈ 0.6 s), and only for texts that contain placeholders.
"""

from __future__ import annotations

from functools import lru_cache

import regex

from compliance import recache
from compliance.analyzer.hits import Hit
from compliance.analyzer.normalize import fold_char
from compliance.analyzer.scanners.contact import links

_NAME = r"[^\W\d][\w.]*|\d+"
_PLACEHOLDER_RE = recache.compile(
    rf"\$\{{[ \t]*(?P<dollar>{_NAME})[ \t]*\}}"
    rf"|\{{\{{[ \t]*(?P<double_brace>{_NAME})[ \t]*\}}\}}"
    r"|\{[ \t]*(?P<positional>\d+)[ \t]*\}"
    r"|\{[ \t]*(?P<brace>[^\W\d][\w.]*)[ \t]*\}"
    r"|(?<!#)#(?P<hash>[^\W\d_][\w.]{0,31})#(?!#)"
)
_PLACEHOLDER_PRECHECK_RE = recache.compile(r"[{#]")

_STYLE_NOTES: dict[str, str] = {
    "positional": "位置变量",
    "brace": "命名变量",
    "dollar": "命名变量",
    "double_brace": "命名变量",
    "hash": "命名变量",
}


def placeholders(text: str) -> list[Hit]:
    """Template variables in `text`; label = style, note = the variable's name."""
    if not _PLACEHOLDER_PRECHECK_RE.search(text):
        return []
    hits: list[Hit] = []
    for match in _PLACEHOLDER_RE.finditer(text):
        style = match.lastgroup or ""
        hits.append(Hit(match.start(), match.end(), match.group(), "template", "placeholders",
                        style, "info", match.group(style), None))
    return hits


#: Words that carry no content of their own in a template: greetings, forms of address,
#: pronouns and particles. Linguistic data (not platform policy), hence kept here.
NON_CONTENT_WORDS: frozenset[str] = frozenset(
    {
        # greetings
        "你好", "您好", "你们好", "大家好", "hi", "hello", "hey", "嗨", "哈喽", "哈啰", "hello啊",
        "早上好", "上午好", "中午好", "下午好", "晚上好", "早安", "晚安",
        # forms of address and honorifics
        "亲", "亲们", "亲亲", "亲爱", "亲爱的", "尊敬", "尊敬的", "敬爱的", "用户", "会员",
        "顾客", "客户", "客官", "先生", "女士", "小姐", "朋友", "朋友们", "小主", "宝贝",
        "宝宝", "各位", "大家", "同学", "家人", "家人们", "老板", "贵宾", "vip",
        # pronouns
        "你", "您", "你们", "您们", "我", "我们", "咱们",
        # particles and function words
        "的", "了", "啊", "呀", "吧", "呢", "哦", "噢", "喔", "哈", "嗯", "吗", "嘛", "啦",
        "哟", "哇", "地", "得", "着", "过", "和", "与", "及", "是", "在", "也", "都", "就",
    }
)

_WORD_CHAR_RE = recache.compile(r"\w")


@lru_cache(maxsize=4096)
def fixed_content_words(text: str) -> int:
    """Number of content words in `text` outside placeholders.

    Segmented with jieba; greetings, forms of address, pronouns and particles
    (`NON_CONTENT_WORDS`, compared case-insensitively) and punctuation do not count. The
    result is cached per text because templates repeat across sends.
    """
    from compliance.analyzer.jieba_loader import load_jieba

    jieba = load_jieba()  # deferred: import plus dictionary load costs ~0.6 s

    # Placeholders become a separator so the words around them are not glued together.
    # Fold width, case and traditional characters first (per character, no separator
    # removal): jieba's dictionary is simplified, and 妳好 is as much a greeting as 你好.
    fixed = "".join(map(fold_char, _PLACEHOLDER_RE.sub("\n", text)))
    count = 0
    for token in jieba.lcut(fixed):
        if _WORD_CHAR_RE.search(token) and token.lower() not in NON_CONTENT_WORDS:
            count += 1
    return count


def incomplete_template(text: str, min_words: int) -> list[Hit]:
    """One hit over the whole text when a template has fewer than `min_words` content words.

    Texts without placeholders are not templates and never hit (and never load jieba).
    ``incomplete_template("你好{0}", 1)`` hits; ``"{name}您好，您关注的春季新品已上架，点击
    查看"`` has 6 content words.
    """
    if ("{" not in text and "#" not in text) or not _PLACEHOLDER_RE.search(text):
        return []
    count = fixed_content_words(text)
    if count >= min_words:
        return []
    return [Hit(0, len(text), text, "template", "incomplete_template", "incomplete", "error",
                f"模板内容不完整：固定内容{count}个词，至少需要{min_words}个", None)]


_NUMBER = r"(?:[0-9]+(?:\.[0-9]+)?|[一二三四五六七八九十百千万两]+)"
_COUPON_RE = recache.compile(
    rf"满[ \t]*{_NUMBER}[ \t]*元?[ \t]*(?:立减|减|省|送|返)[ \t]*{_NUMBER}[ \t]*元?"
    rf"|(?:立减|直降|立省|返现)[ \t]*{_NUMBER}[ \t]*元"
    rf"|[¥￥]?[ \t]*{_NUMBER}[ \t]*元[ \t]*(?:无门槛)?(?:优惠券|代金券|现金券|红包|券)"
    r"|[0-9]+(?:\.[0-9]+)?[ \t]*折(?!叠)"
    r"|(?<![一二三四五六七八九十])[一二三四五六七八九](?:点[一二三四五六七八九])?折(?!叠)"
    r"|[¥￥][ \t]*[0-9]+(?:\.[0-9]+)?"
)


def handwritten_values(text: str) -> list[Hit]:
    """Hand-written links and coupon amounts in a template (JD-SMS-09).

    Only texts with placeholders are templates; in them a real URL/short link (label
    ``link``) or a coupon amount such as 满100减20, 20元优惠券, 5折, ￥30 (label
    ``coupon_amount``) must come from a system variable instead.
    """
    if not _PLACEHOLDER_PRECHECK_RE.search(text) or not _PLACEHOLDER_RE.search(text):
        return []
    hits = [
        Hit(link.start, link.end, link.text, "template", "handwritten_values", "link", "error",
            "手写链接，应使用系统变量", None)
        for link in links(text)
    ]
    hits.extend(
        Hit(match.start(), match.end(), match.group(), "template", "handwritten_values",
            "coupon_amount", "error", "手写优惠金额，应使用系统变量", None)
        for match in _COUPON_RE.finditer(text)
    )
    hits.sort(key=lambda hit: hit.start)
    return hits


# `regex` rather than `re`: its first-character analysis of this alternation is ~4x faster.
_EMBEDDED_RE = regex.compile(
    r"(?P<signature>【[^【】\n]{1,30}】)"
    # Traditional forms (退訂, 回覆/回復, 發送) are listed so that CN-04 holds here too.
    r"|(?P<optout>(?:(?:短信)?回[复覆復]?|[发發]送?|编辑|編輯)[ \t]*[A-Za-z0-9]{1,4}[ \t]*"
    r"(?:退[订訂定]|拒收)"
    r"|(?:退[订訂定]|拒收)(?:[请請]?(?:回[复覆復]?|[发發]送?)[ \t]*[A-Za-z0-9]{1,4}(?![A-Za-z0-9]))?"
    r"|回[复覆復]?[ \t]*[TtNn][Dd]?(?![A-Za-z0-9]))"
)


def embedded_signature_or_optout(text: str) -> list[Hit]:
    """A 【signature】 or opt-out wording (退订, 回T, 拒收…) written into a template body.

    JD-SMS-10: the template adds both itself, so the body must not. Labels ``signature``
    and ``optout``.
    """
    if "【" not in text and "退" not in text and "拒" not in text and "回" not in text:
        # every alternative contains one of these characters
        return []
    hits: list[Hit] = []
    for match in _EMBEDDED_RE.finditer(text):
        label = match.lastgroup or ""
        note = "正文自带签名" if label == "signature" else "正文自带退订信息"
        hits.append(Hit(match.start(), match.end(), match.group(), "template",
                        "embedded_signature_or_optout", label, "error", note, None))
    return hits
