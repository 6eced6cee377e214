"""Fixtures for the frequency ledger tests: JD SMS caps as data, and one ledger factory that
runs every test against memory://, sqlite:/// and a real redis-server."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from compliance.frequency import Cap, Ledger
from ledger_fixtures import jd_sms_caps
from redis_server import free_port, running_redis

@pytest.fixture
def jd_caps() -> list[Cap]:
    return jd_sms_caps()


# -- redis-server ----------------------------------------------------------------------------


_free_port = free_port  # imported by the fault and error tests


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free loopback port, for the whole session."""
    with running_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


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
