"""The verdict cache: archives repeat the same texts, so each distinct text is linted once.

Keyed by (channel, text) for whole rendered messages and (channel, (signature, body, optout,
title, url)) for messages given as parts. Bounded: the least recently used verdicts go
first, so memory stays flat however long the archive.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

from compliance.audit.verdicts import LintFailure, Verdict

CacheKey = Hashable
Cached = Verdict | LintFailure


class VerdictCache:
    """A bounded LRU map from message key to verdict, with lookup statistics.

    ``hits`` counts lookups answered without linting — from the cache or from a lint of the
    same key already under way; ``lookups - hits`` is the number of texts linted.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[CacheKey, Cached] = OrderedDict()
        self.lookups = 0
        self.hits = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CacheKey) -> Cached | None:
        """The cached verdict, freshened, or None (does not count a lookup)."""
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: CacheKey, value: Cached) -> None:
        """Store a verdict, evicting the least recently used beyond capacity."""
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def count(self, *, hit: bool) -> None:
        """Record one lookup."""
        self.lookups += 1
        if hit:
            self.hits += 1

    @property
    def hit_rate(self) -> float:
        """Hits per lookup (0.0 before any lookup)."""
        return self.hits / self.lookups if self.lookups else 0.0
