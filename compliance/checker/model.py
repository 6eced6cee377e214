"""Checked packs: what the checker hands to the compiler and the engine.

A `CheckedPack` is immutable and self-contained: its rules have resolved names, parameter
values are constants, and every expression has been type-checked. It is what the on-disk
cache stores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compliance.grammar import ast
from compliance.checker.types import Type


@dataclass(frozen=True, slots=True)
class FactField:
    name: str
    type: Type
    default: Any = None
    has_default: bool = False
    #: read leniently (pydantic's lax mode: "12" as 12) instead of strictly (`compliance.facts`)
    coerce: bool = False


@dataclass(frozen=True, slots=True)
class FactSchema:
    """A declared fact: a group of fields (``shop``) or a scalar (``today``)."""

    name: str
    fields: dict[str, FactField] | None
    scalar: FactField | None

    @property
    def is_group(self) -> bool:
        return self.fields is not None


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: Type
    value: Any
    pos: ast.Pos


@dataclass(frozen=True, slots=True)
class FrequencySpec:
    """A frequency rule's cap as data (turned into ledger caps by the engine)."""

    channels: tuple[str, ...]
    classes: tuple[str, ...]
    scope: tuple[str, ...]
    window: ast.Window
    limit: int
    during: tuple[tuple[str, int], ...]
    count_failures: bool


@dataclass(frozen=True, slots=True)
class CheckedRule:
    kind: str
    id: str
    pack: str
    refs: tuple[str, ...]
    title: str
    severity: str
    category: str
    message: ast.Template | None
    explain: str
    when: ast.Expr | None
    require: ast.Expr | None
    tiers: tuple[ast.Tier, ...]
    examples: tuple[ast.Example, ...]
    pos: ast.Pos
    #: audience: the row fact group and the selection predicate
    over: str | None = None
    select: ast.Expr | None = None
    #: copy: fields looked at, span finder, fix
    on: tuple[str, ...] = ()
    find: ast.Expr | None = None
    fix: ast.Expr | None = None
    #: frequency
    frequency: FrequencySpec | None = None
    #: schedule
    earliest: ast.Expr | None = None
    #: fact paths the rule reads, e.g. ("shop", "fans"); for example checks and validation
    reads: frozenset[tuple[str, ...]] = field(default=frozenset())
    #: False when the rule left severity to its default (copy hits then keep their own)
    severity_declared: bool = True

    @property
    def ref(self) -> str | None:
        """The first catalogue reference, used on findings."""
        return self.refs[0] if self.refs else None


@dataclass(frozen=True, slots=True)
class CheckedPack:
    name: str
    channel: str
    title: str
    source: str
    facts: dict[str, FactSchema]
    params: dict[str, Param]
    rules: tuple[CheckedRule, ...]
    pos: ast.Pos

    def rules_of(self, kind: str) -> tuple[CheckedRule, ...]:
        return tuple(r for r in self.rules if r.kind == kind)

    def rule(self, rule_id: str) -> CheckedRule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)
