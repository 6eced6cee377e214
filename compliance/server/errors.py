"""Structured errors: every failure answers ``{"error": {"code", "message", "details"}}``.

Library errors map to statuses here, in one place: unknown channel → 404, facts or send that
do not fit → 400, request bodies that do not match the schema → 422, a ledger that cannot be
reached → 503, an engine without ledger/schedule support → 501, anything unexpected → 500
(with no traceback or server path in the answer; the log has it).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.types import Send

from compliance.errors import ComplianceError, EvaluationError, FactError, UnknownChannelError

log = logging.getLogger("compliance.server")

_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
               415: "unsupported_media_type", 501: "not_implemented", 503: "unavailable", 504: "timeout"}


class ApiError(Exception):
    """An error answer chosen by a handler."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


async def send_error(send: Send, status: int, code: str, message: str, details: Any = None,
                     headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    """Answer from ASGI middleware, before (or instead of) the application.

    The connection is closed after the answer: the request body may not have been read.
    """
    body = json.dumps(error_body(code, message, details), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *headers]})
    await send({"type": "http.response.body", "body": body})


def library_error(exc: Exception) -> ApiError:
    """The answer for an error raised by the compliance library."""
    from compliance.frequency.errors import (
        LedgerLockedError,
        LedgerUnavailableError,
        LedgerURLError,
    )
    from compliance.frequency.send import SendError

    if isinstance(exc, UnknownChannelError):
        return ApiError(404, "unknown_channel", str(exc))
    if isinstance(exc, SendError):
        return ApiError(400, "invalid_send", str(exc))
    if isinstance(exc, FactError):
        from compliance.facts import MAX_LISTED

        return ApiError(400, "invalid_facts", str(exc), [p.to_dict() for p in exc.problems[:MAX_LISTED]] or None)
    if isinstance(exc, LedgerURLError):
        log.error("ledger misconfigured: %s", exc)
        return ApiError(500, "ledger_misconfigured", "the server's ledger configuration is invalid")
    if isinstance(exc, (LedgerUnavailableError, LedgerLockedError)):
        log.warning("ledger unavailable: %s", exc)
        return ApiError(503, "ledger_unavailable", "the frequency ledger could not be reached; nothing was recorded")
    if isinstance(exc, EvaluationError):
        log.error("rule evaluation failed: %s", exc)
        return ApiError(500, "evaluation_error", "a rule failed while evaluating this request")
    if isinstance(exc, ComplianceError):
        return ApiError(400, "compliance_error", str(exc))
    raise exc


def install_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the structured shape."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(400, "malformed_json", "the request body is not valid JSON",
                                  [_problem(e) for e in errors])
        return error_response(422, "validation_error", "the request body does not match the schema",
                              [_problem(e) for e in errors])

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            code = "malformed_json"  # FastAPI's answer when its JSON parser raises something else
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette answers this one outside every middleware: the request id is set here.
        from compliance.server.access import REQUEST_ID_HEADER, request_id_of

        request_id = request_id_of(request.scope)
        log.exception("unexpected error on %s %s (request_id=%s)", request.method, request.url.path, request_id)
        return error_response(500, "internal_error", "internal server error",
                              headers={REQUEST_ID_HEADER: request_id} if request_id else None)


def _problem(error: Any) -> dict[str, Any]:
    """A pydantic error without the offending input (which may be large or sensitive)."""
    return {"loc": [str(p) for p in error.get("loc", ())], "msg": str(error.get("msg", "")),
            "type": str(error.get("type", ""))}
