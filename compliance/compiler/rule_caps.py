"""Frequency rules of checked packs → `compliance.frequency.Cap`s for the ledger.

The rules language describes caps (classes, scope, window, limit, promotion periods); the
ledger enforces them. This module is the only bridge between the two, and it holds no policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from compliance.grammar import ast
from compliance.checker.evaluator import format_plain
from compliance.checker.model import CheckedPack, CheckedRule

DEFAULT_TZ = "Asia/Shanghai"


def message_format(rule: CheckedRule) -> str:
    """The rule's message as a str.format template over {count}, {limit}, {window}."""
    if rule.message is None:
        return rule.title + "（{window}内已 {count} 条，上限 {limit} 条）"
    out = []
    for part in rule.message.parts:
        if isinstance(part, str):
            out.append(part.replace("{", "{{").replace("}", "}}"))
        elif isinstance(part, ast.Name) and part.name in ("count", "limit", "window"):
            out.append("{" + part.name + "}")
        elif isinstance(part, ast.Literal):
            out.append(format_plain(part.value).replace("{", "{{").replace("}", "}}"))
        else:  # the checker only lets count/limit/window and constants through
            out.append("?")
    return "".join(out)


def cap_of(rule: CheckedRule, pack: CheckedPack) -> Any:
    """One ledger cap for a checked frequency rule of a pack."""
    from compliance.frequency import Cap, Override, Window

    spec = rule.frequency
    assert spec is not None, f"{rule.id} is not a frequency rule"
    window = Window(kind=spec.window.kind, unit=spec.window.unit, count=spec.window.count,
                    seconds=spec.window.seconds, tz=spec.window.tz or DEFAULT_TZ)
    overrides = []
    for period_param, limit in spec.during:
        periods = pack.params[period_param].value
        for index, period in enumerate(periods):
            overrides.append(Override(name=f"{period_param}[{index}]", start=period.start, end=period.end,
                                      limit=limit))
    return Cap(
        rule=rule.id,
        ref=rule.ref,
        channels=frozenset(spec.channels or (pack.channel,)),
        classes=frozenset(spec.classes),
        scope=tuple(spec.scope),
        window=window,
        limit=spec.limit,
        message=message_format(rule),
        severity=rule.severity,
        count_failures=spec.count_failures,
        overrides=tuple(overrides),
    )


def caps_of(packs: Iterable[CheckedPack], channels: Mapping[str, str] | None = None) -> list[Any]:
    """Caps of every frequency rule of the given packs.

    A rule reached through several packs (an included pack) becomes one cap covering all of
    their channels, so a send is never counted twice by the same rule.
    """
    merged: dict[tuple[str, str], Any] = {}
    for pack in packs:
        for rule in pack.rules_of("frequency"):
            cap = cap_of(rule, pack)
            key = (rule.pack, rule.id)
            if key in merged:
                old = merged[key]
                from dataclasses import replace

                merged[key] = replace(old, channels=old.channels | cap.channels)
            else:
                merged[key] = cap
    return list(merged.values())
