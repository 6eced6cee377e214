"""`Engine.lint_many` gives exactly what `Engine.lint` gives, message by message.

The corpus tests lint every corpus message (`compliance.corpora`) both ways and compare a hash
of the serialized reports; on a mismatch they show the first differing reports. Skipped when
the corpora are absent. A hypothesis test mixes strings, mappings, nulls, refused messages
and Arrow inputs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance import corpora
from compliance.errors import ComplianceError, FactError

needs_corpora = pytest.mark.skipif(not corpora.available(), reason="../shared/corpora absent")


def _serialized(report: Any) -> str:
    """Everything a report holds, in order (dataclass reprs: every field, dicts in order)."""
    return repr(report)


def _digest(reports: Iterable[Any]) -> str:
    h = hashlib.sha256()
    for report in reports:
        h.update(_serialized(report).encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def _assert_same(one_by_one: list[Any], batch: list[Any]) -> None:
    assert len(batch) == len(one_by_one)
    if _digest(batch) != _digest(one_by_one):
        for i, (a, b) in enumerate(zip(one_by_one, batch, strict=True)):
            assert _serialized(b) == _serialized(a), f"message {i} differs"
    assert _digest(batch) == _digest(one_by_one)


def _texts() -> list[str]:
    # A fresh string per message, as read from a file: nothing may key on identity.
    return [t[:1] + t[1:] for t in corpora.all_texts()]


@pytest.mark.corpus
@needs_corpora
@pytest.mark.parametrize("via_template", [None, True])
def test_every_corpus_message_jd_sms(engine: Any, via_template: bool | None) -> None:
    texts = _texts()
    one = [engine.lint(t, channel="jd.sms", via_template=via_template) for t in texts]
    _assert_same(one, engine.lint_many(texts, channel="jd.sms", via_template=via_template))


def _as_fields(text: str, i: int) -> dict[str, Any]:
    """A corpus text spread over the fields of a multi-field channel (varied by position)."""
    half = len(text) // 2
    message: dict[str, Any] = {"body": text}
    if i % 3 == 0:
        message = {"title": text[:half], "body": text[half:]}
    elif i % 3 == 1:
        message = {"signature": text[:8], "title": text[8:20], "body": text[20:]}
    if i % 5 == 0:
        message["url"] = "https://m.jd.com/x" if i % 2 else "http://example.com/a"
    return message


@pytest.mark.corpus
@needs_corpora
@pytest.mark.parametrize("channel", ["jd.message_box", "wechat.template"])
def test_every_corpus_message_as_fields(engine: Any, channel: str) -> None:
    messages = [_as_fields(t, i) for i, t in enumerate(_texts())]
    at = dt.datetime(2026, 11, 25, 10)
    one = [engine.lint(m, channel=channel, at=at) for m in messages]
    _assert_same(one, engine.lint_many(messages, channel=channel, at=at))


@pytest.mark.corpus
@needs_corpora
def test_corpus_as_arrow(engine: Any) -> None:
    pa = pytest.importorskip("pyarrow")
    texts = _texts()[:2000]
    one = [engine.lint(t, channel="jd.sms") for t in texts]
    _assert_same(one, engine.lint_many(pa.array(texts), channel="jd.sms"))
    _assert_same(one, engine.lint_many(pa.chunked_array([texts[:700], texts[700:]]), channel="jd.sms"))
    _assert_same(one, engine.lint_many(pa.table({"text": texts}), channel="jd.sms"))


# -- nulls, refused messages, Arrow columns -------------------------------------------------

def test_null_raises_with_its_index_or_gives_none(engine: Any) -> None:
    with pytest.raises(FactError, match="message 1 of the batch is null"):
        engine.lint_many(["【小米旗舰店】新品 回T退订", None], channel="jd.sms")
    out = engine.lint_many(["【小米旗舰店】新品 回T退订", None], channel="jd.sms", nulls="none")
    assert out[1] is None and out[0] == engine.lint("【小米旗舰店】新品 回T退订", channel="jd.sms")
    returned = engine.lint_many([None, "好"], channel="jd.sms", errors="return")
    assert isinstance(returned[0], FactError) and "message 0 of the batch is null" in str(returned[0])


def test_a_refused_message_raises_or_is_returned(engine: Any) -> None:
    bad = {"body": 3}
    with pytest.raises(FactError) as info:
        engine.lint_many(["好", bad], channel="jd.sms")
    assert "(message 1 of the batch)" in getattr(info.value, "__notes__", [])
    out = engine.lint_many(["好", bad, "\ud800"], channel="jd.sms", errors="return")
    assert out[0] == engine.lint("好", channel="jd.sms")
    assert isinstance(out[1], FactError) and "must be text" in str(out[1])
    assert isinstance(out[2], FactError) and "surrogate" in str(out[2])


def test_bad_options_and_inputs(engine: Any) -> None:
    with pytest.raises(ValueError, match="nulls"):
        engine.lint_many([], channel="jd.sms", nulls="skip")
    with pytest.raises(ValueError, match="errors"):
        engine.lint_many([], channel="jd.sms", errors="ignore")
    with pytest.raises(FactError, match="for one message use lint"):
        engine.lint_many("【小米旗舰店】新品", channel="jd.sms")
    assert engine.lint_many([], channel="jd.sms") == []
    assert engine.lint_many(iter(["好"]), channel="jd.sms") == [engine.lint("好", channel="jd.sms")]


def test_arrow_columns(engine: Any) -> None:
    pa = pytest.importorskip("pyarrow")
    table = pa.table({"sig": ["小米旗舰店", None, None], "text": ["全网最低价", "领券", None], "n": [1, 2, 3]})
    out = engine.lint_many(table, channel="jd.sms", fields={"signature": "sig", "body": "text"}, nulls="none")
    assert out == [engine.lint({"signature": "小米旗舰店", "body": "全网最低价"}, channel="jd.sms"),
                   engine.lint({"body": "领券"}, channel="jd.sms"), None]
    batch = table.to_batches()[0]
    assert engine.lint_many(batch, channel="jd.sms", text_column="text", nulls="none")[:2] == \
        [engine.lint("全网最低价", channel="jd.sms"), engine.lint("领券", channel="jd.sms")]
    with pytest.raises(FactError, match="not text"):
        engine.lint_many(pa.array([1, 2]), channel="jd.sms")
    with pytest.raises(FactError, match="no column"):
        engine.lint_many(table, channel="jd.sms", text_column="missing")
    with pytest.raises(FactError, match="not text"):
        engine.lint_many(table, channel="jd.sms", text_column="n")


# -- property: mixed inputs ------------------------------------------------------------------

_PIECES = st.sampled_from([
    "【小米旗舰店】", "【京东】", "全网最低价", "最★低★价", "加薇❤信", "ａｂｃ１２３", "回T退订", "拒收请回复R",
    "第一次下单", "销量第一", "13800138000", "https://m.jd.com/x", "http://evil.example/a", "！！", "，",
    "全網最低價", "\u200b", "J D官方", "优惠卷", "{券面额}", "。", " ", "a", "Q Q 12345678", "好",
])
_TEXT = st.lists(_PIECES, max_size=8).map("".join) | st.text(max_size=30)
_FIELDS = st.fixed_dictionaries({}, optional={"signature": _TEXT, "title": _TEXT, "body": _TEXT, "url": _TEXT})
_MESSAGE = _TEXT | _FIELDS | st.none() | st.just({"body": 3}) | st.just({"bogus": "x"})


def _one_by_one(engine: Any, messages: list[Any], channel: str, **options: Any) -> list[Any]:
    out: list[Any] = []
    for m in messages:
        if m is None:
            out.append(None)
            continue
        try:
            out.append(engine.lint(m, channel=channel, **options))
        except ComplianceError as exc:
            out.append(("error", type(exc), str(exc)))
    return out


def _normalized(results: list[Any]) -> list[Any]:
    return [("error", type(r), str(r)) if isinstance(r, ComplianceError) else r for r in results]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_MESSAGE, max_size=12), st.sampled_from(["jd.sms", "jd.message_box", "wechat.template"]),
       st.sampled_from([None, True, False]), st.sampled_from([None, 40]))
def test_mixed_batches_equal_lint_one_by_one(engine: Any, messages: list[Any], channel: str,
                                             via_template: bool | None, max_chars: int | None) -> None:
    options = {"via_template": via_template, "max_chars": max_chars}
    expected = _one_by_one(engine, messages, channel, **options)
    got = _normalized(engine.lint_many(messages, channel=channel, nulls="none", errors="return", **options))
    assert [_serialized(r) for r in got] == [_serialized(r) for r in expected]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_TEXT | st.none(), max_size=12))
def test_arrow_array_equals_list(engine: Any, texts: list[str | None]) -> None:
    pa = pytest.importorskip("pyarrow")
    if any("\ud800" <= ch <= "\udfff" for t in texts if t for ch in t):
        return  # Arrow cannot hold a lone surrogate
    from_list = _normalized(engine.lint_many(texts, channel="jd.sms", nulls="none", errors="return"))
    from_arrow = _normalized(engine.lint_many(pa.array(texts, pa.string()), channel="jd.sms",
                                              nulls="none", errors="return"))
    assert [_serialized(r) for r in from_arrow] == [_serialized(r) for r in from_list]
