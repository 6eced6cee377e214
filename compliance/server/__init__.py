"""HTTP service: ``create_app()`` gives a FastAPI app over an `Engine` (needs the ``server`` extra).

    from compliance.server import create_app
    app = create_app(ledgers="sqlite:///ledger.db")     # then: uvicorn, or `compliance serve`

FastAPI is imported on first use of `create_app`, so `compliance.server.command` (the CLI's
``serve`` subcommand) costs nothing until the server actually starts. See docs/SERVICE.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["create_app"]

if TYPE_CHECKING:  # pragma: no cover
    from compliance.server.app import create_app  # noqa: F401

MISSING_EXTRA = ("the compliance HTTP service needs FastAPI and uvicorn, which are not installed; "
                 "install the extra: pip install 'compliance[server]'")


def __getattr__(name: str) -> Any:
    if name != "create_app":
        raise AttributeError(f"module 'compliance.server' has no attribute {name!r}")
    try:
        from compliance.server.app import create_app
    except ImportError as exc:
        if exc.name and exc.name.split(".")[0] in ("fastapi", "starlette", "anyio", "uvicorn"):
            raise ImportError(MISSING_EXTRA) from exc
        raise
    return create_app
