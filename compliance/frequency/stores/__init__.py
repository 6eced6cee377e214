"""Ledger stores: one interface (`Store`), three backends (memory, SQLite, Redis)."""

from compliance.frequency.stores.base import Evaluation, Marker, Store

__all__ = ["Evaluation", "Marker", "Store"]
