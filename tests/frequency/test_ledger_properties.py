"""Property: for random send sequences every store decides exactly as a simple reference model.

The model keeps every recorded send in a list and counts, for each cap, the recorded sends of
the same scope that share a window with the new one — no buckets, no stores, no cleverness.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance.frequency import Cap, Decision, Override, Send, Window
from ledger_fixtures import sh

START = sh("2024-06-01T18:00")
CAPS = [
    Cap("day", None, frozenset({"sms"}), frozenset({"m", "t"}), ("recipient",),
        Window("calendar", "day"), 2,
        overrides=(Override("promo", sh("2024-06-02T12:00"), sh("2024-06-03T06:00"), 3),)),
    Cap("two-days", None, frozenset({"sms"}), frozenset({"m"}), ("merchant", "recipient"),
        Window("calendar", "day", count=2), 1, exempt_merchants=frozenset({"C"})),
    Cap("hours", None, frozenset(), frozenset({"m", "n"}), ("recipient",),
        Window("rolling", seconds=3 * 3600), 2, count_failures=False),
    Cap("month-utc", None, frozenset(), frozenset({"n"}), ("merchant",),
        Window("calendar", "month", tz="UTC"), 3, severity="warning"),
]


@dataclass
class Recorded:
    send: Send
    released: bool = False


@dataclass
class Reference:
    """The obvious implementation of the caps, for comparison."""

    recorded: list[Recorded] = field(default_factory=list)

    def counts(self, send: Send) -> dict[str, int]:
        out: dict[str, int] = {}
        for cap in CAPS:
            if not cap.applies_to(send):
                continue
            n = 0
            for r in self.recorded:
                other = r.send
                if not cap.applies_to(other) or (r.released and not cap.count_failures):
                    continue
                if any(getattr(other, a) != getattr(send, a) for a in cap.scope):
                    continue
                w = cap.window
                if w.kind == "rolling":
                    shared = abs(other.at - send.at) < timedelta(seconds=w.seconds or 0)
                else:
                    shared = abs(w.bucket_of(other.at) - w.bucket_of(send.at)) < w.count
                n += shared
            out[cap.rule] = n
        return out

    def judge(self, send: Send) -> tuple[bool, dict[str, int]]:
        counts = self.counts(send)
        violated = {}
        allowed = True
        for cap in CAPS:
            if cap.rule in counts and counts[cap.rule] >= cap.limit_at(send.at):
                violated[cap.rule] = counts[cap.rule]
                allowed = allowed and not cap.blocking
        return allowed, violated

    def reserve(self, send: Send) -> tuple[bool, dict[str, int]]:
        allowed, violated = self.judge(send)
        if allowed:
            self.recorded.append(Recorded(send))
        return allowed, violated

    def release(self, send: Send) -> None:
        for r in self.recorded:
            if r.send.id == send.id and not r.released:
                r.released = True


def summary(decision: Decision) -> tuple[bool, dict[str, int]]:
    counts = {}
    for f in decision.violations:
        count_line = next(line for line in f.explanation if line.startswith("count: "))
        counts[f.rule] = int(count_line.split()[1])
    return decision.allowed, counts


operations = st.lists(
    st.tuples(
        st.sampled_from(["reserve", "reserve", "reserve", "peek", "release"]),
        st.sampled_from(["A", "B", "C"]),
        st.sampled_from(["P", "Q"]),
        st.sampled_from(["m", "m", "n", "t", "x"]),
        st.sampled_from(["sms", "push"]),
        st.integers(0, 3 * 24 * 60),  # minutes after START, sorted below
        st.integers(0, 30),  # a late arrival: up to 30 minutes behind the sequence
        st.integers(0, 40),  # which earlier operation a release refers to
    ),
    max_size=40,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_stores_agree_with_the_reference_model(make_ledger, ops) -> None:
    ledger = make_ledger(CAPS)
    model = Reference()
    minutes = sorted(op[5] for op in ops)
    sends: list[Send] = []
    try:
        for i, ((kind, merchant, recipient, cls, channel, _, late, ref), minute) in enumerate(zip(ops, minutes)):
            at = START + timedelta(minutes=max(minute - late, 0))
            send = Send(channel, cls, merchant, recipient, at, id=f"s{i}")
            sends.append(send)
            if kind == "release" and i:
                target = sends[ref % i]
                ledger.release(target)
                model.release(target)
            elif kind == "peek":
                assert summary(ledger.peek(send)) == model.judge(send)
            else:
                decision = ledger.reserve(send)
                expected_allowed, expected_counts = model.judge(send)
                assert summary(decision) == (expected_allowed, expected_counts)
                if expected_allowed:
                    model.reserve(send)
                    assert decision.retry_after is None
                elif all(r.send.at <= at for r in model.recorded):
                    check_retry_after(model, send, decision.retry_after)
    finally:
        ledger.close()


def check_retry_after(model: Reference, send: Send, retry: datetime | None) -> None:
    """``retry_after`` is a time at which the model allows the send, and the earliest one."""
    assert retry is not None  # every cap here has a positive limit
    assert retry > send.at
    moved = Send(send.channel, send.message_class, send.merchant, send.recipient, retry, send.id)
    assert model.judge(moved)[0]
    just_before = retry - timedelta(microseconds=1)
    earlier = Send(send.channel, send.message_class, send.merchant, send.recipient, just_before, send.id)
    assert not model.judge(earlier)[0]


batches = st.lists(
    st.tuples(
        st.sampled_from(["A", "B", "C"]),
        st.sampled_from(["P", "Q"]),
        st.sampled_from(["m", "m", "n", "t", "x"]),
        st.sampled_from(["sms", "push"]),
        st.integers(0, 3 * 24 * 60),  # minutes after START, sorted below
        st.integers(0, 30),  # a late arrival
        st.integers(1, 8),  # size of the batch this send closes (with the ones before it)
        st.booleans(),  # release this send after its batch
    ),
    max_size=40,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=batches)
def test_reserve_many_decides_as_the_reference_model_one_by_one(make_ledger, ops) -> None:
    # Calendar-only caps take SQLite's batched path, all caps its per-send one.
    for caps in (CAPS, [c for c in CAPS if c.window.kind == "calendar"]):
        ledger = make_ledger(caps)
        model = Reference()
        minutes = sorted(op[4] for op in ops)
        pending: list[Send] = []
        try:
            for i, ((merchant, recipient, cls, channel, _, late, size, release), minute) in enumerate(zip(ops, minutes)):
                at = START + timedelta(minutes=max(minute - late, 0))
                pending.append(Send(channel, cls, merchant, recipient, at, id=f"s{i}"))
                if len(pending) < size and i < len(ops) - 1:
                    continue
                decisions = ledger.reserve_many(pending)
                assert len(decisions) == len(pending)
                for send, decision in zip(pending, decisions):
                    expected = model.judge(send) if caps is CAPS else _judge(model, caps, send)
                    assert summary(decision) == expected
                    if expected[0]:
                        model.recorded.append(Recorded(send))  # judged above, by these caps
                if release:
                    ledger.release(pending[-1])
                    model.release(pending[-1])
                pending = []
        finally:
            ledger.close()


def _judge(model: Reference, caps: list[Cap], send: Send) -> tuple[bool, dict[str, int]]:
    """`Reference.judge` for a subset of `CAPS` (the counts are per cap, so a subset judges
    as the ledger of those caps alone)."""
    counts = {rule: n for rule, n in model.counts(send).items() if rule in {c.rule for c in caps}}
    violated, allowed = {}, True
    for cap in caps:
        if cap.rule in counts and counts[cap.rule] >= cap.limit_at(send.at):
            violated[cap.rule] = counts[cap.rule]
            allowed = allowed and not cap.blocking
    return allowed, violated
