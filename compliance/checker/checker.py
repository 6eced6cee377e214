"""The checker: parsed packs → `CheckedPack`s, or every error found, before anything runs.

It resolves `include`/`extends`, applies `override`/`disable`, types every expression
against the declared facts, parameters and functions, and rejects unknown names (with a
did-you-mean), type mismatches, duplicate rule ids, unreachable tiers, clauses that do not
belong to a rule's kind, and embedded examples that do not fit. Parameters are folded into
constants here, so the compiler sees literals.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import regex

from compliance.grammar import ast
from compliance.errors import Diagnostic, RulesError, did_you_mean, source_line
from compliance.checker.evaluator import Env, evaluate, format_value, is_constant
from compliance.findings import CATEGORIES
from compliance.checker.functions import REGISTRY, SignatureError, pattern_problem
from compliance.checker.model import CheckedPack, CheckedRule, FactField, FactSchema, FrequencySpec, Param
from compliance.checker.types import (
    ANY,
    BOOL,
    COLLECTION_NAMES,
    DATETIME,
    DURATION,
    FLOAT,
    HIT,
    INT,
    SCALAR_NAMES,
    STR,
    Type,
    assignable,
    list_of,
    set_of,
    type_of_value,
    unify,
)

#: Clauses each rule kind accepts (beyond the common ones).
COMMON_CLAUSES = {"ref", "title", "severity", "category", "message", "explain", "example"}
KIND_CLAUSES: dict[str, set[str]] = {
    "eligibility": {"when", "require", "tier"},
    "audience": {"over", "when", "select", "require"},
    "copy": {"on", "when", "find", "require", "fix"},
    "frequency": {"channels", "classes", "scope", "window", "limit", "during", "failures"},
    "schedule": {"when", "require", "earliest"},
}
REPEATABLE = {"example", "tier", "during"}
DEFAULT_CATEGORY = {"eligibility": "eligibility", "audience": "audience", "frequency": "frequency",
                    "schedule": "schedule"}
#: Fields of a span found by a copy rule's `find`.
HIT_FIELDS: dict[str, Type] = {"start": INT, "end": INT, "text": STR, "category": STR, "kind": STR,
                               "label": STR, "severity": STR, "note": STR, "fix": STR.nullable(), "term": STR}
CALENDAR_UNITS = {"day": "day", "days": "day", "month": "month", "months": "month", "year": "year",
                  "years": "year"}
SCOPE_KEYS = ("channel", "message_class", "merchant", "recipient")
REF_PATTERN = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$")


class _Collector:
    """Collects diagnostics so one run reports every error, not just the first."""

    def __init__(self, sources: Mapping[str, str]):
        self.sources = sources
        self.diagnostics: list[Diagnostic] = []

    def error(self, message: str, pos: ast.Pos, hint: str | None = None) -> None:
        text = self.sources.get(pos.file)
        line = source_line(text, pos.line) if text is not None else None
        self.diagnostics.append(Diagnostic(message, pos, hint, line))


class _Skip(Exception):
    """Abandon the current expression after an error was recorded."""


# --------------------------------------------------------------------------------------
# Pack resolution
# --------------------------------------------------------------------------------------


@dataclass
class _Resolved:
    """A pack with its includes and parent merged in, before type checking."""

    pack: ast.Pack
    facts: dict[str, list[ast.FactDecl]] = field(default_factory=dict)
    params: dict[str, ast.ParamDecl] = field(default_factory=dict)
    param_types: dict[str, ast.TypeRef | None] = field(default_factory=dict)
    rules: dict[str, ast.Rule] = field(default_factory=dict)
    rule_pack: dict[str, str] = field(default_factory=dict)


def check_files(files: Iterable[ast.RulesFile], sources: Mapping[str, str],
                param_overrides: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, CheckedPack]:
    """Check parsed files together; returns packs by name or raises `RulesError`."""
    out = _Collector(sources)
    packs: dict[str, ast.Pack] = {}
    for rules_file in files:
        for pack in rules_file.packs:
            if pack.name in packs:
                first = packs[pack.name].pos
                out.error(f"pack {pack.name} is defined twice (first at {first})", pack.pos,
                          hint=f"give it another name and write `extends {pack.name}`")
                continue
            packs[pack.name] = pack
    resolved: dict[str, _Resolved] = {}
    for name in packs:
        _resolve(name, packs, resolved, (), out)
    checked: dict[str, CheckedPack] = {}
    for name, res in resolved.items():
        overrides = (param_overrides or {}).get(name, {})
        pack = _PackChecker(res, out, overrides).check()
        if pack is not None:
            checked[name] = pack
    if out.diagnostics:
        raise RulesError(out.diagnostics)
    return checked


def _resolve(name: str, packs: Mapping[str, ast.Pack], done: dict[str, _Resolved],
             stack: tuple[str, ...], out: _Collector) -> _Resolved | None:
    if name in done:
        return done[name]
    pack = packs[name]
    res = _Resolved(pack)
    bases = list(pack.includes) + ([pack.extends] if pack.extends else [])
    for base_ref in bases:
        if base_ref.name in stack or base_ref.name == name:
            out.error(f"pack {name} includes itself through {' → '.join(stack + (name, base_ref.name))}",
                      base_ref.pos)
            continue
        if base_ref.name not in packs:
            guess = did_you_mean(base_ref.name, packs)
            out.error(f"unknown pack {base_ref.name}", base_ref.pos,
                      hint=f"did you mean {guess}?" if guess else f"known packs: {', '.join(sorted(packs))}")
            continue
        base = _resolve(base_ref.name, packs, done, stack + (name,), out)
        if base is None:
            continue
        for fact_name, decls in base.facts.items():
            res.facts.setdefault(fact_name, []).extend(d for d in decls if d not in res.facts.get(fact_name, []))
        for param_name, decl in base.params.items():
            res.params[param_name] = decl
            res.param_types.setdefault(param_name, base.param_types.get(param_name))
        for rule_id, rule in base.rules.items():
            if rule_id in res.rules and res.rules[rule_id] is not rule:
                out.error(f"rule id {rule_id} comes from both {res.rule_pack[rule_id]} and {base.rule_pack[rule_id]}",
                          base_ref.pos)
                continue
            res.rules[rule_id] = rule
            res.rule_pack[rule_id] = base.rule_pack[rule_id]
    for decl in pack.facts:
        res.facts.setdefault(decl.name, []).append(decl)
    for param in pack.params:
        if param.name in res.params and param.type is None:
            res.params[param.name] = param  # a new value for an inherited parameter
        else:
            if param.name in res.params and res.params[param.name].pos.file == param.pos.file \
                    and res.params[param.name] in pack.params:
                out.error(f"parameter {param.name} is declared twice", param.pos)
                continue
            res.params[param.name] = param
            res.param_types[param.name] = param.type
    inherited = set(res.rules)
    for rule in pack.rules:
        if rule.id in res.rules:
            first = res.rules[rule.id]
            where = f"pack {res.rule_pack[rule.id]}" if rule.id in inherited else str(first.pos)
            out.error(f"duplicate rule id {rule.id} (already defined in {where})", rule.id_pos,
                      hint=f"use `override {rule.id} {{ … }}` to change an inherited rule" if rule.id in inherited
                      else "rule ids must be unique")
            continue
        res.rules[rule.id] = rule
        res.rule_pack[rule.id] = name
    for override in pack.overrides:
        if override.rule_id not in res.rules:
            _unknown_rule(override.rule_id, override.pos, res.rules, out)
            continue
        base_rule = res.rules[override.rule_id]
        kept = tuple(c for c in base_rule.clauses if c.keyword not in {o.keyword for o in override.clauses})
        res.rules[override.rule_id] = replace(base_rule, clauses=kept + override.clauses)
    for disable in pack.disables:
        for rule_id, pos in disable.rule_ids:
            if rule_id not in res.rules:
                _unknown_rule(rule_id, pos, res.rules, out)
                continue
            del res.rules[rule_id]
    done[name] = res
    return res


def _unknown_rule(rule_id: str, pos: ast.Pos, rules: Mapping[str, Any], out: _Collector) -> None:
    guess = did_you_mean(rule_id, rules)
    out.error(f"unknown rule id {rule_id}", pos, hint=f"did you mean {guess}?" if guess else None)


# --------------------------------------------------------------------------------------
# Type checking
# --------------------------------------------------------------------------------------


class _PackChecker:
    def __init__(self, res: _Resolved, out: _Collector, param_overrides: Mapping[str, Any]):
        self.res = res
        self.out = out
        self.param_overrides = param_overrides
        self.facts: dict[str, FactSchema] = {}
        self.params: dict[str, Param] = {}
        self.values: dict[str, Any] = {}
        #: parameters whose declaration was reported as an error: their uses are not reported
        #: again (one bad `param x: int = "a"` is one error, not one more per use of x)
        self.broken_params: set[str] = set()

    def check(self) -> CheckedPack | None:
        errors_before = len(self.out.diagnostics)
        self._check_facts()
        self._check_params()
        rules = []
        for rule_id, rule in self.res.rules.items():
            checked = _RuleChecker(self, rule, self.res.rule_pack[rule_id]).check()
            if checked is not None:
                rules.append(checked)
        if len(self.out.diagnostics) > errors_before:
            return None
        pack = self.res.pack
        return CheckedPack(
            name=pack.name,
            channel=pack.channel or pack.name,
            title=pack.title or pack.name,
            source=pack.source or "",
            facts=self.facts,
            params=self.params,
            rules=tuple(rules),
            pos=pack.pos,
        )

    # declarations ---------------------------------------------------------------------

    def type_of(self, ref: ast.TypeRef) -> Type:
        if ref.name in COLLECTION_NAMES:
            if ref.arg is None:
                self.out.error(f"{ref.name} needs an item type, e.g. {ref.name}[str]", ref.pos)
                return Type(ref.name, ANY, ref.optional)
            return Type(ref.name, self.type_of(ref.arg), ref.optional)
        if ref.name not in SCALAR_NAMES:
            guess = did_you_mean(ref.name, SCALAR_NAMES + COLLECTION_NAMES)
            self.out.error(f"unknown type {ref.name}", ref.pos,
                           hint=f"did you mean {guess}?" if guess else "types: " + ", ".join(SCALAR_NAMES))
            return ANY
        if ref.arg is not None:
            self.out.error(f"{ref.name} takes no item type", ref.pos)
        return Type(ref.name, None, ref.optional)

    def _check_facts(self) -> None:
        for name, decls in self.res.facts.items():
            fields: dict[str, FactField] | None = None
            scalar: FactField | None = None
            for decl in decls:
                if decl.fields is None:
                    if fields is not None:
                        self.out.error(f"fact {name} is a group elsewhere and a scalar here", decl.pos)
                        continue
                    assert decl.type is not None
                    new = self._fact_field(name, decl.type, decl.default, decl.pos,
                                           _coerce(decl, scalar))
                    if scalar is not None and scalar.type != new.type:
                        self.out.error(f"fact {name} is declared as {scalar.type} and as {new.type}", decl.pos)
                    scalar = new
                    continue
                if scalar is not None:
                    self.out.error(f"fact {name} is a scalar elsewhere and a group here", decl.pos)
                    continue
                fields = fields if fields is not None else {}
                for fd in decl.fields:
                    if fd.name.startswith("_"):
                        self.out.error(f"field names may not start with '_' ({fd.name})", fd.pos)
                        continue
                    old = fields.get(fd.name)
                    new = self._fact_field(fd.name, fd.type, fd.default, fd.pos, _coerce(decl, old))
                    if old is not None and old.type != new.type:
                        self.out.error(f"field {name}.{fd.name} is declared as {old.type} and as {new.type}", fd.pos)
                        continue
                    fields[fd.name] = new
            if name.startswith("_"):
                self.out.error(f"fact names may not start with '_' ({name})", decls[0].pos)
            self.facts[name] = FactSchema(name, fields, scalar)

    def _fact_field(self, name: str, type_ref: ast.TypeRef, default: ast.Expr | None, pos: ast.Pos,
                    coerce: bool = False) -> FactField:
        t = self.type_of(type_ref)
        if default is None:
            return FactField(name, t, None, t.optional, coerce)
        try:
            value = self._constant(default, t, f"default of {name}")
        except _Skip:  # reported; keep checking the rest of the pack
            return FactField(name, t, None, True, coerce)
        return FactField(name, t, value, True, coerce)

    def _constant(self, expr: ast.Expr, want: Type | None, what: str) -> Any:
        """Evaluate a constant expression (literals and parameters) of the expected type."""
        if _names(expr) & self.broken_params:
            raise _Skip  # the parameter's own error was reported
        if not is_constant(expr, self.values):
            self.out.error(f"{what} must be a constant (literals and parameters only)", expr.pos)
            raise _Skip
        got = _ExprChecker(self, {}, set(), allow_facts=False).type(expr)
        if want is not None and not assignable(got, want):
            self.out.error(f"{what} must be {want}, got {got}", expr.pos)
            raise _Skip
        try:
            return evaluate(expr, Env({}, self.values))
        except Exception as exc:  # noqa: BLE001 - any failure of a constant is the user's error
            self.out.error(f"{what} cannot be computed: {exc}", expr.pos)
            raise _Skip from None

    def _check_params(self) -> None:
        for name, decl in self.res.params.items():
            if name.startswith("_"):
                self.out.error(f"parameter names may not start with '_' ({name})", decl.pos)
                self.broken_params.add(name)
                continue
            if name in self.facts:
                self.out.error(f"parameter {name} has the name of a fact", decl.pos)
                continue
            type_ref = self.res.param_types.get(name)
            want = self.type_of(type_ref) if type_ref is not None else None
            try:
                if name in self.param_overrides:
                    value = _coerce_param(self.param_overrides[name], want)
                else:
                    value = self._constant(decl.value, want, f"parameter {name}")
            except _Skip:
                self.broken_params.add(name)
                continue
            except (TypeError, ValueError) as exc:
                self.out.error(f"configured value of parameter {name} does not fit: {exc}", decl.pos)
                self.broken_params.add(name)
                continue
            t = want if want is not None else type_of_value(value)
            self.params[name] = Param(name, t, value, decl.pos)
            self.values[name] = value
        for name in self.param_overrides:
            if name not in self.res.params:
                guess = did_you_mean(name, self.res.params)
                self.out.error(f"configured parameter {name} is not a parameter of pack {self.res.pack.name}",
                               self.res.pack.pos, hint=f"did you mean {guess}?" if guess else None)


def _names(expr: ast.Expr) -> set[str]:
    """The bare names an expression mentions (parameters, scalar facts, fact groups)."""
    match expr:
        case ast.Name(name=name):
            return {name}
        case ast.Attribute(value=value):
            return _names(value)
        case ast.Call(args=items) | ast.SetLiteral(items=items) | ast.ListLiteral(items=items):
            return set().union(*(_names(i) for i in items))
        case ast.Unary(operand=operand):
            return _names(operand)
        case ast.Binary(left=left, right=right):
            return _names(left) | _names(right)
    return set()


def _coerce_param(value: Any, want: Type | None) -> Any:
    """A parameter value from configuration (Python/JSON), converted to its declared type."""
    if want is None:
        return value
    from pydantic import TypeAdapter

    from compliance.checker.types import python_type

    return TypeAdapter(python_type(want)).validate_python(value)


class _RuleChecker:
    def __init__(self, pack: _PackChecker, rule: ast.Rule, origin: str):
        self.pack = pack
        self.out = pack.out
        self.rule = rule
        self.origin = origin
        self.reads: set[tuple[str, ...]] = set()

    def check(self) -> CheckedRule | None:
        rule = self.rule
        errors_before = len(self.out.diagnostics)
        allowed = COMMON_CLAUSES | KIND_CLAUSES[rule.kind]
        seen: dict[str, ast.Clause] = {}
        for clause in rule.clauses:
            if clause.keyword not in allowed:
                self.out.error(f"'{clause.keyword}' is not allowed in a {rule.kind} rule", clause.pos,
                               hint="allowed here: " + ", ".join(sorted(allowed)))
            elif clause.keyword in seen and clause.keyword not in REPEATABLE:
                self.out.error(f"'{clause.keyword}' is given twice (first at line {seen[clause.keyword].pos.line})",
                               clause.pos)
            seen.setdefault(clause.keyword, clause)
        refs = tuple(r for c in rule.all("ref") for r in c.value)
        for c in rule.all("ref"):
            for ref in c.value:
                if not REF_PATTERN.match(ref):
                    self.out.error(f"catalogue ref {ref!r} is not of the form JD-SMS-01", c.pos)
        severity = rule.first("severity").value if rule.first("severity") else "error"
        category_clause = rule.first("category")
        category = category_clause.value if category_clause else DEFAULT_CATEGORY.get(rule.kind, "")
        if category_clause and category not in CATEGORIES:
            guess = did_you_mean(category, CATEGORIES)
            self.out.error(f"unknown category {category}", category_clause.pos,
                           hint=f"did you mean {guess}?" if guess else "categories: " + ", ".join(sorted(CATEGORIES)))
        if rule.kind == "copy" and not category_clause:
            self.out.error("a copy rule needs a category", rule.id_pos,
                           hint="e.g. `category ad_law`; categories: " + ", ".join(sorted(CATEGORIES)))

        bound: dict[str, Type] = {}
        over = rule.first("over")
        if over is not None:
            schema = self.pack.facts.get(over.value)
            if schema is None or not schema.is_group:
                self._unknown_fact(over.value, over.pos, groups_only=True)
            bound = {}
        on_fields: tuple[str, ...] = ()
        if rule.kind == "copy" and rule.first("on") is not None:
            on_fields = self._check_on(rule.first("on"))
            bound = {"text": STR, "field": STR}

        when = self._bool(rule.first("when"), bound)
        narrowed = _narrowings(when, True) if when is not None else frozenset()
        require = self._bool(rule.first("require"), bound, narrowed)
        select = self._bool(rule.first("select"), bound, narrowed)
        tiers = self._check_tiers(rule.all("tier"), bound, narrowed)
        find = fix = None
        if rule.first("find") is not None:
            find_clause = rule.first("find")
            find = self._typed(find_clause.value, bound, narrowed, list_of(HIT), "find")
            bound = {**bound, "hit": HIT}
        if rule.first("fix") is not None:
            fix = self._typed(rule.first("fix").value, bound, narrowed, STR.nullable(), "fix")
        earliest = None
        if rule.first("earliest") is not None:
            earliest = self._typed(rule.first("earliest").value, bound, narrowed, DATETIME, "earliest")

        self._require_shape(rule, seen)
        frequency = self._check_frequency(rule) if rule.kind == "frequency" else None

        message_clause = rule.first("message")
        message = None
        if message_clause is not None:
            message = self._check_template(message_clause.value, {**bound, **self._message_names(rule)}, narrowed)
        examples = tuple(c.value for c in rule.all("example"))
        title = rule.first("title").value if rule.first("title") else ""
        if len(self.out.diagnostics) > errors_before:
            return None
        checked = CheckedRule(
            kind=rule.kind, id=rule.id, pack=self.origin,
            refs=tuple(dict.fromkeys(refs + tuple(t.ref for t in tiers if t.ref))),
            title=title or (message.source if message else rule.id), severity=severity, category=category,
            message=message, explain=rule.first("explain").value if rule.first("explain") else "",
            when=when, require=require, tiers=tiers, examples=examples, pos=rule.pos,
            over=over.value if over else None, select=select, on=on_fields, find=find, fix=fix,
            frequency=frequency, earliest=earliest, reads=frozenset(self.reads),
            severity_declared=rule.first("severity") is not None,
        )
        self._check_examples(checked)
        return checked

    # clause shapes ----------------------------------------------------------------------

    def _require_shape(self, rule: ast.Rule, seen: Mapping[str, ast.Clause]) -> None:
        def need(keyword: str, hint: str) -> None:
            if keyword not in seen:
                self.out.error(f"a {rule.kind} rule needs '{keyword}'", rule.id_pos, hint=hint)

        if rule.kind == "eligibility":
            if "require" in seen and "tier" in seen:
                self.out.error("an eligibility rule has either 'require' or tiers, not both", seen["tier"].pos)
            elif "require" not in seen and "tier" not in seen:
                self.out.error("an eligibility rule needs 'require' or at least one 'tier'", rule.id_pos,
                               hint="e.g. `require shop.fans >= 50_000`")
        elif rule.kind == "audience":
            need("over", "e.g. `over user`: the fact group of one row")
            if ("select" in seen) == ("require" in seen):
                self.out.error("an audience rule has exactly one of 'select' or 'require'", rule.id_pos)
        elif rule.kind == "copy":
            if "find" in seen and "on" not in seen:
                self.out.error("a copy rule with 'find' needs 'on'", rule.id_pos,
                               hint="e.g. `on body, title`: the message fields to search")
            if ("find" in seen) == ("require" in seen):
                self.out.error("a copy rule has exactly one of 'find' (spans) or 'require' (a condition)",
                               rule.id_pos)
        elif rule.kind == "frequency":
            for keyword, hint in (("classes", "e.g. `classes marketing, test`"),
                                  ("scope", "e.g. `scope recipient` or `scope merchant + recipient`"),
                                  ("window", "e.g. `window day`, `window 2 days`, `window rolling 48h`"),
                                  ("limit", "e.g. `limit 3`")):
                need(keyword, hint)
        elif rule.kind == "schedule":
            if "earliest" not in seen and "require" not in seen:
                self.out.error("a schedule rule needs 'earliest' or 'require'", rule.id_pos)

    def _check_on(self, clause: ast.Clause | None) -> tuple[str, ...]:
        if clause is None:
            return ()
        schema = self.pack.facts.get("message")
        if schema is None or not schema.is_group:
            self.out.error("copy rules read the fact group 'message'; declare it (fact message { body: str … })",
                           clause.pos)
            return ()
        assert schema.fields is not None
        for name in clause.value:
            fld = schema.fields.get(name)
            if fld is None:
                guess = did_you_mean(name, schema.fields)
                self.out.error(f"unknown message field {name}", clause.pos,
                               hint=f"did you mean {guess}?" if guess else "fields: " + ", ".join(schema.fields))
            elif fld.type.required() != STR:
                self.out.error(f"message field {name} is {fld.type}; copy rules read text fields", clause.pos)
            else:
                self.reads.add(("message", name))
        return tuple(clause.value)

    def _check_frequency(self, rule: ast.Rule) -> FrequencySpec | None:
        window_clause = rule.first("window")
        limit_clause = rule.first("limit")
        scope_clause = rule.first("scope")
        classes_clause = rule.first("classes")
        if not (window_clause and limit_clause and scope_clause and classes_clause):
            return None
        for key in scope_clause.value:
            if key not in SCOPE_KEYS:
                guess = did_you_mean(key, SCOPE_KEYS)
                self.out.error(f"unknown scope {key}", scope_clause.pos,
                               hint=f"did you mean {guess}?" if guess else "scope keys: " + ", ".join(SCOPE_KEYS))
        window: ast.Window = window_clause.value
        if window.kind == "calendar":
            unit = CALENDAR_UNITS.get(window.unit or "")
            if unit is None:
                guess = did_you_mean(window.unit or "", CALENDAR_UNITS)
                self.out.error(f"unknown window {window.unit}", window.pos,
                               hint=f"did you mean {guess}?" if guess else "day, N days, month, year, rolling 48h")
                return None
            if window.count < 1:
                self.out.error("a window spans at least 1 unit", window.pos)
            window = replace(window, unit=unit)
        elif not window.seconds:
            self.out.error("a rolling window must be longer than 0s", window.pos)
        if window.tz:
            try:
                from zoneinfo import ZoneInfo

                ZoneInfo(window.tz)
            except Exception:  # noqa: BLE001 - zoneinfo raises several kinds
                self.out.error(f"unknown time zone {window.tz!r}", window_clause.pos, hint='e.g. "Asia/Shanghai"')
        try:
            limit = self.pack._constant(limit_clause.value, INT, "limit")
        except _Skip:
            return None
        during = []
        for clause in rule.all("during"):
            period, expr = clause.value
            param = self.pack.params.get(period)
            if param is not None and param.type != list_of(Type("period")):
                self.out.error(f"period parameter {period} must be list[period], got {param.type}", clause.pos,
                               hint="param promotions: list[period] = [period(2026-06-01, 2026-06-18)]")
                continue
            if param is None and period in self.pack.broken_params:
                continue  # reported at the parameter
            if param is None:
                guess = did_you_mean(period, self.pack.params)
                self.out.error(f"unknown period parameter {period}", clause.pos,
                               hint=f"did you mean {guess}?" if guess else "declare it: param promotions: list[str] = [...]")
                continue
            try:
                during.append((period, self.pack._constant(expr, INT, "limit")))
            except _Skip:
                continue
        failures = rule.first("failures")
        return FrequencySpec(
            channels=tuple(c for cl in rule.all("channels") for c in cl.value),
            classes=tuple(classes_clause.value),
            scope=tuple(scope_clause.value),
            window=window,
            limit=limit,
            during=tuple(during),
            count_failures=(failures.value != "free") if failures else True,
        )

    def _check_tiers(self, clauses: list[ast.Clause], bound: Mapping[str, Type],
                     narrowed: frozenset) -> tuple[ast.Tier, ...]:
        tiers: list[ast.Tier] = []
        names: dict[str, ast.Tier] = {}
        for clause in clauses:
            tier: ast.Tier = clause.value
            if tier.name in names:
                self.out.error(f"tier {tier.name} is declared twice", tier.pos)
            cond = self._typed(tier.condition, bound, narrowed, BOOL, "a tier condition")
            grants = []
            for key, expr in tier.grants:
                if key.startswith("_"):
                    self.out.error(f"grant names may not start with '_' ({key})", expr.pos)
                    continue
                try:
                    value = self.pack._constant(expr, None, f"grant {key}")
                except _Skip:
                    continue
                grants.append((key, ast.Literal(value, expr.pos, format_value(value))))
            if cond is None:
                continue
            for earlier in tiers:
                if _implies(cond, earlier.condition):
                    self.out.error(
                        f"tier {tier.name} can never be chosen: whenever its condition holds, "
                        f"tier {earlier.name} (line {earlier.pos.line}) already matched",
                        tier.pos, hint="order tiers from the most demanding to the least")
                    break
            new = ast.Tier(tier.name, tier.ref, cond, tuple(grants), tier.pos)
            names[tier.name] = new
            tiers.append(new)
        return tuple(tiers)

    # expressions ----------------------------------------------------------------------

    def _message_names(self, rule: ast.Rule) -> dict[str, Type]:
        if rule.kind == "frequency":
            return {"count": INT, "limit": INT, "window": STR}
        if rule.kind == "schedule":
            return {"earliest": DATETIME.nullable()}
        return {}

    def _bool(self, clause: ast.Clause | None, bound: Mapping[str, Type],
              narrowed: frozenset = frozenset()) -> ast.Expr | None:
        if clause is None:
            return None
        return self._typed(clause.value, bound, narrowed, BOOL, f"'{clause.keyword}'")

    def _typed(self, expr: ast.Expr, bound: Mapping[str, Type], narrowed: frozenset, want: Type,
               what: str) -> ast.Expr | None:
        checker = _ExprChecker(self.pack, bound, set(narrowed), reads=self.reads)
        try:
            got = checker.type(expr)
        except _Skip:
            return None
        if not assignable(got, want):
            hint = None
            if got.optional and assignable(got.required(), want):
                hint = "the value may be null; test it with `!= null` first or use coalesce(…)"
            self.out.error(f"{what} must be {want}, got {got}", expr.pos, hint=hint)
            return None
        return fold(expr, self.pack.values)

    def _check_template(self, template: ast.Template, bound: Mapping[str, Type],
                        narrowed: frozenset) -> ast.Template | None:
        parts: list[Any] = []
        for part in template.parts:
            if isinstance(part, str):
                parts.append(part)
                continue
            checker = _ExprChecker(self.pack, bound, set(narrowed), reads=set())
            try:
                checker.type(part)
            except _Skip:
                return None
            parts.append(fold(part, self.pack.values))
        return ast.Template(tuple(parts), template.source, template.pos)

    def _unknown_fact(self, name: str, pos: ast.Pos, groups_only: bool = False) -> None:
        names = [n for n, s in self.pack.facts.items() if s.is_group or not groups_only]
        guess = did_you_mean(name, names)
        self.out.error(f"unknown fact {name}", pos, hint=f"did you mean {guess}?" if guess else None)

    # examples ---------------------------------------------------------------------------

    def _check_examples(self, rule: CheckedRule) -> None:
        for example in rule.examples:
            if rule.kind in ("eligibility", "audience", "schedule"):
                if example.facts is None:
                    self.out.error(f"examples of {rule.kind} rules give facts: example {example.outcome} "
                                   "{ shop.fans = 42_000 }", example.pos)
                    continue
                given: set[tuple[str, ...]] = set()
                for assignment in example.facts:
                    given.add(assignment.target)
                    self._check_assignment(assignment)
                for path in sorted(rule.reads):
                    if path not in given and not self._has_default(path):
                        self.out.error(f"example does not give {'.'.join(path)}, which the rule reads",
                                       example.pos)
            elif rule.kind == "frequency":
                self._check_frequency_example(rule, example)
            elif rule.kind == "copy" and example.facts is not None:
                for assignment in example.facts:
                    self._check_assignment(assignment)

    def _check_frequency_example(self, rule: CheckedRule, example: ast.Example) -> None:
        """Frequency examples: `count` earlier sends in the window, then is one more allowed?

        Keys: count (int, required), earlier / judged (message classes of the earlier sends and
        of the judged one; default the rule's first class), during (a period parameter that is
        in force).
        """
        if example.facts is None:
            self.out.error("examples of frequency rules give { count = N[, earlier = \"test\", "
                           "judged = \"marketing\", during = \"promotions\"] }", example.pos)
            return
        keys = {"count": INT, "earlier": STR, "judged": STR, "during": STR}
        given = set()
        for assignment in example.facts:
            name = ".".join(assignment.target)
            if name not in keys:
                guess = did_you_mean(name, keys)
                self.out.error(f"unknown key {name} in a frequency example", assignment.pos,
                               hint=f"did you mean {guess}?" if guess else "keys: " + ", ".join(keys))
                continue
            given.add(name)
            try:
                value = self.pack._constant(assignment.value, keys[name], name)
            except _Skip:
                continue
            spec = rule.frequency
            if name in ("earlier", "judged") and spec is not None and value not in spec.classes:
                self.out.error(f"{value!r} is not one of the rule's classes ({', '.join(spec.classes)})",
                               assignment.pos)
            if name == "during" and spec is not None and value not in {p for p, _ in spec.during}:
                self.out.error(f"the rule has no `during {value}` clause", assignment.pos)
        if "count" not in given:
            self.out.error("a frequency example needs `count = N` (earlier sends in the window)", example.pos)

    def _has_default(self, path: tuple[str, ...]) -> bool:
        schema = self.pack.facts.get(path[0])
        if schema is None:
            return False
        if schema.scalar is not None:
            return schema.scalar.has_default
        assert schema.fields is not None
        fld = schema.fields.get(path[1]) if len(path) > 1 else None
        return fld is not None and fld.has_default

    def _check_assignment(self, assignment: ast.Assignment) -> None:
        path = assignment.target
        want = _ExprChecker(self.pack, {}, set()).path_type(path, assignment.pos)
        if want is None:
            return
        try:
            self.pack._constant(assignment.value, want, ".".join(path))
        except _Skip:
            pass


# --------------------------------------------------------------------------------------
# Expression typing
# --------------------------------------------------------------------------------------


class _ExprChecker:
    def __init__(self, pack: _PackChecker, bound: Mapping[str, Type], narrowed: set,
                 reads: set | None = None, allow_facts: bool = True):
        self.pack = pack
        self.out = pack.out
        self.bound = bound
        self.narrowed = narrowed
        self.reads = reads if reads is not None else set()
        self.allow_facts = allow_facts

    def path_type(self, path: tuple[str, ...], pos: ast.Pos) -> Type | None:
        """The type of a fact path written in an example (``shop.fans``, ``today``)."""
        schema = self.pack.facts.get(path[0])
        if schema is None:
            guess = did_you_mean(".".join(path), _all_paths(self.pack.facts))
            self.out.error(f"unknown fact {'.'.join(path)}", pos, hint=f"did you mean {guess}?" if guess else None)
            return None
        if schema.scalar is not None:
            if len(path) != 1:
                self.out.error(f"fact {path[0]} has no fields", pos)
                return None
            return schema.scalar.type
        assert schema.fields is not None
        if len(path) != 2 or path[1] not in schema.fields:
            guess = did_you_mean(".".join(path), _all_paths(self.pack.facts))
            self.out.error(f"unknown field {'.'.join(path)}", pos, hint=f"did you mean {guess}?" if guess else None)
            return None
        return schema.fields[path[1]].type

    def type(self, expr: ast.Expr) -> Type:
        match expr:
            case ast.Literal(value=value):
                return type_of_value(value)
            case ast.Name(name=name):
                return self._name(name, expr.pos)
            case ast.Attribute():
                return self._attribute(expr)
            case ast.Call():
                return self._call(expr)
            case ast.Unary(op="not", operand=operand):
                self._want(operand, BOOL, "operand of 'not'")
                return BOOL
            case ast.Unary(op="-", operand=operand):
                t = self._value(operand, "operand of '-'")
                if not (t.numeric or t == DURATION):
                    self._fail(f"cannot negate {t}", expr.pos)
                return t
            case ast.Binary(op="and" | "or", left=left, right=right):
                self._want(left, BOOL, f"left side of '{expr.op}'")
                extra = _narrowings(left, expr.op == "and")
                before = set(self.narrowed)
                self.narrowed |= extra
                try:
                    self._want(right, BOOL, f"right side of '{expr.op}'")
                finally:
                    self.narrowed = before
                return BOOL
            case ast.Binary(op="in" | "not_in"):
                return self._membership(expr)
            case ast.Binary(op="==" | "!="):
                return self._equality(expr)
            case ast.Binary(op="<" | "<=" | ">" | ">="):
                return self._order(expr)
            case ast.Binary():
                return self._arithmetic(expr)
            case ast.SetLiteral(items=items) | ast.ListLiteral(items=items):
                item_type = ANY
                for item in items:
                    t = self.type(item)
                    merged = unify(item_type, t)
                    if merged is None:
                        self._fail(f"items of one collection must have one type: {item_type} and {t}", item.pos)
                    item_type = merged
                if item_type.optional:
                    self._fail("a collection may not hold null", expr.pos)
                return set_of(item_type) if isinstance(expr, ast.SetLiteral) else list_of(item_type)
        self._fail("unsupported expression", expr.pos)
        raise AssertionError  # unreachable: _fail raises

    # names -----------------------------------------------------------------------------

    def _name(self, name: str, pos: ast.Pos) -> Type:
        if name in self.bound:
            return self.bound[name]
        if name in self.pack.params:
            return self.pack.params[name].type
        if name in self.pack.broken_params:
            raise _Skip  # the parameter's declaration was reported; its uses are not
        schema = self.pack.facts.get(name)
        if schema is not None and self.allow_facts:
            if schema.scalar is not None:
                self.reads.add((name,))
                t = schema.scalar.type
                return t.required() if (name,) in self.narrowed else t
            self._fail(f"{name} is a group of facts; name one of its fields", pos,
                       hint="e.g. " + ", ".join(f"{name}.{f}" for f in list(schema.fields or {})[:3]))
        if schema is not None:
            self._fail(f"{name} is a fact; only literals and parameters are allowed here", pos)
        if name in REGISTRY:
            self._fail(f"{name} is a function; call it: {REGISTRY[name].signature}", pos)
        candidates = list(self.bound) + list(self.pack.params) + list(self.pack.facts)
        guess = did_you_mean(name, candidates)
        self._fail(f"unknown name {name}", pos, hint=f"did you mean {guess}?" if guess else None)
        raise AssertionError

    def _attribute(self, expr: ast.Attribute) -> Type:
        if isinstance(expr.value, ast.Name) and expr.value.name not in self.bound \
                and expr.value.name not in self.pack.params and expr.value.name not in self.pack.broken_params:
            group = expr.value.name
            schema = self.pack.facts.get(group)
            if schema is None or not self.allow_facts:
                if schema is not None:
                    self._fail(f"{group}.{expr.name} is a fact; only literals and parameters are allowed here",
                               expr.pos)
                guess = did_you_mean(f"{group}.{expr.name}", _all_paths(self.pack.facts))
                self._fail(f"unknown fact {group}.{expr.name}", expr.pos,
                           hint=f"did you mean {guess}?" if guess else None)
            if schema.fields is None:
                self._fail(f"fact {group} is a {schema.scalar.type if schema.scalar else 'value'}; it has no fields",
                           expr.pos)
            fld = schema.fields.get(expr.name)
            if fld is None:
                guess = did_you_mean(f"{group}.{expr.name}", [f"{group}.{f}" for f in schema.fields])
                guess = guess or did_you_mean(f"{group}.{expr.name}", _all_paths(self.pack.facts))
                self._fail(f"unknown field {group}.{expr.name}", expr.pos,
                           hint=f"did you mean {guess}?" if guess else
                           f"fields of {group}: " + ", ".join(schema.fields))
            path = (group, expr.name)
            self.reads.add(path)
            return fld.type.required() if path in self.narrowed else fld.type
        base = self.type(expr.value)
        if base == HIT:
            t = HIT_FIELDS.get(expr.name)
            if t is None:
                guess = did_you_mean(expr.name, HIT_FIELDS)
                self._fail(f"a hit has no field {expr.name}", expr.pos,
                           hint=f"did you mean hit.{guess}?" if guess else "fields: " + ", ".join(HIT_FIELDS))
            return t
        self._fail(f"{base} has no field {expr.name}", expr.pos)
        raise AssertionError

    def _call(self, expr: ast.Call) -> Type:
        fn = REGISTRY.get(expr.name)
        if fn is None:
            guess = did_you_mean(expr.name, REGISTRY)
            self._fail(f"unknown function {expr.name}", expr.pos,
                       hint=f"did you mean {guess}?" if guess else "functions: " + ", ".join(sorted(REGISTRY)))
        arg_types = [self.type(a) for a in expr.args]
        try:
            result = fn.type_rule(arg_types)
        except SignatureError as exc:
            self._fail(f"{fn.name}() {exc}", expr.pos, hint=fn.signature)
        for index in fn.literal_args:
            if index < len(expr.args) and not is_constant(expr.args[index], self.pack.values):
                self._fail(f"argument {index + 1} of {fn.name}() must be a constant", expr.args[index].pos)
        if fn.validate is not None:
            try:
                values = [evaluate(a, Env({}, self.pack.values)) if is_constant(a, self.pack.values) else None
                          for a in expr.args]
            except Exception as exc:  # noqa: BLE001 - a constant argument that cannot be computed
                self._fail(f"an argument of {fn.name}() cannot be computed: {exc}", expr.pos)
            problem = fn.validate(values)
            if problem:
                self._fail(problem, expr.args[0].pos if expr.args else expr.pos)
        if fn.name == "matches" and len(expr.args) == 2:
            try:
                pattern = evaluate(expr.args[1], Env({}, self.pack.values))
            except Exception as exc:  # noqa: BLE001 - a pattern that cannot be computed
                self._fail(f"the pattern cannot be computed: {exc}", expr.args[1].pos)
            problem = pattern_problem(pattern)
            if problem:
                self._fail(f"regular expression refused: {problem}", expr.args[1].pos)
            try:
                regex.compile(pattern)
            except regex.error as exc:
                self._fail(f"bad regular expression: {exc}", expr.args[1].pos)
        return result

    # operators -------------------------------------------------------------------------

    def _value(self, expr: ast.Expr, what: str) -> Type:
        t = self.type(expr)
        if t.optional:
            self._fail(f"{what} may be null here", expr.pos,
                       hint="test it with `!= null` first (`x != null and …`) or use coalesce(x, default)")
        return t

    def _want(self, expr: ast.Expr, want: Type, what: str) -> None:
        t = self.type(expr)
        if not assignable(t, want):
            hint = "the value may be null; test it with `!= null` first" if t.optional else None
            self._fail(f"{what} must be {want}, got {t}", expr.pos, hint=hint)

    def _membership(self, expr: ast.Binary) -> Type:
        left = self._value(expr.left, "left side of 'in'")
        right = self._value(expr.right, "right side of 'in'")
        if right.name not in COLLECTION_NAMES:
            hint = "use contains(text, part) for text" if right == STR else None
            self._fail(f"'in' needs a set or list on the right, got {right}", expr.right.pos, hint=hint)
        assert right.arg is not None
        if unify(left, right.arg) is None:
            self._fail(f"{left} can never be in a {right}", expr.pos)
        return BOOL

    def _equality(self, expr: ast.Binary) -> Type:
        left, right = self.type(expr.left), self.type(expr.right)
        if unify(left, right) is None:
            self._fail(f"cannot compare {left} with {right}", expr.pos)
        return BOOL

    def _order(self, expr: ast.Binary) -> Type:
        left = self._value(expr.left, f"left side of '{expr.op}'")
        right = self._value(expr.right, f"right side of '{expr.op}'")
        common = unify(left, right)
        if common is None or common.name not in ("int", "float", "str", "date", "datetime", "time", "duration"):
            self._fail(f"cannot order {left} and {right} with '{expr.op}'", expr.pos)
        return BOOL

    def _arithmetic(self, expr: ast.Binary) -> Type:
        op = expr.op
        left = self._value(expr.left, f"left side of '{op}'")
        right = self._value(expr.right, f"right side of '{op}'")
        pair = (left.name, right.name)
        result: Type | None = None
        if left.numeric and right.numeric:
            result = FLOAT if op == "/" or FLOAT in (left, right) else INT
        elif op == "+" and pair == ("str", "str"):
            result = STR
        elif op in "+-" and pair in (("date", "duration"), ("datetime", "duration"), ("duration", "duration")):
            result = left
        elif op == "-" and pair in (("date", "date"), ("datetime", "datetime"), ("time", "time")):
            result = DURATION
        elif op == "*" and (pair in (("duration", "int"), ("duration", "float"))):
            result = DURATION
        elif op == "*" and pair in (("int", "duration"), ("float", "duration")):
            result = DURATION
        elif op == "/" and pair in (("duration", "int"), ("duration", "float")):
            result = DURATION
        elif op == "/" and pair == ("duration", "duration"):
            result = FLOAT
        if result is None:
            self._fail(f"cannot apply '{op}' to {left} and {right}", expr.pos)
        return result

    def _fail(self, message: str, pos: ast.Pos, hint: str | None = None) -> None:
        self.out.error(message, pos, hint)
        raise _Skip


def _coerce(decl: ast.FactDecl, earlier: FactField | None) -> bool:
    """Whether a declared field is read leniently: as its declaration says (``coerce = true``
    or ``false``), else as an earlier declaration of the same field said (strict by default)."""
    if decl.coerce is not None:
        return decl.coerce
    return earlier.coerce if earlier is not None else False


def _all_paths(facts: Mapping[str, FactSchema]) -> list[str]:
    paths = []
    for name, schema in facts.items():
        if schema.fields is None:
            paths.append(name)
        else:
            paths.extend(f"{name}.{f}" for f in schema.fields)
    return paths


def _path(expr: ast.Expr) -> tuple[str, ...] | None:
    if isinstance(expr, ast.Name):
        return (expr.name,)
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        return (expr.value.name, expr.name)
    return None


def _narrowings(expr: ast.Expr | None, when: bool) -> frozenset:
    """Fact paths known not to be null when expr evaluates to ``when``."""
    match expr:
        case ast.Binary(op="!=" | "==", left=left, right=right):
            null_test = (expr.op == "!=") == when
            if null_test:
                for side, other in ((left, right), (right, left)):
                    if isinstance(other, ast.Literal) and other.value is None and _path(side):
                        return frozenset({_path(side)})
        case ast.Binary(op="and", left=left, right=right) if when:
            return _narrowings(left, True) | _narrowings(right, True)
        case ast.Binary(op="or", left=left, right=right) if not when:
            return _narrowings(left, False) | _narrowings(right, False)
        case ast.Unary(op="not", operand=operand):
            return _narrowings(operand, not when)
    return frozenset()


# --------------------------------------------------------------------------------------
# Constant folding and tier reachability
# --------------------------------------------------------------------------------------


def fold(expr: ast.Expr, params: Mapping[str, Any]) -> ast.Expr:
    """Replace parameters and constant sub-expressions by literals."""
    if isinstance(expr, ast.Literal):
        return expr
    if is_constant(expr, params) and not isinstance(expr, ast.Literal):
        try:
            value = evaluate(expr, Env({}, params))
        except Exception:  # noqa: BLE001 - leave it for run time to report
            return expr
        return ast.Literal(value, expr.pos, format_value(value))
    match expr:
        case ast.Attribute(value=inner, name=name):
            return ast.Attribute(fold(inner, params), name, expr.pos)
        case ast.Call(name=name, args=args):
            return ast.Call(name, tuple(fold(a, params) for a in args), expr.pos)
        case ast.Unary(op=op, operand=operand):
            return ast.Unary(op, fold(operand, params), expr.pos)
        case ast.Binary(op=op, left=left, right=right):
            return ast.Binary(op, fold(left, params), fold(right, params), expr.pos)
        case ast.SetLiteral(items=items):
            return ast.SetLiteral(tuple(fold(i, params) for i in items), expr.pos)
        case ast.ListLiteral(items=items):
            return ast.ListLiteral(tuple(fold(i, params) for i in items), expr.pos)
    return expr


def _atoms(expr: ast.Expr) -> list[ast.Expr]:
    if isinstance(expr, ast.Binary) and expr.op == "and":
        return _atoms(expr.left) + _atoms(expr.right)
    return [expr]


def _interval(atom: ast.Expr) -> tuple[tuple[str, ...], str, Any] | None:
    """``path OP constant`` as (path, op, value), with the path on the left."""
    flip = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
    if isinstance(atom, ast.Binary) and atom.op in flip:
        if _path(atom.left) and isinstance(atom.right, ast.Literal):
            return _path(atom.left), atom.op, atom.right.value
        if _path(atom.right) and isinstance(atom.left, ast.Literal):
            return _path(atom.right), flip[atom.op], atom.left.value
    return None


def _atom_implies(b: ast.Expr, a: ast.Expr) -> bool:
    """Does atom b being true guarantee atom a is true? (conservative: False when unsure)"""
    if b == a:
        return True
    ib, ia = _interval(b), _interval(a)
    if ib is None or ia is None or ib[0] != ia[0]:
        return False
    _, op_b, vb = ib
    _, op_a, va = ia
    try:
        if op_b == "==":
            from compliance.checker.evaluator import apply_binary

            return bool(apply_binary(op_a, vb, va))
        if op_a in (">", ">=") and op_b in (">", ">="):
            return vb > va or (vb == va and (op_a == ">=" or op_b == ">"))
        if op_a in ("<", "<=") and op_b in ("<", "<="):
            return vb < va or (vb == va and (op_a == "<=" or op_b == "<"))
    except TypeError:
        return False
    return False


def _implies(later: ast.Expr, earlier: ast.Expr) -> bool:
    """Does ``later`` (a conjunction) imply ``earlier`` (a conjunction)?"""
    if isinstance(earlier, ast.Literal) and earlier.value is True:
        return True
    later_atoms = _atoms(later)
    if any(isinstance(a, ast.Literal) and a.value is False for a in later_atoms):
        return True
    return all(any(_atom_implies(b, a) for b in later_atoms) for a in _atoms(earlier))


__all__ = ["check_files", "fold", "HIT_FIELDS", "KIND_CLAUSES"]
