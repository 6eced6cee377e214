"""Position-tracking scanners for the structured copy-file formats.

Each scanner produces a small tree of `Node`s whose string leaves carry a `FieldMap`
(offsets into the decoded source text). The shape checks ("a message is a string or a
mapping", ...) live in `copyfiles`; this module only knows the syntaxes.

* JSON: a complete recursive-descent parser (RFC 8259) that records, for every character of
  every string, the source span it came from (escapes and surrogate pairs included).
* YAML: PyYAML composes the node graph; scalar positions come from the node marks, and the
  characters of a scalar are mapped exactly for plain, single-quoted, double-quoted (with
  escapes and line folding) and literal (``|``) scalars. Folded (``>``) scalars and any scalar
  whose re-decoding does not reproduce PyYAML's value are anchored at the scalar start.
* TOML: ``tomllib`` decides the values; a light scanner finds where each ``key = value`` of
  the top level and of each ``[[message]]`` table sits and decodes the strings again with
  positions. A string whose re-decoding differs from tomllib's value is anchored.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from compliance import recache
from compliance.io.positions import FieldMap

NodeKind = Literal["map", "seq", "str", "other", "null"]

#: Deepest nesting of lists/mappings accepted in a structured copy file. Real copy files nest
#: two or three levels; the limit keeps a hostile file from exhausting the Python stack.
MAX_NESTING = 64


@dataclass(slots=True)
class Node:
    """A value in a structured file with its source span.

    ``value`` is the decoded str for "str", a list of ``(key_node, value_node)`` for "map",
    a list of nodes for "seq", and the Python value for "other" / "null".
    """

    kind: NodeKind
    start: int
    end: int
    value: Any
    fmap: FieldMap | None = None

    def leaf_spans(self) -> list[tuple[int, int]]:
        """Spans of every leaf under this node (for the lines a message occupies)."""
        if self.kind == "map":
            out: list[tuple[int, int]] = []
            for k, v in self.value:
                out.extend(k.leaf_spans())
                out.extend(v.leaf_spans())
            return out or [(self.start, self.end)]
        if self.kind == "seq":
            out = [span for item in self.value for span in item.leaf_spans()]
            return out or [(self.start, self.end)]
        return [(self.start, self.end)]


class ScanError(ValueError):
    """A syntax error at a source offset."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


class _Segments:
    """A decoded string built from source runs copied as they are and single decoded
    characters (escapes), so long strings cost a few list items instead of one per character."""

    __slots__ = ("pieces", "spans", "escaped")

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.spans: list[tuple[int, int, bool]] = []  # (source start, end, is a decoded character)
        self.escaped = False

    def run(self, text: str, start: int, end: int) -> None:
        """``text[start:end]`` is copied into the value as it is."""
        if end > start:
            self.pieces.append(text[start:end])
            self.spans.append((start, end, False))

    def char(self, ch: str, start: int, end: int) -> None:
        """One value character `ch` decoded from ``text[start:end]``."""
        self.pieces.append(ch)
        self.spans.append((start, end, True))
        self.escaped = True

    def value(self) -> str:
        return "".join(self.pieces)

    def fmap(self, empty_at: int) -> FieldMap:
        """The value's map; `empty_at` is where an empty value sits."""
        if not self.spans:
            return FieldMap.contiguous(empty_at, 0)
        if not self.escaped and all(a == b for (_, a, _), (b, _, _) in zip(self.spans, self.spans[1:])):
            return FieldMap.contiguous(self.spans[0][0], self.spans[-1][1] - self.spans[0][0])
        starts: list[int] = []
        ends: list[int] = []
        for a, b, decoded in self.spans:
            if decoded:
                starts.append(a)
                ends.append(b)
            else:
                starts.extend(range(a, b))
                ends.extend(range(a + 1, b + 1))
        return FieldMap.mapped(starts, ends)


_JSON_RUN = recache.compile(r'[^"\\\x00-\x1f]+')
_TOML_BASIC_RUN = recache.compile(r'[^"\\\r]+')
_TOML_LITERAL_RUN = recache.compile(r"[^'\r]+")


# --------------------------------------------------------------------------------------- JSON

_JSON_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_JSON_NUMBER = recache.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_JSON_WS = " \t\n\r"


class JsonScanner:
    """Parse JSON text into `Node`s with exact per-character string positions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ScanError(self.pos, f"nested deeper than {MAX_NESTING} levels")

    def parse(self) -> Node:
        """Parse the whole text as one JSON value."""
        self._ws()
        if self.pos >= len(self.text):
            raise ScanError(self.pos, "expected a JSON value, found end of file")
        node = self._value()
        self._ws()
        if self.pos < len(self.text):
            raise ScanError(self.pos, "expected end of file after the JSON value")
        return node

    def _ws(self) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n and text[self.pos] in _JSON_WS:
            self.pos += 1

    def _value(self) -> Node:
        if self.pos >= len(self.text):
            raise ScanError(self.pos, "expected a JSON value, found end of file")
        c = self.text[self.pos]
        if c == "{":
            return self._object()
        if c == "[":
            return self._array()
        if c == '"':
            return self._string()
        for word, value in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(word, self.pos):
                start = self.pos
                self.pos += len(word)
                return Node("null" if value is None else "other", start, self.pos, value)
        match = _JSON_NUMBER.match(self.text, self.pos)
        if match and match.end() > self.pos:
            self.pos = match.end()
            raw = match.group()
            number: Any = float(raw) if any(ch in raw for ch in ".eE") else int(raw)
            return Node("other", match.start(), match.end(), number)
        raise ScanError(self.pos, f"expected a JSON value, found {c!r}")

    def _object(self) -> Node:
        self._enter()
        node = self._object_body()
        self.depth -= 1
        return node

    def _object_body(self) -> Node:
        start = self.pos
        self.pos += 1
        items: list[tuple[Node, Node]] = []
        self._ws()
        if self.text.startswith("}", self.pos):
            self.pos += 1
            return Node("map", start, self.pos, items)
        while True:
            self._ws()
            if not self.text.startswith('"', self.pos):
                raise ScanError(self.pos, "expected a string key in double quotes")
            key = self._string()
            self._ws()
            if not self.text.startswith(":", self.pos):
                raise ScanError(self.pos, "expected ':' after the key")
            self.pos += 1
            self._ws()
            items.append((key, self._value()))
            self._ws()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            if self.text.startswith("}", self.pos):
                self.pos += 1
                return Node("map", start, self.pos, items)
            raise ScanError(self.pos, "expected ',' or '}' in object")

    def _array(self) -> Node:
        self._enter()
        node = self._array_body()
        self.depth -= 1
        return node

    def _array_body(self) -> Node:
        start = self.pos
        self.pos += 1
        items: list[Node] = []
        self._ws()
        if self.text.startswith("]", self.pos):
            self.pos += 1
            return Node("seq", start, self.pos, items)
        while True:
            self._ws()
            items.append(self._value())
            self._ws()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            if self.text.startswith("]", self.pos):
                self.pos += 1
                return Node("seq", start, self.pos, items)
            raise ScanError(self.pos, "expected ',' or ']' in array")

    def _hex4(self, at: int) -> int:
        digits = self.text[at : at + 4]
        if len(digits) != 4 or not all(ch in "0123456789abcdefABCDEF" for ch in digits):
            raise ScanError(at, "expected 4 hex digits after \\u")
        return int(digits, 16)

    def _string(self) -> Node:
        text, n = self.text, len(self.text)
        start = self.pos
        i = start + 1
        out = _Segments()
        while True:
            run = _JSON_RUN.match(text, i)
            if run:
                out.run(text, i, run.end())
                i = run.end()
            if i >= n:
                raise ScanError(start, "unterminated string")
            c = text[i]
            if c == '"':
                break
            if c == "\\":
                e = text[i + 1] if i + 1 < n else ""
                if e in _JSON_ESCAPES:
                    out.char(_JSON_ESCAPES[e], i, i + 2)
                    i += 2
                    continue
                if e == "u":
                    code = self._hex4(i + 2)
                    end = i + 6
                    if 0xD800 <= code < 0xDC00 and text.startswith("\\u", end):
                        low = self._hex4(end + 2)
                        if 0xDC00 <= low < 0xE000:
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                            end += 6
                    out.char(chr(code), i, end)
                    i = end
                    continue
                raise ScanError(i, f"invalid escape {text[i:i + 2]!r} in string")
            raise ScanError(i, "control character in string (escape it)")
        self.pos = i + 1
        return Node("str", start, self.pos, out.value(), out.fmap(start + 1))


# --------------------------------------------------------------------------------------- YAML

_YAML_ESCAPES = {
    "0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f",
    "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85",
    "_": "\xa0", "L": "\u2028", "P": "\u2029",
}
_YAML_HEX = {"x": 2, "u": 4, "U": 8}
_BREAKS = "\r\n"


@dataclass(slots=True)
class _Decoded:
    chars: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    literal_ws: list[bool] = field(default_factory=list)

    def add(self, ch: str, start: int, end: int, literal_ws: bool = False) -> None:
        self.chars.append(ch)
        self.starts.append(start)
        self.ends.append(end)
        self.literal_ws.append(literal_ws)

    def value(self) -> str:
        return "".join(self.chars)


def _break_len(text: str, i: int) -> int:
    if text.startswith("\r\n", i):
        return 2
    return 1 if i < len(text) and text[i] in _BREAKS else 0


_YAML_BREAKS = "\r\n\x85\u2028\u2029"


def _yaml_break(text: str, i: int) -> tuple[int, str]:
    """Length and value of a YAML line break at `i` (as PyYAML's ``scan_line_break``):
    CRLF, CR, LF and NEL read as ``\n``; LS and PS stay themselves. ``(0, "")`` if none."""
    if text.startswith("\r\n", i):
        return 2, "\n"
    if i < len(text) and text[i] in _YAML_BREAKS:
        ch = text[i]
        return 1, ch if ch in "\u2028\u2029" else "\n"
    return 0, ""


def decode_yaml_flow(inner: str, base: int, style: str | None) -> _Decoded:
    """Decode a plain / single-quoted / double-quoted YAML scalar body with positions.

    Implements line folding (one break → space, n breaks → n-1 newlines, whitespace around
    breaks dropped) and, for double quotes, escapes including escaped line breaks.
    """
    out = _Decoded()
    i, n = 0, len(inner)
    double = style == '"'
    single = style == "'"
    while i < n:
        c = inner[i]
        if double and c == "\\":
            e = inner[i + 1] if i + 1 < n else ""
            blen = _yaml_break(inner, i + 1)[0]
            if blen:
                j = i + 1 + blen
                while j < n and inner[j] in " \t":
                    j += 1
                i = j
                continue
            if e in _YAML_ESCAPES:
                out.add(_YAML_ESCAPES[e], base + i, base + i + 2)
                i += 2
                continue
            if e in _YAML_HEX:
                width = _YAML_HEX[e]
                digits = inner[i + 2 : i + 2 + width]
                out.add(chr(int(digits, 16)), base + i, base + i + 2 + width)
                i += 2 + width
                continue
            raise ValueError("unknown escape")
        if single and c == "'" and inner.startswith("''", i):
            out.add("'", base + i, base + i + 2)
            i += 2
            continue
        blen, bvalue = _yaml_break(inner, i)
        if blen:
            # Folding exactly as PyYAML's scan_flow_scalar_spaces/_breaks.
            while out.literal_ws and out.literal_ws[-1]:
                for seq in (out.chars, out.starts, out.ends, out.literal_ws):
                    seq.pop()
            j = i + blen
            more: list[tuple[int, int, str]] = []
            while True:
                k = j
                while k < n and inner[k] in " \t":
                    k += 1
                b2, v2 = _yaml_break(inner, k)
                if b2:
                    more.append((k, k + b2, v2))
                    j = k + b2
                    continue
                j = k
                break
            if bvalue != "\n":
                out.add(bvalue, base + i, base + i + blen)
            elif not more:
                out.add(" ", base + i, base + i + blen)
            for s, e, v in more:
                out.add(v, base + s, base + e)
            i = j
            continue
        out.add(c, base + i, base + i + 1, literal_ws=c in " \t")
        i += 1
    return out


def literal_indent_indicator(raw: str) -> int | None:
    """The explicit indentation indicator of a literal block header (``|2-``), else None.

    Raises:
        ValueError: `raw` does not start with a literal block header.
    """
    header = re.split(r"[\r\n]", raw, maxsplit=1)[0].split("#", 1)[0].strip()
    match = re.fullmatch(r"\|(?:([+-])?([1-9])?|([1-9])([+-]))", header)
    if match is None:
        raise ValueError("not a literal block header")
    digit = match.group(2) or match.group(3)
    return int(digit) if digit else None


def decode_yaml_literal(raw: str, base: int, indent: int | None = None) -> _Decoded:
    """Decode a literal block scalar (``|``, ``|-``, ``|+``, ``|2``...) before chomping.

    `indent` is the content indentation in spaces; None detects it from the first non-empty
    line (YAML's rule when there is no indentation indicator).
    """
    header_end = 0
    while header_end < len(raw) and raw[header_end] not in _YAML_BREAKS:
        header_end += 1
    out = _Decoded()
    lines: list[tuple[int, int, int, str]] = []  # (content start, content end, break end, break)
    i = header_end + _yaml_break(raw, header_end)[0]
    while i < len(raw):
        j = i
        while j < len(raw) and raw[j] not in _YAML_BREAKS:
            j += 1
        blen, bvalue = _yaml_break(raw, j)
        lines.append((i, j, j + blen, bvalue))
        i = j + blen
    if indent is None:
        for s, e, _, _ in lines:
            body = raw[s:e]
            if body.strip(" "):
                indent = len(body) - len(body.lstrip(" "))
                break
    if indent is None:
        indent = 0
    for s, e, b, bvalue in lines:
        body = raw[s:e]
        if body.strip(" "):
            if len(body) - len(body.lstrip(" ")) < indent:
                break
            for k in range(s + indent, e):
                out.add(raw[k], base + k, base + k + 1)
        if b > e:
            out.add(bvalue, base + e, base + b)
    return out


def yaml_scalar_map(source: str, start: int, end: int, value: str, style: str | None) -> FieldMap:
    """The `FieldMap` of a YAML scalar spanning ``source[start:end]`` whose value is `value`."""
    # A node's start mark includes its properties (``&anchor``, ``!tag``): skip them.
    while start < end and source[start] in "&!":
        while start < end and source[start] not in " \t\r\n":
            start += 1
        while start < end and source[start] in " \t\r\n":
            start += 1
    raw = source[start:end]
    try:
        if style in ('"', "'"):
            if raw[1:-1] == value:
                return FieldMap.contiguous(start + 1, len(value))
            decoded = decode_yaml_flow(raw[1:-1], start + 1, style)
        elif style is None:
            if raw == value:
                return FieldMap.contiguous(start, len(value))
            decoded = decode_yaml_flow(raw, start, None)
        elif style == "|":
            # With an indentation indicator the content indentation also depends on the
            # parent's; try the candidates and keep the one that reproduces the value.
            indicator = literal_indent_indicator(raw)
            candidates: list[int | None] = [None] if indicator is None else list(range(indicator, indicator + 64))
            for indent in candidates:
                decoded = decode_yaml_literal(raw, start, indent)
                full = decoded.value()
                if full.startswith(value) and not full[len(value) :].strip("\n"):
                    if not value:
                        return FieldMap.contiguous(start, 0)
                    return FieldMap.mapped(decoded.starts[: len(value)], decoded.ends[: len(value)])
            return FieldMap.anchored(start, len(value))
        else:
            return FieldMap.anchored(start, len(value))
    except (ValueError, IndexError):
        return FieldMap.anchored(start, len(value))
    if decoded.value() != value:
        return FieldMap.anchored(start, len(value))
    if not value:
        return FieldMap.contiguous(start + (1 if style else 0), 0)
    return FieldMap.mapped(decoded.starts, decoded.ends)


def yaml_tree(source: str) -> tuple[Node | None, list[tuple[int, int]]]:
    """Compose YAML `source` into `Node`s; also return the spans of every scalar.

    Raises:
        yaml.MarkedYAMLError: syntax errors (with marks).
        ScanError: nesting deeper than `MAX_NESTING`, recursive aliases, aliases expanding to
            more values than twice the text's length, or other constructs copy files do not use.
    """
    import yaml

    loader = _bounded_loader()(source)
    try:
        root = loader.get_single_node()
    finally:
        loader.dispose()
    spans: list[tuple[int, int]] = []
    if root is None:
        return None, spans
    # An alias reuses its anchor's node, so the graph may be far bigger than the text
    # ("billion laughs") or cyclic (``&a [*a]``): count the values produced and refuse cycles.
    budget = [2 * len(source) + 1000]
    active: set[int] = set()

    def convert(node: yaml.Node, depth: int) -> Node:
        s, e = node.start_mark.index, node.end_mark.index
        budget[0] -= 1
        if budget[0] < 0:
            raise ScanError(s, "YAML aliases expand to far more values than the file holds "
                               "(an alias bomb?); write the messages out instead of aliasing them")
        if isinstance(node, yaml.ScalarNode):
            spans.append((s, e))
            if node.tag == "tag:yaml.org,2002:null":
                return Node("null", s, e, None)
            fmap = yaml_scalar_map(source, s, e, node.value, node.style)
            return Node("str", s, e, node.value, fmap)
        if depth >= MAX_NESTING:
            raise ScanError(s, f"nested deeper than {MAX_NESTING} levels (counting what aliases expand to)")
        if id(node) in active:
            raise ScanError(s, "a YAML alias refers to a node that contains it (recursive alias)")
        active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return Node("seq", s, e, [convert(child, depth + 1) for child in node.value])
            if isinstance(node, yaml.MappingNode):
                return Node("map", s, e, [(convert(k, depth + 1), convert(v, depth + 1)) for k, v in node.value])
        finally:
            active.discard(id(node))
        raise ScanError(s, f"unsupported YAML node {type(node).__name__}")

    return convert(root, 0), spans


@functools.cache
def _bounded_loader() -> type:
    """PyYAML's SafeLoader composing at most `MAX_NESTING` levels (a class made on first use:
    a lint of a file that is not YAML never imports yaml).

    Only the composer is used: nodes, never Python objects, so tags such as
    ``!!python/object`` are inert strings here. PyYAML composes recursively; a bound on depth
    keeps a hostile file (``[[[[…`` ten thousand deep) from exhausting the stack.
    """
    import yaml

    class _BoundedLoader(yaml.SafeLoader):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self._depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            self._depth += 1
            try:
                if self._depth > MAX_NESTING:
                    raise ScanError(self.peek_event().start_mark.index, f"nested deeper than {MAX_NESTING} levels")
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

    return _BoundedLoader


# --------------------------------------------------------------------------------------- TOML

_TOML_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\", "e": "\x1b"}
_BARE_KEY = recache.compile(r"[A-Za-z0-9_\-]+")
_TOML_HEX = {"x": 2, "u": 4, "U": 8}


@dataclass(slots=True)
class TomlValue:
    """Where a TOML value sits: its span, and for strings the decoded text and map."""

    start: int
    end: int
    decoded: str | None = None
    fmap: FieldMap | None = None
    items: list[TomlValue] = field(default_factory=list)


@dataclass(slots=True)
class TomlLayout:
    """Positions found by `scan_toml`.

    ``values[(table, key)]``: table is ``()`` for the top level, ``("message", i)`` for the
    i-th ``[[message]]`` (0-based), ``("table", name)`` otherwise; key is the dotted key.
    """

    values: dict[tuple[tuple[Any, ...], str], TomlValue] = field(default_factory=dict)
    comments: list[tuple[int, str]] = field(default_factory=list)
    message_headers: list[int] = field(default_factory=list)
    table_ends: dict[tuple[Any, ...], int] = field(default_factory=dict)


class _TomlScanner:
    def __init__(self, text: str, message_table: str) -> None:
        self.text = text
        self.pos = 0
        self.layout = TomlLayout()
        self.table: tuple[Any, ...] = ()
        self.message_table = message_table

    def run(self) -> TomlLayout:
        text, n = self.text, len(self.text)
        while self.pos < n:
            c = text[self.pos]
            if c in " \t\r\n":
                self.pos += 1
            elif c == "#":
                self._comment()
            elif c == "[":
                self._header()
            else:
                key = self._key()
                self._spaces()
                if not text.startswith("=", self.pos):
                    raise ScanError(self.pos, "expected '='")
                self.pos += 1
                self._spaces()
                value = self._value()
                self.layout.values[(self.table, key)] = value
                self.layout.table_ends[self.table] = value.end
        return self.layout

    def _spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def _trivia(self) -> None:
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if c in " \t\r\n":
                self.pos += 1
            elif c == "#":
                self._comment()
            else:
                return

    def _comment(self) -> None:
        start = self.pos
        end = start
        while end < len(self.text) and self.text[end] not in _BREAKS:
            end += 1
        self.layout.comments.append((start, self.text[start + 1 : end]))
        self.pos = end

    def _header(self) -> None:
        start = self.pos
        array = self.text.startswith("[[", start)
        close = "]]" if array else "]"
        self.pos += 2 if array else 1
        self._spaces()
        name = self._key()
        self._spaces()
        if not self.text.startswith(close, self.pos):
            raise ScanError(self.pos, f"expected {close!r}")
        self.pos += len(close)
        if array and name == self.message_table:
            self.table = (self.message_table, len(self.layout.message_headers))
            self.layout.message_headers.append(start)
            self.layout.table_ends[self.table] = self.pos
        else:
            self.table = ("table", name)

    def _key(self) -> str:
        parts: list[str] = []
        while True:
            self._spaces()
            if self.text.startswith('"', self.pos) or self.text.startswith("'", self.pos):
                parts.append(self._string().decoded or "")
            else:
                m = _BARE_KEY.match(self.text, self.pos)
                if not m:
                    raise ScanError(self.pos, "expected a key")
                parts.append(m.group())
                self.pos = m.end()
            self._spaces()
            if self.text.startswith(".", self.pos):
                self.pos += 1
                continue
            return ".".join(parts)

    def _value(self) -> TomlValue:
        text = self.text
        c = text[self.pos] if self.pos < len(text) else ""
        if c in "\"'":
            return self._string()
        if c == "[":
            start = self.pos
            self.pos += 1
            items: list[TomlValue] = []
            while True:
                self._trivia()
                if text.startswith("]", self.pos):
                    self.pos += 1
                    return TomlValue(start, self.pos, items=items)
                items.append(self._value())
                self._trivia()
                if text.startswith(",", self.pos):
                    self.pos += 1
        if c == "{":
            start = self.pos
            self.pos += 1
            while True:
                self._spaces()
                if text.startswith("}", self.pos):
                    self.pos += 1
                    return TomlValue(start, self.pos)
                self._key()
                self._spaces()
                self.pos += 1  # '='
                self._spaces()
                self._value()
                self._spaces()
                if text.startswith(",", self.pos):
                    self.pos += 1
        start = self.pos
        while self.pos < len(text) and text[self.pos] not in ",]}#\r\n":
            self.pos += 1
        end = self.pos
        while end > start and text[end - 1] in " \t":
            end -= 1
        if end == start:
            raise ScanError(start, "expected a value")
        return TomlValue(start, end)

    def _string(self) -> TomlValue:
        text = self.text
        start = self.pos
        quote = text[start]
        multi = text.startswith(quote * 3, start)
        i = start + (3 if multi else 1)
        if multi:
            i += _break_len(text, i)
        content_start = i
        out = _Segments()
        basic = quote == '"'
        plain = _TOML_BASIC_RUN if basic else _TOML_LITERAL_RUN
        while True:
            run = plain.match(text, i)
            if run:
                out.run(text, i, run.end())
                i = run.end()
            if i >= len(text):
                raise ScanError(start, "unterminated string")
            if multi and text.startswith(quote * 3, i):
                extra = 3
                while text.startswith(quote, i + extra):
                    extra += 1
                out.run(text, i, i + extra - 3)  # up to two quotes just before the closing ones
                i += extra
                break
            c = text[i]
            if not multi and c == quote:
                i += 1
                break
            if basic and c == "\\":
                e = text[i + 1] if i + 1 < len(text) else ""
                if multi:
                    j = i + 1
                    while j < len(text) and text[j] in " \t":
                        j += 1
                    if _break_len(text, j):
                        while j < len(text) and text[j] in " \t\r\n":
                            j += 1
                        i = j
                        continue
                if e in _TOML_ESCAPES:
                    out.char(_TOML_ESCAPES[e], i, i + 2)
                    i += 2
                    continue
                if e in _TOML_HEX:
                    width = _TOML_HEX[e]
                    out.char(chr(int(text[i + 2 : i + 2 + width], 16)), i, i + 2 + width)
                    i += 2 + width
                    continue
                raise ScanError(i, "invalid escape")
            if text.startswith("\r\n", i):
                out.char("\n", i, i + 2)
                i += 2
                continue
            out.run(text, i, i + 1)
            i += 1
        self.pos = i
        return TomlValue(start, i, out.value(), out.fmap(content_start))


def scan_toml(text: str, message_table: str = "message") -> TomlLayout:
    """Locate keys, string values and comments of a TOML document (already valid TOML)."""
    return _TomlScanner(text, message_table).run()
