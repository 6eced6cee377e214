"""Request limits: body size (413) and time per request (504) as pure ASGI middleware, which
answer with the structured error body before the application has started a response; and a
bound on timed-out computations still running in the background (503).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from compliance.server.errors import ApiError, send_error

_T = TypeVar("_T")


class BodyLimitMiddleware:
    """Refuse request bodies larger than ``max_body_bytes`` with 413.

    A declared Content-Length over the limit is refused before reading anything; otherwise
    (chunked bodies, or a Content-Length that lies) the body is read up to the limit and
    refused as soon as it goes over. Bodies within the limit are buffered (they are small by
    construction) and replayed to the application.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(send, declared)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(send, size)
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        await call_with_body(self.app, scope, receive, send, b"".join(chunks))

    async def _refuse(self, send: Send, size: int) -> None:
        await send_error(send, 413, "payload_too_large",
                         f"request body is larger than the limit of {self.max_body_bytes} bytes",
                         {"limit_bytes": self.max_body_bytes, "received_bytes_at_least": size})


class TimeoutMiddleware:
    """Give up on a request after ``timeout_s`` seconds with 504.

    Handlers run the engine in worker threads that are abandoned on cancellation, so the
    answer goes out on time; the abandoned computation finishes in the background (Python
    threads cannot be killed) and its result is dropped.
    """

    def __init__(self, app: ASGIApp, timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        with anyio.move_on_after(self.timeout_s) as deadline:
            await self.app(scope, receive, watch)
        if deadline.cancelled_caught and not started:
            await send_error(send, 504, "timeout", f"the request took longer than {self.timeout_s:g} s",
                             {"timeout_s": self.timeout_s})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None



class AbandonedWork:
    """Count computations a time-out abandoned that are still running, and refuse new work
    (503 ``overloaded``) while there are ``limit`` of them.

    A request over the time limit answers 504 at once, but its worker thread cannot be killed.
    Abandoned threads do not hold the thread pool's tokens, so without this bound a store that
    hangs would make every request leave one more thread behind, without end.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0
        self._lock = threading.Lock()

    async def run(self, fn: Callable[[], _T]) -> _T:
        """``fn()`` in a worker thread, abandoned (and counted until it ends) if cancelled."""
        if self.count >= self.limit:
            raise ApiError(503, "overloaded",
                           f"{self.count} earlier requests that timed out are still running; try again later",
                           {"abandoned": self.count, "limit": self.limit})
        abandoned = finished = False

        def work() -> _T:
            nonlocal finished
            try:
                return fn()
            finally:
                with self._lock:
                    finished = True
                    if abandoned:
                        self.count -= 1

        try:
            return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            with self._lock:
                if not finished:
                    abandoned = True
                    self.count += 1
            raise


async def call_with_body(app: ASGIApp, scope: Scope, receive: Receive, send: Send, body: bytes) -> None:
    """Run `app` on a request whose body a middleware has already read: the app receives
    `body` as one message, then whatever else the client sends (a disconnect)."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    await app(scope, replay, send)
