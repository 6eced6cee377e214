"""Spark adapter: the archive questions on a cluster, with the answers of the single-machine tools.

    from compliance.spark import audience, audit, eligibility, replay, verdicts
    findings = audit(df, "jd.sms", text_col="text", id_col="id")   # one row per finding
    checked = verdicts(df, "jd.sms", text_col="text")               # df + ok, worst_severity, finding_count
    violations = replay(sends)                                      # = compliance replay --format jsonl
    decided = eligibility(shops, "jd.message_box")                  # = Engine.eligibility per row
    picked = audience(users, "getui.push")                          # = Engine.audience per row

Everything runs inside ``mapInArrow``: Arrow record batches go to the Python workers and come
back without a per-row pickle round trip. Each Python worker process builds one `Engine` per
set of rule files and keeps it for the life of the process (`_engine`), so the packs are
loaded (or read from the compiled-pack cache) once per worker, not once per batch. Column
names and types are checked on the driver before any job runs. The output columns and their
Spark types are listed in docs/SCHEMAS.md; docs/SPARK.md explains how each function runs.

pyspark is imported only when a function is called; without the ``spark`` extra they raise an
`ImportError` that says what to install.
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

__all__ = ["AUDIENCE_COLUMNS", "ELIGIBILITY_COLUMNS", "FINDING_COLUMNS", "REPLAY_COLUMNS", "SEND_FIELDS",
           "VERDICT_COLUMNS", "audience", "audit", "eligibility", "replay", "verdicts"]

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


#: Messages given to `Engine.lint_many` at a time (its measured best: a few hundred).
_LINT_CHUNK = 256


def _lint_batch(engine: "Engine", channel: str, messages: Sequence[str | dict[str, str] | None],
                cache: dict[Any, "LintReport"]) -> list["LintReport | None"]:
    """The report of each message (None for a null one): from the partition's cache, else
    from `Engine.lint_many` over the batch's distinct uncached messages."""
    reports: list[LintReport | None] = [None] * len(messages)
    todo: dict[Any, list[int]] = {}  # key -> the rows that want it, in order
    todo_messages: list[str | dict[str, str]] = []
    for row, message in enumerate(messages):
        if message is None:
            continue
        key = message if isinstance(message, str) else tuple(sorted(message.items()))
        report = cache.get(key)
        if report is not None:
            reports[row] = report
            continue
        rows = todo.get(key)
        if rows is None:
            todo[key] = [row]
            todo_messages.append(message)
        else:
            rows.append(row)
    keys = list(todo)
    for lo in range(0, len(keys), _LINT_CHUNK):
        linted = engine.lint_many(todo_messages[lo:lo + _LINT_CHUNK], channel=channel)
        for key, report in zip(keys[lo:lo + _LINT_CHUNK], linted, strict=True):
            if len(cache) < _BATCH_CACHE_LIMIT:
                cache[key] = report
            for row in todo[key]:
                reports[row] = report
    return reports


def audit(df: "DataFrame", channel: str, text_col: str = "text", *, fields: Mapping[str, str] | None = None,
          rules_paths: Iterable[str | Path] = (), id_col: str | None = None,
          carry: Sequence[str] = ()) -> "DataFrame":
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
        carry: more columns carried into each finding row, after those, e.g.
            ``["text", "merchant", "recipient", "at", "channel"]``: with them the Parquet output
            is read back by ``compliance.audit.readback`` like ``compliance audit``'s
            findings (counts by merchant and day, worst texts in the HTML report).

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
    missing = [c for c in carry if c not in df.columns]
    if missing:
        raise ValueError(f"no column(s) {', '.join(map(repr, missing))} to carry (columns: {', '.join(df.columns)})")
    clash = [c for c in carry if c in FINDING_COLUMNS]
    if clash:
        raise ValueError(f"cannot carry column(s) {', '.join(clash)}: findings have columns of those names")
    carried = list(dict.fromkeys([*carried, *carry]))
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


# -- frequency replay ------------------------------------------------------------------------

#: Send fields `replay` reads, as in ``compliance replay`` (``id`` is optional).
SEND_FIELDS: tuple[str, ...] = ("channel", "message_class", "merchant", "recipient", "at", "id")
#: Columns of `replay`'s output, in this order (docs/SCHEMAS.md gives their Spark types).
REPLAY_COLUMNS: tuple[str, ...] = ("id", "channel", "message_class", "merchant", "recipient", "at", "rule", "ref",
                                   "severity", "limit", "window", "count", "message", "earlier", "order", "problem")
_IDENTIFIERS = ("id", "merchant", "recipient")
_ORDER = "__order"
# Output rows buffered per Arrow batch sent back to the JVM.
_OUT_BATCH = 8192
_PLANNERS: dict[tuple[tuple[str, ...], tuple[int, ...]], Any] = {}


def _planner(rules_key: tuple[str, ...], indexes: tuple[int, ...]) -> Any:
    """This process's planner for a subset of the engine's caps (one per replay pass)."""
    planner = _PLANNERS.get((rules_key, indexes))
    if planner is None:
        from compliance.frequency.plan import Planner

        caps = _engine(rules_key).caps()
        planner = _PLANNERS[(rules_key, indexes)] = Planner([caps[i] for i in indexes])
    return planner


def replay_passes(caps: Sequence[Any]) -> dict[tuple[str, ...], tuple[int, ...]]:
    """Caps grouped by the columns their sends are partitioned by: ``("recipient",)`` for
    every cap whose scope holds the recipient (all merchants' sends to one phone meet in one
    task), else the cap's whole scope (an account cap such as ``("merchant",)``)."""
    passes: dict[tuple[str, ...], list[int]] = {}
    for index, cap in enumerate(caps):
        key = ("recipient",) if "recipient" in cap.scope else tuple(cap.scope)
        passes.setdefault(key, []).append(index)
    return {key: tuple(indexes) for key, indexes in passes.items()}


def _send_columns(df: "DataFrame", fields: Mapping[str, str] | None, channel: str | None) -> dict[str, str]:
    """Send field → column, checked against the DataFrame's schema before any job runs."""
    from pyspark.sql import types as T

    mapping = {name: name for name in SEND_FIELDS if not (name == "channel" and channel is not None)}
    for ours, theirs in (fields or {}).items():
        if ours not in SEND_FIELDS:
            raise ValueError(f"fields={{{ours!r}: ...}}: {ours!r} is not a send field; use {', '.join(SEND_FIELDS)}")
        mapping[ours] = theirs
    if "id" not in (fields or {}) and "id" not in df.columns:
        del mapping["id"]  # optional: sends without id are named #<order>
    types = {f.name: f.dataType for f in df.schema.fields}
    problems = []
    for ours, theirs in mapping.items():
        kind = types.get(theirs)
        if kind is None:
            problems.append(f"column {theirs!r} ({ours}) is missing")
        elif ours == "at":
            if not isinstance(kind, (T.TimestampType, T.TimestampNTZType)):
                problems.append(f"column {theirs!r} (at) is {kind.simpleString()}, expected timestamp or "
                                "timestamp_ntz (naive means Asia/Shanghai); convert text with F.to_timestamp")
        elif not isinstance(kind, T.StringType) and not (ours in _IDENTIFIERS and isinstance(kind, T.IntegralType)):
            expected = "string or an integer type" if ours in _IDENTIFIERS else "string"
            problems.append(f"column {theirs!r} ({ours}) is {kind.simpleString()}, expected {expected}")
    if problems:
        raise ValueError("cannot replay this DataFrame: " + "; ".join(problems) +
                         f" (columns: {', '.join(df.columns)})")
    return mapping


def _replay_schema() -> Any:
    from pyspark.sql import types as T

    s, n = T.StringType(), True
    return T.StructType([
        T.StructField("id", s, n), T.StructField("channel", s, n), T.StructField("message_class", s, n),
        T.StructField("merchant", s, n), T.StructField("recipient", s, n), T.StructField("at", T.TimestampType(), n),
        T.StructField("rule", s, n), T.StructField("ref", s, n), T.StructField("severity", s, n),
        T.StructField("limit", T.IntegerType(), n), T.StructField("window", s, n),
        T.StructField("count", T.IntegerType(), n), T.StructField("message", s, n),
        T.StructField("earlier", T.ArrayType(s, False), n), T.StructField("order", T.LongType(), False),
        T.StructField("problem", s, n),
    ])


class _ReplayRows:
    """Output rows of one task, flushed as Arrow batches."""

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {name: [] for name in REPLAY_COLUMNS}

    def __len__(self) -> int:
        return len(self.columns["order"])

    def add(self, values: Mapping[str, Any]) -> None:
        for name, column in self.columns.items():
            column.append(values.get(name))

    def flush(self) -> "pa.RecordBatch":
        import pyarrow as pa

        c = self.columns
        s = pa.string()
        arrays = [pa.array(c["id"], s), pa.array(c["channel"], s), pa.array(c["message_class"], s),
                  pa.array(c["merchant"], s), pa.array(c["recipient"], s),
                  pa.array(c["at"], pa.timestamp("us", tz="UTC")), pa.array(c["rule"], s), pa.array(c["ref"], s),
                  pa.array(c["severity"], s), pa.array(c["limit"], pa.int32()), pa.array(c["window"], s),
                  pa.array(c["count"], pa.int32()), pa.array(c["message"], s),
                  pa.array(c["earlier"], pa.list_(pa.field("element", s, nullable=False))),
                  pa.array(c["order"], pa.int64()), pa.array(c["problem"], s)]
        self.columns = {name: [] for name in REPLAY_COLUMNS}
        return pa.RecordBatch.from_arrays(arrays, names=list(REPLAY_COLUMNS))


def _sends_of(batches: Iterator["pa.RecordBatch"], channel: str | None, has_id: bool,
              bad: "_ReplayRows | None") -> Iterator[tuple[int, Any]]:
    """``(order, Send)`` per row; a row that is not a valid send goes to ``bad`` (never dropped
    silently: with ``bad`` None, another pass of the same replay reports it)."""
    from compliance.frequency.send import DEFAULT_TZ, Send, SendError

    names = ("channel", "message_class", "merchant", "recipient")
    for batch in batches:
        data = batch.to_pydict()
        n = batch.num_rows
        column = [data["channel"] if channel is None else [channel] * n] + [data[f] for f in names[1:]]
        ats, orders = data["at"], data[_ORDER]
        ids = data["id"] if has_id else [None] * n
        for i in range(n):
            values = [c[i] for c in column]
            at, send_id = ats[i], ids[i]
            try:
                clean_id = send_id is None or (type(send_id) is str and send_id and send_id.strip() == send_id)
                if at is not None and clean_id and all(type(v) is str and v and v.strip() == v for v in values):
                    # Already what `Send.from_mapping` would make of it: skip pydantic (hot path).
                    yield orders[i], Send(values[0], values[1], values[2], values[3], at, send_id)
                    continue
                nulls = [name for name, v in zip(names + ("at",), values + [at]) if v is None]
                if nulls:
                    raise SendError(f"null {', '.join(nulls)}")
                row = dict(zip(names, values), at=at)
                if send_id is not None:
                    row["id"] = send_id
                yield orders[i], Send.from_mapping(row)  # strips spaces, or says what is wrong
            except (SendError, ValueError) as exc:
                if bad is not None:
                    if at is not None and at.tzinfo is None:
                        at = at.replace(tzinfo=DEFAULT_TZ)  # timestamp_ntz: Asia/Shanghai, as a send reads it
                    bad.add({"id": send_id, "channel": values[0], "message_class": values[1], "merchant": values[2],
                             "recipient": values[3], "at": at, "order": orders[i], "problem": f"bad send: {exc}"})


def replay(df: "DataFrame", *, fields: Mapping[str, str] | None = None, channel: str | None = None,
           rules: Iterable[str | Path] = (), max_earlier: int | None = None, order_col: str | None = None,
           partitions: int | None = None) -> "DataFrame":
    """Replay archived sends through the frequency caps, on the cluster: every send that broke
    a cap, with the same values ``compliance replay --format jsonl`` prints.

    The sends are repartitioned by recipient (by the cap's scope for caps without one, e.g.
    an account's yearly quota), sorted within each partition by (recipient, time, order) and
    handed to `compliance.frequency.replay.judge` — the window logic of ``compliance replay``
    and `Ledger.replay`, not a copy of it — through ``mapInArrow``, one recipient at a time.
    Calendar windows are in the cap's time zone (Asia/Shanghai).

    Args:
        df: one row per send.
        fields: send field → column where the names differ, e.g. ``{"recipient": "phone"}``
            (fields: channel, message_class, merchant, recipient, at, id).
        channel: the channel of every row, when there is no channel column.
        rules: extra rule files or directories (readable at the same path on every executor).
        max_earlier: earlier sends named per violation (default 50, as the CLI; the count is
            exact); also what a window keeps in memory per run of sends.
        order_col: column breaking ties between sends at the same microsecond (the CLI uses
            the input order). Default: the input order as Spark reads it
            (``monotonically_increasing_id`` before the shuffle), which is a file's row order.
        partitions: partitions of the shuffle (default ``spark.sql.shuffle.partitions``).

    Column types are checked before any job runs (a missing or mistyped column raises
    `ValueError` naming it and the expected type): ``at`` is a timestamp (or timestamp_ntz,
    read as Asia/Shanghai), the others strings (id, merchant, recipient may be integers).

    Returns a DataFrame with `REPLAY_COLUMNS` (types in docs/SCHEMAS.md): one row per
    (send, broken cap), and one row per bad send — a null or empty field, a time outside the
    supported years — with ``problem`` set and ``rule`` null; bad sends are not replayed.
    ``order`` is the tie-break value (it names sends without id: ``#<order>``).

    Memory: Spark's sort spills to disk, Arrow batches stream through the Python worker
    (``spark.sql.execution.arrow.maxRecordsPerBatch`` rows each), and the window state is
    one recipient's: for calendar windows a few runs of at most ``max_earlier`` names,
    whatever that recipient's volume; a phone with millions of sends costs time, not memory.
    """
    _require_pyspark()
    from pyspark.sql import functions as F

    from compliance.frequency.replay import DEFAULT_MAX_EARLIER

    rules_key = _rules_key(rules)
    engine = _engine(rules_key)
    if channel is not None:
        engine.program(channel)  # fail on the driver, with a "did you mean"
    earlier = DEFAULT_MAX_EARLIER if max_earlier is None else max_earlier
    if earlier < 0:
        raise ValueError(f"max_earlier must be >= 0, got {earlier}")
    mapping = _send_columns(df, fields, channel)
    if order_col is not None and order_col not in df.columns:
        raise ValueError(f"no order column {order_col!r} in the DataFrame (columns: {', '.join(df.columns)})")
    has_id = "id" in mapping
    selected = []
    for ours, theirs in mapping.items():
        column = df[theirs]
        if ours != "at":
            column = column.cast("string")
        selected.append(column.alias(ours))
    order = df[order_col].cast("long") if order_col is not None else F.monotonically_increasing_id()
    sends = df.select(*selected, order.alias(_ORDER))
    if channel is not None:
        sends = sends.withColumn("channel", F.lit(channel))
    schema = _replay_schema()
    # No caps at all still makes one pass: it reports the bad sends.
    caps = engine.caps()
    passes = replay_passes(caps) or {("recipient",): ()}
    outputs = []
    for number, (key, indexes) in enumerate(passes.items()):
        # What `Send.from_mapping` strips, so that one recipient's sends meet in one group.
        keys = [F.regexp_replace(F.col(name), r"(?U)^\s+|\s+$", "") for name in key]
        rows = sends if number == 0 else sends.where(_applicable(F, [caps[i] for i in indexes]))
        part = rows.repartition(partitions, *keys) if partitions else rows.repartition(*keys)
        part = part.sortWithinPartitions(*keys, F.col("at"), F.col(_ORDER))
        outputs.append(part.mapInArrow(_replay_task(rules_key, indexes, key, channel, has_id, earlier,
                                                    report_bad=number == 0), schema))
    result = outputs[0]
    for other in outputs[1:]:
        result = result.unionByName(other)
    return result


def _applicable(F: Any, caps: Sequence[Any]) -> Any:
    """Rows some of ``caps`` apply to (channel and class; exemptions are left to the planner).

    Only passes after the first filter: the first sees every row, to report the bad ones."""
    condition = F.lit(False)
    for cap in caps:
        applies = F.col("message_class").isin(sorted(cap.classes))
        if cap.channels:
            applies = applies & F.col("channel").isin(sorted(cap.channels))
        condition = condition | applies
    return condition


def _replay_task(rules_key: tuple[str, ...], indexes: tuple[int, ...], key: tuple[str, ...], channel: str | None,
                 has_id: bool, max_earlier: int, *, report_bad: bool) -> Any:
    """The ``mapInArrow`` function of one replay pass (a closure of plain values: it pickles)."""

    def run(batches: Iterator["pa.RecordBatch"]) -> Iterator["pa.RecordBatch"]:
        from itertools import groupby

        from compliance.frequency.replay import judge

        planner = _planner(rules_key, indexes)
        out = _ReplayRows()
        sends = _sends_of(batches, channel, has_id, out if report_bad else None)
        for _, group in groupby(sends, key=lambda item: tuple(getattr(item[1], attr) for attr in key)):
            for violation in judge(planner, group, max_earlier=max_earlier, evict=False):
                record = violation.to_record()
                record["at"] = violation.send.at
                record["order"] = violation.position
                out.add(record)
                if len(out) >= _OUT_BATCH:
                    yield out.flush()
            if len(out) >= _OUT_BATCH:
                yield out.flush()
        if len(out):
            yield out.flush()

    return run


# -- eligibility and audience ----------------------------------------------------------------

#: Columns `eligibility` appends to the input columns.
ELIGIBILITY_COLUMNS: tuple[str, ...] = ("eligible", "unmet", "grants", "problem")
#: Columns `audience` appends to the input columns.
AUDIENCE_COLUMNS: tuple[str, ...] = ("selected", "findings", "problem")
_ROW = "__row"  # the one row group of the flattened fact table the vectorized evaluator reads
_FACT = "__fact"  # prefix of the fact columns selected for the Python workers


def _finding_type() -> Any:
    """Spark type of one finding of `eligibility` (unmet) and `audience` (findings)."""
    from pyspark.sql import types as T

    s = T.StringType()
    return T.StructType([T.StructField("rule", s, False), T.StructField("ref", s, True),
                         T.StructField("category", s, False), T.StructField("severity", s, False),
                         T.StructField("message", s, False),
                         T.StructField("explanation", T.ArrayType(s, False), False)])


def _arrow_finding_type() -> "pa.DataType":
    import pyarrow as pa

    s = pa.string()
    return pa.struct([pa.field("rule", s, False), pa.field("ref", s), pa.field("category", s, False),
                      pa.field("severity", s, False), pa.field("message", s, False),
                      pa.field("explanation", pa.list_(pa.field("element", s, False)), False)])


def _finding_record(finding: Any) -> dict[str, Any]:
    return {"rule": finding.rule, "ref": finding.ref, "category": finding.category, "severity": finding.severity,
            "message": finding.message, "explanation": list(finding.explanation)}


def _fact_field(program: Any, path: tuple[str, ...]) -> Any:
    schema = program.pack.facts[path[0]]
    return schema.scalar if len(path) == 1 else schema.fields[path[1]]


def _fact_columns(df: "DataFrame", program: Any, reads: Iterable[tuple[str, ...]], columns: Mapping[str, str],
                  facts: Mapping[str, Any], coerce: bool, *, flat_fields: bool) -> tuple[dict[tuple[str, ...], Any], bool]:
    """The column of each fact path the rules read, checked against its declared type on the driver.

    A path ``group.field`` comes from ``columns["group.field"]``, else from the field of a struct
    column named ``group`` (else, with ``flat_fields``, from a column named ``field``); a scalar
    fact (``today``) from ``columns[name]`` or a column of that name. Paths given in ``facts``
    (constants) or with a declared default need no column. Returns the Spark column per path
    and whether every column already has an Arrow type the vectorized evaluator reads as is.
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T
    from pyspark.sql.pandas.types import to_arrow_type

    from compliance.facts import _arrow_fits, expected_type  # noqa: PLC2701 - one rule for both paths

    types = {f.name: f.dataType for f in df.schema.fields}
    found: dict[tuple[str, ...], Any] = {}
    problems: list[str] = []
    exact = True
    for path in sorted(reads):
        name = ".".join(path)
        fld = _fact_field(program, path)
        kind = None
        if name in columns:
            if columns[name] not in types:
                problems.append(f"{name}: no column {columns[name]!r}")
                continue
            column, kind = df[columns[name]], types[columns[name]]
        elif len(path) == 2 and isinstance(types.get(path[0]), T.StructType) and path[1] in types[path[0]].names:
            column, kind = F.col(path[0]).getField(path[1]), types[path[0]][path[1]].dataType
        elif len(path) == 2 and flat_fields and path[1] in types:
            column, kind = df[path[1]], types[path[1]]
        elif len(path) == 1 and path[0] in types:
            column, kind = df[path[0]], types[path[0]]
        else:
            constant = facts.get(path[0]) if len(path) == 2 else None
            if len(path) == 1 and path[0] in facts or isinstance(constant, Mapping) and path[1] in constant:
                continue
            if fld.has_default or fld.type.optional:
                continue
            problems.append(f"{name} ({expected_type(fld.type)}): no column; map one with columns={{{name!r}: ...}}, "
                            f"or give a struct column {path[0]!r}" + (", or pass it in facts=" if len(path) == 2 else ""))
            continue
        try:
            arrow = to_arrow_type(kind)
        except TypeError:
            arrow = None
        if arrow is None or not _arrow_fits(fld.type, arrow):
            lenient = coerce or fld.coerce
            if not lenient:
                problems.append(f"{name}: column of {kind.simpleString()}, expected {expected_type(fld.type)}")
                continue
            exact = False
        found[path] = column
    if problems:
        raise ValueError(f"facts of pack {program.pack.name} do not fit this DataFrame: " + "; ".join(problems) +
                         f" (columns: {', '.join(df.columns)})")
    return found, exact


def _row_facts(paths: Sequence[tuple[str, ...]], values: Sequence[Sequence[Any]], row: int,
               facts: Mapping[str, Any]) -> dict[str, Any]:
    """One row's facts: the constants, then the row's non-null columns (nulls are left out)."""
    out: dict[str, Any] = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in facts.items()}
    for path, column in zip(paths, values):
        value = column[row]
        if value is None:
            continue
        if len(path) == 1:
            out[path[0]] = value
        else:
            group = out.get(path[0])
            if not isinstance(group, dict):
                group = out[path[0]] = {}
            group[path[1]] = value
    return out


def _flatten(expr: Any, paths: frozenset[tuple[str, ...]]) -> Any:
    """``expr`` reading the flattened table: ``shop.fans`` → ``__row."shop.fans"``, a scalar fact
    column ``today`` → ``__row.today``; constants and parameters stay as they are."""
    import dataclasses

    from compliance import ast

    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and (expr.value.name, expr.name) in paths:
        return ast.Attribute(ast.Name(_ROW, expr.value.pos), f"{expr.value.name}.{expr.name}", expr.pos)
    if isinstance(expr, ast.Name) and (expr.name,) in paths:
        return ast.Attribute(ast.Name(_ROW, expr.pos), expr.name, expr.pos)
    if not dataclasses.is_dataclass(expr) or isinstance(expr, type):
        return expr
    changes = {}
    for f in dataclasses.fields(expr):
        value = getattr(expr, f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, ast.Pos):
            new = _flatten(value, paths)
        elif isinstance(value, tuple):
            new = tuple(_flatten(v, paths) if dataclasses.is_dataclass(v) else v for v in value)
        else:
            continue
        if new is not value:
            changes[f.name] = new
    return dataclasses.replace(expr, **changes) if changes else expr


def _passing(expr: Any, when: Any) -> Any:
    """``not when or expr`` (a rule whose condition does not apply passes), as the compiler does."""
    from compliance import ast

    if when is None:
        return expr
    return ast.Binary("or", ast.Unary("not", when, when.pos), expr, expr.pos)


def _vector_eligibility(program: Any, table: "pa.Table", paths: frozenset[tuple[str, ...]],
                        scalars: Mapping[str, Any]) -> tuple[Any, list[dict[str, Any]]]:
    """Vectorized: which rows pass every eligibility rule, and their grants (the chosen tiers)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from compliance.vectorize import evaluate_table

    n = table.num_rows
    ok = pa.array([True] * n, pa.bool_())
    grants: list[dict[str, Any]] = [{} for _ in range(n)]
    for rule in program.eligibility_rules:
        if not rule.tiers:
            condition = rule.require if rule.require is not None else rule.select
            passed = evaluate_table(_flatten(_passing(condition, rule.when), paths), table, _ROW, scalars)
            ok = pc.and_(ok, passed)
            continue
        applies = (evaluate_table(_flatten(rule.when, paths), table, _ROW, scalars) if rule.when is not None
                   else pa.array([True] * n, pa.bool_())).to_pylist()
        chosen = [None] * n
        for tier in rule.tiers:
            holds = evaluate_table(_flatten(tier.condition, paths), table, _ROW, scalars).to_pylist()
            for i in range(n):
                if applies[i] and chosen[i] is None and holds[i]:
                    chosen[i] = tier
        passed = pa.array([not applies[i] or chosen[i] is not None for i in range(n)], pa.bool_())
        ok = pc.and_(ok, passed)
        for i, tier in enumerate(chosen):
            if tier is not None:
                grants[i].update({key: value.value for key, value in tier.grants})
                grants[i]["tier"] = tier.name
    return ok, grants


def _vector_scalars(program: Any, paths: Iterable[tuple[str, ...]], constants: Mapping[str, Any]) -> dict[str, Any]:
    """The constants the vectorized evaluator reads, with the declared default (or null for
    an optional field) of every other fact path that no column gives — as validation would."""
    out: dict[str, Any] = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in constants.items()}
    for path in paths:
        fld = _fact_field(program, path)
        default = fld.default if fld.has_default else None
        if len(path) == 1:
            out.setdefault(path[0], default)
        else:
            group = out.setdefault(path[0], {})
            if isinstance(group, dict):
                group.setdefault(path[1], default)
    return out


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def eligibility(df: "DataFrame", channel: str, *, columns: Mapping[str, str] | None = None,
                facts: Mapping[str, Any] | None = None, rules_paths: Iterable[str | Path] = (),
                explain_unmet: bool = True, coerce: bool = False) -> "DataFrame":
    """May each row's shop/account use the channel? `Engine.eligibility` for every row.

    Args:
        df: one row per shop/account (or per question), with its facts as columns: a struct
            column per fact group (``shop: struct<fans: int, ...>``), or flat columns mapped
            with ``columns={"shop.fans": "fans", "today": "as_of"}``; a scalar fact
            (``today``) may be a column of its name.
        channel: e.g. ``"jd.message_box"``.
        columns: fact path → column, for facts stored under other names.
        facts: constants every row shares, e.g. ``{"today": date(2026, 11, 25)}`` or
            ``{"send": {"message_class": "recall"}}``; a row's columns win over them.
        rules_paths: extra rule files or directories.
        explain_unmet, coerce: as for `Engine.eligibility`.

    Every fact the rules read must come from a column or ``facts`` (or have a default); a
    missing or mistyped column raises `ValueError` naming it and its declared type before any
    job runs. Null cells are left out of the row's facts (a default or an optional field then
    applies; a required one makes the row's ``problem``).

    Returns every input row and column plus `ELIGIBILITY_COLUMNS`: ``eligible`` (boolean),
    ``unmet`` (array of finding structs: rule, ref, category, severity, message,
    explanation), ``grants`` (JSON text of the grants dict, keys sorted) and ``problem``
    (the `FactError` / `EvaluationError` message when the row's facts do not fit, the other
    three then null). The rules run vectorized over each Arrow batch
    (`compliance.vectorize`); the rows that fail a rule, or have a null fact, are decided
    again one by one by `Engine.eligibility` for their findings and explanations.
    """
    _require_pyspark()
    from pyspark.sql import types as T

    rules_key = _rules_key(rules_paths)
    program = _engine(rules_key).program(channel)
    if not program.eligibility_rules:
        raise ValueError(f"channel {channel!r} has no eligibility rules")
    constants = dict(facts or {})
    reads = {path for rule in program.eligibility_rules for path in rule.reads}
    found, exact = _fact_columns(df, program, reads, dict(columns or {}), constants, coerce, flat_fields=False)
    clash = [c for c in ELIGIBILITY_COLUMNS if c in df.columns]
    if clash:
        raise ValueError(f"the DataFrame already has column(s) {', '.join(clash)}; rename them first")
    paths = list(found)
    inputs = list(df.columns)
    schema = T.StructType(list(df.schema.fields) + [
        T.StructField("eligible", T.BooleanType(), True), T.StructField("unmet", T.ArrayType(_finding_type(), False), True),
        T.StructField("grants", T.StringType(), True), T.StructField("problem", T.StringType(), True)])
    selected = df.select(*[df[c] for c in inputs], *[found[p].alias(f"{_FACT}{i}") for i, p in enumerate(paths)])

    def run(batches: Iterator["pa.RecordBatch"]) -> Iterator["pa.RecordBatch"]:
        import pyarrow as pa
        import pyarrow.compute as pc

        from compliance.errors import ComplianceError

        engine = _engine(rules_key)
        prog = engine.program(channel)
        flat_paths = frozenset(paths)
        scalars = _vector_scalars(prog, reads - flat_paths, constants)
        for batch in batches:
            n = batch.num_rows
            fact_arrays = [batch.column(len(inputs) + i) for i in range(len(paths))]
            values = [a.to_pylist() for a in fact_arrays]
            eligible: list[bool | None] = [None] * n
            unmet: list[list[dict[str, Any]] | None] = [None] * n
            grants: list[str | None] = [None] * n
            problem: list[str | None] = [None] * n
            slow = list(range(n))
            if exact and n:
                complete = pa.array([True] * n, pa.bool_())
                for array in fact_arrays:
                    complete = pc.and_(complete, pc.is_valid(array))
                rows = pc.indices_nonzero(complete)
                if len(rows):
                    table = pa.Table.from_arrays([a.take(rows) for a in fact_arrays], names=[".".join(p) for p in paths])
                    try:
                        ok, chosen = _vector_eligibility(prog, table, flat_paths, scalars)
                    except Exception:  # noqa: BLE001 - a kernel that cannot run: decide those rows one by one
                        ok, chosen = pa.array([False] * len(rows), pa.bool_()), []
                    passed = set()
                    for k, (row, good) in enumerate(zip(rows.to_pylist(), ok.to_pylist())):
                        if good:
                            eligible[row], unmet[row], grants[row] = True, [], _json(chosen[k])
                            passed.add(row)
                    slow = [i for i in range(n) if i not in passed]
            for i in slow:
                try:
                    decision = engine.eligibility(_row_facts(paths, values, i, constants), channel,
                                                  explain_unmet=explain_unmet, coerce=coerce)
                except ComplianceError as exc:
                    problem[i] = str(exc)
                    continue
                eligible[i], grants[i] = decision.eligible, _json(decision.grants)
                unmet[i] = [_finding_record(f) for f in decision.unmet]
            arrays = [batch.column(i) for i in range(len(inputs))] + [
                pa.array(eligible, pa.bool_()), pa.array(unmet, pa.list_(pa.field("element", _arrow_finding_type(), False))),
                pa.array(grants, pa.string()), pa.array(problem, pa.string())]
            yield pa.RecordBatch.from_arrays(arrays, names=inputs + list(ELIGIBILITY_COLUMNS))

    return selected.mapInArrow(run, schema)


def audience(df: "DataFrame", channel: str, *, columns: Mapping[str, str] | None = None,
             facts: Mapping[str, Any] | None = None, rules_paths: Iterable[str | Path] = (),
             coerce: bool = False) -> "DataFrame":
    """Which audience rules select (or admit) each row? `Engine.audience` for every row.

    Args:
        df: one row per user/customer/segment: the row group's fields as columns named by the
            field (as `Engine.audience` reads a table), or as a struct column named by the group
            (``user: struct<spend_30d: double, ...>``), or mapped with
            ``columns={"user.spend_30d": "spend"}``.
        channel: e.g. ``"getui.push"``.
        facts: the other facts the rules read, e.g. ``{"today": date(2026, 11, 25)}``.
        rules_paths, coerce: as for `eligibility` / `Engine.audience`.

    Returns every input row and column plus `AUDIENCE_COLUMNS`: ``selected`` (map rule id →
    boolean: True = selected / requirement met), ``findings`` (array of finding structs, one
    per unmet ``require`` rule, with message and explanation) and ``problem`` (the row's
    `FactError` message, the other two then null). Each Arrow batch goes through the
    vectorized `Engine.audience` (table in, one boolean per rule out); rows with an unmet
    requirement or a null field are evaluated again one by one for their findings.
    """
    _require_pyspark()
    from pyspark.sql import types as T

    from compliance.errors import UnknownChannelError

    rules_key = _rules_key(rules_paths)
    program = _engine(rules_key).program(channel)
    rules = program.audience_rules
    if not rules:
        raise UnknownChannelError(f"channel {channel!r} has no audience rules")
    constants = dict(facts or {})
    reads = {path for rule in rules for path in rule.reads if path[0] == rule.over}
    for rule in rules:
        for path in rule.reads:
            if path[0] != rule.over and not (path[0] in constants and (len(path) == 1 or path[1] in constants[path[0]])):
                raise ValueError(f"rule {rule.id} reads {'.'.join(path)}; pass it in facts=")
    found, exact = _fact_columns(df, program, reads, dict(columns or {}), constants, coerce, flat_fields=True)
    clash = [c for c in AUDIENCE_COLUMNS if c in df.columns]
    if clash:
        raise ValueError(f"the DataFrame already has column(s) {', '.join(clash)}; rename them first")
    paths = list(found)
    groups = {p[0] for p in paths}
    if len(groups) > 1:
        raise ValueError(f"the audience rules of {channel} are over several groups ({', '.join(sorted(groups))}); "
                         "audience() takes one row group per DataFrame")
    inputs = list(df.columns)
    rule_ids = [r.id for r in rules]
    requires = {r.id for r in rules if r.require is not None}
    schema = T.StructType(list(df.schema.fields) + [
        T.StructField("selected", T.MapType(T.StringType(), T.BooleanType(), False), True),
        T.StructField("findings", T.ArrayType(_finding_type(), False), True),
        T.StructField("problem", T.StringType(), True)])
    selected_df = df.select(*[df[c] for c in inputs], *[found[p].alias(f"{_FACT}{i}") for i, p in enumerate(paths)])

    def run(batches: Iterator["pa.RecordBatch"]) -> Iterator["pa.RecordBatch"]:
        import pyarrow as pa
        import pyarrow.compute as pc

        from compliance.errors import ComplianceError

        engine = _engine(rules_key)
        for batch in batches:
            n = batch.num_rows
            fact_arrays = [batch.column(len(inputs) + i) for i in range(len(paths))]
            values = [a.to_pylist() for a in fact_arrays]
            chosen: list[list[tuple[str, bool]] | None] = [None] * n
            findings: list[list[dict[str, Any]] | None] = [None] * n
            problem: list[str | None] = [None] * n
            slow = list(range(n))
            if exact and n and paths:
                complete = pa.array([True] * n, pa.bool_())
                for array in fact_arrays:
                    complete = pc.and_(complete, pc.is_valid(array))
                rows = pc.indices_nonzero(complete)
                if len(rows):
                    table = pa.Table.from_arrays([a.take(rows) for a in fact_arrays], names=[p[1] for p in paths])
                    try:
                        result = engine.audience(table, channel, facts=constants, coerce=coerce)
                        verdicts = {rule: result.column(rule).to_pylist() for rule in rule_ids}
                    except ComplianceError:  # the rows one by one say which of them is wrong
                        verdicts = {rule: [False] * len(rows) for rule in rule_ids}
                    passed = set()
                    for k, row in enumerate(rows.to_pylist()):
                        if all(verdicts[rule][k] for rule in requires):
                            chosen[row] = [(rule, bool(verdicts[rule][k])) for rule in rule_ids]
                            findings[row] = []
                            passed.add(row)
                    slow = [i for i in range(n) if i not in passed]
            for i in slow:
                row_values = {p[1]: values[j][i] for j, p in enumerate(paths) if values[j][i] is not None}
                try:
                    verdict = engine.audience(row_values, channel, facts=constants, coerce=coerce)
                except ComplianceError as exc:
                    problem[i] = str(exc)
                    continue
                chosen[i] = list(verdict.selected.items())
                findings[i] = [_finding_record(f) for f in verdict.findings]
            arrays = [batch.column(i) for i in range(len(inputs))] + [
                pa.array(chosen, pa.map_(pa.string(), pa.field("value", pa.bool_(), False))),
                pa.array(findings, pa.list_(pa.field("element", _arrow_finding_type(), False))),
                pa.array(problem, pa.string())]
            yield pa.RecordBatch.from_arrays(arrays, names=inputs + list(AUDIENCE_COLUMNS))

    return selected_df.mapInArrow(run, schema)
