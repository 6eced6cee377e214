"""The compiler: a `CheckedPack` → Python source → a code object (as Jinja2 does).

The generated module has one function per rule kind that evaluates every rule of that kind
inline and short-circuits (`eligibility(facts)`), plus one small function per rule for
examples, explanations and messages. Constants were folded by the checker.

Safety: rule text never becomes code. Identifiers in the generated source are either fixed
names of this module, registered function names, or fact-group names the grammar and checker
restricted to ``[A-Za-z][A-Za-z0-9_]*`` and which are prefixed here (``_g_shop``). Field
names appear only as ``repr()``-quoted dictionary keys. Every constant that is not a plain
int/bool/None/finite float/str is passed in the namespace (``_K3``), never written as source.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from compliance.grammar import ast
from compliance.errors import ComplianceError
from compliance.checker.checker import HIT_FIELDS
from compliance.checker.evaluator import format_plain
from compliance.checker.functions import REGISTRY
from compliance.checker.model import CheckedPack, CheckedRule
from compliance.checker.types import STR

#: Bump when generated code changes shape: part of the disk-cache key.
COMPILER_VERSION = "5"

_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_BINARY = {"+": "+", "-": "-", "*": "*", "/": "/", "==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">",
           ">=": ">=", "in": "in", "not_in": "not in", "and": "and", "or": "or"}


class CompileError(ComplianceError):
    """The compiler met something the checker should have rejected, or Python refused the
    generated source (a bug, not user error: the parser's limits should prevent it)."""


@dataclass
class CompiledSource:
    """Generated source plus the constants it refers to."""

    source: str
    constants: dict[str, Any]
    eligibility_rules: tuple[str, ...]
    audience_rules: tuple[str, ...]
    copy_rules: tuple[str, ...] = ()


class _Codegen:
    def __init__(self, pack: CheckedPack):
        self.pack = pack
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {}
        self._const_names: dict[tuple[type, Any], str] = {}

    # small helpers ---------------------------------------------------------------------

    def emit(self, line: str = "", indent: int = 0) -> None:
        self.lines.append("    " * indent + line)

    def constant(self, value: Any) -> str:
        """Source text for a constant: a plain literal, or a name bound in the namespace."""
        if value is None or isinstance(value, bool) or type(value) is int:
            return repr(value)
        if type(value) is float and math.isfinite(value):
            return repr(value)
        if type(value) is str:
            return repr(value)
        key = (type(value), value)
        try:
            name = self._const_names.get(key)
        except TypeError:  # unhashable (never produced by the checker, but be strict)
            raise CompileError(f"cannot embed constant of type {type(value).__name__}") from None
        if name is None:
            name = f"_K{len(self._const_names)}"
            self._const_names[key] = name
            self.constants[name] = value
        return name

    @staticmethod
    def comment(text: str) -> str:
        # Only harmless characters reach a comment line.
        return "# " + re.sub(r"[^\w\-. ,()]", "?", text, flags=re.ASCII)

    @staticmethod
    def group_var(name: str) -> str:
        if not _IDENT.match(name):
            raise CompileError(f"bad fact name {name!r}")
        return f"_g_{name}"

    # expressions ----------------------------------------------------------------------

    def expr(self, e: ast.Expr, bound: dict[str, str]) -> str:
        match e:
            case ast.Literal(value=value):
                return self.constant(value)
            case ast.Name(name=name):
                if name in bound:
                    return bound[name]
                schema = self.pack.facts.get(name)
                if schema is None or schema.scalar is None:
                    raise CompileError(f"unresolved name {name!r}")
                return self.group_var(name)
            case ast.Attribute(value=ast.Name(name=group), name=field) if group not in bound:
                return f"{self.group_var(group)}[{field!r}]"
            case ast.Attribute(value=inner, name=field):
                if field not in HIT_FIELDS:
                    raise CompileError(f"unknown attribute {field!r}")
                return f"{self.expr(inner, bound)}.{field}"
            case ast.Call(name=name, args=args):
                if name not in REGISTRY or not _IDENT.match(name):
                    raise CompileError(f"unknown function {name!r}")
                return f"_fn_{name}({', '.join(self.expr(a, bound) for a in args)})"
            case ast.Unary(op="not", operand=operand):
                return f"(not {self.expr(operand, bound)})"
            case ast.Unary(op="-", operand=operand):
                return f"(-{self.expr(operand, bound)})"
            case ast.Binary(op="==" | "!=", left=left, right=right) if _is_null(left) or _is_null(right):
                side = right if _is_null(left) else left
                word = "is" if e.op == "==" else "is not"
                return f"({self.expr(side, bound)} {word} None)"
            case ast.Binary(op=op, left=left, right=right):
                if op not in _BINARY:
                    raise CompileError(f"unknown operator {op!r}")
                return f"({self.expr(left, bound)} {_BINARY[op]} {self.expr(right, bound)})"
            case ast.SetLiteral(items=items):
                # one bracket per level (not ``frozenset((…))``): CPython allows 200 nested brackets
                return f"_set({', '.join(self.expr(i, bound) for i in items)})"
            case ast.ListLiteral(items=items):
                return f"({', '.join(self.expr(i, bound) for i in items)}{',' if len(items) == 1 else ''})"
        raise CompileError(f"cannot compile {type(e).__name__}")

    def passes(self, rule: CheckedRule, bound: dict[str, str]) -> str:
        """A boolean expression that holds when the rule passes."""
        condition = rule.require if rule.require is not None else rule.select
        if condition is None:
            raise CompileError(f"rule {rule.id} has no condition")
        body = self.expr(condition, bound)
        if rule.when is not None:
            return f"(not {self.expr(rule.when, bound)} or {body})"
        return body

    def prefetch(self, rules: list[CheckedRule], indent: int, extra: tuple[str, ...] = ()) -> None:
        groups = sorted({path[0] for rule in rules for path in rule.reads} | set(extra))
        for group in groups:
            self.emit(f"{self.group_var(group)} = facts[{group!r}]", indent)

    # sections --------------------------------------------------------------------------

    def module(self) -> CompiledSource:
        pack = self.pack
        self.emit(self.comment(f"Generated by compliance.compiler.codegen {COMPILER_VERSION} from pack {pack.name}"))
        self.emit("# Do not edit: regenerate with `compliance compile --show PACK`.")
        self.emit()
        eligibility = list(pack.rules_of("eligibility"))
        audience = list(pack.rules_of("audience"))
        self._eligibility(eligibility)
        for index, rule in enumerate(eligibility):
            self._rule_check(f"_eligibility_{index}", rule)
        for index, rule in enumerate(audience):
            self._rule_check(f"_audience_{index}", rule)
        for index, rule in enumerate(pack.rules_of("schedule")):
            self._schedule(index, rule)
        copy = list(pack.rules_of("copy"))
        self._copy(copy)
        for rule in pack.rules:
            if rule.message is not None and rule.kind in ("eligibility", "audience"):
                self._message(rule)
            elif rule.kind == "schedule":
                self._message(rule, SCHEDULE_BOUND)
            elif rule.kind == "copy":
                self._message(rule, COPY_BOUND)
                if rule.fix is not None:
                    self._copy_fix(rule)
        return CompiledSource("\n".join(self.lines) + "\n", self.constants,
                              tuple(r.id for r in eligibility), tuple(r.id for r in audience),
                              tuple(r.id for r in copy))

    def _schedule(self, index: int, rule: CheckedRule) -> None:
        """``_schedule_N(facts)``: None when the rule does not apply, else (allowed, earliest)."""
        self.emit(f"def _schedule_{index}(facts):")
        self.emit(self.comment(f"{rule.id} ({', '.join(rule.refs)})"), 1)
        self.prefetch([rule], 1)
        if rule.when is not None:
            self.emit(f"if not {self.expr(rule.when, {})}:", 1)
            self.emit("return None", 2)
        allowed = self.expr(rule.require, {}) if rule.require is not None else "True"
        earliest = self.expr(rule.earliest, {}) if rule.earliest is not None else "None"
        self.emit(f"return ({allowed}, {earliest})", 1)
        self.emit()

    def _copy(self, rules: list[CheckedRule]) -> None:
        """``copy(facts)``: (rule index, field, hit) for each problem. Fields outer, rules inner,
        so every primitive sees one text many times in a row (the matcher caches it)."""
        self.emit("def copy(facts):")
        self.emit('"""(rule index, field or None, hit or None) for every copy problem found."""', 1)
        self.prefetch(rules, 1, extra=("message",) if any(r.on for r in rules) else ())
        self.emit("out = []", 1)
        fields = list(dict.fromkeys(f for rule in rules for f in rule.on))
        for field in fields:
            self.emit(f"_field = {field!r}", 1)
            self.emit(f"_text = _g_message[{field!r}]", 1)
            self.emit("if _text:", 1)
            if any(field in rule.on and _lexicon_find(rule) for rule in rules):
                # one matcher pass per field; each lexicon rule then takes its group
                self.emit("_lex = _lexicons_of(_text)", 2)
            for index, rule in enumerate(rules):
                if field in rule.on:
                    self._copy_rule(index, rule, 2)
        for index, rule in enumerate(rules):
            if not rule.on:
                self._copy_rule(index, rule, 1, field_level=False)
        self.emit("return out", 1)
        self.emit()

    def _copy_rule(self, index: int, rule: CheckedRule, indent: int, field_level: bool = True) -> None:
        bound = COPY_BOUND if field_level else {}
        self.emit(self.comment(f"{rule.id} ({', '.join(rule.refs)})"), indent)
        if rule.when is not None:
            self.emit(f"if {self.expr(rule.when, bound)}:", indent)
            indent += 1
        where = "_field" if field_level else "None"
        grouped = _lexicon_find(rule) if field_level else None
        if grouped is not None:
            name, platform = grouped
            source = f"_lex.get({name!r}, ())"
            if platform:
                source = f"_for_platform({source}, {platform!r})"
            _, strict = _strict_wrapper(rule.find)
            if strict is not None:
                source = f"_fn_as_errors({source}, {self.expr(strict, bound)})"
            self.emit(f"for _hit in {source}:", indent)
            self.emit(f"out.append(({index}, {where}, _hit))", indent + 1)
        elif rule.find is not None:
            find = rule.find
            if isinstance(find, ast.Call) and find.name in REGISTRY and REGISTRY[find.name].iterate is not None:
                source = f"_iter_{find.name}({', '.join(self.expr(a, bound) for a in find.args)})"
            else:
                source = self.expr(find, bound)
            self.emit(f"for _hit in {source}:", indent)
            self.emit(f"out.append(({index}, {where}, _hit))", indent + 1)
        else:
            assert rule.require is not None
            self.emit(f"if not {self.expr(rule.require, bound)}:", indent)
            self.emit(f"out.append(({index}, {where}, None))", indent + 1)

    def _copy_fix(self, rule: CheckedRule) -> None:
        assert rule.fix is not None
        self.emit(f"def _fix_{_mangle(rule.id)}(facts, _text, _field, _hit):")
        for group in sorted({p[0] for p in _reads(rule.fix)} & set(self.pack.facts)):
            if self.pack.facts[group].is_group or self.pack.facts[group].scalar is not None:
                self.emit(f"{self.group_var(group)} = facts.get({group!r})", 1)
        self.emit(f"return {self.expr(rule.fix, COPY_BOUND)}", 1)
        self.emit()

    def _eligibility(self, rules: list[CheckedRule]) -> None:
        self.emit("def eligibility(facts):")
        self.emit('"""Indexes of the unmet eligibility rules, and the grants of the chosen tiers."""', 1)
        self.prefetch(rules, 1)
        self.emit("unmet = []", 1)
        self.emit("grants = {}", 1)
        for index, rule in enumerate(rules):
            self.emit(self.comment(f"{rule.id} ({', '.join(rule.refs)})"), 1)
            if rule.tiers:
                self._tiers(rule, index, 1)
            else:
                self.emit(f"if not {self.passes(rule, {})}:", 1)
                self.emit(f"unmet.append({index})", 2)
        self.emit("return unmet, grants", 1)
        self.emit()

    def _tiers(self, rule: CheckedRule, index: int, indent: int) -> None:
        level = indent
        if rule.when is not None:
            self.emit(f"if {self.expr(rule.when, {})}:", indent)
            level += 1
        for position, tier in enumerate(rule.tiers):
            keyword = "if" if position == 0 else "elif"
            self.emit(f"{keyword} {self.expr(tier.condition, {})}:", level)
            grants = {key: value.value for key, value in tier.grants}
            grants["tier"] = tier.name
            self.emit(f"grants.update({self.constant(_FrozenDict(grants))})", level + 1)
        self.emit("else:", level)
        self.emit(f"unmet.append({index})", level + 1)

    def _rule_check(self, name: str, rule: CheckedRule) -> None:
        """Per-rule function: True when it passes; for tiered rules the tier index or -1."""
        self.emit(f"def {name}(facts):")
        self.emit(self.comment(f"{rule.id}"), 1)
        self.prefetch([rule], 1)
        if rule.tiers:
            if rule.when is not None:
                self.emit(f"if not {self.expr(rule.when, {})}:", 1)
                self.emit("return -2", 2)
            for position, tier in enumerate(rule.tiers):
                self.emit(f"if {self.expr(tier.condition, {})}:", 1)
                self.emit(f"return {position}", 2)
            self.emit("return -1", 1)
        else:
            self.emit(f"return {self.passes(rule, {})}", 1)
        self.emit()

    def _message(self, rule: CheckedRule, bound: dict[str, str] | None = None) -> None:
        if rule.message is None:
            return
        bound = bound or {}
        params = "facts, _text, _field, _hit" if rule.kind == "copy" else "facts"
        self.emit(f"def _message_{_mangle(rule.id)}({params}):")
        reads = {p[0] for part in rule.message.parts if not isinstance(part, str) for p in _reads(part)} - set(bound)
        for group in sorted(g for g in reads if g in self.pack.facts):
            self.emit(f"{self.group_var(group)} = facts.get({group!r})", 1)
        pieces = []
        for part in rule.message.parts:
            if isinstance(part, str):
                pieces.append(repr(part))
            elif isinstance(part, ast.Literal):
                pieces.append(repr(format_plain(part.value)))  # folded at compile time
            elif _is_text(part, bound):
                pieces.append(self.expr(part, bound))  # already what `_fmt` would return
            else:
                pieces.append(f"_fmt({self.expr(part, bound)})")
        self.emit(f"return ''.join(({', '.join(pieces)},))" if pieces else "return ''", 1)
        self.emit()


def _is_text(expr: ast.Expr, bound: dict[str, str]) -> bool:
    """Is ``expr`` always a string in a message: the field's text, or a text field of the hit?

    `format_plain` returns a string unchanged, so a message piece known to be text skips the
    call (each finding renders its message; most pieces are ``hit.text`` and ``hit.note``).
    """
    match expr:
        case ast.Name(name="text") if bound.get("text") == "_text":
            return True
        case ast.Attribute(value=ast.Name(name="hit"), name=field) if bound.get("hit") == "_hit":
            return HIT_FIELDS.get(field) == STR
    return False


#: How a copy rule's bound names appear in generated code.
COPY_BOUND = {"text": "_text", "field": "_field", "hit": "_hit"}
#: A schedule message may name the earliest allowed time it computed.
SCHEDULE_BOUND = {"earliest": "facts.get('earliest')"}


class _FrozenDict(dict):
    """A hashable dict for constant grants (never mutated: copied into `grants`)."""

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted((k, repr(v)) for k, v in self.items())))


def _strict_wrapper(find: ast.Expr | None) -> tuple[ast.Expr | None, ast.Expr | None]:
    """``(inner, flag)`` for ``as_errors(inner, flag)``, else ``(find, None)``: a strict-mode
    wrapper around ``lexicon(…)`` keeps the rule on the field's single matcher pass."""
    if isinstance(find, ast.Call) and find.name == "as_errors" and len(find.args) == 2:
        return find.args[0], find.args[1]
    return find, None


def _lexicon_find(rule: CheckedRule) -> tuple[str, str] | None:
    """(lexicon, platform) when the rule's `find` is ``lexicon("name", text[, "platform"])``.

    Those rules read one group of the field's single matcher pass instead of calling
    `lexicon()` each; anything else compiles to the call as written.
    """
    find, _ = _strict_wrapper(rule.find)
    if not isinstance(find, ast.Call) or find.name != "lexicon" or len(find.args) not in (2, 3):
        return None
    name, text = find.args[0], find.args[1]
    platform = find.args[2] if len(find.args) == 3 else ast.Literal("", name.pos)
    if not (isinstance(name, ast.Literal) and isinstance(name.value, str) and isinstance(text, ast.Name)
            and text.name == "text" and isinstance(platform, ast.Literal) and isinstance(platform.value, str)):
        return None
    return name.value, platform.value


#: Rule fields that hold data, never an expression: skipped by `lexicon_names` (examples are
#: most of a pack's size).
_NOT_EXPRESSIONS = frozenset({"pos", "examples", "reads", "refs"})


def lexicon_names(pack: CheckedPack) -> frozenset[str] | None:
    """Every lexicon the pack's rules name in ``lexicon(name, …)``; None if one name is not a
    literal (the checker requires literals, so only for packs built some other way).

    A program's matcher holds only these lexicons (`Matcher.restricted`). The walk covers
    every field of every rule that can hold an expression (naming too many lexicons would
    only be slower; too few would lose hits, which a test guards against).
    """
    names: set[str] = set()
    dynamic = False
    seen: set[int] = set()

    def walk(node: Any) -> None:
        nonlocal dynamic
        if isinstance(node, ast.Call) and node.name == "lexicon":
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Literal) and isinstance(first.value, str):
                names.add(first.value)
            else:
                dynamic = True
        if isinstance(node, (list, tuple, frozenset, set)):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for item in node.values():
                walk(item)
        elif hasattr(node, "__dataclass_fields__") and id(node) not in seen:
            seen.add(id(node))
            for name in node.__dataclass_fields__:
                if name not in _NOT_EXPRESSIONS:
                    walk(getattr(node, name))

    walk(pack.rules)
    return None if dynamic else frozenset(names)


def _is_null(e: ast.Expr) -> bool:
    return isinstance(e, ast.Literal) and e.value is None


def _reads(e: ast.Expr) -> set[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()

    def walk(node: ast.Expr) -> None:
        match node:
            case ast.Name(name=name):
                out.add((name,))
            case ast.Attribute(value=ast.Name(name=group), name=field):
                out.add((group, field))
            case ast.Attribute(value=inner):
                walk(inner)
            case ast.Call(args=args):
                for a in args:
                    walk(a)
            case ast.Unary(operand=operand):
                walk(operand)
            case ast.Binary(left=left, right=right):
                walk(left)
                walk(right)
            case ast.SetLiteral(items=items) | ast.ListLiteral(items=items):
                for i in items:
                    walk(i)

    walk(e)
    return out


def _mangle(rule_id: str) -> str:
    return rule_id.replace("-", "_")


def generate(pack: CheckedPack) -> CompiledSource:
    """Python source (and its constants) for a checked pack."""
    return _Codegen(pack).module()


def runtime_namespace() -> dict[str, Any]:
    """The globals every generated module runs with: functions and formatting only."""
    # Importing the primitives registers the analyzer functions; a pack served from the disk
    # cache may reach this point before anything else imported them.
    from compliance.analyzer.primitives import hits_by_lexicon, platform_filter

    namespace: dict[str, Any] = {"__builtins__": {"frozenset": frozenset}, "_fmt": format_plain, "_set": _set}
    for name, fn in REGISTRY.items():
        namespace[f"_fn_{name}"] = fn.impl
        if fn.iterate is not None:
            namespace[f"_iter_{name}"] = fn.iterate
    namespace["_lexicons_of"] = hits_by_lexicon
    namespace["_for_platform"] = platform_filter
    return namespace


def _set(*items: Any) -> frozenset:
    """A set literal with items computed at run time."""
    return frozenset(items)


def compile_source(compiled: CompiledSource, filename: str) -> Any:
    """The code object of generated source; raises `CompileError` if Python refuses it."""
    try:
        return compile(compiled.source, filename, "exec")
    except (SyntaxError, RecursionError, MemoryError, ValueError, OverflowError) as exc:
        where = f" (generated line {exc.lineno})" if isinstance(exc, SyntaxError) and exc.lineno else ""
        raise CompileError(f"{filename}: Python refused the generated code{where}: "
                           f"{type(exc).__name__}: {exc}") from None
