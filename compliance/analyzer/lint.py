"""Linting copy: a message (rendered text or fields) → findings with spans and safe fixes.

`prepare_message` turns what the caller gave into the facts copy rules read; `findings_of`
turns the compiled program's raw results into `Finding`s. `Engine.lint` is the public entry.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import unicodedata
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from compliance.analyzer.scanners.length import split_message
from compliance.errors import EvaluationError, FactError
from compliance.fastinit import fast_frozen_init, frozen_builder
from compliance.findings import SEVERITY_RANK, Finding

if TYPE_CHECKING:  # the lint pipeline runs a compiled program; it does not import the compiler
    from compliance.compiler.program import Program

#: Largest message `Engine.lint` scans, in characters over all text fields (the default of
#: ``Engine.max_message_chars``). Lint time and memory grow linearly with the text and with
#: the findings (a message of 1,000,000 emoji has 1,000,000 findings: ~6 s and ~0.7 GB), so a
#: larger message is denied by one `MESSAGE_TOO_LARGE` finding without being scanned.
MAX_MESSAGE_CHARS = 1_000_000
#: Rule id of the finding that denies an over-long message (category ``length``).
MESSAGE_TOO_LARGE = "message-too-large"
#: Findings about a message that was not checked at all. No suppression comment, selection,
#: ignore list or severity setting may hide or soften them: that would pass unchecked copy.
UNSUPPRESSIBLE: frozenset[str] = frozenset({MESSAGE_TOO_LARGE})

_SURROGATE = re.compile(r"[\ud800-\udfff]")  # escapes: mypyc rejects surrogates in literals

#: `Finding(...)` at half the cost, for `findings_of` (see `compliance.fastinit.frozen_builder`).
_new_finding = frozen_builder(Finding)

#: Text fields of a message (platform-rules.md, "Fixed names").
TEXT_FIELDS = ("signature", "body", "optout", "title", "url")
#: Fields shown first in a report, in this order.
FIELD_ORDER = {name: i for i, name in enumerate(("signature", "title", "body", "optout", "url"))}


@fast_frozen_init
@dataclass(frozen=True, slots=True)
class LintReport:
    """What `Engine.lint` returns.

    Attributes:
        channel: the channel linted for.
        findings: problems, sorted by field and position.
        fields: the text of each message field as linted (signature without 【】).
        offsets: for a message given as one string, where each field starts in that string
            (add it to a finding's ``start``/``end`` to point into the whole text).
    """

    channel: str
    findings: list[Finding]
    fields: dict[str, str]
    offsets: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """False when any finding has severity "error"."""
        return not any(f.severity == "error" for f in self.findings)

    def worst(self) -> str | None:
        """The highest severity among the findings, or None."""
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=SEVERITY_RANK.__getitem__)


def message_chars(message: object) -> int:
    """Characters of a message: the string's, or the sum over its text fields (others: 0)."""
    if isinstance(message, str):
        return len(message)
    if isinstance(message, Mapping):
        return sum(len(v) for k, v in message.items() if k in TEXT_FIELDS and isinstance(v, str))
    return 0


def screen_message(channel: str, message: object, max_chars: int) -> LintReport | None:
    """What is decided before any scan: a denying report for an over-long message, or None.

    Raises `FactError` for text that is not valid Unicode (a lone surrogate, which only an
    embedding caller can pass: it cannot come from UTF-8 and cannot be written out as JSON or
    sent), naming the field and the offset. Fail closed: neither case ever passes.
    """
    if message.__class__ is str:  # the common case, without building a list of fields
        if len(message) <= max_chars and (message.isascii() or _SURROGATE.search(message) is None):
            return None
    size = message_chars(message)
    if size > max_chars:
        finding = Finding(MESSAGE_TOO_LARGE, None, "length", "error",
                          f"消息过长：{size} 个字符，超过上限 {max_chars} 个字符，未检查文案")
        return LintReport(channel, [finding], {})
    if isinstance(message, str):
        texts: list[tuple[str | None, str]] = [(None, message)]
    elif isinstance(message, Mapping):
        texts = [(k, v) for k, v in message.items() if k in TEXT_FIELDS and isinstance(v, str)]
    else:
        return None
    for name, text in texts:
        if text.isascii():
            continue
        bad = _SURROGATE.search(text)
        if bad is not None:
            where = "the message" if name is None else f"message field {name}"
            raise FactError(f"{where} is not valid Unicode text: lone surrogate "
                            f"U+{ord(bad[0]):04X} at character {bad.start()}")
    return None


def visible(message: str) -> str:
    """A finding message with control, format and line/paragraph-separator characters escaped.

    Messages quote the copy (``含有“最\\u202e低价”``): a bidi override or NUL quoted as is would
    reorder or cut what a terminal, log or web page shows around it.
    """
    return "".join(
        f"\\u{ord(ch):04x}" if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") and ch != "\n" else ch
        for ch in message
    )


def split_rendered(text: str, optout_phrases: Any) -> tuple[dict[str, str], dict[str, int]]:
    """A whole rendered SMS → signature (inside 【】), body and opt-out, with their offsets."""
    parts = split_message(text, optout_phrases)
    fields = {"signature": parts.signature_name, "body": parts.body, "optout": parts.optout}
    offsets = {"body": parts.body_span[0]}
    if parts.signature_span is not None:
        offsets["signature"] = parts.signature_span[0] + 1
    if parts.optout_span is not None:
        offsets["optout"] = parts.optout_span[0]
    return fields, offsets


class _RulePlan(NamedTuple):
    """What `findings_of` needs of one copy rule, looked up once per program."""

    id: str
    ref: str | None
    category: str
    severity: str
    severity_declared: bool
    render: Callable[..., str] | None
    fixer: Callable[..., Any] | None
    title: str
    #: the message when its template has no expression (rendered once, when the plan is built)
    constant: str | None
    #: the finding of a result about the whole message (no field, no hit) when nothing in it
    #: varies from one message to the next (constant message, no fix): built once and shared,
    #: as findings are immutable (``jd-sms-optout``, "no opt-out", fires on most of an archive)
    whole: Finding | None


class _Plan(NamedTuple):
    """Per-program constants of the lint hot path (the program is immutable)."""

    program: weakref.ref[Program]
    #: defaults of the `message` fact group's fields (None where no default is declared)
    message_defaults: dict[str, Any]
    rules: tuple[_RulePlan, ...]
    fact_names: frozenset[str]
    #: facts outside `message` that copy rules read and that have no default ("poster.stages")
    required: tuple[tuple[str, str], ...]
    #: (group, declared defaults) of every fact group the copy rules read
    copy_defaults: tuple[tuple[str, dict[str, Any]], ...]
    #: does the pack declare a `send` fact group
    has_send: bool
    #: for a message given as one string: the `send` defaults copy rules read (None: they
    #: read none), the other groups' defaults, and the text fields of `message` (in the
    #: order `prepare_message` builds them) with their defaults
    send_defaults: dict[str, Any] | None
    other_defaults: tuple[tuple[str, dict[str, Any]], ...]
    string_fields: dict[str, str]


_plans: dict[int, _Plan] = {}
_plans_lock = threading.Lock()


def _plan(program: Program) -> _Plan:
    """The program's `_Plan`, built on first use and dropped with the program.

    Keyed by ``id``: `Program` is an unhashable frozen dataclass. The weak reference guards
    against a new program reusing the id of a collected one.
    """
    plan = _plans.get(id(program))
    if plan is not None and plan.program() is program:
        return plan
    schema = program.pack.facts.get("message")
    defaults: dict[str, Any] = {}
    if schema is not None and schema.fields is not None:
        for name, fld in schema.fields.items():
            defaults[name] = fld.default if fld.has_default else None
    rules = tuple(
        _rule_plan(rule.id, rule.ref, rule.category, rule.severity, rule.severity_declared,
                   program.copy_messages.get(rule.id), program.copy_fixes.get(rule.id), rule.title,
                   _constant_message(rule.message))
        for rule in program.copy_rules
    )
    required = set()
    for rule in program.copy_rules:
        for path in rule.reads:
            group = program.pack.facts.get(path[0])
            if path[0] == "message" or len(path) != 2 or group is None or group.fields is None:
                continue
            read = group.fields.get(path[1])
            if read is not None and not read.has_default:
                required.add((path[0], path[1]))
    groups = sorted({p[0] for rule in program.copy_rules for p in rule.reads})
    copy_defaults = tuple(
        (group, {n: f.default for n, f in fields.items() if f.has_default})
        for group in groups if (fields := program.pack.facts[group].fields) is not None
    )
    # The text fields in the order `group` gets its keys: the defaults, then the split parts
    # (whose values every lint overwrites).
    split_fields = ("signature", "body", "optout")
    order = [*defaults, *(name for name in split_fields if name not in defaults)]
    string_fields = {name: defaults.get(name) or "" for name in order
                     if name in TEXT_FIELDS and (name in split_fields or isinstance(defaults.get(name), str))}
    key = id(program)
    plan = _Plan(weakref.ref(program, lambda _ref: _plans.pop(key, None)), defaults, rules,
                 frozenset(program.pack.facts), tuple(sorted(required)), copy_defaults,
                 "send" in program.pack.facts,
                 next((d for g, d in copy_defaults if g == "send"), None),
                 tuple((g, d) for g, d in copy_defaults if g not in ("message", "send")),
                 string_fields)
    with _plans_lock:
        _plans[key] = plan
    return plan


def _rule_plan(rule_id: str, ref: str | None, category: str, severity: str, severity_declared: bool,
               render: Callable[..., str] | None, fixer: Callable[..., Any] | None, title: str,
               constant: str | None) -> _RulePlan:
    whole = None
    if fixer is None and (constant is not None or render is None):
        message = constant if constant is not None else title
        whole = Finding(rule_id, ref, category, severity, message if message.isprintable() else visible(message))
    return _RulePlan(rule_id, ref, category, severity, severity_declared, render, fixer, title, constant, whole)


def _constant_message(template: Any) -> str | None:
    """The text of a message template without expressions (literal holes folded), else None."""
    if template is None:
        return None
    from compliance.grammar import ast
    from compliance.checker.evaluator import format_plain

    pieces = []
    for part in template.parts:
        if isinstance(part, str):
            pieces.append(part)
        elif isinstance(part, ast.Literal):
            pieces.append(format_plain(part.value))
        else:
            return None
    message = "".join(pieces)
    return message if message.isprintable() else visible(message)


def prepare_message(program: Program, message: str | Mapping[str, Any], *, optout_phrases: Any,
                    at: dt.datetime | None, via_template: bool | None) -> tuple[dict[str, Any], dict[str, str], dict[str, int]]:
    """Facts for the copy rules, fields as linted, and field offsets for a one-string message.

    The facts hold the `message` group, every other group the copy rules read filled with
    its declared defaults (a given group's values win), and any other group given.
    """
    plan = _plan(program)
    if isinstance(message, str):
        if plan.required:  # a bare string cannot carry them (was a KeyError inside the rules)
            needed = ", ".join(f"{group}.{name}" for group, name in plan.required)
            raise FactError(f"the copy rules of {program.pack.name} also read {needed}: give the message "
                            f"as a mapping of fields with these facts, e.g. {{\"body\": ..., "
                            f"\"{plan.required[0][0]}\": {{...}}}}")
        return _prepare_string(plan, message, optout_phrases, at, via_template)
    facts: dict[str, Any] = {}
    offsets: dict[str, int] = {}
    group: dict[str, Any] = plan.message_defaults.copy()
    if isinstance(message, Mapping):
        fields: dict[str, str] = {}
        extra: dict[str, Any] = {}
        for key, value in message.items():
            if key in TEXT_FIELDS:
                if not isinstance(value, str):
                    raise FactError(f"message field {key} must be text, got {type(value).__name__}")
                fields[key] = value
            else:
                extra[key] = value
        signature = fields.get("signature", "")
        if signature.startswith("【") and signature.endswith("】") and len(signature) >= 2:
            fields["signature"] = signature[1:-1]
            offsets["signature"] = 1
        group.update(fields)
        for key in ("deadline", "variables"):
            if key in extra:
                group[key] = extra[key]
        facts["message"] = group
        for key, value in extra.items():
            if key in ("deadline", "variables"):
                continue
            if key not in plan.fact_names:
                known = ", ".join(list(TEXT_FIELDS) + [n for n in program.pack.facts if n != "message"])
                raise FactError(f"unknown message field or fact {key!r} for {program.pack.name} (known: {known})")
            facts[key] = value
    else:
        raise FactError(f"a message is a string or a mapping of fields, got {type(message).__name__}")
    if at is not None or via_template is not None or plan.has_send:
        facts["send"] = _with_send_arguments(dict(facts.get("send") or {}), at, via_template)
    for name, defaults in plan.copy_defaults:
        given = facts.get(name)
        if given is None:
            facts[name] = defaults.copy()
        elif name != "message" and (given.__class__ is dict or isinstance(given, Mapping)):
            merged = defaults.copy()
            merged.update(given)
            facts[name] = merged
    return facts, {k: v for k, v in group.items() if k in TEXT_FIELDS and isinstance(v, str)}, offsets


def report_of(program: Program, facts: dict[str, Any], fields: dict[str, str],
              offsets: dict[str, int]) -> LintReport:
    """Run the pack's copy rules over prepared facts; the report of their findings."""
    raw = _run_copy(program.copy, program.pack.channel, facts)
    return LintReport(program.pack.channel, findings_of(program, facts, raw) if raw else [], fields, offsets)


def _run_copy(copy: Callable[[dict[str, Any]], list[tuple[int, str | None, Any]]], channel: str,
              facts: dict[str, Any]) -> list[tuple[int, str | None, Any]]:
    """The compiled copy function's raw results; a primitive failing is an `EvaluationError`
    naming the channel."""
    try:
        return copy(facts)
    except Exception as exc:  # noqa: BLE001 - a primitive failing is reported, with the rule set
        raise EvaluationError(f"linting for {channel} failed: {exc!r}") from exc


def findings_of(program: Program, facts: Mapping[str, Any], raw: list[tuple[int, str | None, Any]]) -> list[Finding]:
    """`Finding`s from the compiled copy function's results, sorted by field and position.

    Order: by field (`FIELD_ORDER`; findings about the whole message last), then start, then
    rule id.
    """
    if not raw:
        return []
    return _findings(_plan(program).rules, facts, raw)


def _findings(rules: tuple[_RulePlan, ...], facts: Mapping[str, Any],
              raw: list[tuple[int, str | None, Any]]) -> list[Finding]:
    """`findings_of` with the program's rule plans looked up (`lint_batch` looks them up once)."""
    out: list[Finding] = []
    # Sort keys built alongside (a key function would read three attributes back from
    # each finding); the position breaks ties, so equal keys keep the rules' order.
    keys: list[tuple[int, int, str, int]] = []
    message = facts.get("message", {})
    for index, field_name, hit in raw:
        rule_id, ref, category, severity, severity_declared, render, fixer, title, text_message, whole = rules[index]
        if whole is not None and field_name is None and hit is None:
            keys.append((9, -1, rule_id, len(out)))
            out.append(whole)
            continue
        text = message.get(field_name, "") if field_name is not None else ""
        if text_message is None:  # not a constant message
            if render is None:
                text_message = hit.note if hit is not None else title
            else:
                try:
                    text_message = render(facts, text, field_name, hit)
                except Exception:  # noqa: BLE001 - a message must never hide the finding
                    text_message = title
            if not text_message.isprintable():
                text_message = visible(text_message)
        if hit is not None:
            start, end, fix = hit.start, hit.end, hit.fix
            if not severity_declared:
                severity = hit.severity
        elif field_name is not None:
            start, end, fix = 0, len(text), None
        else:
            start = end = fix = None
        if fixer is not None:
            try:
                fix = fixer(facts, text, field_name, hit)
            except Exception:  # noqa: BLE001 - no fix rather than a crash
                fix = None
        keys.append((FIELD_ORDER.get(field_name, 9) if field_name is not None else 9,
                     start if start is not None else -1, rule_id, len(out)))
        out.append(_new_finding(rule_id, ref, category, severity, text_message, field_name, start, end, fix))
    if len(out) > 1:
        keys.sort()
        out = [out[key[3]] for key in keys]
    return out


def _with_send_arguments(send: dict[str, Any], at: dt.datetime | None, via_template: bool | None) -> dict[str, Any]:
    """``send`` with `Engine.lint`'s ``at`` and ``via_template`` arguments, where given."""
    if at is not None:
        send["at"] = at
    if via_template is not None:
        send["via_template"] = via_template
    return send


def _prepare_string(plan: _Plan, message: str, optout_phrases: Any, at: dt.datetime | None,
                    via_template: bool | None) -> tuple[dict[str, Any], dict[str, str], dict[str, int]]:
    """`prepare_message` for the common case, a whole rendered message as one string: the
    same facts, fields and offsets, built from the plan's precomputed defaults."""
    parts = split_message(message, optout_phrases)
    offsets = {"body": parts.body_span[0]}
    signature = parts.signature
    if signature:
        offsets["signature"] = parts.signature_span[0] + 1  # type: ignore[index]
        signature = signature[1:-1]
    if parts.optout_span is not None:
        offsets["optout"] = parts.optout_span[0]
    body, optout = parts.body, parts.optout
    group = plan.message_defaults.copy()
    group["signature"] = signature
    group["body"] = body
    group["optout"] = optout
    facts: dict[str, Any] = {"message": group}
    if at is not None or via_template is not None or plan.has_send:
        send = {} if plan.send_defaults is None else plan.send_defaults.copy()
        facts["send"] = _with_send_arguments(send, at, via_template)
    for name, defaults in plan.other_defaults:
        facts[name] = defaults.copy()
    fields = plan.string_fields.copy()
    fields["signature"] = signature
    fields["body"] = body
    fields["optout"] = optout
    return facts, fields, offsets


#: What `lint_batch` does with a message that fails (`Engine.lint_many`'s ``errors``).
BATCH_ERRORS = ("raise", "return")


def lint_batch(program: Program, messages: list[Any], *, optout_phrases: Any, max_chars: int,
               at: dt.datetime | None, via_template: bool | None,
               check: Callable[[dict[str, Any]], dict[str, Any]], errors: str = "raise",
               nulls_allowed: bool = False) -> list[Any]:
    """`Engine.lint_many`'s loop: the report of each message, in order, each exactly what
    ``Engine.lint(message, channel)`` returns.

    What `Engine.lint` looks up per message (the program, its plan, the opt-out phrases, the
    size limit) is looked up once per batch. ``check`` validates the facts of a message given
    as a mapping (`Engine.validate_facts` merged over them, as `Engine.lint_program` does).
    A None message gives None when ``nulls_allowed``, else a `FactError` naming its index. With
    ``errors`` = "return" a message that fails with a `ComplianceError` (that one included)
    gives the exception in its place; with "raise" it propagates, with a note naming the
    message's index.
    """
    from compliance.errors import ComplianceError

    plan = _plan(program)
    rules = plan.rules
    copy = program.copy
    channel = program.pack.channel
    string_ok = not plan.required  # else a bare string raises FactError in prepare_message
    out: list[Any] = []
    for index, message in enumerate(messages):
        if message is None:
            if nulls_allowed:
                out.append(None)
                continue
            null = FactError(f"message {index} of the batch is null (None); give text or a mapping "
                             f"of fields, or pass nulls=\"none\" to get None for it")
            if errors == "return":
                out.append(null)
                continue
            raise null
        try:
            screened = screen_message(channel, message, max_chars)
            if screened is not None:
                out.append(screened)
                continue
            if string_ok and message.__class__ is str:
                facts, fields, offsets = _prepare_string(plan, message, optout_phrases, at, via_template)
            else:
                facts, fields, offsets = prepare_message(program, message, optout_phrases=optout_phrases,
                                                         at=at, via_template=via_template)
                if not isinstance(message, str):
                    facts = check(facts)
            # `report_of`, with the rule plans looked up once
            raw = _run_copy(copy, channel, facts)
            out.append(LintReport(channel, _findings(rules, facts, raw) if raw else [], fields, offsets))
        except ComplianceError as exc:
            if errors == "return":
                out.append(exc)
                continue
            exc.add_note(f"(message {index} of the batch)")
            raise
    return out
