"""`Engine`: the public entry point. Loads packs, answers eligibility and audience questions.

    >>> import compliance
    >>> engine = compliance.Engine()
    >>> decision = engine.eligibility({"shop": {...}, "today": ...}, channel="jd.message_box")
    >>> decision.eligible, decision.unmet, decision.grants

An engine is immutable after construction and safe to share between threads.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from compliance import cache
from compliance.compiler import COMPILER_VERSION, CompiledSource, compile_source, generate, lexicon_names
from compliance.errors import EvaluationError, FactError, UnknownChannelError, did_you_mean
from compliance.evaluator import Env, explain
from compliance.facts import Validator, aware, build_validator, check_columns
from compliance.fastinit import fast_frozen_init, frozen_builder
from compliance.findings import Finding
from compliance.grammar.source import GRAMMAR_PATH, read_source
from compliance.model import CheckedPack, CheckedRule
from compliance.program import Program

if TYPE_CHECKING:  # pragma: no cover
    from compliance.lint import LintReport

BUILTIN_RULES = Path(__file__).parent / "rules"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@fast_frozen_init
@dataclass(frozen=True, slots=True)
class EligibilityDecision:
    """May this shop/account use this channel, and with what grants?"""

    eligible: bool
    unmet: list[Finding]
    grants: dict[str, Any]
    channel: str


#: `EligibilityDecision(...)` at a fraction of the cost, for `Engine.eligibility`.
_new_decision = frozen_builder(EligibilityDecision)


@dataclass(frozen=True)
class AudienceResult:
    """One row's audience verdict: which select rules chose it, which require rules it fails."""

    selected: dict[str, bool]
    findings: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class ScheduleDecision:
    """When may this send go out?

    Attributes:
        allowed: True when it may go out at the requested time (``send.at``).
        earliest: the earliest time every schedule rule allows, or None when a rule forbids
            the send outright (a requirement that waiting cannot fix).
        reasons: one finding per rule that forbids or delays the send.
    """

    allowed: bool
    earliest: dt.datetime | None
    reasons: list[Finding]
    channel: str


@dataclass(frozen=True)
class RuleInfo:
    """A rule as listed by `compliance rules`."""

    id: str
    kind: str
    pack: str
    channel: str
    refs: tuple[str, ...]
    severity: str
    category: str
    title: str
    message: str
    explain: str
    file: str
    line: int
    #: every channel where the rule is in force with these refs and this severity
    channels: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "pack": self.pack, "channel": self.channel,
                "channels": list(self.channels or (self.channel,)),
                "refs": list(self.refs), "severity": self.severity, "category": self.category,
                "title": self.title, "message": self.message, "explain": self.explain,
                "source": f"{self.file}:{self.line}"}


_lint: Any = None


def _lint_module() -> Any:
    """`compliance.lint`, imported on the first lint (not at `import compliance`: start-up)."""
    global _lint
    if _lint is None:
        import compliance.lint as module

        _lint = module
    return _lint


def builtin_rule_files() -> list[Path]:
    return sorted(BUILTIN_RULES.glob("*.rules"))


class Engine:
    """Loads the built-in packs (plus user packs) and evaluates them.

    Args:
        paths: extra rule files or directories of ``*.rules`` files. A user pack may
            ``extends`` a built-in pack and set ``channel "jd.sms"`` to take its place.
        params: parameter values by pack name, e.g. ``{"jd.sms": {"allowed_hours": ...}}``.
        use_cache: keep compiled packs in the on-disk cache (see `compliance.cache`).
        builtins: load the built-in packs (default True).
        lexicons: extra `compliance.analyzer.lexicon.Lexicon`s (e.g. banned words from
            configuration); one named like a built-in lexicon adds its entries to it, others
            can be named by user rules (``lexicon("brand_terms", text)``).
        allowed_words: words whose occurrences no lexicon hit may lie inside.
        max_message_chars: the largest message `lint` scans, in characters over all its text
            fields (default `compliance.lint.MAX_MESSAGE_CHARS`, 1,000,000). A longer message
            is denied unscanned by one ``message-too-large`` finding.

    Raises `RulesSyntaxError` (file:line:col) for a rules file that is not UTF-8 text, and
    `CheckError` for rules that do not check.
    """

    def __init__(self, paths: Iterable[str | Path] = (), *, params: Mapping[str, Mapping[str, Any]] | None = None,
                 use_cache: bool = True, builtins: bool = True, lexicons: Sequence[Any] = (),
                 allowed_words: Sequence[str] = (), max_message_chars: int | None = None):
        if max_message_chars is not None and (isinstance(max_message_chars, bool) or not isinstance(max_message_chars, int)
                                              or max_message_chars < 1):
            raise ValueError(f"max_message_chars must be a positive integer, got {max_message_chars!r}")
        self._lock = threading.Lock()
        self._matcher_lock = threading.Lock()
        self._own_matcher: Any = None
        builtin_files = builtin_rule_files() if builtins else []
        user_files = _expand(paths)
        sources = {str(p): read_source(p) for p in builtin_files + user_files}
        self._sources = sources
        self._user_files = {str(p) for p in user_files}
        self._params = {k: dict(v) for k, v in (params or {}).items()}
        self._extra_lexicons = tuple(lexicons)
        self._allowed_words = tuple(allowed_words)
        build = self._build(sources, use_cache)
        self.packs: dict[str, CheckedPack] = build["packs"]
        from compliance.custom_lexicons import lexicon_functions

        base = self._matcher
        self.programs: dict[str, Program] = {
            name: Program.build(pack, build["compiled"][name], build["code"][name],
                                lexicon_functions(base, lexicon_names(pack), self._allowed_words))
            for name, pack in self.packs.items()
        }
        self._channels = self._map_channels()
        #: generated fact validators by (pack, scope, coerce); see `_validator`
        self._validators: dict[tuple[str, Any, bool], Validator] = {}
        #: (program, validator) by (channel, coerce), for `eligibility`
        self._eligibility_entries: dict[tuple[str, bool], tuple[Program, Validator]] = {}
        self._optout_cache: Any = None  # opt-out phrases, loaded on the first lint
        if max_message_chars is not None:
            self.max_message_chars = max_message_chars

    def _matcher(self) -> Any:
        """The matcher over the built-in lexicons plus the engine's extra ones, built on the
        first lint (the built-in one is shared by every engine without extra lexicons)."""
        matcher = self._own_matcher
        if matcher is None:
            if self._extra_lexicons:
                from compliance.analyzer.matcher import Matcher
                from compliance.custom_lexicons import merged_lexicons

                with self._matcher_lock:
                    matcher = self._own_matcher
                    if matcher is None:
                        matcher = self._own_matcher = Matcher(merged_lexicons(self._extra_lexicons))
            else:
                from compliance.analyzer.matcher import default_matcher

                matcher = self._own_matcher = default_matcher()
        return matcher

    @classmethod
    def from_paths(cls, paths: Iterable[str | Path], **kwargs: Any) -> "Engine":
        """An engine with the built-in packs plus the rule files at paths."""
        return cls(paths, **kwargs)

    # loading ---------------------------------------------------------------------------

    def _build(self, sources: Mapping[str, str], use_cache: bool) -> dict[str, Any]:
        import json

        import compliance.analyzer.primitives  # noqa: F401 - registers the analyzer functions
        from compliance.analyzer.lexicon import builtin_lexicon_paths
        from compliance.checker import check_files

        extra_names = sorted({lexicon.name for lexicon in self._extra_lexicons})
        key = cache.cache_key(COMPILER_VERSION, GRAMMAR_PATH.read_text(encoding="utf-8"),
                              json.dumps(sorted(sources.items())), repr(sorted(self._params.items())),
                              repr(sorted(builtin_lexicon_paths())), repr(extra_names))
        if use_cache:
            cached = cache.load(key)
            if cached is not None:
                return cached
        from compliance.functions import CHECK_CONTEXT
        from compliance.grammar.parser import parse_text  # lark: only when the cache misses

        files = [parse_text(text, path) for path, text in sources.items()]
        token = CHECK_CONTEXT.set({"lexicons": frozenset(extra_names)})
        try:
            packs = check_files(files, sources, self._params)
        finally:
            CHECK_CONTEXT.reset(token)
        compiled: dict[str, CompiledSource] = {name: generate(pack) for name, pack in packs.items()}
        code = {name: compile_source(src, f"<compliance pack {name}>") for name, src in compiled.items()}
        build = {"packs": packs, "compiled": compiled, "code": code}
        if use_cache:
            cache.store(key, build)
        return build

    def _map_channels(self) -> dict[str, str]:
        channels: dict[str, str] = {}
        for name, pack in self.packs.items():
            current = channels.get(pack.channel)
            if current is None or (pack.pos.file in self._user_files and self.packs[current].pos.file not in self._user_files):
                channels[pack.channel] = name
        return channels

    @property
    def channels(self) -> list[str]:
        """Channels a pack applies to."""
        return sorted(self._channels)

    def program(self, channel: str) -> Program:
        """The compiled pack for a channel (raises `UnknownChannelError` with a suggestion)."""
        name = self._channels.get(channel)
        if name is None:
            guess = did_you_mean(channel, self._channels)
            hint = f"; did you mean {guess}?" if guess else f"; channels: {', '.join(self.channels)}"
            raise UnknownChannelError(f"no pack for channel {channel!r}{hint}")
        return self.programs[name]

    def source(self, channel_or_pack: str) -> str:
        """The generated Python source of a pack (for `compliance compile --show`)."""
        if channel_or_pack in self.programs:
            return self.programs[channel_or_pack].source
        return self.program(channel_or_pack).source

    # facts -----------------------------------------------------------------------------

    def validate_facts(self, facts: Mapping[str, Any], program: Program, kind: str, *, coerce: bool = False,
                       rule: CheckedRule | None = None) -> dict[str, Any]:
        """Facts checked against the declared types of what the rules of one kind read.

        Strict unless ``coerce`` (or the field's declaration says ``coerce = true``): ``"12"``
        is no int and ``"yes"`` no bool; what each type accepts is in `compliance.facts`. Only
        the fields those rules read (``rule``: that one rule) are checked and returned;
        declared defaults fill the gaps; naive datetimes are taken as Asia/Shanghai. Raises
        `FactError` listing every problem (``FactError.problems``).
        """
        scope: Any = kind if rule is None else ("rule", rule.id)
        return self._validator(program, scope, coerce)(facts)

    def _validator(self, program: Program, scope: Any, coerce: bool) -> Validator:
        """The generated validator of one schema, built on first use and kept.

        ``scope`` says which rules' reads make the schema: a rule kind (``"eligibility"``),
        ``("rule", id)``, ``("audience", group)`` (the audience rules over that row group) or
        ``("audience context",)`` (what audience rules read besides their row group).
        """
        key = (program.pack.name, scope, coerce)
        validator = self._validators.get(key)
        if validator is not None:
            return validator
        pack = program.pack
        if isinstance(scope, str):
            reads = {path for rule in pack.rules_of(scope) for path in rule.reads}
        elif scope[0] == "rule":
            reads = set(pack.rule(scope[1]).reads)
        elif scope[0] == "audience":
            reads = {path for rule in program.audience_rules if rule.over == scope[1] for path in rule.reads}
        else:
            reads = {path for rule in program.audience_rules for path in rule.reads if path[0] != rule.over}
        validator, _ = build_validator(pack.name, pack.facts, reads, coerce=coerce)
        with self._lock:
            return self._validators.setdefault(key, validator)

    # eligibility -----------------------------------------------------------------------

    def eligibility(self, facts: Mapping[str, Any], channel: str, *, explain_unmet: bool = True,
                    validate: bool = True, coerce: bool = False) -> EligibilityDecision:
        """May this shop/account use the channel? Unmet rules come back as findings.

        Args:
            facts: fact groups by name, e.g. ``{"shop": {"fans": 42000}, "today": date(...)}``.
            channel: e.g. ``"jd.message_box"``.
            explain_unmet: attach the deciding values to each unmet finding.
            validate: check facts against the pack's schema first (turn off only for facts
                that were already validated).
            coerce: read mistyped facts leniently (``"12"`` as 12, ``"yes"`` as True) instead
                of raising `FactError` for them; see `validate_facts`.
        """
        entry = self._eligibility_entries.get((channel, coerce))
        if entry is None:
            program = self.program(channel)
            entry = self._eligibility_entries[(channel, coerce)] = \
                (program, self._validator(program, "eligibility", coerce))
        program, validator = entry
        checked = validator(facts) if validate else facts
        try:
            unmet_indexes, grants = program.eligibility(checked)
        except (KeyError, TypeError) as exc:
            raise FactError(f"facts do not fit pack {program.pack.name}: missing or wrong value {exc}") from None
        except Exception as exc:  # noqa: BLE001 - a rule failing at run time is reported as such
            raise EvaluationError(f"evaluating eligibility of {channel} failed: {exc!r}") from exc
        # `grants` is a new dict on every call of the generated code: the decision may keep it.
        if not unmet_indexes:
            return _new_decision(True, [], grants, channel)
        unmet = [self._unmet(program, program.eligibility_rules[i], checked, explain_unmet) for i in unmet_indexes]
        eligible = not any(f.severity == "error" for f in unmet)
        return _new_decision(eligible, unmet, grants, channel)

    def _unmet(self, program: Program, rule: CheckedRule, facts: Mapping[str, Any], with_explanation: bool) -> Finding:
        explanation: tuple[str, ...] = ()
        if with_explanation:
            explanation = tuple(explain_rule(rule, facts))
        return Finding(rule=rule.id, ref=rule.ref, category=rule.category, severity=rule.severity,
                       message=program.message(rule, facts), explanation=explanation)

    # copy --------------------------------------------------------------------------------

    def lint(self, message: str | Mapping[str, Any], channel: str, *, at: dt.datetime | None = None,
             via_template: bool | None = None, max_chars: int | None = None) -> "LintReport":
        """Check a message's copy against the channel's copy rules.

        Args:
            message: the whole rendered message as one string (a leading or trailing 【…】 is
                the signature, a trailing opt-out phrase the opt-out, the rest the body), or a
                mapping of fields (signature, body, optout, title, url; image, deadline, …).
            channel: e.g. ``"jd.sms"``.
            at: when the message is to be sent (rules about deadlines read it).
            via_template: True when the text is a template body that the platform completes
                with signature and opt-out (JD-SMS-10 applies, JD-SMS-26 does not).
            max_chars: the largest message scanned, in characters over all text fields
                (default: the engine's ``max_message_chars``, else
                `compliance.lint.MAX_MESSAGE_CHARS`, 1,000,000). A longer message is not
                scanned: the report denies it with one ``message-too-large`` finding.

        Returns a `LintReport`: ``report.ok``, ``report.findings`` (spans point into each
        field's original text). Raises `FactError` for a malformed message, including text
        with a lone surrogate (not valid Unicode).
        """
        lint = _lint_module()
        program = self.program(channel)
        if max_chars is None:
            max_chars = getattr(self, "max_message_chars", lint.MAX_MESSAGE_CHARS)
        screened = lint.screen_message(channel, message, max_chars)
        if screened is not None:
            return screened
        return self.lint_program(program, message, at=at, via_template=via_template)

    def lint_program(self, program: Program, message: str | Mapping[str, Any], *, at: dt.datetime | None = None,
                     via_template: bool | None = None) -> "LintReport":
        """`lint` against one compiled pack (used by the example runner for packs of any channel)."""
        lint = _lint_module()
        facts, fields, offsets = lint.prepare_message(program, message, optout_phrases=self._optout_phrases(),
                                                      at=at, via_template=via_template)
        if not isinstance(message, str):
            facts = merge_facts(facts, self.validate_facts(facts, program, "copy"))
        return lint.report_of(program, facts, fields, offsets)

    def lint_many(self, messages: Any, channel: str, *, at: dt.datetime | None = None,
                  via_template: bool | None = None, max_chars: int | None = None,
                  text_column: str = "text", fields: Mapping[str, str] | None = None,
                  nulls: str = "raise", errors: str = "raise") -> list[Any]:
        """`lint` over a batch of messages: a list with one `LintReport` per message, in order.

        Each report is exactly what ``lint(message, channel, at=…, via_template=…,
        max_chars=…)`` returns for that message (tests hash every corpus report both ways);
        the batch shares what `lint` looks up per message and the matcher's pass over it (see
        docs/BENCHMARKS.md, "Batch lint"). A list, not an iterator: the batch is linted at
        once (that is what it shares), so lint long streams in chunks (the auditor does).

        Args:
            messages: one of
                * an iterable of messages as `lint` takes them: strings (whole rendered
                  messages) and/or mappings of fields (``{"signature": …, "body": …}``);
                * a ``pyarrow.Array`` or ``ChunkedArray`` of strings (whole rendered messages);
                * a ``pyarrow.RecordBatch`` or ``Table``: the column ``text_column`` holds
                  whole rendered messages, or ``fields`` maps message fields to columns
                  (``{"signature": "sig", "body": "text"}``) as in `compliance.spark.audit`;
                  a null cell is left out of its message, a row whose cells are all null is a
                  null message.
            channel: e.g. ``"jd.sms"``.
            at, via_template, max_chars: as for `lint`, for every message of the batch.
            text_column, fields: the column(s) of a record batch or table (ignored otherwise).
            nulls: what a null message (None, an Arrow null, a row of null cells) gives:
                ``"raise"`` (default) a `FactError` naming its index (raised, or returned in
                its place with ``errors="return"``); ``"none"``: None in its place. Never
                dropped: the result has one entry per message.
            errors: ``"raise"`` (default): a message `lint` would refuse (`FactError`, …)
                raises that error, with a note naming its index; ``"return"``: that
                `ComplianceError` is returned in the message's place and the batch goes on.

        >>> reports = engine.lint_many(["【小米旗舰店】全网最低价，回T退订", "【小米旗舰店】新品上市"],
        ...                            channel="jd.sms")
        >>> [r.ok for r in reports]
        [False, False]
        """
        lint = _lint_module()
        if nulls not in ("raise", "none"):
            raise ValueError(f"nulls must be 'raise' or 'none', got {nulls!r}")
        if errors not in lint.BATCH_ERRORS:
            raise ValueError(f"errors must be 'raise' or 'return', got {errors!r}")
        program = self.program(channel)
        if max_chars is None:
            max_chars = getattr(self, "max_message_chars", lint.MAX_MESSAGE_CHARS)
        items = batch_messages(messages, text_column=text_column, fields=fields)

        def check(facts: dict[str, Any]) -> dict[str, Any]:
            return merge_facts(facts, self.validate_facts(facts, program, "copy"))

        return lint.lint_batch(program, items, optout_phrases=self._optout_phrases(), max_chars=max_chars,
                               at=at, via_template=via_template, check=check, errors=errors,
                               nulls_allowed=nulls == "none")

    def _optout_phrases(self) -> Any:
        """The opt-out phrases of the built-in lexicon, loaded on the first lint."""
        phrases = self._optout_cache
        if phrases is None:
            from compliance.analyzer.primitives import optout_phrases

            phrases = self._optout_cache = optout_phrases()
        return phrases

    # frequency and schedule --------------------------------------------------------------

    def caps(self, channel: str | None = None) -> list[Any]:
        """Ledger caps of the frequency rules of one channel's pack, or of every channel."""
        from compliance.caps import caps_of

        if channel is not None:
            return caps_of([self.program(channel).pack])
        return caps_of(self.packs[name] for name in self._channels.values())

    def ledger(self, url: str = "memory://", *, fail_open: bool = False) -> Any:
        """A frequency ledger enforcing every channel's frequency rules.

        ``url``: ``memory://``, ``sqlite:///path/ledger.db`` (durable default for one host) or
        ``redis://host:port/db`` (several service instances; ``?socket_timeout=SECONDS``).

        Fail-closed unless ``fail_open``: a store failure raises `LedgerError` (a
        `ComplianceError`) naming the store and what failed, so no send goes out undecided.
        With ``fail_open=True`` the decision is ``allowed=True, degraded=True`` with a
        warning finding, and the send is not counted. See `compliance.frequency.Ledger`.
        """
        from compliance.frequency import Ledger

        return Ledger.open(url, self.caps(), fail_open=fail_open)

    def schedule(self, send: Any, facts: Mapping[str, Any] | None = None, *, coerce: bool = False) -> ScheduleDecision:
        """The earliest time a send may go out under its channel's schedule rules.

        Args:
            send: a mapping (or `compliance.frequency.Send`) with at least ``channel`` and
                ``at``; every key is readable by rules as ``send.KEY``.
            facts: other fact groups the rules read (``order``, ``coupon``, ``user``, …).
            coerce: read mistyped facts leniently instead of raising `FactError` (as in
                `eligibility`).
        """
        import dataclasses

        data = dataclasses.asdict(send) if dataclasses.is_dataclass(send) else dict(send)
        channel = data.get("channel")
        if not isinstance(channel, str):
            raise FactError("a send needs its channel, e.g. {'channel': 'jd.sms', 'at': …}")
        program = self.program(channel)
        given = {**(facts or {}), "send": data}
        checked = self.validate_facts(given, program, "schedule", coerce=coerce) if program.schedule_rules else given
        checked = merge_facts(given, checked)
        at = checked["send"].get("at")
        if isinstance(at, str):
            try:
                at = aware(dt.datetime.fromisoformat(at))
            except ValueError as exc:
                raise FactError(f"send.at {at!r} is not an ISO 8601 date-time ({exc})") from None
        if at is None:
            raise FactError("a send needs `at`, the time it is to go out")
        from compliance.frequency.send import SEND_YEARS

        if isinstance(at, dt.datetime) and not SEND_YEARS[0] <= at.year <= SEND_YEARS[1]:
            # Rules add days and hours to it: near datetime's edges that overflows mid-rule.
            raise FactError(f"send.at {at.isoformat()} is outside the supported years "
                            f"{SEND_YEARS[0]}–{SEND_YEARS[1]}")
        reasons: list[Finding] = []
        earliest: dt.datetime | None = at
        for rule in program.schedule_rules:
            assert program.schedules is not None
            try:
                result = program.schedules[rule.id](checked)
            except Exception as exc:  # noqa: BLE001 - reported with the rule that failed
                raise EvaluationError(f"schedule rule {rule.id} failed: {exc!r}") from exc
            if result is None:
                continue
            allowed, rule_earliest = result
            if not allowed:
                earliest = None
                reasons.append(self._schedule_finding(program, rule, checked, None))
            elif rule_earliest is not None and rule_earliest > at:
                if earliest is not None:
                    earliest = max(earliest, rule_earliest)
                reasons.append(self._schedule_finding(program, rule, checked, rule_earliest))
        allowed_now = earliest is not None and earliest <= at
        return ScheduleDecision(allowed_now, earliest, reasons, channel)

    def _schedule_finding(self, program: Program, rule: CheckedRule, facts: Mapping[str, Any],
                          earliest: dt.datetime | None) -> Finding:
        message = program.message(rule, {**facts, "earliest": earliest})
        explanation = tuple(explain_rule(rule, facts)) if earliest is None else \
            (f"earliest = {earliest.isoformat(timespec='minutes')}",)
        return Finding(rule=rule.id, ref=rule.ref, category=rule.category, severity=rule.severity,
                       message=message, explanation=explanation)

    # audience --------------------------------------------------------------------------

    def audience(self, rows: Any, channel: str, *, facts: Mapping[str, Any] | None = None,
                 coerce: bool = False) -> Any:
        """Evaluate the channel's audience rules.

        ``rows`` is one row (a mapping of the row group's fields, e.g. a user) → `AudienceResult`;
        or a table (pyarrow Table, Polars/pandas DataFrame, DuckDB relation) → a pyarrow Table
        with one boolean column per rule (named by rule id; True = selected / requirement met),
        evaluated column-wise. ``facts`` gives the other facts the rules read (``today``).

        Rows and facts are checked strictly against their declared types, a table's columns by
        their Arrow types (`compliance.facts`); ``coerce`` reads mistyped values leniently
        (a table's columns are cast) instead of raising `FactError`.
        """
        program = self.program(channel)
        rules = program.audience_rules
        if not rules:
            raise UnknownChannelError(f"channel {channel!r} has no audience rules")
        context = dict(facts or {})
        if isinstance(rows, Mapping):
            return self._audience_row(program, rows, context, coerce)
        return self._audience_table(program, rows, context, coerce)

    def _audience_row(self, program: Program, row: Mapping[str, Any], context: dict[str, Any],
                      coerce: bool) -> AudienceResult:
        selected: dict[str, bool] = {}
        findings: list[Finding] = []
        checked: dict[str, dict[str, Any]] = {}  # by row group: the facts the rules over it read
        for rule in program.audience_rules:
            assert rule.over is not None
            facts = checked.get(rule.over)
            if facts is None:
                facts = checked[rule.over] = self._validator(program, ("audience", rule.over), coerce)(
                    {**context, rule.over: row})
            ok = bool(program.checks[rule.id](facts))
            selected[rule.id] = ok
            if not ok and rule.require is not None:
                findings.append(Finding(rule=rule.id, ref=rule.ref, category=rule.category, severity=rule.severity,
                                        message=program.message(rule, facts),
                                        explanation=tuple(explain_rule(rule, facts))))
        return AudienceResult(selected, findings)

    def _audience_table(self, program: Program, rows: Any, context: dict[str, Any], coerce: bool) -> Any:
        import pyarrow as pa

        from compliance.vectorize import evaluate_table, to_arrow_table

        table = to_arrow_table(rows)
        columns = {}
        read_columns: dict[str, dict[str, Any]] = {}  # by row group: the fields read, as declared
        for rule in program.audience_rules:
            assert rule.over is not None
            for path in rule.reads:
                if path[0] == rule.over and path[1] not in table.column_names:
                    raise FactError(f"rule {rule.id} reads {'.'.join(path)}, but the table has no column "
                                    f"{path[1]!r} (columns: {', '.join(table.column_names)})")
                if path[0] != rule.over and not _has_path(context, path):
                    raise FactError(f"rule {rule.id} reads {'.'.join(path)}; pass it in facts=")
                if path[0] == rule.over:
                    schema = program.pack.facts[rule.over]
                    assert schema.fields is not None
                    read_columns.setdefault(rule.over, {})[path[1]] = schema.fields[path[1]]
        scalars = self._validator(program, ("audience context",), coerce)(context)
        for group, fields in sorted(read_columns.items()):
            table = check_columns(table, group, fields, program.pack.name, coerce=coerce)
        for rule in program.audience_rules:
            assert rule.over is not None
            condition = rule.require if rule.require is not None else rule.select
            assert condition is not None
            expr = condition
            if rule.when is not None:
                from compliance import ast

                expr = ast.Binary("or", ast.Unary("not", rule.when, rule.when.pos), condition, condition.pos)
            columns[rule.id] = evaluate_table(expr, table, rule.over, scalars)
        return pa.table(columns)

    # listing ---------------------------------------------------------------------------

    def rules(self, channel: str | None = None) -> list[RuleInfo]:
        """The rules in force, for one channel or for all.

        A rule shared by several channels (through `include`) is listed once with all of them,
        unless a channel changed it (`override`: other refs or severity) — then each version
        is listed with its channels.
        """
        if channel is not None:
            names = [self.program(channel).pack.name]
        else:
            names = list(self.packs)
        listed: dict[tuple[Any, ...], RuleInfo] = {}
        for name in names:
            pack = self.packs[name]
            for rule in pack.rules:
                key = (rule.pack, rule.id, rule.refs, rule.severity, rule.on)
                info = listed.get(key)
                if info is not None:
                    listed[key] = replace(info, channels=info.channels + (pack.channel,))
                    continue
                listed[key] = RuleInfo(rule.id, rule.kind, rule.pack, pack.channel, rule.refs, rule.severity,
                                       rule.category, rule.title, rule.message.source if rule.message else "",
                                       rule.explain, rule.pos.file, rule.pos.line, (pack.channel,))
        return list(listed.values())

    def rule(self, rule_id: str) -> tuple[CheckedPack, CheckedRule]:
        """The pack defining a rule and the rule (raises KeyError with a suggestion)."""
        for pack in self.packs.values():
            for rule in pack.rules:
                if rule.id == rule_id and rule.pack == pack.name:
                    return pack, rule
        all_ids = {r.id for p in self.packs.values() for r in p.rules}
        guess = did_you_mean(rule_id, all_ids)
        raise KeyError(f"unknown rule {rule_id}" + (f"; did you mean {guess}?" if guess else ""))


def batch_messages(messages: Any, *, text_column: str = "text",
                   fields: Mapping[str, str] | None = None) -> list[Any]:
    """The messages of `Engine.lint_many`'s input as a list: strings, mappings or None.

    A pyarrow array gives its strings; a record batch or table the column ``text_column``, or
    per row a mapping of ``fields`` (message field → column) without its null cells, None
    when they are all null. Raises `FactError` for an Arrow column that is not text and for
    a column that is not there.
    """
    module = type(messages).__module__ or ""
    if not module.startswith("pyarrow"):
        if isinstance(messages, (str, Mapping)):
            raise FactError("lint_many takes a batch of messages (a list of strings or mappings, or an "
                            "Arrow array or table); for one message use lint")
        return list(messages)
    import pyarrow as pa

    if isinstance(messages, (pa.Array, pa.ChunkedArray)):
        return _arrow_strings(messages, "the array")
    if isinstance(messages, (pa.RecordBatch, pa.Table)):
        names = messages.schema.names
        columns = dict(fields) if fields is not None else {"": text_column}
        if not columns:
            raise ValueError("fields= must map at least one message field to a column")
        missing = [c for c in columns.values() if c not in names]
        if missing:
            raise FactError(f"no column(s) {', '.join(map(repr, missing))} in the batch (columns: {', '.join(names)})")
        if "" in columns:
            return _arrow_strings(messages.column(columns[""]), f"column {columns['']!r}")
        values = {name: _arrow_strings(messages.column(col), f"column {col!r}") for name, col in columns.items()}
        out: list[Any] = []
        for row in range(messages.num_rows):
            message = {name: values[name][row] for name in columns if values[name][row] is not None}
            out.append(message or None)
        return out
    raise FactError(f"lint_many cannot read a {type(messages).__name__}: give an Arrow array, record batch or table")


def _arrow_strings(array: Any, what: str) -> list[str | None]:
    """An Arrow string column as Python strings (None for nulls)."""
    import pyarrow as pa

    kind = array.type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)
            or (hasattr(pa.types, "is_string_view") and pa.types.is_string_view(kind))):
        raise FactError(f"{what} holds {kind}, not text (messages are strings)")
    values: list[str | None] = array.to_pylist()
    return values


def explain_rule(rule: CheckedRule, facts: Mapping[str, Any]) -> list[str]:
    """The values that decided a rule's outcome on these facts."""
    env = Env(facts)
    try:
        if rule.tiers:
            out = []
            for tier in rule.tiers:
                out.extend(f"tier {tier.name}: {line}" for line in explain(tier.condition, env))
            return out
        condition = rule.require if rule.require is not None else rule.select
        if condition is None:
            return []
        return explain(condition, env)
    except Exception:  # noqa: BLE001 - an explanation must never hide the verdict
        return []


def merge_facts(given: Mapping[str, Any], checked: Mapping[str, Any]) -> dict[str, Any]:
    """Validated values over the given ones, group by group (validation keeps only what rules
    of one kind read; the other fields of a group stay as given)."""
    out = dict(given)
    for name, value in checked.items():
        before = given.get(name)
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            out[name] = {**before, **value}
        else:
            out[name] = value
    return out


def _has_path(facts: Mapping[str, Any], path: Sequence[str]) -> bool:
    current: Any = facts
    for part in path:
        if not isinstance(current, Mapping) or part not in current:
            return False
        current = current[part]
    return True


def _expand(paths: Iterable[str | Path]) -> list[Path]:
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out.extend(sorted(path.glob("*.rules")))
        elif path.exists():
            out.append(path)
        else:
            raise FileNotFoundError(f"no rules file or directory at {path}")
    return out
