"""The rules language parses what the docs show and rejects the rest with positions."""

from __future__ import annotations

import datetime as dt

import pytest

from compliance.grammar import ast
from compliance.errors import RulesSyntaxError
from compliance.grammar.parser import parse_expression, parse_text


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("50_000", 50_000),
        ("5w", 50_000),
        ("5万", 50_000),
        ("1.5w", 15_000),
        ("3k", 3_000),
        ("3.5", 3.5),
        ("5%", 0.05),
        ("24h", dt.timedelta(hours=24)),
        ("10d", dt.timedelta(days=10)),
        ("1h30m", dt.timedelta(minutes=90)),
        ("11:00", dt.time(11, 0)),
        ("2026-06-18", dt.date(2026, 6, 18)),
        ('"京东"', "京东"),
        ('"a\\"b\\n"', 'a"b\n'),
        ("true", True),
        ("null", None),
    ],
)
def test_literals(source: str, value: object) -> None:
    expr = parse_expression(source)
    assert isinstance(expr, ast.Literal)
    assert expr.value == value


def test_datetime_literal_without_offset_is_shanghai() -> None:
    expr = parse_expression("2026-06-18T10:00")
    assert isinstance(expr, ast.Literal)
    assert expr.value.utcoffset() == dt.timedelta(hours=8)


def test_date_is_not_subtraction() -> None:
    expr = parse_expression("today - 2026-01-01")
    assert isinstance(expr, ast.Binary) and expr.op == "-"
    assert isinstance(expr.right, ast.Literal) and expr.right.value == dt.date(2026, 1, 1)


def test_precedence_and_binds_tighter_than_or() -> None:
    expr = parse_expression("a or b and not c")
    assert isinstance(expr, ast.Binary) and expr.op == "or"
    assert isinstance(expr.right, ast.Binary) and expr.right.op == "and"
    assert isinstance(expr.right.right, ast.Unary) and expr.right.right.op == "not"


def test_message_template_holes_have_positions() -> None:
    source = 'pack p {\n  eligibility r-1 {\n    require true\n    message "粉丝 {shop.fans} 不足 {{5万}}"\n  }\n}\n'
    rule = parse_text(source, "t.rules").packs[0].rules[0]
    template = rule.first("message").value
    assert template.parts[0] == "粉丝 "
    hole = template.parts[1]
    assert isinstance(hole, ast.Attribute) and hole.name == "fans"
    assert (hole.pos.line, hole.pos.column) == (4, 18)
    assert template.parts[2] == " 不足 {5万}"


def _syntax_error(source: str) -> str:
    with pytest.raises(RulesSyntaxError) as info:
        parse_text(source, "bad.rules")
    return str(info.value)


def test_misspelt_keyword_gets_did_you_mean_and_caret() -> None:
    text = _syntax_error("pack p {\n  eligibilty r { require true }\n}\n")
    assert text.startswith("bad.rules:2:3: error: unexpected eligibilty")
    assert "  |   ^^^^^^^^^^" in text
    assert "did you mean 'eligibility'?" in text


def test_single_equals_in_condition_hints_double() -> None:
    text = _syntax_error("pack p { eligibility r { require shop.fans = 3 } }")
    assert "bad.rules:1:44" in text
    assert "comparison is written '=='" in text


def test_curly_quotes_hint() -> None:
    assert 'ASCII double quotes' in _syntax_error('pack p { eligibility r { require a == “x” } }')


def test_unclosed_pack_reports_end_of_file() -> None:
    text = _syntax_error("pack p {\n  title \"x\"\n")
    assert "unexpected end of file" in text
    assert "'}'" in text


@pytest.mark.parametrize(
    ("source", "where"),
    [
        ('pack p {\n  title "京东短信\n  param a: int = 1\n}\n', "2:9"),      # runs into the next line
        ('pack p {\n  title "a\\"\n}\n', "2:9"),                              # the last quote is escaped
        ('pack p {\n  title "a"\n  source "x', "3:10"),                         # the file ends inside it
        ('pack p {\n  title """长\n  文本\n}\n', "2:9"),                        # a long string never closed
    ],
)
def test_unclosed_string_names_where_it_starts(source: str, where: str) -> None:
    """Not "unexpected character '\"'": the message says a string is open and where it opened,
    with the file name and the caret on the opening quote."""
    text = _syntax_error(source)
    assert text.startswith(f"bad.rules:{where}: error: unclosed string starting at {where}\n"), text
    line, column = map(int, where.split(":"))
    caret = text.splitlines()[3]
    assert caret.index("^") == caret.index("|") + 2 + (column - 1)
    assert '"""' in text.splitlines()[-1]  # the hint says how to write text over several lines


def test_an_unclosed_string_in_an_expression_is_placed_where_the_expression_is() -> None:
    with pytest.raises(RulesSyntaxError) as info:
        parse_expression('shop.name == "x', "t.rules", line=4, column=9)
    assert str(info.value).startswith("t.rules:4:22: error: unclosed string starting at 4:22")


def test_invalid_clock_and_date_are_errors_at_the_token() -> None:
    assert "25:00 is not a time of day" in _syntax_error("pack p { param t: time = 25:00 }")
    assert "bad.rules:1:26" in _syntax_error("pack p { param d: date = 2026-02-30 }")


def test_reserved_word_as_field_name_is_explained() -> None:
    assert "reserved word" in _syntax_error("pack p { fact f { a: int\n copy: int } }")


def test_unclosed_message_brace() -> None:
    assert "never closed" in _syntax_error('pack p { eligibility r { require true message "a {b" } }')


def test_a_fact_declaration_may_say_coerce() -> None:
    source = ("pack p {\n  fact shop coerce = true { fans: int, coerce: bool }\n  fact today: date coerce = false\n"
              "  fact day: date = 2026-01-01 coerce = true\n  fact other { x: int }\n  param coerce = 3\n}\n")
    facts = {decl.name: decl for decl in parse_text(source, "t.rules").packs[0].facts}
    assert [facts[name].coerce for name in ("shop", "today", "day", "other")] == [True, False, True, None]
    assert [f.name for f in facts["shop"].fields] == ["fans", "coerce"]  # still a field name, and a param
    assert facts["day"].default.value == dt.date(2026, 1, 1)


def test_coerce_takes_true_or_false() -> None:
    assert "expected 'false', 'true'" in _syntax_error("pack p { fact shop coerce = yes { fans: int } }")
    assert "bad.rules:1:36" in _syntax_error("pack p { fact today: date coerce = 1 }")
    assert "did you mean 'coerce'?" in _syntax_error("pack p { fact shop cooerce = true { fans: int } }")
