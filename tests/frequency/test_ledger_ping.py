"""`Ledger.ping`: does the store answer now? What a service checks at start-up and for readiness.

`Ledger.open` does not connect (a ledger recovers by itself when its store comes back), so a
Redis that cannot be reached is only found out by a call: `ping` is that call, and records
nothing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from compliance.frequency import Ledger, LedgerUnavailableError, Send
from conftest import LedgerFactory, _free_port
from ledger_fixtures import jd_sms_caps, sh


def test_ping_answers_on_every_store_and_records_nothing(make_ledger: LedgerFactory) -> None:
    ledger = make_ledger(jd_sms_caps())
    ledger.ping()
    send = Send("jd.sms", "marketing", "m", "r", sh("2024-06-01T12:00"))
    assert ledger.peek(send).allowed
    ledger.ping()
    assert ledger.reserve(send).allowed  # the daily cap still has all its slots


def test_ping_fails_on_a_redis_that_cannot_be_reached_whatever_fail_open_says() -> None:
    url = f"redis://:s3cret@127.0.0.1:{_free_port()}/0?socket_timeout=1"
    for fail_open in (False, True):
        with Ledger.open(url, jd_sms_caps(), fail_open=fail_open) as ledger:  # opening does not connect
            with pytest.raises(LedgerUnavailableError, match="ping could not reach Redis") as info:
                ledger.ping()
        assert "nothing was recorded" in str(info.value)
        assert "s3cret" not in str(info.value) and ":***@" in str(info.value)


def test_ping_fails_on_a_sqlite_file_whose_table_is_gone(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    with Ledger.open(f"sqlite:///{path}", jd_sms_caps()) as ledger:
        ledger.ping()
        conn = sqlite3.connect(path)
        conn.execute("DROP TABLE counts")
        conn.close()
        with pytest.raises(LedgerUnavailableError, match="no such table: counts"):
            ledger.ping()
