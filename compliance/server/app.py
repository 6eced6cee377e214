"""The FastAPI application: `create_app` builds it around one shared `Engine`.

Handlers are thin: validate the payload (pydantic models in `compliance.server.models`), run
the engine in a worker thread (the engine is immutable and thread-safe; ledgers are
thread-safe), map library errors to structured HTTP errors (`compliance.server.errors`).

Nothing in a request chooses a file or a URL: rule files and ledger URLs are server
configuration; a request may only name one of the configured ledgers.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Query

from compliance import __version__
from compliance.errors import ComplianceError, did_you_mean
from compliance.server.bodies import JsonBodyMiddleware
from compliance.server.defaults import (
    DEFAULT_LEDGER,
    DEFAULT_MAX_ABANDONED,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_REQUEST_TIMEOUT_S,
)
from compliance.server.errors import ApiError, install_handlers, library_error
from compliance.server.limits import AbandonedWork, BodyLimitMiddleware, TimeoutMiddleware
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
    RulesResponse,
    ScheduleRequest,
    ScheduleResponse,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
_T = TypeVar("_T")


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
    """What the handlers share: the engine and the configured ledgers (opened on first use)."""

    def __init__(self, engine: Any, ledgers: Mapping[str, str], max_abandoned: int = DEFAULT_MAX_ABANDONED) -> None:
        self.engine = engine
        self.work = AbandonedWork(max_abandoned)
        self.ledger_urls = dict(ledgers)
        self._ledgers: dict[str, Any] = {}
        self._lock = threading.Lock()

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
               max_abandoned: int = DEFAULT_MAX_ABANDONED) -> FastAPI:
    """The compliance HTTP service.

    Args:
        engine: the `Engine` to serve (default: ``Engine()`` with the built-in packs).
        max_body_bytes: larger request bodies get 413.
        request_timeout_s: requests still running after this get 504.
        ledgers: ledger URL(s) for /v1/reserve: one URL (named ``"default"``) or names → URLs.
            Requests pick one by name; they can never give a URL.
        max_abandoned: while this many timed-out computations still run in the background, new
            requests get 503 ``overloaded`` instead of starting more.
    """
    if engine is None:
        from compliance.engine import Engine

        engine = Engine()
    if max_body_bytes <= 0 or request_timeout_s <= 0 or max_abandoned <= 0:
        raise ValueError("max_body_bytes, request_timeout_s and max_abandoned must be positive")
    urls = {DEFAULT_LEDGER: ledgers} if isinstance(ledgers, str) else dict(ledgers or {})
    state = ServiceState(engine, urls, max_abandoned)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(title="compliance", version=__version__, lifespan=lifespan,
                  description="Lint Chinese marketing messages, decide eligibility, reserve frequency caps.")
    app.state.compliance = state
    install_handlers(app)
    # Added last = outermost: the time limit covers reading the body too; the size limit comes
    # before the JSON checks, which read a bounded, buffered body.
    app.add_middleware(JsonBodyMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=max_body_bytes)
    app.add_middleware(TimeoutMiddleware, timeout_s=request_timeout_s)

    @app.post("/v1/lint", response_model=LintResponse, responses=_errors(*_COMMON), tags=["copy"])
    async def lint(body: LintRequest) -> dict[str, Any]:
        """Lint a message's copy for a channel."""
        report = await _call(state.work, engine.lint, body.message, channel=body.channel, at=_aware(body.at),
                             via_template=body.via_template)
        return {"ok": report.ok, "channel": report.channel, "findings": [_finding(f) for f in report.findings],
                "fields": report.fields, "offsets": report.offsets}

    @app.post("/v1/eligibility", response_model=EligibilityResponse, responses=_errors(*_COMMON),
              tags=["eligibility"])
    async def eligibility(body: EligibilityRequest) -> dict[str, Any]:
        """May this shop/account use the channel, and with what grants?"""
        decision = await _call(state.work, engine.eligibility, body.facts, channel=body.channel, coerce=body.coerce)
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
        return {"allowed": decision.allowed, "earliest": decision.earliest,
                "reasons": [_finding(f) for f in decision.reasons], "channel": decision.channel}

    @app.get("/v1/rules", response_model=RulesResponse, responses=_errors(404, 500, 503, 504), tags=["rules"])
    async def rules(channel: str | None = Query(None, description="only the rules of this channel's pack")
                    ) -> dict[str, Any]:
        """Every rule (or one channel's), with ids, catalogue refs and explanations."""
        infos = await _call(state.work, engine.rules, channel)
        return {"channel": channel, "rules": [_rule(info) for info in infos]}

    @app.get("/healthz", response_model=HealthResponse, tags=["health"])
    async def healthz() -> dict[str, str]:
        """The process answers."""
        return {"status": "ok"}

    @app.get("/readyz", response_model=ReadyResponse, responses={503: {"model": ReadyResponse}}, tags=["health"])
    async def readyz() -> Any:
        """Ready when the engine has packs and every configured ledger opens."""
        from starlette.responses import JSONResponse

        statuses = await _call(state.work, _ledger_statuses, state)
        channels = list(engine.channels)
        ready = bool(channels) and all(s != "error" for s in statuses.values())
        body = {"status": "ready" if ready else "not_ready", "channels": channels, "ledgers": statuses}
        return JSONResponse(body, status_code=200 if ready else 503)

    return app


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
            state.ledger(name)
            statuses[name] = "ok"
        except Exception:  # noqa: BLE001 - readiness reports, it does not raise
            statuses[name] = "error"
    return statuses


def _finding(finding: Any) -> dict[str, Any]:
    if isinstance(finding, Mapping):
        return dict(finding)
    return finding.to_dict()


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
