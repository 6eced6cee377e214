"""``compliance serve``: run the HTTP service with uvicorn.

The CLI adds the subcommand with `register` (``register(subparsers)`` on the object
``add_subparsers()`` returned); ``python -m compliance.server serve ...`` runs it on its own.
Importing this module is cheap: FastAPI and uvicorn load only when the server starts.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import Any

from compliance.server.defaults import DEFAULT_LEDGER, DEFAULT_MAX_BODY_BYTES, DEFAULT_REQUEST_TIMEOUT_S

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
    p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
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

    try:
        ledgers = parse_ledgers(args.ledger)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    engine = Engine(args.rules or (), use_cache=not args.no_cache)
    app = create_app(engine, max_body_bytes=args.max_body_bytes, request_timeout_s=args.timeout, ledgers=ledgers)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return EXIT_OK


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
