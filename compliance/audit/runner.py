"""The audit run: stream archives in batches, lint distinct texts on every core, write, tally,
checkpoint; then replay frequency caps (optional) and write the summary and the report.

Pipeline (the parent process does the reading, the cache and the writing; workers lint):

    iter_archive ──batch──▶ cache lookup ──distinct misses──▶ worker pool
                                 │                                 │
                                 └──────── in input order ◀────────┘
                                              │
                           findings / bad records / tallies ──▶ checkpoint every N records

Batches are finalised strictly in input order, so the outputs do not depend on ``jobs``. A
key missed by one batch and wanted again by a later batch still in flight is linted once:
the later batch waits for the earlier batch's result (counted as a hit).

Starting, resuming, restarting (``resume`` / ``restart`` of `AuditOptions`):

=====================  ===================  ======================  ==========================
options                no checkpoint        usable checkpoint       unusable checkpoint
=====================  ===================  ======================  ==========================
neither                fresh run            fresh run if it had     refused, unless the audit
                                            finished, else refused  it records had finished
``resume``             refused              resumed                 refused, with the reason
``restart``            fresh run            fresh run               fresh run
``resume`` and         fresh run (said so)  resumed                 fresh run (said why)
``restart``
=====================  ===================  ======================  ==========================

A checkpoint is unusable when it cannot be read, has another version, was made with other
options, its outputs were cut short, or an archive changed since it was read
(`compliance.audit.identity.ArchiveIdentity.differences`).
"""

from __future__ import annotations

import sys
import time
from collections import Counter, deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from compliance.audit.cache import VerdictCache
from compliance.audit.checkpoint import Checkpoint, ResumeRefused
from compliance.audit.identity import ArchiveIdentity
from compliance.audit.options import PART_FIELDS, AuditOptions, AuditOutputError, AuditUsageError
from compliance.audit.outputs import BadRecordLog, open_findings
from compliance.audit.progress import ProgressDisplay
from compliance.audit.summary import build_summary, write_summary
from compliance.audit.tally import Tally
from compliance.audit.verdicts import LintFailure, Verdict
from compliance.audit.workers import LintExecutor, Message
from compliance.io.archives import (
    LINE_COLUMN,
    RECORD_COLUMN,
    ArchiveBatch,
    ArchiveError,
    ReadTracker,
    archive_format,
    iter_archive,
)

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


@dataclass
class AuditResult:
    """What a run produced.

    Attributes:
        summary: the contents of ``summary.json``.
        exit_code: 0 no finding at/above the threshold, 1 some, 2 an archive could not be read
            or more records were bad than ``max_bad_records`` allows (whatever the findings).
        out: the output directory.
    """

    summary: dict[str, Any]
    exit_code: int
    out: Path


@dataclass
class _InFlight:
    """A batch between lookup and output."""

    archive_index: int
    batch: ArchiveBatch
    columns: dict[str, list[Any]]
    keys: list[Hashable | None]
    resolved: dict[Hashable, Verdict | LintFailure] = field(default_factory=dict)
    job_keys: list[Hashable] = field(default_factory=list)
    job: Any = None


class _Run:
    """One audit run (see the module docstring)."""

    def __init__(self, options: AuditOptions, engine: Any, stream: IO[str]) -> None:
        self.options = options
        self.engine = engine
        self.stream = stream
        self.archives = [Path(a) for a in options.archives]
        self.names = [str(a) for a in self.archives]
        self.fields = options.fields
        self.whole = self.fields.whole_text
        self.parts = self.fields.parts
        self.cache = VerdictCache(options.cache_size)
        self.waiting: dict[Hashable, list[_InFlight]] = {}
        self.since_checkpoint = 0
        self.trackers: list[ReadTracker | None] = [None] * len(self.archives)
        self.started = time.monotonic()
        self.this_run_elapsed = 0.0

    # ------------------------------------------------------------------------ set-up

    def note(self, text: str) -> None:
        print(f"audit: {text}", file=self.stream, flush=True)

    def prepare(self) -> None:
        """Resume the checkpoint or start over (see the table in the module docstring), cut
        the outputs back to the checkpoint, open writers."""
        options = self.options
        out = options.out
        out.mkdir(parents=True, exist_ok=True)
        self.started = time.monotonic()
        resumed = False
        if options.resume:
            try:
                resumed = self.resume_checkpoint()
            except ResumeRefused as exc:
                if not options.restart:
                    raise
                self.note(f"cannot resume: {exc.reason}; starting over (--restart)")
            else:
                if not resumed and not options.restart:
                    raise AuditUsageError(
                        f"--resume: {out} holds no checkpoint, so there is no audit to resume; run without "
                        "--resume to start one (or with --resume --restart: resume when there is a checkpoint, "
                        "else start over)")
                if not resumed:
                    self.note(f"no checkpoint in {out}: starting a fresh audit (--restart)")
        elif not options.restart:
            interrupted = Checkpoint.interrupted(out)
            if interrupted is not None:
                raise AuditUsageError(
                    f"{out} holds {interrupted}; add --resume to continue it, or --restart to discard it and "
                    "start over")
        self.resumed = resumed
        if not resumed:
            self.start_fresh()

    def resume_checkpoint(self) -> bool:
        """Take up the checkpoint in ``out`` if there is one (False when there is none).

        Raises `ResumeRefused` when it cannot be trusted; nothing is written then, but the
        outputs may have been cut back to what the checkpoint committed.
        """
        options, out = self.options, self.options.out
        previous = Checkpoint.load(out)
        if previous is None:
            return False
        fingerprint = options.fingerprint()
        if previous.fingerprint != fingerprint:
            changed = sorted(k for k in fingerprint if fingerprint[k] != previous.fingerprint.get(k))
            raise ResumeRefused(f"{out / 'checkpoint.json'} was made with other {', '.join(changed)}")
        for path, state in zip(self.archives, previous.archives):
            if state is None:
                continue
            try:
                identity = ArchiveIdentity.from_state(state)
            except (KeyError, TypeError, ValueError) as exc:
                raise ResumeRefused(f"{out / 'checkpoint.json'} is unreadable ({type(exc).__name__}: {exc})") from None
            problem = identity.differences(path)
            if problem is not None:
                raise ResumeRefused(f"{path} changed since the checkpoint: {problem}. The records already "
                                    "audited may not be the ones it holds now")
        count = len(self.archives)
        try:
            tally = Tally.from_state(previous.tally, count, options.fail_on, options.worst)
        except (KeyError, TypeError, ValueError) as exc:
            raise ResumeRefused(f"{out / 'checkpoint.json'} is unreadable ({type(exc).__name__}: {exc})") from None
        outputs = previous.outputs
        self.findings = open_findings(options.findings_format, out, outputs.get("findings"))
        self.bad_log = BadRecordLog(out, outputs.get("bad_records"))
        self.checkpoint, self.tally = previous, tally
        return True

    def start_fresh(self) -> None:
        """Remove any earlier checkpoint and outputs; open empty writers."""
        options, out = self.options, self.options.out
        for stale in ("checkpoint.json", "summary.json", "report.html", "findings.jsonl", "findings.parquet"):
            (out / stale).unlink(missing_ok=True)
        count = len(self.archives)
        self.checkpoint = Checkpoint(options.fingerprint(), [0] * count, [False] * count, [None] * count)
        self.tally = Tally(count, options.fail_on, options.worst)
        self.findings = open_findings(options.findings_format, out, None)
        self.bad_log = BadRecordLog(out, None)

    def save_checkpoint(self, phase: str | None = None) -> None:
        """Commit the outputs, then record them, what was read of each archive and the tallies
        in the checkpoint."""
        self.checkpoint.outputs = {"findings": self.findings.commit(), "bad_records": self.bad_log.commit()}
        for index, tracker in enumerate(self.trackers):
            if tracker is not None:
                identity = ArchiveIdentity.of(tracker)
                if identity is not None:
                    self.checkpoint.archives[index] = identity.to_state()
        self.tally.lookups, self.tally.hits = self.base_lookups + self.cache.lookups, self.base_hits + self.cache.hits
        self.this_run_elapsed = time.monotonic() - self.started
        self.tally.elapsed = self.base_elapsed + self.this_run_elapsed
        self.checkpoint.tally = self.tally.to_state()
        if phase is not None:
            self.checkpoint.phase = phase
        self.checkpoint.save(self.options.out)
        self.since_checkpoint = 0

    # ------------------------------------------------------------------------ running

    def run(self, executor: LintExecutor) -> None:
        self.base_lookups, self.base_hits, self.base_elapsed = self.tally.lookups, self.tally.hits, self.tally.elapsed
        self.executor = executor
        done_records = sum(self.tally.records) + sum(self.tally.bad)
        self.records_before = done_records
        todo = [a for a, finished in zip(self.archives, self.checkpoint.done) if not finished]
        self.progress = ProgressDisplay(self.options.progress, todo, self.stream, done=done_records)
        try:
            if self.checkpoint.phase == "lint":
                self.lint_archives()
                self.save_checkpoint("ledger" if self.options.ledger else "complete")
            if self.checkpoint.phase == "ledger":
                from compliance.audit.frequency import replay_caps

                replay_caps(self.engine, self.options, self.tally, self.findings, self.stream)
                self.save_checkpoint("complete")
        finally:
            self.progress.close()

    def lint_archives(self) -> None:
        in_flight: deque[_InFlight | tuple[int, int]] = deque()
        depth = self.executor.depth
        for index, path in enumerate(self.archives):
            if self.checkpoint.done[index]:
                continue
            try:
                archive_format(path)
                tracker = self.trackers[index] = ReadTracker()
                batches = iter_archive(path, fields=self.fields.mapping, batch_size=self.options.batch_size,
                                       optional=self.fields.optional, skip_records=self.checkpoint.positions[index],
                                       tracker=tracker)
                for batch in batches:
                    in_flight.append(self.submit(index, batch))
                    while len(in_flight) > depth:
                        self.finish(in_flight.popleft())
            except (ArchiveError, OSError) as exc:
                while in_flight:
                    self.finish(in_flight.popleft())
                reason = exc.reason if isinstance(exc, ArchiveError) else str(exc)
                self.tally.archive_errors.append({"archive": str(path), "error": reason})
                print(f"error: {path}: {reason}", file=self.stream)
            # The archive's end travels through the queue so it is marked done in order.
            in_flight.append((index, -1))
        while in_flight:
            self.finish(in_flight.popleft())

    def key_of(self, channel: str | None, columns: dict[str, list[Any]], i: int) -> Hashable | None:
        if channel is None:
            return None
        if self.whole:
            return (channel, columns["text"][i])
        return (channel, tuple(columns[p][i] if p in columns else None for p in PART_FIELDS))

    def message_of(self, key: Any) -> Message:
        channel, text = key
        if self.whole:
            return text
        return {name: value for name, value in zip(PART_FIELDS, text) if value is not None}

    def submit(self, index: int, batch: ArchiveBatch) -> _InFlight:
        """Look a batch's keys up; send the distinct misses to a worker."""
        records = batch.records
        columns = {name: records.column(name).to_pylist() for name in records.schema.names}
        channels = columns.get("channel") or [None] * records.num_rows
        default = self.options.channel
        keys = [self.key_of(c if c is not None else default, columns, i) for i, c in enumerate(channels)]
        item = _InFlight(index, batch, columns, keys)
        cache, resolved, waiting = self.cache, item.resolved, self.waiting
        for key in keys:
            if key is None:
                continue
            if key in resolved:
                cache.count(hit=True)
                continue
            value = cache.get(key)
            if value is not None:
                resolved[key] = value
                cache.count(hit=True)
            elif key in waiting:
                waiting[key].append(item)
                resolved[key] = None  # type: ignore[assignment]  # filled when the earlier batch finishes
                cache.count(hit=True)
            else:
                waiting[key] = []
                resolved[key] = None  # type: ignore[assignment]
                item.job_keys.append(key)
                cache.count(hit=False)
        if item.job_keys:
            item.job = self.executor.submit([(k[0], self.message_of(k)) for k in item.job_keys])  # type: ignore[index]
        return item

    def finish(self, item: _InFlight | tuple[int, int]) -> None:
        """Write one batch's results (in input order) and maybe checkpoint."""
        if isinstance(item, tuple):
            self.checkpoint.done[item[0]] = True
            return
        if item.job is not None:
            for key, result in zip(item.job_keys, item.job.get()):
                value = result if isinstance(result, LintFailure) else Verdict(*result)
                self.cache.put(key, value)
                item.resolved[key] = value
                for later in self.waiting.pop(key, ()):
                    later.resolved[key] = value
        self.write(item)
        self.checkpoint.positions[item.archive_index] = item.batch.next_record
        self.since_checkpoint += item.batch.consumed
        if self.since_checkpoint >= self.options.checkpoint_every:
            self.save_checkpoint()

    def write(self, item: _InFlight) -> None:
        index, name, tally, columns = item.archive_index, self.names[item.archive_index], self.tally, item.columns
        bad: list[tuple[int, int, str, str | None]] = [(b.record, b.line, b.reason, b.id) for b in item.batch.bad]
        lines, ordinals = columns[LINE_COLUMN], columns[RECORD_COLUMN]
        get = lambda column: columns.get(column) or [None] * len(lines)  # noqa: E731
        ids, merchants, recipients, ats, channels = (get(c) for c in ("id", "merchant", "recipient", "at", "channel"))
        uses: Counter[int] = Counter()
        verdicts: dict[int, Verdict] = {}
        findings = 0
        for i, key in enumerate(item.keys):
            if key is None:
                bad.append((ordinals[i], lines[i], "no channel: the record has no channel field and no --channel "
                            "was given", ids[i]))
                continue
            verdict = item.resolved[key]
            if isinstance(verdict, LintFailure):
                bad.append((ordinals[i], lines[i], verdict.reason, ids[i]))
                continue
            tally.add_record(index)
            if not verdict.findings:
                continue
            meta = (name, lines[i], ordinals[i], ids[i], merchants[i], recipients[i], ats[i], key[0])  # type: ignore[index]
            self.findings.add(meta, verdict)
            uses[id(verdict)] += 1
            verdicts[id(verdict)] = verdict
            findings += len(verdict.findings)
            tally.add_located(merchants[i], ats[i], len(verdict.findings))
            if tally.would_keep(verdict.score):
                tally.offer_worst(key, verdict, self.fields_of(key), f"{name}:{lines[i]}")
        tally.add_verdicts(index, uses, verdicts)
        for record, line, reason, record_id in sorted(bad, key=lambda b: b[0]):
            self.bad_log.add(name, line, record, reason, record_id)
            tally.add_bad(index, name, line, record, reason, record_id)
        self.findings.flush()
        self.bad_log.flush()
        self.progress.advance(item.batch.consumed, findings)

    def fields_of(self, key: Any) -> dict[str, str]:
        if self.whole:
            return {"text": key[1]}
        return {n: v for n, v in zip(PART_FIELDS, key[1]) if v is not None}

    def close(self) -> Path:
        self.bad_log.close()
        return self.findings.finish()


def run_audit(options: AuditOptions, *, engine: Any = None, stream: IO[str] | None = None) -> AuditResult:
    """Audit archives (see `AuditOptions`); write outputs into ``options.out``.

    Args:
        options: what to audit and how.
        engine: the engine used in this process (linting with ``jobs=1``, the ledger, checking
            ``--channel``); default ``Engine(options.rules)``. Workers build their own.
        stream: where progress and errors go (default stderr).

    Raises:
        AuditUsageError: options no run could use, a checkpoint ``resume`` cannot use
            (`compliance.audit.checkpoint.ResumeRefused`, with the reason), ``resume`` with no
            checkpoint, or a run without ``resume``/``restart`` over the checkpoint of an
            interrupted audit (exit code 2 in the CLI). See the module docstring.
        AuditOutputError: the outputs could not be written (disk full, …); the last checkpoint
            is intact and ``resume=True`` continues from it (exit code 2 in the CLI).

    A run killed at any point (SIGKILL, power cut) and resumed writes the same findings,
    bad records and summary as an uninterrupted run: outputs are cut back to what the last
    checkpoint recorded as fsynced, the checkpoint is replaced atomically, and a resume is
    refused when an archive is not the one the checkpoint read.

    The exit code is 2 when an archive could not be read or more records were bad than
    ``options.max_bad_records`` allows — after every output was written — else 1 when there
    are findings at or above ``fail_on``, else 0.
    """
    options.validate()
    stream = stream or sys.stderr
    for path in options.archives:
        if not Path(path).is_file() and not Path(path).is_fifo():
            raise AuditUsageError(f"no such archive: {path}")
        try:
            archive_format(Path(path))
        except ArchiveError as exc:
            raise AuditUsageError(str(exc)) from None
    if engine is None:
        from compliance.engine import Engine

        engine = Engine([Path(r) for r in options.rules], use_cache=options.use_cache)
    if options.channel is not None and options.channel not in engine.channels:
        from compliance.errors import UnknownChannelError

        try:
            engine.program(options.channel)
        except UnknownChannelError as exc:
            raise AuditUsageError(f"--channel: {exc}") from None
    if options.ledger is not None:
        from compliance.audit.frequency import check_ledger_support

        check_ledger_support(engine, options.ledger)
    try:
        run = _Run(options, engine, stream)
        run.prepare()
        executor = LintExecutor(engine, options.jobs, options.rules, options.use_cache)
        try:
            run.run(executor)
            executor.close()
        except BaseException:
            executor.terminate()
            raise
        findings_path = run.close()
        this_run = {"records_read": sum(run.tally.records) + sum(run.tally.bad) - run.records_before,
                    "elapsed_seconds": run.this_run_elapsed}
        summary = build_summary(run.tally, options, run.names, resumed=run.resumed, findings_path=findings_path,
                                this_run=this_run)
        write_summary(summary, options.out)
        from compliance.audit.report import write_report

        write_report(summary, run.tally, options.out)
    except AuditOutputError:
        raise
    except OSError as exc:
        raise AuditOutputError(
            f"writing the audit outputs in {options.out} failed: {exc}. Nothing committed was lost: "
            "free space (or fix the cause) and rerun with --resume to continue from the last checkpoint"
        ) from exc
    if summary["too_many_bad_records"]:
        read, bad = summary["records_read"], summary["bad_records"]
        print(f"error: {bad:,} bad record(s) of {read:,} read ({bad / read:.2%}) is more than --max-bad-records "
              f"{summary['max_bad_records']} allows: the audit fails (the bad records are in "
              f"{options.out / 'bad_records.jsonl'})", file=stream)
    if run.tally.archive_errors or summary["too_many_bad_records"]:
        code = EXIT_ERROR
    elif run.tally.at_threshold:
        code = EXIT_FINDINGS
    else:
        code = EXIT_CLEAN
    return AuditResult(summary, code, options.out)
