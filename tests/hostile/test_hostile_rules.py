"""Hostile rules files: each gets a clear, positioned error or a working verdict, in bounded time.

Deep nesting, huge files, catastrophic and memory-hungry regular expressions, attempts to reach
Python internals or the file system, and bytes that are not rules text. "Bounded" means a
generous wall-clock limit meant for a loaded 2-core CI box, not a benchmark.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from compliance.engine import Engine
from compliance.errors import EvaluationError, RulesError, RulesSyntaxError
from compliance.grammar.parser import MAX_NESTING, MAX_SOURCE_CHARS, parse_text, read_source

pytestmark = pytest.mark.hostile

HEADER = "pack evil {\n  fact f { a: int, b: bool, s: str }\n  fact message { body: str }\n"


def engine_for(tmp_path: Path, body: str, name: str = "evil.rules") -> Engine:
    path = tmp_path / name
    path.write_text(HEADER + body + "\n}\n", encoding="utf-8")
    return Engine([path], use_cache=False, builtins=False)


def rules_error(tmp_path: Path, body: str, *, within: float = 30.0) -> RulesError:
    """The RulesError loading body raises, checked to point inside the file, within `within` s."""
    started = time.monotonic()
    with pytest.raises(RulesError) as info:
        engine_for(tmp_path, body)
    assert time.monotonic() - started < within
    text = HEADER + body + "\n}\n"
    lines = text.split("\n")
    for diag in info.value.diagnostics:
        assert diag.pos.file.endswith("evil.rules")
        assert 1 <= diag.pos.line <= len(lines)
        assert 1 <= diag.pos.column <= len(lines[diag.pos.line - 1]) + 1
    return info.value


FACTS = {"f": {"a": 1, "b": True, "s": "x"}}

# --------------------------------------------------------------------------------------
# Deep nesting
# --------------------------------------------------------------------------------------


def test_ten_thousand_nested_parentheses_still_give_a_verdict(tmp_path: Path) -> None:
    # Parentheses alone do not nest the expression: ((((f.b)))) is f.b.
    engine = engine_for(tmp_path, "  eligibility r { require " + "(" * 10_000 + "f.b" + ")" * 10_000 + " }")
    assert engine.eligibility(FACTS, "evil").eligible
    assert not engine.eligibility({"f": {**FACTS["f"], "b": False}}, "evil").eligible


@pytest.mark.parametrize(
    ("what", "expression"),
    [
        ("not ×10,000", "not " * 10_000 + "f.b"),
        ("unary minus ×10,000", "-" * 10_000 + "f.a > 0"),
        ("100,000-term or-chain", " or ".join(["f.b"] * 100_000)),
        ("10,000-term sum", " + ".join(["f.a"] * 10_000) + " > 0"),
        ("calls ×5,000", "len(" * 5_000 + "f.s" + ")" * 5_000 + " > 0"),
        ("sets ×5,000", "f.a in " + "{" * 5_000 + "1" + "}" * 5_000),
        ("lists ×5,000", "f.a in " + "[" * 5_000 + "1" + "]" * 5_000),
        ("mixed", "not (" * 3_000 + "f.b" + " or f.b)" * 3_000),
    ],
)
def test_deeply_nested_expressions_are_a_positioned_error(tmp_path: Path, what: str, expression: str) -> None:
    error = rules_error(tmp_path, "  eligibility r {\n    require " + expression + "\n  }", within=60)
    assert isinstance(error, RulesSyntaxError)
    [diag] = error.diagnostics
    assert f"nested deeper than {MAX_NESTING} levels" in diag.message
    assert (diag.pos.line, diag.pos.column) == (5, 13)  # the start of the expression


def test_deeply_nested_types_and_message_values_are_positioned_errors(tmp_path: Path) -> None:
    error = rules_error(tmp_path, "  fact g { x: " + "set[" * 1_000 + "int" + "]" * 1_000 + " }")
    assert "nested deeper than" in str(error)
    error = rules_error(tmp_path, '  eligibility r {\n    require f.b\n    message "{' + "not " * 1_000 + 'f.b}"\n  }')
    assert "nested deeper than" in str(error)
    assert error.diagnostics[0].pos.line == 6


@pytest.mark.parametrize(
    "expression",
    [
        " or ".join(["f.b"] * MAX_NESTING),            # 99 or-nodes + one attribute
        "not " * (MAX_NESTING - 1) + "f.b",
        "-" * (MAX_NESTING - 2) + "f.a < 1",
        " + ".join(["f.a"] * (MAX_NESTING - 2)) + " > 0",
        "lower(" * (MAX_NESTING - 2) + "f.s" + ")" * (MAX_NESTING - 2) + ' == "x"',
        "{" * (MAX_NESTING - 2) + "f.a" + "}" * (MAX_NESTING - 2) + " == " + "{" * (MAX_NESTING - 2) + "f.a"
        + "}" * (MAX_NESTING - 2),
        "[" * (MAX_NESTING - 2) + "f.a" + "]" * (MAX_NESTING - 2) + " == " + "[" * (MAX_NESTING - 2) + "f.a"
        + "]" * (MAX_NESTING - 2),
    ],
)
def test_expressions_at_the_nesting_limit_compile_and_decide(tmp_path: Path, expression: str) -> None:
    # Every stage after the parser (checker, folding, generated Python, CPython's 200-bracket
    # limit) copes with the deepest expression the parser lets through.
    engine = engine_for(tmp_path, "  eligibility r {\n    when f.b\n    require " + expression
                        + '\n    message "{f.a}"\n  }')
    decision = engine.eligibility(FACTS, "evil")
    assert isinstance(decision.eligible, bool)


# --------------------------------------------------------------------------------------
# Huge files and literals
# --------------------------------------------------------------------------------------


def many_rules(count: int) -> str:
    return "".join(f'  eligibility r{i} {{\n    ref "X-{i}"\n    require f.a > {i} and f.s != "x{i}" or not f.b\n'
                   f'    message "rule {i}: {{f.a}}"\n  }}\n' for i in range(count))


def test_a_file_over_the_size_limit_is_refused_at_once(tmp_path: Path) -> None:
    body = many_rules(20_000)  # about 3 MB
    assert len(HEADER + body) > MAX_SOURCE_CHARS
    error = rules_error(tmp_path, body, within=10)
    assert f"the limit is {MAX_SOURCE_CHARS:,}" in str(error)


def test_a_thousand_rules_compile_and_decide_in_bounded_time(tmp_path: Path) -> None:
    started = time.monotonic()
    engine = engine_for(tmp_path, many_rules(1_000))
    decision = engine.eligibility({"f": {"a": 600, "b": True, "s": "y"}}, "evil")
    assert time.monotonic() - started < 60
    assert len(decision.unmet) == 1_000 - 600  # f.a > i fails for i >= 600, and b is true


@pytest.mark.parametrize(
    ("literal", "expected"),
    [("9" * 5_000, "too long"), ("9" * 31, "too long"), ("9" * 40 + "d", "too long"),
     ("99:99", "not a time of day"), ("2024-02-30", "not a calendar date"), ("2024-13-01T10:00", "not a valid date")],
)
def test_absurd_literals_are_positioned_errors(tmp_path: Path, literal: str, expected: str) -> None:
    error = rules_error(tmp_path, f"  param p = {literal}")
    assert expected in str(error)
    assert (error.diagnostics[0].pos.line, error.diagnostics[0].pos.column) == (4, 13)


# --------------------------------------------------------------------------------------
# Regular expressions in user rules
# --------------------------------------------------------------------------------------

CATASTROPHIC = '''  eligibility rx-name { require not matches(f.s, "(a+)+$") }
  copy rx-body {
    category ad_law
    on body
    require not matches(text, "(a+)+$")
  }'''


def test_a_catastrophic_regex_is_a_rule_error_not_a_pass(tmp_path: Path) -> None:
    engine = engine_for(tmp_path, CATASTROPHIC)
    hostile = "a" * 30_000 + "b"
    for attempt in (lambda: engine.eligibility({"f": {"a": 1, "b": True, "s": hostile}}, "evil"),
                    lambda: engine.lint({"body": hostile}, "evil"),
                    lambda: engine.lint("a" * 200_000 + "b", "evil")):
        started = time.monotonic()
        with pytest.raises(EvaluationError, match=r"matches\(\): pattern '\(a\+\)\+\$' ran longer than"):
            attempt()  # fail closed: no decision at all, never "eligible" or "no findings"
        assert time.monotonic() - started < 30
    # The same rules decide normally on ordinary text.
    assert engine.eligibility({"f": {"a": 1, "b": True, "s": "b"}}, "evil").eligible
    assert engine.lint({"body": "aaa"}, "evil").findings


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [("(?:x{65535}){65535}", "counted repeats multiply"),  # would exhaust memory while compiling
     ("(a{1000}){1000}", "counted repeats multiply"),
     ("a{100000}", "counted repeats multiply"),
     ("x" * 2_000, "the limit is 1,000"),
     ("(unclosed", "bad regular expression")],
)
def test_regex_patterns_that_would_hang_or_exhaust_memory_are_refused_at_load(tmp_path: Path, pattern: str,
                                                                               expected: str) -> None:
    error = rules_error(tmp_path, f'  eligibility r {{ require matches(f.s, "{pattern}") }}')
    assert expected in str(error)
    assert error.diagnostics[0].pos.line == 4


# --------------------------------------------------------------------------------------
# Reaching Python internals or the file system
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("  param __class__ = 1", "parameter names may not start with '_'"),
        ("  eligibility r { tier gold when f.b grant __dict__ = 1 }", "grant names may not start with '_'"),
        ("  fact __builtins__: int", "may not start with '_'"),
        ('  eligibility r { require f.b\n message "{f.__class__}" }', "unknown field f.__class__"),
        ('  eligibility r { require f.b\n message "{f.a.__class__}" }', "int has no field __class__"),
        ('  eligibility r { require f.b\n message "{0.__globals__}" }', "int has no field __globals__"),
        ("  eligibility r { require f.b\n message \"{__import__('os')}\" }", "unexpected character"),
        ('  eligibility r { require f.b\n message "{__import__(\\"os\\").system(\\"id\\")}" }', "unexpected"),
        ('  eligibility r { require getattr(f, "a") == 1 }', "unknown function getattr"),
        ('  eligibility r { require f.s == "".__class__ }', "has no field __class__"),
        ("  eligibility r { require lambda == 1 }", "unknown name lambda"),
        ('  include "../../etc/passwd"', "expected a name"),
        ("  extends /etc/passwd", "unexpected /; expected a name"),
        ("  include etc.passwd", "unknown pack etc.passwd"),
        ("  eligibility r\u200bx { require f.b }", "unexpected character '\\u200b'"),
        ("  eligibility \u202er { require f.b }", "unexpected character '\\u202e'"),
    ],
)
def test_reaching_python_or_files_is_a_clear_error(tmp_path: Path, body: str, expected: str) -> None:
    with no_side_effects(tmp_path):
        error = rules_error(tmp_path, body)
    assert expected in str(error)


@contextmanager
def no_side_effects(tmp_path: Path) -> Iterator[list[tuple[str, Any]]]:
    """Fail if loading opens a file outside tmp_path and the package, or starts a process."""
    events: list[tuple[str, Any]] = []
    active = [True]

    def hook(event: str, args: Any) -> None:
        if active[0] and event in ("open", "os.system", "subprocess.Popen", "os.exec", "os.posix_spawn",
                                   "os.remove", "shutil.rmtree"):
            events.append((event, args))

    sys.addaudithook(hook)  # audit hooks cannot be removed; this one goes quiet after the block
    try:
        yield events
    finally:
        active[0] = False
    allowed = (str(tmp_path), str(Path(__file__).resolve().parents[2]), sys.prefix, sys.base_prefix)
    bad = [(e, a) for e, a in events if e != "open" or not str(a[0]).startswith(allowed)]
    assert not bad, bad


def test_source_and_include_never_open_files(tmp_path: Path) -> None:
    secret = tmp_path / "secret.rules"
    secret.write_text("pack secret {\n  fact f { a: int }\n  eligibility s { require f.a > 1 }\n}\n")
    with no_side_effects(tmp_path) as events:
        error = rules_error(tmp_path, f'  source "{secret}"\n  include secret')
    assert "unknown pack secret" in str(error)  # packs are found by name among loaded files, never on disk
    assert not any(str(secret) in str(args) for _, args in events)


def test_strings_that_look_like_code_stay_text(tmp_path: Path) -> None:
    payload = "{0.__globals__} %(x)s \\\"); __import__('os').system('id') #"
    with no_side_effects(tmp_path):
        engine = engine_for(tmp_path, f'  eligibility r {{\n    require f.s == "{payload}"\n'
                                      f'    message "{payload.replace("{0", "{{0").replace("}", "}}")}"\n  }}')
    decision = engine.eligibility(FACTS, "evil")
    assert not decision.eligible
    assert decision.unmet[0].message.startswith("{0.__globals__} %(x)s \"); __import__('os')")


# --------------------------------------------------------------------------------------
# Bytes that are not rules text
# --------------------------------------------------------------------------------------


def test_invalid_utf8_is_a_positioned_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.rules"
    path.write_bytes(b"pack p {\n  title \"caf\xe9\"\n}\n")
    with pytest.raises(RulesSyntaxError) as info:
        read_source(path)
    [diag] = info.value.diagnostics
    assert (diag.pos.file, diag.pos.line, diag.pos.column) == (str(path), 2, 13)
    assert "not UTF-8" in diag.message and "0xe9" in diag.message


@pytest.mark.parametrize(
    ("text", "where", "hint"),
    [("pack p {\n  fact f { a: int }\x00\n}\n", (2, 20), "NUL byte"),
     ("\ufeffpack p {\n}\n", (1, 1), "byte-order mark"),
     # U+2028 is not a line break for the parser: the error and the line shown agree on that
     ("pack p {\n  fact f { a: int }\n  param x = 1\u2028\u2028 \x0c\n  param y = 2\n}\n", (3, 14), None)],
)
def test_nul_bom_and_odd_line_breaks_are_positioned(text: str, where: tuple[int, int], hint: str | None) -> None:
    with pytest.raises(RulesSyntaxError) as info:
        parse_text(text, "odd.rules")
    diag = info.value.diagnostics[0]
    assert (diag.pos.line, diag.pos.column) == where
    assert diag.source_line == text.split("\n")[where[0] - 1]
    if hint:
        assert hint in (diag.hint or "")


def test_zero_width_and_rtl_characters_inside_strings_are_data(tmp_path: Path) -> None:
    engine = engine_for(tmp_path, '  eligibility r { require f.s != "最\u200b低\u202e价\ufeff" }')
    assert engine.eligibility(FACTS, "evil").eligible
    assert not engine.eligibility({"f": {**FACTS["f"], "s": "最\u200b低\u202e价\ufeff"}}, "evil").eligible



def test_fact_defaults_that_do_not_fit_are_all_reported(tmp_path: Path) -> None:
    # found by the long fuzz run: a bad default escaped the checker as an internal exception
    error = rules_error(tmp_path, '  fact g { x: int = "x", y: str = not "y" }\n  fact when_: date = 5')
    messages = [d.message for d in error.diagnostics]
    assert messages == ["default of x must be int, got str", "operand of 'not' must be bool, got str",
                        "default of when_ must be date, got int"]
