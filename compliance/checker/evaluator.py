"""The reference evaluator: walks the syntax tree. Slow, simple, obviously right.

It is the yardstick the compiled program is tested against (property tests), it folds
constants for the checker, and it explains failures: `explain` returns the values that
decided a rule (``shop.fans = 42000 < 50000``). The compiled program never calls it on the
hot path; only when a rule has already failed and the caller asked for an explanation.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Mapping
from typing import Any

from compliance.grammar import ast
from compliance.checker.functions import REGISTRY

_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "==", "in": "not in", "not_in": "in"}


class Env:
    """What names mean while evaluating: facts, parameters and names bound by the rule."""

    __slots__ = ("facts", "params", "bound")

    def __init__(self, facts: Mapping[str, Any], params: Mapping[str, Any] | None = None,
                 bound: Mapping[str, Any] | None = None):
        self.facts = facts
        self.params = params or {}
        self.bound = bound or {}

    def lookup(self, name: str) -> Any:
        if name in self.bound:
            return self.bound[name]
        if name in self.params:
            return self.params[name]
        return self.facts[name]


def evaluate(expr: ast.Expr, env: Env) -> Any:
    """The value of a checked expression."""
    match expr:
        case ast.Literal(value=value):
            return value
        case ast.Name(name=name):
            return env.lookup(name)
        case ast.Attribute(value=inner, name=name):
            target = evaluate(inner, env)
            if isinstance(target, Mapping):
                return target[name]
            return getattr(target, name)
        case ast.Call(name=name, args=args):
            return REGISTRY[name].impl(*(evaluate(a, env) for a in args))
        case ast.Unary(op="not", operand=operand):
            return not evaluate(operand, env)
        case ast.Unary(op="-", operand=operand):
            return -evaluate(operand, env)
        case ast.Binary(op="and", left=left, right=right):
            return evaluate(left, env) and evaluate(right, env)
        case ast.Binary(op="or", left=left, right=right):
            return evaluate(left, env) or evaluate(right, env)
        case ast.Binary(op=op, left=left, right=right):
            return apply_binary(op, evaluate(left, env), evaluate(right, env))
        case ast.SetLiteral(items=items):
            return frozenset(evaluate(i, env) for i in items)
        case ast.ListLiteral(items=items):
            return tuple(evaluate(i, env) for i in items)
    raise TypeError(f"cannot evaluate {type(expr).__name__}")


def apply_binary(op: str, left: Any, right: Any) -> Any:
    """One binary operator on two values, with the language's meaning."""
    if op in _ARITH:
        # Python's own meaning, as in compiled code (date ± duration counts whole days).
        return _ARITH[op](left, right)
    if op == "==":
        return left is None if right is None else (right is None if left is None else left == right)
    if op == "!=":
        return not apply_binary("==", left, right)
    if op in _ORDER:
        return _ORDER[op](left, right)
    if op == "in":
        return left in right
    if op == "not_in":
        return left not in right
    raise ValueError(f"unknown operator {op}")


def is_constant(expr: ast.Expr, params: Mapping[str, Any] = {}) -> bool:  # noqa: B006 - read only
    """Can the expression be evaluated with no facts (literals, parameters, pure calls)?"""
    match expr:
        case ast.Literal():
            return True
        case ast.Name(name=name):
            return name in params
        case ast.Attribute():
            return False
        case ast.Call(name=name, args=args):
            fn = REGISTRY.get(name)
            return fn is not None and fn.pure and all(is_constant(a, params) for a in args)
        case ast.Unary(operand=operand):
            return is_constant(operand, params)
        case ast.Binary(left=left, right=right):
            return is_constant(left, params) and is_constant(right, params)
        case ast.SetLiteral(items=items) | ast.ListLiteral(items=items):
            return all(is_constant(i, params) for i in items)
    return False


# --------------------------------------------------------------------------------------
# Rendering and explanations
# --------------------------------------------------------------------------------------

_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4, "in": 4,
               "not_in": 4, "+": 5, "-": 5, "*": 6, "/": 6, "neg": 7}


def render(expr: ast.Expr) -> str:
    """Source text of an expression (normalized spacing, minimal parentheses)."""
    return _render(expr, 0)


def _render(expr: ast.Expr, parent: int) -> str:
    match expr:
        case ast.Literal(value=value, text=text):
            return text or format_value(value)
        case ast.Name(name=name):
            return name
        case ast.Attribute(value=inner, name=name):
            return f"{_render(inner, 9)}.{name}"
        case ast.Call(name=name, args=args):
            return f"{name}({', '.join(_render(a, 0) for a in args)})"
        case ast.Unary(op="not", operand=operand):
            text, prec = f"not {_render(operand, 3)}", 3
        case ast.Unary(operand=operand):
            text, prec = f"-{_render(operand, 7)}", 7
        case ast.Binary(op=op, left=left, right=right):
            prec = _PRECEDENCE[op]
            word = "not in" if op == "not_in" else op
            # comparisons do not chain, so both sides bind tighter
            right_prec = prec + 1
            left_prec = prec + 1 if prec == 4 else prec
            text = f"{_render(left, left_prec)} {word} {_render(right, right_prec)}"
        case ast.SetLiteral(items=items):
            return "{" + ", ".join(_render(i, 0) for i in items) + "}"
        case ast.ListLiteral(items=items):
            return "[" + ", ".join(_render(i, 0) for i in items) + "]"
        case _:
            return "?"
    return f"({text})" if prec < parent else text


def format_value(value: Any) -> str:
    """A value as the rules language writes it (used in messages and explanations)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return format_duration(value)
    if type(value).__name__ == "Period":
        return f"period({format_value(value.start)}, {format_value(value.end)})"
    if isinstance(value, frozenset):
        return "{" + ", ".join(sorted(format_value(v) for v in value)) + "}"
    if isinstance(value, tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


def format_duration(value: dt.timedelta) -> str:
    seconds = int(value.total_seconds())
    if seconds == 0:
        return "0s"
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            out.append(f"{amount}{unit}")
    return sign + "".join(out)


def format_plain(value: Any) -> str:
    """A value for a human (Chinese) message: strings without quotes, numbers as written,
    times as 2026-11-25 18:00, durations as 7天 / 24小时 / 1小时30分钟."""
    if isinstance(value, str):
        return value
    if value.__class__ is int:
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, dt.timedelta):
        seconds = int(value.total_seconds())
        if seconds and seconds % 86400 == 0:
            return f"{seconds // 86400}天"
        parts = []
        for unit, size in (("天", 86400), ("小时", 3600), ("分钟", 60), ("秒", 1)):
            amount, seconds = divmod(seconds, size)
            if amount:
                parts.append(f"{amount}{unit}")
        return "".join(parts) or "0秒"
    return format_value(value)


def explain(expr: ast.Expr, env: Env) -> list[str]:
    """The comparisons that decided the value of a boolean expression, as text.

    For ``a and b`` that is false: why the first false operand is false. For ``a or b``
    that is false: why each operand is false. Comparisons read ``shop.fans = 42000 < 50000``:
    the left side's value and the relation that actually holds.
    """
    out: list[str] = []
    _explain(expr, env, out)
    return out


def _explain(expr: ast.Expr, env: Env, out: list[str]) -> Any:
    match expr:
        case ast.Binary(op="and", left=left, right=right):
            left_value = evaluate(left, env)
            if not left_value:
                return _explain(left, env, out)
            right_value = evaluate(right, env)
            if not right_value:
                return _explain(right, env, out)
            _explain(left, env, out)
            _explain(right, env, out)
            return right_value
        case ast.Binary(op="or", left=left, right=right):
            left_value = evaluate(left, env)
            if left_value:
                return _explain(left, env, out)
            right_value = evaluate(right, env)
            if right_value:
                return _explain(right, env, out)
            _explain(left, env, out)
            _explain(right, env, out)
            return right_value
        case ast.Unary(op="not", operand=operand):
            return not _explain(operand, env, out)
        case ast.Binary(op=op, left=left, right=right) if op in _NEGATED:
            lv, rv = evaluate(left, env), evaluate(right, env)
            holds = apply_binary(op, lv, rv)
            shown = op if holds else _NEGATED[op]
            shown = "not in" if shown == "not_in" else shown
            out.append(f"{_side(left, lv)} {shown} {_side(right, rv)}")
            return holds
    value = evaluate(expr, env)
    out.append(f"{render(expr)} = {format_value(value)}")
    return value


def _side(expr: ast.Expr, value: Any) -> str:
    if isinstance(expr, ast.Literal):
        return expr.text or format_value(value)
    return f"{render(expr)} = {format_value(value)}" if not isinstance(expr, (ast.SetLiteral, ast.ListLiteral)) \
        else format_value(value)
