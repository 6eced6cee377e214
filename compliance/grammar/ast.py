"""The syntax tree of the rules language: small frozen dataclasses with source positions.

Produced by `compliance.grammar.parser`, read by the checker, the reference evaluator and
the compiler. Nodes are immutable and picklable (the compiled-pack cache stores them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union


@dataclass(frozen=True, slots=True)
class Pos:
    """A source position: file, 1-based line and column, and where the construct ends."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


NOWHERE = Pos("<builtin>", 0, 0, 0, 0)


# --------------------------------------------------------------------------------------
# Expressions
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant: int, float, str, bool, None, date, datetime, time or timedelta."""

    value: Any
    pos: Pos = field(compare=False)
    #: how it was written (``5w``, ``5%``), for messages and explanations
    text: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Name:
    """A bare name: a scalar fact (``today``), a fact group, a parameter or a bound name."""

    name: str
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Attribute:
    """``value.name``: a field of a fact group or record."""

    value: "Expr"
    name: str
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Call:
    """``name(args…)``: a call of a registered function."""

    name: str
    args: tuple["Expr", ...]
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Unary:
    """``not x`` or ``-x``."""

    op: str  # "not" | "-"
    operand: "Expr"
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Binary:
    """Arithmetic, comparison, membership and boolean operators.

    ``op`` is one of ``+ - * / == != < <= > >= in not_in and or``.
    """

    op: str
    left: "Expr"
    right: "Expr"
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class SetLiteral:
    items: tuple["Expr", ...]
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class ListLiteral:
    items: tuple["Expr", ...]
    pos: Pos = field(compare=False)


Expr = Union[Literal, Name, Attribute, Call, Unary, Binary, SetLiteral, ListLiteral]


@dataclass(frozen=True, slots=True)
class Template:
    """A message with ``{expr}`` holes: literal text and expressions, in order."""

    parts: tuple[Union[str, Expr], ...]
    source: str
    pos: Pos = field(compare=False)


# --------------------------------------------------------------------------------------
# Declarations
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TypeRef:
    """A written type: ``int``, ``set[str]``, ``date?``."""

    name: str
    arg: "TypeRef | None"
    optional: bool
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class FieldDecl:
    name: str
    type: TypeRef
    default: Expr | None
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class FactDecl:
    """``fact shop { … }`` (a group of fields) or ``fact today: date`` (a scalar)."""

    name: str
    fields: tuple[FieldDecl, ...] | None  # None for a scalar fact
    type: TypeRef | None  # the scalar's type
    default: Expr | None
    pos: Pos = field(compare=False)
    #: ``coerce = true`` / ``false`` on the declaration; None when it does not say
    coerce: bool | None = None


@dataclass(frozen=True, slots=True)
class ParamDecl:
    name: str
    type: TypeRef | None
    value: Expr
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Assignment:
    target: tuple[str, ...]
    value: Expr
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Example:
    """An embedded test case: facts (or a message text) and the expected outcome."""

    outcome: str  # "pass" | "fail"
    facts: tuple[Assignment, ...] | None
    text: str | None
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    ref: str | None
    condition: Expr
    grants: tuple[tuple[str, Expr], ...]
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Window:
    """A frequency window as written: ``day``, ``2 days``, ``month``, ``rolling 48h``."""

    kind: str  # "calendar" | "rolling"
    unit: str | None
    count: int
    seconds: int | None
    tz: str | None
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Clause:
    """One clause of a rule, kept generic: keyword plus value(s).

    The checker knows which keywords each rule kind accepts and what their values mean.
    """

    keyword: str
    value: Any
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Rule:
    kind: str  # eligibility | copy | frequency | schedule | audience
    id: str
    clauses: tuple[Clause, ...]
    pos: Pos = field(compare=False)
    id_pos: Pos = field(compare=False, default=NOWHERE)

    def all(self, keyword: str) -> list[Clause]:
        return [c for c in self.clauses if c.keyword == keyword]

    def first(self, keyword: str) -> Clause | None:
        for clause in self.clauses:
            if clause.keyword == keyword:
                return clause
        return None


@dataclass(frozen=True, slots=True)
class Override:
    rule_id: str
    clauses: tuple[Clause, ...]
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Disable:
    rule_ids: tuple[tuple[str, Pos], ...]
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class PackRef:
    name: str
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Pack:
    """One ``pack NAME { … }`` block as written."""

    name: str
    title: str | None
    source: str | None
    channel: str | None
    includes: tuple[PackRef, ...]
    extends: PackRef | None
    facts: tuple[FactDecl, ...]
    params: tuple[ParamDecl, ...]
    rules: tuple[Rule, ...]
    overrides: tuple[Override, ...]
    disables: tuple[Disable, ...]
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class RulesFile:
    path: str
    packs: tuple[Pack, ...]
