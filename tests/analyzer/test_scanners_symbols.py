"""Tests for the special-symbol scanners (JD-SMS-11) and 【】 outside the signature."""

from __future__ import annotations

import pytest

from compliance.analyzer.scanners import brackets_outside_signature, special_symbols


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("好★棒", [("★", "decorative")]),
        ("※注意", [("※", "decorative")]),
        ("✿❤♥◆●☞✔☆", [(c, "decorative") for c in "✿❤♥◆●☞✔☆"]),
        ("点这里→", [("→", "decorative")]),
        ("笑😀", [("😀", "emoji")]),
        ("爱你❤️", [("❤️", "emoji")]),
        ("一家👨‍👩‍👧人", [("👨‍👩‍👧", "emoji")]),
        ("赞👍🏻", [("👍🏻", "emoji")]),
        ("1️⃣号", [("1️⃣", "emoji")]),
        ("🇨🇳加油", [("🇨🇳", "emoji")]),
        ("\ue022元宵", [("\ue022", "private_use")]),
        ("亲^_^", [("^_^", "kaomoji")]),
        ("好(^o^)", [("(^o^)", "kaomoji")]),
        ("o(╯□╰)o哎", [("o(╯□╰)o", "kaomoji")]),
        ("亲╭(╯x╰)╮", [("╭(╯x╰)╮", "kaomoji")]),
        ("呜T_T", [("T_T", "kaomoji")]),
        ("谢谢:)", [(":)", "kaomoji")]),
        ("送你/:rose 和/:share", [("/:rose", "qq_code"), ("/:share", "qq_code")]),
        ("￥￥抢购", [("￥", "currency"), ("￥", "currency")]),
        ("①新品", [("①", "enclosed")]),
        ("全場優惠★限時", [("★", "decorative")]),
        ("ＶＩＰ專享♥", [("♥", "decorative")]),
    ],
)
def test_special_symbols_positives(text: str, expected: list[tuple[str, str]]) -> None:
    hits = special_symbols(text)
    assert [(h.text, h.label) for h in hits] == expected
    assert all(text[h.start : h.end] == h.text and h.category == "symbol" for h in hits)
    assert [h.start for h in hits] == sorted(h.start for h in hits)


@pytest.mark.parametrize(
    "text",
    [
        "全场5折，满100减20。",
        "价格￥100，¥ 99，￥xx",
        "气温25℃，面积120㎡",
        "Apple® iPhone™ ©2024",
        "2×3÷1",
        "购买(A款)套装",
        "营业时间(10:00-22:00)",
        "活动时间:(周一至周五)",
        "地址:D座",
        "https://m.jd.com/:id",
        "file_name a_b",
        "“引号”……——《书名》【签名】",
    ],
)
def test_special_symbols_near_misses(text: str) -> None:
    assert special_symbols(text) == []


def test_special_symbols_fixes() -> None:
    hits = {h.text: h for h in special_symbols("★😀\ue006^_^→①")}
    assert [hits[t].fix for t in ("★", "😀", "\ue006", "^_^")] == ["", "", "", ""]
    # an arrow or an enclosed number may carry meaning: no automatic fix
    assert hits["→"].fix is None and hits["→"].label == "decorative"
    assert hits["①"].fix is None
    assert hits["①"].severity == "warning"


def test_brackets_outside_signature() -> None:
    text = "【店铺】新品【好消息】上架】"
    hits = brackets_outside_signature(text, (0, 4))
    assert [(h.start, h.text, h.fix) for h in hits] == [
        (6, "【", "“"),
        (10, "】", "”"),
        (13, "】", None),
    ]
    assert all(h.category == "symbol" for h in hits)


def test_brackets_without_signature_and_trailing_signature() -> None:
    text = "正文【店铺】"
    assert brackets_outside_signature(text, (2, 6)) == []
    assert [h.label for h in brackets_outside_signature(text, None)] == ["open", "close"]
    assert brackets_outside_signature("没有括号", None) == []
