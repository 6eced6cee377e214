"""``GET /metrics``: Prometheus counters of requests, latency, findings per rule, reservations,
refusals per cap and errors per code (`compliance.server.metrics`)."""

from __future__ import annotations

import re
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the server extra (fastapi, uvicorn) is not installed")
pytest.importorskip("httpx", reason="httpx (dev extra) is needed to talk to the server")
pytest.importorskip("prometheus_client", reason="prometheus_client (server extra) is not installed")

from fastapi.testclient import TestClient  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from compliance.engine import Engine  # noqa: E402
from compliance.server import create_app  # noqa: E402
from compliance.server import metrics as metrics_module  # noqa: E402

TOKEN = "metrics-token-6c1e0d2b9a"
SEND = {"channel": "jd.sms", "message_class": "marketing", "merchant": "m0", "recipient": "13800000001",
        "at": "2026-03-02T10:00:00+08:00"}


def samples(client: TestClient, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of ``/metrics``, parsed by prometheus_client's own parser (so the text is
    valid exposition format), keyed by (sample name, sorted labels)."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def value(data: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return data.get((name, tuple(sorted(labels.items()))), 0.0)


def test_lint_findings_are_counted_per_rule_severity_and_mode(engine: Engine) -> None:
    with TestClient(create_app(engine)) as client:
        bad = "【好物小铺】全网最低价，加微信 lily_8866 领券。回T退订"
        report = engine.lint(bad, channel="jd.sms")
        assert not report.ok
        for _ in range(3):
            assert client.post("/v1/lint", json={"message": bad, "channel": "jd.sms"}).status_code == 200
        assert client.post("/v1/lint", json={"message": "【好物小铺】新品上市。回T退订", "channel": "jd.sms"}).status_code == 200
        data = samples(client)
    expected: dict[tuple[str, str], int] = {}
    for f in report.findings:
        expected[(f.rule, f.severity)] = expected.get((f.rule, f.severity), 0) + 3
    for (rule, severity), count in expected.items():
        assert value(data, "compliance_findings_total", endpoint="/v1/lint", channel="jd.sms", rule=rule,
                     severity=severity, mode="deny") == count
    assert value(data, "compliance_lint_messages_total", channel="jd.sms", ok="false") == 3
    assert value(data, "compliance_lint_messages_total", channel="jd.sms", ok="true") == 1
    assert value(data, "compliance_http_requests_total", endpoint="/v1/lint", method="POST", status="200") == 4
    assert value(data, "compliance_http_request_duration_seconds_count", endpoint="/v1/lint") == 4
    assert value(data, "compliance_http_request_duration_seconds_sum", endpoint="/v1/lint") > 0


def test_reserves_and_refusals_per_cap(engine: Engine) -> None:
    with TestClient(create_app(engine, ledgers="memory://")) as client:
        answers = [client.post("/v1/reserve", json={"send": SEND}).json() for _ in range(5)]
        data = samples(client)
    allowed = sum(a["allowed"] for a in answers)
    refused = [a for a in answers if not a["allowed"]]
    assert allowed and refused  # the per-phone daily caps refuse the later sends
    assert value(data, "compliance_reserves_total", ledger="default", allowed="true") == allowed
    assert value(data, "compliance_reserves_total", ledger="default", allowed="false") == len(refused)
    per_rule: dict[str, int] = {}
    for answer in refused:
        for violation in answer["violations"]:
            per_rule[violation["rule"]] = per_rule.get(violation["rule"], 0) + 1
    for rule, count in per_rule.items():
        assert value(data, "compliance_reserve_refusals_total", ledger="default", rule=rule) == count


def test_errors_are_counted_by_code_including_middleware_answers(engine: Engine) -> None:
    with TestClient(create_app(engine, api_tokens=[TOKEN], max_body_bytes=1000)) as client:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert client.post("/v1/lint", json={"message": "x", "channel": "jd.sms"}).status_code == 401
        assert client.post("/v1/lint", json={"message": "x", "channel": "no.such"}, headers=auth).status_code == 404
        assert client.post("/v1/lint", json={"channel": "jd.sms"}, headers=auth).status_code == 422
        assert client.post("/v1/lint", content=b"{" * 2000, headers={**auth, "content-type": "application/json"}
                           ).status_code == 413
        assert client.get("/no/such/path", headers=auth).status_code == 404
        assert client.get("/metrics").status_code == 401  # behind the tokens like the API
        data = samples(client, **auth)
    assert value(data, "compliance_errors_total", code="missing_token") == 2
    assert value(data, "compliance_errors_total", code="unknown_channel") == 1
    assert value(data, "compliance_errors_total", code="validation_error") == 1
    assert value(data, "compliance_errors_total", code="payload_too_large") == 1
    assert value(data, "compliance_errors_total", code="not_found") == 1
    # Request paths the app does not serve never become label values.
    assert value(data, "compliance_http_requests_total", endpoint="other", method="GET", status="404") == 1
    assert not any("/no/such/path" in str(labels) for _, labels in data)
    # An unknown channel is refused before it could be counted under its name.
    assert not any(("channel", "no.such") in labels for _, labels in data)


def test_eligibility_unmet_rules_are_counted(engine: Engine) -> None:
    facts = {"shop": {"fans": 10, "private_posts_last_month": 0, "avg_material_uv": 1.0, "category_avg_uv": 150.0,
                      "bottom3_click_rate_months": 0, "messages_last_month": 24, "revoked_on": None},
             "today": "2026-11-25"}
    with TestClient(create_app(engine)) as client:
        answer = client.post("/v1/eligibility", json={"facts": facts, "channel": "jd.message_box"}).json()
        data = samples(client)
    assert answer["unmet"]
    for unmet in answer["unmet"]:
        assert value(data, "compliance_findings_total", endpoint="/v1/eligibility", channel="jd.message_box",
                     rule=unmet["rule"], severity=unmet["severity"], mode="deny") == 1


def test_two_apps_keep_their_own_counts(engine: Engine) -> None:
    with TestClient(create_app(engine)) as one, TestClient(create_app(engine)) as two:
        one.post("/v1/lint", json={"message": "【好物小铺】全网最低价。回T退订", "channel": "jd.sms"})
        assert value(samples(one), "compliance_lint_messages_total", channel="jd.sms", ok="false") == 1
        assert value(samples(two), "compliance_lint_messages_total", channel="jd.sms", ok="false") == 0


def test_without_prometheus_client_metrics_answer_501_and_the_api_works(engine: Engine,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("compliance.server.app.metrics_available", lambda: False)
    with TestClient(create_app(engine)) as client:
        response = client.get("/metrics")
        assert response.status_code == 501
        assert response.json()["error"]["code"] == "metrics_unavailable"
        assert "compliance[server]" in response.json()["error"]["message"]
        assert client.post("/v1/lint", json={"message": "【好物小铺】新品。回T退订", "channel": "jd.sms"}).status_code == 200


def test_metrics_can_be_turned_off(engine: Engine) -> None:
    app = create_app(engine, metrics=False)
    assert "/metrics" not in {getattr(r, "path", "") for r in app.routes}
    with TestClient(app) as client:
        assert client.get("/metrics").status_code == 404


def test_error_codes_that_are_no_identifiers_fall_back_to_the_status() -> None:
    assert metrics_module._error_code(b'{"error": {"code": "timeout"}}', 504) == "timeout"
    assert metrics_module._error_code(b"not json", 502) == "http_502"
    assert metrics_module._error_code(b'{"error": {"code": "a b\\nc"}}', 400) == "http_400"
    assert re.fullmatch(r"http_\d+", metrics_module._error_code(b'{"error": {"code": 7}}', 500))


def test_the_openapi_document_lists_metrics(engine: Engine) -> None:
    with TestClient(create_app(engine)) as client:
        paths: dict[str, Any] = client.get("/openapi.json").json()["paths"]
    assert "/metrics" in paths and "get" in paths["/metrics"]
