"""Property tests: compiled evaluation equals the reference tree-walking evaluator."""

from __future__ import annotations

import textwrap

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance.grammar import ast
from compliance.checker.checker import check_files
from compliance.compiler.codegen import compile_source, generate
from compliance.checker.evaluator import Env, evaluate, render
from compliance.grammar.parser import parse_text
from compliance.compiler.program import Program

P = ast.NOWHERE
SCHEMA = "fact f { a: int, b: int, x: float, y: float, s: str, t: str, flag: bool }"
ALPHABET = "ab京东 最低价Z"


def lit(value: object) -> ast.Literal:
    return ast.Literal(value, P)


def field(name: str) -> ast.Attribute:
    return ast.Attribute(ast.Name("f", P), name, P)


small_ints = st.integers(-20, 20)
simple_floats = st.integers(-80, 80).map(lambda n: n / 4)
texts = st.text(ALPHABET, max_size=6)


def int_exprs() -> st.SearchStrategy[ast.Expr]:
    leaf = st.one_of(small_ints.map(lit), st.sampled_from(["a", "b"]).map(field))
    return st.recursive(leaf, lambda inner: st.one_of(
        st.tuples(st.sampled_from("+-*"), inner, inner).map(lambda t: ast.Binary(t[0], t[1], t[2], P)),
        st.tuples(st.sampled_from(["abs"]), inner).map(lambda t: ast.Call(t[0], (t[1],), P)),
        st.tuples(st.sampled_from(["min", "max"]), inner, inner).map(lambda t: ast.Call(t[0], (t[1], t[2]), P)),
        str_exprs_flat().map(lambda s: ast.Call("len", (s,), P)),
    ), max_leaves=6)


def str_exprs_flat() -> st.SearchStrategy[ast.Expr]:
    leaf = st.one_of(texts.map(lit), st.sampled_from(["s", "t"]).map(field))
    return st.recursive(leaf, lambda inner: st.one_of(
        st.tuples(st.sampled_from(["lower", "upper", "trim"]), inner).map(lambda t: ast.Call(t[0], (t[1],), P)),
        st.tuples(inner, inner).map(lambda t: ast.Binary("+", t[0], t[1], P)),
    ), max_leaves=3)


def float_exprs() -> st.SearchStrategy[ast.Expr]:
    leaf = st.one_of(simple_floats.map(lit), st.sampled_from(["x", "y"]).map(field))
    return st.recursive(leaf, lambda inner: st.one_of(
        st.tuples(st.sampled_from("+-*/"), inner, st.one_of(inner, int_exprs())).map(
            lambda t: ast.Binary(t[0], t[1], t[2], P)),
        st.tuples(int_exprs(), int_exprs()).map(lambda t: ast.Binary("/", t[0], t[1], P)),
    ), max_leaves=4)


def bool_exprs() -> st.SearchStrategy[ast.Expr]:
    compare = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
    leaf = st.one_of(
        st.booleans().map(lit),
        st.just(field("flag")),
        st.tuples(compare, int_exprs(), int_exprs()).map(lambda t: ast.Binary(t[0], t[1], t[2], P)),
        st.tuples(compare, float_exprs(), st.one_of(float_exprs(), int_exprs())).map(
            lambda t: ast.Binary(t[0], t[1], t[2], P)),
        st.tuples(compare, str_exprs_flat(), str_exprs_flat()).map(lambda t: ast.Binary(t[0], t[1], t[2], P)),
        st.tuples(st.sampled_from(["contains", "startswith", "endswith"]), str_exprs_flat(), texts).map(
            lambda t: ast.Call(t[0], (t[1], lit(t[2])), P)),
        st.tuples(st.sampled_from(["in", "not_in"]), int_exprs(), st.frozensets(small_ints, max_size=4)).map(
            lambda t: ast.Binary(t[0], t[1], ast.SetLiteral(tuple(lit(v) for v in sorted(t[2])), P), P)),
        st.tuples(st.sampled_from(["in", "not_in"]), str_exprs_flat(), st.lists(texts, max_size=3)).map(
            lambda t: ast.Binary(t[0], t[1], ast.ListLiteral(tuple(lit(v) for v in t[2]), P), P)),
    )
    return st.recursive(leaf, lambda inner: st.one_of(
        inner.map(lambda e: ast.Unary("not", e, P)),
        st.tuples(st.sampled_from(["and", "or"]), inner, inner).map(lambda t: ast.Binary(t[0], t[1], t[2], P)),
    ), max_leaves=5)


facts_strategy = st.fixed_dictionaries({
    "f": st.fixed_dictionaries({
        "a": small_ints, "b": small_ints, "x": simple_floats, "y": simple_floats,
        "s": texts, "t": texts, "flag": st.booleans(),
    })
})


def outcome(thunk):
    try:
        return ("value", thunk())
    except (ZeroDivisionError, OverflowError) as exc:
        return ("raises", type(exc).__name__)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=bool_exprs(), facts=st.lists(facts_strategy, min_size=1, max_size=4))
def test_compiled_equals_reference(expr: ast.Expr, facts: list[dict]) -> None:
    source = textwrap.dedent(f"""
        pack prop {{
          {SCHEMA}
          eligibility prop-rule {{ require {render(expr)} }}
        }}""")
    packs = check_files([parse_text(source, "prop.rules")], {"prop.rules": source})
    pack = packs["prop"]
    compiled = generate(pack)
    program = Program.build(pack, compiled, compile_source(compiled, "<prop>"))
    check = program.checks["prop-rule"]
    for fact in facts:
        expected = outcome(lambda: bool(evaluate(expr, Env(fact))))
        got = outcome(lambda: bool(check(fact)))
        assert got == expected, (render(expr), fact, compiled.source)
        unmet = outcome(lambda: program.eligibility(fact)[0] == [])
        assert unmet == expected
