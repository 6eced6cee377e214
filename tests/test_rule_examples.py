"""Every example embedded in the built-in rule files holds, and every rule has both kinds."""

from __future__ import annotations

import pytest

from compliance.engine import Engine
from compliance.testing import run_examples

_ENGINE = Engine()
_RESULTS = run_examples(_ENGINE)


@pytest.mark.parametrize("result", _RESULTS, ids=[f"{r.rule}:{r.example.pos.line}" for r in _RESULTS])
def test_embedded_example(result) -> None:
    if result.status == "skipped":
        pytest.skip(result.detail)
    assert result.status == "passed", f"{result.location}: {result.detail}"


def test_every_builtin_rule_has_a_passing_and_a_failing_example() -> None:
    for pack in _ENGINE.packs.values():
        for rule in pack.rules:
            outcomes = {e.outcome for e in rule.examples}
            assert outcomes == {"pass", "fail"}, f"{rule.id} ({rule.pos.file}:{rule.pos.line}) has {outcomes}"


def test_a_wrong_example_fails(tmp_path) -> None:
    path = tmp_path / "wrong.rules"
    path.write_text("pack w { fact s { n: int }\n eligibility w-rule { require s.n > 1\n example pass { s.n = 0 } } }\n",
                    encoding="utf-8")
    engine = Engine([path])
    [result] = run_examples(engine, ["w"])
    assert result.status == "failed"
    assert "expected the rule to pass, but it fails" in result.detail
