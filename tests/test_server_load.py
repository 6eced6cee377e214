"""Bounded load on loopback: a real uvicorn service keeps answering, correctly, under concurrency;
the frequency caps stay exact when many reservers race for one recipient over HTTP.

The driver (`run_load`, `running_server`) is benchmarks/load_http.py, which runs the long
version and prints the figures. Here the load is small (a few seconds) and bounded by both a
request count and a wall-time limit; the assertions are about errors and correctness, not speed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis_server import running_redis

pytest.importorskip("fastapi", reason="the server extra (fastapi, uvicorn) is not installed")
httpx = pytest.importorskip("httpx", reason="httpx (dev extra) is needed to talk to the server")

from load_driver import load_http  # noqa: E402

pytestmark = pytest.mark.load

#: JD SMS caps in the built-in pack: a recipient gets at most 3 marketing SMS a calendar day
#: from all merchants (JD-SMS-18) and 1 per merchant in 2 days (JD-SMS-20).
DAILY_CAP = 3
MERCHANT_CAP = 1


def test_service_answers_a_bounded_mixed_load_without_errors(tmp_path: Path) -> None:
    with load_http.running_server(tmp_path) as base:
        result = load_http.run_load(base, requests=1500, concurrency=8, max_seconds=60)
    assert result.failures == []
    assert not result.stopped_by_time, result.summary()
    assert result.requests == 1500
    assert set(result.by_kind) == {"lint", "eligibility", "schedule", "reserve", "bad"}
    print(result.summary())


def test_the_load_driver_checks_answers(tmp_path: Path) -> None:
    """The driver itself: a wrong expectation is reported as a failure, not counted as success."""
    call = load_http._lint("【京东】全网最低价，快来抢购！！回T退订", True)  # this text is denied, not ok
    with load_http.running_server(tmp_path) as base, httpx.Client(base_url=base) as http:
        response = http.post(call.path, json=call.json)
    assert response.status_code == 200 and call.check(response) is False


# -- caps under concurrent reservers -----------------------------------------------------------


def _race(base: str, sends: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """POST every send to /v1/reserve at (nearly) the same moment, one thread per send."""
    barrier = threading.Barrier(len(sends))
    answers: list[dict[str, Any]] = [{} for _ in sends]

    def reserve(i: int) -> None:
        with httpx.Client(base_url=base, timeout=30.0) as http:
            barrier.wait(30)
            response = http.post("/v1/reserve", json={"send": sends[i]})
            answers[i] = {"status": response.status_code, **response.json()}

    threads = [threading.Thread(target=reserve, args=(i,)) for i in range(len(sends))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    return answers


def _send(recipient: str, merchant: str, n: int) -> dict[str, Any]:
    return {"channel": "jd.sms", "message_class": "marketing", "merchant": merchant, "recipient": recipient,
            "at": "2026-03-02T10:00:00+08:00", "id": f"{recipient}-{n}"}


def _assert_caps_exact(base: str) -> None:
    # 24 merchants race for one recipient: exactly the daily cap gets through.
    answers = _race(base, [_send("13800000001", f"m{n}", n) for n in range(24)])
    assert {a["status"] for a in answers} == {200}
    assert sum(a["allowed"] for a in answers) == DAILY_CAP
    assert all(v["ref"] in ("JD-SMS-18", "JD-SMS-19") for a in answers if not a["allowed"] for v in a["violations"])
    # 16 reservers of one merchant race for another recipient: exactly one gets through.
    answers = _race(base, [_send("13800000002", "solo", n) for n in range(16)])
    assert {a["status"] for a in answers} == {200}
    assert sum(a["allowed"] for a in answers) == MERCHANT_CAP


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return request.getfixturevalue("redis_server")


def test_caps_are_exact_under_concurrent_reservers(tmp_path: Path, ledger_url: str) -> None:
    with load_http.running_server(tmp_path, ledgers=[ledger_url]) as base:
        _assert_caps_exact(base)


# -- redis-server for the redis case (as tests/frequency starts it) ---------------------------


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_redis(tmp_path_factory.mktemp("redis-http")) as url:
        yield url
