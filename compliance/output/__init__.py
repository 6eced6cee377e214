"""Output formats: a small registry of formatters over `LocatedFinding`s.

``FORMATS`` maps a format name (``text``, ``json``, ``jsonl``, ``sarif``, ``github``,
``junit``) to a `Formatter`; `get_formatter` looks one up with a did-you-mean on a typo.
Every formatter writes to a text stream: ``formatter.write(findings, stream, context)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import get_close_matches
from typing import Protocol, TextIO

from compliance.output.github import GithubFormatter
from compliance.output.junit import JunitFormatter
from compliance.output.located import LocatedFinding, MessageRef, OutputContext, RuleInfo, locate
from compliance.output.sarif import SarifFormatter
from compliance.output.structured import JsonFormatter, JsonLinesFormatter
from compliance.output.text import TextFormatter


class Formatter(Protocol):
    """What every output format provides."""

    name: str
    description: str

    def write(
        self,
        findings: Sequence[LocatedFinding],
        stream: TextIO,
        context: OutputContext | None = None,
    ) -> None:
        """Write `findings` to `stream`."""
        ...


class UnknownFormatError(ValueError):
    """An output format name that is not registered."""

    def __init__(self, name: str) -> None:
        self.name = name
        close = get_close_matches(name.lower(), list(FORMATS), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        super().__init__(f"unknown output format {name!r}{hint} (available: {', '.join(FORMATS)})")


FORMATS: dict[str, Formatter] = {
    f.name: f
    for f in (
        TextFormatter(),
        JsonFormatter(),
        JsonLinesFormatter(),
        SarifFormatter(),
        GithubFormatter(),
        JunitFormatter(),
    )
}


def get_formatter(name: str) -> Formatter:
    """The formatter registered as `name` (case-insensitive).

    Raises:
        UnknownFormatError: with a did-you-mean suggestion and the list of formats.
    """
    try:
        return FORMATS[name.lower()]
    except KeyError:
        raise UnknownFormatError(name) from None


__all__ = [
    "FORMATS",
    "Formatter",
    "LocatedFinding",
    "MessageRef",
    "OutputContext",
    "RuleInfo",
    "UnknownFormatError",
    "get_formatter",
    "locate",
]
