"""Time and peak memory of `engine.lint` on hostile messages, one process per case.

Run from the repository root::

    .venv/bin/python benchmarks/hostile_messages.py            # every case
    .venv/bin/python benchmarks/hostile_messages.py "1MB '最'"  # one case

Each case runs in a fresh interpreter (so peak RSS belongs to that case alone): the engine is
built and warmed on a short message first, and memory is reported over that baseline. Figures
are quoted in docs/RELIABILITY.md; the bounded-time assertions live in
tests/hostile/test_hostile_text.py.
"""

from __future__ import annotations

import subprocess
import sys

MB = 1_000_000
SIGNED = "【好物小铺】{} 回T退订"
CHARS = ["最", "!", "1", " ", "a", "【", "{", "微", "\u200b", "😀", "\x00", "\u202e"]


def cases() -> dict[str, str]:
    """Name → message."""
    out = {"10MB string": "最低价" * (10 * MB // 9), "100k hits": SIGNED.format("最低价，" * 100_000)}
    for ch in CHARS:
        out[f"1MB {ch!r}"] = SIGNED.format(ch * (MB // len(ch.encode()) - 20))
    return out


def measure(name: str) -> str:
    """One Markdown table row for the case (run inside the child process)."""
    import resource
    import time

    from compliance.engine import Engine

    engine = Engine()
    engine.lint("【好物小铺】新品上市 回T退订", channel="jd.sms")
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    message = cases()[name]
    start = time.perf_counter()
    report = engine.lint(message, channel="jd.sms")
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rules = sorted({f.rule for f in report.findings})[:3]
    return (f"| {name} | {len(message):,} | {elapsed:.2f} s | +{(peak - base) / 1024:.0f} MB "
            f"| {len(report.findings):,} | {'denied' if not report.ok else 'ok'} | {', '.join(rules)} |")


def main(argv: list[str]) -> None:
    if len(argv) == 2 and argv[0] == "--child":
        print(measure(argv[1]))
        return
    names = argv or list(cases())
    print("| case | characters | lint time | peak memory over baseline | findings | verdict | rules |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        done = subprocess.run([sys.executable, __file__, "--child", name], capture_output=True, text=True,
                              timeout=600, check=False)
        print(done.stdout.strip() if done.returncode == 0 else f"| {name} | failed: {done.stderr.strip()[-200:]} |")


if __name__ == "__main__":
    main(sys.argv[1:])
