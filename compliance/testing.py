"""Runs the test cases embedded in rule files (``example pass { … }``).

Each example is evaluated by the compiled program and, as a cross-check, by the reference
evaluator; the two must agree with each other and with the expected outcome. Its facts are
first checked the way callers' facts are (`Engine.validate_facts`, strict unless declared
``coerce = true``), so an example cannot pass on a value a caller could not send.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from compliance.grammar import ast
from compliance.engine import Engine
from compliance.checker.evaluator import Env, evaluate
from compliance.checker.model import CheckedPack, CheckedRule

#: Rule kinds whose examples this runner evaluates from facts.
FACT_KINDS = ("eligibility", "audience")
#: Rule kinds whose examples are messages (a rendered text, or fields given as facts).
MESSAGE_KINDS = ("copy",)


@dataclass(frozen=True)
class ExampleResult:
    pack: str
    rule: str
    example: ast.Example
    status: str  # "passed" | "failed" | "skipped"
    detail: str = ""

    @property
    def location(self) -> str:
        return f"{self.example.pos.file}:{self.example.pos.line}"


def example_facts(pack: CheckedPack, rule: CheckedRule, example: ast.Example) -> dict[str, Any]:
    """Nested facts from an example's assignments, with declared defaults for the rest."""
    facts: dict[str, Any] = {}
    for path in rule.reads:
        schema = pack.facts[path[0]]
        if schema.scalar is not None and schema.scalar.has_default:
            facts[path[0]] = schema.scalar.default
        elif schema.fields is not None and len(path) == 2 and schema.fields[path[1]].has_default:
            facts.setdefault(path[0], {})[path[1]] = schema.fields[path[1]].default
    for assignment in example.facts or ():
        value = evaluate(assignment.value, Env({}))
        if len(assignment.target) == 1:
            facts[assignment.target[0]] = value
        else:
            facts.setdefault(assignment.target[0], {})[assignment.target[1]] = value
    return facts


def run_examples(engine: Engine, packs: Iterable[str] | None = None) -> list[ExampleResult]:
    """Evaluate every embedded example of the given packs (default: all), each rule once."""
    results: list[ExampleResult] = []
    names = list(packs) if packs is not None else list(engine.packs)
    for name in names:
        program = engine.programs[name]
        pack = program.pack
        for rule in pack.rules:
            if rule.pack != name:
                continue  # examples run under the pack that defines the rule
            for example in rule.examples:
                results.append(_run_one(engine, pack, rule, example))
    return results


def _run_copy(engine: Engine, pack: CheckedPack, rule: CheckedRule, example: ast.Example) -> ExampleResult:
    """A copy example fails when linting it gives at least one finding of this rule."""
    message: Any
    if example.text is not None:
        message = example.text
    else:
        message = {}
        for assignment in example.facts or ():
            value = evaluate(assignment.value, Env({}))
            if assignment.target[0] == "message":
                message[assignment.target[1]] = value
            elif len(assignment.target) == 2:
                message.setdefault(assignment.target[0], {})[assignment.target[1]] = value
            else:
                message[assignment.target[0]] = value
    try:
        report = engine.lint_program(engine.programs[pack.name], message)
    except Exception as exc:  # noqa: BLE001 - reported as a failed example
        return ExampleResult(pack.name, rule.id, example, "failed", f"raised {exc!r}")
    mine = [f for f in report.findings if f.rule == rule.id]
    if (example.outcome == "fail") != bool(mine):
        got = "; ".join(f"{f.message} [{f.field}:{f.start}-{f.end}]" for f in mine) or "no finding"
        return ExampleResult(pack.name, rule.id, example, "failed",
                             f"expected the rule to {example.outcome}, got: {got}")
    return ExampleResult(pack.name, rule.id, example, "passed")


def _run_frequency(pack: CheckedPack, rule: CheckedRule, example: ast.Example) -> ExampleResult:
    """``count`` earlier sends in one window, then one more: allowed means the example passes.

    Runs through a real in-memory ledger holding only this rule's cap.
    """
    import datetime as dt

    from compliance.compiler.rule_caps import cap_of
    from compliance.frequency import Ledger, Send

    values = {".".join(a.target): evaluate(a.value, Env({})) for a in example.facts or ()}
    cap = cap_of(rule, pack)
    spec = rule.frequency
    assert spec is not None
    earlier_class = values.get("earlier", spec.classes[0])
    judged_class = values.get("judged", spec.classes[0])
    at = _example_moment(cap, values.get("during"))
    channel = sorted(cap.channels)[0] if cap.channels else pack.channel
    with Ledger.open("memory://", [cap]) as ledger:
        for i in range(int(values["count"])):
            ledger.reserve(Send(channel, earlier_class, "m1", "p1", at - dt.timedelta(minutes=i + 1), id=f"e{i}"))
        decision = ledger.peek(Send(channel, judged_class, "m1", "p1", at, id="judged"))
    if decision.allowed != (example.outcome == "pass"):
        got = "allowed" if decision.allowed else "denied: " + "; ".join(v.message for v in decision.violations)
        return ExampleResult(pack.name, rule.id, example, "failed",
                             f"expected the send to {'be allowed' if example.outcome == 'pass' else 'be denied'}, "
                             f"but it was {got}")
    return ExampleResult(pack.name, rule.id, example, "passed")


def _example_moment(cap: Any, during: str | None) -> Any:
    """A moment at 10:00 Asia/Shanghai inside the named period, or outside every period."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    if during is not None:
        for override in cap.overrides:
            if override.name.startswith(f"{during}["):
                start = override.start.astimezone(tz)
                return max(start, start.replace(hour=10, minute=0, second=0, microsecond=0))
        raise ValueError(f"parameter {during} holds no period")
    moment = dt.datetime(2026, 3, 10, 10, 0, tzinfo=tz)
    while any(o.start - dt.timedelta(days=400) <= moment < o.end + dt.timedelta(days=400) for o in cap.overrides):
        moment += dt.timedelta(days=400)
    return moment


def _run_schedule(engine: Engine, pack: CheckedPack, rule: CheckedRule, example: ast.Example) -> ExampleResult:
    """Pass means the send may go out at ``send.at`` under this rule."""
    facts = example_facts(pack, rule, example)
    program = engine.programs[pack.name]
    try:
        from compliance.engine import merge_facts

        facts = merge_facts(facts, engine.validate_facts(facts, program, "schedule", rule=rule))
        assert program.schedules is not None
        result = program.schedules[rule.id](facts)
    except Exception as exc:  # noqa: BLE001 - reported as a failed example
        return ExampleResult(pack.name, rule.id, example, "failed", f"raised {exc!r}")
    if result is None:
        may_go = True
    else:
        allowed, earliest = result
        at = facts.get("send", {}).get("at")
        may_go = bool(allowed) and (earliest is None or at is None or earliest <= at)
    if may_go != (example.outcome == "pass"):
        return ExampleResult(pack.name, rule.id, example, "failed",
                             f"expected the send to {example.outcome}, got {result!r}")
    return ExampleResult(pack.name, rule.id, example, "passed")


def _run_one(engine: Engine, pack: CheckedPack, rule: CheckedRule, example: ast.Example) -> ExampleResult:
    if rule.kind in MESSAGE_KINDS:
        return _run_copy(engine, pack, rule, example)
    if rule.kind == "frequency":
        return _run_frequency(pack, rule, example)
    if rule.kind == "schedule":
        return _run_schedule(engine, pack, rule, example)
    if rule.kind not in FACT_KINDS:
        return ExampleResult(pack.name, rule.id, example, "skipped",
                             f"{rule.kind} examples are not run by this version")
    facts = example_facts(pack, rule, example)
    program = engine.programs[pack.name]
    try:
        facts = engine.validate_facts(facts, program, rule.kind, rule=rule)  # strictly, as callers' facts
        compiled = _passes(program.checks[rule.id](facts), rule)
        reference = _reference(rule, facts)
    except Exception as exc:  # noqa: BLE001 - reported as a failed example
        return ExampleResult(pack.name, rule.id, example, "failed", f"raised {exc!r}")
    expected = example.outcome == "pass"
    if compiled != reference:
        return ExampleResult(pack.name, rule.id, example, "failed",
                             f"compiled program says {compiled}, reference evaluator says {reference}")
    if compiled != expected:
        got = "passes" if compiled else "fails"
        return ExampleResult(pack.name, rule.id, example, "failed",
                             f"expected the rule to {example.outcome}, but it {got}")
    return ExampleResult(pack.name, rule.id, example, "passed")


def _passes(result: Any, rule: CheckedRule) -> bool:
    if rule.tiers:
        return result != -1  # a tier chosen (>= 0) or the rule not applicable (-2)
    return bool(result)


def _reference(rule: CheckedRule, facts: dict[str, Any]) -> bool:
    env = Env(facts)
    if rule.when is not None and not evaluate(rule.when, env):
        return True
    if rule.tiers:
        return any(evaluate(t.condition, env) for t in rule.tiers)
    condition = rule.require if rule.require is not None else rule.select
    assert condition is not None
    return bool(evaluate(condition, env))
