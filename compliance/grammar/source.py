"""Reading rules files, without the parser: what `Engine` needs to key its cache.

Kept free of lark (`compliance.grammar.parser` imports it) so that an engine whose packs are
all in the on-disk cache never imports the parser (cold start, issue 13).
"""

from __future__ import annotations

from pathlib import Path

from compliance import ast
from compliance.errors import Diagnostic, RulesSyntaxError

#: The grammar of the rules language (part of the compiled packs' cache key).
GRAMMAR_PATH = Path(__file__).with_name("rules.lark")


def read_source(path: str | Path) -> str:
    """The text of a rules file; bytes that are not UTF-8 are a `RulesSyntaxError` at their line."""
    path = Path(path)
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8", "replace")) + 1
        pos = ast.Pos(str(path), line, column, line, column + 1)
        shown = data[line_start : data.find(b"\n", exc.start) if b"\n" in data[exc.start :] else len(data)]
        raise RulesSyntaxError([Diagnostic(
            f"not UTF-8 text: {exc.reason} (byte 0x{data[exc.start]:02x} at offset {exc.start})", pos,
            "save the file as UTF-8", shown.decode("utf-8", "replace"))]) from None
