"""Message archives: stream JSONL, CSV and Parquet files as Arrow record batches.

`iter_archive` reads an archive at constant memory (one batch at a time) and yields
`ArchiveBatch`es. Every good record becomes one row of ``batch.records`` (a
``pyarrow.RecordBatch`` with one string column per mapped field plus ``__line__`` and
``__record__``); every bad record becomes a `BadRecord` in ``batch.bad``. Nothing aborts the
stream except problems with the file as a whole (`ArchiveError`: unknown format, a mapped
column missing from a CSV header or a Parquet schema, a Parquet column of a type the field
cannot take).

Value types
    Every field is text. Identifier fields (`IDENTIFIER_FIELDS`: ``id``, ``merchant``,
    ``recipient``) may also be integers — a JSON integer, an integer Parquet column — and are
    delivered as their decimal text (``0`` → ``"0"``), so the same archive gives the same
    records whether it is JSONL, CSV (where every cell is text) or Parquet. Any other value
    (a JSON number with a fraction or exponent, a boolean, an object, an array) makes the
    record bad; a Parquet column of another type is an `ArchiveError`. A missing key, a JSON
    ``null``, an empty CSV cell and a Parquet null all mean "no value": fine for an optional
    field, a bad record for a required one.

Records and checkpoints
    A *record* is a non-blank line of JSONL, a non-blank data row of CSV (the header is not a
    record; a quoted field may span lines) or a row of Parquet. Records are numbered from 0
    in file order, good and bad alike; ``batch.first_record`` / ``batch.next_record`` bound
    what a batch consumed, and each batch consumes exactly ``batch_size`` records except the
    last. To checkpoint an audit, store ``batch.next_record`` after handling a batch; to
    resume, call ``iter_archive(..., skip_records=stored)``: the same records follow, with the
    same line numbers. Parquet skips whole row groups without reading them.

Line numbers
    ``__line__`` / ``BadRecord.line`` are the 1-based physical line where the record starts
    (JSONL, CSV), or the 1-based row number (Parquet).

What was read
    Pass a `ReadTracker` (``tracker=``) to learn which part of the file the records came
    from: the bytes taken from the start of the file (compressed bytes for ``.gz``), counted
    and hashed (SHA-256) as they are read — no second pass. Readers buffer, so that part may
    run past the last record yielded, never short of it. A Parquet file is hashed whole when
    opened (its records are read from anywhere in the file).

Why JSONL and CSV are parsed in Python rather than by ``pyarrow.json`` / ``pyarrow.csv``:
those readers fail a whole block on one bad line and do not report the line a row came
from, and both are requirements here. Parquet is read by pyarrow in batches.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import json
import os
import re
import stat
import sys
import zlib
from collections import deque
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import pyarrow as pa

from compliance.errors import ComplianceError

LINE_COLUMN = "__line__"
RECORD_COLUMN = "__record__"
DEFAULT_FIELDS: Mapping[str, str] = {"text": "text"}
SUPPORTED_ARCHIVES: tuple[str, ...] = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz", ".csv", ".csv.gz", ".parquet")
_SURROGATE = re.compile("[\ud800-\udfff]")
#: Our field names that identify something (a record, a merchant, a recipient): besides text,
#: they may hold integers, delivered as their decimal text (see "Value types").
IDENTIFIER_FIELDS: frozenset[str] = frozenset({"id", "merchant", "recipient"})


# A CSV field may be as long as the file: the csv module's default limit (128 KiB) would split
# a long quoted field into fake records made of its lines. The limit is process-wide.
if csv.field_size_limit() < 2**31 - 1:
    csv.field_size_limit(2**31 - 1)


class ArchiveError(ComplianceError, ValueError):
    """The archive as a whole cannot be read with the given mapping."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A record that could not be used, and why.

    Attributes:
        path: the archive.
        line: 1-based line where the record starts (row number for Parquet).
        reason: what was wrong (invalid JSON, wrong type, invalid UTF-8, missing field...).
        record: 0-based record number (see the module docstring).
        id: the record's ``id`` field as text, when it is mapped and could itself be read.
    """

    path: str
    line: int
    reason: str
    record: int
    id: str | None = None


@dataclass(frozen=True, slots=True)
class ArchiveBatch:
    """One batch of an archive.

    Attributes:
        records: good records: one ``string`` column per mapped field (null only for optional
            fields), ``__line__`` (int64) and ``__record__`` (int64).
        bad: bad records of this batch, in file order.
        first_record: number of the first record this batch consumed.
        next_record: number of the first record after this batch (the checkpoint).
    """

    records: pa.RecordBatch
    bad: tuple[BadRecord, ...]
    first_record: int
    next_record: int

    @property
    def consumed(self) -> int:
        """Records consumed by this batch, good and bad."""
        return self.next_record - self.first_record


class ReadTracker:
    """Counts and hashes (SHA-256) the bytes an archive reader takes from its file, in order.

    Give one to `iter_archive` (``tracker=``); while the batches are consumed, ``read_bytes``
    is how many bytes from the start of the file were read so far, `hexdigest` their digest,
    ``eof`` whether the end of the file was reached, and ``stat`` the file's status when it
    was opened (None until then). Hashing runs at about 1 GB/s, as the bytes go by.
    """

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.read_bytes = 0
        self.eof = False
        self.stat: os.stat_result | None = None

    def update(self, data: bytes | memoryview) -> None:
        """Account for the next bytes read."""
        self._hash.update(data)
        self.read_bytes += len(data)

    def hexdigest(self) -> str:
        """SHA-256 of the bytes read so far."""
        return self._hash.hexdigest()


class _TrackedFile(io.RawIOBase):
    """A raw binary file whose reads feed a `ReadTracker` (buffer it with `io.BufferedReader`)."""

    def __init__(self, raw: IO[bytes], tracker: ReadTracker) -> None:
        super().__init__()
        self._raw = raw
        self._tracker = tracker

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._raw.readinto(buffer)  # type: ignore[attr-defined]
        if n:
            self._tracker.update(memoryview(buffer)[:n])
        elif n == 0:
            self._tracker.eof = True
        return int(n or 0)

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


def archive_format(path: Path) -> str:
    """``"jsonl"``, ``"csv"`` or ``"parquet"`` for a path, by its (compound) extension."""
    name = path.name.lower()
    for suffix in SUPPORTED_ARCHIVES:
        if name.endswith(suffix):
            base = suffix.removesuffix(".gz")
            return {".ndjson": "jsonl", ".jsonl": "jsonl", ".csv": "csv", ".parquet": "parquet"}[base]
    raise ArchiveError(path, f"unsupported archive type; supported: {', '.join(SUPPORTED_ARCHIVES)}")


def iter_archive(
    path: Path,
    *,
    fields: Mapping[str, str] | None = None,
    batch_size: int = 10_000,
    optional: Collection[str] = (),
    skip_records: int = 0,
    identifiers: Collection[str] = IDENTIFIER_FIELDS,
    tracker: ReadTracker | None = None,
) -> Iterator[ArchiveBatch]:
    """Stream an archive as `ArchiveBatch`es.

    Args:
        path: ``.jsonl``/``.ndjson`` (optionally ``.gz``), ``.csv`` (optionally ``.gz``) or
            ``.parquet``.
        fields: our field name → the archive's column/key (``{"body": "content"}``); a JSONL
            key may be a dotted path into nested objects (``"msg.content"``). Default
            ``{"text": "text"}``.
        batch_size: records (good + bad) consumed per batch.
        optional: our field names that may be missing/null (null in the output); any other
            missing field makes the record bad.
        skip_records: resume point: skip this many records (see "Records and checkpoints").
        identifiers: our field names that may also hold integers, delivered as text (see
            "Value types"); default `IDENTIFIER_FIELDS`. Names not mapped are ignored.
        tracker: counts and hashes the bytes read from the file (see "What was read").

    Raises:
        ArchiveError: unsupported type, or a mapping that does not fit the file's header or
            schema. Bad records never raise.
    """
    path = Path(path)
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if skip_records < 0:
        raise ValueError("skip_records must not be negative")
    mapping = dict(fields or DEFAULT_FIELDS)
    if not mapping:
        raise ValueError("fields must map at least one field")
    unknown_optional = set(optional) - set(mapping)
    if unknown_optional:
        raise ValueError(f"optional names fields that are not mapped: {', '.join(sorted(unknown_optional))}")
    kind = archive_format(path)
    integers = frozenset(identifiers) & frozenset(mapping)
    if kind == "parquet":
        yield from _iter_parquet(path, mapping, batch_size, frozenset(optional), skip_records, integers, tracker)
        return
    if kind == "jsonl":
        records = _jsonl_records(path, tracker)
    else:
        records = _csv_records(path, mapping, frozenset(optional), tracker)
    yield from _batches(path, records, mapping, frozenset(optional), batch_size, skip_records, integers)


# ----------------------------------------------------------------------------- line formats

# A bad record: (reason, its id as text when that could be read).
_Bad = tuple[str, "str | None"]


def _check_readable_kind(path: Path, *, stream_ok: bool = True) -> None:
    """Refuse a directory, socket or block device before opening it. A FIFO or character
    device (``/dev/stdin``) is a stream and is read as one (JSONL and CSV only: Parquet needs
    a seekable file)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise ArchiveError(path, f"cannot open: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        raise ArchiveError(path, "is a directory, not an archive file")
    if stat.S_ISREG(mode):
        return
    if not (stream_ok and (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode))):
        kind = "a FIFO or device" if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) else "a socket or block device"
        raise ArchiveError(path, f"is {kind}; this archive type must be a regular file")


def _open_binary(path: Path, tracker: ReadTracker | None = None) -> IO[bytes]:
    _check_readable_kind(path)
    try:
        raw: IO[bytes] = open(path, "rb", buffering=0 if tracker is not None else 1 << 16)
    except OSError as exc:
        raise ArchiveError(path, f"cannot open: {exc.strerror or exc}") from None
    if tracker is not None:
        tracker.stat = os.fstat(raw.fileno())
        raw = io.BufferedReader(_TrackedFile(raw, tracker), buffer_size=1 << 16)  # type: ignore[arg-type]
    if path.name.lower().endswith(".gz"):
        return cast(IO[bytes], _GzipOwning(raw))
    return raw


class _GzipOwning(gzip.GzipFile):
    """A gzip reader over an open file object that closes that file when it is closed."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__(fileobj=raw, mode="rb")
        self._owned = raw

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._owned.close()


_STREAM_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error, OSError)


def _lookup(obj: dict[str, Any], key: str) -> tuple[bool, Any]:
    if key in obj:
        return True, obj[key]
    current: Any = obj
    for part in key.split("."):
        if not isinstance(current, dict) or part not in current:
            return False, None
        current = current[part]
    return True, current


def _jsonl_records(path: Path, tracker: ReadTracker | None) -> Iterator[tuple[int, bytes | str]]:
    """Yield (line, raw bytes) per non-blank line, or (line, reason) once on a broken stream."""
    line = 0
    with _open_binary(path, tracker) as stream:
        try:
            for raw in stream:
                line += 1
                if raw.strip():
                    yield line, raw
        except _STREAM_ERRORS as exc:
            yield line + 1, f"unreadable compressed stream ({type(exc).__name__}: {exc}); rest of file skipped"


def _json_type(value: Any) -> str:
    """The JSON name of a decoded value's type."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "string" if isinstance(value, str) else type(value).__name__


def _json_value(value: Any, integer_ok: bool) -> str | None:
    """A field's value as text, or None when it has a type the field cannot take."""
    if isinstance(value, str):
        return value
    if integer_ok and type(value) is int:  # not bool
        return str(value)
    return None


def _parse_json_line(
    raw: bytes, mapping: Mapping[str, str], optional: frozenset[str], integers: frozenset[str]
) -> dict[str, Any] | _Bad:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"invalid UTF-8 (byte 0x{raw[exc.start]:02x} at byte {exc.start + 1} of the line)", None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"invalid JSON: {exc.msg} (column {exc.colno})", None
    except RecursionError:
        return "invalid JSON: nested too deeply", None
    except ValueError:  # an integer of more digits than int() converts
        return f"invalid JSON: an integer of more than {sys.get_int_max_str_digits()} digits", None
    if not isinstance(obj, dict):
        return f"expected a JSON object, got {_json_type(obj)}", None
    record_id: str | None = None
    if "id" in mapping:
        found, value = _lookup(obj, mapping["id"])
        if found and value is not None:
            record_id = _json_value(value, "id" in integers)
            if record_id is not None and _SURROGATE.search(record_id):
                record_id = None
    values: dict[str, Any] = {}
    for ours, theirs in mapping.items():
        found, value = _lookup(obj, theirs)
        if not found or value is None:
            if ours in optional:
                values[ours] = None
                continue
            return f"missing field {theirs!r}" + (f" (mapped to {ours!r})" if theirs != ours else ""), record_id
        text_value = _json_value(value, ours in integers)
        if text_value is None:
            expected = "a string or an integer" if ours in integers else "a string"
            shown = "" if isinstance(value, (dict, list)) else f" {json.dumps(value)[:40]}"
            return f"field {theirs!r} must be {expected}, got {_json_type(value)}{shown}", record_id
        if _SURROGATE.search(text_value):
            return f"field {theirs!r} holds a lone surrogate escape (not valid Unicode)", record_id
        values[ours] = text_value
    return values


class _Lines:
    """The physical lines fed to ``csv.reader``, remembering those of the record being read,
    so a record that an unterminated quote left open to the end of the file can be cut back
    to its first line and the lines after it read again as records of their own."""

    def __init__(self, source: Iterable[str]) -> None:
        self._source = iter(source)
        self._pending: deque[str] = deque()
        self.record: list[str] = []
        self.consumed = 0  # physical lines handed out so far

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._pending.popleft() if self._pending else next(self._source)
        self.consumed += 1
        self.record.append(line)
        return line

    def start_record(self) -> None:
        self.record = []

    def reread_after_first_line(self) -> None:
        rest = self.record[1:]
        self._pending.extendleft(reversed(rest))
        self.consumed -= len(rest)
        self.record = []


def _csv_records(path: Path, mapping: Mapping[str, str], optional: frozenset[str],
                 tracker: ReadTracker | None) -> Iterator[tuple[int, Any]]:
    """Yield (line, values | reason) per non-blank CSV data row; the header is checked first.

    Parsed strictly (RFC 4180): text after a closing quote makes the record bad (the rest of
    its line is dropped). A quote left open to the end of the file makes its first line one
    bad record, and the lines after it are read again as records.
    """
    binary = _open_binary(path, tracker)
    text = io.TextIOWrapper(binary, encoding="utf-8", errors="surrogateescape", newline="")
    with text:
        lines = _Lines(text)
        reader = csv.reader(lines, strict=True)
        try:
            header = next(reader, None)
        except (csv.Error, *_STREAM_ERRORS) as exc:
            raise ArchiveError(path, f"cannot read the CSV header (line 1): {exc}") from None
        if header is None:
            return
        if header and header[0].startswith("\ufeff"):
            header[0] = header[0][1:]
        header = [h.strip() for h in header]
        if any(_SURROGATE.search(h) for h in header):
            raise ArchiveError(path, "the CSV header (line 1) is not valid UTF-8")
        columns: dict[str, int] = {}
        for ours, theirs in mapping.items():
            if theirs in header:
                columns[ours] = header.index(theirs)
            elif ours not in optional:
                raise ArchiveError(
                    path, f"CSV header has no column {theirs!r} (mapped to {ours!r}); columns: {', '.join(header)}"
                )
        while True:
            line = lines.consumed + 1
            lines.start_record()
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if lines.consumed == line - 1:  # nothing read: the end of the file
                    return
                if "unexpected end of data" in str(exc):
                    yield line, "malformed CSV: a quoted field is never closed (no '\"' before the end of the file)"
                    lines.reread_after_first_line()
                    reader = csv.reader(lines, strict=True)
                else:
                    yield line, f"malformed CSV: {exc}"
                continue
            except _STREAM_ERRORS as exc:
                yield line, f"unreadable compressed stream ({type(exc).__name__}: {exc}); rest of file skipped"
                return
            if not row or (len(row) == 1 and not row[0].strip() and len(header) > 1):
                continue
            if len(row) != len(header):
                yield line, f"expected {len(header)} fields as in the header, got {len(row)}"
                continue
            values: dict[str, Any] = {}
            reason: str | None = None
            id_index = columns.get("id")
            record_id = row[id_index] if id_index is not None else None
            if not record_id or _SURROGATE.search(record_id):
                record_id = None
            for ours in mapping:
                index = columns.get(ours)
                value = row[index] if index is not None else ""
                if _SURROGATE.search(value):
                    reason = f"invalid UTF-8 in column {mapping[ours]!r}"
                    break
                if value == "":
                    if ours in optional:
                        values[ours] = None
                        continue
                    reason = f"missing value in column {mapping[ours]!r}" + (
                        f" (mapped to {ours!r})" if mapping[ours] != ours else ""
                    )
                    break
                values[ours] = value
            yield line, (reason, record_id) if reason is not None else values


def _batches(
    path: Path,
    records: Iterator[tuple[int, Any]],
    mapping: Mapping[str, str],
    optional: frozenset[str],
    batch_size: int,
    skip_records: int,
    integers: frozenset[str],
) -> Iterator[ArchiveBatch]:
    names = list(mapping)
    number = 0
    columns: dict[str, list[str | None]] = {name: [] for name in names}
    lines: list[int] = []
    ordinals: list[int] = []
    bad: list[BadRecord] = []
    first = skip_records
    for line, item in records:
        if number < skip_records:
            number += 1
            continue
        if isinstance(item, bytes):
            item = _parse_json_line(item, mapping, optional, integers)
        if isinstance(item, str):
            bad.append(BadRecord(str(path), line, item, number))
        elif isinstance(item, tuple):
            bad.append(BadRecord(str(path), line, item[0], number, item[1]))
        else:
            for name in names:
                columns[name].append(item[name])
            lines.append(line)
            ordinals.append(number)
        number += 1
        if number - first >= batch_size:
            yield _make_batch(names, columns, lines, ordinals, bad, first, number)
            columns = {name: [] for name in names}
            lines, ordinals, bad = [], [], []
            first = number
    if number > first:
        yield _make_batch(names, columns, lines, ordinals, bad, first, number)


def _make_batch(
    names: list[str],
    columns: dict[str, list[str | None]],
    lines: list[int],
    ordinals: list[int],
    bad: list[BadRecord],
    first: int,
    next_record: int,
) -> ArchiveBatch:
    arrays = [pa.array(columns[name], type=pa.string()) for name in names]
    arrays.append(pa.array(lines, type=pa.int64()))
    arrays.append(pa.array(ordinals, type=pa.int64()))
    batch = pa.RecordBatch.from_arrays(arrays, names=[*names, LINE_COLUMN, RECORD_COLUMN])
    return ArchiveBatch(batch, tuple(bad), first, next_record)


# ---------------------------------------------------------------------------------- Parquet


#: What pyarrow raises on a damaged Parquet file: its own errors, and from its Python layer
#: UnicodeDecodeError (a ValueError) on a mangled column name, IndexError/KeyError on bad
#: metadata.
_PARQUET_ERRORS = (OSError, pa.ArrowException, ValueError, IndexError, KeyError)


def _is_text_type(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_binary(kind)
                or pa.types.is_large_binary(kind))


def _hash_whole_file(path: Path, tracker: ReadTracker) -> None:
    try:
        with open(path, "rb") as f:
            tracker.stat = os.fstat(f.fileno())
            for chunk in iter(lambda: f.read(1 << 20), b""):
                tracker.update(chunk)
        tracker.eof = True
    except OSError as exc:
        raise ArchiveError(path, f"cannot open: {exc.strerror or exc}") from None


def _iter_parquet(
    path: Path, mapping: Mapping[str, str], batch_size: int, optional: frozenset[str], skip_records: int,
    integers: frozenset[str], tracker: ReadTracker | None,
) -> Iterator[ArchiveBatch]:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    _check_readable_kind(path, stream_ok=False)
    if tracker is not None:
        _hash_whole_file(path, tracker)
    try:
        parquet = pq.ParquetFile(path)
        schema = parquet.schema_arrow
        metadata = parquet.metadata
        row_counts = [metadata.row_group(g).num_rows for g in range(metadata.num_row_groups)]
    except _PARQUET_ERRORS as exc:
        raise ArchiveError(path, f"cannot open Parquet file: {type(exc).__name__}: {exc}") from None
    wanted: list[str] = []
    for ours, theirs in mapping.items():
        index = schema.get_field_index(theirs)
        if index < 0:
            if ours in optional:
                continue
            raise ArchiveError(path, f"Parquet schema has no column {theirs!r} (mapped to {ours!r}); columns: {', '.join(schema.names)}")
        kind = schema.field(index).type
        if pa.types.is_dictionary(kind):  # a categorical column: its values decide
            kind = kind.value_type
        if not (_is_text_type(kind) or (ours in integers and pa.types.is_integer(kind))):
            expected = "string or integer" if ours in integers else "string"
            raise ArchiveError(path, f"Parquet column {theirs!r} (mapped to {ours!r}) has type {kind}, "
                                     f"expected {expected}")
        if theirs not in wanted:
            wanted.append(theirs)

    group_starts: list[int] = []
    total = 0
    for count in row_counts:
        group_starts.append(total)
        total += count
    groups = [g for g, count in enumerate(row_counts) if group_starts[g] + count > skip_records]
    if not groups:
        return
    row = group_starts[groups[0]]
    to_drop = skip_records - row
    pending: pa.Table | None = None

    def chunks() -> Iterator[pa.RecordBatch]:
        try:
            yield from parquet.iter_batches(batch_size=batch_size, row_groups=groups, columns=wanted or None)
        except _PARQUET_ERRORS as exc:
            raise ArchiveError(path, f"cannot read Parquet data: {type(exc).__name__}: {exc}") from None

    # Re-chunk so every batch consumes exactly batch_size records after the resume point.
    for chunk in chunks():
        table = pa.Table.from_batches([chunk])
        if to_drop:
            dropped = min(to_drop, table.num_rows)
            table = table.slice(dropped)
            row += dropped
            to_drop -= dropped
        pending = table if pending is None else pa.concat_tables([pending, table])
        while pending is not None and pending.num_rows >= batch_size:
            head, pending = pending.slice(0, batch_size), pending.slice(batch_size)
            yield _parquet_batch(path, head, mapping, optional, row, pc)
            row += batch_size
    if pending is not None and pending.num_rows:
        yield _parquet_batch(path, pending, mapping, optional, row, pc)


def _parquet_column(table: pa.Table, name: str) -> tuple[list[str | None] | pa.Array, list[str | None]]:
    """A column as strings plus per-row problem (None when fine)."""
    column = table.column(name).combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    problems: list[str | None] = [None] * len(column)
    if pa.types.is_integer(column.type):  # an identifier column (checked against the schema)
        return column.cast(pa.string()), problems
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        try:
            column.validate(full=True)
            return column.cast(pa.string()), problems
        except pa.ArrowInvalid:
            column = column.view(pa.binary() if pa.types.is_string(column.type) else pa.large_binary())
    values: list[str | None] = []
    decoder = codecs.getdecoder("utf-8")
    for i, raw in enumerate(column.to_pylist()):
        if raw is None:
            values.append(None)
            continue
        try:
            values.append(decoder(raw)[0])
        except UnicodeDecodeError:
            values.append(None)
            problems[i] = f"invalid UTF-8 in column {name!r}"
    return values, problems


def _parquet_batch(
    path: Path, table: pa.Table, mapping: Mapping[str, str], optional: frozenset[str], first_row: int, pc: Any
) -> ArchiveBatch:
    n = table.num_rows
    reasons: list[str | None] = [None] * n
    out_columns: dict[str, pa.Array] = {}
    id_problems: list[str | None] = [None] * n
    for ours, theirs in mapping.items():
        if theirs not in table.column_names:
            out_columns[ours] = pa.nulls(n, type=pa.string())
            continue
        values, problems = _parquet_column(table, theirs)
        array = values if isinstance(values, pa.Array) else pa.array(values, type=pa.string())
        for i, problem in enumerate(problems):
            if problem and reasons[i] is None:
                reasons[i] = problem
        if ours == "id":
            id_problems = problems
        if ours not in optional and array.null_count:
            for i, is_null in enumerate(array.is_null().to_pylist()):
                if is_null and reasons[i] is None:
                    reasons[i] = f"missing value in column {theirs!r}" + (f" (mapped to {ours!r})" if theirs != ours else "")
        out_columns[ours] = array
    ordinals = pa.array(range(first_row, first_row + n), type=pa.int64())
    lines = pc.add(ordinals, 1)
    arrays = [*out_columns.values(), lines, ordinals]
    batch = pa.RecordBatch.from_arrays(arrays, names=[*out_columns, LINE_COLUMN, RECORD_COLUMN])
    bad: tuple[BadRecord, ...] = ()
    if any(reasons):
        ids = out_columns["id"].to_pylist() if "id" in out_columns else [None] * n
        bad = tuple(BadRecord(str(path), first_row + i + 1, r, first_row + i, None if id_problems[i] else ids[i])
                    for i, r in enumerate(reasons) if r)
    if bad:
        keep = pa.array([r is None for r in reasons])
        batch = batch.filter(keep)
    return ArchiveBatch(batch, bad, first_row, first_row + n)
