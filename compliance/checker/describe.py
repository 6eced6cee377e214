"""A checked rule described as data: what ``compliance rule RULE_ID`` prints and what
``GET /v1/rules/{id}`` answers, built once for both interfaces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compliance.checker.evaluator import render


def describe_rule(pack: Any, rule: Any) -> dict[str, Any]:
    """Refs, kind, severity, title, explanation, condition, tiers, message, examples and source
    (file name and line) of ``rule`` in ``pack`` (as `compliance.Engine.rule` returns them);
    conditions, tiers and examples rendered as rule-file text."""
    condition = rule.require if rule.require is not None else rule.select
    examples = []
    for example in rule.examples:
        if example.facts is not None:
            body = ", ".join(f"{'.'.join(a.target)} = {render(a.value)}" for a in example.facts)
            examples.append({"outcome": example.outcome, "text": f"{{ {body} }}"})
        else:
            examples.append({"outcome": example.outcome, "text": example.text or ""})
    tiers = []
    for tier in rule.tiers:
        grants = ", ".join(f"{k} = {v.text}" for k, v in tier.grants)
        tiers.append(f"{tier.name}{' (' + tier.ref + ')' if tier.ref else ''}: {render(tier.condition)}"
                     + (f" → {grants}" if grants else ""))
    return {"id": rule.id, "refs": list(rule.refs), "kind": rule.kind, "severity": rule.severity,
            "category": rule.category, "pack": rule.pack, "pack_title": pack.title, "channel": pack.channel,
            "title": rule.title, "explain": rule.explain,
            "when": render(rule.when) if rule.when is not None else None,
            "condition": render(condition) if condition is not None else None,
            "condition_kind": None if condition is None else ("requires" if rule.require is not None else "selects"),
            "find": render(rule.find) if rule.find is not None else None,
            "on": list(rule.on), "tiers": tiers, "message": rule.message.source if rule.message is not None else None,
            "examples": examples, "source": f"{Path(rule.pos.file).name}:{rule.pos.line}"}
