"""Load on the HTTP service over loopback: a real uvicorn process, concurrent httpx clients.

    .venv/bin/python benchmarks/load_http.py                       # 20,000 requests at 16 and at 64
    .venv/bin/python benchmarks/load_http.py --requests 5000 --concurrency 8 --ledger sqlite

Starts ``python -m compliance.server serve`` on a free 127.0.0.1 port, sends a fixed mix of
requests (lint of known-good and known-bad texts and a few malformed bodies, eligibility,
schedule, reserve), checks every answer against the expected one, and prints latency
percentiles and throughput. Bounded twice: by the number of requests and by ``--max-seconds``;
the server is stopped at the end whatever happens. Only loopback addresses are used.

`running_server` and `run_load` are also used by tests/test_server_load.py (small bounded runs).
"""

from __future__ import annotations

import argparse
import itertools
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

LOOPBACK = "127.0.0.1"

#: (text, expected ok) — copy that must pass and copy that must be denied (jd.sms).
LINT_TEXTS: list[tuple[str, bool]] = [
    ("【好店】您的订单已发货，请注意查收。回T退订", True),
    ("【好店】会员日全场八折，欢迎选购。回T退订", True),
    ("【京东】全网最低价，快来抢购！！回T退订", False),          # absolute claim (广告法)
    ("【好店】新品上市，全场五折", False),                          # no opt-out
    ("【好店】国家级产品，效果第一。回T退订", False),               # absolute claim
    ("【好店】全网最\u200b低价，限时抢购。回T退订", False),          # zero-width evasion
]
MB_OK = {"fans": 86_000, "private_posts_last_month": 52, "avg_material_uv": 210.5, "category_avg_uv": 150.0,
         "bottom3_click_rate_months": 0, "messages_last_month": 24, "revoked_on": None}


@dataclass(frozen=True)
class Call:
    """One request of the mix and how to check its answer."""

    kind: str
    method: str
    path: str
    check: Callable[[httpx.Response], bool]
    json: Any = None
    content: bytes | None = None


def _lint(text: str, ok: bool) -> Call:
    return Call("lint", "POST", "/v1/lint", lambda r: r.status_code == 200 and r.json()["ok"] is ok,
                json={"message": text, "channel": "jd.sms"})


def request_mix() -> list[Call]:
    """The fixed mix: mostly lint, some eligibility/schedule, a few malformed bodies.

    Reserve calls are added per client (`reserve_call`) so that every one is expected to pass.
    """
    calls = [_lint(text, ok) for text, ok in LINT_TEXTS] * 3
    calls += [
        Call("eligibility", "POST", "/v1/eligibility", lambda r: r.status_code == 200 and r.json()["eligible"] is True,
             json={"facts": {"shop": MB_OK, "today": "2026-11-25"}, "channel": "jd.message_box"}),
        Call("eligibility", "POST", "/v1/eligibility", lambda r: r.status_code == 200 and r.json()["eligible"] is False,
             json={"facts": {"shop": {**MB_OK, "fans": 42_000}, "today": "2026-11-25"}, "channel": "jd.message_box"}),
        Call("schedule", "POST", "/v1/schedule", lambda r: r.status_code == 200 and r.json()["allowed"] is False,
             json={"send": {"channel": "jd.sms", "message_class": "marketing", "audience_size": 10,
                            "at": "2026-03-02T23:30:00+08:00"}}),
        Call("schedule", "POST", "/v1/schedule", lambda r: r.status_code == 200 and r.json()["allowed"] is True,
             json={"send": {"channel": "jd.sms", "message_class": "marketing", "audience_size": 10,
                            "at": "2026-03-02T12:00:00+08:00"}}),
        Call("bad", "POST", "/v1/lint", lambda r: r.status_code == 400 and r.json()["error"]["code"] == "malformed_json",
             content=b'{"message": '),
        Call("bad", "POST", "/v1/lint", lambda r: r.status_code == 404 and r.json()["error"]["code"] == "unknown_channel",
             json={"message": "你好", "channel": "jd.smss"}),
    ]
    return calls


_runs = itertools.count()


def reserve_call(run: str, n: int) -> Call:
    """A reserve every cap allows: a fresh recipient per request (caps count per recipient)."""
    send = {"channel": "jd.sms", "message_class": "marketing", "merchant": "m", "recipient": f"{run}-{n}",
            "at": "2026-03-02T10:00:00+08:00"}
    return Call("reserve", "POST", "/v1/reserve", lambda r: r.status_code == 200 and r.json()["allowed"] is True,
                json={"send": send})


@dataclass
class LoadResult:
    """What a load run saw: latencies per request (seconds), failures, wall time."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    by_kind: dict[str, int] = field(default_factory=dict)
    stopped_by_time: bool = False

    @property
    def requests(self) -> int:
        return len(self.latencies)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

    def summary(self) -> str:
        ms = {p: self.percentile(p) * 1000 for p in (50, 90, 99, 100)}
        return (f"{self.requests} requests in {self.wall_s:.2f} s = {self.requests / self.wall_s:.0f} req/s; "
                f"latency ms p50 {ms[50]:.2f} p90 {ms[90]:.2f} p99 {ms[99]:.2f} max {ms[100]:.2f}; "
                f"failures {len(self.failures)}; mix {dict(sorted(self.by_kind.items()))}")


def run_load(base_url: str, *, requests: int, concurrency: int, max_seconds: float,
             reserve_every: int = 8) -> LoadResult:
    """Send ``requests`` requests from ``concurrency`` threads (one httpx client each) and check
    every answer. Stops early when ``max_seconds`` have passed."""
    if not base_url.startswith(f"http://{LOOPBACK}:"):
        raise ValueError(f"load is only sent to {LOOPBACK}, not to {base_url}")
    mix = request_mix()
    run = f"r{os.getpid()}-{next(_runs)}"
    result = LoadResult()
    lock = threading.Lock()
    counter = itertools.count()
    deadline = time.monotonic() + max_seconds

    def client(no: int) -> None:
        local_latencies: list[float] = []
        local_failures: list[str] = []
        kinds: dict[str, int] = {}
        with httpx.Client(base_url=base_url, timeout=30.0) as http:
            while True:
                n = next(counter)
                if n >= requests:
                    break
                if time.monotonic() > deadline:
                    result.stopped_by_time = True
                    break
                call = reserve_call(run, n) if n % reserve_every == 0 else mix[n % len(mix)]
                headers = {"content-type": "application/json"}
                started = time.perf_counter()
                try:
                    response = http.request(call.method, call.path, json=call.json, content=call.content,
                                            headers=headers)
                    elapsed = time.perf_counter() - started
                    good = call.check(response)
                except (httpx.HTTPError, ValueError, KeyError) as exc:
                    elapsed, good, response = time.perf_counter() - started, False, exc
                local_latencies.append(elapsed)
                kinds[call.kind] = kinds.get(call.kind, 0) + 1
                if not good:
                    detail = response.text[:200] if isinstance(response, httpx.Response) else repr(response)
                    local_failures.append(f"{call.kind} {call.path}: {detail}")
        with lock:
            result.latencies.extend(local_latencies)
            result.failures.extend(local_failures)
            for kind, count in kinds.items():
                result.by_kind[kind] = result.by_kind.get(kind, 0) + count

    threads = [threading.Thread(target=client, args=(no,), daemon=True) for no in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()) + 35.0)  # one request's timeout past the deadline
    result.wall_s = time.perf_counter() - started
    if any(thread.is_alive() for thread in threads):
        result.failures.append("a client thread did not finish")
    return result


def free_port() -> int:
    """A TCP port free on the loopback address right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(workdir: Path, *, ledgers: Sequence[str] = ("memory://",), extra: Sequence[str] = (),
                   start_timeout_s: float = 60.0) -> Iterator[str]:
    """``python -m compliance.server serve`` on a free loopback port; yields its base URL and
    stops it on exit (terminate, then kill)."""
    port = free_port()
    log_path = workdir / f"server-{port}.log"
    args = [sys.executable, "-m", "compliance.server", "serve", "--host", LOOPBACK, "--port", str(port),
            "--log-level", "warning", *extra]
    for ledger in ledgers:
        args += ["--ledger", ledger]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=workdir,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        base = f"http://{LOOPBACK}:{port}"
        try:
            deadline = time.monotonic() + start_timeout_s
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"server exited with {proc.returncode}:\n{log_path.read_text()}")
                try:
                    if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server did not answer within {start_timeout_s:g} s:\n{log_path.read_text()}")
                time.sleep(0.1)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000, help="requests per run (default 20,000)")
    parser.add_argument("--concurrency", type=int, action="append",
                        help="concurrent clients; repeatable (default: 16 and 64)")
    parser.add_argument("--max-seconds", type=float, default=300.0, help="stop each run after this (default 300)")
    parser.add_argument("--ledger", choices=("memory", "sqlite"), default="memory")
    args = parser.parse_args(argv)
    failed = False
    with tempfile.TemporaryDirectory(prefix="compliance-load-") as tmp:
        workdir = Path(tmp)
        for concurrency in args.concurrency or [16, 64]:
            ledger = "memory://" if args.ledger == "memory" else f"sqlite:///{workdir / f'ledger-{concurrency}.db'}"
            with running_server(workdir, ledgers=[ledger]) as base:
                warm = run_load(base, requests=200, concurrency=4, max_seconds=60)  # engine and jieba warm-up
                result = run_load(base, requests=args.requests, concurrency=concurrency, max_seconds=args.max_seconds)
            print(f"concurrency {concurrency}, ledger {args.ledger}: {result.summary()}")
            for failure in (warm.failures + result.failures)[:10]:
                print(f"  FAILED {failure}")
            failed |= bool(warm.failures or result.failures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
