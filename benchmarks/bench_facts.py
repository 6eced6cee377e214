"""Strict fact validation on the public call: `engine.eligibility` vs a hand-written check.

Run: .venv/bin/python -m pytest benchmarks/bench_facts.py -q -s -p no:cacheprovider --benchmark-columns=min,median,ops,rounds
Target (issue 18): the public call, strict validation included, within 5× the hand-written
Python check of the same rules (`bench_eligibility.hand_written`, JD-MB-01…04).

Also measured, to choose how to validate: the generated per-schema validator
(`compliance.facts.build_validator`, what the engine uses), a pydantic ``TypeAdapter`` over
strict TypedDicts of the same schema built once and cached (the other candidate; it is measured
on native values only, its best case: it reads no ISO date text in strict Python mode and makes
no datetime aware), and the pydantic model the engine validated with before (``create_model``,
lax, ``model_validate`` + ``model_dump`` + making datetimes aware).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from bench_eligibility import FACTS, hand_written

from conftest import RESULTS
from conftest import record as record_median

#: Fastest round of each benchmark: on a shared machine the ratio of minima is what stays put
#: (medians move with the neighbours' load); both are printed.
MINIMA: dict[str, float] = {}


def record(name: str, benchmark: Any) -> None:
    record_median(name, benchmark)
    MINIMA[name] = benchmark.stats.stats.min

#: The same facts as a JSON request carries them (the date as ISO text).
JSON_FACTS = {"shop": dict(FACTS["shop"], revoked_on="2026-05-01"), "today": "2026-11-25"}


def _reads(engine: Any) -> tuple[Any, set[tuple[str, ...]]]:
    program = engine.program("jd.message_box")
    return program, {path for rule in program.pack.rules_of("eligibility") for path in rule.reads}


def typeadapter_validator(engine: Any) -> Any:
    """A pydantic TypeAdapter over strict TypedDicts of the schema, built once (the alternative)."""
    from pydantic import ConfigDict, TypeAdapter
    from typing_extensions import TypedDict

    from compliance.checker.types import python_type

    program, reads = _reads(engine)
    config = ConfigDict(strict=True, extra="ignore")
    groups: dict[str, Any] = {}
    for group in sorted({path[0] for path in reads}):
        schema = program.pack.facts[group]
        if schema.scalar is not None:
            groups[group] = python_type(schema.scalar.type)
            continue
        fields = {name: python_type(schema.fields[name].type) for g, name in sorted(p for p in reads if len(p) == 2) if g == group}
        sub = TypedDict(group, fields)  # type: ignore[operator]
        sub.__pydantic_config__ = config  # type: ignore[attr-defined]
        groups[group] = sub
    facts = TypedDict("Facts", groups)  # type: ignore[operator]
    facts.__pydantic_config__ = config  # type: ignore[attr-defined]
    return TypeAdapter(facts).validate_python


def pydantic_model_validator(engine: Any) -> Any:
    """How facts were validated before strict facts: a lax pydantic model, validate and dump."""
    from pydantic import ConfigDict, create_model

    from compliance.facts import aware
    from compliance.checker.types import python_type

    program, reads = _reads(engine)
    groups: dict[str, Any] = {}
    for group in sorted({path[0] for path in reads}):
        schema = program.pack.facts[group]
        if schema.scalar is not None:
            groups[group] = (python_type(schema.scalar.type), ...)
            continue
        fields = {name: (python_type(schema.fields[name].type), ...) for g, name in sorted(p for p in reads if len(p) == 2) if g == group}
        groups[group] = (create_model(group, __config__=ConfigDict(extra="ignore"), **fields), ...)
    model = create_model("Facts", __config__=ConfigDict(extra="ignore"), **groups)

    def validate(facts: Any) -> dict[str, Any]:
        checked = model.model_validate(dict(facts))
        out = {}
        for name in type(checked).model_fields:
            value = getattr(checked, name)
            value = value.model_dump() if hasattr(value, "model_dump") else value
            out[name] = {k: aware(v) for k, v in value.items()} if isinstance(value, dict) else aware(value)
        return out

    return validate


@pytest.mark.benchmark(group="facts jd.message_box")
def test_hand_written(benchmark) -> None:
    benchmark(hand_written, FACTS)
    record("facts.hand_written", benchmark)


@pytest.mark.benchmark(group="facts jd.message_box")
def test_engine_strict(benchmark, engine) -> None:
    """The public call: strict validation + compiled rules + decision."""
    decision = engine.eligibility(FACTS, "jd.message_box")
    assert (decision.eligible, decision.unmet) == (True, []) and hand_written(FACTS) == ([], {})
    benchmark(engine.eligibility, FACTS, "jd.message_box")
    record("facts.engine_strict", benchmark)


@pytest.mark.benchmark(group="facts jd.message_box")
def test_engine_strict_json_facts(benchmark, engine) -> None:
    """The same, with the dates as ISO text (as over HTTP): the careful path reads them."""
    assert engine.eligibility(JSON_FACTS, "jd.message_box") == engine.eligibility(FACTS, "jd.message_box")
    benchmark(engine.eligibility, JSON_FACTS, "jd.message_box")
    record("facts.engine_strict_json", benchmark)


@pytest.mark.benchmark(group="facts jd.message_box")
def test_engine_coerce(benchmark, engine) -> None:
    assert engine.eligibility(FACTS, "jd.message_box", coerce=True) == engine.eligibility(FACTS, "jd.message_box")
    benchmark(engine.eligibility, FACTS, "jd.message_box", coerce=True)
    record("facts.engine_coerce", benchmark)


@pytest.mark.benchmark(group="facts validation only")
def test_validate_generated(benchmark, engine) -> None:
    program, _ = _reads(engine)
    validate = engine._validator(program, "eligibility", False)
    benchmark(validate, FACTS)
    record("facts.validate_generated", benchmark)


@pytest.mark.benchmark(group="facts validation only")
def test_validate_typeadapter(benchmark, engine) -> None:
    validate = typeadapter_validator(engine)
    program, _ = _reads(engine)
    assert validate(FACTS) == engine.validate_facts(FACTS, program, "eligibility")
    benchmark(validate, FACTS)
    record("facts.validate_typeadapter", benchmark)


@pytest.mark.benchmark(group="facts validation only")
def test_validate_pydantic_model_before(benchmark, engine) -> None:
    validate = pydantic_model_validator(engine)
    program, _ = _reads(engine)
    assert validate(FACTS) == engine.validate_facts(FACTS, program, "eligibility")
    benchmark(validate, FACTS)
    record("facts.validate_pydantic_model_before", benchmark)


def test_ratios() -> None:
    for label, results in (("medians", RESULTS), ("minima", MINIMA)):
        hand = results["facts.hand_written"]
        generated = results["facts.validate_generated"]
        print(f"\n{label}: engine.eligibility (strict) / hand-written = {results['facts.engine_strict'] / hand:.2f}x; "
              f"coerce=True {results['facts.engine_coerce'] / hand:.2f}x; "
              f"dates as ISO text {results['facts.engine_strict_json'] / hand:.2f}x; "
              f"TypeAdapter / generated validator = {results['facts.validate_typeadapter'] / generated:.2f}x; "
              f"pydantic model (before) / generated = {results['facts.validate_pydantic_model_before'] / generated:.1f}x")
    assert MINIMA["facts.engine_strict"] / MINIMA["facts.hand_written"] <= 5
    assert dt.date.fromisoformat(JSON_FACTS["today"]) == FACTS["today"]
