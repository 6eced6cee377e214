"""The copy page (``GET /``) and what it needs from the API besides ``/v1/lint``.

The page is three static files shipped in the package (``compliance/server/static``): HTML, CSS
and a script, no build step, no CDN, nothing fetched at run time but the API itself. They are
read once, when the app is built, and served without a token (`STATIC_PATHS` are open paths in
`compliance.server.auth`): they hold no data. Everything the page shows comes from the public
API, with the bearer token the user types into it, so the same page works against a remote
service.

Also here: `measure`, the live counters of a lint answer (characters as sent, display width,
SMS billing segments, and the channel's limits, read from its pack), and `rule_detail`, the
``compliance rule`` explanation of one rule as JSON (``GET /v1/rules/{rule_id}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from typing import Any

#: URL path → (file in compliance/server/static, media type).
STATIC_FILES: dict[str, tuple[str, str]] = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/page.css": ("page.css", "text/css; charset=utf-8"),
    "/static/page.js": ("page.js", "text/javascript; charset=utf-8"),
}
#: The paths served without a token.
STATIC_PATHS = frozenset(STATIC_FILES)

#: The page loads only its own script and style; it may call an API on another origin (the
#: user can point it at a remote service), and nothing may frame it.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src *; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def static_file(name: str) -> bytes:
    """The bytes of one of the page's files (package data)."""
    return resources.files("compliance.server").joinpath("static", name).read_bytes()


def _sms_counted(engine: Any, channel: str) -> bool:
    """Whether the channel's rules count SMS billing segments (its pack calls ``sms_segments``)."""
    try:
        return "sms_segments(" in engine.program(channel).source
    except Exception:  # noqa: BLE001 - an engine without programs: no segment counter
        return False


def _limits(engine: Any, channel: str) -> dict[str, int]:
    """The pack's length limits: its integer parameters named ``max_*_chars`` or ``max_*_width``."""
    try:
        params = engine.program(channel).pack.params
    except Exception:  # noqa: BLE001 - an engine without programs: no limits shown
        return {}
    return {name: param.value for name, param in params.items()
            if name.startswith("max_") and name.endswith(("_chars", "_width"))
            and isinstance(param.value, int) and not isinstance(param.value, bool)}


class Measurer:
    """`measure` for one engine, with each channel's limits and segment flag read once (the
    engine is immutable, so they cannot change while the app runs)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self._channels: dict[str, tuple[bool, dict[str, int]]] = {}

    def __call__(self, channel: str, fields: Mapping[str, str]) -> dict[str, Any]:
        known = self._channels.get(channel)
        if known is None:
            known = self._channels[channel] = (_sms_counted(self.engine, channel), _limits(self.engine, channel))
        return _measure(fields, *known)


def measure(engine: Any, channel: str, fields: Mapping[str, str]) -> dict[str, Any]:
    """Counters of a linted message, counted the way the length rules count.

    ``characters``: the message as sent, 【signature】 + body + opt-out (``rendered_length``);
    ``width``: its display width (CJK and full-width characters count 2); ``segments``: SMS
    billing segments (70 characters in one, 67 in each part beyond), or None when the
    channel's rules do not count segments; ``fields``: characters and width of each field;
    ``limits``: the channel's length parameters (``max_message_chars``, ``max_title_width``…).
    """
    return _measure(fields, _sms_counted(engine, channel), _limits(engine, channel))


def _measure(fields: Mapping[str, str], counted: bool, limits: dict[str, int]) -> dict[str, Any]:
    from compliance.analyzer.primitives import rendered_length
    from compliance.analyzer.scanners.length import (
        CONCATENATED_SMS_CHARS,
        SINGLE_SMS_CHARS,
        sms_segments,
        width,
    )

    signature, body, optout = fields.get("signature", ""), fields.get("body", ""), fields.get("optout", "")
    characters = rendered_length(signature, body, optout)
    rendered = (f"【{signature}】" if signature else "") + body + optout
    return {"characters": characters, "width": width(rendered),
            "segments": sms_segments(characters) if counted else None,
            "sms_single_chars": SINGLE_SMS_CHARS, "sms_part_chars": CONCATENATED_SMS_CHARS,
            "fields": {name: {"characters": len(text), "width": width(text)} for name, text in fields.items() if text},
            "limits": dict(limits)}


def rule_detail(engine: Any, rule_id: str) -> dict[str, Any]:
    """What ``compliance rule RULE_ID`` shows, as data (`compliance.checker.describe.describe_rule`).

    Raises KeyError (with a did-you-mean) for an unknown rule.
    """
    from compliance.checker.describe import describe_rule

    return describe_rule(*engine.rule(rule_id))
