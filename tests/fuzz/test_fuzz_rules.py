"""Fuzzing the rules language: parse → check → compile → run, on generated, mutated and raw input.

The contract every target checks:

* only `ComplianceError` subclasses escape (no RecursionError, KeyError, lark internals, a
  SyntaxError from the generated Python, …);
* every diagnostic names the file and points inside it: line within the source, column within
  that line (+1 for "at the end of the line");
* a source that checks compiles, and each compiled eligibility rule agrees with the reference
  evaluator on a few fixed fact sets (tests/test_property.py covers that in depth for
  expressions; here it is a cross-check on whole generated packs).

Budget: `fuzz.budget` (200 derandomized cases per target in CI, ``COMPLIANCE_FUZZ_EXAMPLES=N``
for a long random run).
"""

from __future__ import annotations

import datetime as dt
import random
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

import compliance.analyzer.primitives  # noqa: F401 - registers the analyzer functions
from compliance.checker.checker import check_files
from compliance.compiler.codegen import compile_source, generate
from compliance.engine import builtin_rule_files
from compliance.errors import ComplianceError, RulesError
from compliance.checker.evaluator import Env, evaluate
from compliance.grammar.parser import parse_text, read_source
from compliance.checker.model import CheckedPack
from compliance.compiler.program import Program
from fuzz.budget import fuzz_settings, require_atheris

pytestmark = pytest.mark.fuzz

FILE = "fuzz.rules"

# --------------------------------------------------------------------------------------
# The pipeline and the contract
# --------------------------------------------------------------------------------------


def assert_positions(error: RulesError, sources: dict[str, str]) -> None:
    """Every diagnostic names a known file, a line in it and a column in that line (+1)."""
    assert error.diagnostics, "a RulesError without diagnostics"
    for diag in error.diagnostics:
        pos = diag.pos
        assert pos.file in sources, (pos, diag.message)
        lines = sources[pos.file].split("\n")
        assert 1 <= pos.line <= len(lines), (pos, diag.message)
        assert 1 <= pos.column <= len(lines[pos.line - 1]) + 1, (pos, diag.message, lines[pos.line - 1][:80])
        diag.render()  # drawing the caret never fails


def build(sources: dict[str, str], parsed: dict[str, Any] | None = None) -> dict[str, Program] | None:
    """Parse, check, compile and load; None when the sources are (correctly) rejected."""
    try:
        files = [parsed[path] if parsed and path in parsed else parse_text(text, path)
                 for path, text in sources.items()]
        packs = check_files(files, sources)
        programs = {}
        for name, pack in packs.items():
            compiled = generate(pack)
            programs[name] = Program.build(pack, compiled, compile_source(compiled, f"<fuzz {name}>"))
        return programs
    except RulesError as exc:
        assert_positions(exc, sources)
        return None
    except ComplianceError:
        return None


# Fact sets every generated pack's eligibility rules are run on (the schema below).
SCHEMA = ("fact f { a: int, b: bool, s: str, x: float, d: date, t: time, dur: duration, "
          "tags: set[str], o: int? = null, at: datetime }\n  fact today: date\n")
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
FACTS = [
    {"f": {"a": 0, "b": False, "s": "", "x": 0.0, "d": dt.date(2024, 1, 1), "t": dt.time(0, 0),
           "dur": dt.timedelta(0), "tags": frozenset(), "o": None,
           "at": dt.datetime(2024, 1, 1, tzinfo=SHANGHAI)}, "today": dt.date(2024, 1, 1)},
    {"f": {"a": 50_000, "b": True, "s": "京东 最低价 ABC", "x": -2.5, "d": dt.date(2026, 6, 18),
           "t": dt.time(21, 30), "dur": dt.timedelta(hours=24), "tags": frozenset({"vip", "新客"}), "o": 3,
           "at": dt.datetime(2026, 6, 18, 10, 0, tzinfo=SHANGHAI)}, "today": dt.date(2026, 6, 18)},
]


def outcome(thunk: Any) -> tuple[str, Any]:
    try:
        return ("value", bool(thunk()))
    except Exception as exc:  # noqa: BLE001 - compared, not hidden
        return ("raises", type(exc).__name__)


def cross_check(pack: CheckedPack, program: Program) -> None:
    """Compiled rule checks equal the reference evaluator on the fixed fact sets."""
    for rule in program.eligibility_rules:
        if rule.tiers or rule.require is None:
            continue
        check = program.checks[rule.id]
        params = {name: p.value for name, p in pack.params.items()}

        def reference(facts: dict[str, Any], rule: Any = rule) -> bool:
            env = Env(facts, params)
            if rule.when is not None and not evaluate(rule.when, env):
                return True
            return evaluate(rule.require, env)

        for facts in FACTS:
            assert outcome(lambda: check(facts)) == outcome(lambda: reference(facts)), rule.id


# --------------------------------------------------------------------------------------
# (a) Grammar-aware generation
# --------------------------------------------------------------------------------------

ODD_TEXT = st.text(st.sampled_from(list("ab京东最低价 \\\"{}\t\u200b\u200f\u202e\ufeff\x00é🎉\u3000#'\n")), max_size=8)


def string_literal(text: str) -> str:
    """A rules-language string literal for text (escapes what must be escaped)."""
    body = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{body}"'


LITERALS = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.sampled_from(["5w", "5万", "3k", "1.5w", "50_000", "0.5", "5%", "12.5%", "24h", "1h30m", "2d", "90s",
                     "11:00", "08:30:15", "25:00", "2024-06-18", "2024-02-30", "2024-06-18T10:00",
                     "2024-06-18T10:00:00+08:00", "2024-06-18T10:00Z", "true", "false", "null",
                     "{}", "[]", '{"a", "b"}', "[1, 2, 3]", "period(2026-06-01, 2026-06-18)"]),
    ODD_TEXT.map(string_literal),
)
NAMES = st.sampled_from(["f.a", "f.b", "f.s", "f.x", "f.d", "f.t", "f.dur", "f.tags", "f.o", "f.at", "today",
                         "p_int", "p_str", "p_set", "text", "hit.start", "f.nope", "nope", "f", "__class__",
                         "f.__class__", "shop.fans"])
FUNCTIONS = st.sampled_from(["len", "lower", "upper", "trim", "contains", "startswith", "endswith", "matches",
                             "abs", "min", "max", "coalesce", "days", "hours", "date_of", "time_of", "period",
                             "lexicon", "nope", "__import__"])
BINARY = st.sampled_from(["or", "and", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "+", "-", "*", "/"])


def expressions() -> st.SearchStrategy[str]:
    leaf = st.one_of(LITERALS, NAMES)
    return st.recursive(leaf, lambda inner: st.one_of(
        st.tuples(inner, BINARY, inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        inner.map(lambda e: f"({e})"),
        inner.map(lambda e: f"not {e}"),
        inner.map(lambda e: f"-{e}"),
        st.tuples(FUNCTIONS, st.lists(inner, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.lists(inner, max_size=3).map(lambda items: "{" + ", ".join(items) + "}"),
        st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
    ), max_leaves=8)


# Boolean conditions that often check, so compile and cross-check get exercised too.
GOOD_CONDITIONS = st.sampled_from([
    "f.a >= 5w", "f.b", "not f.b", 'contains(f.s, "京东")', "f.x < 0.5", "f.d >= 2024-06-18", "f.t < 11:00",
    "f.dur >= 24h", '"vip" in f.tags', "f.o != null and f.o > 2", "f.a * 2 + 1 > p_int", "len(f.s) > 3",
    'lower(f.s) == "abc"', "f.a / 3 > 1.5", "today - f.d > 2d", "f.at > 2026-01-01T00:00", "f.s in p_set",
    'matches(f.s, "[A-Z]{3}")', "min(f.a, 10) == 10", "coalesce(f.o, 0) >= 0", "f.a % 2 == 0",
])
CONDITIONS = st.one_of(GOOD_CONDITIONS, expressions(),
                       st.tuples(GOOD_CONDITIONS, st.sampled_from(["and", "or"]), GOOD_CONDITIONS).map(" ".join),
                       st.tuples(GOOD_CONDITIONS, st.sampled_from(["and", "or"]), expressions()).map(" ".join))
# Mostly conditions that check, so the later stages run often.
MOSTLY_GOOD = st.one_of(GOOD_CONDITIONS, GOOD_CONDITIONS, CONDITIONS)

MESSAGES = st.one_of(
    ODD_TEXT.map(string_literal),
    st.sampled_from(['"粉丝 {f.a} 未达到 {p_int}"', '"{f.s}"', '"{{literal}} {f.b}"', '"{f.__class__}"',
                     '"{0.__globals__}"', '"{__import__(\\"os\\")}"', '"{f.a +}"', '"{"', '"}"', '"{}"',
                     '"""\n  多行 {f.a}\n  """']),
)


@st.composite
def rule_sources(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["eligibility", "eligibility", "copy", "frequency", "schedule", "audience"]))
    rule_id = draw(st.from_regex(r"[a-z][a-z0-9]{0,5}(-[a-z0-9]{1,4}){0,2}", fullmatch=True))
    clauses: list[str] = []
    if draw(st.booleans()):
        clauses.append(f'ref "{draw(st.sampled_from(["JD-SMS-01", "X-1", "WX-PUSH-07", "JD-SMS-01", "bad ref"]))}"')
    if draw(st.booleans()):
        clauses.append(f"severity {draw(st.sampled_from(['error', 'warning', 'info']))}")
    if kind == "eligibility":
        if draw(st.booleans()):
            clauses.append(f"when {draw(MOSTLY_GOOD)}")
        if draw(st.integers(0, 4)) == 0:
            for name in draw(st.lists(st.sampled_from(["gold", "silver", "basic"]), min_size=1, max_size=3)):
                clauses.append(f"tier {name} when {draw(MOSTLY_GOOD)} grant quota = {draw(LITERALS)}")
        else:
            clauses.append(f"require {draw(MOSTLY_GOOD)}")
        for outcome_word in draw(st.lists(st.sampled_from(["pass", "fail"]), max_size=1)):
            clauses.append(f"example {outcome_word} {{ f.a = {draw(LITERALS)}, f.b = true }}")
    elif kind == "copy":
        clauses.append(f"category {draw(st.sampled_from(['ad_law', 'ad_law', 'nope']))}")
        clauses.append(f"on {draw(st.sampled_from(['body', 'body, title', 'nope']))}")
        if draw(st.booleans()):
            clauses.append(f'find lexicon("{draw(st.sampled_from(["absolute_terms", "nope"]))}", text)')
            if draw(st.booleans()):
                clauses.append('fix "更好"')
        else:
            clauses.append(f"require {draw(st.one_of(CONDITIONS, st.just('len(text) < 70')))}")
        clauses.append(f"example {draw(st.sampled_from(['pass', 'fail']))} {draw(ODD_TEXT.map(string_literal))}")
    elif kind == "frequency":
        clauses.append('channels "jd.sms"')
        clauses.append(f"classes {draw(st.sampled_from(['marketing', 'marketing, test']))}")
        clauses.append(f"scope {draw(st.sampled_from(['recipient', 'merchant + recipient', 'nope']))}")
        clauses.append(f"window {draw(st.sampled_from(['day', '2 days', 'rolling 48h', 'rolling 0s', 'month', 'week']))}"
                       + draw(st.sampled_from(["", ' in "Asia/Shanghai"', ' in "Mars/Base"'])))
        clauses.append(f"limit {draw(st.one_of(LITERALS, st.just('p_int')))}")
        if draw(st.booleans()):
            clauses.append(f"during promos limit {draw(LITERALS)}")
        clauses.append(f"example pass {{ count = {draw(st.integers(-1, 5))} }}")
    elif kind == "schedule":
        if draw(st.booleans()):
            clauses.append(f"when {draw(CONDITIONS)}")
        clauses.append(f"earliest {draw(st.one_of(st.just('f.at + 1h'), expressions()))}")
    else:  # audience
        clauses.append("over f")
        clauses.append(f"{draw(st.sampled_from(['select', 'require']))} {draw(CONDITIONS)}")
    if draw(st.booleans()):
        clauses.append(f"message {draw(st.one_of(MESSAGES, st.just(chr(34) + 'f.a = {f.a}' + chr(34))))}")
    clauses = draw(st.permutations(clauses)) if draw(st.integers(0, 5)) == 0 else clauses
    return f"  {kind} {rule_id} {{\n    " + "\n    ".join(clauses) + "\n  }\n"


@st.composite
def pack_sources(draw: st.DrawFn) -> str:
    items = [SCHEMA, "  fact message { body: str, title: str? }\n"]
    items.append(f"  param p_int: int = {draw(st.sampled_from(['5w', '3', '-2', '5万', '5w', '3', '1.5', '5%']))}\n")
    items.append(f'  param p_str = {draw(ODD_TEXT.map(string_literal))}\n')
    items.append('  param p_set: set[str] = {"a", "京东"}\n')
    if draw(st.booleans()):
        items.append("  param promos: list[period] = [period(2026-06-01, 2026-06-18)]\n")
    if draw(st.integers(0, 4)) == 0:
        items.append(f"  param p_extra = {draw(expressions())}\n")
    rules = draw(st.lists(rule_sources(), min_size=1, max_size=4))
    items.extend(rule.replace(" {\n", f"-r{i} {{\n", 1) if i % 4 else rule for i, rule in enumerate(rules))
    header = draw(st.sampled_from(["", "", "", '  title "生成"\n', '  channel "jd.sms"\n', "  include base\n",
                                   "  extends base\n", "  include fuzz\n", "  extends base\n  disable base-rule\n"]))
    base = draw(st.sampled_from(["pack base {\n  fact f { a: int }\n  eligibility base-rule { require f.a > 1 }\n}\n"]))
    return base + "pack fuzz {\n" + header + "".join(items) + "}\n"


@fuzz_settings()
@given(source=pack_sources())
def test_generated_packs_fail_only_with_positioned_rules_errors(source: str) -> None:
    programs = build({FILE: source})
    for name, program in (programs or {}).items():
        cross_check(program.pack, program)


# --------------------------------------------------------------------------------------
# (b) Mutations of the built-in packs
# --------------------------------------------------------------------------------------

BUILTIN_SOURCES = {str(p): p.read_text(encoding="utf-8") for p in builtin_rule_files()}
BUILTIN_PARSED = {path: parse_text(text, path) for path, text in BUILTIN_SOURCES.items()}
TOKEN = re.compile(r"\s+|[A-Za-z_][\w-]*|\d[\w.:%-]*|\"(?:[^\"\\\n]|\\.)*\"|.", re.S)
INSERTS = ["{", "}", "(", ")", "[", "]", ",", ".", "=", "==", "not", "and", "or", "in", '"', '"""', "#", "\n",
           "require", "when", "tier", "message", "example", "pack", "include", "extends", "override", "disable",
           "fact", "param", "5w", "24h", "11:00", "2024-06-18", "null", "-", "*", "/", "{x.__class__}", "\x00",
           "\ufeff", "\u202e", "\u200b", "万", "__import__", "9" * 40]


@st.composite
def mutated_builtin(draw: st.DrawFn) -> tuple[str, str]:
    path = draw(st.sampled_from(sorted(BUILTIN_SOURCES)))
    tokens = TOKEN.findall(BUILTIN_SOURCES[path])
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    for _ in range(draw(st.integers(1, 6))):
        op = rng.choice(["delete", "insert", "swap", "duplicate", "char", "truncate"])
        i = rng.randrange(len(tokens))
        if op == "delete":
            del tokens[i : i + rng.randint(1, 3)]
        elif op == "insert":
            tokens.insert(i, rng.choice(INSERTS))
        elif op == "swap":
            j = rng.randrange(len(tokens))
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif op == "duplicate":
            tokens[i:i] = tokens[i : i + rng.randint(1, 40)]
        elif op == "char" and tokens[i]:
            chars = list(tokens[i])
            chars[rng.randrange(len(chars))] = chr(rng.choice([rng.randrange(32, 127), rng.randrange(0x4E00, 0x9FFF),
                                                               rng.randrange(0, 0x110000)]))
            tokens[i] = "".join(chars).encode("utf-8", "replace").decode("utf-8")
        elif op == "truncate":
            del tokens[max(i, 1):]
        if not tokens:
            tokens = [" "]
    return path, "".join(tokens)


@fuzz_settings()
@given(case=mutated_builtin())
def test_mutated_builtin_packs_fail_only_with_positioned_rules_errors(case: tuple[str, str]) -> None:
    path, text = case
    sources = {**BUILTIN_SOURCES, path: text}
    parsed = {p: tree for p, tree in BUILTIN_PARSED.items() if p != path}
    build(sources, parsed)


# --------------------------------------------------------------------------------------
# (c) Raw text and bytes
# --------------------------------------------------------------------------------------


@fuzz_settings()
@given(text=st.one_of(st.text(max_size=300),
                      st.text(max_size=300).map(lambda t: "pack p {\n fact f { a: int }\n" + t),
                      st.text(st.sampled_from(list('pack{}()[]"#\n =.,:fact eligibility require 1w')), max_size=300)))
def test_random_text_fails_only_with_positioned_rules_errors(text: str) -> None:
    build({FILE: text})


@fuzz_settings()
@given(data=st.binary(max_size=300))
def test_random_bytes_from_a_file_fail_only_with_positioned_rules_errors(data: bytes, tmp_path_factory: Any) -> None:
    path = tmp_path_factory.mktemp("bytes") / "raw.rules"
    path.write_bytes(b"pack p {\n" + data)
    try:
        text = read_source(path)
    except RulesError as exc:
        lines = data.decode("utf-8", "replace").split("\n")
        assert exc.diagnostics[0].pos.file == str(path)
        assert 1 <= exc.diagnostics[0].pos.line <= len(lines) + 1
        return
    build({str(path): text})


# --------------------------------------------------------------------------------------
# The CLI on fuzzed files
# --------------------------------------------------------------------------------------


@fuzz_settings(max_examples=min(20, fuzz_settings().max_examples),
               suppress_health_check=list(HealthCheck))
@given(text=st.one_of(pack_sources(), mutated_builtin().map(lambda case: case[1])))
def test_cli_check_and_test_on_a_fuzzed_file_exit_with_a_message(text: str, tmp_path_factory: Any,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from compliance.cli import main

    path = Path(tmp_path_factory.mktemp("cli")) / "fuzzed.rules"
    path.write_text(text, encoding="utf-8")
    for command in (["check", str(path)], ["test", "--no-cache", str(path)]):
        code = main(command)
        out, err = capsys.readouterr()
        assert code in (0, 1, 2), command
        assert "Traceback" not in out + err
        assert (out + err).strip(), f"{command}: exit {code} with no message"


# --------------------------------------------------------------------------------------
# The atheris harness, briefly
# --------------------------------------------------------------------------------------


def test_atheris_rules_harness_runs_clean_for_a_few_hundred_inputs(tmp_path: Path) -> None:
    """`tests/fuzz/atheris_rules.py` works and finds nothing in a short, seeded run."""
    import subprocess
    import sys

    require_atheris()
    harness = Path(__file__).with_name("atheris_rules.py")
    repo = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, str(harness), "-runs=500", "-seed=1", f"-artifact_prefix={tmp_path}/"],
                            cwd=repo, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Done 500 runs" in result.stderr
