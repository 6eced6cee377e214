"""`compliance replay ARCHIVE…`: replay archived sends through the frequency rules.

Reads sends (channel, message_class, merchant, recipient, at, optional id) from JSONL, CSV or
Parquet archives, streams them in time order through the caps of the built-in (and user)
packs, and reports every send that broke a cap with the earlier sends it collided with.
Memory is bounded by the active windows, not by the archive (see `Ledger.replay`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SEND_FIELDS = ("channel", "message_class", "merchant", "recipient", "at")


def register(subparsers: Any) -> None:
    """Add the `replay` subcommand to the `compliance` command line."""
    p = subparsers.add_parser(
        "replay", help="Replay archived sends through the frequency rules; report every broken cap.",
        description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("archives", nargs="+", metavar="ARCHIVE", help=".jsonl/.csv (optionally .gz) or .parquet")
    p.add_argument("--field", action="append", default=[], metavar="OURS=THEIRS",
                   help="map a send field to the archive's column, e.g. recipient=phone (repeatable)")
    p.add_argument("--channel", help="channel for records without a channel column")
    p.add_argument("--sorted", action="store_true", help="the archive is already in time order (no sort)")
    p.add_argument("--format", choices=("text", "jsonl"), default="text")
    p.add_argument("--rules", action="append", metavar="PATH", help="extra rule file or directory")
    p.add_argument("--limit", type=int, default=0, metavar="N", help="print at most N violations (0: all)")
    p.add_argument("--max-earlier", type=int, default=None, metavar="N",
                   help="earlier sends listed per violation, oldest first (default 50; the count is exact)")
    p.set_defaults(func=run)


def _mapping(pairs: list[str], channel_given: bool) -> dict[str, str]:
    from compliance.errors import ComplianceError

    mapping = {name: name for name in SEND_FIELDS if not (name == "channel" and channel_given)}
    mapping["id"] = "id"
    for pair in pairs:
        ours, sep, theirs = pair.partition("=")
        if not sep or ours not in mapping and ours not in ("channel", "id"):
            raise ComplianceError(f"--field {pair!r}: expected OURS=THEIRS with OURS one of "
                                  f"{', '.join(SEND_FIELDS + ('id',))}")
        mapping[ours] = theirs
    return mapping


def iter_sends(paths: list[Path], mapping: dict[str, str], channel: str | None,
               bad: Counter[str]) -> Iterator[Any]:
    """Sends from the archives; bad records are printed to stderr and counted, never fatal."""
    from compliance.frequency import Send
    from compliance.frequency.send import SendError
    from compliance.io.archives import iter_archive

    for path in paths:
        for batch in iter_archive(path, fields=mapping, optional=("id",)):
            for record in batch.bad:
                bad[str(path)] += 1
                print(f"{record.path}:{record.line}: bad record: {record.reason}", file=sys.stderr)
            columns = batch.records.to_pydict()
            for i in range(batch.records.num_rows):
                row = {name: columns[name][i] for name in mapping if name in columns}
                if channel is not None:
                    row["channel"] = channel
                try:
                    yield Send.from_mapping(row)
                except (SendError, ValueError) as exc:
                    bad[str(path)] += 1
                    print(f"{path}:{columns['__line__'][i]}: bad send: {exc}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Replay; exit 0 when no cap was broken, 1 when some were, 2 on input errors."""
    from compliance.engine import Engine

    from compliance.frequency.decision import check_template
    from compliance.frequency.plan import Planner
    from compliance.frequency.replay import DEFAULT_MAX_EARLIER, replay

    engine = Engine(args.rules or ())
    mapping = _mapping(args.field, args.channel is not None)
    paths = [Path(p) for p in args.archives]
    for path in paths:
        if not path.exists():
            print(f"error: no such archive: {path}", file=sys.stderr)
            return 2
    max_earlier = DEFAULT_MAX_EARLIER if args.max_earlier is None else args.max_earlier
    if max_earlier < 0:
        print("error: --max-earlier must be >= 0", file=sys.stderr)
        return 2
    bad: Counter[str] = Counter()
    by_rule: Counter[str] = Counter()
    sends = iter_sends(paths, mapping, args.channel, bad)
    printed = 0
    caps = engine.caps()
    for cap in caps:
        check_template(cap)  # as `Ledger.open` does: a broken message fails now, not at the first violation
    # The same window logic as `Ledger.replay` and `compliance.spark.replay` (`judge`).
    for violation in replay(Planner(caps), sends, assume_sorted=args.sorted, max_earlier=max_earlier):
        by_rule[f"{violation.rule} ({violation.ref})"] += 1
        if args.limit and printed >= args.limit:
            continue
        printed += 1
        send = violation.send
        if args.format == "jsonl":
            print(json.dumps(violation.to_record(), ensure_ascii=False))
        else:
            more = violation.count - len(violation.earlier)
            print(f"{send.at.isoformat(timespec='minutes')} {send.recipient} {send.merchant} "
                  f"{send.message_class}: {violation.rule} ({violation.ref}) {violation.finding.message}"
                  f" — earlier: {', '.join(violation.earlier)}" + (f" (+{more} more)" if more > 0 else ""))
    total = sum(by_rule.values())
    summary = ", ".join(f"{name}: {count}" for name, count in by_rule.most_common())
    print(f"{total} send(s) broke a cap" + (f" ({summary})" if summary else "") +
          (f"; {sum(bad.values())} bad record(s)" if bad else ""), file=sys.stderr)
    return 1 if total else 0
