"""Tests for the punctuation scanners (JD-SMS-12)."""

from __future__ import annotations

import pytest

from compliance.analyzer.hits import Hit
from compliance.analyzer.scanners import halfwidth_punctuation, repeated_punctuation


def _apply(text: str, hits: list[Hit]) -> str:
    """Apply every hit's fix (right to left so offsets stay valid)."""
    for hit in sorted(hits, key=lambda h: h.start, reverse=True):
        assert hit.fix is not None
        text = text[: hit.start] + hit.fix + text[hit.end :]
    return text


@pytest.mark.parametrize(
    ("text", "fixed"),
    [
        ("你好,世界!", "你好，世界！"),
        ("今天:晴;明天?", "今天：晴；明天？"),
        ("活动时间:(周一至周五)", "活动时间：（周一至周五）"),
        ('他说"好"', "他说“好”"),
        ('他说"hi there"好', "他说“hi there”好"),
        ("购买(ABC)套装", "购买（ABC）套装"),
        ("套装(ABC)", "套装（ABC）"),
        ("赚到..Are", "赚到……Are"),
        ("Are you ready?机会", "Are you ready？机会"),
        ("英文: Hello", "英文： Hello"),
        ("全場最低價,快來!", "全場最低價，快來！"),
        ("ｏｋ,好", "ｏｋ，好"),
    ],
)
def test_halfwidth_fixes(text: str, fixed: str) -> None:
    hits = halfwidth_punctuation(text)
    assert hits, text
    assert all(text[h.start : h.end] == h.text for h in hits)
    assert all(h.category == "punctuation" and h.kind == "halfwidth_punctuation" for h in hits)
    assert _apply(text, hits) == fixed


@pytest.mark.parametrize(
    "text",
    [
        "Hello, world.",
        "Hello, 世界",
        "折扣3.5折",
        "营业时间10:00-22:00",
        "比例1:2",
        "1.新品上架",
        "好:)好",
        "好(^o^)",
        "地址：北京，电话：010",
        "全角，。！？：；（）“”",
        "",
    ],
)
def test_halfwidth_near_misses(text: str) -> None:
    assert halfwidth_punctuation(text) == []


def test_halfwidth_skips_marks_inside_urls() -> None:
    text = "访问https://m.jd.com/a?x=1:2,谢谢"
    # only the comma after the URL is prose punctuation; "?" and ":" belong to the URL
    assert [(h.text, h.start) for h in halfwidth_punctuation(text)] == [(",", text.index(","))]


def test_halfwidth_labels_and_span() -> None:
    text = "满100元.快来"
    (hit,) = halfwidth_punctuation(text)
    assert (hit.start, hit.end, hit.text, hit.label, hit.fix) == (5, 6, ".", "period", "。")
    assert hit.note == "半角句号"


def test_halfwidth_quotes_alternate_across_text() -> None:
    text = '"一"和"二"'
    assert [h.fix for h in halfwidth_punctuation(text)] == ["“", "”", "“", "”"]


@pytest.mark.parametrize(
    ("text", "runs", "fixes"),
    [
        ("太棒了！！", ["！！"], ["！"]),
        ("真的吗？？？", ["？？？"], ["？"]),
        ("好。。。", ["。。。"], ["。"]),
        ("Sale!!!", ["!!!"], ["!"]),
        ("好，，好", ["，，"], ["，"]),
        ("什么？！！", ["？！！"], ["？"]),
        # half-width repeats in Chinese text: fixed to the full-width mark
        ("新品上架!!欢迎", ["!!"], ["！"]),
        ("新品上架,,欢迎", [",,"], ["，"]),
        ("新品,!!abc", ["!!"], ["！"]),  # the run ",!!" touches Chinese text
    ],
)
def test_repeated_positives(text: str, runs: list[str], fixes: list[str]) -> None:
    hits = repeated_punctuation(text)
    assert [h.text for h in hits] == runs
    assert [h.fix for h in hits] == fixes
    assert all(text[h.start : h.end] == h.text for h in hits)
    assert all(h.category == "punctuation" for h in hits)


@pytest.mark.parametrize(
    "text", ["等等……好", "破折号——好", "真的？！", "Wait... what", "/::)", "好！", "a,b;c", "好..."]
)
def test_repeated_near_misses(text: str) -> None:
    assert repeated_punctuation(text) == []


@pytest.mark.parametrize(
    ("text", "halfwidth", "repeated"),
    [
        ("新品上架!!欢迎", [], [("!!", "！")]),
        ("新品上架...欢迎", [("...", "……")], []),
        ("新品!?欢迎", [("!", "！"), ("?", "？")], []),  # ?! is not a repeat
        ("新品,!!欢迎", [(",", "，")], [("!!", "！")]),
    ],
)
def test_one_problem_one_finding(text: str, halfwidth: list[tuple[str, str]],
                                 repeated: list[tuple[str, str]]) -> None:
    """A run of half-width marks is reported once: as a repeat, or mark by mark, not both."""
    assert [(h.text, h.fix) for h in halfwidth_punctuation(text)] == halfwidth
    assert [(h.text, h.fix) for h in repeated_punctuation(text)] == repeated
