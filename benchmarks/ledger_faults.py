"""How fast a Redis-backed ledger fails, and recovers, when Redis dies or freezes.

Run from the repository root (needs a ``redis-server`` binary, as ``make test`` installs)::

    .venv/bin/python benchmarks/ledger_faults.py

For each ``socket_timeout`` (the default 5 s, then 0.5 s): ``reserve`` latency with Redis up,
the time to a clear `LedgerError` with Redis frozen (SIGSTOP) and killed (SIGKILL), and the
first call after it resumes or restarts. Figures are quoted in docs/RELIABILITY.md. It reuses
the fault tests' throw-away Redis server, so nothing outside a temporary directory is touched.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "frequency"))

from test_ledger_faults import RedisServer, one_a_day, send  # noqa: E402

from compliance.frequency import Ledger, LedgerError  # noqa: E402


def timed(fn: Callable[[], object]) -> tuple[float, str]:
    """Seconds the call took, and "ok" or the name of the ledger error it raised."""
    start = time.perf_counter()
    try:
        fn()
        return time.perf_counter() - start, "ok"
    except LedgerError as exc:
        return time.perf_counter() - start, type(exc).__name__


def main() -> None:
    server = RedisServer(Path(tempfile.mkdtemp()))
    server.start()
    try:
        for timeout in (5, 0.5):
            ledger = Ledger.open(f"{server.url}?prefix=f{timeout}:&socket_timeout={timeout}", one_a_day())
            up = [timed(lambda i=i: ledger.reserve(send(f"w{i}")))[0] for i in range(2000)]
            print(f"socket_timeout={timeout}: reserve p50 {statistics.median(up) * 1e3:.3f} ms, "
                  f"max {max(up) * 1e3:.2f} ms (n=2000, Redis up)")
            server.pause()
            print("  frozen (SIGSTOP): %.3f s %s" % timed(lambda: ledger.reserve(send("x"))))
            server.resume()
            print("  after SIGCONT:    %.4f s %s" % timed(lambda: ledger.reserve(send("y"))))
            server.kill()
            down = [timed(lambda: ledger.reserve(send("z"))) for _ in range(50)]
            print("  killed (SIGKILL): first call %.4f s %s; median of 50 %.4f s"
                  % (down[0][0], down[0][1], statistics.median(d[0] for d in down)))
            server.start()
            print("  restarted, first call: %.4f s %s" % timed(lambda: ledger.reserve(send("back"))))
            ledger.close()
    finally:
        server.close()


if __name__ == "__main__":
    main()
