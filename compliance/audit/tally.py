"""Running totals of an audit: records, bad records, findings by category/rule/severity/
merchant/day, and the worst distinct texts (with their findings, for the report)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Hashable
from typing import Any
from zoneinfo import ZoneInfo

from compliance.audit.verdicts import Verdict, severity_at_least

SHANGHAI = ZoneInfo("Asia/Shanghai")
_BAD_SAMPLE = 50


def day_of(at: str | None) -> str | None:
    """The Asia/Shanghai calendar day (YYYY-MM-DD) of an ISO timestamp, or None if unreadable."""
    if not at or len(at) < 10:
        return None
    if len(at) == 10 or at.endswith("+08:00"):
        return at[:10]
    try:
        moment = dt.datetime.fromisoformat(at)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.date().isoformat()
    return moment.astimezone(SHANGHAI).date().isoformat()


class Tally:
    """Totals that survive a checkpoint (`to_state` / `from_state`)."""

    def __init__(self, archives: int, threshold: str, worst_size: int) -> None:
        self.threshold = threshold
        self.worst_size = worst_size
        self.records = [0] * archives
        self.bad = [0] * archives
        self.findings = [0] * archives
        self.records_with_findings = 0
        self.at_threshold = 0
        self.counts: Counter[tuple[str, str]] = Counter()
        self.by_merchant: Counter[str] = Counter()
        self.by_day: Counter[str] = Counter()
        self.bad_sample: list[dict[str, Any]] = []
        self.archive_errors: list[dict[str, str]] = []
        self.frequency_violations = 0
        self.lookups = 0
        self.hits = 0
        self.elapsed = 0.0
        # key -> entry; keys are repr() of cache keys so the state is JSON.
        self.worst: dict[str, dict[str, Any]] = {}
        self.worst_seq = 0
        self._worst_floor: tuple[Any, ...] | None = None

    # --------------------------------------------------------------------------- updates

    def add_bad(self, archive_index: int, archive: str, line: int, record: int, reason: str,
                record_id: str | None = None) -> None:
        self.bad[archive_index] += 1
        if len(self.bad_sample) < _BAD_SAMPLE:
            self.bad_sample.append({"archive": archive, "line": line, "record": record, "id": record_id,
                                    "reason": reason})

    def add_record(self, archive_index: int) -> None:
        self.records[archive_index] += 1

    def add_verdicts(self, archive_index: int, uses: Counter[int], verdicts: dict[int, Verdict]) -> None:
        """Count findings of many records at once: ``uses[id(v)]`` records had verdict ``v``."""
        for ident, n in uses.items():
            verdict = verdicts[ident]
            total = len(verdict.findings)
            self.findings[archive_index] += total * n
            self.records_with_findings += n
            for key, count in verdict.counts.items():
                self.counts[key] += count * n
            if any(severity_at_least(s, self.threshold) for s in verdict.severities):
                self.at_threshold += sum(1 for f in verdict.findings if severity_at_least(f[3], self.threshold)) * n

    def add_located(self, merchant: str | None, at: str | None, findings: int) -> None:
        """Findings of one record by merchant and day."""
        self.by_merchant[merchant if merchant is not None else "(none)"] += findings
        self.by_day[day_of(at) or "(unknown)"] += findings

    def add_frequency(self, archive_index: int, merchant: str | None, at: str | None,
                      category: str, rule: str, severity: str) -> None:
        """One frequency-cap violation from the ledger replay."""
        self.frequency_violations += 1
        self.findings[archive_index] += 1
        for key in (("category", category), ("rule", rule), ("severity", severity)):
            self.counts[key] += 1
        if severity_at_least(severity, self.threshold):
            self.at_threshold += 1
        self.add_located(merchant, at, 1)

    def would_keep(self, score: tuple[int, int, int]) -> bool:
        """Whether a text with this score could enter the worst list (cheap pre-check)."""
        return self._worst_floor is None or score > self._worst_floor

    def offer_worst(self, key: Hashable, verdict: Verdict, fields: dict[str, str], where: str) -> None:
        """Keep ``key`` if it is among the worst distinct texts (earlier wins ties)."""
        if not verdict.findings:
            return
        score = verdict.score
        floor = self._worst_floor
        if floor is not None and score <= floor:
            return
        name = repr(key)
        if name in self.worst:
            return
        self.worst[name] = {"score": list(score), "where": where, "fields": fields,
                            "offsets": verdict.offsets, "findings": [list(f) for f in verdict.findings],
                            "order": self.worst_seq}
        self.worst_seq += 1
        if len(self.worst) > self.worst_size:
            victim = min(self.worst, key=lambda k: (tuple(self.worst[k]["score"]), -self.worst[k]["order"]))
            del self.worst[victim]
        if len(self.worst) >= self.worst_size:
            self._worst_floor = min(tuple(e["score"]) for e in self.worst.values())

    # --------------------------------------------------------------------------- views

    def by(self, kind: str) -> dict[str, int]:
        """Counts of one kind (category, rule, severity), largest first."""
        items = [(k[1], v) for k, v in self.counts.items() if k[0] == kind]
        return dict(sorted(items, key=lambda kv: (-kv[1], kv[0])))

    def worst_entries(self) -> list[dict[str, Any]]:
        """The worst texts, worst first (ties: first seen first)."""
        return sorted(self.worst.values(), key=lambda e: (tuple(-s for s in e["score"]), e["order"]))

    # --------------------------------------------------------------------------- state

    def to_state(self) -> dict[str, Any]:
        return {
            "records": self.records, "bad": self.bad, "findings": self.findings,
            "records_with_findings": self.records_with_findings, "at_threshold": self.at_threshold,
            "counts": [[k[0], k[1], v] for k, v in self.counts.items()],
            "by_merchant": dict(self.by_merchant), "by_day": dict(self.by_day),
            "bad_sample": self.bad_sample, "archive_errors": self.archive_errors,
            "frequency_violations": self.frequency_violations,
            "lookups": self.lookups, "hits": self.hits, "elapsed": self.elapsed, "worst": self.worst,
            "worst_seq": self.worst_seq,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], archives: int, threshold: str, worst_size: int) -> Tally:
        tally = cls(archives, threshold, worst_size)
        for name in ("records", "bad", "findings", "records_with_findings", "at_threshold", "bad_sample",
                     "archive_errors", "frequency_violations", "lookups", "hits", "elapsed", "worst", "worst_seq"):
            setattr(tally, name, state[name])
        tally.counts = Counter({(k, v): n for k, v, n in state["counts"]})
        tally.by_merchant = Counter(state["by_merchant"])
        tally.by_day = Counter(state["by_day"])
        if len(tally.worst) >= worst_size:
            tally._worst_floor = min(tuple(e["score"]) for e in tally.worst.values())
        return tally
