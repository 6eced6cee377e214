"""Frequency caps: "has this recipient already had too many messages?"

`Ledger.open(url, caps)` gives a ledger on ``memory://``, ``sqlite:///path`` or
``redis://host:port/db``; `Ledger.reserve(send)` checks every applicable `Cap` and records the
send only if all pass, atomically. Caps are data built by the rules compiler.
"""

from compliance.frequency.caps import Cap, Override
from compliance.frequency.decision import Decision
from compliance.frequency.errors import (
    LedgerError,
    LedgerLockedError,
    LedgerUnavailableError,
    LedgerURLError,
)
from compliance.frequency.ledger import Ledger
from compliance.frequency.replay import ReplayViolation
from compliance.frequency.send import Send, SendError
from compliance.frequency.windows import Window

__all__ = [
    "Cap",
    "Decision",
    "Ledger",
    "LedgerError",
    "LedgerLockedError",
    "LedgerURLError",
    "LedgerUnavailableError",
    "Override",
    "ReplayViolation",
    "Send",
    "SendError",
    "Window",
]
