"""Linting copy files: read → `Engine.lint` per message → place, suppress, select, fix.

`CopyLinter` is what ``compliance lint`` (and anything else that checks copy files) runs:

1. each message goes to ``engine.lint`` — as one string when it has the single field
   ``text`` (the engine splits signature/body/opt-out and reports where each starts), else
   as its mapping of fields;
2. severities are overridden from the configuration (``severity-overrides``);
3. suppressions (``compliance: disable=…``, ``allow``) drop findings; suppressions that
   dropped nothing become findings of the rule ``unused-suppression``. Suppressions see
   every finding before ``select``/``ignore`` apply, so disabling a rule in the
   configuration never turns a suppression of it into an "unused" one;
4. ``select`` / ``ignore`` / ``per-file-ignores`` keep the enabled rules (a selector may
   name a rule id, a prefix, or any catalogue ref the rule cites);
5. every finding is placed at its file line/column (`compliance.output.locate`), and a safe
   fix is turned into a `FixRequest` in the coordinates of the file's own fields. A finding
   without a span (a ``require`` rule judging the whole message) is placed on the field its
   rule is about, when the message writes that field (see `subject_field`): a missing opt-out
   on the ``optout:`` line. Otherwise, and for plain lines and strings, it covers the whole
   message.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compliance.grammar import ast
from compliance.errors import ComplianceError, FactError, UnknownChannelError, did_you_mean
from compliance.findings import Finding
from compliance.io.copyfiles import SUPPORTED_EXTENSIONS, CopyFile, CopyMessage, parse_copy_text, read_copy_file
from compliance.io.fixes import Edit, FixRequest, fix_copy_file
from compliance.io.suppression import UnusedSuppression, apply_suppressions, code_matches
from compliance.analyzer.lint import UNSUPPRESSIBLE
from compliance.output.located import LocatedFinding, MessageRef, RuleInfo, locate

if TYPE_CHECKING:
    from compliance.config import Config

#: The rule reporting suppressions that suppressed nothing (like Ruff's RUF100).
UNUSED_SUPPRESSION = "unused-suppression"
#: Its category: not one of the message categories, since it is about the copy file itself.
UNUSED_SUPPRESSION_CATEGORY = "suppression"
#: Files that match a copy-file extension but are never copy: tool configuration.
DEFAULT_EXCLUDED_NAMES: frozenset[str] = frozenset(
    {"pyproject.toml", "compliance.toml", ".pre-commit-config.yaml", ".pre-commit-hooks.yaml"}
)
#: Directories a directory walk does not enter (besides every hidden one).
SKIPPED_DIRECTORIES: frozenset[str] = frozenset({"node_modules", "__pycache__"})
#: Passes of lint → fix → lint at most (a fix may uncover another finding).
MAX_FIX_PASSES = 10


class LintInputError(ComplianceError):
    """A message that cannot be linted: no channel, unknown channel, fields the pack rejects.

    Printed as ``path:line:column: reason`` (exit code 2 in the CLI).
    """

    def __init__(self, path: str, line: int, column: int, reason: str) -> None:
        self.path, self.line, self.column, self.reason = path, line, column, reason
        super().__init__(f"{path}:{line}:{column}: {reason}")


@dataclass(slots=True)
class FileReport:
    """The result of linting one copy file.

    Attributes:
        copy_file: the file as read (after fixes, when `CopyLinter.fix` produced it).
        display: the path as shown in reports.
        findings: enabled, unsuppressed findings, placed in the file (plus unused suppressions).
        fix_requests: safe fixes proposed by those findings, in file-field coordinates
            (``key`` is the `LocatedFinding`).
        messages: every message checked (for JUnit).
    """

    copy_file: CopyFile
    display: str
    findings: list[LocatedFinding]
    fix_requests: list[FixRequest]
    messages: list[MessageRef] = field(default_factory=list)


@dataclass(slots=True)
class FixedFile:
    """`CopyLinter.fix`: the final report, the original and fixed text, and the edits made."""

    report: FileReport
    original: str
    text: str
    applied: list[Edit]

    @property
    def changed(self) -> bool:
        """True when the fixes changed the text."""
        return self.text != self.original


def _message_fields(expr: ast.Expr) -> list[str]:
    """The ``message.X`` fields an expression reads, in source order, each once."""
    match expr:
        case ast.Attribute(value=ast.Name(name="message"), name=name):
            return [name]
        case ast.Attribute(value=value):
            return _message_fields(value)
        case ast.Call(args=items) | ast.SetLiteral(items=items) | ast.ListLiteral(items=items):
            return list(dict.fromkeys(f for item in items for f in _message_fields(item)))
        case ast.Unary(operand=operand):
            return _message_fields(operand)
        case ast.Binary(left=left, right=right):
            return list(dict.fromkeys(_message_fields(left) + _message_fields(right)))
    return []


def subject_field(require: ast.Expr | None) -> str | None:
    """The message field a whole-message ``require`` is about: the one field its first
    condition reads (the leftmost operand of a chain of ``and``/``or``), else None.

    ``message.optout != "" or len(lexicon("optout", message.body)) > 0`` → ``optout``;
    ``len(message.signature) >= 2 and …`` → ``signature``; ``rendered_length(message.signature,
    message.body, message.optout) <= 70`` reads three fields → None (the whole message).
    """
    first = require
    while isinstance(first, ast.Binary) and first.op in ("and", "or"):
        first = first.left
    if first is None:
        return None
    fields = _message_fields(first)
    return fields[0] if len(fields) == 1 else None


def display_path(path: Path) -> str:
    """A path as reports show it: relative to the working directory when under it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if rel.startswith("..") else rel


def collect_files(paths: Sequence[Path], config: Config) -> Iterator[Path]:
    """Copy files under `paths`: files as given, directories walked (sorted) for the supported
    extensions, skipping hidden directories, ``node_modules`` and ``__pycache__``; every path
    matching the configuration's ``exclude`` or named like a tool's config file is left out.

    Raises:
        FileNotFoundError: a path that does not exist.
    """
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"no such file or directory: {path}")
        if not path.is_dir():
            if path.name not in DEFAULT_EXCLUDED_NAMES and not config.is_excluded(path.absolute()):
                yield path
            continue
        if config.is_excluded(path.absolute()):
            continue
        for root, dirs, files in os.walk(path):
            base = Path(root)
            dirs[:] = sorted(
                d for d in dirs
                if not d.startswith(".") and d not in SKIPPED_DIRECTORIES
                and not config.is_excluded((base / d).absolute())
            )
            for name in sorted(files):
                candidate = base / name
                if (
                    candidate.suffix.lower() in SUPPORTED_EXTENSIONS
                    and name not in DEFAULT_EXCLUDED_NAMES
                    and not config.is_excluded(candidate.absolute())
                ):
                    yield candidate


class CopyLinter:
    """Lints copy files with one engine and one configuration.

    Args:
        engine: the `compliance.Engine`.
        config: settings (default channel, selection, severities).
        channel: when given, every message is linted for this channel, whatever the file says.
    """

    def __init__(self, engine: Any, config: Config, *, channel: str | None = None) -> None:
        self.engine = engine
        self.config = config
        self.channel = channel
        self._refs: dict[str, dict[str, tuple[str, ...]]] = {}
        self._rule_infos: dict[str, RuleInfo] = {}
        self._known: set[str] | None = None
        self._subjects: dict[str, dict[str, str]] = {}

    # reading -----------------------------------------------------------------------------

    def read(self, path: Path) -> CopyFile:
        """Read a copy file (raises `CopyFileError`)."""
        return read_copy_file(path, default_channel=self.config.default_channel)

    def read_text(self, data: bytes | str, name: Path, extension: str) -> CopyFile:
        """Parse copy text held in memory (stdin); `name` is used in errors."""
        return parse_copy_text(name, data, default_channel=self.config.default_channel, extension=extension)

    # rules ---------------------------------------------------------------------------------

    def refs(self, channel: str) -> dict[str, tuple[str, ...]]:
        """Rule id → every catalogue ref it cites, for one channel's pack."""
        refs = self._refs.get(channel)
        if refs is None:
            refs = {}
            for info in self.engine.rules(channel):
                refs[info.id] = tuple(info.refs)
                self._rule_infos.setdefault(
                    info.id, RuleInfo(info.id, info.title, ref=info.refs[0] if info.refs else None,
                                      category=info.category)
                )
            self._refs[channel] = refs
        return refs

    def subjects(self, channel: str) -> dict[str, str]:
        """Rule id → the message field a whole-message copy rule is about (`subject_field`),
        for the rules of one channel's pack that have one."""
        subjects = self._subjects.get(channel)
        if subjects is None:
            subjects = {}
            for rule in self.engine.program(channel).pack.rules:
                if rule.kind == "copy" and not rule.on:
                    name = subject_field(rule.require)
                    if name is not None:
                        subjects[rule.id] = name
            self._subjects[channel] = subjects
        return subjects

    @property
    def rule_infos(self) -> dict[str, RuleInfo]:
        """Descriptions of the rules of every channel linted so far (for SARIF)."""
        infos = dict(self._rule_infos)
        infos[UNUSED_SUPPRESSION] = RuleInfo(UNUSED_SUPPRESSION, "未使用的抑制注释（compliance: disable / allow）",
                                             category=UNUSED_SUPPRESSION_CATEGORY)
        return infos

    def known_codes(self) -> set[str]:
        """Every rule id and catalogue ref of every pack, plus ``unused-suppression``."""
        if self._known is None:
            known = {UNUSED_SUPPRESSION}
            for info in self.engine.rules():
                known.add(info.id)
                known.update(info.refs)
            self._known = known
        return self._known

    def unknown_code(self, code: str) -> str | None:
        """None when `code` selects some rule (id, ref or prefix); else a reason with a hint."""
        known = self.known_codes()
        if any(code_matches(code, k) or code_matches(code, "", k) for k in known):
            return None
        guess = did_you_mean(code, known)
        return f"{code!r} matches no rule id or catalogue ref" + (f"; did you mean {guess}?" if guess else "")

    # linting -------------------------------------------------------------------------------

    def lint(self, copy_file: CopyFile, display: str | None = None, *, config_path: Path | None = None) -> FileReport:
        """Lint every message of a copy file.

        Args:
            copy_file: the file read by `read` / `read_text`.
            display: path shown in reports (default: relative to the working directory).
            config_path: path matched against ``per-file-ignores`` (default: the file's path).

        Raises:
            LintInputError: a message without a channel, for an unknown channel, or with
                fields the channel's pack does not know.
        """
        shown = display if display is not None else display_path(copy_file.path)
        where = (config_path or copy_file.path).absolute()
        channel_of: dict[int, str] = {}
        placed: dict[int, tuple[dict[str, tuple[str, int]] | None, Mapping[str, int]]] = {}
        by_message: dict[int, list[Finding]] = {}
        for message in copy_file.messages:
            channel = self.channel or message.channel
            anchor = message.anchor
            if channel is None:
                raise LintInputError(
                    shown, anchor.line, anchor.column,
                    "this message names no channel; pass --channel, set default-channel in "
                    "compliance.toml, or write `channel:` in the file",
                )
            one_string = set(message.fields) == {"text"}
            given: str | dict[str, str] = message.fields["text"] if one_string else dict(message.fields)
            try:
                report = self.engine.lint(given, channel=channel)
            except (FactError, UnknownChannelError) as exc:
                raise LintInputError(shown, anchor.line, anchor.column, str(exc)) from None
            channel_of[message.index] = channel
            if one_string:
                placed[message.index] = ({name: ("text", base) for name, base in report.offsets.items()}, {})
            else:
                placed[message.index] = (None, dict(report.offsets))
            by_message[message.index] = [self._with_severity(f) for f in report.findings]

        owner = {id(f): channel_of[index] for index, fs in by_message.items() for f in fs}

        def refs_of(finding: Finding) -> tuple[str, ...]:
            refs = self.refs(owner[id(finding)]).get(finding.rule, ())
            return tuple(dict.fromkeys((finding.ref, *refs))) if finding.ref else refs

        kept, unused = apply_suppressions(by_message, copy_file, refs_of=refs_of)
        located: list[LocatedFinding] = []
        requests: list[FixRequest] = []
        for message in copy_file.messages:
            origins, shifts = placed[message.index]
            subjects = self.subjects(channel_of[message.index]) if message.keys else {}
            for finding in kept.get(message.index, []):
                if finding.rule not in UNSUPPRESSIBLE and not self.config.is_enabled(
                        finding.rule, where, refs=refs_of(finding)):
                    continue
                item, request = self._place(finding, message, shown, origins, shifts, subjects.get(finding.rule))
                located.append(item)
                if request is not None:
                    requests.append(request)
        located.extend(self._unused(u, copy_file, shown, where) for u in unused
                       if self.config.is_enabled(UNUSED_SUPPRESSION, where))
        messages = [MessageRef(shown, m.index, m.line, m.id) for m in copy_file.messages]
        return FileReport(copy_file, shown, located, requests, messages)

    def _with_severity(self, finding: Finding) -> Finding:
        if finding.rule in UNSUPPRESSIBLE:
            return finding
        severity = self.config.severity_for(finding.rule, finding.severity)
        return finding if severity == finding.severity else dataclasses.replace(finding, severity=severity)

    @staticmethod
    def _place(
        finding: Finding,
        message: CopyMessage,
        shown: str,
        origins: dict[str, tuple[str, int]] | None,
        shifts: Mapping[str, int],
        subject: str | None = None,
    ) -> tuple[LocatedFinding, FixRequest | None]:
        """The finding placed in the file, and its fix in the file's field coordinates.

        `subject`: the field a whole-message finding is about; when the message writes it,
        the finding covers that key and its value.
        """
        name, start, end = finding.field, finding.start, finding.end
        where = message.key_extent(subject) if subject is not None and name is None and start is None else None
        if where is not None and finding.fix is None:
            s, e = where
            return LocatedFinding(finding, shown, s.line, s.column, e.line, e.column, message.source.line_text(s.line),
                                  True, message.index, message.id), None
        if name is not None and start is not None:
            if origins is not None and name in origins and name not in message.fields:
                name, base = origins[name]
            else:
                base = shifts.get(name, 0)
            start, end = start + base, (end if end is not None else finding.start) + base  # type: ignore[operator]
        if (start, end) != (finding.start, finding.end) or name != finding.field:
            moved = dataclasses.replace(finding, field=name, start=start, end=end)
            item = dataclasses.replace(locate(moved, message, shown), finding=finding)
        else:
            item = locate(finding, message, shown, field_origins=origins)
        request = None
        if finding.fix is not None and name in message.fields and start is not None and end is not None and item.exact:
            request = FixRequest(message.index, name, start, end, finding.fix, key=item)
        return item, request

    def _unused(self, unused: UnusedSuppression, copy_file: CopyFile, shown: str, where: Path) -> LocatedFinding:
        line_text = copy_file.line_text(unused.line)
        found = line_text.find(unused.code, max(0, unused.column - 1))
        column = found + 1 if found >= 0 else unused.column
        end_column = column + len(unused.code) if found >= 0 else column
        reason = self.unknown_code(unused.code)
        text = f"未使用的抑制：“{unused.code}”没有抑制任何问题"
        if reason is not None:
            guess = did_you_mean(unused.code, self.known_codes())
            text = f"未使用的抑制：没有规则“{unused.code}”" + (f"（是否想写 {guess}？）" if guess else "")
        finding = Finding(
            rule=UNUSED_SUPPRESSION, ref=None, category=UNUSED_SUPPRESSION_CATEGORY,
            severity=self.config.severity_for(UNUSED_SUPPRESSION, "warning"), message=text,
        )
        message_id = None
        if unused.message_index is not None:
            message_id = copy_file.messages[unused.message_index].id
        return LocatedFinding(finding, shown, unused.line, column, unused.line, end_column, line_text, True,
                              unused.message_index, message_id)

    # fixing --------------------------------------------------------------------------------

    def fix(self, copy_file: CopyFile, display: str | None = None, *, config_path: Path | None = None) -> FixedFile:
        """Lint, apply safe fixes, lint the result again, until nothing more is fixed.

        Nothing is written; the caller writes `FixedFile.text` (see `encode_like`).
        """
        original = copy_file.source.text
        report = self.lint(copy_file, display, config_path=config_path)
        applied: list[Edit] = []
        for _ in range(MAX_FIX_PASSES):
            if not report.fix_requests:
                break
            outcome = fix_copy_file(report.copy_file, report.fix_requests)
            if not outcome.applied or outcome.text == report.copy_file.source.text:
                break
            applied.extend(outcome.applied)
            fixed = self.read_text(outcome.text, copy_file.path, copy_file.format)
            report = self.lint(fixed, display, config_path=config_path)
        return FixedFile(report, original, report.copy_file.source.text, applied)


def fail_threshold(findings: Iterable[LocatedFinding], *, strict: bool) -> bool:
    """True when some finding is an error, or (strict) a warning."""
    failing = {"error", "warning"} if strict else {"error"}
    return any(item.finding.severity in failing for item in findings)
