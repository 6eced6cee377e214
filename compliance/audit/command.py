"""``compliance audit ARCHIVE…``: the batch auditor on the command line.

`register(subparsers)` adds the subcommand (called by ``compliance.cli``). Exit codes as the
rest of the CLI: 0 no finding at/above ``--fail-on``, 1 some, 2 usage or input errors — an
archive that cannot be read, more bad records than ``--max-bad-records``, a checkpoint that
cannot be resumed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from compliance.argtypes import positive_int
from compliance.audit.options import (
    FINDINGS_FORMATS,
    THRESHOLDS,
    AuditOptions,
    AuditUsageError,
    BadRecordLimit,
    FieldMap,
)

EXIT_ERROR = 2


def _bad_limit(text: str) -> str:
    try:
        BadRecordLimit.parse(text)
    except AuditUsageError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("max-bad-records: ")) from None
    return text


EPILOG = """\
record ids:
  id, merchant and recipient may be strings or integers (JSON integers, integer Parquet
  columns; every CSV cell is text) and are written as text: {"id": 0} gives "id": "0".
  Other fields are strings. A value of another type (1.5, true, an object) makes the record
  bad, a Parquet column of another type makes the archive unreadable (exit 2).

bad records:
  Each goes to DIR/bad_records.jsonl with its line, record number, id and reason. More bad
  records than --max-bad-records N|P% (default 0: any bad record) fail the audit: exit 2,
  after every output is written.

resuming (the checkpoint records each archive's size, modification time and the SHA-256 of
the bytes already read):
  (neither)           start a fresh audit; refused if DIR holds an interrupted one
  --resume            continue the audit in DIR; refused (exit 2, with the reason) if there
                      is no checkpoint, or an archive changed, or the options differ
  --restart           discard any checkpoint and outputs in DIR and start over
  --resume --restart  resume if the checkpoint can be trusted, else say why and start over
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The audit options (shared by `register` and ``python -m compliance.audit``)."""
    p.add_argument("archives", nargs="+", metavar="ARCHIVE", type=Path,
                   help="JSONL/NDJSON, CSV or Parquet archive (.gz allowed for JSONL/CSV)")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="output directory")
    p.add_argument("--field", action="append", default=[], metavar="NAME=KEY",
                   help="map a field to the archive's key/column (repeatable): text (whole message) or "
                        "signature/body/optout/title/url; id, merchant, recipient, at, channel, message_class. "
                        "Default text=text; the send fields map to same-named keys when present")
    p.add_argument("--channel", help="channel for records without a channel field (e.g. jd.sms)")
    p.add_argument("--jobs", type=positive_int, default=os.cpu_count() or 1,
                   help="worker processes (default: all cores)")
    p.add_argument("--batch-size", type=positive_int, default=2_000, help="records per batch (default 2000)")
    p.add_argument("--checkpoint-every", type=positive_int, default=50_000, metavar="N",
                   help="records between checkpoints (default 50000)")
    p.add_argument("--cache-size", type=positive_int, default=100_000,
                   help="distinct texts whose verdicts are kept (default 100000)")
    p.add_argument("--findings-format", choices=FINDINGS_FORMATS, default="jsonl")
    p.add_argument("--fail-on", choices=THRESHOLDS, default="error",
                   help="lowest severity that makes the exit code 1 (default error)")
    p.add_argument("--max-bad-records", type=_bad_limit, default="0", metavar="N|P%",
                   help="bad records allowed before the audit fails with exit 2: a count or a percentage of the "
                        "records read (default 0: any bad record fails it)")
    p.add_argument("--resume", action="store_true",
                   help="continue the interrupted audit in DIR/checkpoint.json; refused if there is none or an "
                        "archive changed since it was read (see below)")
    p.add_argument("--restart", action="store_true",
                   help="discard any checkpoint in DIR and start over; with --resume: resume when the checkpoint "
                        "can be trusted, else start over")
    p.add_argument("--ledger", metavar="URL", help="also replay frequency caps (memory://, sqlite:///…, redis://…)")
    p.add_argument("--message-class", help="message class for sends without a message_class field (--ledger)")
    p.add_argument("--progress", choices=("auto", "bar", "plain", "none"), default="auto",
                   help="progress display (auto: a bar on a terminal, nothing otherwise)")
    p.add_argument("--worst", type=positive_int, default=20, help="worst texts shown in the report (default 20)")
    p.add_argument("--rules", action="append", metavar="PATH", type=Path, default=[],
                   help="extra rule file or directory (repeatable)")
    p.add_argument("--no-cache", action="store_true", help="do not use the compiled-pack cache")


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``audit`` subcommand to an argparse subparsers object."""
    description = "Audit message archives: lint every record, write findings, a summary and an HTML report."
    p = subparsers.add_parser("audit", help=description, description=description, epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    p.set_defaults(func=cmd_audit)
    return p


def options_from(args: argparse.Namespace) -> AuditOptions:
    """`AuditOptions` from parsed arguments (raises `AuditUsageError`)."""
    return AuditOptions(
        archives=list(args.archives), out=args.out, fields=FieldMap.parse(args.field), channel=args.channel,
        jobs=args.jobs, batch_size=args.batch_size, checkpoint_every=args.checkpoint_every,
        cache_size=args.cache_size, findings_format=args.findings_format, fail_on=args.fail_on,
        max_bad_records=args.max_bad_records, resume=args.resume, restart=args.restart, ledger=args.ledger, message_class=args.message_class, rules=list(args.rules),
        use_cache=not args.no_cache, progress=args.progress, worst=args.worst,
    )


def timing(summary: dict[str, Any]) -> str:
    """Time and rate of the run; after a resume, this run's and the whole audit's apart."""
    run = summary["this_run"]
    line = f"{run['elapsed_seconds']:.1f} s, {run['throughput_records_per_second'] or 0:,.0f} records/s"
    if not summary["resumed"]:
        return line
    return (f"resumed: this run {run['records_read']:,} record(s) in {line}; all runs "
            f"{summary['elapsed_seconds']:.1f} s, {summary['throughput_records_per_second'] or 0:,.0f} records/s")


def cmd_audit(args: argparse.Namespace) -> int:
    """Run the audit; print where the outputs are and the headline counts."""
    from compliance.audit.runner import run_audit

    from compliance.errors import ComplianceError

    try:
        options = options_from(args)
        result = run_audit(options)
    except AuditUsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except ComplianceError as exc:  # outputs not writable, ledger store failing, rules not loading
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    s = result.summary
    print(f"audited {s['records']:,} record(s) ({s['bad_records']:,} bad) from {len(s['archives'])} archive(s): "
          f"{s['findings']:,} finding(s); cache hit rate {s['cache']['hit_rate']:.1%}; {timing(s)}")
    print(f"outputs in {result.out}: {s['outputs']['findings']}, summary.json, report.html, bad_records.jsonl")
    return result.exit_code
