"""`Decision` (the answer to "may this send go?") and the findings that explain a denial."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from compliance.findings import Finding
from compliance.frequency.caps import Cap
from compliance.frequency.send import Send

#: Used when a cap has no message template of its own.
DEFAULT_MESSAGE = "发送频次超限：{window}内已发送{count}条，上限{limit}条（{ref}）"

#: Rule id of the warning returned instead of an error when a fail-open ledger's store fails.
UNAVAILABLE_RULE = "frequency-ledger-unavailable"


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether a send may go, and why not.

    Attributes:
        allowed: True when no blocking (severity ``"error"``) cap is exceeded; a reservation
            that is allowed has been recorded.
        violations: one `Finding` (category ``"frequency"``) per exceeded cap, including
            non-blocking ones; a fail-open ledger adds a warning when its store failed.
        retry_after: when denied, the earliest time (timezone-aware) at which the same send
            would pass given the sends recorded so far; None when allowed or never.
        degraded: True when the store could not be asked and a ``fail_open`` ledger let the
            send through *undecided*: ``allowed`` is then True, nothing was counted, and
            ``violations`` holds the ``frequency-ledger-unavailable`` warning. Always False
            on a fail-closed ledger (the default), which raises instead.
    """

    allowed: bool
    violations: list[Finding] = field(default_factory=list)
    retry_after: datetime | None = None
    degraded: bool = False


def check_template(cap: Cap) -> None:
    """Fail at ledger construction, not at the first denial, on a broken message template."""
    try:
        (cap.message or DEFAULT_MESSAGE).format(count=0, limit=0, window="", rule="", ref="")
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(
            f"cap {cap.rule}: message template {cap.message!r} is invalid ({exc!r}); "
            "use only {count} {limit} {window} {rule} {ref}"
        ) from None


def violation(
    cap: Cap, send: Send, count: int, limit: int, *, earlier: Sequence[str] = ()
) -> Finding:
    """The finding for ``send`` exceeding ``cap`` with ``count`` sends already in its window."""
    window = cap.window
    description = window.describe()
    start, end = window.span(send.at)
    message = (cap.message or DEFAULT_MESSAGE).format(
        count=count, limit=limit, window=description, rule=cap.rule, ref=cap.ref or cap.rule
    )
    scope = ", ".join(f"{attr}={getattr(send, attr)}" for attr in cap.scope)
    explanation = [
        f"window: {description} [{start.isoformat()}, {end.isoformat()})",
        f"count: {count} already sent in the window, limit {limit}",
        f"scope: {scope}",
    ]
    override = cap.override_at(send.at)
    if override is not None:
        explanation.append(f"override: {override.name} (limit {override.limit})")
    if earlier:
        explanation.append("earlier sends: " + ", ".join(earlier))
    return Finding(
        rule=cap.rule,
        ref=cap.ref,
        category="frequency",
        severity=cap.severity,
        message=message,
        field=None,
        explanation=tuple(explanation),
    )


def unavailable(error: Exception) -> Finding:
    """The warning a fail-open ledger returns with an "allowed" it could not verify."""
    return Finding(
        rule=UNAVAILABLE_RULE,
        ref=None,
        category="frequency",
        severity="warning",
        message="频次账本不可用，已按放行处理，未计数（fail-open）",
        field=None,
        explanation=(f"store error: {error}",),
    )
