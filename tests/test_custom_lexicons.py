"""Extra lexicons and allowed words given to the engine (from configuration)."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.analyzer.lexicon import build_lexicon
from compliance.engine import Engine
from compliance.errors import RulesError


def test_banned_words_join_a_builtin_lexicon() -> None:
    banned = build_lexicon("ad_law", ["宇宙第一好"], category="ad_law", check=False)
    engine = Engine(lexicons=[banned], use_cache=False)
    report = engine.lint("【好物小铺】宇宙第一好的面霜 回T退订", channel="jd.sms")
    hits = [f for f in report.findings if f.category == "ad_law"]
    assert [report.fields["body"][f.start:f.end] for f in hits] == ["宇宙第一好"]
    plain = Engine().lint("【好物小铺】宇宙第一好的面霜 回T退订", channel="jd.sms")
    assert not [f for f in plain.findings if report.fields["body"][f.start:f.end] == "宇宙第一好"]


def test_allowed_words_remove_hits_inside_them() -> None:
    text = "【好物小铺】极品茶叶店新品上市 回T退订"
    assert any(f.category == "ad_law" for f in Engine().lint(text, channel="jd.sms").findings)
    engine = Engine(allowed_words=["极品茶叶店"], use_cache=False)
    assert not any(f.category == "ad_law" for f in engine.lint(text, channel="jd.sms").findings)


def test_user_rule_can_name_an_extra_lexicon(tmp_path: Path) -> None:
    brands = build_lexicon("competitor", ["某某优选"], category="marketing", check=False)
    rules = tmp_path / "mine.rules"
    rules.write_text(
        'pack mine { extends jd.sms\n channel "jd.sms"\n'
        ' copy no-competitor { category marketing\n on body\n find lexicon("competitor", text)\n'
        ' message "提到竞品“{hit.text}”" } }\n', encoding="utf-8")
    engine = Engine([rules], lexicons=[brands], use_cache=False)
    report = engine.lint("【好物小铺】比某某优选更便宜 回T退订", channel="jd.sms")
    assert [f.message for f in report.findings if f.rule == "no-competitor"] == ["提到竞品“某某优选”"]
    with pytest.raises(RulesError, match="unknown lexicon 'competitor'"):
        Engine([rules], use_cache=False)
