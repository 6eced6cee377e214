"""Findings written elsewhere — ``compliance audit``'s ``findings.parquet`` or a Spark run of
`compliance.spark.audit` written with ``.write.parquet(...)`` — read back into the audit's
own tools: the `FINDINGS_SCHEMA` table, ``summary.json`` and the HTML report.

    python -m compliance.audit.readback findings/ --out report/ [--channel jd.sms]

A Spark output directory (``part-*.parquet``) or any Parquet file with the finding columns
(`FINDING_COLUMNS`) is accepted; the record columns of `RECORD_COLUMNS` are taken when
present (``at`` may be a timestamp or ISO text) and left null otherwise. When the findings
carry the message (a ``text`` column: `compliance.spark.audit` without ``id_col``, or with
``carry=["text"]``), the report shows the worst texts, highlighted: those few texts are
linted again for their field offsets, which the finding rows do not hold.

The docs/SCHEMAS.md page lists every column and its Spark and Arrow types.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from compliance.audit.outputs import FINDINGS_SCHEMA, RECORD_COLUMNS
from compliance.audit.tally import Tally
from compliance.audit.verdicts import FINDING_COLUMNS, Verdict, severity_at_least

SHANGHAI = ZoneInfo("Asia/Shanghai")


def read_findings(paths: Iterable[str | Path]) -> tuple[Any, list[str | None]]:
    """The findings of Parquet files or directories as one `FINDINGS_SCHEMA` table, and each
    row's message text (None where the findings do not carry a ``text`` column).

    Raises ValueError naming what is missing when a file lacks a finding column.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    tables, texts = [], []
    for path in paths:
        table = pq.read_table(str(path))
        missing = [c for c in FINDING_COLUMNS if c not in table.column_names]
        if missing:
            raise ValueError(f"{path}: not findings — no column(s) {', '.join(missing)} "
                             f"(columns: {', '.join(table.column_names)})")
        columns = []
        for fld in FINDINGS_SCHEMA:
            if fld.name not in table.column_names:
                value = str(path) if fld.name == "archive" else None
                columns.append(pa.array([value] * table.num_rows, fld.type))
                continue
            column = table.column(fld.name)
            if fld.name == "at" and pa.types.is_timestamp(column.type):
                utc = column.type.tz is not None or _int96(Path(path), "at")
                column = pa.array([_iso(m, utc) for m in column.to_pylist()], pa.string())
            elif column.type != fld.type:
                column = pc.cast(column, fld.type)
            columns.append(column)
        tables.append(pa.Table.from_arrays(columns, schema=FINDINGS_SCHEMA))
        texts += table.column("text").to_pylist() if "text" in table.column_names else [None] * table.num_rows
    if not tables:
        return FINDINGS_SCHEMA.empty_table(), []
    return pa.concat_tables(tables), texts


def _int96(path: Path, column: str) -> bool:
    """Whether ``column`` is stored as INT96 — how Spark writes a timestamp by default: an
    instant (UTC), which pyarrow reads without a time zone, unlike a timestamp_ntz."""
    import pyarrow.parquet as pq

    files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
    if not files:
        return False
    schema = pq.ParquetFile(files[0]).schema
    names = [schema.column(i).name for i in range(len(schema))]
    return column in names and schema.column(names.index(column)).physical_type == "INT96"


def _iso(moment: dt.datetime | None, utc: bool) -> str | None:
    """ISO text in Asia/Shanghai; a naive time is UTC (``utc``) or Asia/Shanghai (timestamp_ntz)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc if utc else SHANGHAI)
    return moment.astimezone(SHANGHAI).isoformat()


def tally_findings(table: Any, texts: Sequence[str | None], *, channel: str | None = None, engine: Any = None,
                   threshold: str = "error", worst: int = 20) -> Tally:
    """A `Tally` of findings rows (counts by category, rule, severity, merchant and day; the
    worst texts when ``texts`` are known). A record is a distinct (archive, record, id) — or
    the text, for findings that carry only the text."""
    rows = table.to_pylist()
    tally = Tally(1, threshold, worst)
    by_record: dict[Any, list[dict[str, Any]]] = {}
    for row, text in zip(rows, texts or [None] * len(rows)):
        key = (row["archive"], row["record"], row["id"], text) if row["id"] is not None or row["record"] is not None \
            else (row["archive"], None, None, text, row["channel"])
        by_record.setdefault(key, []).append(row)
        for kind in ("category", "rule", "severity"):
            tally.counts[(kind, row[kind])] += 1
        if severity_at_least(row["severity"], threshold):
            tally.at_threshold += 1
        tally.add_located(row["merchant"], row["at"], 1)
    tally.findings[0] = len(rows)
    tally.records_with_findings = len(by_record)
    tally.records[0] = len(by_record)
    if any(t is not None for t in texts):
        _offer_worst(tally, by_record, channel, engine)
    return tally


def _offer_worst(tally: Tally, by_record: dict[Any, list[dict[str, Any]]], channel: str | None, engine: Any) -> None:
    """The worst distinct texts, with offsets from linting just those texts again."""
    scored = []
    seen: set[tuple[str, str]] = set()
    for key, found in by_record.items():
        text = key[3]
        record_channel = found[0]["channel"] or channel
        if text is None or record_channel is None or (record_channel, text) in seen:
            continue
        seen.add((record_channel, text))
        findings = tuple(tuple(f[c] for c in FINDING_COLUMNS) for f in found)
        errors = sum(1 for f in findings if f[3] == "error")
        warnings = sum(1 for f in findings if f[3] == "warning")
        scored.append(((errors, warnings, len(findings)), len(scored), record_channel, text, findings, found[0]))
    scored.sort(key=lambda s: (-s[0][0], -s[0][1], -s[0][2], s[1]))
    if scored and engine is None:
        from compliance.engine import Engine

        engine = Engine()
    for _, _, record_channel, text, findings, first in scored[: tally.worst_size]:
        # The findings as the run found them; the offsets of the fields in the whole text.
        verdict = Verdict(findings, dict(engine.lint(text, channel=record_channel).offsets))
        where = first["id"] or (f"{first['archive']}:{first['line']}" if first["line"] is not None else first["archive"])
        tally.offer_worst((record_channel, text), verdict, {"text": text}, str(where))


def summary_of(tally: Tally, names: list[str]) -> dict[str, Any]:
    """The summary keys the HTML report reads, from findings alone (no record count, timing
    or cache: those belong to the run that produced them)."""
    return {
        "archives": [{"path": ", ".join(names), "records": tally.records[0], "bad_records": 0,
                      "findings": tally.findings[0], "error": None}],
        "records": tally.records[0], "records_with_findings": tally.records_with_findings,
        "bad_records": 0, "findings": tally.findings[0],
        "findings_by_severity": tally.by("severity"), "findings_by_category": tally.by("category"),
        "findings_by_rule": tally.by("rule"),
        "findings_by_merchant": dict(sorted(tally.by_merchant.items(), key=lambda kv: (-kv[1], kv[0]))),
        "findings_by_day": dict(sorted(tally.by_day.items())),
        "fail_on": tally.threshold, "findings_at_or_above_threshold": tally.at_threshold,
        "bad_record_sample": [], "cache": {"hit_rate": 0.0}, "throughput_records_per_second": None,
        "source": "findings read back (records = records with findings)",
    }


def report_from_findings(paths: Sequence[str | Path], out: Path, *, channel: str | None = None,
                         engine: Any = None, threshold: str = "error", worst: int = 20) -> Path:
    """Write ``out/report.html`` and ``out/summary.json`` for findings Parquet file(s); returns
    the report's path."""
    from compliance.audit.report import write_report

    table, texts = read_findings(paths)
    tally = tally_findings(table, texts, channel=channel, engine=engine, threshold=threshold, worst=worst)
    summary = summary_of(tally, [str(p) for p in paths])
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return write_report(summary, tally, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m compliance.audit.readback",
                                     description="Build the audit's HTML report from findings Parquet file(s).")
    parser.add_argument("findings", nargs="+", type=Path, help="findings.parquet or a Spark output directory")
    parser.add_argument("--out", required=True, type=Path, help="directory for report.html and summary.json")
    parser.add_argument("--channel", help="channel of findings without a channel column (for the worst texts)")
    parser.add_argument("--worst", type=int, default=20, help="worst texts shown (default 20)")
    args = parser.parse_args(argv)
    try:
        path = report_from_findings(args.findings, args.out, channel=args.channel, worst=args.worst)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
