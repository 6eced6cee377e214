"""The FastAPI application: `create_app` builds it around one shared `Engine`.

Handlers are thin: validate the payload (pydantic models in `compliance.server.models`), run
the engine in a worker thread (the engine is immutable and thread-safe; ledgers are
thread-safe), map library errors to structured HTTP errors (`compliance.server.errors`).

Nothing in a request chooses a file or a URL: rule files and ledger URLs are server
configuration; a request may only name one of the configured ledgers. Ledgers are opened
and checked when the app is built, so a bad URL stops the service before it serves.

Middleware, outermost first: request id and access log (`compliance.server.access`), metrics
(`compliance.server.metrics`, when ``prometheus_client`` is installed), time limit, bearer-token authentication when tokens are configured (`compliance.server.auth`),
body size, strict JSON.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Query
from fastapi.responses import PlainTextResponse, Response

from compliance import __version__
from compliance.errors import ComplianceError, did_you_mean
from compliance.server.access import RequestIdMiddleware
from compliance.server.auth import OPEN_PATHS, SCHEME_NAME, BearerAuthMiddleware
from compliance.server.bodies import JsonBodyMiddleware
from compliance.server.defaults import (
    DEFAULT_LEDGER,
    DEFAULT_MAX_ABANDONED,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_FINDINGS,
    DEFAULT_REQUEST_TIMEOUT_S,
)
from compliance.server.errors import ApiError, install_handlers, library_error
from compliance.server.limits import AbandonedWork, BodyLimitMiddleware, TimeoutMiddleware
from compliance.server.metrics import METRICS_PATH, Metrics, MetricsMiddleware, finding_value
from compliance.server.metrics import available as metrics_available
from compliance.server.models import (
    EligibilityRequest,
    EligibilityResponse,
    ErrorResponse,
    HealthResponse,
    LintRequest,
    LintResponse,
    ReadyResponse,
    ReserveRequest,
    ReserveResponse,
    RuleDetailModel,
    RulesResponse,
    ScheduleRequest,
    ScheduleResponse,
)
from compliance.server.page import CONTENT_SECURITY_POLICY, STATIC_FILES, Measurer, rule_detail, static_file
from compliance.server.tokens import check_tokens

SHANGHAI = ZoneInfo("Asia/Shanghai")
_T = TypeVar("_T")
_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
log = logging.getLogger("compliance.server")


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {400: "bad input: not strict JSON (malformed, not UTF-8, NaN, lone surrogates, nested "
                         "too deep), or facts that do not fit the channel's pack", 404: "unknown channel or ledger",
                    413: "request body over the size limit", 415: "request body is not application/json",
                    422: "request body does not match the schema",
                    500: "internal error", 501: "not supported by this engine or server configuration",
                    503: "ledger unavailable, or too many timed-out requests still running (overloaded)", 504: "request took longer than the time limit"}
    return {s: {"model": ErrorResponse, "description": descriptions[s]} for s in statuses}


_COMMON = (400, 404, 413, 415, 422, 500, 503, 504)


class ServiceState:
    """What the handlers share: the engine, the configured ledgers (opened at start by
    `open_ledgers`, else on first use) and the findings limit."""

    def __init__(self, engine: Any, ledgers: Mapping[str, str], max_abandoned: int = DEFAULT_MAX_ABANDONED,
                 max_findings: int = DEFAULT_MAX_FINDINGS, metrics: Metrics | None = None) -> None:
        self.engine = engine
        self.metrics = metrics
        self.work = AbandonedWork(max_abandoned)
        self.ledger_urls = dict(ledgers)
        self.max_findings = max_findings
        self._ledgers: dict[str, Any] = {}
        self._lock = threading.Lock()

    def open_ledgers(self) -> None:
        """Open every configured ledger and check that its store answers (`Ledger.ping`).

        Raises the `LedgerError` of the first that does not (a URL that names no store, a
        Redis that cannot be reached, a SQLite file that cannot be opened), its message
        prefixed with the ledger's name, after closing the ones already opened.
        """
        from compliance.frequency.errors import LedgerError

        if getattr(self.engine, "ledger", None) is None:
            return  # /v1/reserve answers 501 not_implemented
        name = ""
        try:
            for name in self.ledger_urls:
                ping = getattr(self.ledger(name), "ping", None)
                if ping is not None:
                    ping()
        except LedgerError as exc:
            self.close()
            raise type(exc)(f"ledger {name!r}: {exc}") from exc

    def ledger(self, name: str) -> Any:
        """The open ledger configured under ``name`` (opened once, then shared)."""
        ledger = self._ledgers.get(name)
        if ledger is None:
            with self._lock:
                ledger = self._ledgers.get(name)
                if ledger is None:
                    ledger = self._ledgers[name] = self.engine.ledger(self.ledger_urls[name])
        return ledger

    def close(self) -> None:
        with self._lock:
            ledgers, self._ledgers = list(self._ledgers.values()), {}
        for ledger in ledgers:
            close = getattr(ledger, "close", None)
            if close is not None:
                close()


def create_app(engine: Any = None, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
               request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S,
               ledgers: str | Mapping[str, str] | None = None,
               max_abandoned: int = DEFAULT_MAX_ABANDONED,
               api_tokens: Sequence[str] | None = None,
               max_findings: int = DEFAULT_MAX_FINDINGS,
               metrics: bool = True) -> FastAPI:
    """The compliance HTTP service.

    Args:
        engine: the `Engine` to serve (default: ``Engine()`` with the built-in packs).
        max_body_bytes: larger request bodies get 413.
        request_timeout_s: requests still running after this get 504.
        ledgers: ledger URL(s) for /v1/reserve: one URL (named ``"default"``) or names → URLs.
            Requests pick one by name; they can never give a URL. Every ledger is opened here
            and its store must answer: a URL that names no store, a Redis that cannot be
            reached or a SQLite file that cannot be opened raises its `LedgerError` now, not
            at the first reservation. A store that fails later is a 503 (fail-closed).
        max_abandoned: while this many timed-out computations still run in the background, new
            requests get 503 ``overloaded`` instead of starting more.
        api_tokens: bearer tokens; when given, every endpoint but ``/healthz`` and the copy page answers 401
            without ``Authorization: Bearer TOKEN`` for one of them. None (the default): no
            authentication. The environment is not read here (``compliance serve`` reads
            ``--api-token-file`` and ``COMPLIANCE_API_TOKEN``; see `compliance.server.tokens`).
        max_findings: most findings in one lint answer, and the most a request may ask for
            (``max_findings`` in the request); the answer says ``truncated`` when some were left out.
        metrics: serve ``GET /metrics`` (Prometheus text format: requests, latency, findings per
            rule, reservations and refusals per cap, errors per code; see
            `compliance.server.metrics`). Needs ``prometheus_client`` (in the ``[server]`` extra);
            without it ``/metrics`` answers 501. False: no metrics route and nothing counted.

    Raises:
        ValueError: a limit that is not positive, or a token that is no token (`ApiTokenError`).
        LedgerError: a configured ledger cannot be opened or does not answer.
    """
    if engine is None:
        from compliance.engine import Engine

        engine = Engine()
    if max_body_bytes <= 0 or request_timeout_s <= 0 or max_abandoned <= 0 or max_findings <= 0:
        raise ValueError("max_body_bytes, request_timeout_s, max_abandoned and max_findings must be positive")
    tokens = None if api_tokens is None else check_tokens(api_tokens)
    urls = {DEFAULT_LEDGER: ledgers} if isinstance(ledgers, str) else dict(ledgers or {})
    counters = Metrics() if metrics and metrics_available() else None
    state = ServiceState(engine, urls, max_abandoned, max_findings, counters)
    state.open_ledgers()
    measure = Measurer(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(title="compliance", version=__version__, lifespan=lifespan,
                  description="Lint Chinese marketing messages, decide eligibility, reserve frequency caps.")
    app.state.compliance = state
    install_handlers(app)
    # Added last = outermost. The request id wraps everything (every answer carries it, one
    # access-log line each); the time limit covers reading the body too; authentication
    # refuses before any body is read; the size limit comes before the JSON checks, which read
    # a bounded, buffered body.
    app.add_middleware(JsonBodyMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=max_body_bytes)
    if tokens is not None:
        app.add_middleware(BearerAuthMiddleware, tokens=tokens)
        _document_bearer_auth(app)
    app.add_middleware(TimeoutMiddleware, timeout_s=request_timeout_s)
    if counters is not None:
        app.add_middleware(MetricsMiddleware, metrics=counters,
                           routes=lambda: [getattr(route, "path", "") for route in app.routes])
    app.add_middleware(RequestIdMiddleware)

    @app.post("/v1/lint", response_model=LintResponse, responses=_errors(*_COMMON), tags=["copy"])
    async def lint(body: LintRequest) -> dict[str, Any]:
        """Lint a message's copy for a channel."""
        report = await _call(state.work, engine.lint, body.message, channel=body.channel, at=_aware(body.at),
                             via_template=body.via_template)
        limit = state.max_findings if body.max_findings is None else min(body.max_findings, state.max_findings)
        shown = most_severe(report.findings, limit)
        if state.metrics is not None:
            state.metrics.count_lint(report.channel, report.ok, report.findings)
        return {"ok": report.ok, "channel": report.channel, "findings": [_finding(f) for f in shown],
                "fields": report.fields, "offsets": report.offsets,
                "truncated": len(shown) < len(report.findings), "finding_count": len(report.findings),
                "measure": measure(report.channel, report.fields)}

    @app.post("/v1/eligibility", response_model=EligibilityResponse, responses=_errors(*_COMMON),
              tags=["eligibility"])
    async def eligibility(body: EligibilityRequest) -> dict[str, Any]:
        """May this shop/account use the channel, and with what grants?"""
        decision = await _call(state.work, engine.eligibility, body.facts, channel=body.channel, coerce=body.coerce)
        if state.metrics is not None:
            state.metrics.count_findings("/v1/eligibility", decision.channel, decision.unmet)
        return {"eligible": decision.eligible, "unmet": [_finding(f) for f in decision.unmet],
                "grants": decision.grants, "channel": decision.channel}

    @app.post("/v1/reserve", response_model=ReserveResponse, responses=_errors(*_COMMON, 501),
              tags=["frequency"])
    async def reserve(body: ReserveRequest) -> dict[str, Any]:
        """Check every frequency cap for a send and record it if all pass (atomically)."""
        if getattr(engine, "ledger", None) is None:
            raise ApiError(501, "not_implemented", "this engine has no frequency ledger (Engine.ledger)")
        name = body.ledger or DEFAULT_LEDGER
        if not state.ledger_urls:
            raise ApiError(501, "ledger_not_configured",
                           "this server has no ledger; start it with --ledger URL (or create_app(ledgers=...))")
        if name not in state.ledger_urls:
            guess = did_you_mean(name, state.ledger_urls)
            raise ApiError(404, "unknown_ledger", f"no ledger named {name!r}" + (f"; did you mean {guess}?" if guess else ""),
                           {"ledger": name, "ledgers": sorted(state.ledger_urls)})
        send = _send(body.send.model_dump(exclude_none=True))
        decision = await _call(state.work, lambda: state.ledger(name).reserve(send))
        if state.metrics is not None:
            state.metrics.count_reserve(name, decision.allowed, decision.violations)
        return {"allowed": decision.allowed, "violations": [_finding(f) for f in decision.violations],
                "retry_after": decision.retry_after, "ledger": name, "degraded": decision.degraded}

    @app.post("/v1/schedule", response_model=ScheduleResponse, responses=_errors(*_COMMON, 501),
              tags=["schedule"])
    async def schedule(body: ScheduleRequest) -> dict[str, Any]:
        """The earliest time a send may go out, and the schedule rules that decided it."""
        method = getattr(engine, "schedule", None)
        if method is None:
            raise ApiError(501, "not_implemented", "this engine has no schedule rules support (Engine.schedule)")
        send = body.send.model_dump()
        send["at"] = _aware(body.send.at)
        decision = await _call(state.work, method, send, facts=body.facts, coerce=body.coerce)
        if state.metrics is not None:
            state.metrics.count_findings("/v1/schedule", decision.channel, decision.reasons)
        return {"allowed": decision.allowed, "earliest": decision.earliest,
                "reasons": [_finding(f) for f in decision.reasons], "channel": decision.channel}

    @app.get("/v1/rules", response_model=RulesResponse, responses=_errors(404, 500, 503, 504), tags=["rules"])
    async def rules(channel: str | None = Query(None, description="only the rules of this channel's pack")
                    ) -> dict[str, Any]:
        """Every rule (or one channel's), with ids, catalogue refs and explanations."""
        infos = await _call(state.work, engine.rules, channel)
        return {"channel": channel, "rules": [_rule(info) for info in infos]}

    @app.get("/v1/rules/{rule_id}", response_model=RuleDetailModel,
             responses={404: {"model": ErrorResponse, "description": "unknown rule"}, **_errors(500, 503, 504)},
             tags=["rules"])
    async def rule(rule_id: str) -> dict[str, Any]:
        """One rule explained, as `compliance rule RULE_ID` shows it: refs, title, why, condition,
        message, examples, source (the copy page's rule link)."""
        try:
            return await _call(state.work, rule_detail, engine, rule_id)
        except KeyError as exc:
            raise ApiError(404, "unknown_rule", str(exc.args[0]), {"rule": rule_id}) from None

    _serve_page(app)

    if metrics:
        @app.get(METRICS_PATH, tags=["health"], response_class=PlainTextResponse,
                 responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"},
                            **_errors(501)})
        async def prometheus_metrics() -> Response:
            """Counters for Prometheus: requests, latency, findings per rule, reservations, errors."""
            if state.metrics is None:
                raise ApiError(501, "metrics_unavailable",
                               "metrics need prometheus_client: pip install 'compliance[server]'")
            body, content_type = state.metrics.render()
            return Response(body, media_type=content_type)

    @app.get("/healthz", response_model=HealthResponse, tags=["health"])
    async def healthz() -> dict[str, str]:
        """The process answers."""
        return {"status": "ok"}

    @app.get("/readyz", response_model=ReadyResponse, responses={503: {"model": ReadyResponse}}, tags=["health"])
    async def readyz() -> Any:
        """Ready when the engine has packs and the store of every configured ledger answers now."""
        from starlette.responses import JSONResponse

        statuses = await _call(state.work, _ledger_statuses, state)
        channels = list(engine.channels)
        ready = bool(channels) and all(s != "error" for s in statuses.values())
        body = {"status": "ready" if ready else "not_ready", "channels": channels, "ledgers": statuses}
        return JSONResponse(body, status_code=200 if ready else 503)

    return app


def _serve_page(app: FastAPI) -> None:
    """``GET /``: the copy page, and its script and style (`compliance.server.page`); read once."""
    headers = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Content-Type-Options": "nosniff",
               "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"}
    for path, (name, media_type) in STATIC_FILES.items():
        content = static_file(name)

        async def serve(content: bytes = content, media_type: str = media_type) -> Response:
            return Response(content, media_type=media_type, headers=headers)

        app.add_api_route(path, serve, methods=["GET"], include_in_schema=False, response_class=Response)


async def _call(work: AbandonedWork, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Run blocking library code in a worker thread; library errors become structured errors.

    The thread is abandoned on cancellation, so the request's time limit answers 504 without
    waiting for it; `AbandonedWork` bounds how many such threads may still be running.
    """
    try:
        return await work.run(functools.partial(fn, *args, **kwargs))
    except ApiError:
        raise
    except Exception as exc:
        from compliance.frequency.send import SendError

        if isinstance(exc, (ComplianceError, SendError)):
            raise library_error(exc) from exc
        raise


def _send(data: Mapping[str, Any]) -> Any:
    from compliance.frequency.send import Send, SendError

    try:
        return Send.from_mapping(data)
    except SendError as exc:
        raise library_error(exc) from exc


def _ledger_statuses(state: ServiceState) -> dict[str, str]:
    if not state.ledger_urls:
        return {}
    if getattr(state.engine, "ledger", None) is None:
        return {name: "not_implemented" for name in state.ledger_urls}
    statuses = {}
    for name in state.ledger_urls:
        try:
            ping = getattr(state.ledger(name), "ping", None)
            if ping is not None:
                ping()
            statuses[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - readiness reports, it does not raise
            log.warning("readiness: ledger %r does not answer: %s", name, exc)
            statuses[name] = "error"
    return statuses


def most_severe(findings: Sequence[Any], limit: int) -> Sequence[Any]:
    """``findings`` when there are at most ``limit``; else the ``limit`` most severe (errors,
    then warnings, then infos; earlier first among equals), in their original order."""
    if len(findings) <= limit:
        return findings
    ranked = sorted(range(len(findings)),
                    key=lambda i: (_SEVERITY_RANK.get(finding_value(findings[i], "severity"), 3), i))
    return [findings[i] for i in sorted(ranked[:limit])]


def _document_bearer_auth(app: FastAPI) -> None:
    """The OpenAPI document says what the middleware enforces: a bearer token on every
    operation but `OPEN_PATHS`, and the 401 it answers without one."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
            schemes[SCHEME_NAME] = {"type": "http", "scheme": "bearer",
                                    "description": "one of the server's API tokens (--api-token-file, "
                                                   "COMPLIANCE_API_TOKEN)"}
            unauthorized = {"description": "no API token, or not a valid one (WWW-Authenticate: Bearer)",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
            for path, operations in schema.get("paths", {}).items():
                if path in OPEN_PATHS:
                    continue
                for operation in operations.values():
                    operation["security"] = [{SCHEME_NAME: []}]
                    operation.setdefault("responses", {})["401"] = unauthorized
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _finding(finding: Any) -> dict[str, Any]:
    data = dict(finding) if isinstance(finding, Mapping) else finding.to_dict()
    data["suggestions"] = [suggestion_dict(s) for s in data.get("suggestions") or ()]
    return data


def suggestion_dict(suggestion: Any) -> dict[str, Any]:
    """A finding's suggestion as the API answers it: ``{text, start, end, reason}`` (offsets in
    code points of the finding's field), from a mapping, a named tuple, an object with
    ``to_dict`` or a plain ``(text, start, end, reason)`` tuple."""
    if isinstance(suggestion, Mapping):
        data = dict(suggestion)
    elif hasattr(suggestion, "_asdict"):
        data = suggestion._asdict()
    elif hasattr(suggestion, "to_dict"):
        data = suggestion.to_dict()
    else:
        data = dict(zip(("text", "start", "end", "reason"), suggestion))
    return {"text": data["text"], "start": data["start"], "end": data["end"], "reason": data.get("reason") or ""}


def _rule(info: Any) -> dict[str, Any]:
    data = info.to_dict()
    # The server's own paths are nobody's business: the file name and line are enough.
    data["source"] = f"{Path(info.file).name}:{info.line}"
    return data


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """Naive datetimes mean Asia/Shanghai (platform-rules.md)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=SHANGHAI)
    return value
