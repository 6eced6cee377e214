"""Output files that grow as the audit runs and can be cut back to a checkpoint.

Every writer appends, reports what it has *committed* (flushed and fsynced, recorded in the
checkpoint) and, on resume, drops whatever was written after that. JSONL files are truncated
to their committed byte size; Parquet findings are written as one closed part file per
checkpoint interval (a Parquet file cannot be cut at a byte offset) and merged at the end.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

from compliance.audit.verdicts import FINDING_COLUMNS, Verdict

#: Columns describing the record a finding belongs to.
RECORD_COLUMNS: tuple[str, ...] = ("archive", "line", "record", "id", "merchant", "recipient", "at", "channel")
FINDINGS_SCHEMA = pa.schema(
    [("archive", pa.string()), ("line", pa.int64()), ("record", pa.int64()), ("id", pa.string()),
     ("merchant", pa.string()), ("recipient", pa.string()), ("at", pa.string()), ("channel", pa.string()),
     ("rule", pa.string()), ("ref", pa.string()), ("category", pa.string()), ("severity", pa.string()),
     ("field", pa.string()), ("start", pa.int64()), ("end", pa.int64()), ("message", pa.string()),
     ("fix", pa.string())]
)
RecordMeta = tuple[str, int, int, "str | None", "str | None", "str | None", "str | None", str]


class AppendLog:
    """A JSONL file appended in batches, committed by byte size and row count."""

    def __init__(self, path: Path, committed: dict[str, int] | None) -> None:
        self.path = path
        if committed is None:
            self._file: IO[bytes] = open(path, "wb")
            self.rows = 0
        else:
            size = path.stat().st_size if path.exists() else -1
            if size < committed["bytes"]:
                from compliance.audit.checkpoint import ResumeRefused

                found = "is missing" if size < 0 else f"has {size} bytes"
                raise ResumeRefused(
                    f"{path} {found} but the checkpoint recorded {committed['bytes']} bytes written; it was "
                    "removed or cut short, so resuming would lose records"
                )
            self._file = open(path, "r+b")
            self._file.truncate(committed["bytes"])
            self._file.seek(committed["bytes"])
            self.rows = committed["rows"]
        self._pending: list[str] = []

    def append(self, line: str, rows: int = 1) -> None:
        """Queue text ending in a newline (``rows`` rows of it) for the next `flush`."""
        self._pending.append(line)
        self.rows += rows

    def flush(self) -> None:
        """Write what is queued (not yet durable; see `commit`)."""
        if self._pending:
            self._file.write("".join(self._pending).encode("utf-8"))
            self._pending.clear()
        self._file.flush()

    def commit(self) -> dict[str, int]:
        """Make everything written durable; the state to store in the checkpoint."""
        self.flush()
        os.fsync(self._file.fileno())
        return {"bytes": self._file.tell(), "rows": self.rows}

    def close(self) -> None:
        self.flush()
        self._file.close()


class JsonlFindings:
    """``findings.jsonl``: one JSON object per finding, record columns first."""

    name = "findings.jsonl"

    def __init__(self, out: Path, committed: dict[str, Any] | None) -> None:
        self.path = out / self.name
        self._log = AppendLog(self.path, committed)

    @property
    def rows(self) -> int:
        return self._log.rows

    def add(self, meta: RecordMeta, verdict: Verdict) -> None:
        """The findings of one record."""
        prefix = json.dumps(dict(zip(RECORD_COLUMNS, meta)), ensure_ascii=False)[:-1] + ", "
        self._log.append("".join(prefix + fragment + "\n" for fragment in verdict.fragments), len(verdict.fragments))

    def add_row(self, meta: RecordMeta, finding: tuple[Any, ...]) -> None:
        """One finding given as values in `FINDING_COLUMNS` order."""
        row = dict(zip(RECORD_COLUMNS, meta)) | dict(zip(FINDING_COLUMNS, finding))
        self._log.append(json.dumps(row, ensure_ascii=False) + "\n")

    def flush(self) -> None:
        self._log.flush()

    def commit(self) -> dict[str, Any]:
        return self._log.commit()

    def finish(self) -> Path:
        self._log.close()
        return self.path

    def close(self) -> None:
        self._log.close()


class ParquetFindings:
    """``findings.parquet``, written as parts (one per checkpoint interval) and merged at the end."""

    name = "findings.parquet"

    def __init__(self, out: Path, committed: dict[str, Any] | None) -> None:
        import pyarrow.parquet as pq

        self._pq = pq
        self.path = out / self.name
        self.parts_dir = out / "findings.parts"
        self.parts: list[dict[str, Any]] = list((committed or {}).get("parts", []))
        keep = {p["name"] for p in self.parts}
        if committed is None and self.parts_dir.exists():
            shutil.rmtree(self.parts_dir)
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.parts_dir.iterdir():
            if stale.name not in keep:
                stale.unlink()
        self.rows = sum(p["rows"] for p in self.parts)
        self._columns: list[list[Any]] = [[] for _ in FINDINGS_SCHEMA.names]
        self._writer: Any = None
        self._part_rows = 0

    def add(self, meta: RecordMeta, verdict: Verdict) -> None:
        for finding in verdict.findings:
            self.add_row(meta, finding)

    def add_row(self, meta: RecordMeta, finding: tuple[Any, ...]) -> None:
        for column, value in zip(self._columns, (*meta, *finding)):
            column.append(value)
        self.rows += 1

    def flush(self) -> None:
        if not self._columns[0]:
            return
        batch = pa.RecordBatch.from_arrays(
            [pa.array(c, type=f.type) for c, f in zip(self._columns, FINDINGS_SCHEMA)], schema=FINDINGS_SCHEMA
        )
        if self._writer is None:
            name = f"part-{len(self.parts):06d}.parquet"
            self._writer = self._pq.ParquetWriter(self.parts_dir / name, FINDINGS_SCHEMA)
            self._writer_name = name
        self._writer.write_batch(batch)
        self._part_rows += batch.num_rows
        self._columns = [[] for _ in FINDINGS_SCHEMA.names]

    def commit(self) -> dict[str, Any]:
        self.flush()
        if self._writer is not None:
            self._writer.close()
            with open(self.parts_dir / self._writer_name, "rb") as f:
                os.fsync(f.fileno())
            self.parts.append({"name": self._writer_name, "rows": self._part_rows})
            self._writer = None
            self._part_rows = 0
        return {"parts": list(self.parts), "rows": self.rows}

    def finish(self) -> Path:
        """Merge the parts into one file (streaming, one row group per part) and remove them.

        The merged file replaces ``findings.parquet`` atomically before any part is removed,
        so a run killed at any point of this finishes on resume: parts all there → merged
        again; some parts gone → the merged file is already complete (checked by row count).
        """
        self.commit()
        if not all((self.parts_dir / part["name"]).is_file() for part in self.parts):
            if not self._merged_complete():
                from compliance.audit.checkpoint import ResumeRefused

                raise ResumeRefused(
                    f"committed findings parts are missing from {self.parts_dir} and {self.path} does not "
                    f"hold the {self.rows} findings"
                )
        else:
            tmp = self.path.with_name(self.path.name + ".tmp")
            with self._pq.ParquetWriter(tmp, FINDINGS_SCHEMA) as writer:
                for part in self.parts:
                    for batch in self._pq.ParquetFile(self.parts_dir / part["name"]).iter_batches():
                        writer.write_batch(batch)
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        shutil.rmtree(self.parts_dir, ignore_errors=True)
        return self.path

    def _merged_complete(self) -> bool:
        try:
            return bool(self._pq.ParquetFile(self.path).metadata.num_rows == self.rows)
        except Exception:  # noqa: BLE001 - missing or unreadable: not complete
            return False

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def open_findings(fmt: str, out: Path, committed: dict[str, Any] | None) -> JsonlFindings | ParquetFindings:
    """The findings writer for a format, cut back to ``committed`` (None: start empty)."""
    if fmt == "parquet":
        return ParquetFindings(out, committed)
    return JsonlFindings(out, committed)


class BadRecordLog:
    """``bad_records.jsonl``: every record that could not be audited, with file, line, record
    number, id (text, or null when the record has none or it could not be read) and reason."""

    name = "bad_records.jsonl"

    def __init__(self, out: Path, committed: dict[str, int] | None) -> None:
        self.path = out / self.name
        self._log = AppendLog(self.path, committed)

    @property
    def rows(self) -> int:
        return self._log.rows

    def add(self, archive: str, line: int, record: int, reason: str, record_id: str | None = None) -> None:
        """One bad record: where it is, its id as text when that could be read, and why."""
        row = {"archive": archive, "line": line, "record": record, "id": record_id, "reason": reason}
        self._log.append(json.dumps(row, ensure_ascii=False) + "\n")

    def flush(self) -> None:
        self._log.flush()

    def commit(self) -> dict[str, int]:
        return self._log.commit()

    def close(self) -> None:
        self._log.close()
