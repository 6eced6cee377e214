"""Cold start of `compliance lint` on a one-line copy file, against `python -c pass`.

Run: ``make bench-cold-start`` (= ``.venv/bin/python benchmarks/cold_start.py``); ``--help``
for the options. Not a pytest benchmark: each sample is a new interpreter.

Variants, each a fresh process, run ``--runs`` times *interleaved* (one of each per round, in a
shuffled order) so that a busy machine slows them alike:

* ``python -c pass``: the interpreter's own start, the baseline;
* ``lint warm``: ``compliance lint --channel jd.sms FILE`` with the on-disk cache
  (`compliance.cache`, ``COMPLIANCE_CACHE_DIR``) already holding the compiled packs, fold
  tables and lexicons — every run of a pre-commit hook after the first;
* ``lint cold``: the same with ``COMPLIANCE_CACHE_DIR`` pointing at a new, empty directory —
  the very first run: every pack parsed, checked and compiled, the tables and lexicons built,
  all of it stored;
* ``lint warm+config``: warm, the file in a repository with a ``compliance.toml`` (one key):
  the configuration is validated, which imports pydantic (without one lint does not);
* ``lint jieba`` (``--jieba``): warm, on a line whose ambiguous hit needs jieba to confirm it
  (jieba imported and its dictionary loaded in the run).

Byte-code: every process gets ``PYTHONPYCACHEPREFIX`` (a temporary directory) and no
``PYTHONDONTWRITEBYTECODE``, and one untimed run of each variant goes first, so the timed runs
import from compiled byte-code as an installed package does (the checkout stays untouched).

``--baseline DIR`` adds ``baseline warm`` and ``baseline cold``: the same lint run from another
checkout (e.g. ``git worktree add /tmp/base main`` or a ``git archive`` of it), interleaved
with the rest, for a before/after in the same run.

Reported: median and minimum wall time of each variant, and each median as a ratio to the
median of ``python -c pass``. The goal (issue 13) is ≤ 0.15 s warm and ≤ 0.5 s cold;
``--check`` exits 1 when a median misses it. ``--callgrind`` also counts the instructions of
one warm lint and of ``python -c pass`` under valgrind (deterministic where wall time is not).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: A one-line copy file: an absolute claim and a signature, no digits (no phone-number library).
LINE = "【好物小店】限时抢购，全网最低价！回T退订\n"
#: A line with an ambiguous hit (最好) that only jieba's segmentation can confirm.
JIEBA_LINE = "【好物小店】这款面霜效果最好，快来抢购！回T退订\n"
GOALS = {"lint warm": 0.15, "lint cold": 0.5, "lint warm+config": 0.15}


def _environment(prefix: Path, source: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "COMPLIANCE_NO_CACHE")}
    env["PYTHONPYCACHEPREFIX"] = str(prefix)
    # The checkout first (as `pip install -e .` does), unless an installed build is measured.
    if source is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(source), env.get("PYTHONPATH", "")) if p)
    return env


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    """Wall time of one process (it must exit 0 or 1: lint's findings are an exit code 1)."""
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr.decode(errors='replace')}")
    return elapsed


def _instructions(argv: list[str], env: dict[str, str], cwd: Path, out: Path) -> int:
    """Instructions executed by one process under ``valgrind --tool=callgrind``."""
    done = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *argv],
                          env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in done.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split(":")[-1].strip())
    raise SystemExit(f"valgrind gave no instruction count:\n{done.stderr}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs of each variant (default 15)")
    parser.add_argument("--channel", default="jd.sms")
    parser.add_argument("--jieba", action="store_true", help="also time a lint that loads jieba")
    parser.add_argument("--callgrind", action="store_true", help="also count instructions under valgrind")
    parser.add_argument("--check", action="store_true", help="exit 1 when a median misses its goal")
    parser.add_argument("--installed", action="store_true",
                        help="measure the installed compliance (no PYTHONPATH to this checkout)")
    parser.add_argument("--baseline", type=Path, metavar="DIR",
                        help="also time the lint of another checkout (before/after in the same run)")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="compliance-cold-start-"))
    try:
        env = _environment(work / "pycache", None if args.installed else ROOT)
        copy_file, jieba_file = work / "copy.txt", work / "jieba.txt"
        copy_file.write_text(LINE, encoding="utf-8")
        jieba_file.write_text(JIEBA_LINE, encoding="utf-8")
        (work / ".git").mkdir()  # the configuration search stops here
        project = work / "project"
        (project / ".git").mkdir(parents=True)
        (project / "compliance.toml").write_text('ignore = ["jd-sms-length"]\n', encoding="utf-8")
        configured_file = project / "copy.txt"
        configured_file.write_text(LINE, encoding="utf-8")
        warm_env = {**env, "COMPLIANCE_CACHE_DIR": str(work / "cache")}
        lint = [sys.executable, "-m", "compliance", "lint", "--channel", args.channel]
        cold_dirs = iter(range(10**9))

        def cold_env() -> dict[str, str]:
            directory = work / f"cold-{next(cold_dirs)}"  # new and empty: nothing cached
            return {**env, "COMPLIANCE_CACHE_DIR": str(directory)}

        variants: dict[str, tuple[list[str], object]] = {
            "python -c pass": ([sys.executable, "-c", "pass"], lambda: env),
            "lint warm": ([*lint, str(copy_file)], lambda: warm_env),
            "lint cold": ([*lint, str(copy_file)], cold_env),
            "lint warm+config": ([*lint, str(configured_file)], lambda: warm_env),
        }
        if args.baseline is not None:
            base_env = _environment(work / "pycache", args.baseline.resolve())
            base_warm = {**base_env, "COMPLIANCE_CACHE_DIR": str(work / "baseline-cache")}
            variants["baseline warm"] = ([*lint, str(copy_file)], lambda: base_warm)
            variants["baseline cold"] = ([*lint, str(copy_file)],
                                         lambda: {**base_env, "COMPLIANCE_CACHE_DIR": cold_env()["COMPLIANCE_CACHE_DIR"]})
        if args.jieba:
            variants["lint jieba"] = ([*lint, str(jieba_file)], lambda: warm_env)
        for command, environment in variants.values():  # untimed: byte-code, the warm cache
            _run(command, environment(), work)  # type: ignore[operator]
        times: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.runs):
            order = list(variants)
            random.shuffle(order)
            for name in order:
                command, environment = variants[name]
                times[name].append(_run(command, environment(), work))  # type: ignore[operator]

        base = statistics.median(times["python -c pass"])
        load = os.getloadavg() if hasattr(os, "getloadavg") else None
        print(f"{args.runs} runs of each, interleaved; {os.cpu_count()} CPUs"
              + (f", load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}" if load else ""))
        print(f"{'variant':17s} {'median':>9s} {'min':>9s} {'median / python -c pass':>24s}  goal")
        missed = []
        for name, samples in times.items():
            median = statistics.median(samples)
            goal = GOALS.get(name)
            verdict = "" if goal is None else f"≤ {goal:.2f} s: {'met' if median <= goal else 'NOT met'}"
            if goal is not None and median > goal:
                missed.append(name)
            print(f"{name:17s} {median:8.3f}s {min(samples):8.3f}s {median / base:23.1f}×  {verdict}")
        if args.callgrind:
            if shutil.which("valgrind") is None:
                print("callgrind: valgrind is not installed")
            else:
                base_ir = _instructions(variants["python -c pass"][0], env, work, work / "cg.pass")
                print(f"callgrind instructions: python -c pass {base_ir:,}")
                for name in ("lint warm", "lint warm+config"):
                    count = _instructions(variants[name][0], warm_env, work, work / "cg.lint")
                    print(f"callgrind instructions: {name} {count:,} ({count / base_ir:.1f}×)")
        return 1 if args.check and missed else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
