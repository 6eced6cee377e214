"""Suppressions: ``compliance: disable=…`` comments and per-message ``allow`` lists.

Syntax (inside a ``#`` comment in .txt/.yaml/.toml files, inside ``<!-- -->`` in .md)::

    # compliance: disable=jd-sms-ad-law,link          (see "Scope" below)
    # compliance: disable-next-line=jd-sms            the next message line only

Scope of ``disable=``:

* on a line of its own before the first message: the whole file;
* trailing on a line that belongs to a message (the message text, or any line of a YAML
  mapping / TOML ``[[message]]`` table): that message;
* on a line of its own inside a multi-line message (a YAML mapping, a TOML table): that
  message; anywhere else it is an error (use ``disable-next-line``).

``disable-next-line=`` applies to the message owning the next line that is neither blank nor
a comment. Structured formats (.yaml/.json/.toml/.csv) also take an ``allow`` field per message
(a list of codes, or one comma-separated string).

A code matches a finding when it equals the finding's rule id or catalogue ref, or is a prefix
of either ending at a ``-`` boundary: ``jd-sms`` suppresses ``jd-sms-ad-law`` but not
``jd-smsx``. Matching of refs is case-insensitive (``JD-MB-01`` == ``jd-mb-01``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from compliance import recache
from compliance.lint import UNSUPPRESSIBLE

if TYPE_CHECKING:
    from compliance.findings import Finding
    from compliance.io.copyfiles import CopyFile

SuppressionKind = Literal["disable", "disable-next-line", "allow"]

_DIRECTIVE_START = recache.compile(r"compliance\s*:", re.IGNORECASE)
_CODE = r"[A-Za-z0-9][A-Za-z0-9_.\-]*"
_DIRECTIVE = recache.compile(
    r"^\s*compliance\s*:\s*(?P<kind>[A-Za-z\-]+)\s*=\s*"
    rf"(?P<codes>{_CODE}(?:\s*,\s*{_CODE})*)\s*(?:,\s*)?$",
    re.IGNORECASE,
)
_KINDS: tuple[str, ...] = ("disable", "disable-next-line")


@dataclass(frozen=True, slots=True)
class Directive:
    """A parsed suppression comment (before it is given a scope)."""

    kind: Literal["disable", "disable-next-line"]
    codes: tuple[str, ...]


class DirectiveError(ValueError):
    """A comment mentions ``compliance:`` but is not a valid directive."""


def _shorten(text: str, limit: int = 80) -> str:
    """`text` cut to `limit` characters with an ellipsis (errors quote user text, not megabytes)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_directive(comment: str) -> Directive | None:
    """Parse the text of one comment (without ``#`` / ``<!-- -->``).

    Returns None when the comment is not meant for us (does not start with ``compliance:``).

    Raises:
        DirectiveError: the comment starts with ``compliance:`` but is malformed.
    """
    if not _DIRECTIVE_START.match(comment.strip()):
        return None
    match = _DIRECTIVE.match(comment)
    if match is None:
        raise DirectiveError(
            f"malformed directive {_shorten(comment.strip())!r}; expected "
            "'compliance: disable=RULE[,RULE…]' or 'compliance: disable-next-line=RULE[,RULE…]'"
        )
    kind = match.group("kind").lower()
    if kind not in _KINDS:
        from difflib import get_close_matches

        close = get_close_matches(kind, _KINDS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise DirectiveError(
            f"unknown directive {_shorten(kind)!r}{hint}; expected one of: {', '.join(_KINDS)}"
        )
    codes = tuple(c.strip() for c in match.group("codes").split(",") if c.strip())
    return Directive(kind, codes)  # type: ignore[arg-type]


def parse_allow_value(value: str | Iterable[str]) -> tuple[str, ...]:
    """Codes from an ``allow`` field: a list of codes or one comma-separated string."""
    items = value.split(",") if isinstance(value, str) else list(value)
    codes = tuple(item.strip() for item in items if item.strip())
    for code in codes:
        if not re.fullmatch(_CODE, code):
            raise ValueError(f"invalid rule code {_shorten(code)!r} in allow")
    return codes


@dataclass(frozen=True, slots=True)
class Suppression:
    """One suppression with its scope and where it was written.

    Attributes:
        codes: rule ids, refs or prefixes it suppresses.
        kind: ``"disable"``, ``"disable-next-line"`` or ``"allow"`` (an allow field).
        scope: ``"file"`` (every message) or ``"message"``.
        message_index: index of the message it applies to (None for file scope, or when a
            ``disable-next-line`` is followed by no message — it is then always unused).
        line, column: 1-based position of the comment or the allow field in the file.
    """

    codes: tuple[str, ...]
    kind: SuppressionKind
    scope: Literal["file", "message"]
    message_index: int | None
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class UnusedSuppression:
    """A code in a suppression that suppressed nothing (report it like Ruff's RUF100)."""

    path: str
    line: int
    column: int
    code: str
    kind: SuppressionKind
    scope: Literal["file", "message"]
    message_index: int | None


def code_matches(code: str, rule: str, ref: str | None = None) -> bool:
    """Whether a suppression/selection `code` covers a finding's `rule` id or `ref`.

    Exact match, or prefix ending at a ``-`` boundary (``jd-sms`` covers ``jd-sms-link``).
    """
    if code == rule or rule.startswith(code + "-"):
        return True
    if ref:
        c, r = code.lower(), ref.lower()
        return c == r or r.startswith(c + "-")
    return False


@dataclass(slots=True)
class _Usage:
    suppression: Suppression
    used: set[str] = field(default_factory=set)


def apply_suppressions(
    findings_by_message: Mapping[int, Sequence[Finding]],
    copy_file: CopyFile,
    *,
    refs_of: Callable[[Finding], Iterable[str]] | None = None,
) -> tuple[dict[int, list[Finding]], list[UnusedSuppression]]:
    """Drop suppressed findings and report suppressions that suppressed nothing.

    Args:
        findings_by_message: findings per message index (``CopyMessage.index``); indexes
            without findings may be absent.
        copy_file: the file the messages came from (its ``suppressions``).
        refs_of: every catalogue ref of a finding's rule (a rule may cite several, the
            finding carries one); by default only ``finding.ref``.

    Returns:
        ``(kept, unused)``: kept findings per message index (every index of the input is
        present, possibly with an empty list) and every unused code, in file order. A finding
        covered by both a message-level and a file-level suppression counts as a use of the
        message-level one only, so a redundant file-level code is reported.
    """
    usages = [_Usage(s) for s in copy_file.suppressions]
    by_message: dict[int, list[_Usage]] = {}
    file_level: list[_Usage] = []
    for usage in usages:
        if usage.suppression.scope == "file":
            file_level.append(usage)
        elif usage.suppression.message_index is not None:
            by_message.setdefault(usage.suppression.message_index, []).append(usage)

    kept: dict[int, list[Finding]] = {}
    for index, findings in findings_by_message.items():
        candidates = by_message.get(index, []) + file_level
        out: list[Finding] = []
        for finding in findings:
            refs = tuple(refs_of(finding)) if refs_of is not None else (finding.ref,)
            if finding.rule in UNSUPPRESSIBLE or not _suppress(finding, refs, candidates):
                out.append(finding)
        kept[index] = out

    unused: list[UnusedSuppression] = []
    for usage in usages:
        s = usage.suppression
        for code in s.codes:
            if code not in usage.used:
                unused.append(
                    UnusedSuppression(
                        str(copy_file.path), s.line, s.column, code, s.kind, s.scope, s.message_index
                    )
                )
    unused.sort(key=lambda u: (u.line, u.column))
    return kept, unused


def _suppress(finding: Finding, refs: Sequence[str | None], candidates: Sequence[_Usage]) -> bool:
    for usage in candidates:
        for code in usage.suppression.codes:
            if any(code_matches(code, finding.rule, ref) for ref in refs or (None,)):
                usage.used.add(code)
                return True
    return False
