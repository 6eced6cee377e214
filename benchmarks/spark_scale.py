"""Frequency replay at scale: `compliance.spark.replay` on local[1] and local[2] against the
single-machine ``compliance replay``, on the same generated archive, in one run.

Run by hand (not in CI, not part of ``make bench``; 10M sends take tens of minutes):

    .venv/bin/python benchmarks/spark_scale.py [--sends 10000000] [--keep DIR] [--skip-cli]

The archive is one Parquet file of seeded sends over 30 days: ``jd.sms`` marketing/test/notice
sends from 2,000 merchants to ~1/5 as many phones as sends (a few very busy ones: one phone
gets 1 % of all sends), plus Taobao/WeChat account sends. It holds ``at`` twice: as ISO text
(what ``compliance replay`` reads from Parquet) and as a timestamp ``ts`` (what Spark reads).

Each Spark run is a fresh process (``local[N]``, N Python workers, 2 GiB driver); the replay
output is written to Parquet (so every violation is computed and serialised) and counted.
Memory per task is the peak RSS (VmHWM) of each Python worker process of the run — the
window state and Arrow batches live there — and of the JVM (which holds Spark's sort
buffers and spills past them). The CLI's is its own peak RSS (it sorts in 250,000-send runs
spilled to temporary files).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def generate(path: Path, n: int, seed: int = 19) -> None:
    """Write ``n`` sends to ``path`` (vectorized with numpy; ≈ 1 min for 10M)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    start = np.datetime64("2026-11-01T00:00:00", "us") - np.timedelta64(8, "h")  # Shanghai midnight, in UTC
    chunk = 1_000_000
    writer = None
    phones = max(n // 5, 10)
    for offset in range(0, n, chunk):
        m = min(chunk, n - offset)
        ts = start + rng.integers(0, 30 * 86400 * 10**6, m).astype("timedelta64[us]")
        recipient = rng.integers(0, phones, m)
        recipient[rng.random(m) < 0.01] = 0  # the skewed phone: 1 % of all sends
        kind = rng.choice(7, m, p=[0.70, 0.05, 0.1, 0.05, 0.04, 0.03, 0.03])
        channel = np.array(["jd.sms"] * 4 + ["wechat.news", "taobao.weitao", "wechat.template"])[kind]
        klass = np.array(["marketing", "test", "notice_optout", "notice_mandatory", "news", "recall",
                          "industry_change"])[kind]
        ts_arr = pa.array(ts, pa.timestamp("us", tz="UTC"))
        table = pa.table({
            "id": pc.binary_join_element_wise("s", pa.array(np.arange(offset, offset + m)).cast(pa.string()), ""),
            "channel": pa.array(channel), "message_class": pa.array(klass),
            "merchant": pc.binary_join_element_wise("m", pa.array(rng.integers(0, 2000, m)).cast(pa.string()), ""),
            "recipient": pc.binary_join_element_wise("1", pa.array(3_000_000_000 + recipient).cast(pa.string()), ""),
            "at": pc.strftime(ts_arr, format="%Y-%m-%dT%H:%M:%S+00:00", locale="C"),
            "ts": ts_arr,
        })
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=250_000)
    assert writer is not None
    writer.close()


def _worker_peaks() -> dict[str, int]:
    """VmHWM (KiB) of this machine's pyspark Python workers and daemon, by pid."""
    peaks = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            if "pyspark.daemon" not in cmd and "pyspark.worker" not in cmd:
                continue
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[pid] = int(line.split()[1])
        except OSError:
            continue
    return peaks


def spark_run(archive: Path, cores: int, out: Path) -> dict[str, object]:
    """One replay on local[cores], in this process (called through a subprocess)."""
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    from compliance.spark import replay

    spark = (SparkSession.builder.master(f"local[{cores}]").appName(f"spark-scale-{cores}")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.driver.memory", "2g").config("spark.sql.shuffle.partitions", str(4 * cores))
             .config("spark.python.worker.reuse", "true").config("spark.sql.session.timeZone", "Asia/Shanghai")
             .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    df = spark.read.parquet(str(archive)).drop("at")
    started = time.perf_counter()
    replay(df, fields={"at": "ts"}).write.mode("overwrite").parquet(str(out))
    elapsed = time.perf_counter() - started
    rows = spark.read.parquet(str(out)).count()
    peaks = _worker_peaks()
    jvm = spark.sparkContext._jvm  # noqa: SLF001 - the JVM's own peak heap is not exposed otherwise
    runtime = jvm.java.lang.Runtime.getRuntime()
    heap_mib = (runtime.totalMemory() - runtime.freeMemory()) / 2**20
    spark.stop()
    return {"cores": cores, "seconds": round(elapsed, 1), "rows": rows,
            "python_worker_peak_mib": [round(k / 1024) for k in sorted(peaks.values(), reverse=True)],
            "jvm_heap_used_mib_at_end": round(heap_mib)}


def cli_run(archive: Path) -> dict[str, object]:
    started = time.perf_counter()
    with open(os.devnull, "w") as sink:
        proc = subprocess.run([sys.executable, "-m", "compliance", "replay", str(archive), "--format", "jsonl"],
                              stdout=sink, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": round(elapsed, 1), "summary": proc.stderr.strip().splitlines()[-1][:200],
            "peak_rss_mib": round(peak / 1024)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sends", type=int, default=10_000_000)
    parser.add_argument("--keep", type=Path, help="directory for the archive and outputs (kept)")
    parser.add_argument("--skip-cli", action="store_true", help="only the two Spark runs")
    parser.add_argument("--spark-run", nargs=3, metavar=("ARCHIVE", "CORES", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.spark_run:
        archive, cores, out = args.spark_run
        print(json.dumps(spark_run(Path(archive), int(cores), Path(out))))
        return 0
    work = args.keep or Path(tempfile.mkdtemp(prefix="spark-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    archive = work / "sends.parquet"
    if not archive.exists():
        started = time.perf_counter()
        generate(archive, args.sends)
        print(f"generated {args.sends:,} sends in {time.perf_counter() - started:.0f} s: {archive}", flush=True)
    results: dict[str, object] = {"sends": args.sends, "cpus": os.cpu_count(), "load_before": os.getloadavg()}
    for cores in (1, 2):
        proc = subprocess.run([sys.executable, __file__, "--spark-run", str(archive), str(cores),
                               str(work / f"violations-{cores}")], capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        if proc.returncode:
            print(proc.stderr[-3000:], file=sys.stderr)
            return 1
        results[f"local[{cores}]"] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(json.dumps(results[f"local[{cores}]"]), flush=True)
    one, two = results["local[1]"], results["local[2]"]
    results["speedup_local2_vs_local1"] = round(one["seconds"] / two["seconds"], 2)  # type: ignore[index]
    if not args.skip_cli:
        results["cli"] = cli_run(archive)
        print(json.dumps(results["cli"], ensure_ascii=False), flush=True)
    results["load_after"] = os.getloadavg()
    print(json.dumps(results, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
