"""Fuzz targets for the text pipeline: normalizer, scanners, matcher and `Engine.lint`.

The contract checked on arbitrary and on lexicon-laden text:

* `normalize`: the offset map is non-decreasing, every folded index maps inside the original,
  every folded character comes from folding the original character it maps to, and the
  hit spans the matcher reports round-trip (the original span folds to text containing the term);
* every analyzer primitive returns hits whose span lies inside the text it was given and whose
  ``text`` is that slice, and raises nothing;
* `Engine.lint` on every channel, for a whole string and for a mapping of fields, either returns
  a report or raises a `ComplianceError`; every finding has a known category and severity, a
  span inside its field that is non-empty, a fix only where there is a span, and for a whole
  string the field offsets place each span back in the string; the report serializes to
  UTF-8 JSON.

Budget: `tests.fuzz.budget` (200 derandomized cases per target in CI; ``make fuzz`` runs 20,000).
"""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compliance.analyzer import scanners
from compliance.analyzer.hits import Hit
from compliance.analyzer.lexicon import load_builtin_lexicons
from compliance.analyzer.matcher import default_matcher
from compliance.analyzer.normalize import fold_char, fold_with_origin, normalize
from compliance.errors import ComplianceError
from compliance.findings import CATEGORIES, SEVERITIES
from fuzz.budget import fuzz_settings, require_atheris

pytestmark = pytest.mark.fuzz

# --------------------------------------------------------------------------------------------
# Strategies

#: Characters that exercise each folding and scanning rule: width forms, traditional Chinese,
#: combining marks, invisible and bidi controls, separators between CJK, astral letters and
#: emoji, ligatures, NUL, template and contact syntax, brackets of signatures.
SPECIAL = (
    "最低价第一国家级微信加V信退订回T拒收请回复R京东淘宝官方领券元免费"  # CJK from lexicons
    "訊價體優惠這個會員親愛的號碼"  # traditional
    "ＶＸＱ０１９！？，。：；（）＊．／｜～＃＠"  # full-width
    "\u0301\u0308\u20dd\u0327\u302a"  # combining marks
    "\u200b\u200c\u200d\u2060\ufeff\u00ad"  # zero-width / soft hyphen
    "\u202e\u202d\u202a\u202c\u200e\u200f\u061c\u2066\u2069"  # bidi controls
    " \t\n\r\u3000*·・•_-./|~\x00\x0b\x1c\x85\xa0\u2028"  # separators and controls
    "𝐕𝐗🄵🅅😀👍🏻🇨🇳𠀀𪚥\U0010fffd"  # astral
    "ﬁﬀ㎡½℡㈱Ⅻ⼀ⅰ"  # NFKC expansions
    "ВХаоеαο"  # homoglyphs
    "【】{}[]#$@:?&=%+()\"'<>^_¥￥"  # template, contact, link and punctuation syntax
    "aAvVxXqQ0123456789"
)

#: Arbitrary text: any code point except surrogates (a str from UTF-8 never has one).
ANY_CHAR = st.characters(blacklist_categories=("Cs",))
TEXT_CHAR = st.one_of(st.sampled_from(SPECIAL), ANY_CHAR)


@functools.cache
def _lexicon_material() -> tuple[str, ...]:
    """Every lexicon term, allow word and example: pieces that make the matcher hit."""
    pieces: set[str] = set()
    for lexicon in load_builtin_lexicons().values():
        for entry in lexicon.entries:
            pieces.add(entry.term)
            pieces.update(entry.allow)
            pieces.update(entry.bad)
            pieces.update(entry.good)
    return tuple(sorted(p for p in pieces if p))


#: Message-like pieces: whole messages as copywriters write them (signature, links, contacts,
#: template variables, opt-out), to be mixed with lexicon terms and noise.
MESSAGES = (
    "【京东】", "【好物小铺】", "回T退订", "拒收请回复R", "退订回TD", " 回T退订",
    "亲爱的{name}，您的订单已发货", "尊敬的会员${user}：", "#name#您好", "{{code}}",
    "点击 https://m.jd.com/a?b=1 领取", "详询 13800138000", "加微信 abc_123", "QQ:123456789",
    "t.cn/AbCd", "www.example.com", "jd.com", "满100减20", "￥9.9", "全场5折！！！",
    "最\u200b低\u200b价", "最\u202e低价", "最*低*价", "加 V 信", "薇信", "威信", "(^_^)", "😀😀",
)


def _noise(max_size: int = 6) -> st.SearchStrategy[str]:
    return st.text(TEXT_CHAR, max_size=max_size)


@st.composite
def copy_text(draw: st.DrawFn, max_pieces: int = 12) -> str:
    """Lexicon terms, message pieces and random noise, joined: text where matches happen."""
    piece = st.one_of(st.sampled_from(_lexicon_material()), st.sampled_from(MESSAGES), _noise())
    sep = st.sampled_from(("", "", "", " ", "*", "\u200b", "，", "\n", "·", "-", "\u3000"))
    parts = draw(st.lists(st.tuples(piece, sep), max_size=max_pieces))
    return "".join(p + s for p, s in parts)


#: What the text targets draw from: pure noise, the special alphabet, or lexicon-laden copy.
TEXTS = st.one_of(st.text(TEXT_CHAR, max_size=60), st.text(st.sampled_from(SPECIAL), max_size=40), copy_text())


# --------------------------------------------------------------------------------------------
# Normalizer


def _check_normalized(text: str) -> None:
    norm = normalize(text)
    offsets = list(norm.offsets)
    assert len(offsets) == len(norm.text) + 1
    assert offsets[-1] == len(text)
    assert all(a <= b for a, b in zip(offsets, offsets[1:])), "offset map must be non-decreasing"
    assert all(0 <= o < len(text) for o in offsets[:-1]), "folded index maps outside the original"
    for i, ch in enumerate(norm.text):
        assert ch in fold_char(text[offsets[i]]), (i, ch, text[offsets[i]])
    # The hot path's variant agrees with the public one.
    folded, origin = fold_with_origin(text)
    assert folded == norm.text
    assert (origin is None) == norm.is_identity
    if origin is not None:
        assert list(origin) == offsets[:-1]
    # Spans: non-empty folded spans map to non-empty original spans inside the text, covering
    # the characters they came from.
    n = len(norm.text)
    for start in range(0, n, max(1, n // 7)):
        for end in (start, start + 1, min(n, start + 3), n):
            if not start <= end <= n:
                continue
            o_start, o_end = norm.span(start, end)
            assert 0 <= o_start <= o_end <= len(text)
            if end > start:
                assert o_start < o_end
                assert o_start == offsets[start] and o_end == offsets[end - 1] + 1
            else:
                assert o_start == o_end


@fuzz_settings()
@given(TEXTS)
def test_normalize_offset_map_is_monotonic_and_inside_the_original(text: str) -> None:
    _check_normalized(text)


def _cjk_terms() -> list[str]:
    return [t for t in _lexicon_material() if len(t) >= 2 and all("\u4e00" <= c <= "\u9fff" for c in t)]


@fuzz_settings()
@given(st.lists(st.sampled_from(_cjk_terms()), min_size=1, max_size=4),
       st.text(st.sampled_from(" *·_-./|~\u3000\u200b\u200d\ufeff\u00ad\u202e\u2066\x00\t\n"),
               min_size=1, max_size=3))
def test_normalize_removes_separators_inside_cjk_terms(terms: list[str], seps: str) -> None:
    """A term spelled with separators or invisible characters between its CJK characters
    still folds to the term."""
    for term in terms:
        spread = seps.join(term)
        _check_normalized(spread)
        assert normalize(term).text in normalize(spread).text


# --------------------------------------------------------------------------------------------
# Matcher


def _check_hits(text: str, hits: Any, *, sorted_by_start: bool = True) -> None:
    hits = list(hits)
    for hit in hits:
        assert isinstance(hit, Hit)
        assert 0 <= hit.start < hit.end <= len(text), (hit, len(text))
        assert hit.text == text[hit.start:hit.end]
        assert hit.category in CATEGORIES
        assert hit.severity in SEVERITIES
        assert hit.fix is None or isinstance(hit.fix, str)
    if sorted_by_start:
        assert [h.start for h in hits] == sorted(h.start for h in hits)


def _pattern_terms() -> frozenset[str]:
    from compliance.analyzer.lexicon import load_builtin_lexicons

    return frozenset(normalize(e.term).text for lex in load_builtin_lexicons().values() for e in lex
                     if e.kind == "pattern")


_PATTERN_TERMS = _pattern_terms()


@fuzz_settings()
@given(TEXTS)
def test_matcher_hits_lie_in_the_text_and_round_trip(text: str) -> None:
    matcher = default_matcher()
    hits = matcher.find(text)
    _check_hits(text, hits)
    for hit in hits:
        if hit.term in _PATTERN_TERMS:
            continue  # a pattern entry's regex decides its span; its term is the entry's name
        # The original span folds to text containing the term that matched.
        assert hit.term in normalize(hit.text).text, (hit, normalize(hit.text).text)
    grouped = matcher.find_by_lexicon(text)
    assert sorted((h.start, h.end, h.kind, h.term) for hs in grouped.values() for h in hs) == \
        sorted((h.start, h.end, h.kind, h.term) for h in hits)


# --------------------------------------------------------------------------------------------
# Scanner primitives


#: Registered primitives returning hits (those taking more than the text get fixed arguments).
_HIT_PRIMITIVES = frozenset({
    "halfwidth_punctuation", "repeated_punctuation", "special_symbols", "placeholders",
    "handwritten_values", "embedded_signature_or_optout", "contacts", "links", "signature_problems",
    "brackets", "lexicon", "incomplete_template", "disallowed_links", "as_errors",
})


def _primitive_calls(text: str) -> list[tuple[str, Any]]:
    """Every registered analyzer primitive that returns hits, called on text."""
    from compliance.analyzer import primitives
    from compliance.checker.functions import REGISTRY

    calls: list[tuple[str, Any]] = []
    for name in sorted(_HIT_PRIMITIVES):
        impl = REGISTRY[name].impl
        if name == "lexicon":
            for lexicon in primitives.known_lexicons():
                calls.append((name, impl(lexicon, text)))
                calls.append((name, impl(lexicon, text, "jd")))
        elif name == "as_errors":
            for lexicon in primitives.known_lexicons():
                calls.append((name, impl(tuple(REGISTRY["lexicon"].impl(lexicon, text)), True)))
        elif name == "incomplete_template":
            calls.append((name, impl(text, 3)))
        elif name == "disallowed_links":
            calls.append((name, impl(text, frozenset({"m.jd.com", ".jd.com"}))))
        else:
            calls.append((name, impl(text)))
    return calls


def test_every_registered_hit_primitive_is_fuzzed() -> None:
    """A new primitive returning hits must be added to `_HIT_PRIMITIVES` (and so be fuzzed)."""
    import compliance.analyzer.primitives  # noqa: F401 - registers them
    from compliance.checker.functions import REGISTRY

    returning_hits = {name for name, fn in REGISTRY.items() if fn.signature.endswith("-> list[hit]")}
    assert returning_hits == _HIT_PRIMITIVES


@fuzz_settings()
@given(TEXTS)
def test_scanner_primitives_return_spans_inside_the_text(text: str) -> None:
    for _name, hits in _primitive_calls(text):
        _check_hits(text, hits, sorted_by_start=False)


@fuzz_settings()
@given(TEXTS)
def test_length_scanners_and_message_split(text: str) -> None:
    from compliance.analyzer.primitives import optout_phrases

    assert scanners.char_count(text) >= 0
    assert scanners.width(text) >= 0
    assert scanners.sms_segments(scanners.char_count(text)) >= 0
    parts = scanners.split_message(text, optout_phrases())
    lo, hi = parts.body_span
    assert 0 <= lo <= hi <= len(text) and text[lo:hi] == parts.body
    for span, value in ((parts.signature_span, None), (parts.optout_span, parts.optout)):
        if span is not None:
            assert 0 <= span[0] <= span[1] <= len(text)
            if value is not None:
                assert text[span[0]:span[1]] == value
    if parts.signature_span is not None:
        s, e = parts.signature_span
        assert text[s] == "【" and text[e - 1] == "】"
        assert text[s + 1:e - 1] == parts.signature_name


# --------------------------------------------------------------------------------------------
# engine.lint


@functools.cache
def _engine() -> Any:
    from compliance.engine import Engine

    return Engine()


#: Facts some packs' copy rules read besides the text (given with mappings).
_EXTRA_FACTS = {"wechat.poster": {"poster": {"stages": 3, "invite_count": 5, "reward": "京豆"}}}


def check_report(report: Any, message: str | dict[str, Any], channel: str) -> None:
    """The invariants of one lint report (shared with the atheris harness)."""
    assert report.channel == channel
    assert report.ok == (not any(f.severity == "error" for f in report.findings))
    for finding in report.findings:
        assert finding.category in CATEGORIES, finding
        assert finding.severity in SEVERITIES, finding
        assert isinstance(finding.message, str) and finding.message, finding
        if finding.start is None or finding.end is None:
            assert finding.start is None and finding.end is None, finding
            assert finding.fix is None, finding
            continue
        assert finding.field in report.fields, finding
        text = report.fields[finding.field]
        assert 0 <= finding.start <= finding.end <= len(text), (finding, len(text))
        assert finding.start < finding.end or text == "", (finding, text)
        if finding.fix is not None:
            assert isinstance(finding.fix, str)
            assert finding.fix != text[finding.start:finding.end], ("a fix that changes nothing", finding)
        if isinstance(message, str) and finding.field in report.offsets:
            base = report.offsets[finding.field]
            assert message[base + finding.start:base + finding.end] == text[finding.start:finding.end]
    data = {"ok": report.ok, "channel": report.channel, "findings": [f.to_dict() for f in report.findings],
            "fields": report.fields, "offsets": report.offsets}
    json.dumps(data, ensure_ascii=False).encode("utf-8")  # what the service and --format json write


def lint_checked(message: str | dict[str, Any], channel: str) -> Any:
    """lint, allowing only `ComplianceError`, then the report invariants."""
    try:
        report = _engine().lint(message, channel=channel)
    except ComplianceError as exc:
        assert str(exc)
        return None
    check_report(report, message, channel)
    return report


def _channels() -> list[str]:
    return _engine().channels


@fuzz_settings()
@given(st.sampled_from(sorted(_EXTRA_FACTS) + ["common.copy", "getui.push", "jd.message_box", "jd.sms",
                                              "taobao.weitao", "wechat.account", "wechat.news",
                                              "wechat.qrcode", "wechat.template"]), TEXTS)
def test_lint_whole_string_every_channel(channel: str, text: str) -> None:
    report = lint_checked(text, channel)
    if channel not in _EXTRA_FACTS:
        assert report is not None, "a string message must get a verdict"


def test_fuzzed_channels_are_every_channel() -> None:
    assert set(_channels()) == set(sorted(_EXTRA_FACTS) + [
        "common.copy", "getui.push", "jd.message_box", "jd.sms", "taobao.weitao", "wechat.account",
        "wechat.news", "wechat.qrcode", "wechat.template"])


@fuzz_settings()
@given(st.sampled_from(["common.copy", "getui.push", "jd.message_box", "jd.sms", "taobao.weitao",
                        "wechat.account", "wechat.news", "wechat.poster", "wechat.qrcode",
                        "wechat.template"]),
       st.dictionaries(st.sampled_from(["signature", "body", "optout", "title", "url"]), TEXTS, max_size=5),
       st.booleans())
def test_lint_field_mapping_every_channel(channel: str, fields: dict[str, str], via_template: bool) -> None:
    message: dict[str, Any] = {**fields, **_EXTRA_FACTS.get(channel, {})}
    try:
        report = _engine().lint(message, channel=channel, via_template=via_template)
    except ComplianceError as exc:
        assert str(exc)
        return
    check_report(report, message, channel)


@fuzz_settings()
@given(copy_text(max_pieces=20))
def test_lint_finds_what_the_matcher_finds_in_the_body(text: str) -> None:
    """Lexicon hits in a body surface as findings (spans equal), for the generic copy rules."""
    report = lint_checked({"body": text}, "common.copy")
    assert report is not None
    spans = {(f.start, f.end) for f in report.findings if f.field == "body"}
    for hit in default_matcher().find(text, ["ad_law"]):
        if hit.severity == "error":
            assert any(s <= hit.start and hit.end <= e for s, e in spans), (hit, report.findings)


@fuzz_settings()
@given(st.text(TEXT_CHAR, max_size=20), st.integers(0, 19), st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff"]))
def test_lone_surrogates_are_a_clear_error_not_a_late_encode_failure(text: str, at: int, surrogate: str) -> None:
    """An embedding caller may pass a str with a lone surrogate: lint refuses it up front."""
    from compliance.errors import FactError

    at = min(at, len(text))
    bad = text[:at] + surrogate + text[at:]
    for message in (bad, {"body": bad}):
        with pytest.raises(FactError, match=f"lone surrogate U\\+{ord(surrogate):04X} at character {at}"):
            _engine().lint(message, channel="jd.sms")


# --------------------------------------------------------------------------------------------
# The atheris harness, briefly (``make fuzz`` runs it for a minute)


def test_atheris_lint_harness_runs_clean(tmp_path: Any) -> None:
    import subprocess
    import sys
    from pathlib import Path

    require_atheris()
    harness = Path(__file__).with_name("atheris_lint.py")
    done = subprocess.run([sys.executable, str(harness), "-runs=1500", "-seed=1"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Done 1500 runs" in done.stderr
    assert not list(tmp_path.glob("crash-*"))
