"""`Hit`: one match of a lexicon term or scanner in a piece of text.

Hits are what the analyzer primitives return; the rules language turns them into `Finding`s.
Offsets always point into the ORIGINAL text the primitive was given (never the normalized
text), end exclusive.
"""

from __future__ import annotations

from dataclasses import dataclass


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
        term: the canonical lexicon term that matched (normalized form), or "".
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


_SLOT_SETTERS = tuple(getattr(Hit, name).__set__ for name in Hit.__slots__)


def _fast_init(
    self: Hit,
    start: int,
    end: int,
    text: str,
    category: str,
    kind: str,
    label: str = "",
    severity: str = "error",
    note: str = "",
    fix: str | None = None,
    term: str = "",
) -> None:
    # The generated __init__ of a frozen dataclass goes through object.__setattr__ per field
    # (~1 µs a hit, and every lint builds several). Setting the slots through their
    # descriptors is the same operation at half the cost; the class stays frozen for
    # everybody else, and the signature and defaults are the fields' (checked by a test).
    s0, s1, s2, s3, s4, s5, s6, s7, s8, s9 = _SLOT_SETTERS
    s0(self, start)
    s1(self, end)
    s2(self, text)
    s3(self, category)
    s4(self, kind)
    s5(self, label)
    s6(self, severity)
    s7(self, note)
    s8(self, fix)
    s9(self, term)


_fast_init.__qualname__ = "Hit.__init__"
Hit.__init__ = _fast_init  # type: ignore[method-assign]
