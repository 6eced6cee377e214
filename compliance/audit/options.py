"""What an audit run is asked to do: archives, field mapping, channel, outputs, workers."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from compliance.errors import ComplianceError

#: Fields that hold message text; ``text`` is a whole rendered message, the others are parts.
TEXT_FIELD = "text"
PART_FIELDS: tuple[str, ...] = ("signature", "body", "optout", "title", "url")
#: Fields describing the send; mapped to same-named keys by default and always optional.
META_FIELDS: tuple[str, ...] = ("id", "merchant", "recipient", "at", "channel", "message_class")
KNOWN_FIELDS: tuple[str, ...] = (TEXT_FIELD, *PART_FIELDS, *META_FIELDS)
FINDINGS_FORMATS: tuple[str, ...] = ("jsonl", "parquet")
THRESHOLDS: tuple[str, ...] = ("error", "warning", "info", "never")


class AuditUsageError(ComplianceError, ValueError):
    """The audit was asked something it cannot do (exit code 2)."""


class AuditOutputError(ComplianceError, OSError):
    """Writing the outputs failed (disk full, read-only, removed). The last checkpoint is
    intact: fix the cause and rerun with ``--resume`` (exit code 2)."""


@dataclass(frozen=True)
class FieldMap:
    """Our field names → the archive's keys/columns, and which of them may be missing.

    With no ``text`` and no part field given, ``text`` maps to the key ``text``. A message is
    either one ``text`` (a whole rendered message) or parts (``body`` required, the other
    parts optional); mixing both is a usage error.
    """

    mapping: Mapping[str, str]
    optional: frozenset[str]

    @property
    def whole_text(self) -> bool:
        """True when each record holds one whole rendered message."""
        return TEXT_FIELD in self.mapping

    @property
    def parts(self) -> tuple[str, ...]:
        """The part fields mapped, in the fixed order of `PART_FIELDS`."""
        return tuple(p for p in PART_FIELDS if p in self.mapping)

    @classmethod
    def parse(cls, specs: Sequence[str]) -> FieldMap:
        """Build from ``["body=content", "merchant=shop.id"]`` (repeatable ``--field`` values)."""
        given: dict[str, str] = {}
        for spec in specs:
            name, sep, key = spec.partition("=")
            name, key = name.strip(), key.strip()
            if not sep or not name or not key:
                raise AuditUsageError(f"--field expects NAME=KEY (e.g. body=content), got {spec!r}")
            if name not in KNOWN_FIELDS:
                raise AuditUsageError(f"--field: unknown field {name!r}; known: {', '.join(KNOWN_FIELDS)}")
            if name in given:
                raise AuditUsageError(f"--field: {name!r} is mapped twice")
            given[name] = key
        parts = [p for p in PART_FIELDS if p in given]
        if TEXT_FIELD in given and parts:
            raise AuditUsageError(
                f"--field: map either text (a whole rendered message) or parts ({', '.join(parts)}), not both"
            )
        if parts and "body" not in given:
            raise AuditUsageError("--field: a message given as parts needs body=KEY")
        if not parts and TEXT_FIELD not in given:
            given[TEXT_FIELD] = TEXT_FIELD
        mapping = dict(given)
        for name in META_FIELDS:
            mapping.setdefault(name, name)
        optional = frozenset(META_FIELDS) | frozenset(p for p in PART_FIELDS if p != "body")
        return cls(mapping, optional & frozenset(mapping))

    def to_specs(self) -> list[str]:
        """The mapping as ``NAME=KEY`` strings (for the checkpoint fingerprint and summary)."""
        return [f"{k}={v}" for k, v in self.mapping.items()]


_LIMIT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(%?)\s*")


@dataclass(frozen=True)
class BadRecordLimit:
    """How many bad records an audit may hold and still pass (``--max-bad-records``).

    Either a count (``0``: any bad record fails the audit) or a percentage of the records read
    (``"0.5%"``). The audit fails — exit code 2, after writing every output — when its bad
    records are *more* than the limit: ``1`` lets one through, ``10%`` one in ten.

    Attributes:
        count: the most bad records allowed, or None for a percentage.
        percent: the most bad records allowed per 100 records read, or None for a count.
    """

    count: int | None = 0
    percent: Fraction | None = None

    @classmethod
    def parse(cls, value: int | str | BadRecordLimit) -> BadRecordLimit:
        """``0``, ``"25"``, ``"10%"``, ``"0.5%"`` (raises `AuditUsageError` for anything else)."""
        if isinstance(value, BadRecordLimit):
            return value
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise AuditUsageError(f"max-bad-records must be a count N or a percentage P%, got {value!r}")
        if isinstance(value, int):
            if value < 0:
                raise AuditUsageError(f"max-bad-records must not be negative, got {value}")
            return cls(value, None)
        match = _LIMIT.fullmatch(value)
        if match is None:
            raise AuditUsageError(f"max-bad-records must be a count N or a percentage P% (e.g. 0, 25, 0.5%), "
                                  f"got {value!r}")
        number, percent = match.groups()
        if percent:
            share = Fraction(number)
            if share > 100:
                raise AuditUsageError(f"max-bad-records: a percentage is at most 100%, got {value!r}")
            return cls(None, share)
        if "." in number:
            raise AuditUsageError(f"max-bad-records: a count is a whole number (or write {number}%), got {value!r}")
        return cls(int(number), None)

    def exceeded(self, bad: int, read: int) -> bool:
        """Whether ``bad`` bad records out of ``read`` records read are more than the limit."""
        if self.percent is not None:
            return bad * 100 > self.percent * read
        return bad > (self.count or 0)

    def __str__(self) -> str:
        if self.percent is not None:
            text = f"{float(self.percent):f}".rstrip("0").rstrip(".")
            return f"{text}%"
        return str(self.count)


@dataclass(frozen=True)
class AuditOptions:
    """Everything `run_audit` needs.

    Attributes:
        archives: JSONL/CSV/Parquet files (optionally gzip-compressed), audited in order.
        out: output directory (created).
        fields: the field mapping (`FieldMap.parse` of ``--field`` values).
        channel: channel for records without a ``channel`` field (None: such records are bad).
        jobs: worker processes linting (1 lints in this process).
        batch_size: records read and sent to a worker at a time.
        checkpoint_every: records between checkpoints.
        cache_size: most distinct texts whose verdicts are kept (least recently used go first).
        findings_format: ``"jsonl"`` or ``"parquet"``.
        fail_on: lowest severity that makes the exit code 1 (``"never"``: always 0).
        max_bad_records: bad records allowed before the audit fails with exit code 2: a count
            (``0``, the default: any bad record fails it) or a percentage of the records read
            (``"10%"``); see `BadRecordLimit`.
        resume: continue the interrupted audit recorded in ``out/checkpoint.json``. Refused
            (`AuditUsageError`) when there is no checkpoint, or it cannot be trusted: other
            options, an older checkpoint version, damaged outputs, or an archive that changed
            since it was read (size, modification time, or the SHA-256 of the part already
            read) — unless ``restart`` is also given.
        restart: discard any checkpoint and outputs in ``out`` and start over. With
            ``resume``: resume when the checkpoint can be trusted, else say why and start over.
            Without either, a run refuses to overwrite the checkpoint of an *interrupted* audit
            (a finished one is replaced).
        ledger: ledger URL to replay frequency caps through ``engine.ledger(url)``.
        message_class: message class for sends without a ``message_class`` field (ledger).
        rules: extra rule files/directories for the engine.
        use_cache: use the on-disk compiled-pack cache.
        progress: ``"auto"`` (bar on a TTY, nothing otherwise), ``"bar"``, ``"plain"``, ``"none"``.
        worst: how many of the worst distinct texts the report shows.
    """

    archives: Sequence[Path]
    out: Path
    fields: FieldMap = field(default_factory=lambda: FieldMap.parse([]))
    channel: str | None = None
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    batch_size: int = 2_000
    checkpoint_every: int = 50_000
    cache_size: int = 100_000
    findings_format: str = "jsonl"
    fail_on: str = "error"
    max_bad_records: int | str | BadRecordLimit = 0
    resume: bool = False
    restart: bool = False
    ledger: str | None = None
    message_class: str | None = None
    rules: Sequence[Path] = ()
    use_cache: bool = True
    progress: str = "auto"
    worst: int = 20

    def validate(self) -> None:
        """Raise `AuditUsageError` for values no run could use."""
        if not self.archives:
            raise AuditUsageError("no archive given")
        for name in ("jobs", "batch_size", "checkpoint_every", "cache_size", "worst"):
            if getattr(self, name) < 1:
                raise AuditUsageError(f"{name.replace('_', '-')} must be at least 1")
        if self.findings_format not in FINDINGS_FORMATS:
            raise AuditUsageError(f"findings format must be one of {', '.join(FINDINGS_FORMATS)}")
        if self.fail_on not in THRESHOLDS:
            raise AuditUsageError(f"fail-on must be one of {', '.join(THRESHOLDS)}")
        if self.progress not in ("auto", "bar", "plain", "none"):
            raise AuditUsageError("progress must be auto, bar, plain or none")
        BadRecordLimit.parse(self.max_bad_records)

    @property
    def bad_record_limit(self) -> BadRecordLimit:
        """``max_bad_records`` parsed."""
        return BadRecordLimit.parse(self.max_bad_records)

    def fingerprint(self) -> dict[str, Any]:
        """What must not change between an interrupted run and its resumption."""
        return {
            "archives": [str(Path(a).resolve()) for a in self.archives],
            "fields": self.fields.to_specs(),
            "channel": self.channel,
            "findings_format": self.findings_format,
            "ledger": self.ledger,
            "message_class": self.message_class,
            "rules": [str(Path(r).resolve()) for r in self.rules],
        }
