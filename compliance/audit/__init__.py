"""Batch audit of message archives: lint every record, tally, report, resume.

    >>> from compliance.audit import AuditOptions, run_audit
    >>> result = run_audit(AuditOptions(archives=[Path("may.jsonl")], out=Path("audit-out"), channel="jd.sms"))
    >>> result.exit_code, result.summary["findings"]

`run_audit` streams each archive with `compliance.io.archives.iter_archive`, lints the
records on every core with a verdict cache, writes ``findings.jsonl`` (or Parquet),
``bad_records.jsonl``, ``summary.json`` and a self-contained ``report.html`` into the output
directory, and checkpoints so an interrupted run can be resumed (``resume=True``).

Record ids (and merchants, recipients) may be strings or integers and are written as text.
More bad records than ``max_bad_records`` (default 0) make the exit code 2. A resume is
refused (`ResumeRefused`) when an archive is not the one the checkpoint read — its size,
modification time or the SHA-256 of the part already read differ — unless ``restart=True``.

Names are imported on first use so that ``compliance.audit.command`` (imported whenever the
CLI builds its parser) stays light.
"""

from __future__ import annotations

from typing import Any

__all__ = ["AuditOptions", "AuditOutputError", "AuditResult", "AuditUsageError", "BadRecordLimit", "FieldMap",
           "ResumeRefused", "run_audit"]

_HOMES = {"AuditOptions": "options", "AuditUsageError": "options", "AuditOutputError": "options",
          "FieldMap": "options", "BadRecordLimit": "options", "ResumeRefused": "checkpoint",
          "AuditResult": "runner", "run_audit": "runner"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'compliance.audit' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"compliance.audit.{home}"), name)
