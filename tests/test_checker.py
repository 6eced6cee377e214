"""The checker rejects bad packs before anything runs, saying where and what was meant."""

from __future__ import annotations

import textwrap

import pytest

from compliance.checker.checker import check_files
from compliance.errors import RulesError
from compliance.grammar.parser import parse_text

HEADER = """
pack t {
  fact shop { fans: int, name: str, revoked_on: date?, tags: set[str] }
  fact today: date
  param min_fans: int = 5w
"""


def check(body: str):
    source = textwrap.dedent(HEADER) + textwrap.dedent(body) + "\n}\n"
    return check_files([parse_text(source, "t.rules")], {"t.rules": source})


def errors(body: str) -> str:
    with pytest.raises(RulesError) as info:
        check(body)
    return str(info.value)


def test_clean_pack_checks_and_folds_parameters() -> None:
    packs = check("eligibility fans { require shop.fans >= min_fans }")
    rule = packs["t"].rule("fans")
    assert rule.require.right.value == 50_000  # the parameter became a literal
    assert rule.reads == {("shop", "fans")}


def test_misspelt_field_did_you_mean() -> None:
    text = errors("eligibility fans {\n  require shop.fanz >= 50_000\n}")
    assert "t.rules:7:11: error: unknown field shop.fanz" in text
    assert "did you mean shop.fans?" in text
    assert "^^^^^^^^^" in text


def test_misspelt_function_and_parameter() -> None:
    assert "did you mean width?" in errors('eligibility w { require widht(shop.name) < 3 }')
    assert "did you mean min_fans?" in errors("eligibility w { require shop.fans > min_fan }")


def test_type_mismatches() -> None:
    assert "cannot compare int with str" in errors('eligibility w { require shop.fans == "many" }')
    assert "'require' must be bool, got int" in errors("eligibility w { require shop.fans + 1 }")
    assert "cannot apply '+' to str and int" in errors("eligibility w { require shop.name + 1 == 2 }")
    assert "'in' needs a set or list" in errors('eligibility w { require "a" in shop.name }')


def test_optional_needs_a_null_test_and_narrowing_allows_it() -> None:
    assert "may be null" in errors("eligibility w { require months_between(shop.revoked_on, today) > 3 }")
    check("eligibility w { require shop.revoked_on == null or months_between(shop.revoked_on, today) > 3 }")
    check("eligibility w { when shop.revoked_on != null\n require days_between(shop.revoked_on, today) > 3 }")


def test_duplicate_rule_ids() -> None:
    text = errors("eligibility a { require true }\neligibility a { require false }")
    assert "duplicate rule id a" in text


def test_unreachable_tier() -> None:
    text = errors("""
    eligibility level {
      tier low when shop.fans >= 50
      tier high when shop.fans >= 1000 grant quota = 10w
    }""")
    assert "tier high can never be chosen" in text
    check("""
    eligibility level {
      tier high when shop.fans >= 1000 grant quota = 10w
      tier low when shop.fans >= 50 grant quota = 3w
    }""")


def test_clause_not_allowed_for_kind() -> None:
    assert "'tier' is not allowed in a audience rule" in errors(
        "audience a { over shop\n select shop.fans > 1\n tier x when true }")


def test_example_with_unknown_field_and_missing_field() -> None:
    assert "unknown field shop.fanz" in errors(
        "eligibility a { require shop.fans > 1\n example pass { shop.fanz = 3 } }")
    assert "does not give shop.fans" in errors(
        "eligibility a { require shop.fans > 1\n example pass { shop.name = \"x\" } }")
    assert "shop.fans must be int, got str" in errors(
        'eligibility a { require shop.fans > 1\n example pass { shop.fans = "3" } }')


def test_bad_regex_is_a_check_error() -> None:
    assert "bad regular expression" in errors('eligibility a { require matches(shop.name, "(") }')


def test_every_error_is_reported_in_one_run() -> None:
    with pytest.raises(RulesError) as info:
        check("eligibility a { require shop.fanz > 1 }\neligibility b { require shop.nmae == \"x\" }")
    assert len(info.value.diagnostics) == 2


def test_override_and_disable_of_unknown_rule_suggest() -> None:
    base = "pack base { fact s { n: int }\n eligibility base-rule { require s.n > 1 } }\n"
    child = "pack child { extends base\n override base-rul { severity warning }\n disable base-rle }\n"
    with pytest.raises(RulesError) as info:
        check_files([parse_text(base, "b.rules"), parse_text(child, "c.rules")], {"b.rules": base, "c.rules": child})
    text = str(info.value)
    assert text.count("did you mean base-rule?") == 2


def test_extends_override_and_parameter_change() -> None:
    base = "pack base { fact s { n: int }\n param limit: int = 5\n eligibility base-rule { require s.n > limit } }\n"
    child = "pack child { extends base\n param limit = 9\n override base-rule { severity warning } }\n"
    packs = check_files([parse_text(base, "b.rules"), parse_text(child, "c.rules")],
                        {"b.rules": base, "c.rules": child})
    rule = packs["child"].rule("base-rule")
    assert rule.severity == "warning"
    assert rule.require.right.value == 9
    assert packs["base"].rule("base-rule").require.right.value == 5


def test_include_cycle_is_an_error() -> None:
    a = "pack a { include b }\n"
    b = "pack b { include a }\n"
    with pytest.raises(RulesError) as info:
        check_files([parse_text(a, "a.rules"), parse_text(b, "b.rules")], {"a.rules": a, "b.rules": b})
    assert "includes itself" in str(info.value)


def _diagnostics(body: str, overrides: dict[str, dict[str, object]] | None = None) -> list[str]:
    source = textwrap.dedent(HEADER) + textwrap.dedent(body) + "\n}\n"
    with pytest.raises(RulesError) as info:
        check_files([parse_text(source, "t.rules")], {"t.rules": source}, overrides)
    return [f"{d.pos.line}:{d.pos.column}: {d.message}" for d in info.value.diagnostics]


def test_a_bad_parameter_is_one_error_not_one_per_use() -> None:
    """The root error once, at the parameter: its uses (in conditions, messages, fixes, other
    parameters, `limit` and `during`) are not reported again as unknown names."""
    found = _diagnostics('''
        param x: int = "a"
        param y: int = x + 1
        param windows: list[period] = [period(2026-06-01, x)]
        eligibility a { require shop.fans >= x  message "需要 {x} 个粉丝，{y}" }
        eligibility b { require shop.fans > x + y and x.a == 1 }
        frequency c { classes marketing  scope recipient  window day  limit x  during windows limit y }
    ''')
    assert found == ["7:16: parameter x must be int, got str"]


def test_a_configured_value_that_does_not_fit_is_one_error() -> None:
    found = _diagnostics("eligibility a { require shop.fans >= min_fans }\n"
                         "eligibility b { require shop.fans < min_fans * 2 }",
                         {"t": {"min_fans": "many"}})
    assert len(found) == 1 and "configured value of parameter min_fans does not fit" in found[0]


def test_other_errors_beside_a_bad_parameter_are_still_reported() -> None:
    found = _diagnostics('param x: int = "a"\neligibility a { require shop.fanz >= x }')
    assert [f.split(": ", 1)[1] for f in found] == ["parameter x must be int, got str", "unknown field shop.fanz"]

def test_coerce_is_per_declaration_and_a_later_declaration_that_says_so_wins() -> None:
    """`coerce = true` applies to the fields its declaration lists; declaring a field again
    keeps its coerce unless the new declaration says coerce itself."""
    facts = check("""
      fact shop coerce = true { legacy_count: int }
      fact shop { legacy_count: int, vip: bool }
      fact account coerce = true { fans: int, kind: str }
      fact account coerce = false { kind: str }
      fact level: int coerce = true
      eligibility fans { require shop.fans >= min_fans }
    """)["t"].facts
    coerced = {f"{name}.{fld}": schema.fields[fld].coerce for name, schema in facts.items() if schema.fields
               for fld in schema.fields}
    assert coerced == {"shop.fans": False, "shop.name": False, "shop.revoked_on": False, "shop.tags": False,
                       "shop.legacy_count": True, "shop.vip": False, "account.fans": True, "account.kind": False}
    assert facts["level"].scalar.coerce and not facts["today"].scalar.coerce
