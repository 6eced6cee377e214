"""Spark adapter: lint a DataFrame of messages on a cluster.

    from compliance.spark import audit, verdicts
    findings = audit(df, "jd.sms", text_col="text", id_col="id")   # one row per finding
    checked = verdicts(df, "jd.sms", text_col="text")               # df + ok, worst_severity, finding_count

Both run `Engine.lint` inside ``mapInArrow``: Arrow record batches go to the Python workers
and come back without a per-row pickle round trip. Each Python worker process builds one
`Engine` per set of rule files and keeps it for the life of the process (`_engine`), so the
packs are loaded (or read from the compiled-pack cache) once per worker, not once per batch.

pyspark is imported only when `audit` or `verdicts` is called; without the ``spark`` extra
they raise an `ImportError` that says what to install.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa
    from pyspark.sql import DataFrame

    from compliance.engine import Engine
    from compliance.lint import LintReport

__all__ = ["FINDING_COLUMNS", "VERDICT_COLUMNS", "audit", "verdicts"]

#: Columns `audit` adds after the carried input columns, in this order.
FINDING_COLUMNS: tuple[str, ...] = ("rule", "ref", "category", "severity", "field", "start", "end", "message", "fix")
#: Columns `verdicts` appends to the input columns.
VERDICT_COLUMNS: tuple[str, ...] = ("ok", "worst_severity", "finding_count")

#: Distinct texts remembered per Arrow batch: archives repeat themselves (design.md).
_BATCH_CACHE_LIMIT = 10_000

_ENGINES: dict[tuple[str, ...], "Engine"] = {}
_ENGINES_LOCK = threading.Lock()


def _require_pyspark() -> Any:
    """The pyspark.sql module, or an ImportError naming the extra to install.

    ``mapInArrow`` is built on pyspark's pandas UDF machinery, so pandas must be importable
    too (pyspark's own ``sql`` extra: ``pyspark[sql]``).
    """
    try:
        import pyspark.sql
    except ImportError as exc:
        raise ImportError(
            "compliance.spark needs PySpark, which is not installed; "
            "install the extra: pip install 'compliance[spark]'"
        ) from exc
    try:
        import pandas  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "compliance.spark needs pandas (PySpark's mapInArrow requires it), which is not installed; "
            "install it with: pip install 'pyspark[sql]'"
        ) from exc
    return pyspark.sql


def _engine(rules_paths: tuple[str, ...]) -> "Engine":
    """This process's engine for these rule files (built on first use, then reused).

    Module-level, so on a Spark executor it lives as long as the (reused) Python worker.
    """
    engine = _ENGINES.get(rules_paths)
    if engine is None:
        with _ENGINES_LOCK:
            engine = _ENGINES.get(rules_paths)
            if engine is None:
                from compliance.engine import Engine

                engine = _ENGINES[rules_paths] = Engine(rules_paths)
    return engine


def _rules_key(rules_paths: Iterable[str | Path]) -> tuple[str, ...]:
    if isinstance(rules_paths, (str, Path)):
        rules_paths = (rules_paths,)
    return tuple(str(p) for p in rules_paths)


def _message_columns(df: "DataFrame", text_col: str, fields: Mapping[str, str] | None) -> dict[str, str]:
    """Message field → column; ``{"": text_col}`` means "the column is the whole rendered text"."""
    columns = dict(fields) if fields else {"": text_col}
    if fields is not None and not fields:
        raise ValueError("fields= must map at least one message field to a column")
    missing = [c for c in columns.values() if c not in df.columns]
    if missing:
        raise ValueError(f"no column(s) {', '.join(map(repr, missing))} in the DataFrame "
                         f"(columns: {', '.join(df.columns)})")
    return columns


def _messages(batch: "pa.RecordBatch", columns: Mapping[str, str]) -> list[str | dict[str, str] | None]:
    """The batch's messages: a string per row, or a mapping of fields; None when all are null."""
    if "" in columns:
        return batch.column(columns[""]).to_pylist()
    values = {name: batch.column(col).to_pylist() for name, col in columns.items()}
    out: list[str | dict[str, str] | None] = []
    for row in range(batch.num_rows):
        message = {name: values[name][row] for name in columns if values[name][row] is not None}
        out.append(message or None)
    return out


def _lint_batch(engine: "Engine", channel: str, messages: Sequence[str | dict[str, str] | None],
                cache: dict[Any, "LintReport"]) -> list["LintReport | None"]:
    reports: list[LintReport | None] = []
    for message in messages:
        if message is None:
            reports.append(None)
            continue
        key = message if isinstance(message, str) else tuple(sorted(message.items()))
        report = cache.get(key)
        if report is None:
            report = engine.lint(message, channel=channel)
            if len(cache) < _BATCH_CACHE_LIMIT:
                cache[key] = report
        reports.append(report)
    return reports


def audit(df: "DataFrame", channel: str, text_col: str = "text", *, fields: Mapping[str, str] | None = None,
          rules_paths: Iterable[str | Path] = (), id_col: str | None = None) -> "DataFrame":
    """Lint every row's message; one output row per finding (rows without findings give none).

    Args:
        df: the messages.
        channel: channel to lint for, e.g. ``"jd.sms"`` (checked on the driver first, so a
            misspelt channel fails fast with a suggestion).
        text_col: column holding the whole rendered message (used when ``fields`` is None).
        fields: message field → column, e.g. ``{"signature": "sig", "body": "text"}``, for
            messages stored field by field; null cells are left out of the message.
        rules_paths: extra rule files or directories; they must be readable at the same path
            on every executor.
        id_col: column carried into each finding row to tie it to its input row. Without it
            the message column(s) are carried instead.

    Returns a DataFrame with the carried column(s) then `FINDING_COLUMNS`: rule, ref,
    category, severity, field (strings, ref/field nullable), start, end (int, offsets into
    that field's original text, nullable), message, fix (nullable). Offsets are the same as
    ``Engine.lint`` reports; for a rendered text, the field's position in the whole text is
    what ``engine.lint(text, channel).offsets`` gives.
    """
    _require_pyspark()
    from pyspark.sql.types import IntegerType, StringType, StructField, StructType

    rules_key = _rules_key(rules_paths)
    _engine(rules_key).program(channel)  # fail on the driver, with a "did you mean"
    columns = _message_columns(df, text_col, fields)
    carried = [id_col] if id_col is not None else list(dict.fromkeys(columns.values()))
    if id_col is not None and id_col not in df.columns:
        raise ValueError(f"no id column {id_col!r} in the DataFrame (columns: {', '.join(df.columns)})")
    carried_fields = [df.schema[c] for c in carried]
    nullable = {"ref", "field", "start", "end", "fix"}
    types = {"start": IntegerType(), "end": IntegerType()}
    schema = StructType(carried_fields + [StructField(name, types.get(name, StringType()), name in nullable)
                                          for name in FINDING_COLUMNS])
    finding_types = {name: ("int32" if name in types else "string") for name in FINDING_COLUMNS}

    def run(batches: Iterator["pa.RecordBatch"]) -> Iterator["pa.RecordBatch"]:
        import pyarrow as pa

        engine = _engine(rules_key)
        cache: dict[Any, LintReport] = {}
        for batch in batches:
            reports = _lint_batch(engine, channel, _messages(batch, columns), cache)
            rows: list[int] = []
            values: dict[str, list[Any]] = {name: [] for name in FINDING_COLUMNS}
            for row, report in enumerate(reports):
                if report is None:
                    continue
                for finding in report.findings:
                    rows.append(row)
                    for name in FINDING_COLUMNS:
                        values[name].append(getattr(finding, name))
            if not rows:
                continue
            take = pa.array(rows, pa.int64())
            out_fields = [batch.schema.field(c) for c in carried]
            arrays = [batch.column(c).take(take) for c in carried]
            for name in FINDING_COLUMNS:
                kind = pa.int32() if finding_types[name] == "int32" else pa.string()
                out_fields.append(pa.field(name, kind))
                arrays.append(pa.array(values[name], kind))
            yield pa.RecordBatch.from_arrays(arrays, schema=pa.schema(out_fields))

    return df.select(*dict.fromkeys(carried + list(columns.values()))).mapInArrow(run, schema)


def verdicts(df: "DataFrame", channel: str, text_col: str = "text", *, fields: Mapping[str, str] | None = None,
             rules_paths: Iterable[str | Path] = ()) -> "DataFrame":
    """Every input row and column, plus its verdict: `VERDICT_COLUMNS`.

    ``ok`` (boolean: no finding of severity "error"), ``worst_severity`` (string: "error",
    "warning", "info", or null when there is no finding) and ``finding_count`` (int). A row
    whose message is null (every message column null) gets null in all three.
    Arguments as for `audit`.
    """
    _require_pyspark()
    from pyspark.sql.types import BooleanType, IntegerType, StringType, StructField, StructType

    rules_key = _rules_key(rules_paths)
    _engine(rules_key).program(channel)
    columns = _message_columns(df, text_col, fields)
    clash = [c for c in VERDICT_COLUMNS if c in df.columns]
    if clash:
        raise ValueError(f"the DataFrame already has column(s) {', '.join(clash)}; rename them first")
    schema = StructType(list(df.schema.fields) + [StructField("ok", BooleanType(), True),
                                                   StructField("worst_severity", StringType(), True),
                                                   StructField("finding_count", IntegerType(), True)])

    def run(batches: Iterator["pa.RecordBatch"]) -> Iterator["pa.RecordBatch"]:
        import pyarrow as pa

        engine = _engine(rules_key)
        cache: dict[Any, LintReport] = {}
        for batch in batches:
            reports = _lint_batch(engine, channel, _messages(batch, columns), cache)
            ok = [None if r is None else r.ok for r in reports]
            worst = [None if r is None else r.worst() for r in reports]
            count = [None if r is None else len(r.findings) for r in reports]
            arrays = list(batch.columns) + [pa.array(ok, pa.bool_()), pa.array(worst, pa.string()),
                                            pa.array(count, pa.int32())]
            names = list(batch.schema.names) + list(VERDICT_COLUMNS)
            yield pa.RecordBatch.from_arrays(arrays, names=names)

    return df.mapInArrow(run, schema)
