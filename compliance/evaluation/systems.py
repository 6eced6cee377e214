"""The systems scored: the linter, and what a user would write instead.

Each system maps an evaluation text to `Prediction`s: a category of
`compliance.evaluation.CATEGORIES`, and a span of the text (or ``None`` for a finding about the
whole message).

* ``lint errors`` / ``lint errors+warnings``: `Engine.lint(text, channel="jd.sms")`, the findings
  of severity error (and warning). Finding offsets point into a field; `LintReport.offsets`
  places them in the whole text. Finding categories map to the labelled ones by `LINT_CATEGORY`
  (``link``: an off-platform link is a contact) and `LINT_RULE_CATEGORY` (a signature naming the
  platform impersonates it); every other finding (length, signature format, typo …) is not
  scored.
* ``naive substring``: every term of the built-in lexicons of the four categories, found
  wherever it occurs in the folded text (`compliance.analyzer.normalize`, so width, case and
  traditional characters do not count against it), mapped back to the original text.
* ``jieba.lcut + lookup``: `jieba.lcut` (defaults, HMM on; a private tokenizer that knows every
  term) over the folded text, each word looked up in the same terms.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import CATEGORIES

__all__ = [
    "LINT_CATEGORY",
    "LINT_RULE_CATEGORY",
    "Prediction",
    "System",
    "jieba_lookup",
    "lexicon_terms",
    "lint_system",
    "naive_substring",
    "standard_systems",
]

#: Finding category → labelled category (findings of other categories are not scored).
LINT_CATEGORY: dict[str, str] = {
    "ad_law": "ad_law",
    "contact": "contact",
    "link": "contact",
    "inducement": "inducement",
    "impersonation": "impersonation",
}
#: Rules whose finding category is not the labelled one.
LINT_RULE_CATEGORY: dict[str, str] = {
    "jd-sms-signature-platform-name": "impersonation",  # JD-SMS-06: 【京东…】 as the merchant's signature
}
CHANNEL = "jd.sms"


@dataclass(frozen=True, slots=True, order=True)
class Prediction:
    """A predicted violation: ``[start, end)`` of the evaluation text, or the whole message."""

    category: str
    start: int | None
    end: int | None
    detail: str = ""  # rule id or lexicon term, for the error listings

    @property
    def whole_message(self) -> bool:
        return self.start is None or self.end is None


@dataclass(frozen=True, slots=True)
class System:
    """A named predictor."""

    name: str
    predict: Callable[[str], list[Prediction]]


def _unique(predictions: Iterable[Prediction]) -> list[Prediction]:
    """Sorted, one prediction per claim: identical spans of a category count once, and so does
    a span inside another of its category (naive matching finds 最 inside 最低价; that is one
    claim, as it is one finding of the linter)."""
    seen: dict[tuple[str, int | None, int | None], Prediction] = {}
    for p in predictions:
        seen.setdefault((p.category, p.start, p.end), p)
    spans = [p for p in seen.values() if not p.whole_message]
    kept = [p for p in seen.values() if p.whole_message]
    for p in spans:
        assert p.start is not None and p.end is not None
        inside = any(q is not p and q.category == p.category and q.start is not None and q.end is not None
                     and q.start <= p.start and p.end <= q.end and (q.end - q.start) > (p.end - p.start)
                     for q in spans)
        if not inside:
            kept.append(p)
    return sorted(kept, key=lambda p: (p.start if p.start is not None else -1, p.category))


def lint_system(engine: Any, severities: Iterable[str], name: str, channel: str = CHANNEL) -> System:
    """`Engine.lint` on ``channel``, keeping the findings of ``severities``."""
    keep = frozenset(severities)

    def predict(text: str) -> list[Prediction]:
        report = engine.lint(text, channel=channel)
        out = []
        for f in report.findings:
            category = LINT_RULE_CATEGORY.get(f.rule) or LINT_CATEGORY.get(f.category)
            if category is None or f.severity not in keep:
                continue
            if f.field is None or f.start is None or f.end is None:
                out.append(Prediction(category, None, None, f.rule))
                continue
            shift = report.offsets.get(f.field, 0)
            out.append(Prediction(category, f.start + shift, f.end + shift, f.rule))
        return _unique(out)

    return System(name, predict)


def lexicon_terms() -> dict[str, str]:
    """Folded term → category, over the built-in lexicons of the four categories.

    Entries that are patterns rather than literal terms (an entry with a ``pattern``
    attribute set) are left out: a user's substring search has no patterns. So are ``lawful``
    entries (wording the lexicon lists as NOT a violation, such as 先到先得).
    """
    from compliance.analyzer.lexicon import load_builtin_lexicons
    from compliance.analyzer.normalize import normalize

    terms: dict[str, str] = {}
    for lexicon in load_builtin_lexicons().values():
        if lexicon.category not in CATEGORIES:
            continue
        for entry in lexicon:
            if getattr(entry, "pattern", None) or getattr(entry, "kind", "term") != "term":
                continue
            folded = normalize(entry.term).text
            if folded:
                terms.setdefault(folded, lexicon.category)
    return terms


def naive_substring(terms: Mapping[str, str], name: str = "naive substring") -> System:
    """Every occurrence of every term in the folded text."""
    from compliance.analyzer.normalize import normalize

    ordered = sorted(terms.items())

    def predict(text: str) -> list[Prediction]:
        folded = normalize(text)
        out = []
        for term, category in ordered:
            start = folded.text.find(term)
            while start != -1:
                o_start, o_end = folded.span(start, start + len(term))
                out.append(Prediction(category, o_start, o_end, term))
                start = folded.text.find(term, start + 1)
        return _unique(out)

    return System(name, predict)


def jieba_lookup(terms: Mapping[str, str], name: str = "jieba.lcut + lookup") -> System:
    """`jieba.lcut` of the folded text (defaults: HMM on), each word looked up in ``terms``."""
    from compliance.analyzer.jieba_loader import load_jieba
    from compliance.analyzer.normalize import normalize

    jieba = load_jieba()
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for term in sorted(terms):
        if not tokenizer.FREQ.get(term):
            tokenizer.add_word(term)

    def predict(text: str) -> list[Prediction]:
        folded = normalize(text)
        out = []
        pos = 0
        for word in tokenizer.lcut(folded.text):
            category = terms.get(word)
            if category is not None:
                o_start, o_end = folded.span(pos, pos + len(word))
                out.append(Prediction(category, o_start, o_end, word))
            pos += len(word)
        return _unique(out)

    return System(name, predict)


def standard_systems(engine: Any) -> list[System]:
    """The four systems of the benchmark, in report order."""
    terms = lexicon_terms()
    return [
        lint_system(engine, ("error",), "lint errors"),
        lint_system(engine, ("error", "warning"), "lint errors+warnings"),
        naive_substring(terms),
        jieba_lookup(terms),
    ]
