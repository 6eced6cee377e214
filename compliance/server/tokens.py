"""API tokens of the HTTP service: where ``compliance serve`` reads them, and what a token may be.

Tokens come from ``--api-token-file PATH`` (one per line; blank lines and lines starting with
``#`` are ignored) and from the ``COMPLIANCE_API_TOKEN`` environment variable (one token); both
may be given, and every token they hold is accepted. A token is 1 to 4096 visible ASCII
characters (``!`` to ``~``, no spaces): what fits in ``Authorization: Bearer TOKEN`` as is.

Every problem is an `ApiTokenError` (a `ComplianceError`) raised before the server starts:
a file that is missing, unreadable, not UTF-8 or holds no token, a line that is no token, an
environment variable that is set but blank. A service its owner meant to protect must never
start open because of a typo.

Cheap to import (no FastAPI): the CLI reads tokens before building the app.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from compliance.errors import ComplianceError

#: The environment variable ``compliance serve`` reads a token from.
ENV_VAR = "COMPLIANCE_API_TOKEN"
#: Longest token accepted (a header line must stay reasonable).
MAX_TOKEN_CHARS = 4096
_TOKEN = re.compile(r"[\x21-\x7e]+")


class ApiTokenError(ComplianceError, ValueError):
    """An API token (or the file or variable that should hold tokens) that cannot be used."""


def check_token(token: object, where: str) -> str:
    """``token`` if it is a usable bearer token; else `ApiTokenError` saying ``where`` it came from."""
    if not isinstance(token, str):
        raise ApiTokenError(f"{where}: an API token must be a string, got {type(token).__name__}")
    if not token:
        raise ApiTokenError(f"{where}: an API token cannot be empty")
    if len(token) > MAX_TOKEN_CHARS:
        raise ApiTokenError(f"{where}: an API token has at most {MAX_TOKEN_CHARS} characters, got {len(token)}")
    if not _TOKEN.fullmatch(token):
        bad = next(i for i, ch in enumerate(token) if not _TOKEN.fullmatch(ch))
        raise ApiTokenError(f"{where}: an API token is visible ASCII without spaces ('!' to '~'); "
                            f"character {bad + 1} is {token[bad]!r}")
    return token


def check_tokens(tokens: Iterable[str], where: str = "api_tokens") -> list[str]:
    """Every token checked (`check_token`), duplicates dropped, order kept; at least one."""
    if isinstance(tokens, (str, bytes)):
        raise ApiTokenError(f"{where}: expected a list of tokens, not one {type(tokens).__name__}")
    checked = list(dict.fromkeys(check_token(t, f"{where}[{i}]") for i, t in enumerate(tokens)))
    if not checked:
        raise ApiTokenError(f"{where}: no token given (pass None for a service without authentication)")
    return checked


def read_token_file(path: str | os.PathLike[str]) -> list[str]:
    """The tokens of a token file: one per line, blank lines and ``#`` comment lines ignored.

    Raises `ApiTokenError` naming the file (and the line) when it cannot be read, is not
    UTF-8, holds a line that is no token, or holds no token at all.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ApiTokenError(f"--api-token-file {file}: no such file") from None
    except UnicodeDecodeError as exc:
        raise ApiTokenError(f"--api-token-file {file}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ApiTokenError(f"--api-token-file {file}: cannot read it: {exc.strerror or exc}") from None
    tokens = []
    for number, line in enumerate(text.splitlines(), start=1):
        value = line.strip()
        if not value or value.startswith("#"):
            continue
        tokens.append(check_token(value, f"{file}:{number}"))
    if not tokens:
        raise ApiTokenError(f"--api-token-file {file}: holds no token (one per line; blank lines and "
                            "'#' comments are ignored)")
    return list(dict.fromkeys(tokens))


def token_from_environment(environ: Mapping[str, str] | None = None) -> str | None:
    """The token in ``COMPLIANCE_API_TOKEN`` (surrounding blanks removed), or None when unset."""
    value = (os.environ if environ is None else environ).get(ENV_VAR)
    if value is None:
        return None
    if not value.strip():
        raise ApiTokenError(f"{ENV_VAR} is set but blank: set a token, or unset it for a service "
                            "without authentication")
    return check_token(value.strip(), ENV_VAR)


def load_api_tokens(token_file: str | os.PathLike[str] | None = None,
                    environ: Mapping[str, str] | None = None) -> list[str] | None:
    """The tokens of ``token_file`` and of ``COMPLIANCE_API_TOKEN``, or None when neither is given
    (an open service). What ``compliance serve`` passes to ``create_app(api_tokens=...)``."""
    tokens = read_token_file(token_file) if token_file is not None else []
    from_env = token_from_environment(environ)
    if from_env is not None:
        tokens.append(from_env)
    return list(dict.fromkeys(tokens)) or None
