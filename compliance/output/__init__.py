"""Output formats: a small registry of formatters over `LocatedFinding`s.

``FORMATS`` maps a format name (``text``, ``json``, ``jsonl``, ``sarif``, ``github``,
``junit``) to a `Formatter`; `get_formatter` looks one up with a did-you-mean on a typo.
Every formatter writes to a text stream: ``formatter.write(findings, stream, context)``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, Sequence
from difflib import get_close_matches
from typing import Protocol, TextIO

from compliance.output.located import LocatedFinding, MessageRef, OutputContext, RuleInfo, locate


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


#: Format name → (module, class) of its formatter, in the order formats are listed.
_FORMATTERS: dict[str, tuple[str, str]] = {
    "text": ("compliance.output.text", "TextFormatter"),
    "json": ("compliance.output.structured", "JsonFormatter"),
    "jsonl": ("compliance.output.structured", "JsonLinesFormatter"),
    "sarif": ("compliance.output.sarif", "SarifFormatter"),
    "github": ("compliance.output.github", "GithubFormatter"),
    "junit": ("compliance.output.junit", "JunitFormatter"),
}


class _Formats(Mapping[str, Formatter]):
    """The registry: a read-only mapping that imports a formatter's module the first time its
    format is looked up (a text lint never imports the JUnit formatter's XML library)."""

    def __init__(self) -> None:
        self._made: dict[str, Formatter] = {}

    def __getitem__(self, name: str) -> Formatter:
        formatter = self._made.get(name)
        if formatter is None:
            module, cls = _FORMATTERS[name]
            formatter = self._made[name] = getattr(importlib.import_module(module), cls)()
        return formatter

    def __iter__(self) -> Iterator[str]:
        return iter(_FORMATTERS)

    def __len__(self) -> int:
        return len(_FORMATTERS)


FORMATS: Mapping[str, Formatter] = _Formats()


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
