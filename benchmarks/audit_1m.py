"""Audit a 1,000,000-message JSONL archive with ``--jobs 2``: wall time and peak memory.

Run by hand (not part of ``make bench``; it takes about a minute):

    .venv/bin/python benchmarks/audit_1m.py [--messages 1000000] [--jobs 2] [--keep DIR]

The archive is rendered from the real corpora in ../shared/corpora with a seeded generator
(merchants, campaigns, recipients, timestamps over 30 days) into a temporary directory and
deleted afterwards; nothing generated is committed. Targets: <= 60 s wall, <= 1 GiB peak.

Peak memory: ``ru_maxrss`` of this process (the audit's parent: reading, cache, writing)
and of its children (the largest worker); the bound reported is parent + jobs x worker.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff\uf900-\ufaff]) +(?=[\u3400-\u9fff\uf900-\ufaff])")
SEED = 20240501


def corpus_texts() -> list[str]:
    """Marketing texts: the FBS advertising lines (CJK spaces removed) and the commercial SMS."""
    from compliance import corpora

    texts = [line for line in (corpora.rejoin(raw.strip()) for _, raw in corpora.fbs_lines("fbs_ad_*.txt")) if line]
    texts += [text.strip() for label, text in corpora.spam_lines() if label == "1" and text.strip()]
    return texts


def generate(path: Path, messages: int, *, merchants: int = 500, campaigns_per_merchant: int = 60,
             recipients: int = 200_000) -> int:
    """Write the archive; returns the number of distinct message texts in it."""
    rng = random.Random(SEED)
    texts = corpus_texts()
    optouts = ("回T退订", "拒收请回复R", "退订回N", "")
    campaigns: list[list[str]] = []
    for m in range(merchants):
        name = f"店铺{m:03d}"
        campaigns.append([f"【{name}】{rng.choice(texts)}{rng.choice(optouts)}" for _ in range(campaigns_per_merchant)])
    start = time.mktime((2024, 5, 1, 0, 0, 0, 0, 0, -1))
    span = 30 * 86400
    distinct: set[int] = set()
    with open(path, "w", encoding="utf-8") as f:
        for i in range(messages):
            m = rng.randrange(merchants)
            text = campaigns[m][min(int(rng.expovariate(0.08)), campaigns_per_merchant - 1)]
            distinct.add(hash(text))
            at = time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.localtime(start + span * i // messages))
            f.write(json.dumps({"id": f"msg{i:07d}", "text": text, "merchant": f"m{m:03d}",
                                "recipient": f"u{rng.randrange(recipients):06d}", "at": at,
                                "message_class": "marketing"}, ensure_ascii=False))
            f.write("\n")
    return len(distinct)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="write the archive and outputs here and keep them")
    args = parser.parse_args(argv)
    if not CORPORA.is_dir():
        print(f"skipped: no corpora at {CORPORA}", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory(prefix="audit-1m-") as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        archive = root / "archive.jsonl"
        t0 = time.perf_counter()
        distinct = generate(archive, args.messages)
        generated = time.perf_counter() - t0
        size = archive.stat().st_size
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

        from compliance.audit import AuditOptions, run_audit

        t0 = time.perf_counter()
        result = run_audit(AuditOptions([archive], root / "out", channel="jd.sms", jobs=args.jobs,
                                        progress="none"))
        wall = time.perf_counter() - t0
        parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        s = result.summary
        bound = parent + args.jobs * worker
        print(f"archive: {args.messages:,} messages, {distinct:,} distinct texts, {size / 2**20:.0f} MiB "
              f"(generated in {generated:.1f} s; generator peak {before / 1024:.0f} MiB)")
        print(f"audit --jobs {args.jobs}: wall {wall:.1f} s, {s['records_read'] / wall:,.0f} records/s, "
              f"{s['findings']:,} findings, cache hit rate {s['cache']['hit_rate']:.1%} "
              f"({s['cache']['linted']:,} texts linted)")
        print(f"peak RSS: parent {parent:.0f} MiB, largest worker {worker:.0f} MiB, "
              f"parent + {args.jobs} x worker = {bound:.0f} MiB")
        ok = wall <= 60 and bound <= 1024
        print(f"targets (<= 60 s, <= 1024 MiB): {'met' if ok else 'NOT met'}")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
