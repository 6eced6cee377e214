"""Parser front end: rules text → `compliance.ast` nodes, or a `RulesSyntaxError`.

Lark (LALR, contextual lexer, cached tables) builds the parse tree; `_ToAst` maps each
grammar rule to one small method. Syntax errors are rewritten into what a user can act on:
file:line:col, the line with a caret, what was expected in plain words, and a did-you-mean
for misspelt keywords.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from compliance import ast
from compliance.errors import Diagnostic, RulesError, RulesSyntaxError, did_you_mean, source_line
from compliance.grammar.source import GRAMMAR_PATH, read_source  # noqa: F401 - re-exported

SHANGHAI = ZoneInfo("Asia/Shanghai")

#: Longest rules file accepted, in characters (the built-in packs total about 50,000). Parsing
#: runs at roughly 0.1–0.3 MB/s, so this keeps loading a hostile file to seconds.
MAX_SOURCE_CHARS = 1_000_000

#: Deepest nesting of expressions (each operator, call, collection, and item type is a level).
#: Checking, folding and the generated Python recurse once per level; CPython itself refuses
#: source nested more than 200 brackets deep, so the limit keeps every later stage safe.
MAX_NESTING = 100

#: Parse-tree nodes that nest: one level each.
_NESTING_NODES = frozenset({
    "or_", "and_", "not_", "compare", "in_", "not_in", "binary", "neg", "attribute", "call",
    "set_literal", "list_literal", "type",
})

#: Words the grammar reserves; used for did-you-mean on a misspelt keyword.
KEYWORDS = (
    "pack title source channel include extends fact param override disable eligibility copy "
    "frequency schedule audience ref severity category message explain when require tier grant "
    "example over select on find fix channels classes scope window limit during failures "
    "earliest rolling coerce and or not in true false null"
).split()

# What Lark's terminal names mean to a person writing rules.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "RULE_ID": "a rule id (lower-case words joined by '-')",
    "RULE_KIND": "a rule kind (eligibility, copy, frequency, schedule, audience)",
    "STRING": "a string",
    "LONG_STRING": "a string",
    "NUMBER": "a number",
    "PERCENT": "a percentage",
    "DURATION": "a duration such as 24h",
    "CLOCK": "a time of day such as 11:00",
    "DATE": "a date such as 2024-06-18",
    "DATETIME": "a date and time",
    "SEVERITY": "a severity (error, warning, info)",
    "OUTCOME": "pass or fail",
    "COMPARE": "a comparison (==, !=, <, <=, >, >=)",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COMMA": "','",
    "COLON": "':'",
    "DOT": "'.'",
    "EQUAL": "'='",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "ADD": "'+' or '-'",
    "MUL": "'*' or '/'",
    "$END": "the end of the file",
}


@lru_cache(maxsize=1)
def _lark() -> Lark:
    return Lark(
        GRAMMAR_PATH.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=False,
        start=["start", "expr"],
        cache=True,
    )


class _AstError(Exception):
    """Raised inside the transformer for a token that parses but means nothing (25:00)."""

    def __init__(self, message: str, token: Token, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.token = token
        self.hint = hint


def _describe_expected(expected: set[str]) -> str:
    words = sorted({_TERMINAL_WORDS.get(t, _literal_word(t)) for t in expected})
    if len(words) > 16:
        words = words[:16] + ["…"]
    return ", ".join(words)


def _literal_word(terminal: str) -> str:
    # Anonymous keyword terminals are named after their text upper-cased (e.g. "REQUIRE").
    if terminal.isupper() and terminal.isalpha():
        return f"'{terminal.lower()}'"
    return terminal


def parse_text(text: str, file: str = "<string>") -> ast.RulesFile:
    """Parse rules text. Raises `RulesSyntaxError` with positions on bad input.

    Besides syntax, this enforces the limits every later stage relies on: at most
    `MAX_SOURCE_CHARS` characters and expressions nested at most `MAX_NESTING` levels.
    """
    _check_size(text, file)
    try:
        tree = _lark().parse(text, start="start")
        _check_nesting(tree, text, file)
        packs = _ToAst(file, text).transform(tree)
    except UnexpectedInput as exc:
        raise RulesSyntaxError([_syntax_diagnostic(exc, text, file)]) from None
    except VisitError as exc:
        raise _visit_error(exc, text, file) from None
    return ast.RulesFile(path=file, packs=tuple(packs))


def parse_file(path: str | Path) -> ast.RulesFile:
    """Parse a rules file from disk."""
    return parse_text(read_source(path), str(path))


def _check_size(text: str, file: str) -> None:
    if len(text) > MAX_SOURCE_CHARS:
        pos = ast.Pos(file, 1, 1, 1, 1)
        raise RulesSyntaxError([Diagnostic(
            f"rules file has {len(text):,} characters; the limit is {MAX_SOURCE_CHARS:,}", pos,
            "split the packs over several files")])


def _check_nesting(tree: Tree, text: str, file: str, line_offset: int = 0, column_offset: int = 0) -> None:
    """Reject expressions nested deeper than `MAX_NESTING` (walks the tree without recursion).

    The error points at the start of the outermost expression that is too deep.
    """
    stack: list[tuple[Any, int, Any]] = [(tree, 0, None)]
    while stack:
        node, depth, root = stack.pop()
        if not isinstance(node, Tree):
            continue
        if node.data in _NESTING_NODES:
            depth += 1
            root = root if root is not None else node
            if depth > MAX_NESTING:
                line = getattr(root.meta, "line", 1)
                column = getattr(root.meta, "column", 1)
                col = column + (column_offset if line == 1 else 0)
                pos = ast.Pos(file, line + line_offset, col, line + line_offset, col + 1)
                raise RulesSyntaxError([Diagnostic(
                    f"expression nested deeper than {MAX_NESTING} levels", pos,
                    "split it over several rules or `when` clauses; a long chain of `or ==` "
                    "is better written `x in {…}`", source_line(text, line) if not line_offset else None)])
        stack.extend((child, depth, root) for child in node.children)


def _visit_error(exc: VisitError, text: str, file: str) -> RulesSyntaxError:
    """A positioned error for anything that failed while building the AST."""
    inner = exc.orig_exc
    if isinstance(inner, _AstError):
        return RulesSyntaxError([_token_diagnostic(inner, text, file)])
    if isinstance(inner, RulesError):  # a message hole: give its diagnostics their source line
        return RulesSyntaxError([Diagnostic(d.message, d.pos, d.hint, d.source_line or source_line(text, d.pos.line))
                                 for d in inner.diagnostics])
    obj = exc.obj
    meta = obj.meta if isinstance(obj, Tree) else obj
    line = getattr(meta, "line", None) or 1
    column = getattr(meta, "column", None) or 1
    pos = ast.Pos(file, line, column, line, column + 1)
    what = exc.rule if isinstance(exc.rule, str) else "this"
    return RulesSyntaxError([Diagnostic(f"cannot read {what.rstrip('_')}: {inner}", pos, None,
                                        source_line(text, line))])


def parse_expression(text: str, file: str = "<expr>", line: int = 1, column: int = 1) -> ast.Expr:
    """Parse one expression (used for ``{…}`` holes in messages, and by tests)."""
    _check_size(text, file)
    try:
        tree = _lark().parse(text, start="expr")
        _check_nesting(tree, text, file, line - 1, column - 1)
        return _ToAst(file, text, line - 1, column - 1).transform(tree)
    except UnexpectedInput as exc:
        diag = _syntax_diagnostic(exc, text, file)
        diag = Diagnostic(diag.message.replace("unexpected end of file", "unexpected end of the value"), diag.pos,
                          diag.hint)
        shifted = ast.Pos(file, diag.pos.line + line - 1, diag.pos.column + (column - 1 if diag.pos.line == 1 else 0),
                          diag.pos.end_line + line - 1, diag.pos.end_column + (column - 1 if diag.pos.line == 1 else 0))
        message = diag.message
        if message == unclosed_string_message(diag.pos.line, diag.pos.column):
            message = unclosed_string_message(shifted.line, shifted.column)
        raise RulesSyntaxError([Diagnostic(message, shifted, diag.hint)]) from None
    except VisitError as exc:
        raise _visit_error(exc, text, file) from None


def _token_diagnostic(err: _AstError, text: str, file: str) -> Diagnostic:
    tok = err.token
    pos = ast.Pos(file, tok.line or 1, tok.column or 1, tok.end_line or tok.line or 1,
                  tok.end_column or (tok.column or 1) + len(tok))
    return Diagnostic(err.message, pos, err.hint, source_line(text, pos.line))


def _syntax_diagnostic(exc: UnexpectedInput, text: str, file: str) -> Diagnostic:
    line = getattr(exc, "line", None) or 1
    column = getattr(exc, "column", None) or 1
    hint = None
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        if tok.type == "$END":
            lines = text.split("\n")
            line, column = len(lines), len(lines[-1]) + 1
            message = f"unexpected end of file; expected {_describe_expected(exc.expected)}"
            end = column + 1
        else:
            message = f"unexpected {tok!s:.40}; expected {_describe_expected(exc.expected)}"
            end = column + max(len(tok), 1)
            if tok.type == "NAME" or tok.type == "RULE_ID":
                guess = did_you_mean(str(tok), KEYWORDS, cutoff=0.75)
                if guess and guess != str(tok):
                    hint = f"did you mean '{guess}'?"
            if "NAME" in exc.expected and str(tok) in KEYWORDS:
                hint = f"'{tok}' is a reserved word of the rules language and cannot be used as a name"
            if str(tok) == "=" and "COMPARE" in exc.expected:
                hint = "comparison is written '=='"
    elif isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        allowed = exc.allowed or set()
        message = f"unexpected character {char!r}"
        if allowed:
            message += f"; expected {_describe_expected(set(allowed))}"
        end = column + 1
        offset: int = exc.pos_in_stream or 0
        unclosed = _unclosed_string(text, offset)
        if unclosed is not None:
            start, hint = unclosed
            column -= offset - start  # the quotes that open it are on one line
            message = unclosed_string_message(line, column)
            line_end = text.find("\n", start)
            end = column + max(1, (len(text) if line_end == -1 else line_end) - start)
        elif char in "“”":
            hint = 'strings are written with ASCII double quotes "…"'
        elif char == "\ufeff":
            hint = "a byte-order mark (U+FEFF); save the file as UTF-8 without BOM"
        elif char == "\x00":
            hint = "a NUL byte: rules files are text"
        elif char == "=" and "COMPARE" in allowed:
            hint = "comparison is written '=='"
    elif isinstance(exc, UnexpectedEOF):
        lines = text.split("\n")
        line, column = len(lines), len(lines[-1]) + 1
        message = f"unexpected end of file; expected {_describe_expected(set(exc.expected))}"
        end = column + 1
    else:  # pragma: no cover - lark has no other kinds today
        message, end = str(exc), column + 1
    pos = ast.Pos(file, line, column, line, end)
    return Diagnostic(message, pos, hint, source_line(text, line))


@lru_cache(maxsize=2)
def _terminal(name: str) -> re.Pattern[str]:
    """A terminal of the grammar as a compiled regex (strings: STRING, LONG_STRING)."""
    return re.compile(_lark().get_terminal(name).pattern.to_regexp())


def _unclosed_string(text: str, offset: int) -> tuple[int, str] | None:
    '''When a string opens at `offset` and is never closed: where it opens and a hint saying
    how strings end; else None. (The lexer stops at the opening quote, where no string token
    matches; for an unclosed triple quote it stops at the third quote, after lexing ``""``.)'''
    if not text.startswith('"', offset):
        return None
    for start in (offset - 2, offset):
        if start >= 0 and text.startswith('"""', start) and not _terminal("LONG_STRING").match(text, start):
            return start, 'a """…""" string runs until the next """, and there is none after this one'
    if _terminal("STRING").match(text, offset):
        return None
    return offset, ('a "…" string ends on the line where it starts: close it with ", write \\" for a quote '
                    'inside it, or use """…""" for text over several lines')


def unclosed_string_message(line: int, column: int) -> str:
    """The message for a string opened at `line`:`column` and never closed."""
    return f"unclosed string starting at {line}:{column}"


# --------------------------------------------------------------------------------------
# Literal decoding
# --------------------------------------------------------------------------------------

_ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "t": "\t", "r": "\r"}


def _decode_string(tok: Token) -> str:
    raw = str(tok)
    if raw.startswith('"""'):
        body = raw[3:-3]
        if body.startswith("\n"):
            body = body[1:]
        return textwrap.dedent(body).rstrip()
    return _unescape(raw[1:-1], tok)


def _unescape(body: str, tok: Token) -> str:
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt == "u" and i + 6 <= len(body):
                try:
                    out.append(chr(int(body[i + 2 : i + 6], 16)))
                except ValueError:
                    raise _AstError(f"bad escape \\u{body[i + 2 : i + 6]}", tok) from None
                i += 6
                continue
            raise _AstError(f"unknown escape \\{nxt} in string", tok, hint='use \\\\, \\", \\n, \\t or \\uXXXX')
        out.append(ch)
        i += 1
    return "".join(out)


def _number(tok: Token) -> int | float:
    raw = str(tok).replace("_", "")
    scale = 1
    if raw.endswith(("w", "万")):
        scale, raw = 10_000, raw[:-1]
    elif raw.endswith("k"):
        scale, raw = 1_000, raw[:-1]
    if len(raw) > 30:
        raise _AstError(f"number {str(tok)[:20]}… is too long ({len(raw)} digits)", tok,
                        hint="numbers have at most 30 digits")
    if "." in raw:
        value = float(raw) * scale
        return int(value) if scale != 1 and value.is_integer() else value
    return int(raw) * scale


def _duration(tok: Token) -> dt.timedelta:
    import re

    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    seconds = sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([dhms])", str(tok)))
    try:
        return dt.timedelta(seconds=seconds)
    except OverflowError:
        raise _AstError(f"duration {str(tok)[:20]} is too long", tok,
                        hint="durations are at most 999999999 days") from None


def _clock(tok: Token) -> dt.time:
    parts = [int(p) for p in str(tok).split(":")]
    try:
        return dt.time(*parts)
    except ValueError:
        raise _AstError(f"{tok} is not a time of day", tok, hint="hours 0–23, minutes and seconds 0–59") from None


def _date(tok: Token) -> dt.date:
    try:
        return dt.date.fromisoformat(str(tok))
    except ValueError:
        raise _AstError(f"{tok} is not a calendar date", tok) from None


def _datetime(tok: Token) -> dt.datetime:
    raw = str(tok).replace("Z", "+00:00")
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise _AstError(f"{tok} is not a valid date and time", tok) from None
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


# --------------------------------------------------------------------------------------
# Parse tree → AST
# --------------------------------------------------------------------------------------


@v_args(meta=True)
class _ToAst(Transformer):
    """One small method per grammar rule; positions are kept on every node."""

    def __init__(self, file: str, text: str, line_offset: int = 0, column_offset: int = 0):
        super().__init__()
        self.file = file
        self.text = text
        self.line_offset = line_offset
        self.column_offset = column_offset

    # positions ------------------------------------------------------------------------

    def _pos(self, meta: Any) -> ast.Pos:
        if getattr(meta, "empty", True):
            return ast.Pos(self.file, 0, 0, 0, 0)
        return self._shift(meta.line, meta.column, meta.end_line, meta.end_column)

    def _tpos(self, tok: Token) -> ast.Pos:
        return self._shift(tok.line, tok.column, tok.end_line, tok.end_column)

    def _shift(self, line: int, column: int, end_line: int, end_column: int) -> ast.Pos:
        col = column + (self.column_offset if line == 1 else 0)
        end_col = end_column + (self.column_offset if end_line == 1 else 0)
        return ast.Pos(self.file, line + self.line_offset, col, end_line + self.line_offset, end_col)

    # top level ------------------------------------------------------------------------

    def start(self, meta, children):
        return children

    def dotted_name(self, meta, children):
        return ast.PackRef(".".join(str(c) for c in children), self._pos(meta))

    def pack(self, meta, children):
        name_ref, *items = children
        fields: dict[str, Any] = {"title": None, "source": None, "channel": None, "extends": None}
        lists: dict[str, list] = {k: [] for k in ("includes", "facts", "params", "rules", "overrides", "disables")}
        for kind, value in items:
            if kind in fields:
                fields[kind] = value
            else:
                lists[kind].extend(value if kind == "includes" else [value])
        return ast.Pack(
            name=name_ref.name,
            title=fields["title"],
            source=fields["source"],
            channel=fields["channel"],
            includes=tuple(lists["includes"]),
            extends=fields["extends"],
            facts=tuple(lists["facts"]),
            params=tuple(lists["params"]),
            rules=tuple(lists["rules"]),
            overrides=tuple(lists["overrides"]),
            disables=tuple(lists["disables"]),
            pos=self._pos(meta),
        )

    def pack_title(self, meta, children):
        return ("title", children[0].value)

    def pack_source(self, meta, children):
        return ("source", children[0].value)

    def pack_channel(self, meta, children):
        return ("channel", children[0].value)

    def include(self, meta, children):
        return ("includes", list(children))

    def extends(self, meta, children):
        return ("extends", children[0])

    # declarations ---------------------------------------------------------------------

    def type(self, meta, children):
        name = str(children[0])
        arg = next((c for c in children[1:] if isinstance(c, ast.TypeRef)), None)
        optional = any(isinstance(c, Token) and c.type == "OPTIONAL" for c in children[1:])
        return ast.TypeRef(name, arg, optional, self._pos(meta))

    def default(self, meta, children):
        return ("default", children[0])

    def field_name(self, meta, children):
        return children[0]

    def field_decl(self, meta, children):
        name, type_ref, *rest = children
        default = rest[0][1] if rest else None
        return ast.FieldDecl(str(name), type_ref, default, self._tpos(name))

    def coerce_on(self, meta, children):
        return ("coerce", True)

    def coerce_off(self, meta, children):
        return ("coerce", False)

    def fact_group(self, meta, children):
        name, *rest = children
        coerce = next((c[1] for c in rest if isinstance(c, tuple) and c[0] == "coerce"), None)
        fields = tuple(c for c in rest if isinstance(c, ast.FieldDecl))
        return ("facts", ast.FactDecl(str(name), fields, None, None, self._tpos(name), coerce))

    def fact_scalar(self, meta, children):
        name, type_ref, *rest = children
        default = next((c[1] for c in rest if c[0] == "default"), None)
        coerce = next((c[1] for c in rest if c[0] == "coerce"), None)
        return ("facts", ast.FactDecl(str(name), None, type_ref, default, self._tpos(name), coerce))

    def param_decl(self, meta, children):
        name = children[0]
        type_ref = next((c for c in children[1:-1] if isinstance(c, ast.TypeRef)), None)
        return ("params", ast.ParamDecl(str(name), type_ref, children[-1], self._tpos(name)))

    def override(self, meta, children):
        rule_id, *clauses = children
        return ("overrides", ast.Override(str(rule_id), tuple(clauses), self._tpos(rule_id)))

    def disable(self, meta, children):
        return ("disables", ast.Disable(tuple((str(t), self._tpos(t)) for t in children), self._pos(meta)))

    # rules ----------------------------------------------------------------------------

    def rule(self, meta, children):
        kind, rule_id, *clauses = children
        return ("rules", ast.Rule(str(kind), str(rule_id), tuple(clauses), self._pos(meta), self._tpos(rule_id)))

    def _clause(self, keyword: str, value: Any, meta: Any) -> ast.Clause:
        return ast.Clause(keyword, value, self._pos(meta))

    def ref_clause(self, meta, children):
        return self._clause("ref", tuple(c.value for c in children), meta)

    def title_clause(self, meta, children):
        return self._clause("title", children[0].value, meta)

    def severity_clause(self, meta, children):
        return self._clause("severity", str(children[0]), meta)

    def category_clause(self, meta, children):
        return ast.Clause("category", str(children[0]), self._tpos(children[0]))

    def message_clause(self, meta, children):
        return self._clause("message", self._template(children[0]), meta)

    def explain_clause(self, meta, children):
        return self._clause("explain", children[0].value, meta)

    def when_clause(self, meta, children):
        return self._clause("when", children[0], meta)

    def require_clause(self, meta, children):
        return self._clause("require", children[0], meta)

    def tier_clause(self, meta, children):
        name = children[0]
        ref = next((c for c in children[1:] if isinstance(c, tuple) and c[0] == "tier_ref"), None)
        grant = next((c for c in children[1:] if isinstance(c, tuple) and c[0] == "grant"), None)
        cond = next(c for c in children[1:] if not isinstance(c, tuple))
        tier = ast.Tier(str(name), ref[1] if ref else None, cond, grant[1] if grant else (), self._tpos(name))
        return self._clause("tier", tier, meta)

    def tier_ref(self, meta, children):
        return ("tier_ref", children[0].value)

    def grant(self, meta, children):
        return ("grant", tuple(children))

    def grant_item(self, meta, children):
        return (str(children[0]), children[1])

    def example_facts(self, meta, children, outcome=None):
        return ("facts", tuple(children))

    def example_text(self, meta, children):
        return ("text", children[0].value)

    def example_clause(self, meta, children):
        outcome, (kind, body) = str(children[0]), children[1]
        example = ast.Example(outcome, body if kind == "facts" else None, body if kind == "text" else None, self._pos(meta))
        return self._clause("example", example, meta)

    def assignment(self, meta, children):
        target, value = children
        return ast.Assignment(tuple(target.name.split(".")), value, self._pos(meta))

    def over_clause(self, meta, children):
        return ast.Clause("over", str(children[0]), self._tpos(children[0]))

    def select_clause(self, meta, children):
        return self._clause("select", children[0], meta)

    def on_clause(self, meta, children):
        return self._clause("on", tuple(str(c) for c in children), meta)

    def find_clause(self, meta, children):
        return self._clause("find", children[0], meta)

    def fix_clause(self, meta, children):
        return self._clause("fix", children[0], meta)

    def channels_clause(self, meta, children):
        return self._clause("channels", tuple(c.value for c in children), meta)

    def classes_clause(self, meta, children):
        return self._clause("classes", tuple(str(c) for c in children), meta)

    def scope_clause(self, meta, children):
        return self._clause("scope", tuple(str(c) for c in children), meta)

    def window_clause(self, meta, children):
        window = children[0]
        tz = children[1].value if len(children) > 1 else None
        window = ast.Window(window.kind, window.unit, window.count, window.seconds, tz, window.pos)
        return self._clause("window", window, meta)

    def calendar_window(self, meta, children):
        count = int(_number(children[0])) if len(children) == 2 else 1
        unit_tok = children[-1]
        return ast.Window("calendar", str(unit_tok), count, None, None, self._pos(meta))

    def rolling_window(self, meta, children):
        seconds = int(_duration(children[0]).total_seconds())
        return ast.Window("rolling", None, 1, seconds, None, self._pos(meta))

    def limit_clause(self, meta, children):
        return self._clause("limit", children[0], meta)

    def during_clause(self, meta, children):
        return self._clause("during", (str(children[0]), children[1]), meta)

    def failures_clause(self, meta, children):
        return self._clause("failures", str(children[0]), meta)

    def earliest_clause(self, meta, children):
        return self._clause("earliest", children[0], meta)

    # strings and templates ------------------------------------------------------------

    def string(self, meta, children):
        tok = children[0]
        return _StringTok(_decode_string(tok), tok)

    def _template(self, s: "_StringTok") -> ast.Template:
        """Split a message into text and ``{expr}`` holes; ``{{`` and ``}}`` are braces."""
        tok = s.token
        raw = str(tok)
        quote = 3 if raw.startswith('"""') else 1
        body = raw[quote:-quote]
        parts: list[Any] = []
        text_buf: list[str] = []
        i = 0
        while i < len(body):
            ch = body[i]
            if ch in "{}" and body[i : i + 2] in ("{{", "}}"):
                text_buf.append(ch)
                i += 2
                continue
            if ch == "{":
                end = body.find("}", i)
                if end < 0:
                    raise _AstError("'{' opens a value in the message but is never closed", tok,
                                    hint="write {{ for a literal brace")
                inner = body[i + 1 : end]
                before = raw[: quote + i + 1]
                line = tok.line + before.count("\n")
                col = (len(before) - before.rfind("\n")) if "\n" in before else tok.column + len(before)
                if text_buf:
                    parts.append(_unescape("".join(text_buf), tok))
                    text_buf = []
                parts.append(parse_expression(inner.strip() or "''", self.file, line, col + (len(inner) - len(inner.lstrip()))))
                i = end + 1
                continue
            if ch == "}":
                raise _AstError("'}' in a message closes nothing", tok, hint="write }} for a literal brace")
            text_buf.append(ch)
            i += 1
        if text_buf:
            parts.append(_unescape("".join(text_buf), tok))
        return ast.Template(tuple(parts), s.value, self._tpos(tok))

    # expressions ----------------------------------------------------------------------

    def or_(self, meta, children):
        return ast.Binary("or", children[0], children[1], self._pos(meta))

    def and_(self, meta, children):
        return ast.Binary("and", children[0], children[1], self._pos(meta))

    def not_(self, meta, children):
        return ast.Unary("not", children[0], self._pos(meta))

    def neg(self, meta, children):
        return ast.Unary("-", children[0], self._pos(meta))

    def compare(self, meta, children):
        left, op, right = children
        return ast.Binary(str(op), left, right, self._pos(meta))

    def in_(self, meta, children):
        return ast.Binary("in", children[0], children[1], self._pos(meta))

    def not_in(self, meta, children):
        return ast.Binary("not_in", children[0], children[1], self._pos(meta))

    def binary(self, meta, children):
        left, op, right = children
        return ast.Binary(str(op), left, right, self._pos(meta))

    def attribute(self, meta, children):
        value, name = children
        return ast.Attribute(value, str(name), self._pos(meta))

    def call(self, meta, children):
        name, *args = children
        return ast.Call(str(name), tuple(self._expr(a) for a in args), self._pos(meta))

    def name(self, meta, children):
        return ast.Name(str(children[0]), self._tpos(children[0]))

    def set_literal(self, meta, children):
        return ast.SetLiteral(tuple(self._expr(c) for c in children), self._pos(meta))

    def list_literal(self, meta, children):
        return ast.ListLiteral(tuple(self._expr(c) for c in children), self._pos(meta))

    def _expr(self, value: Any) -> ast.Expr:
        # A string literal arrives as _StringTok; everywhere in an expression it is a Literal.
        if isinstance(value, _StringTok):
            return ast.Literal(value.value, self._tpos(value.token), str(value.token))
        return value

    def __default__(self, data, children, meta):  # pragma: no cover - every rule is mapped
        raise NotImplementedError(f"grammar rule {data!r} has no AST mapping")

    def _lit(self, tok: Token, value: Any) -> ast.Literal:
        return ast.Literal(value, self._tpos(tok), str(tok))

    def number(self, meta, children):
        return self._lit(children[0], _number(children[0]))

    def percent(self, meta, children):
        raw = str(children[0]).rstrip("%").replace("_", "")
        return self._lit(children[0], float(raw) / 100)

    def duration(self, meta, children):
        return self._lit(children[0], _duration(children[0]))

    def clock(self, meta, children):
        return self._lit(children[0], _clock(children[0]))

    def date(self, meta, children):
        return self._lit(children[0], _date(children[0]))

    def datetime(self, meta, children):
        return self._lit(children[0], _datetime(children[0]))

    def str_literal(self, meta, children):
        return self._expr(children[0])

    def true(self, meta, children):
        return ast.Literal(True, self._pos(meta), "true")

    def false(self, meta, children):
        return ast.Literal(False, self._pos(meta), "false")

    def null(self, meta, children):
        return ast.Literal(None, self._pos(meta), "null")

    def transform(self, tree):  # type: ignore[override]
        result = super().transform(tree)
        return self._expr(result)


class _StringTok:
    """A decoded string with the token it came from (templates need the raw text)."""

    __slots__ = ("value", "token")

    def __init__(self, value: str, token: Token):
        self.value = value
        self.token = token
