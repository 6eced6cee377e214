"""Bearer-token authentication (RFC 6750) of every endpoint but ``/healthz`` and the copy page's
static files, as ASGI middleware.

A request passes with ``Authorization: Bearer TOKEN`` for one of the configured tokens; any
other request — no header, another scheme, two headers, a token that matches none — gets 401
with ``WWW-Authenticate: Bearer realm="compliance"`` and the structured error body
(``missing_token`` or ``invalid_token``), before its body is read or it is routed (an unknown
path is a 401 too, so routes are not revealed to callers without a token).

The comparison takes the same time whichever token matches, or whether any does: the
SHA-256 of the given token is compared with `hmac.compare_digest` against the SHA-256 of every
configured token, all of them, with no early exit (hashing first makes the compared lengths
equal, so not even a token's length leaks).

``/healthz`` stays open (it says only that the process answers) for load balancers and
liveness probes; ``/readyz`` names the channels and ledgers, so it needs a token like the rest.
The copy page (``/``, ``/static/page.js``, ``/static/page.css``) is open too: static files
shipped in the package, holding no data; the page asks for a token and sends it to the API.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from compliance.server.errors import send_error
from compliance.server.page import STATIC_PATHS

#: Paths answered without a token.
OPEN_PATHS = frozenset({"/healthz"}) | STATIC_PATHS
#: The authentication scheme, as the OpenAPI document names it.
SCHEME_NAME = "bearer"
_REALM = b'Bearer realm="compliance"'


class BearerAuthMiddleware:
    """Answer 401 to any HTTP request outside `OPEN_PATHS` without a valid bearer token."""

    def __init__(self, app: ASGIApp, tokens: Iterable[str]) -> None:
        self.app = app
        self._digests = tuple(hashlib.sha256(t.encode("ascii")).digest() for t in tokens)
        if not self._digests:
            raise ValueError("BearerAuthMiddleware needs at least one token")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or route_path(scope) in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        code, message, challenge = refusal
        await send_error(send, 401, code, message, headers=[(b"www-authenticate", challenge)])

    def refusal(self, scope: Scope) -> tuple[str, str, bytes] | None:
        """None when the request carries a valid token; else (error code, message, challenge)."""
        values = [value for name, value in scope.get("headers", ()) if name.lower() == b"authorization"]
        if not values:
            return "missing_token", "this service needs an API token: send Authorization: Bearer TOKEN", _REALM
        if len(values) > 1:
            return ("invalid_token", "send one Authorization header, not several",
                    _REALM + b', error="invalid_request"')
        scheme, _, credential = values[0].strip().partition(b" ")
        credential = credential.strip()
        if scheme.lower() != b"bearer" or not credential:
            return ("missing_token", "the Authorization header is not a bearer token: send Authorization: Bearer TOKEN",
                    _REALM + b', error="invalid_request"')
        if not self.valid(credential):
            return "invalid_token", "the API token is not valid", _REALM + b', error="invalid_token"'
        return None

    def valid(self, credential: bytes) -> bool:
        """Whether ``credential`` is one of the tokens; compares against every one, in constant time."""
        digest = hashlib.sha256(credential).digest()
        match = False
        for known in self._digests:
            match |= hmac.compare_digest(digest, known)
        return match


def route_path(scope: Scope) -> str:
    """The path the router matches: the request path without the app's ``root_path``."""
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", ""))
    if root and path.startswith(root):
        return path[len(root):] or "/"
    return path
