"""What proving an archive unchanged costs an audit: hashing as it reads, and on resume.

Run from the repository root (takes about a minute; nothing is written outside a temporary
directory):

    .venv/bin/python benchmarks/audit_resume.py [--records 1000000]

On a generated archive of ``--records`` sends (JSONL, the same gzip-compressed, and CSV), it
measures, best of three:

* reading the whole archive with `iter_archive`, without and with a `ReadTracker` (the
  SHA-256 of every byte read, as the checkpoints record it);
* a checkpoint's identity (`ArchiveIdentity.of`): constant, whatever the position;
* a resume from the middle and from near the end: checking the archive (`differences`:
  stat, then one hash of the part already read) and skipping the records already audited up
  to the first new batch.

Figures are quoted in docs/RELIABILITY.md ("Resume that cannot lie").
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from compliance.audit.identity import ArchiveIdentity
from compliance.io.archives import ReadTracker, iter_archive

FIELDS = {"text": "text", "id": "id", "merchant": "merchant", "recipient": "recipient", "at": "at"}
OPTIONAL = {"id", "merchant", "recipient", "at"}
BATCH = 2_000


def generate(directory: Path, records: int) -> dict[str, Path]:
    """The same sends as JSONL, JSONL.gz and CSV (integer ids, as a real export may have)."""
    jsonl, csv_path = directory / "archive.jsonl", directory / "archive.csv"
    with open(jsonl, "w", encoding="utf-8") as j, open(csv_path, "w", encoding="utf-8", newline="") as c:
        writer = csv.writer(c)
        writer.writerow(list(FIELDS))
        for i in range(records):
            row = {"text": f"【店铺{i % 500:03d}】第{i % 60}号活动：全场满199减30，详情见店铺首页 回T退订", "id": i,
                   "merchant": i % 500, "recipient": 13_800_000_000 + i % 200_000,
                   "at": f"2024-05-{1 + i % 30:02d}T{8 + i % 12:02d}:00:00+08:00"}
            j.write(json.dumps(row, ensure_ascii=False) + "\n")
            writer.writerow(row.values())
    gz = directory / "archive.jsonl.gz"
    gz.write_bytes(gzip.compress(jsonl.read_bytes(), compresslevel=6))
    return {"jsonl": jsonl, "jsonl.gz": gz, "csv": csv_path}


def best(fn: Callable[[], object], rounds: int = 3) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def read_all(path: Path, tracker: ReadTracker | None) -> int:
    return sum(b.consumed for b in iter_archive(path, fields=FIELDS, optional=OPTIONAL, batch_size=BATCH,
                                                tracker=tracker))


def tracker_at(path: Path, record: int) -> ReadTracker:
    """The tracker of a reader that has just yielded the batch ending at ``record``."""
    tracker = ReadTracker()
    for batch in iter_archive(path, fields=FIELDS, optional=OPTIONAL, batch_size=BATCH, tracker=tracker):
        if batch.next_record >= record:
            break
    return tracker


def identity_at(path: Path, record: int) -> ArchiveIdentity:
    """The identity a checkpoint at ``record`` records."""
    identity = ArchiveIdentity.of(tracker_at(path, record))
    assert identity is not None
    return identity


def first_batch_after(path: Path, skip: int) -> None:
    next(iter(iter_archive(path, fields=FIELDS, optional=OPTIONAL, batch_size=BATCH, skip_records=skip,
                           tracker=ReadTracker())), None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    n = args.records
    with tempfile.TemporaryDirectory(prefix="audit-resume-") as tmp:
        paths = generate(Path(tmp), n)
        sizes = {k: p.stat().st_size for k, p in paths.items()}
        print(f"archive: {n:,} records; JSONL {sizes['jsonl'] / 2**20:.0f} MiB, JSONL.gz "
              f"{sizes['jsonl.gz'] / 2**20:.0f} MiB, CSV {sizes['csv'] / 2**20:.0f} MiB")
        jsonl = paths["jsonl"]
        plain = best(lambda: read_all(jsonl, None))
        tracked = best(lambda: read_all(jsonl, ReadTracker()))
        print(f"read all of the JSONL: {plain:.2f} s untracked, {tracked:.2f} s hashing as it reads "
              f"({(tracked - plain) / plain:+.1%})")
        for at in (BATCH, n):
            tracker = tracker_at(jsonl, at)
            cost = best(lambda: ArchiveIdentity.of(tracker), rounds=20)
            print(f"a checkpoint's identity at record {at:,} ({tracker.read_bytes / 2**20:.1f} MiB read): "
                  f"{cost * 1e6:.0f} µs")
        for kind, path in paths.items():
            for at in (n // 2, n - BATCH):
                identity = identity_at(path, at)
                check = best(lambda: identity.differences(path))
                assert identity.differences(path) is None
                skip = best(lambda: first_batch_after(path, at), rounds=2)
                print(f"resume {kind} at record {at:,}: check {check:.2f} s (hashes {identity.read_bytes / 2**20:.0f} "
                      f"MiB), skip to the first new batch {skip:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
