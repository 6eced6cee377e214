"""`Cap` and `Override`: one frequency limit, as data.

Caps are built by the rules compiler from rule files (policy is data); this module only
defines their shape and the questions every store asks of them: does this cap apply to a
send, whose count does it read, and which limit holds at a given time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from compliance.frequency.send import DEFAULT_TZ, Send
from compliance.frequency.windows import Window

#: Send attributes a cap may be keyed by.
SCOPE_FIELDS: frozenset[str] = frozenset({"channel", "message_class", "merchant", "recipient"})


@dataclass(frozen=True)
class Override:
    """A period with a different limit, e.g. a big promotion (JD-SMS-24).

    Active for sends with ``start <= at < end``; naive datetimes mean Asia/Shanghai.
    """

    name: str
    start: datetime
    end: datetime
    limit: int

    def __post_init__(self) -> None:
        for attr in ("start", "end"):
            value = getattr(self, attr)
            if value.tzinfo is None:
                object.__setattr__(self, attr, value.replace(tzinfo=DEFAULT_TZ))
        if self.end <= self.start:
            raise ValueError(f"override {self.name!r}: end {self.end} is not after start {self.start}")
        if self.limit < 0:
            raise ValueError(f"override {self.name!r}: limit must be >= 0, got {self.limit}")


@dataclass(frozen=True)
class Cap:
    """At most ``limit`` sends of ``classes`` on ``channels`` per ``scope`` per ``window``.

    Attributes:
        rule: stable rule id (unique among the caps of one ledger).
        ref: catalogue reference (``"JD-SMS-18"``) or None.
        channels: channels the cap covers; empty means every channel.
        classes: message classes counted by the cap and judged by it (a test SMS that counts
            toward marketing caps is simply listed here: JD-SMS-23).
        scope: Send attributes the count is keyed by: ``("recipient",)`` for all merchants
            together, ``("merchant", "recipient")`` for one merchant, ``("merchant",)`` for an
            account.
        window: the window counted over.
        limit: most sends allowed in one window (0 forbids the class outright).
        message: ``str.format`` template with ``{count} {limit} {window} {rule} {ref}``; empty
            uses a standard Chinese message.
        severity: ``"error"`` denies the send; ``"warning"``/``"info"`` only report.
        count_failures: False lets `Ledger.release` give the slot of a failed delivery back.
        overrides: periods with another limit (first active one wins).
        exempt_merchants: merchants the cap neither judges nor counts.
    """

    rule: str
    ref: str | None
    channels: frozenset[str]
    classes: frozenset[str]
    scope: tuple[str, ...]
    window: Window
    limit: int
    message: str = ""
    severity: str = "error"
    count_failures: bool = True
    overrides: tuple[Override, ...] = ()
    exempt_merchants: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.rule:
            raise ValueError("a cap needs a rule id")
        if not self.scope:
            raise ValueError(f"cap {self.rule}: scope must name at least one send attribute")
        unknown = [s for s in self.scope if s not in SCOPE_FIELDS]
        if unknown:
            raise ValueError(
                f"cap {self.rule}: unknown scope attribute(s) {unknown}; use {sorted(SCOPE_FIELDS)}"
            )
        if not self.classes:
            raise ValueError(f"cap {self.rule}: classes must not be empty")
        if self.limit < 0:
            raise ValueError(f"cap {self.rule}: limit must be >= 0, got {self.limit}")
        if self.severity not in ("error", "warning", "info"):
            raise ValueError(f"cap {self.rule}: severity must be error, warning or info")
        # Accept any iterable from hand-written callers, store the declared types.
        object.__setattr__(self, "channels", frozenset(self.channels))
        object.__setattr__(self, "classes", frozenset(self.classes))
        object.__setattr__(self, "scope", tuple(self.scope))
        object.__setattr__(self, "overrides", tuple(self.overrides))
        object.__setattr__(self, "exempt_merchants", frozenset(self.exempt_merchants))

    def applies_to(self, send: Send) -> bool:
        """Whether this cap counts and judges ``send``."""
        return (
            send.message_class in self.classes
            and (not self.channels or send.channel in self.channels)
            and send.merchant not in self.exempt_merchants
        )

    def limit_at(self, at: datetime) -> int:
        """The limit in force at ``at``: the first active override's, else ``limit``."""
        for override in self.overrides:
            if override.start <= at < override.end:
                return override.limit
        return self.limit

    def override_at(self, at: datetime) -> Override | None:
        """The override active at ``at``, if any."""
        for override in self.overrides:
            if override.start <= at < override.end:
                return override
        return None

    @property
    def blocking(self) -> bool:
        """Whether a violation of this cap denies the send (only ``severity == "error"``)."""
        return self.severity == "error"
