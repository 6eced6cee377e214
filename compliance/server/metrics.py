"""Prometheus metrics of the service: ``GET /metrics`` in the Prometheus text format.

Built on ``prometheus_client`` (part of the ``[server]`` extra), with one registry per app
(`create_app` builds one), so two apps in one process — tests, or a service that mounts ours —
never mix their counts. What is counted:

=========================================  =====================================================
metric                                     labels
=========================================  =====================================================
``compliance_http_requests_total``         ``endpoint`` (the route, e.g. ``/v1/lint``; ``other``
                                           for paths the app does not serve), ``method``,
                                           ``status``
``compliance_http_request_duration_seconds``  ``endpoint`` (a histogram: ``_bucket``, ``_sum``,
                                           ``_count``)
``compliance_findings_total``              ``endpoint``, ``channel``, ``rule`` (the rule id),
                                           ``severity``, ``mode`` (``deny`` for every finding
                                           today: each one counts against ``ok``)
``compliance_lint_messages_total``         ``channel``, ``ok`` (``true``/``false``)
``compliance_reserves_total``              ``ledger``, ``allowed`` (``true``/``false``)
``compliance_reserve_refusals_total``      ``ledger``, ``rule`` (the cap's rule id; a refused
                                           send counts once for every cap it would break)
``compliance_errors_total``                ``code`` (the ``error.code`` of every error answer:
                                           ``unauthorized``, ``validation_error``,
                                           ``unknown_channel``, ``timeout``,
                                           ``ledger_unavailable``, ``internal_error``, …)
=========================================  =====================================================

Label values come from the server's own vocabulary (routes, rule ids, channel names, error
codes, configured ledger names), never from free text in a request, so a caller cannot blow
up the number of series: an unknown channel is answered 404 before anything is counted under
its name, and an unknown path is counted as ``other``.

Without ``prometheus_client`` the service runs as before and ``/metrics`` answers 501
``metrics_unavailable``, saying what to install.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from compliance.server.auth import route_path

#: The route of the metrics; behind the API tokens like every route but ``/healthz``.
METRICS_PATH = "/metrics"
#: Latency buckets (seconds): a lint answers in well under a millisecond of engine time, a
#: timed-out request after the time limit (10 s by default).
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: The largest error body read to find its ``error.code`` (error answers are small).
_MAX_ERROR_BODY = 64 * 1024


def available() -> bool:
    """Is ``prometheus_client`` installed?"""
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        return False
    return True


class Metrics:
    """The service's counters, in a registry of their own (`render` gives the text format)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("compliance_http_requests", "HTTP requests answered",
                                ("endpoint", "method", "status"), registry=r)
        self.latency = Histogram("compliance_http_request_duration_seconds",
                                 "time from the request's arrival to its complete answer",
                                 ("endpoint",), buckets=LATENCY_BUCKETS, registry=r)
        self.findings = Counter("compliance_findings", "findings in answers, per rule",
                                ("endpoint", "channel", "rule", "severity", "mode"), registry=r)
        self.messages = Counter("compliance_lint_messages", "messages linted", ("channel", "ok"), registry=r)
        self.reserves = Counter("compliance_reserves", "frequency reservations decided", ("ledger", "allowed"),
                                registry=r)
        self.refusals = Counter("compliance_reserve_refusals", "caps that refused a reservation",
                                ("ledger", "rule"), registry=r)
        self.errors = Counter("compliance_errors", "error answers, per error code", ("code",), registry=r)

    def render(self) -> tuple[bytes, str]:
        """The metrics in the Prometheus text format, and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def count_findings(self, endpoint: str, channel: str, findings: Iterable[Any]) -> None:
        """Count each finding of an answer under its rule, severity and mode."""
        for finding in findings:
            self.findings.labels(endpoint, channel, _get(finding, "rule"), _get(finding, "severity"),
                                 _get(finding, "mode") or "deny").inc()

    def count_lint(self, channel: str, ok: bool, findings: Iterable[Any]) -> None:
        self.messages.labels(channel, _bool(ok)).inc()
        self.count_findings("/v1/lint", channel, findings)

    def count_reserve(self, ledger: str, allowed: bool, violations: Iterable[Any]) -> None:
        self.reserves.labels(ledger, _bool(allowed)).inc()
        for violation in violations:
            self.refusals.labels(ledger, _get(violation, "rule")).inc()


def finding_value(finding: Any, key: str) -> Any:
    """``finding[key]`` of a finding given as a mapping (JSON), or its attribute; None if absent."""
    return finding.get(key) if isinstance(finding, Mapping) else getattr(finding, key, None)


def _get(finding: Any, key: str) -> str:
    value = finding_value(finding, key)
    return "" if value is None else str(value)


def _bool(value: bool) -> str:
    return "true" if value else "false"


class MetricsMiddleware:
    """Counts every HTTP answer (route, method, status, latency) and every error code.

    Sits just inside the request-id middleware, so the answers of the other middleware (401,
    413, 415, 504) are counted too. ``routes`` are the app's paths; any other path counts as
    ``other``. An error answer's ``error.code`` is read from its (small) JSON body.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: Callable[[], Iterable[str]]) -> None:
        self.app = app
        self.metrics = metrics
        self._routes = routes
        self._known: frozenset[str] | None = None

    @property
    def routes(self) -> frozenset[str]:
        """The app's paths, read once at the first request (routes are added after middleware)."""
        if self._known is None:
            self._known = frozenset(self._routes())
        return self._known

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path = route_path(scope)
        endpoint = path if path in self.routes else "other"
        status = 500
        error_body: list[bytes] = []

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and status >= 400:
                if sum(map(len, error_body)) < _MAX_ERROR_BODY:
                    error_body.append(bytes(message.get("body", b"")))
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            self.metrics.requests.labels(endpoint, scope.get("method", ""), str(status)).inc()
            self.metrics.latency.labels(endpoint).observe(time.perf_counter() - started)
            if status >= 400:
                self.metrics.errors.labels(_error_code(b"".join(error_body), status)).inc()


def _error_code(body: bytes, status: int) -> str:
    """The ``error.code`` of a structured error answer, else ``http_STATUS``."""
    try:
        code = json.loads(body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return f"http_{status}"
    return code if isinstance(code, str) and code.isidentifier() and len(code) <= 64 else f"http_{status}"
