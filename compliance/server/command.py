"""``compliance serve``: run the HTTP service with uvicorn.

The CLI adds the subcommand with `register` (``register(subparsers)`` on the object
``add_subparsers()`` returned); ``python -m compliance.server serve ...`` runs it on its own.
Importing this module is cheap: FastAPI and uvicorn load only when the server starts.
"""

from __future__ import annotations

import argparse
import copy
import ipaddress
import re
import sys
from collections.abc import Sequence
from typing import Any

from compliance.argtypes import positive_int
from compliance.server.defaults import (
    DEFAULT_LEDGER,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_FINDINGS,
    DEFAULT_REQUEST_TIMEOUT_S,
)
from compliance.server.tokens import ENV_VAR

EXIT_OK, EXIT_ERROR = 0, 2
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``serve`` subcommand to an argparse ``add_subparsers()`` object; returns its parser."""
    help_text = "Run the HTTP service (lint, eligibility, reserve, schedule, rules) with uvicorn."
    p = subparsers.add_parser("serve", help=help_text, description=help_text)
    p.set_defaults(func=cmd_serve)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument("--ledger", action="append", metavar="URL", default=[],
                   help="frequency ledger for /v1/reserve: memory://, sqlite:///path.db or redis://host:port/db; "
                        "NAME=URL to configure several (requests choose by name); repeatable")
    p.add_argument("--rules", action="append", metavar="PATH", help="extra rule file or directory (repeatable)")
    p.add_argument("--no-cache", action="store_true", help="do not use the compiled-pack cache")
    p.add_argument("--max-body-bytes", type=int, default=DEFAULT_MAX_BODY_BYTES, metavar="N",
                   help=f"larger request bodies get 413 (default: {DEFAULT_MAX_BODY_BYTES})")
    p.add_argument("--timeout", type=float, default=DEFAULT_REQUEST_TIMEOUT_S, metavar="SECONDS",
                   help=f"requests running longer get 504 (default: {DEFAULT_REQUEST_TIMEOUT_S:g})")
    p.add_argument("--api-token-file", metavar="PATH",
                   help=f"require 'Authorization: Bearer TOKEN' on every endpoint but /healthz and the copy page's static files, for one of the "
                        f"tokens in PATH (one per line; blank lines and # comments ignored); {ENV_VAR} adds one. "
                        "Without either the service is open")
    p.add_argument("--max-findings", type=positive_int, default=DEFAULT_MAX_FINDINGS, metavar="N",
                   help=f"most findings in one lint answer, and the most a request may ask for "
                        f"(default: {DEFAULT_MAX_FINDINGS})")
    p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"),
                   help="the access log (one line per request, with its X-Request-ID) is at info")
    return p


def parse_ledgers(values: Sequence[str]) -> dict[str, str]:
    """``URL`` (named "default") or ``NAME=URL`` options → names → URLs.

    A value is ``NAME=URL`` only when what precedes the first ``=`` is a plain name, so URLs
    with query strings (``sqlite:///l.db?busy_timeout=5``) are taken whole.
    """
    ledgers: dict[str, str] = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if sep and _NAME.match(name) and "://" in rest:
            url = rest
        else:
            name, url = DEFAULT_LEDGER, value
        if "://" not in url:
            raise ValueError(f"--ledger {value!r}: expected a URL such as sqlite:///ledger.db (or NAME=URL)")
        if name in ledgers:
            raise ValueError(f"--ledger: ledger {name!r} given twice")
        ledgers[name] = url
    return ledgers


def cmd_serve(args: argparse.Namespace) -> int:
    """Build the engine and the app, then serve until interrupted."""
    try:
        import uvicorn

        from compliance.server.app import create_app
    except ImportError:
        from compliance.server import MISSING_EXTRA

        print(f"error: {MISSING_EXTRA}", file=sys.stderr)
        return EXIT_ERROR
    from compliance.engine import Engine
    from compliance.frequency.errors import LedgerError
    from compliance.server.tokens import ApiTokenError, load_api_tokens

    try:
        ledgers = parse_ledgers(args.ledger)
        tokens = load_api_tokens(args.api_token_file)
    except (ValueError, ApiTokenError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    engine = Engine(args.rules or (), use_cache=not args.no_cache)
    try:
        app = create_app(engine, max_body_bytes=args.max_body_bytes, request_timeout_s=args.timeout, ledgers=ledgers,
                         api_tokens=tokens, max_findings=args.max_findings)
    except LedgerError as exc:
        print(f"error: not serving: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if tokens is None and not is_loopback(args.host):
        print(f"warning: serving on {args.host}, which other machines can reach, without authentication: anyone "
              f"who can connect can use every endpoint. Give --api-token-file PATH or set {ENV_VAR} (and put TLS "
              "in front)", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False,
                log_config=log_config(args.log_level))
    return EXIT_OK


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the service on this machine (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging configuration, plus the service's loggers: ``compliance.server.access``
    (one line per request with its request id) where uvicorn's access log goes (stdout), which
    is turned off (it cannot show the id), and ``compliance.server`` (errors) with uvicorn's."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["compliance_access"] = {"()": "uvicorn.logging.DefaultFormatter",
                                                 "fmt": "%(levelprefix)s %(message)s", "use_colors": None}
    config["handlers"]["compliance_access"] = {"formatter": "compliance_access", "class": "logging.StreamHandler",
                                               "stream": "ext://sys.stdout"}
    config["loggers"]["compliance.server.access"] = {"handlers": ["compliance_access"], "level": level.upper(),
                                                     "propagate": False}
    config["loggers"]["compliance.server"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return config


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m compliance.server serve ...`` (same exit codes as the CLI: 0, or 2 on errors)."""
    from compliance.errors import ComplianceError

    parser = argparse.ArgumentParser(prog="python -m compliance.server")
    register(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (ComplianceError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
