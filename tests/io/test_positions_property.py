"""Property: every offset of every field maps to the character it came from in the file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.io.copyfiles import CopyFile, parse_copy_text

yaml = pytest.importorskip("yaml")

ALPHABET = st.one_of(
    st.sampled_from(list("ab Z09:#-'\"\\{}[],&*!|>%@`")),
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # CJK
    st.sampled_from(list("，。！？【】“”（）　😀🎉👍🏻")),  # full-width punctuation, U+3000, emoji
    st.sampled_from(["\t", "\n", "\r\n", "\r", "\u2028", "\x85"]),
)
TEXT = st.lists(ALPHABET, min_size=1, max_size=30).map("".join)
BREAKS = ("\r\n", "\n", "\r")
#: Raise for a deeper search: POSITION_EXAMPLES=3000 pytest tests/io/test_positions_property.py
EXAMPLES = int(os.environ.get("POSITION_EXAMPLES", "150"))


def check_every_offset(cf: CopyFile, expected: list[dict[str, str]], decode_one) -> None:  # type: ignore[no-untyped-def]
    assert [m.fields for m in cf.messages] == expected
    text = cf.source.text
    for message in cf.messages:
        for name, value in message.fields.items():
            for i, ch in enumerate(value):
                start, end = message.span(name, i, i + 1)
                assert start.exact and end.exact
                source = text[start.offset : end.offset]
                assert source == ch or decode_one(source, ch), (name, i, ch, source)
                # (line, column) agree with the offset
                line_start = cf.source.line_starts[start.line - 1]
                assert line_start + start.column - 1 == start.offset


def as_crlf(content: str, crlf: bool) -> str:
    return content.replace("\n", "\r\n") if crlf else content


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(TEXT, min_size=1, max_size=4), st.booleans(), st.booleans())
def test_txt_positions(texts: list[str], crlf: bool, bom: bool) -> None:
    messages = []
    for raw in texts:
        line = raw
        for br in BREAKS:
            line = line.replace(br, "")
        line = line.strip(" \t")
        is_comment = line.startswith("#") and (len(line) == 1 or line[1] in " \t")
        if line and not is_comment and "compliance" not in line:
            messages.append(line)
    content = ("\ufeff" if bom else "") + ("\r\n" if crlf else "\n").join(messages) + "\n"
    cf = parse_copy_text(Path("p.txt"), content)
    check_every_offset(cf, [{"text": m} for m in messages], lambda source, ch: False)


def _json_decodes(source: str, ch: str) -> bool:
    return json.loads('"' + source + '"') == ch


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(TEXT, min_size=1, max_size=4), st.booleans(), st.booleans(), st.booleans())
def test_json_positions(texts: list[str], ascii_only: bool, crlf: bool, bom: bool) -> None:
    doc = {"channel": "jd.sms", "messages": [texts[0], *({"body": t, "title": t[::-1]} for t in texts[1:])]}
    content = ("\ufeff" if bom else "") + as_crlf(json.dumps(doc, ensure_ascii=ascii_only, indent=1), crlf)
    cf = parse_copy_text(Path("p.json"), content)
    expected = [{"text": texts[0]}, *({"body": t, "title": t[::-1]} for t in texts[1:])]
    check_every_offset(cf, expected, _json_decodes)


def _yaml_decodes(source: str, ch: str) -> bool:
    if source.startswith("\\"):
        return yaml.safe_load('"' + source + '"') == ch
    if source == "''":
        return ch == "'"
    # a line break in a folded flow scalar stands for a space (single break) or a newline
    return source in (*BREAKS, "\x85", "\u2028", "\u2029") and ch in (" ", "\n", source)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(TEXT, min_size=1, max_size=4), st.booleans(), st.booleans(), st.sampled_from([None, '"', "'", "|"]))
def test_yaml_positions(texts: list[str], crlf: bool, bom: bool, style: str | None) -> None:
    doc = {"channel": "jd.sms", "messages": [texts[0], *({"body": t} for t in texts[1:])]}
    dumped = yaml.safe_dump(doc, allow_unicode=True, width=10**6, default_style=style, sort_keys=False)
    content = ("\ufeff" if bom else "") + as_crlf(dumped, crlf)
    cf = parse_copy_text(Path("p.yaml"), content)
    # The values are PyYAML's (it does not round-trip every string, e.g. a lone U+0085 in a
    # single-quoted scalar reads back as a space); positions must match those values.
    loaded = yaml.safe_load(content.removeprefix("\ufeff"))["messages"]
    expected = [{"text": loaded[0]}, *({"body": item["body"]} for item in loaded[1:])]
    check_every_offset(cf, expected, _yaml_decodes)
