"""Request ids and the access log: every answer carries ``X-Request-ID``, and one access-log
line per request carries the same id.

The id is the caller's ``X-Request-ID`` when it sent exactly one that is well-formed
(`REQUEST_ID_PATTERN`: 1 to 128 characters of ``A-Z a-z 0-9 . _ : -``, which covers UUIDs,
trace ids and most gateways' ids), else a new one (32 random hex digits). Anything else — a
blank, a longer value, spaces, quotes, control characters, two headers — is replaced, never
echoed: the id goes into logs and headers, where such text could forge lines or fields.

`RequestIdMiddleware` is the outermost middleware, so every answer gets the id, the
structured 4xx/5xx errors of the other middleware (401, 413, 415, 504, …) included; the one
answer Starlette sends outside every middleware (an unexpected exception's 500) reads the id
from ``request.state.request_id`` (`request_id_of`).

The access log is the logger ``compliance.server.access`` (INFO), one line per request when
its answer is complete::

    127.0.0.1:52814 - "POST /v1/lint HTTP/1.1" 200 3.1ms request_id=4f0c…

``compliance serve`` shows these lines where uvicorn's own access log would be (stdout) and
turns uvicorn's off, which cannot show the id.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The header that carries a request's id, in requests and in every answer.
REQUEST_ID_HEADER = "X-Request-ID"
#: A caller's request id that is echoed; any other is replaced by a new one.
REQUEST_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"

access_log = logging.getLogger("compliance.server.access")

_HEADER = REQUEST_ID_HEADER.lower().encode("ascii")
_WELL_FORMED = re.compile(REQUEST_ID_PATTERN.encode("ascii"))
# What a request line may show as is in a log line: visible ASCII but the double quote.
_UNSAFE = re.compile(rb'[^\x21\x23-\x7e]')


def new_request_id() -> str:
    """A fresh request id: 32 random hex digits."""
    return uuid.uuid4().hex


def caller_request_id(scope: Scope) -> str | None:
    """The caller's ``X-Request-ID`` when there is exactly one and it is well-formed."""
    values = [value for name, value in scope.get("headers", ()) if name.lower() == _HEADER]
    if len(values) == 1 and _WELL_FORMED.fullmatch(values[0]):
        return values[0].decode("ascii")
    return None


def request_id_of(scope: Mapping[str, Any]) -> str | None:
    """The id `RequestIdMiddleware` gave this request (None outside it)."""
    state = scope.get("state")
    if isinstance(state, Mapping):
        value = state.get("request_id")
        return value if isinstance(value, str) else None
    return None


class RequestIdMiddleware:
    """Give every HTTP request an id, put it on the answer, and log one access line with it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = caller_request_id(scope) or new_request_id()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        header = (_HEADER, request_id.encode("ascii"))
        status: int | None = None
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != _HEADER]
                headers.append(header)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if status is None:
                status = 500  # what Starlette's error middleware answers next
            raise
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info('%s - "%s %s HTTP/%s" %s %.1fms request_id=%s', _client(scope), scope.get("method"),
                                _target(scope), scope.get("http_version", "1.1"), status or "-",
                                (time.perf_counter() - started) * 1000, request_id)


def _client(scope: Scope) -> str:
    client = scope.get("client")
    if not client:
        return "-"
    host, port = client[0], client[1]
    return f"{host}:{port}"


def _target(scope: Scope) -> str:
    """The request target as sent (path and query); bytes unsafe in a log line are %-escaped."""
    raw = scope.get("raw_path")
    target = raw if isinstance(raw, bytes) else str(scope.get("path", "")).encode("utf-8")
    query = scope.get("query_string", b"")
    if query:
        target = target + b"?" + query
    if _UNSAFE.search(target):
        target = _UNSAFE.sub(lambda m: b"%%%02X" % m.group()[0], target)
    return target.decode("ascii")
