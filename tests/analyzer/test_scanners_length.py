"""Tests for length, width, segments, message splitting and signature characters."""

from __future__ import annotations

import unicodedata

import pytest

from compliance.analyzer.scanners import (
    char_count,
    signature_problems,
    sms_segments,
    split_message,
    width,
)
from compliance.analyzer.scanners.length import KNOWN_WIDE_RANGES

OPTOUTS = ("回T退订", "拒收请回复R", "退订回T")


def _reference_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def test_char_count() -> None:
    assert char_count("") == 0
    assert char_count("京东abc") == 5
    assert char_count("a\r\nb") == 3
    assert char_count("a\nb\rc") == 5
    assert char_count("全場最低價") == 5


@pytest.mark.parametrize(
    "text", ["", "abc", "京东", "ＪＤ全角", "“引号”……——·é", "😀👍🏻", "한국어", "ｶﾀｶﾅ", "\ue006"]
)
def test_width_matches_unicodedata(text: str) -> None:
    assert width(text) == _reference_width(text)


def test_width_examples() -> None:
    assert width("九个汉字的店铺签名啊") == 20
    assert width("ABCDEFGHIJKLMNOPQR") == 18


def test_known_wide_ranges_are_all_wide() -> None:
    # The fast path trusts these blocks without a lookup; prove it for this Python's Unicode.
    for low, high in KNOWN_WIDE_RANGES:
        for code in range(low, high + 1):
            assert unicodedata.east_asian_width(chr(code)) in ("W", "F"), hex(code)


@pytest.mark.parametrize(
    ("n", "segments"), [(0, 1), (1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)]
)
def test_sms_segments(n: int, segments: int) -> None:
    assert sms_segments(n) == segments


def test_sms_segments_rejects_negative() -> None:
    with pytest.raises(ValueError):
        sms_segments(-1)


def _check_spans(text: str) -> None:
    parts = split_message(text, OPTOUTS)
    for value, span in (
        (parts.signature, parts.signature_span),
        (parts.body, parts.body_span),
        (parts.optout, parts.optout_span),
    ):
        if span is None:
            assert value == ""
        else:
            assert text[span[0] : span[1]] == value


@pytest.mark.parametrize(
    ("text", "signature", "body", "optout"),
    [
        ("【店铺】您好，新品上架，回T退订", "【店铺】", "您好，新品上架，", "回T退订"),
        ("新品上架【店铺】", "【店铺】", "新品上架", ""),
        ("新品，拒收请回复R【店铺】", "【店铺】", "新品，", "拒收请回复R"),
        ("  【A】 正文 （退订回T） ", "【A】", "正文", "（退订回T）"),
        ("【A】正文【B】", "【A】", "正文【B】", ""),
        ("【店铺】新品上架回t退订。", "【店铺】", "新品上架", "回t退订。"),
        ("【店鋪】新品上架，回T退訂", "【店鋪】", "新品上架，回T退訂", ""),
        ("只有正文", "", "只有正文", ""),
        ("回T退订", "", "", "回T退订"),
        ("", "", "", ""),
    ],
)
def test_split_message(text: str, signature: str, body: str, optout: str) -> None:
    parts = split_message(text, OPTOUTS)
    assert (parts.signature, parts.body, parts.optout) == (signature, body, optout)
    _check_spans(text)


def test_split_message_signature_name() -> None:
    parts = split_message("【花+】正文", OPTOUTS)
    assert parts.signature_name == "花+"
    assert parts.signature_name_span == (1, 3)
    assert split_message("正文", OPTOUTS).signature_name_span is None


def test_split_message_without_optout_phrases() -> None:
    parts = split_message("正文回T退订", ())
    assert parts.optout == "" and parts.body == "正文回T退订"


@pytest.mark.parametrize(
    ("signature", "bad"),
    [("【99%】", ["%"]), ("【花+】", ["+"]), ("京东★店", ["★"]), ("a_b", ["_"]), ("Nike Store", [" "])],
)
def test_signature_problems(signature: str, bad: list[str]) -> None:
    hits = signature_problems(signature)
    assert [h.text for h in hits] == bad
    assert all(signature[h.start : h.end] == h.text and h.category == "signature" for h in hits)


@pytest.mark.parametrize("signature", ["【花花世界】", "ABC123", "店铺88", "【ＪＤ全角】", "【華為】"])
def test_signature_problems_clean(signature: str) -> None:
    assert signature_problems(signature) == []
