"""Errors: bad URLs, an unreachable Redis (fail-closed / fail-open), a locked SQLite file, bad sends."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from compliance.frequency import (
    Cap,
    Ledger,
    LedgerError,
    LedgerLockedError,
    LedgerUnavailableError,
    LedgerURLError,
    Send,
    SendError,
    Window,
)
from ledger_fixtures import DAY, SHANGHAI, jd_sms_caps, sh
from conftest import _free_port


@pytest.mark.parametrize(
    "url",
    ["postgres://db/x", "sqlite://relative.db", "sqlite:///", "memory://host", "nonsense",
     "sqlite:///x.db?busy_timeout=soon", "sqlite:///x.db?mode=ro"],
)
def test_bad_urls_are_rejected_clearly(url: str) -> None:
    with pytest.raises(LedgerURLError, match="bad ledger URL"):
        Ledger.open(url, jd_sms_caps())


def test_ledger_errors_are_runtime_errors() -> None:
    assert issubclass(LedgerUnavailableError, LedgerError)
    assert issubclass(LedgerError, RuntimeError)


def test_duplicate_rule_ids_and_bad_templates_are_rejected() -> None:
    cap = jd_sms_caps()[0]
    with pytest.raises(ValueError, match="duplicate"):
        Ledger.open("memory://", [cap, cap])
    broken = Cap("x", None, frozenset(), frozenset({"m"}), ("recipient",), DAY, 1, message="{amount}")
    with pytest.raises(ValueError, match="template"):
        Ledger.open("memory://", [broken])


def test_redis_down_fails_closed_by_default() -> None:
    url = f"redis://127.0.0.1:{_free_port()}/0"  # nothing listens there
    with Ledger.open(url, jd_sms_caps()) as ledger:
        send = Send("jd.sms", "marketing", "A", "P", sh("2024-06-01T08:00"))
        with pytest.raises(LedgerUnavailableError, match="Redis ledger"):
            ledger.reserve(send)
        with pytest.raises(LedgerUnavailableError):
            ledger.reserve_many([send])


def test_redis_down_fail_open_allows_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    url = f"redis://127.0.0.1:{_free_port()}/0"
    with Ledger.open(url, jd_sms_caps(), fail_open=True) as ledger:
        send = Send("jd.sms", "marketing", "A", "P", sh("2024-06-01T08:00"), id="s1")
        d = ledger.reserve(send)
        assert d.allowed
        assert [(f.rule, f.severity, f.category) for f in d.violations] == [
            ("frequency-ledger-unavailable", "warning", "frequency")
        ]
        assert all(x.allowed for x in ledger.reserve_many([send, send]))
        ledger.release(send)  # swallowed too
    assert "failing open" in caplog.text


def test_locked_sqlite_waits_then_raises_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    ledger = Ledger.open(f"sqlite:///{path}?busy_timeout=0.2", jd_sms_caps())
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    send = Send("jd.sms", "marketing", "A", "P", sh("2024-06-01T08:00"))
    with pytest.raises(LedgerLockedError, match="locked"):
        ledger.reserve(send)
    with pytest.raises(LedgerLockedError):
        ledger.reserve_many([send, send])
    holder.execute("ROLLBACK")
    holder.close()
    assert ledger.reserve(send).allowed  # nothing was half-written before
    assert not ledger.reserve(send).allowed
    ledger.close()


def test_unopenable_sqlite_path_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(LedgerUnavailableError, match="unable to open"):
        Ledger.open(f"sqlite:///{tmp_path}/missing-dir/x.db", jd_sms_caps())


def test_closed_ledger_refuses(tmp_path: Path) -> None:
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'c.db'}", jd_sms_caps())
    ledger.close()
    with pytest.raises(LedgerError, match="closed"):
        ledger.reserve(Send("jd.sms", "marketing", "A", "P", sh("2024-06-01T08:00")))


def test_send_from_mapping_parses_and_validates() -> None:
    send = Send.from_mapping({"channel": "jd.sms", "message_class": "marketing", "merchant": "A",
                              "recipient": "138", "at": "2024-06-01T08:00:00", "id": "x"})
    assert send.at == datetime(2024, 6, 1, 8, tzinfo=SHANGHAI) and send.id == "x"
    aware = Send.from_mapping({"channel": "c", "message_class": "m", "merchant": "A",
                               "recipient": "r", "at": "2024-06-01T00:00:00Z"})
    assert aware.at.utcoffset() == timedelta(0)
    with pytest.raises(SendError) as err:
        Send.from_mapping({"channel": "c", "merchant": "", "recipient": 5, "at": "yesterday",
                           "colour": "red"})
    text = str(err.value)
    for name in ("message_class", "merchant", "recipient", "at", "colour"):
        assert name in text
    with pytest.raises(SendError):
        Send.from_mapping(["not", "a", "mapping"])  # type: ignore[arg-type]
    with pytest.raises(SendError, match="datetime"):
        Send("c", "m", "A", "P", "2024-06-01")  # type: ignore[arg-type]


def test_cap_and_window_validation() -> None:
    with pytest.raises(ValueError, match="scope"):
        Cap("x", None, frozenset(), frozenset({"m"}), ("phone",), DAY, 1)
    with pytest.raises(ValueError, match="unit"):
        Window("calendar", "week")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seconds"):
        Window("rolling")
    with pytest.raises(ValueError, match="time zone"):
        Window("calendar", "day", tz="Mars/Olympus")


@pytest.mark.parametrize("year", [1, 1969, 3000, 9999])
def test_send_times_outside_the_supported_years_are_a_send_error(year: int) -> None:
    """Windows add days to a send time: near datetime's edges that overflowed inside the ledger."""
    import datetime as _dt

    from compliance.errors import ComplianceError
    from compliance.frequency.send import Send, SendError

    with pytest.raises(SendError, match="outside the supported years 1970–2999") as info:
        Send.from_mapping({"channel": "jd.sms", "message_class": "marketing", "merchant": "m",
                           "recipient": "r", "at": _dt.datetime(year, 6, 1, tzinfo=_dt.timezone.utc)})
    assert isinstance(info.value, ComplianceError)


def test_a_url_socket_timeout_bounds_connecting_too() -> None:
    """``?socket_timeout=0.5`` alone used to leave connecting bounded by the 5 s default."""
    from compliance.frequency.stores.redis import RedisStore

    store = RedisStore("redis://127.0.0.1:1/0?socket_timeout=0.5")
    kwargs = store._client.connection_pool.connection_kwargs
    assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (0.5, 0.5)
    explicit = RedisStore("redis://127.0.0.1:1/0?socket_timeout=0.5&socket_connect_timeout=2")
    assert explicit._client.connection_pool.connection_kwargs["socket_connect_timeout"] == 2.0
