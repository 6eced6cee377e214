"""`Hit`: one match of a lexicon term or scanner in a piece of text.

Hits are what the analyzer primitives return; the rules language turns them into `Finding`s.
Offsets always point into the ORIGINAL text the primitive was given (never the normalized
text), end exclusive.
"""

from __future__ import annotations

from dataclasses import dataclass

from compliance.fastinit import fast_frozen_init


@fast_frozen_init
@dataclass(frozen=True, slots=True)
class Hit:
    """One span found in a text.

    Attributes:
        start, end: offsets into the original text (end exclusive).
        text: ``original[start:end]``.
        category: finding category it belongs to (see `compliance.findings.CATEGORIES`).
        kind: what produced it: a lexicon name (``"ad_law"``) or a scanner name
            (``"halfwidth_punct"``).
        label: finer sub-category (``"absolute"``, ``"ranking"``, ``"mobile"``, ...), or "".
        severity: suggested severity from the lexicon entry or scanner.
        note: short Chinese description usable in a message (e.g. ``"最低价"``, ``"半角逗号"``).
        fix: replacement text for ``[start, end)`` when a safe fix exists, else None.
        term: the canonical lexicon term that matched (normalized form) — for a pattern entry its
            name, not the matched text (the pattern decides the span) — or "".
    """

    start: int
    end: int
    text: str
    category: str
    kind: str
    label: str = ""
    severity: str = "error"
    note: str = ""
    fix: str | None = None
    term: str = ""
