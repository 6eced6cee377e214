"""Frequency caps over the archive: replay every send through ``engine.ledger(url)``.

The engine is to offer ``ledger(url)`` with the caps of its rules; until it does, asking for
``--ledger`` is a usage error that says so (rather than replaying against no caps at all).
The replay is a second, metadata-only pass over the archives after linting; its violations
are appended to the findings (category ``frequency``).
"""

from __future__ import annotations

import datetime as dt
from array import array
from pathlib import Path
from typing import IO, Any

from compliance.audit.options import AuditOptions, AuditUsageError
from compliance.audit.tally import Tally
from compliance.io.archives import LINE_COLUMN, RECORD_COLUMN, ArchiveError, iter_archive

SEND_FIELDS: tuple[str, ...] = ("id", "channel", "message_class", "merchant", "recipient", "at")


def check_ledger_support(engine: Any, url: str) -> None:
    """Raise `AuditUsageError` unless ``engine.ledger`` exists and the ledger at ``url`` opens
    and answers (`Ledger.ping`): checked before the audit starts, so a URL that names no store,
    a Redis that cannot be reached or a SQLite file that cannot be opened stops the run before
    anything is linted or written, with the reason."""
    from compliance.frequency.errors import LedgerError

    if not callable(getattr(engine, "ledger", None)):
        raise AuditUsageError(
            f"--ledger {url}: this version of compliance.Engine has no ledger(url) yet, so the "
            "frequency caps of the rules cannot be replayed; run the audit without --ledger"
        )
    try:
        ledger = engine.ledger(url)
    except LedgerError as exc:
        raise AuditUsageError(f"--ledger: {exc}") from None
    try:
        ping = getattr(ledger, "ping", None)
        if ping is not None:
            ping()
    except LedgerError as exc:
        raise AuditUsageError(f"--ledger: {exc}") from None
    finally:
        close = getattr(ledger, "close", None)
        if close is not None:
            close()


def replay_caps(engine: Any, options: AuditOptions, tally: Tally, findings: Any, stream: IO[str]) -> None:
    """Replay every good record with merchant, recipient and at as a send; record violations."""
    from compliance.frequency import Send

    mapping = {name: options.fields.mapping[name] for name in SEND_FIELDS}
    archive_of, line_of, record_of = array("i"), array("q"), array("q")
    names = [str(a) for a in options.archives]
    skipped = 0

    def sends() -> Any:
        nonlocal skipped
        for index, path in enumerate(options.archives):
            try:
                for batch in iter_archive(Path(path), fields=mapping, batch_size=options.batch_size,
                                          optional=frozenset(SEND_FIELDS)):
                    columns = batch.records.to_pydict()
                    for i in range(batch.records.num_rows):
                        channel = columns["channel"][i] or options.channel
                        message_class = columns["message_class"][i] or options.message_class
                        merchant, recipient, at = columns["merchant"][i], columns["recipient"][i], columns["at"][i]
                        if not (channel and message_class and merchant and recipient and at):
                            skipped += 1
                            continue
                        try:
                            moment = dt.datetime.fromisoformat(at)
                        except ValueError:
                            skipped += 1
                            continue
                        archive_of.append(index)
                        line_of.append(columns[LINE_COLUMN][i])
                        record_of.append(columns[RECORD_COLUMN][i])
                        yield Send(channel, message_class, merchant, recipient, moment, columns["id"][i])
            except ArchiveError:
                continue  # already reported by the lint pass

    ledger = engine.ledger(options.ledger)
    try:
        for violation in ledger.replay(sends()):
            send, position, finding = violation.send, violation.position, violation.finding
            index = archive_of[position]
            meta = (names[index], line_of[position], record_of[position], send.id, send.merchant, send.recipient,
                    send.at.isoformat(), send.channel)
            findings.add_row(meta, (finding.rule, finding.ref, finding.category, finding.severity, None, None,
                                    None, finding.message, None))
            tally.add_frequency(index, send.merchant, send.at.isoformat(), finding.category, finding.rule,
                                finding.severity)
    finally:
        close = getattr(ledger, "close", None)
        if close is not None:
            close()
    if skipped:
        print(f"audit: {skipped:,} record(s) lack channel, message class, merchant, recipient or a valid "
              "'at' and were not replayed against the frequency caps", file=stream)
