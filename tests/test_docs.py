"""Published docs say what the code does."""

from __future__ import annotations

from pathlib import Path

from compliance.catalogue import render_markdown
from compliance.engine import Engine

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_catalogue_is_up_to_date(engine: Engine) -> None:
    assert (DOCS / "CATALOGUE.md").read_text(encoding="utf-8") == render_markdown(engine), \
        "docs/CATALOGUE.md is stale: run `python -m compliance.catalogue > docs/CATALOGUE.md`"


def test_pack_howto_example_checks(tmp_path: Path) -> None:
    """The pack written in docs/writing-a-pack.md loads and its examples pass."""
    from compliance.testing import run_examples

    text = (DOCS / "writing-a-pack.md").read_text(encoding="utf-8")
    start = text.index("<!-- pack -->")
    body = text[start:].split("```", 2)[1].split("\n", 1)[1]
    path = tmp_path / "acme.rules"
    path.write_text(body, encoding="utf-8")
    engine = Engine([path], use_cache=False)
    results = run_examples(engine, ["acme.push"])
    assert len(results) >= 8
    assert all(r.status == "passed" for r in results), [r.detail for r in results if r.status != "passed"]
    assert {r.kind for r in engine.packs["acme.push"].rules if r.pack == "acme.push"} == \
        {"eligibility", "copy", "frequency", "schedule"}


def test_rules_language_coerce_example_loads_and_coerces(tmp_path: Path) -> None:
    """The `coerce = true` pack in docs/rules-language.md loads and reads its fields leniently."""
    text = (DOCS / "rules-language.md").read_text(encoding="utf-8")
    section = text[text.index("## Facts: strict types"):]
    body = section.split("```", 4)[3].split("\n", 1)[1]
    assert "coerce = true" in body
    path = tmp_path / "my_shop.rules"
    path.write_text(body, encoding="utf-8")
    engine = Engine([path], use_cache=False)
    shop = {"fans": "60000", "private_posts_last_month": 52, "avg_material_uv": 210.5, "category_avg_uv": 150.0,
            "bottom3_click_rate_months": 0, "messages_last_month": 24, "revoked_on": None}
    assert engine.eligibility({"shop": shop, "today": "2026-11-25"}, channel="jd.message_box").eligible
    assert engine.program("jd.message_box").pack.facts["vip_level"].scalar.coerce


def test_lexicon_doc_examples_load_and_pass() -> None:
    """The pattern and lawful entries shown in docs/lexicons.md load, and their examples pass."""
    import tomllib

    from compliance.analyzer.lexicon import build_lexicon, check_examples

    text = (DOCS / "lexicons.md").read_text(encoding="utf-8")
    blocks = [b.split("\n", 1)[1] for b in text.split("```toml")[1:]]
    entries = [tomllib.loads(b.split("```", 1)[0])["entry"][0] for b in blocks[1:]]
    assert {e.get("kind") for e in entries} == {"pattern", "lawful"}
    lexicon = build_lexicon("doc", [*entries, {"term": "最高", "bad": "最高品质"},
                                    {"term": "最低价", "bad": "全网最低价"}], category="ad_law")
    assert check_examples(lexicon, use_jieba=True) == []
