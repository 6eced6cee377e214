"""The HTTP service: answers equal the library's, limits and structured errors, a real uvicorn.

Most tests use FastAPI's TestClient (in process); `test_real_uvicorn_server` starts
``python -m compliance.server serve`` on a free 127.0.0.1 port and talks to it with httpx.
"""

from __future__ import annotations

import argparse
import builtins
import datetime as dt
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the server extra (fastapi, uvicorn) is not installed")
httpx = pytest.importorskip("httpx", reason="httpx (dev extra) is needed to talk to the server")

from fastapi.testclient import TestClient  # noqa: E402

from compliance.engine import Engine  # noqa: E402
from compliance.server import create_app  # noqa: E402
from compliance.server.app import suggestion_dict  # noqa: E402
from compliance.server.page import measure  # noqa: E402
from compliance.server.command import parse_ledgers, register  # noqa: E402

needs_ledger = pytest.mark.skipif(not hasattr(Engine, "ledger"),
                                  reason="Engine.ledger has not landed yet; passes once it does")
needs_schedule = pytest.mark.skipif(not hasattr(Engine, "schedule"),
                                    reason="Engine.schedule has not landed yet; passes once it does")

MESSAGES = [
    "【京东】全网最低价，快来抢购！！回T退订",
    "【好店】新品上市，详询13800138000，回T退订",
    "你好",
    "【好店】您的订单已发货，请注意查收。回T退订",
]
MB_OK = {"fans": 86_000, "private_posts_last_month": 52, "avg_material_uv": 210.5, "category_avg_uv": 150.0,
         "bottom3_click_rate_months": 0, "messages_last_month": 24, "revoked_on": None}
SEND = {"channel": "jd.sms", "message_class": "marketing", "merchant": "m0", "recipient": "13800000000",
        "at": "2026-03-02T10:00:00+08:00"}


class Without:
    """An engine that lacks some methods (as one built before they existed)."""

    def __init__(self, engine: Engine, *missing: str) -> None:
        self._engine = engine
        self._missing = set(missing)

    def __getattr__(self, name: str) -> Any:
        if name in self._missing:
            raise AttributeError(name)
        return getattr(self._engine, name)


@pytest.fixture(scope="module")
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine, ledgers={"default": "memory://", "audit": "memory://"})) as test_client:
        yield test_client


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def _findings(findings: list[Any]) -> list[dict[str, Any]]:
    """The library's findings as the API answers them: ``suggestions`` always there, as objects."""
    return [{**f.to_dict(), "suggestions": [suggestion_dict(s) for s in f.to_dict().get("suggestions") or ()]}
            for f in findings]


def _when(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


# -- answers equal the library's ----------------------------------------------------------


@pytest.mark.parametrize("message", MESSAGES)
def test_lint_equals_engine(client: TestClient, engine: Engine, message: str) -> None:
    response = client.post("/v1/lint", json={"message": message, "channel": "jd.sms"})
    assert response.status_code == 200
    report = engine.lint(message, channel="jd.sms")
    assert response.json() == {"ok": report.ok, "channel": "jd.sms", "findings": _findings(report.findings),
                               "fields": report.fields, "offsets": report.offsets,
                               "truncated": False, "finding_count": len(report.findings),
                               "measure": measure(engine, "jd.sms", report.fields)}


def test_lint_fields_at_and_via_template(client: TestClient, engine: Engine) -> None:
    message = {"signature": "【好店】", "body": "全网最低价，限时抢购！！", "optout": "回T退订"}
    at = dt.datetime(2026, 3, 2, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    response = client.post("/v1/lint", json={"message": message, "channel": "jd.sms", "at": at.isoformat(),
                                             "via_template": True})
    report = engine.lint(message, channel="jd.sms", at=at, via_template=True)
    assert response.status_code == 200
    body = response.json()
    assert body["findings"] == _findings(report.findings) and body["ok"] is report.ok is False
    assert body["fields"]["signature"] == "好店" and body["offsets"] == {"signature": 1}


#: About 60 KB of copy with about 4,000 findings (an ad-law word and doubled punctuation per unit).
FLOOD = "【好店】" + "最低价！！" * 2_000 + "回T退订"


def test_a_lint_answer_over_max_findings_is_truncated_and_says_so(engine: Engine) -> None:
    report = engine.lint(FLOOD, channel="jd.sms")
    request = json.dumps({"message": FLOOD, "channel": "jd.sms"}, ensure_ascii=False).encode()
    assert len(request) < 64 * 1024 and len(report.findings) > 3_000
    with TestClient(create_app(engine)) as client:
        response = client.post("/v1/lint", content=request, headers={"content-type": "application/json"})
        assert response.status_code == 200
        body = response.json()
        assert body["truncated"] is True and body["finding_count"] == len(report.findings)
        assert len(body["findings"]) == 200 and body["ok"] is False
        assert len(response.content) < 150_000, "200 findings and the fields, not 4,000 findings"
        errors = _findings([f for f in report.findings if f.severity == "error"])
        assert body["findings"] == errors[:200]  # errors first, in the engine's order
        assert body["fields"] == report.fields and body["offsets"] == report.offsets

        few = client.post("/v1/lint", json={"message": FLOOD, "channel": "jd.sms", "max_findings": 3}).json()
        assert (len(few["findings"]), few["truncated"], few["finding_count"]) == (3, True, len(report.findings))
        none = client.post("/v1/lint", json={"message": FLOOD, "channel": "jd.sms", "max_findings": 0}).json()
        assert (none["findings"], none["truncated"], none["ok"]) == ([], True, False)
        more = client.post("/v1/lint", json={"message": FLOOD, "channel": "jd.sms", "max_findings": 10**6}).json()
        assert len(more["findings"]) == 200, "a request cannot ask for more than the server's limit"
        small = client.post("/v1/lint", json={"message": MESSAGES[0], "channel": "jd.sms", "max_findings": 2.0}).json()
        assert len(small["findings"]) == 2 and small["truncated"] is True
        for bad in (-1, "5", True, 2.5):
            error = _error(client.post("/v1/lint", json={"message": "你好", "channel": "jd.sms", "max_findings": bad}),
                           422, "validation_error")
            assert ["body", "max_findings"] == error["details"][0]["loc"]
    with TestClient(create_app(engine, max_findings=10_000)) as roomy:
        every = roomy.post("/v1/lint", content=request, headers={"content-type": "application/json"})
        assert every.json()["truncated"] is False and every.json()["findings"] == _findings(report.findings)
        assert len(every.content) > 600_000  # what every answer was before the limit


def test_most_severe_keeps_errors_first_in_their_order(engine: Engine) -> None:
    from compliance.server.app import most_severe

    found = [{"severity": s, "n": i} for i, s in enumerate(["info", "warning", "error", "warning", "error"])]
    assert most_severe(found, 5) is found
    assert [f["n"] for f in most_severe(found, 3)] == [1, 2, 4]
    assert [f["n"] for f in most_severe(found, 1)] == [2]
    assert most_severe(found, 0) == []
    with pytest.raises(ValueError, match="max_findings"):
        create_app(engine, max_findings=0)


def test_eligibility_equals_engine(client: TestClient, engine: Engine) -> None:
    for shop in (MB_OK, {**MB_OK, "fans": 42_000}):
        facts = {"shop": shop, "today": "2026-11-25"}
        response = client.post("/v1/eligibility", json={"facts": facts, "channel": "jd.message_box"})
        decision = engine.eligibility(facts, channel="jd.message_box")
        assert response.status_code == 200
        assert response.json() == json.loads(json.dumps(
            {"eligible": decision.eligible, "unmet": _findings(decision.unmet), "grants": decision.grants,
             "channel": "jd.message_box"}, default=str))
    assert response.json()["eligible"] is False


def test_mistyped_facts_are_400_listing_each_and_coerce_reads_them(client: TestClient) -> None:
    """Strict facts over HTTP: "12" for an int and "yes" for a bool are a 400 invalid_facts whose
    details name the field, the expected and the given type; ``"coerce": true`` reads them."""
    facts = {"shop": {**MB_OK, "fans": "12", "messages_last_month": True}, "today": "2026-11-25"}
    error = _error(client.post("/v1/eligibility", json={"facts": facts, "channel": "jd.message_box"}),
                   400, "invalid_facts")
    assert [(d["field"], d["expected"], d["given"]) for d in error["details"]] == \
        [("shop.fans", "int", "str"), ("shop.messages_last_month", "int", "bool")]
    assert "shop.fans: expected int, got str" in error["message"]
    assert all(d["message"] in error["message"] for d in error["details"])
    response = client.post("/v1/eligibility", json={"facts": facts, "channel": "jd.message_box", "coerce": True})
    assert response.status_code == 200, response.text
    assert [f["ref"] for f in response.json()["unmet"]] == ["JD-MB-01", "JD-MB-04"]

    account = {"kind": "service", "verified": "yes", "fans": 60_000}
    error = _error(client.post("/v1/eligibility", json={"facts": {"account": account}, "channel": "wechat.account"}),
                   400, "invalid_facts")
    assert [(d["field"], d["expected"], d["given"]) for d in error["details"]] == [("account.verified", "bool", "str")]
    response = client.post("/v1/eligibility",
                           json={"facts": {"account": account}, "channel": "wechat.account", "coerce": True})
    assert response.status_code == 200 and response.json()["eligible"] is True
    # coerce itself is strict: a bool, not "yes"
    _error(client.post("/v1/eligibility", json={"facts": {"account": account}, "channel": "wechat.account",
                                                "coerce": "yes"}), 422, "validation_error")


@needs_schedule
def test_mistyped_send_facts_of_a_schedule_are_400(client: TestClient) -> None:
    send = {"channel": "jd.sms", "at": "2026-03-02T10:00:00+08:00", "template_approved": "yes"}
    error = _error(client.post("/v1/schedule", json={"send": send}), 400, "invalid_facts")
    assert [(d["field"], d["expected"], d["given"]) for d in error["details"]] == \
        [("send.template_approved", "bool", "str")]
    assert client.post("/v1/schedule", json={"send": send, "coerce": True}).status_code == 200


def test_rules_listing(client: TestClient, engine: Engine) -> None:
    every = client.get("/v1/rules").json()
    assert every["channel"] is None
    assert [r["id"] for r in every["rules"]] == [r.id for r in engine.rules()]
    jd = client.get("/v1/rules", params={"channel": "jd.sms"}).json()
    assert [r["id"] for r in jd["rules"]] == [r.id for r in engine.rules("jd.sms")]
    first = jd["rules"][0]
    assert set(first) == {"id", "kind", "pack", "channel", "refs", "severity", "category", "title", "message",
                          "explain", "source"}
    assert "/" not in first["source"] and first["source"].endswith(f":{engine.rules('jd.sms')[0].line}")
    error = _error(client.get("/v1/rules", params={"channel": "jd.smss"}), 404, "unknown_channel")
    assert "jd.sms" in error["message"]


@needs_ledger
def test_reserve_equals_a_ledger_of_the_engine(engine: Engine) -> None:
    sends = [{**SEND, "merchant": f"m{i % 4}", "id": f"s{i}"} for i in range(6)]
    direct = engine.ledger("memory://")
    expected = [direct.reserve(dict(send)) for send in sends]
    with TestClient(create_app(engine, ledgers="memory://")) as client:
        got = [client.post("/v1/reserve", json={"send": send}).json() for send in sends]
    assert [g["allowed"] for g in got] == [d.allowed for d in expected]
    assert [g["violations"] for g in got] == [_findings(d.violations) for d in expected]
    assert [_when(g["retry_after"]) for g in got] == [d.retry_after for d in expected]
    assert {g["ledger"] for g in got} == {"default"}
    assert not all(d.allowed for d in expected), "the sends must hit a cap for this test to mean anything"


@needs_ledger
def test_reserve_named_ledgers_are_separate(client: TestClient) -> None:
    send = {**SEND, "recipient": "13900000001", "merchant": "solo"}
    first = client.post("/v1/reserve", json={"send": send, "ledger": "audit"}).json()
    again = client.post("/v1/reserve", json={"send": send, "ledger": "audit"}).json()
    other = client.post("/v1/reserve", json={"send": send}).json()
    assert (first["allowed"], again["allowed"], other["allowed"]) == (True, False, True)
    assert first["ledger"] == "audit" and other["ledger"] == "default"


@needs_ledger
def test_reserve_errors(engine: Engine, client: TestClient) -> None:
    error = _error(client.post("/v1/reserve", json={"send": SEND, "ledger": "audits"}), 404, "unknown_ledger")
    assert error["details"] == {"ledger": "audits", "ledgers": ["audit", "default"]}
    assert "audit" in error["message"]
    for blank in ("", "  ", "\x1c"):  # what Send rejects, the schema rejects first (OpenAPI says so)
        error = _error(client.post("/v1/reserve", json={"send": {**SEND, "merchant": blank}}), 422, "validation_error")
        assert ["body", "send", "merchant"] in [d["loc"] for d in error["details"]]
    error = _error(client.post("/v1/reserve", json={"send": {k: v for k, v in SEND.items() if k != "at"}}),
                   422, "validation_error")
    assert ["body", "send", "at"] in [d["loc"] for d in error["details"]]
    with TestClient(create_app(engine)) as bare:
        _error(bare.post("/v1/reserve", json={"send": SEND}), 501, "ledger_not_configured")


@pytest.mark.parametrize("ledger", ["sqlite:///tmp/x.db", "/etc/passwd", "../ledger.db", "memory://"])
def test_a_request_cannot_give_a_ledger_url_or_path(client: TestClient, ledger: str) -> None:
    error = _error(client.post("/v1/reserve", json={"send": SEND, "ledger": ledger}), 422, "validation_error")
    assert error["details"][0]["loc"] == ["body", "ledger"]


def test_reserve_and_schedule_answer_501_without_engine_support(engine: Engine) -> None:
    with TestClient(create_app(Without(engine, "ledger", "schedule"), ledgers="memory://")) as client:
        error = _error(client.post("/v1/reserve", json={"send": SEND}), 501, "not_implemented")
        assert "Engine.ledger" in error["message"]
        error = _error(client.post("/v1/schedule", json={"send": SEND}), 501, "not_implemented")
        assert "Engine.schedule" in error["message"]
        ready = client.get("/readyz").json()
        assert ready["status"] == "ready" and ready["ledgers"] == {"default": "not_implemented"}


@needs_schedule
def test_schedule_equals_engine(client: TestClient, engine: Engine) -> None:
    for at in ("2026-03-02T23:30:00+08:00", "2026-03-02T12:00:00+08:00"):
        send = {"channel": "jd.sms", "message_class": "marketing", "audience_size": 10, "at": at}
        response = client.post("/v1/schedule", json={"send": send})
        decision = engine.schedule({**send, "at": dt.datetime.fromisoformat(at)})
        assert response.status_code == 200
        body = response.json()
        assert (body["allowed"], _when(body["earliest"]), body["reasons"], body["channel"]) == \
            (decision.allowed, decision.earliest, _findings(decision.reasons), "jd.sms")
    late = client.post("/v1/schedule", json={"send": {**send, "at": "2026-03-02T23:30:00+08:00"}}).json()
    assert late["allowed"] is False and late["reasons"]


# -- errors ----------------------------------------------------------------------------------


def test_unknown_channel_is_404_with_a_suggestion(client: TestClient) -> None:
    error = _error(client.post("/v1/lint", json={"message": "你好", "channel": "jd.smss"}), 404, "unknown_channel")
    assert "did you mean jd.sms" in error["message"]


@pytest.mark.parametrize("payload, loc", [
    ({"message": 3, "channel": "jd.sms"}, ["body", "message", "str"]),
    ({"message": "你好"}, ["body", "channel"]),
    ({"message": "你好", "channel": "jd.sms", "extra": 1}, ["body", "extra"]),
    ({"message": "你好", "channel": "jd.sms", "at": "yesterday"}, ["body", "at"]),
    ({"message": "你好", "channel": "jd.sms", "at": 0}, ["body", "at"]),  # no Unix times
    ({"message": "你好", "channel": "jd.sms", "at": "1700000000"}, ["body", "at"]),
    ({"message": "你好", "channel": "jd.sms", "via_template": 0}, ["body", "via_template"]),
])
def test_schema_mismatch_is_a_structured_422(client: TestClient, payload: dict[str, Any], loc: list[str]) -> None:
    error = _error(client.post("/v1/lint", json=payload), 422, "validation_error")
    assert loc in [d["loc"] for d in error["details"]]
    assert all(set(d) == {"loc", "msg", "type"} for d in error["details"])


def test_bad_json_and_bad_facts_are_400(client: TestClient) -> None:
    _error(client.post("/v1/lint", content=b'{"message": ', headers={"content-type": "application/json"}),
           400, "malformed_json")
    error = _error(client.post("/v1/eligibility", json={"facts": {"shop": {"fans": "many"}, "today": "2026-11-25"},
                                                        "channel": "jd.message_box"}), 400, "invalid_facts")
    assert "shop.fans" in error["message"]
    error = _error(client.post("/v1/lint", json={"message": {"body": "你好", "colour": "red"}, "channel": "jd.sms"}),
                   400, "invalid_facts")
    assert "colour" in error["message"]


def test_unknown_route_and_method(client: TestClient) -> None:
    _error(client.get("/v1/nothing"), 404, "not_found")
    _error(client.get("/v1/lint"), 405, "method_not_allowed")


def test_unexpected_error_is_a_500_without_internals(engine: Engine) -> None:
    class Broken(Without):
        def lint(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("secret detail at /srv/internal/path")

    with TestClient(create_app(Broken(engine)), raise_server_exceptions=False) as client:
        response = client.post("/v1/lint", json={"message": "你好", "channel": "jd.sms"})
    error = _error(response, 500, "internal_error")
    assert "secret" not in response.text and "/srv" not in response.text and error["details"] is None


# -- limits ----------------------------------------------------------------------------------


def test_body_over_the_limit_is_413(engine: Engine) -> None:
    with TestClient(create_app(engine, max_body_bytes=1024)) as client:
        small = client.post("/v1/lint", json={"message": "你好", "channel": "jd.sms"})
        assert small.status_code == 200
        big = json.dumps({"message": "好" * 2000, "channel": "jd.sms"}).encode()
        error = _error(client.post("/v1/lint", content=big, headers={"content-type": "application/json"}),
                       413, "payload_too_large")
        assert error["details"]["limit_bytes"] == 1024

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit applies while reading
            for start in range(0, len(big), 256):
                yield big[start:start + 256]

        error = _error(client.post("/v1/lint", content=chunks(), headers={"content-type": "application/json"}),
                       413, "payload_too_large")
        assert error["details"]["received_bytes_at_least"] > 1024


def test_request_over_the_time_limit_is_504(engine: Engine) -> None:
    release = threading.Event()
    entered = threading.Event()

    class Stuck(Without):
        def lint(self, *args: Any, **kwargs: Any) -> Any:
            entered.set()
            release.wait(60)  # until the test lets go; the 504 must not wait for it
            return engine.lint(*args, **kwargs)

    try:
        with TestClient(create_app(Stuck(engine), request_timeout_s=0.2)) as client:
            response = client.post("/v1/lint", json={"message": "你好", "channel": "jd.sms"})
            error = _error(response, 504, "timeout")
            assert error["details"] == {"timeout_s": 0.2}
            assert entered.is_set()
            assert client.get("/healthz").json() == {"status": "ok"}
    finally:
        release.set()


def test_no_file_named_in_a_request_is_opened(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = "request-chosen-path"
    opened: list[str] = []
    real_open = builtins.open

    def watching_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if marker in str(file):
            opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", watching_open)
    monkeypatch.setattr(Path, "open", lambda self, *a, **k: watching_open(str(self), *a, **k))
    path = f"/tmp/{marker}.rules"
    client.post("/v1/lint", json={"message": {"body": path, "image": path}, "channel": "jd.sms"})
    client.post("/v1/lint", json={"message": path, "channel": path})
    client.post("/v1/eligibility", json={"facts": {"rules": path, "shop": {"fans": path}}, "channel": "jd.message_box"})
    client.post("/v1/reserve", json={"send": {**SEND, "recipient": path}, "ledger": marker})
    client.post("/v1/schedule", json={"send": {**SEND, "template": path}, "facts": {"file": path}})
    client.get("/v1/rules", params={"channel": path})
    assert opened == []


# -- health, OpenAPI, command -------------------------------------------------------------


def test_health_and_readiness(client: TestClient, engine: Engine) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["channels"] == engine.channels
    if hasattr(Engine, "ledger"):
        assert ready.json()["ledgers"] == {"audit": "ok", "default": "ok"}


class Flaky:
    """An engine whose ledgers' store can be taken down and brought back (a Redis restarted)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.down = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def ledger(self, url: str) -> Any:
        from compliance.frequency import Ledger, LedgerUnavailableError
        from compliance.frequency.stores.memory import MemoryStore

        flaky = self

        class FlakyStore(MemoryStore):
            def _check(self) -> None:
                if flaky.down:
                    raise LedgerUnavailableError("test store is down; nothing was recorded")

            def evaluate(self, *args: Any, **kwargs: Any) -> Any:
                self._check()
                return super().evaluate(*args, **kwargs)

            def ping(self) -> None:
                self._check()

        return Ledger(FlakyStore(), self._engine.caps())


@needs_ledger
@pytest.mark.parametrize("url, reason", [
    ("nosuch://x", "unknown scheme 'nosuch'"),
    ("redis://127.0.0.1:1/0?socket_timeout=2", "could not reach Redis"),
    ("sqlite:///nonexistent-dir/x.db", "unable to open database file"),
    ("memory://host", "memory:// takes no host"),
])
def test_a_ledger_that_cannot_be_used_stops_the_app_at_start(engine: Engine, url: str, reason: str) -> None:
    from compliance.frequency import LedgerError

    with pytest.raises(LedgerError, match=reason) as info:
        create_app(engine, ledgers={"default": "memory://", "shared": url})
    assert str(info.value).startswith("ledger 'shared': ")


@needs_ledger
def test_a_ledger_that_goes_down_later_fails_closed_and_readiness_says_so(engine: Engine) -> None:
    flaky = Flaky(engine)
    with TestClient(create_app(flaky, ledgers="memory://")) as client:
        assert client.get("/readyz").json()["ledgers"] == {"default": "ok"}
        assert client.post("/v1/reserve", json={"send": SEND}).json()["allowed"] is True
        flaky.down = True
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "not_ready" and ready.json()["ledgers"] == {"default": "error"}
        error = _error(client.post("/v1/reserve", json={"send": {**SEND, "recipient": "13900000009"}}), 503,
                       "ledger_unavailable")
        assert "nothing was recorded" in error["message"]
        flaky.down = False
        assert client.get("/readyz").status_code == 200
        assert client.post("/v1/reserve", json={"send": {**SEND, "recipient": "13900000009"}}).json()["allowed"]


def test_openapi_documents_models_and_errors(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ("/v1/lint", "/v1/eligibility", "/v1/reserve", "/v1/schedule"):
        operation = paths[path]["post"]
        assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].startswith(
            "#/components/schemas/")
        for status in ("200", "413", "422", "500", "504"):
            assert status in operation["responses"], (path, status)
        assert operation["responses"]["422"]["content"]["application/json"]["schema"]["$ref"] == \
            "#/components/schemas/ErrorResponse"
    assert {"/v1/rules", "/healthz", "/readyz"} <= set(paths)
    schemas = spec["components"]["schemas"]
    assert {"LintRequest", "LintResponse", "FindingModel", "ReserveRequest", "SendModel", "ErrorResponse"} <= set(schemas)
    assert schemas["ReserveRequest"]["properties"]["ledger"]["anyOf"][0]["pattern"]


def test_serve_command_options() -> None:
    parser = argparse.ArgumentParser(prog="compliance")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve"])
    assert (args.host, args.port, args.ledger, args.rules) == ("127.0.0.1", 8000, [], None)
    args = parser.parse_args(["serve", "--port", "9001", "--ledger", "memory://", "--rules", "a.rules",
                              "--timeout", "2.5", "--max-body-bytes", "100"])
    assert (args.port, args.ledger, args.rules, args.timeout, args.max_body_bytes) == \
        (9001, ["memory://"], ["a.rules"], 2.5, 100)
    assert args.func.__name__ == "cmd_serve"


def test_parse_ledgers() -> None:
    assert parse_ledgers([]) == {}
    assert parse_ledgers(["sqlite:///l.db?busy_timeout=5"]) == {"default": "sqlite:///l.db?busy_timeout=5"}
    assert parse_ledgers(["memory://", "shared=redis://127.0.0.1:6379/0"]) == \
        {"default": "memory://", "shared": "redis://127.0.0.1:6379/0"}
    with pytest.raises(ValueError, match="twice"):
        parse_ledgers(["memory://", "default=memory://"])
    with pytest.raises(ValueError, match="expected a URL"):
        parse_ledgers(["ledger.db"])


# -- a real server ---------------------------------------------------------------------------


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[str]:
    from load_driver import load_http

    with load_http.running_server(tmp_path, extra=["--max-body-bytes", "4096"]) as base:
        yield base


@pytest.mark.slow
def test_real_uvicorn_server(live_server: str, engine: Engine) -> None:
    with httpx.Client(base_url=live_server, timeout=10.0) as http:
        message = MESSAGES[0]
        response = http.post("/v1/lint", json={"message": message, "channel": "jd.sms"})
        assert response.status_code == 200
        assert response.json()["findings"] == _findings(engine.lint(message, channel="jd.sms").findings)

        big = {"message": "好" * 5000, "channel": "jd.sms"}
        error = _error(http.post("/v1/lint", json=big), 413, "payload_too_large")
        assert error["details"]["limit_bytes"] == 4096

        error = _error(http.post("/v1/lint", json={"message": ["not", "text"], "channel": "jd.sms"}),
                       422, "validation_error")
        assert ["body", "message", "str"] in [d["loc"] for d in error["details"]]

        ready = http.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        assert http.get("/openapi.json").json()["info"]["title"] == "compliance"
        if hasattr(Engine, "ledger"):
            assert http.post("/v1/reserve", json={"send": SEND}).json()["allowed"] is True
