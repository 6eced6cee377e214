"""The memory store's own bookkeeping: expired counts are swept without changing a decision,
and a release after a sweep changes nothing it should not."""

from __future__ import annotations

import gc
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance.frequency import Ledger, Send
from compliance.frequency.stores import memory
from test_ledger_properties import CAPS, START, Reference, summary

in_order = st.lists(
    st.tuples(
        st.sampled_from(["reserve", "reserve", "reserve", "release"]),
        st.sampled_from(["A", "B", "C"]),
        st.sampled_from(["P", "Q"]),
        st.sampled_from(["m", "m", "n", "t"]),
        st.sampled_from(["sms", "push"]),
        st.integers(0, 6 * 24 * 60),  # minutes after START, sorted below
        st.integers(0, 40),  # which earlier operation a release refers to
    ),
    max_size=40,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=in_order)
def test_sweeping_after_every_write_changes_no_decision(monkeypatch: pytest.MonkeyPatch, ops) -> None:
    # Sends in time order (a late one may find counts the sweep was allowed to drop).
    monkeypatch.setattr(memory, "_SWEEP_EVERY", 1)
    ledger, model = Ledger.open("memory://", CAPS), Reference()
    minutes = sorted(op[5] for op in ops)
    sends: list[Send] = []
    for i, ((kind, merchant, recipient, cls, channel, _, ref), minute) in enumerate(zip(ops, minutes)):
        send = Send(channel, cls, merchant, recipient, START + timedelta(minutes=minute), id=f"s{i}")
        sends.append(send)
        if kind == "release" and i:
            ledger.release(sends[ref % i])
            model.release(sends[ref % i])
        else:
            decision = ledger.reserve(send)
            assert summary(decision) == model.judge(send)
            if decision.allowed:
                model.reserve(send)


def test_a_sweep_drops_every_expired_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_SWEEP_EVERY", 1)
    ledger = Ledger.open("memory://", CAPS)
    store = ledger.store
    assert isinstance(store, memory.MemoryStore)
    for i, cls in enumerate(["m", "n", "m", "n"]):
        assert ledger.reserve(Send("sms", cls, "A", f"R{i}", START, id=f"s{i}")).allowed
    assert store._buckets and store._events and store._markers
    # Two months later every window of those sends is closed: one more write sweeps them all.
    late = Send("sms", "m", "B", "R9", START + timedelta(days=62), id="late")
    assert ledger.reserve(late).allowed
    assert store._buckets and all("R9" in key for key in store._buckets)
    assert set(store._buckets) == set(store._expires)
    assert all("R9" in key for key in store._events)
    assert list(store._markers) == ["R9|late"]
    # Releasing a send whose counts were swept is a no-op, not an error.
    ledger.release(Send("sms", "m", "A", "R0", START, id="s0"))


def test_counts_are_not_tracked_by_the_garbage_collector() -> None:
    # What keeps a large memory ledger cheap: full collections never walk its counts.
    ledger = Ledger.open("memory://", CAPS)
    for i in range(50):
        ledger.reserve(Send("sms", "m", "A", f"R{i}", START + timedelta(minutes=i), id=f"s{i}"))
    store = ledger.store
    assert isinstance(store, memory.MemoryStore)
    assert len(store._buckets) >= 50
    for table in (store._buckets, store._expires):
        assert not any(gc.is_tracked(per_key) for per_key in table.values())


def test_each_sweep_finds_the_next_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    # A sweep returns at once while nothing can have expired; after one that ran, the next
    # expiry must still be known, whichever kind of entry holds it.
    monkeypatch.setattr(memory, "_SWEEP_EVERY", 1)
    ledger = Ledger.open("memory://", CAPS)
    store = ledger.store
    assert isinstance(store, memory.MemoryStore)
    hours = timedelta(hours=1)
    # R1: a rolling event (3 h) and a monthly count (to July) of merchant A; the later sends
    # have no id, so no marker (whose expiry would be the same as their event's).
    assert ledger.reserve(Send("push", "n", "A", "R1", START, id="a")).allowed
    assert ledger.reserve(Send("push", "m", "B", "R2", START + 4 * hours)).allowed
    assert not any("R1" in key for key in store._events)  # swept: expired at START + 3 h
    assert any("R2" in key for key in store._events) and store._buckets
    assert ledger.reserve(Send("push", "m", "B", "R3", START + 8 * hours)).allowed
    assert not any("R2" in key for key in store._events)  # expired at START + 7 h
    assert store._buckets  # the month's count of merchant A stays
