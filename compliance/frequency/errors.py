"""Errors raised by the frequency ledger.

All derive from `LedgerError` (a `RuntimeError` and a `compliance.errors.ComplianceError`), so a
service can catch the whole family in one place and still tell "the store is down" from
"the database is locked" from "the URL is wrong".
"""

from __future__ import annotations

from compliance.errors import ComplianceError


class LedgerError(ComplianceError, RuntimeError):
    """Base of every error raised by `Ledger` and its stores."""


class LedgerURLError(LedgerError, ValueError):
    """A ledger URL that names no supported store or is malformed."""


class LedgerUnavailableError(LedgerError):
    """The store could not be reached or answered with an error; nothing was decided."""


class LedgerLockedError(LedgerError):
    """The store stayed locked by another writer longer than the configured wait."""
