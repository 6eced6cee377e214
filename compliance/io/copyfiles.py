"""Copy files: the files copywriters commit, read into messages with exact source positions.

Supported formats (chosen by extension):

``.txt``
    One message per non-blank line. A line whose first non-blank character is ``#``
    followed by a space, a tab or the end of the line is a comment (so is a
    ``#compliance:`` directive); ``#话题#…`` (a hashtag) is a message. Leading/trailing spaces and tabs are not part of the message (a leading
    full-width space U+3000 is, so rules can flag it). A trailing
    ``# compliance: disable=…`` directive is cut off the message; any other ``#`` is text.
``.md``
    Optional YAML front matter between a first line ``---`` and the next ``---``/``...`` line
    (keys: ``channel``). Then one message per non-blank line, except: ATX headings (``#``…),
    thematic breaks (``---``, ``***``, ``___``), fenced code blocks (``````` / ``~~~``) and HTML
    comments (``<!-- … -->``, which hold directives). Blockquote markers (``>``) and one list
    marker (``-``, ``*``, ``+``, ``1.``, ``1)``) followed by a space are stripped from the start
    of a line. Inline Markdown (``**bold**``) is NOT rendered: the message is the raw line, so
    positions stay exact. A paragraph wrapped over several lines is several messages.
``.yaml`` / ``.yml`` / ``.json``
    Either a list of messages or a mapping ``{channel: …, messages: [...]}``. A message is a
    string (one field, ``text``: the whole rendered message) or a mapping of field name →
    string plus the optional keys ``channel``, ``id`` and ``allow`` (list of codes or a
    comma-separated string).
``.toml``
    Optional top-level ``channel = "…"`` and one ``[[message]]`` table per message holding
    fields, ``channel``, ``id`` and ``allow`` like a YAML mapping.
``.csv``
    A header row naming the columns: ``channel``, ``id`` and ``allow`` are optional special
    columns, every other column is a field. Empty cells are absent fields. RFC 4180 quoting.

Positions: see `compliance.io.positions` for line/column conventions. Every character of
every field maps to its exact source character, except YAML folded (``>``) block scalars,
literal blocks with an explicit indentation indicator and TOML strings inside inline tables:
those map every offset to the scalar's start and report ``exact=False``.

Channel precedence: a message's own ``channel`` > the file's (front matter / top level) >
``default_channel`` given by the caller.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path

from compliance import recache
from compliance.errors import ComplianceError
from compliance.io._scanners import JsonScanner, Node, ScanError, scan_toml, yaml_tree
from compliance.io.positions import FieldMap, SourcePosition, SourceText
from compliance.io.suppression import (
    DirectiveError,
    Suppression,
    parse_allow_value,
    parse_directive,
)

SUPPORTED_EXTENSIONS: tuple[str, ...] = (".txt", ".md", ".yaml", ".yml", ".json", ".toml", ".csv")
#: Keys of a structured message that are not text fields.
SPECIAL_KEYS: frozenset[str] = frozenset({"channel", "id", "allow"})
_FIELD_NAME = recache.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Largest copy file read (bytes). Copy files hold marketing messages a person writes; a bigger
#: file is refused up front with a clear error rather than parsed for minutes.
MAX_COPY_FILE_BYTES = 64 * 1024 * 1024


class CopyFileError(ComplianceError, ValueError):
    """A copy file cannot be read: syntax error, wrong shape, unsupported extension.

    Attributes:
        path: the file.
        line, column: 1-based position of the problem (column in code points), or None.
        reason: what was wrong / what was expected.
    """

    def __init__(self, path: Path | str, line: int | None, column: int | None, reason: str) -> None:
        self.path = Path(path)
        self.line = line
        self.column = column
        self.reason = reason
        where = str(path)
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True, slots=True)
class CopyMessage:
    """One message of a copy file.

    Attributes:
        index: 0-based position of the message in its file.
        id: the message's ``id`` (structured formats) or None.
        fields: field name → text (``{"text": whole message}`` for plain lines/strings).
        channel: effective channel after precedence, or None.
        allow: codes suppressed for this message (its own and file-wide suppressions).
        line: 1-based first line of the message in the file; ``end_line`` its last.
        field_maps: per-field `FieldMap` (use `position` / `span` rather than these).
        keys: where each field is written in a structured message, as source offsets
            ``(start of its key, end of its value)``; it includes fields written empty or null
            (``optout: ""``, ``optout:``, an empty CSV cell), which `fields` leaves out or holds
            as ``""`` (use `key_extent`). Empty for plain lines and strings.
    """

    index: int
    id: str | None
    fields: dict[str, str]
    channel: str | None
    allow: frozenset[str]
    line: int
    end_line: int
    field_maps: Mapping[str, FieldMap]
    source: SourceText = field(repr=False, compare=False)
    keys: Mapping[str, tuple[int, int]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def anchor(self) -> SourcePosition:
        """Where the message starts (used for findings without a span)."""
        first = min((m.start_of(0) for m in self.field_maps.values()), default=None)
        if first is None:
            return self.source.position(self.source.line_starts[self.line - 1])
        return self.source.position(first)

    @property
    def extent(self) -> tuple[SourcePosition, SourcePosition]:
        """``(start, end)`` of the message's text in the file: the first field character to
        just after the last one (in source order)."""
        start = self.anchor
        ends = [m.start_of(m.length) for m in self.field_maps.values()]
        end = max(ends, default=start.offset)
        return start, self.source.position(max(end, start.offset))

    def key_extent(self, field_name: str) -> tuple[SourcePosition, SourcePosition] | None:
        """``(start, end)`` of where the field is written (``optout: ""`` whole: key and
        value), or None when the message does not write it."""
        where = self.keys.get(field_name)
        if where is None:
            return None
        return self.source.position(where[0]), self.source.position(max(where))

    def position(self, field_name: str, offset: int) -> SourcePosition:
        """Source position of character `offset` of field `field_name` (offset may equal len)."""
        fmap = self._map(field_name)
        return self.source.position(fmap.start_of(offset), exact=fmap.exact)

    def span(self, field_name: str, start: int, end: int) -> tuple[SourcePosition, SourcePosition]:
        """Source positions of ``[start, end)`` of a field; the end position is exclusive."""
        fmap = self._map(field_name)
        s, e = fmap.span(start, end)
        return self.source.position(s, exact=fmap.exact), self.source.position(e, exact=fmap.exact)

    def _map(self, field_name: str) -> FieldMap:
        try:
            return self.field_maps[field_name]
        except KeyError:
            raise KeyError(
                f"message {self.index} has no field {field_name!r} (has: {', '.join(self.fields)})"
            ) from None


@dataclass(frozen=True, slots=True)
class CopyFile:
    """A parsed copy file.

    Attributes:
        path: the file read.
        format: the extension used to parse it (``".yaml"``...).
        channel: the file-level channel (front matter / top level), or None.
        messages: the messages in file order.
        suppressions: every suppression (file-wide, per message, allow fields).
        source: the decoded text with its line table.
    """

    path: Path
    format: str
    channel: str | None
    messages: list[CopyMessage]
    suppressions: list[Suppression]
    source: SourceText = field(repr=False)

    def line_text(self, line: int) -> str:
        """Text of a 1-based line of the file, without its terminator."""
        return self.source.line_text(line)


# ------------------------------------------------------------------------------------ helpers


@dataclass(slots=True)
class _Raw:
    """A message before channel precedence and suppressions are applied."""

    fields: dict[str, str]
    maps: dict[str, FieldMap]
    first_line: int
    last_line: int
    channel: str | None = None
    id: str | None = None
    allow: list[tuple[str, int, int]] = field(default_factory=list)  # (code, line, column)
    keys: dict[str, tuple[int, int]] = field(default_factory=dict)  # field → (key start, value end)


@dataclass(frozen=True, slots=True)
class _Comment:
    offset: int
    text: str
    standalone: bool


class _Ctx:
    def __init__(self, path: Path, source: SourceText) -> None:
        self.path = path
        self.source = source

    def error(self, offset: int | None, reason: str) -> CopyFileError:
        if offset is None:
            return CopyFileError(self.path, None, None, reason)
        pos = self.source.position(offset)
        return CopyFileError(self.path, pos.line, pos.column, reason)

    def line(self, offset: int) -> int:
        return self.source.line_of(offset)


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def decode_source(path: Path, data: bytes) -> SourceText:
    """Decode file bytes as UTF-8 (BOM dropped) or raise `CopyFileError` at the bad byte."""
    had_bom = data.startswith(b"\xef\xbb\xbf")
    if had_bom:
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode("utf-8")
        partial = SourceText(good)
        pos = partial.position(len(good))
        raise CopyFileError(
            path, pos.line, pos.column, f"invalid UTF-8 (byte 0x{data[exc.start]:02x} at byte offset {exc.start + 3 * had_bom}); "
            "copy files must be encoded as UTF-8"
        ) from None
    return SourceText(text, had_bom=had_bom)


def _read_regular_file(path: Path, limit: int = MAX_COPY_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes, or `CopyFileError`.

    A FIFO, socket or device is refused before it is opened (opening a FIFO would block), so
    is a directory; the size is checked before reading and again while reading.
    """
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise CopyFileError(path, None, None, "is a directory, not a copy file")
        if not stat.S_ISREG(info.st_mode):
            raise CopyFileError(path, None, None, "not a regular file (a FIFO, socket or device); copy files must be regular files")
        if info.st_size > limit:
            raise CopyFileError(path, None, None, f"file is {info.st_size:,} bytes; copy files are limited to {limit:,} bytes")
        with open(path, "rb") as stream:
            data = stream.read(limit + 1)
    except OSError as exc:
        raise CopyFileError(path, None, None, f"cannot read file: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise CopyFileError(path, None, None, f"file is over {limit:,} bytes; copy files are limited to {limit:,} bytes")
    return data


def read_copy_file(path: Path, *, default_channel: str | None = None) -> CopyFile:
    """Read a copy file into messages with positions, channels and suppressions.

    Args:
        path: the file; its extension picks the format (see `SUPPORTED_EXTENSIONS`).
        default_channel: channel for messages that name none and whose file names none.

    Raises:
        CopyFileError: unknown extension, not a regular file, over `MAX_COPY_FILE_BYTES`,
            unreadable bytes, syntax error or wrong shape; carries the path, line, column and
            what was expected.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        raise CopyFileError(
            path,
            None,
            None,
            f"unsupported copy file extension {suffix or '(none)'!r}; "
            f"supported: {', '.join(SUPPORTED_EXTENSIONS)}",
        )
    data = _read_regular_file(path)
    return parse_copy_text(path, data, default_channel=default_channel, extension=suffix)


def parse_copy_text(
    path: Path, data: bytes | str, *, default_channel: str | None = None, extension: str | None = None
) -> CopyFile:
    """Like `read_copy_file`, for content already in memory (`path` names it in errors).

    `extension` picks the format (``".yaml"``...); by default `path`'s suffix.
    """
    path = Path(path)
    fmt = (extension or path.suffix).lower()
    if fmt == ".yml":
        fmt = ".yaml"
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    source = decode_source(path, data)
    ctx = _Ctx(path, source)
    readers = {
        ".txt": _read_txt,
        ".md": _read_md,
        ".yaml": _read_yaml,
        ".json": _read_json,
        ".toml": _read_toml,
        ".csv": _read_csv,
    }
    if fmt not in readers:
        raise CopyFileError(
            path, None, None,
            f"unsupported copy file format {fmt!r}; supported: {', '.join(SUPPORTED_EXTENSIONS)}",
        )
    file_channel, raws, comments = readers[fmt](ctx)
    suppressions = _assign_suppressions(ctx, raws, comments)
    file_codes = {c for s in suppressions if s.scope == "file" for c in s.codes}
    messages: list[CopyMessage] = []
    for index, raw in enumerate(raws):
        own = {
            c for s in suppressions if s.scope == "message" and s.message_index == index for c in s.codes
        }
        messages.append(
            CopyMessage(
                index=index,
                id=raw.id,
                fields=raw.fields,
                channel=raw.channel or file_channel or default_channel,
                allow=frozenset(own | file_codes),
                line=raw.first_line,
                end_line=raw.last_line,
                field_maps=raw.maps,
                source=source,
                keys=raw.keys,
            )
        )
    return CopyFile(path, fmt, file_channel, messages, suppressions, source)


_Result = tuple[str | None, list[_Raw], list[_Comment]]


# ---------------------------------------------------------------------------- suppressions


def _assign_suppressions(ctx: _Ctx, raws: list[_Raw], comments: list[_Comment]) -> list[Suppression]:
    """Give every directive comment and allow field its scope (rules in `suppression`)."""
    out: list[Suppression] = []
    owner: dict[int, int] = {}
    for index, raw in enumerate(raws):
        for line in range(raw.first_line, raw.last_line + 1):
            owner.setdefault(line, index)
        for code, line, column in raw.allow:
            out.append(Suppression((code,), "allow", "message", index, line, column))
    first_message_line = min((r.first_line for r in raws), default=None)
    comment_lines = {ctx.line(c.offset) for c in comments if c.standalone}
    for comment in comments:
        try:
            directive = parse_directive(comment.text)
        except DirectiveError as exc:
            raise ctx.error(comment.offset, str(exc)) from None
        if directive is None:
            continue
        pos = ctx.source.position(comment.offset)
        line = pos.line
        if directive.kind == "disable-next-line":
            target = line + 1
            while target <= ctx.source.line_count and (
                target in comment_lines or not ctx.source.line_text(target).strip()
            ):
                target += 1
            index = owner.get(target)
            out.append(Suppression(directive.codes, directive.kind, "message", index, line, pos.column))
        elif comment.standalone and (first_message_line is None or line < first_message_line):
            out.append(Suppression(directive.codes, directive.kind, "file", None, line, pos.column))
        elif line in owner:
            out.append(Suppression(directive.codes, directive.kind, "message", owner[line], line, pos.column))
        elif comment.standalone:
            raise ctx.error(
                comment.offset,
                "a 'compliance: disable=' line after the first message must be trailing on a "
                "message line; use 'compliance: disable-next-line=' for the next message, or "
                "move it above the first message to disable for the whole file",
            )
        else:
            raise ctx.error(comment.offset, "trailing 'compliance: disable=' on a line with no message")
    out.sort(key=lambda s: (s.line, s.column))
    return out


# ------------------------------------------------------------------------------- txt / md

_DIRECTIVE_HEAD = recache.compile(r"[ \t]*compliance[ \t]*:", re.IGNORECASE)


def _trailing_directive(text: str, s: int, e: int, opener: str, closer: str = "") -> tuple[int, int, int] | None:
    """A trailing ``compliance:`` directive on the (stripped) line ``text[s:e]``.

    The directive is the first `opener` (``#`` or ``<!--``) followed by ``compliance:``; with
    a `closer` (``-->``) the line must end with it. Returns ``(cut, body_start, body_end)``:
    where the message text ends (blanks before the opener included) and the comment body.
    Scans with ``str.find`` so a long line costs linear time (a regex search with a leading
    ``[ \t]*`` is quadratic on a long run of blanks).
    """
    p = text.find(opener, s, e)
    while p != -1:
        head = _DIRECTIVE_HEAD.match(text, p + len(opener), e)
        if head is not None:
            body_end = e - len(closer)
            if not closer or (text.startswith(closer, body_end) and body_end >= head.end()):
                cut = p
                while cut > s and text[cut - 1] in " \t":
                    cut -= 1
                return cut, p + len(opener), body_end
        p = text.find(opener, p + 1, e)
    return None

_HTML_COMMENT_LINE = recache.compile(r"^[ \t]*<!--(?P<body>.*?)-->[ \t]*$")


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in " \t":
        start += 1
    while end > start and text[end - 1] in " \t":
        end -= 1
    return start, end


def _line_message(ctx: _Ctx, line: int, start: int, end: int) -> _Raw:
    text = ctx.source.text[start:end]
    return _Raw({"text": text}, {"text": FieldMap.contiguous(start, len(text))}, line, line)


def _is_txt_comment(line: str) -> bool:
    return line.startswith("#") and (
        len(line) == 1 or line[1] in " \t" or re.match(r"#\s*compliance\s*:", line, re.IGNORECASE) is not None
    )


def _read_txt(ctx: _Ctx) -> _Result:
    raws: list[_Raw] = []
    comments: list[_Comment] = []
    text = ctx.source.text
    for line, start, end in ctx.source.lines():
        s, e = _strip_span(text, start, end)
        if s == e:
            continue
        if _is_txt_comment(text[s:e]):
            comments.append(_Comment(s, text[s + 1 : e], True))
            continue
        found = _trailing_directive(text, s, e, "#")
        if found:
            cut, body_start, body_end = found
            comments.append(_Comment(body_start - 1, text[body_start:body_end], False))
            s, e = _strip_span(text, s, cut)
            if s == e:
                continue
        raws.append(_line_message(ctx, line, s, e))
    return None, raws, comments


_FENCE = recache.compile(r"^[ \t]{0,3}(```+|~~~+)")
_HEADING = recache.compile(r"^[ \t]{0,3}#{1,6}(?:[ \t]|$)")
_THEMATIC = recache.compile(r"^[ \t]{0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_PREFIX = recache.compile(r"(?:[ \t]*>[ \t]?)*[ \t]*(?:(?:[-*+]|[0-9]{1,9}[.)])[ \t]+)?")


def _read_md(ctx: _Ctx) -> _Result:
    raws: list[_Raw] = []
    comments: list[_Comment] = []
    text = ctx.source.text
    lines = ctx.source.lines()
    channel: str | None = None
    i = 0
    if lines and text[lines[0][1] : lines[0][2]].rstrip() == "---":
        close = next(
            (k for k in range(1, len(lines)) if text[lines[k][1] : lines[k][2]].rstrip() in ("---", "...")),
            None,
        )
        if close is None:
            raise ctx.error(lines[0][1], "front matter opened with '---' is never closed by '---'")
        channel = _front_matter(ctx, lines[1][1] if close > 1 else lines[0][2], lines[close][1])
        i = close + 1
    fence: str | None = None
    in_comment: int | None = None
    comment_lines: list[str] = []
    while i < len(lines):
        line, start, end = lines[i]
        i += 1
        raw_line = text[start:end]
        if in_comment is not None:
            if "-->" in raw_line:
                comment_lines.append(raw_line.split("-->", 1)[0])
                comments.append(_Comment(in_comment, " ".join(comment_lines), True))
                in_comment = None
            else:
                comment_lines.append(raw_line)
            continue
        if fence is not None:
            if raw_line.strip().startswith(fence):
                fence = None
            continue
        fence_match = _FENCE.match(raw_line)
        if fence_match:
            fence = fence_match.group(1)[:3]
            continue
        s, e = _strip_span(text, start, end)
        if s == e or _HEADING.match(raw_line) or _THEMATIC.match(raw_line):
            continue
        html = _HTML_COMMENT_LINE.match(raw_line)
        if html:
            comments.append(_Comment(start + html.start("body") - 4, html.group("body"), True))
            continue
        if raw_line.lstrip().startswith("<!--"):
            in_comment = s
            comment_lines = [raw_line.lstrip()[4:]]
            continue
        found = _trailing_directive(text, s, e, "<!--", "-->")
        if found:
            cut, body_start, body_end = found
            comments.append(_Comment(body_start - 4, text[body_start:body_end], False))
            e = cut
        prefix = _PREFIX.match(text, s, e)
        if prefix:
            s = prefix.end()
        s, e = _strip_span(text, s, e)
        if s == e:
            continue
        raws.append(_line_message(ctx, line, s, e))
    if in_comment is not None:
        raise ctx.error(in_comment, "HTML comment '<!--' is never closed by '-->'")
    return channel, raws, comments


def _front_matter(ctx: _Ctx, start: int, end: int) -> str | None:
    import yaml

    block = ctx.source.text[start:end]
    try:
        root, _ = yaml_tree(block)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        offset = start + (mark.index if mark else 0)
        raise ctx.error(offset, f"front matter YAML: {exc.problem or exc}") from None
    except yaml.reader.ReaderError as exc:
        raise ctx.error(start + exc.position, f"front matter YAML cannot hold the character "
                        f"U+{exc.character:04X}; {exc.reason}") from None
    except yaml.YAMLError as exc:
        raise ctx.error(start, f"front matter YAML: {exc}") from None
    except ScanError as exc:
        raise ctx.error(start + exc.offset, f"front matter: {exc.message}") from None
    if root is None:
        return None
    if root.kind != "map":
        raise ctx.error(start + root.start, "front matter must be a mapping such as 'channel: jd.sms'")
    channel: str | None = None
    for key, value in root.value:
        if key.value != "channel":
            raise ctx.error(
                start + key.start,
                f"unknown front matter key {key.value!r}{_did_you_mean(str(key.value), ['channel'])}; "
                "expected: channel",
            )
        if value.kind != "str":
            raise ctx.error(start + value.start, "'channel' must be a string such as 'jd.sms'")
        channel = value.value
    return channel


# ----------------------------------------------------------------------- YAML / JSON shapes


def _tree_messages(ctx: _Ctx, root: Node | None, what: str) -> tuple[str | None, list[_Raw]]:
    if root is None:
        return None, []
    channel: str | None = None
    items: list[Node]
    if root.kind == "seq":
        items = root.value
    elif root.kind == "map":
        items = []
        seen: set[str] = set()
        for key, value in root.value:
            name = key.value if key.kind == "str" else None
            if name not in ("channel", "messages"):
                raise ctx.error(
                    key.start,
                    f"unknown top-level key {name!r}{_did_you_mean(str(name), ['channel', 'messages'])}; "
                    "expected 'channel' and 'messages'",
                )
            if name in seen:
                raise ctx.error(key.start, f"duplicate key {name!r}")
            seen.add(name)
            if name == "channel":
                if value.kind != "str":
                    raise ctx.error(value.start, "'channel' must be a string such as 'jd.sms'")
                channel = value.value
            else:
                if value.kind == "null":
                    continue
                if value.kind != "seq":
                    raise ctx.error(value.start, "'messages' must be a list of messages")
                items = value.value
    else:
        raise ctx.error(
            root.start,
            f"a {what} copy file must be a list of messages or a mapping with 'channel' and 'messages'",
        )
    return channel, [_node_message(ctx, item) for item in items]


def _lines_of(ctx: _Ctx, node: Node) -> tuple[int, int]:
    spans = node.leaf_spans()
    first = min(ctx.line(s) for s, _ in spans)
    last = max(ctx.line(max(s, e - 1)) for s, e in spans)
    return first, last


def _node_message(ctx: _Ctx, node: Node) -> _Raw:
    first, last = _lines_of(ctx, node)
    if node.kind == "str":
        assert node.fmap is not None
        return _Raw({"text": node.value}, {"text": node.fmap}, first, last)
    if node.kind != "map":
        raise ctx.error(
            node.start,
            "a message must be a string (the whole text) or a mapping of fields "
            f"(body, title, signature, ...), not {_describe(node)}",
        )
    raw = _Raw({}, {}, first, last)
    seen: set[str] = set()
    for key, value in node.value:
        if key.kind != "str" or not _FIELD_NAME.fullmatch(key.value):
            raise ctx.error(key.start, f"a message key must be a field name like 'body', not {_describe(key)}")
        name: str = key.value
        if name in seen:
            raise ctx.error(key.start, f"duplicate key {name!r} in message")
        seen.add(name)
        if name not in SPECIAL_KEYS:
            raw.keys[name] = (key.start, value.end)
        if name == "allow":
            raw.allow.extend(_allow_codes(ctx, value))
        elif value.kind == "null":
            continue
        elif name == "id" and value.kind == "other" and type(value.value) is int:
            raw.id = str(value.value)
        elif value.kind != "str":
            raise ctx.error(value.start, f"{name!r} must be a string, not {_describe(value)}")
        elif name == "channel":
            raw.channel = value.value
        elif name == "id":
            raw.id = value.value
        else:
            assert value.fmap is not None
            raw.fields[name] = value.value
            raw.maps[name] = value.fmap
    if not raw.fields:
        raise ctx.error(node.start, "a message needs at least one text field (body, text, ...)")
    return raw


def _allow_codes(ctx: _Ctx, value: Node) -> list[tuple[str, int, int]]:
    items = [value] if value.kind == "str" else value.value if value.kind == "seq" else None
    if items is None:
        raise ctx.error(value.start, "'allow' must be a list of rule ids or a comma-separated string")
    out: list[tuple[str, int, int]] = []
    for item in items:
        if item.kind != "str":
            raise ctx.error(item.start, f"'allow' entries must be rule ids (strings), not {_describe(item)}")
        try:
            codes = parse_allow_value(item.value)
        except ValueError as exc:
            raise ctx.error(item.start, str(exc)) from None
        pos = ctx.source.position(item.start)
        out.extend((code, pos.line, pos.column) for code in codes)
    return out


def _describe(node: Node) -> str:
    return {
        "map": "a mapping",
        "seq": "a list",
        "null": "null",
        "str": f"the string {node.value!r}",
    }.get(node.kind, f"the value {node.value!r}")


def _read_yaml(ctx: _Ctx) -> _Result:
    import yaml

    try:
        root, scalar_spans = yaml_tree(ctx.source.text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or str(exc)
        if exc.context:
            problem = f"{exc.context}: {problem}" if exc.problem else problem
        raise ctx.error(mark.index if mark else None, f"YAML syntax error: {problem}") from None
    except yaml.reader.ReaderError as exc:
        raise ctx.error(exc.position, f"YAML cannot hold the character {chr(exc.character)!r} "
                        f"(U+{exc.character:04X}) here; {exc.reason}") from None
    except yaml.YAMLError as exc:
        raise ctx.error(0, f"YAML error: {exc}") from None
    except ScanError as exc:
        raise ctx.error(exc.offset, exc.message) from None
    channel, raws = _tree_messages(ctx, root, "YAML")
    return channel, raws, _yaml_comments(ctx, scalar_spans)


def _yaml_comments(ctx: _Ctx, scalar_spans: list[tuple[int, int]]) -> list[_Comment]:
    """YAML comments: ``#`` at line start or after a blank, outside every scalar."""
    text = ctx.source.text
    spans = sorted(scalar_spans)
    comments: list[_Comment] = []
    k = 0
    for _line, start, end in ctx.source.lines():
        pos = text.find("#", start, end)
        while pos != -1:
            while k < len(spans) and spans[k][1] <= pos:
                k += 1
            inside = any(s <= pos < e for s, e in spans[k : k + 2])
            if not inside and (pos == start or text[pos - 1] in " \t"):
                standalone = not text[start:pos].strip()
                comments.append(_Comment(pos, text[pos + 1 : end], standalone))
                break
            pos = text.find("#", pos + 1, end)
    return comments


def _read_json(ctx: _Ctx) -> _Result:
    try:
        root = JsonScanner(ctx.source.text).parse() if ctx.source.text.strip() else None
    except ScanError as exc:
        raise ctx.error(exc.offset, f"JSON syntax error: {exc.message}") from None
    channel, raws = _tree_messages(ctx, root, "JSON")
    return channel, raws, []


# ------------------------------------------------------------------------------------- TOML


_TOML_TOO_DEEP = "TOML nested too deeply (arrays or inline tables inside each other)"


def _too_deep_at(text: str, limit: int = 64) -> int:
    """Offset of the first bracket nested more than `limit` deep (strings and comments
    skipped roughly), to point a "nested too deeply" error somewhere useful; else 0."""
    depth = 0
    quote = ""
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 1
            elif c == quote or c in "\r\n":
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "#":
            while i < len(text) and text[i] not in "\r\n":
                i += 1
        elif c in "[{":
            depth += 1
            if depth > limit:
                return i
        elif c in "]}":
            depth = max(0, depth - 1)
        i += 1
    return 0


def _read_toml(ctx: _Ctx) -> _Result:
    import tomllib

    text = ctx.source.text
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        if match:
            raise CopyFileError(ctx.path, int(match.group(1)), int(match.group(2)), f"TOML syntax error: {reason}") from None
        reason = re.sub(r"\s*\(at end of document\)", "", reason)
        raise ctx.error(len(text), f"TOML syntax error: {reason}") from None
    except RecursionError:
        raise ctx.error(_too_deep_at(text), _TOML_TOO_DEEP) from None
    try:
        layout = scan_toml(text, "message")
    except ScanError as exc:  # valid TOML our position scanner does not follow
        raise ctx.error(exc.offset, f"cannot locate the values of this TOML file: {exc.message}") from None
    except RecursionError:
        raise ctx.error(_too_deep_at(text), _TOML_TOO_DEEP) from None
    comments = [
        _Comment(offset, body, not text[ctx.source.line_starts[ctx.line(offset) - 1] : offset].strip())
        for offset, body in layout.comments
    ]

    def loc(table: tuple[object, ...], key: str) -> int:
        value = layout.values.get((table, key))
        if value is None:  # a dotted key (``a.b = 1``) or a table header: its first key
            value = next((v for (t, k), v in layout.values.items() if t == table and k.startswith(key + ".")), None)
        if value is None:
            return max(0, text.find(f"[{key}"))
        return value.start

    for key in data:
        if key not in ("channel", "message"):
            raise ctx.error(
                loc((), key),
                f"unknown top-level key {key!r}{_did_you_mean(key, ['channel', 'message'])}; "
                "expected 'channel' and [[message]] tables",
            )
    channel = data.get("channel")
    if channel is not None and not isinstance(channel, str):
        raise ctx.error(loc((), "channel"), "'channel' must be a string such as 'jd.sms'")
    tables = data.get("message", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ctx.error(loc((), "message"), "'message' must be an array of tables written as [[message]]")
    if len(tables) != len(layout.message_headers):
        raise ctx.error(loc((), "message"), "write each message as its own [[message]] table")
    raws: list[_Raw] = []
    for index, table in enumerate(tables):
        key_of_table = ("message", index)
        header = layout.message_headers[index]
        first = ctx.line(header)
        last = ctx.line(max(header, layout.table_ends.get(key_of_table, header) - 1))
        raw = _Raw({}, {}, first, last)
        for name, value in table.items():
            where = layout.values.get((key_of_table, name))
            offset = where.start if where else header
            if name == "allow":
                if isinstance(value, str):
                    value = [value]
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ctx.error(offset, "'allow' must be a list of rule ids or a comma-separated string")
                item_locs = where.items if where and len(where.items) == len(value) else []
                for k, item in enumerate(value):
                    pos = ctx.source.position(item_locs[k].start if item_locs else offset)
                    try:
                        raw.allow.extend((c, pos.line, pos.column) for c in parse_allow_value(item))
                    except ValueError as exc:
                        raise ctx.error(pos.offset, str(exc)) from None
                continue
            if not _FIELD_NAME.fullmatch(name):
                raise ctx.error(offset, f"a message key must be a field name like 'body', not {name!r}")
            if where is not None and name not in SPECIAL_KEYS:
                line_start = ctx.source.line_starts[ctx.line(where.start) - 1]
                key_start = text.rfind(name, line_start, where.start)
                raw.keys[name] = (key_start if key_start >= 0 else where.start, where.end)
            if name == "id" and type(value) is int:
                value = str(value)
            if not isinstance(value, str):
                raise ctx.error(offset, f"{name!r} must be a string, not {type(value).__name__}")
            if name == "channel":
                raw.channel = value
            elif name == "id":
                raw.id = value
            else:
                raw.fields[name] = value
                if where and where.decoded == value and where.fmap is not None:
                    raw.maps[name] = where.fmap
                else:
                    raw.maps[name] = FieldMap.anchored(offset, len(value))
        if not raw.fields:
            raise ctx.error(header, "a [[message]] needs at least one text field (body, text, ...)")
        raws.append(raw)
    return channel, raws, comments


# -------------------------------------------------------------------------------------- CSV


_UNQUOTED_CELL = recache.compile(r"[^,\r\n]*")


def _csv_records(ctx: _Ctx) -> Iterator[tuple[int, list[tuple[str, FieldMap, int]]]]:
    """RFC 4180 records as (first line, [(value, map, cell start offset)])."""
    text = ctx.source.text
    n = len(text)
    i = 0
    while i < n:
        record_start = i
        cells: list[tuple[str, FieldMap, int]] = []
        while True:
            cell_start = i
            if i < n and text[i] == '"':
                # Runs between quotes are taken whole (str.find), so a 10 MB field is fast.
                segments: list[tuple[int, int, bool]] = []  # (source start, end, is a doubled quote)
                i += 1
                while True:
                    close = text.find('"', i)
                    if close == -1:
                        raise ctx.error(cell_start, "unterminated quoted CSV field (opened here, never closed by '\"')")
                    segments.append((i, close, False))
                    if text.startswith('""', close):
                        segments.append((close, close + 2, True))
                        i = close + 2
                        continue
                    i = close + 1
                    break
                if i < n and text[i] not in ",\r\n":
                    raise ctx.error(i, "expected ',' or end of line after a closing quote")
                value = "".join('"' if doubled else text[s0:e0] for s0, e0, doubled in segments)
                if not value:
                    fmap = FieldMap.contiguous(cell_start + 1, 0)
                elif any(doubled for _, _, doubled in segments):
                    starts: list[int] = []
                    ends: list[int] = []
                    for s0, e0, doubled in segments:
                        if doubled:
                            starts.append(s0)
                            ends.append(e0)
                        else:
                            starts.extend(range(s0, e0))
                            ends.extend(range(s0 + 1, e0 + 1))
                    fmap = FieldMap.mapped(starts, ends)
                else:
                    fmap = FieldMap.contiguous(cell_start + 1, len(value))
            else:
                end = _UNQUOTED_CELL.match(text, i).end()
                quote = text.find('"', i, end)
                if quote != -1:
                    raise ctx.error(quote, 'a quote inside an unquoted CSV field; quote the field and double the quote ("")')
                i = end
                value = text[cell_start:i]
                fmap = FieldMap.contiguous(cell_start, len(value))
            cells.append((value, fmap, cell_start))
            if i < n and text[i] == ",":
                i += 1
                continue
            if text.startswith("\r\n", i):
                i += 2
            elif i < n:
                i += 1
            break
        if len(cells) == 1 and not cells[0][0] and cells[0][2] == record_start:
            continue  # blank line
        yield ctx.line(record_start), cells


def _read_csv(ctx: _Ctx) -> _Result:
    records = _csv_records(ctx)
    header_record = next(records, None)
    if header_record is None:
        return None, [], []
    header_line, header_cells = header_record
    names = [value.strip() for value, _, _ in header_cells]
    for (value, _, start), name in zip(header_cells, names):
        if not _FIELD_NAME.fullmatch(name):
            raise ctx.error(start, f"CSV header {value!r} is not a field name like 'body'")
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ctx.error(ctx.source.line_starts[header_line - 1], f"duplicate CSV columns: {', '.join(sorted(duplicates))}")
    if not [n for n in names if n not in SPECIAL_KEYS]:
        raise ctx.error(ctx.source.line_starts[header_line - 1], "the CSV header names no text field (body, text, ...)")
    raws: list[_Raw] = []
    for line, cells in records:
        if len(cells) != len(names):
            raise ctx.error(cells[0][2], f"expected {len(names)} CSV fields (as in the header), got {len(cells)}")
        last = ctx.line(max(cells[-1][2], cells[-1][1].start_of(len(cells[-1][0])) - 1))
        raw = _Raw({}, {}, line, max(line, last))
        for name, (value, fmap, start) in zip(names, cells):
            if name == "allow":
                if value.strip():
                    pos = ctx.source.position(start)
                    try:
                        raw.allow.extend((c, pos.line, pos.column) for c in parse_allow_value(value))
                    except ValueError as exc:
                        raise ctx.error(start, str(exc)) from None
                continue
            if name not in SPECIAL_KEYS:
                quoted = ctx.source.text.startswith('"', start)  # the cell, closing quote included
                raw.keys[name] = (start, fmap.start_of(len(value)) + (1 if quoted else 0))
            if not value:
                continue
            elif name == "channel":
                raw.channel = value
            elif name == "id":
                raw.id = value
            else:
                raw.fields[name] = value
                raw.maps[name] = fmap
        if raw.fields:
            raws.append(raw)
    return None, raws, []
