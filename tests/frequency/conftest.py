"""Fixtures for the frequency ledger tests: JD SMS caps as data, and one ledger factory that
runs every test against memory://, sqlite:/// and a real redis-server."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from compliance.frequency import Cap, Ledger
from ledger_fixtures import jd_sms_caps

@pytest.fixture
def jd_caps() -> list[Cap]:
    return jd_sms_caps()


# -- redis-server ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free loopback port, for the whole session."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed; CI must run the Redis ledger tests (make test)")
        pytest.skip("redis-server not installed (apt-get install redis-server); CI runs these")
    import redis

    workdir = tmp_path_factory.mktemp("redis")
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"redis-server did not start on port {port}")
            time.sleep(0.05)
    client.close()
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- one factory, three stores ---------------------------------------------------------------

_prefixes = itertools.count()

LedgerFactory = Callable[..., Ledger]


def store_url(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL for a fresh, empty ledger of ``kind``."""
    n = next(_prefixes)
    if kind == "memory":
        return "memory://"
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / f'ledger-{n}.db'}"
    base = request.getfixturevalue("redis_url")
    # A fresh key prefix per ledger isolates tests without FLUSHDB between them.
    return f"{base}?prefix=t{os.getpid()}-{n}:"


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_ledger(
    store_kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[LedgerFactory]:
    """``make_ledger(caps, **options)`` → a fresh ledger on the parametrized store."""
    opened: list[Ledger] = []

    def make(caps: Sequence[Cap], **options: Any) -> Ledger:
        ledger = Ledger.open(store_url(store_kind, request, tmp_path), caps, **options)
        opened.append(ledger)
        return ledger

    yield make
    for ledger in opened:
        ledger.close()
