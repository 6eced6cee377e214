"""``summary.json``: counts of the run (records, bad records, findings by category, rule,
severity, merchant and day), the bad-record limit, cache statistics, elapsed time and
throughput — of all the runs of the audit together, and of this run alone (``this_run``:
after a resume, the records this run read and the time it took)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from compliance.audit.options import AuditOptions
from compliance.audit.tally import Tally

#: Keys that depend on timing or on how the run was split (excluded when comparing runs).
TIMING_KEYS: tuple[str, ...] = ("elapsed_seconds", "throughput_records_per_second", "this_run", "cache", "resumed",
                                "jobs")


def _ranked(counter: Any) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def _rate(records: int, seconds: float) -> float | None:
    return round(records / seconds, 1) if seconds > 0 else None


def build_summary(tally: Tally, options: AuditOptions, names: list[str], *, resumed: bool,
                  findings_path: Path, this_run: dict[str, Any] | None = None) -> dict[str, Any]:
    """The summary of a finished run.

    ``this_run`` holds ``records_read`` and ``elapsed_seconds`` of this run alone (default:
    the whole audit, as for a run that was not resumed). ``elapsed_seconds`` at the top is the
    checkpointed time of every run of the audit (what a killed run did after its last
    checkpoint is done again, and counted, by the run that resumes it).
    """
    records = sum(tally.records)
    read = records + sum(tally.bad)
    elapsed = tally.elapsed
    lookups, hits = tally.lookups, tally.hits
    limit = options.bad_record_limit
    run_read = read if this_run is None else this_run["records_read"]
    run_elapsed = elapsed if this_run is None else this_run["elapsed_seconds"]
    return {
        "archives": [
            {"path": name, "records": tally.records[i], "bad_records": tally.bad[i], "findings": tally.findings[i],
             "error": next((e["error"] for e in tally.archive_errors if e["archive"] == name), None)}
            for i, name in enumerate(names)
        ],
        "records_read": read,
        "records": records,
        "bad_records": sum(tally.bad),
        "max_bad_records": str(limit),
        "too_many_bad_records": limit.exceeded(sum(tally.bad), read),
        "records_with_findings": tally.records_with_findings,
        "findings": sum(tally.findings),
        "findings_by_severity": tally.by("severity"),
        "findings_by_category": tally.by("category"),
        "findings_by_rule": tally.by("rule"),
        "findings_by_merchant": _ranked(tally.by_merchant),
        "findings_by_day": dict(sorted(tally.by_day.items())),
        "fail_on": options.fail_on,
        "findings_at_or_above_threshold": tally.at_threshold,
        "frequency": {"ledger": options.ledger, "violations": tally.frequency_violations},
        "bad_record_sample": tally.bad_sample,
        "archive_errors": tally.archive_errors,
        "cache": {"lookups": lookups, "hits": hits, "linted": lookups - hits,
                  "hit_rate": round(hits / lookups, 6) if lookups else 0.0},
        "channel": options.channel,
        "fields": options.fields.to_specs(),
        "jobs": options.jobs,
        "resumed": resumed,
        "outputs": {"findings": findings_path.name, "bad_records": "bad_records.jsonl", "report": "report.html"},
        "elapsed_seconds": round(elapsed, 3),
        "throughput_records_per_second": _rate(read, elapsed),
        "this_run": {"records_read": run_read, "elapsed_seconds": round(run_elapsed, 3),
                     "throughput_records_per_second": _rate(run_read, run_elapsed)},
    }


def write_summary(summary: dict[str, Any], out: Path) -> Path:
    """Write ``out/summary.json`` atomically."""
    path = out / "summary.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
