"""Progress of a run: a rich bar with rate and ETA on a terminal, plain lines or nothing otherwise."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import IO, Any

from compliance.io.archives import archive_format

_PLAIN_EVERY = 10.0


def estimate_records(paths: list[Path]) -> int | None:
    """Roughly how many records the archives hold (None when unknown, e.g. compressed files).

    Counts newlines of uncompressed JSONL/CSV (fast, no parsing) and reads Parquet metadata;
    an estimate only feeds the ETA.
    """
    total = 0
    for path in paths:
        try:
            kind = archive_format(path)
        except ValueError:
            return None
        if kind == "parquet":
            import pyarrow.parquet as pq

            try:
                total += pq.ParquetFile(path).metadata.num_rows
            except Exception:  # noqa: BLE001 - the run itself reports unreadable files
                return None
            continue
        if path.name.lower().endswith(".gz"):
            return None
        try:
            with open(path, "rb") as f:
                lines = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
        except OSError:
            return None
        total += max(lines - (1 if kind == "csv" else 0), 0)
    return total


class ProgressDisplay:
    """Shows records done, rate and ETA.

    Modes: ``"bar"`` (rich progress bar on stderr), ``"plain"`` (a line every 10 s),
    ``"none"``; ``"auto"`` picks ``bar`` when stderr is a terminal and ``none`` otherwise.
    """

    def __init__(self, mode: str, archives: list[Path], stream: IO[str] | None = None, done: int = 0) -> None:
        self.stream = stream or sys.stderr
        if mode == "auto":
            mode = "bar" if self.stream.isatty() else "none"
        self.mode = mode
        self.records = done
        self.findings = 0
        self._started = time.monotonic()
        self._start_records = done
        self._last_line = self._started
        self._bar: Any = None
        if mode == "bar":
            self._open_bar(estimate_records(archives), done)

    def _open_bar(self, total: int | None, done: int) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)
        from rich.text import Text

        class RateColumn(ProgressColumn):
            def render(self, task: Any) -> Text:
                speed = task.finished_speed or task.speed
                return Text(f"{speed:,.0f} rec/s" if speed else "– rec/s")

        self._bar = Progress(TextColumn("audit"), BarColumn(), MofNCompleteColumn(), RateColumn(),
                             TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                             TextColumn("{task.fields[findings]:,} findings"),
                             console=Console(file=self.stream), transient=False)
        self._bar.start()
        self._task = self._bar.add_task("audit", total=total, completed=done, findings=0)

    def advance(self, records: int, findings: int) -> None:
        """Count a finished batch."""
        self.records += records
        self.findings += findings
        if self._bar is not None:
            self._bar.update(self._task, advance=records, findings=self.findings)
        elif self.mode == "plain":
            now = time.monotonic()
            if now - self._last_line >= _PLAIN_EVERY:
                self._last_line = now
                rate = (self.records - self._start_records) / max(now - self._started, 1e-9)
                print(f"audit: {self.records:,} records, {self.findings:,} findings, {rate:,.0f} records/s",
                      file=self.stream, flush=True)

    def close(self) -> None:
        """Finish the bar."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

