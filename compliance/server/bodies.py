"""Request bodies are strict JSON: checked once, before FastAPI parses and validates them.

Python's ``json`` module is more lenient than JSON (RFC 8259), and some of its leniencies reach
the engine as values no sender meant, or crash later:

- ``NaN`` and ``Infinity`` are not JSON. A NaN fact compares false with everything, so a rule
  such as ``shop.fans < 50000`` would not fire: a fault that lets a message through.
- ``"\\ud800"`` (a lone UTF-16 surrogate) decodes to a string that cannot be encoded again:
  the answer that echoes the message's fields would fail with a 500.
- Bodies that are not UTF-8 (``json.loads`` on bytes also guesses UTF-16 and UTF-32).
- Deep nesting: ``[[[[…]]]]`` 30,000 deep exhausts the parser's recursion. Payloads here are
  facts and message fields a few levels deep; more than `MAX_JSON_DEPTH` levels is refused
  before parsing.
- Integers with more than 4,300 digits (CPython refuses to convert them).
- The same key twice in one object: Python keeps the last, other parsers (a proxy, an audit
  log reader) the first, so what was checked and what was logged could differ.
- Bodies in other media types (form posts, text/plain): 415, with what to send instead.

Every refusal is a structured error (`compliance.server.errors`) with a precise message.
"""

from __future__ import annotations

import email.message
import json
import re
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from compliance.server.errors import ApiError, send_error
from compliance.server.limits import call_with_body

#: Nesting depth of arrays and objects a request body may have (facts are a few levels deep).
MAX_JSON_DEPTH = 32
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_STRUCTURE = re.compile(r'["\\\[\]{}]')
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")


class _NotJson(ValueError):
    """A constant Python's parser accepts and JSON does not (NaN, Infinity, -Infinity)."""


class _DuplicateKey(ValueError):
    """One object with the same key twice: which one counts differs between parsers."""


def _reject_constant(name: str) -> Any:
    raise _NotJson(name)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(repr(key))
            seen.add(key)
    return result


def json_body_problem(content_type: str | None, body: bytes) -> ApiError | None:
    """Why ``body`` is not an acceptable JSON request body, or None when it is.

    An empty body is left to the request model (it reports the missing fields).
    """
    if not body:
        return None
    if not is_json_media_type(content_type):
        return ApiError(415, "unsupported_media_type",
                        "request bodies are JSON: send Content-Type: application/json",
                        {"content_type": content_type})
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return ApiError(400, "invalid_utf8", f"the request body is not UTF-8: invalid byte at offset {exc.start}",
                        {"offset": exc.start})
    if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH:
        depth, offset = max_depth(text)
        if depth > MAX_JSON_DEPTH:
            return ApiError(400, "too_deeply_nested",
                            f"the request body nests arrays/objects more than {MAX_JSON_DEPTH} deep "
                            f"(at character {offset})", {"limit": MAX_JSON_DEPTH, "offset": offset})
    try:
        value = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except _NotJson as exc:
        return ApiError(400, "malformed_json", f"the request body is not valid JSON: {exc} is not a JSON value",
                        None)
    except json.JSONDecodeError as exc:
        return ApiError(400, "malformed_json",
                        f"the request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                        {"line": exc.lineno, "column": exc.colno, "offset": exc.pos})
    except _DuplicateKey as exc:
        return ApiError(400, "malformed_json", f"the request body is ambiguous: key {exc} appears twice in one object",
                        None)
    except (ValueError, RecursionError):  # an integer with more digits than CPython converts (4,300)
        return ApiError(400, "malformed_json", "the request body is not valid JSON that can be read: "
                        "a number has too many digits", None)
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        return ApiError(400, "invalid_text", "the request body holds a lone UTF-16 surrogate escape "
                        "(\\ud800–\\udfff without its pair), which is not a character", None)
    return None


def is_json_media_type(content_type: str | None) -> bool:
    """``application/json`` or ``application/<anything>+json`` (parameters ignored)."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


def max_depth(text: str) -> tuple[int, int]:
    """Deepest nesting of arrays/objects in JSON ``text`` (brackets inside strings do not count),
    and the offset where it first went over `MAX_JSON_DEPTH` (or of the deepest point).

    Linear in the number of brackets, quotes and backslashes; works on malformed text too.
    """
    depth = deepest = 0
    at = 0
    in_string = False
    escaped = -1
    for match in _STRUCTURE.finditer(text):
        i = match.start()
        if i == escaped:
            continue
        char = text[i]
        if in_string:
            if char == "\\":
                escaped = i + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest, at = depth, i
                if deepest > MAX_JSON_DEPTH:
                    return deepest, at
        elif char in "]}":
            depth -= 1
    return deepest, at


def _has_lone_surrogate(value: Any) -> bool:
    # json.loads joins a valid \ud83d\ude00 pair into one character: any surrogate left is lone.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class JsonBodyMiddleware:
    """Refuse request bodies that are not strict JSON (see the module docstring) before routing.

    Runs inside `BodyLimitMiddleware`, so the body it reads is already bounded and buffered.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        problem = json_body_problem(_header(scope, b"content-type"), body)
        if problem is not None:
            await send_error(send, problem.status, problem.code, problem.message, problem.details)
            return
        await call_with_body(self.app, scope, receive, send, body)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None
