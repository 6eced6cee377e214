"""Tests for the template scanners (JD-SMS-08, -09, -10)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from compliance.analyzer.scanners import (
    embedded_signature_or_optout,
    fixed_content_words,
    handwritten_values,
    incomplete_template,
    placeholders,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("你好{0}", [("{0}", "positional", "0")]),
        ("{name}您好", [("{name}", "brace", "name")]),
        ("${user}您好", [("${user}", "dollar", "user")]),
        ("{{ coupon }}已到账", [("{{ coupon }}", "double_brace", "coupon")]),
        ("#店铺名#上新", [("#店铺名#", "hash", "店铺名")]),
        ("{姓名}和{1}", [("{姓名}", "brace", "姓名"), ("{1}", "positional", "1")]),
    ],
)
def test_placeholders(text: str, expected: list[tuple[str, str, str]]) -> None:
    hits = placeholders(text)
    assert [(h.text, h.label, h.note) for h in hits] == expected
    assert all(text[h.start : h.end] == h.text and h.category == "template" for h in hits)


@pytest.mark.parametrize("text", ["普通文本", "##双井号##", "{}", "{ }", "#1#", "价格{9.9}"])
def test_placeholders_near_misses(text: str) -> None:
    assert placeholders(text) == []


def test_fixed_content_words_ignores_greetings_and_placeholders() -> None:
    assert fixed_content_words("你好{0}") == 0
    assert fixed_content_words("亲爱的{name}会员您好！") == 0
    assert fixed_content_words("{name}您好，您关注的春季新品已上架，点击查看") >= 5


def test_incomplete_template() -> None:
    (hit,) = incomplete_template("你好{0}", 1)
    assert (hit.start, hit.end, hit.category, hit.label) == (0, 5, "template", "incomplete")
    assert incomplete_template("{name}您好，您关注的春季新品已上架，点击查看", 5) == []
    assert incomplete_template("尊敬的{name}先生", 3)
    # not a template at all: never judged (and jieba is not needed)
    assert incomplete_template("你好", 5) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{name}您好，满100减20", [("满100减20", "coupon_amount")]),
        ("{name}送您20元优惠券", [("20元优惠券", "coupon_amount")]),
        ("{name}全场5折，八折起", [("5折", "coupon_amount"), ("八折", "coupon_amount")]),
        ("{name}立减30元，点击t.cn/abc", [("立减30元", "coupon_amount"), ("t.cn/abc", "link")]),
        ("{name}领券https://m.jd.com/c", [("https://m.jd.com/c", "link")]),
        ("{name}￥30", [("￥30", "coupon_amount")]),
    ],
)
def test_handwritten_values(text: str, expected: list[tuple[str, str]]) -> None:
    hits = handwritten_values(text)
    assert [(h.text, h.label) for h in hits] == expected
    assert all(text[h.start : h.end] == h.text for h in hits)


@pytest.mark.parametrize(
    "text",
    [
        "满100减20，点击t.cn/abc",  # not a template: values are the sender's own business
        "{name}您好，{coupon}已到账，点击{link}领取",
        "{name}三折叠伞上新",
    ],
)
def test_handwritten_values_near_misses(text: str) -> None:
    assert handwritten_values(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("【京东】{name}您好", [("【京东】", "signature")]),
        ("{name}新品上架，回T退订", [("回T退订", "optout")]),
        ("{name}新品，拒收请回复R", [("拒收请回复R", "optout")]),
        ("{name}新品，退订回T", [("退订回T", "optout")]),
        ("{name}新品，回复TD退订", [("回复TD退订", "optout")]),
        ("{name}新品，回td", [("回td", "optout")]),
        ("{name}新品，回覆T退訂", [("回覆T退訂", "optout")]),
        ("{name}如需退訂請致電", [("退訂", "optout")]),
    ],
)
def test_embedded_signature_or_optout(text: str, expected: list[tuple[str, str]]) -> None:
    hits = embedded_signature_or_optout(text)
    assert [(h.text, h.label) for h in hits] == expected
    assert all(text[h.start : h.end] == h.text and h.category == "template" for h in hits)


@pytest.mark.parametrize("text", ["{name}回复您的问题", "{name}回来看看", "新品上架"])
def test_embedded_near_misses(text: str) -> None:
    assert embedded_signature_or_optout(text) == []


def test_importing_the_scanners_does_not_import_jieba() -> None:
    # jieba's import and dictionary load (~0.6 s) must stay off the start-up path.
    code = "import sys, compliance.analyzer.scanners; print('jieba' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"
