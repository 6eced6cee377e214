"""Copy-file readers: exact positions per format (CJK, CRLF, BOM), channels, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.io.copyfiles import CopyFile, CopyFileError, parse_copy_text, read_copy_file


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def assert_positions_exact(cf: CopyFile) -> None:
    """Every unescaped field character maps to the same character in the file."""
    text = cf.source.text
    for message in cf.messages:
        for name, value in message.fields.items():
            for i, ch in enumerate(value):
                pos = message.position(name, i)
                assert pos.exact
                assert text[pos.offset] == ch or text[pos.offset] in "\\'\r\n", (name, i, ch)


def where(cf: CopyFile, index: int, field: str, offset: int) -> tuple[int, int]:
    pos = cf.messages[index].position(field, offset)
    return pos.line, pos.column


# --------------------------------------------------------------------------------------- txt


def test_txt_one_message_per_line_with_comments_crlf_and_bom(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", "\ufeff# 注释\r\n\r\n  全网最低价！\r\n第二条\t\r\n")
    cf = read_copy_file(path, default_channel="jd.sms")
    assert [m.fields for m in cf.messages] == [{"text": "全网最低价！"}, {"text": "第二条"}]
    # BOM is not a column; leading spaces are not part of the message.
    assert where(cf, 0, "text", 0) == (3, 3)
    assert where(cf, 0, "text", 2) == (3, 5)  # 最: CJK counts as one column
    assert cf.messages[0].position("text", 2).byte_column == 3 + 2 * 3
    assert where(cf, 1, "text", 2) == (4, 3)
    assert cf.messages[0].line == 3 and cf.messages[1].line == 4
    assert cf.messages[0].channel == "jd.sms"
    assert cf.line_text(3) == "  全网最低价！"
    assert_positions_exact(cf)


def test_txt_hash_inside_text_is_text(tmp_path: Path) -> None:
    cf = read_copy_file(write(tmp_path, "a.txt", "参与#话题#赢好礼\n#双十一#开抢\n#\n# 注释\n"))
    assert [m.fields["text"] for m in cf.messages] == ["参与#话题#赢好礼", "#双十一#开抢"]


def test_txt_lone_cr_is_a_line_break(tmp_path: Path) -> None:
    cf = read_copy_file(write(tmp_path, "a.txt", "一\r二\n"))
    assert [m.fields["text"] for m in cf.messages] == ["一", "二"]
    assert where(cf, 1, "text", 0) == (2, 1)


def test_span_end_is_exclusive(tmp_path: Path) -> None:
    cf = read_copy_file(write(tmp_path, "a.txt", "全网最低价\n"))
    start, end = cf.messages[0].span("text", 2, 5)
    assert (start.line, start.column, end.line, end.column) == (1, 3, 1, 6)
    empty_start, empty_end = cf.messages[0].span("text", 5, 5)
    assert empty_start.column == empty_end.column == 6


def test_unknown_field_name_is_a_clear_error(tmp_path: Path) -> None:
    cf = read_copy_file(write(tmp_path, "a.txt", "x\n"))
    with pytest.raises(KeyError, match="no field 'body'"):
        cf.messages[0].position("body", 0)


# ---------------------------------------------------------------------------------------- md


def test_md_front_matter_lists_headings_code_and_comments(tmp_path: Path) -> None:
    content = (
        "---\nchannel: jd.push\n---\n"
        "# 标题\n"
        "\n"
        "- 第一条，全场五折\n"
        "> 1. 引用里的第二条\n"
        "```\n不是消息\n```\n"
        "<!-- 说明 -->\n"
        "***\n"
        "最后一条 **加粗**\n"
    )
    cf = read_copy_file(write(tmp_path, "a.md", content), default_channel="jd.sms")
    assert cf.channel == "jd.push"
    texts = [m.fields["text"] for m in cf.messages]
    assert texts == ["第一条，全场五折", "引用里的第二条", "最后一条 **加粗**"]
    assert where(cf, 0, "text", 0) == (6, 3)
    assert where(cf, 1, "text", 0) == (7, 6)
    assert where(cf, 2, "text", 5) == (13, 6)
    assert all(m.channel == "jd.push" for m in cf.messages)
    assert_positions_exact(cf)


def test_md_unclosed_front_matter(tmp_path: Path) -> None:
    with pytest.raises(CopyFileError) as info:
        read_copy_file(write(tmp_path, "a.md", "---\nchannel: x\n正文\n"))
    assert info.value.line == 1


def test_md_unknown_front_matter_key_has_did_you_mean(tmp_path: Path) -> None:
    with pytest.raises(CopyFileError, match="did you mean 'channel'") as info:
        read_copy_file(write(tmp_path, "a.md", "---\nchanel: x\n---\n正文\n"))
    assert (info.value.line, info.value.column) == (2, 1)


# -------------------------------------------------------------------------------------- yaml


def test_yaml_mapping_shape_with_styles(tmp_path: Path) -> None:
    content = (
        "channel: jd.sms\n"
        "messages:\n"
        "  - 纯文本消息\n"
        '  - "转义\\n中\\u6587😀"\n'
        "  - body: |\n"
        "      第一行\n"
        "      第二行\n"
        "    title: '它''们'\n"
        "    channel: jd.push\n"
        "    id: m-4\n"
        "  - 折叠的\n"
        "    普通标量\n"
    )
    cf = read_copy_file(write(tmp_path, "a.yaml", content))
    m = cf.messages
    assert m[0].fields == {"text": "纯文本消息"} and where(cf, 0, "text", 2) == (3, 7)
    assert m[1].fields == {"text": "转义\n中文😀"}
    assert where(cf, 1, "text", 2) == (4, 8)  # the \n escape
    assert where(cf, 1, "text", 3) == (4, 10)  # 中
    assert where(cf, 1, "text", 4) == (4, 11)  # the \u6587 escape
    assert where(cf, 1, "text", 5) == (4, 17)  # 😀 after the escape
    assert m[2].fields == {"body": "第一行\n第二行\n", "title": "它'们"}
    assert where(cf, 2, "body", 4) == (7, 7)
    assert where(cf, 2, "title", 2) == (8, 16)
    assert m[2].channel == "jd.push" and m[2].id == "m-4" and m[0].channel == "jd.sms"
    assert m[3].fields == {"text": "折叠的 普通标量"}
    assert where(cf, 3, "text", 4) == (12, 5)
    assert (m[2].line, m[2].end_line) == (5, 10)
    assert_positions_exact(cf)


def test_yaml_list_shape_crlf_and_bom(tmp_path: Path) -> None:
    cf = read_copy_file(write(tmp_path, "a.yml", "\ufeff- 第一条\r\n- body: 第二条\r\n  allow: [x]\r\n"))
    assert where(cf, 0, "text", 0) == (1, 3)
    assert where(cf, 1, "body", 2) == (2, 11)
    assert cf.messages[1].allow == frozenset({"x"})


def test_yaml_anchors_and_tags_are_skipped(tmp_path: Path) -> None:
    cf = read_copy_file(write(tmp_path, "a.yaml", "- &a 全场\n- !!str 五折\n- *a\n"))
    assert [m.fields["text"] for m in cf.messages] == ["全场", "五折", "全场"]
    assert where(cf, 0, "text", 1) == (1, 7)
    assert where(cf, 1, "text", 0) == (2, 9)
    assert where(cf, 2, "text", 0) == (1, 6)  # an alias points at the anchored scalar
    assert_positions_exact(cf)


def test_yaml_folded_scalar_is_anchored_and_inexact(tmp_path: Path) -> None:
    cf = read_copy_file(write(tmp_path, "a.yaml", "- body: >\n    第一行\n    第二行\n"))
    pos = cf.messages[0].position("body", 5)
    assert not pos.exact
    assert (pos.line, pos.column) == (1, 9)


def test_yaml_syntax_error_position(tmp_path: Path) -> None:
    with pytest.raises(CopyFileError, match="YAML syntax error") as info:
        read_copy_file(write(tmp_path, "a.yaml", "- 第一条\n- [未闭合\n- x\n"))
    assert info.value.line is not None and info.value.line >= 2


def test_yaml_message_neither_string_nor_mapping(tmp_path: Path) -> None:
    with pytest.raises(CopyFileError, match="must be a string .* or a mapping") as info:
        read_copy_file(write(tmp_path, "a.yaml", "- 好\n- [a, b]\n"))
    assert (info.value.line, info.value.column) == (2, 3)


def test_yaml_unknown_top_level_key(tmp_path: Path) -> None:
    with pytest.raises(CopyFileError, match="did you mean 'messages'"):
        read_copy_file(write(tmp_path, "a.yaml", "channel: x\nmesages: []\n"))


def test_yaml_field_with_non_string_value(tmp_path: Path) -> None:
    with pytest.raises(CopyFileError, match="'body' must be a string") as info:
        read_copy_file(write(tmp_path, "a.yaml", "- body: {a: 1}\n"))
    assert info.value.line == 1


# -------------------------------------------------------------------------------------- json


def test_json_escapes_surrogate_pairs_and_crlf(tmp_path: Path) -> None:
    content = '{\r\n "channel": "jd.sms",\r\n "messages": [\r\n  "a\\u4e2d\\ud83d\\ude00\\"b",\r\n  {"body": "体验", "allow": "r1, r2", "channel": "jd.push", "id": "7"}\r\n ]\r\n}\r\n'
    cf = read_copy_file(write(tmp_path, "a.json", content), default_channel="other")
    assert cf.messages[0].fields["text"] == 'a中😀"b'
    assert where(cf, 0, "text", 0) == (4, 4)
    assert where(cf, 0, "text", 1) == (4, 5)  # \u4e2d
    assert where(cf, 0, "text", 2) == (4, 11)  # surrogate pair starts
    assert where(cf, 0, "text", 3) == (4, 23)  # \"
    assert where(cf, 0, "text", 4) == (4, 25)
    end = cf.messages[0].span("text", 2, 3)[1]
    assert end.column == 23  # exclusive end after both \u escapes
    assert cf.messages[0].channel == "jd.sms"
    assert cf.messages[1].channel == "jd.push" and cf.messages[1].id == "7"
    numbered = read_copy_file(write(tmp_path, "b.json", '[{"body": "x", "id": 12}]'))
    assert numbered.messages[0].id == "12"
    assert cf.messages[1].allow == frozenset({"r1", "r2"})
    assert where(cf, 1, "body", 1) == (5, 14)


def test_json_syntax_error_position(tmp_path: Path) -> None:
    with pytest.raises(CopyFileError, match="JSON syntax error") as info:
        read_copy_file(write(tmp_path, "a.json", '[\n  "好",\n  "坏\n]'))
    assert (info.value.line, info.value.column) == (3, 5)


def test_json_number_message_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(CopyFileError, match="not the value 5") as info:
        read_copy_file(write(tmp_path, "a.json", '["ok", 5]'))
    assert (info.value.line, info.value.column) == (1, 8)


def test_json_invalid_utf8(tmp_path: Path) -> None:
    with pytest.raises(CopyFileError, match="invalid UTF-8") as info:
        read_copy_file(write(tmp_path, "a.json", b'["\xe4\xb8\xad\xff"]'))
    assert (info.value.line, info.value.column) == (1, 4)


# -------------------------------------------------------------------------------------- toml


def test_toml_messages_and_channel(tmp_path: Path) -> None:
    content = (
        'channel = "jd.sms"\n'
        "[[message]]\n"
        'body = "你\\t好\\u4e2d"\n'
        "title = '''\n多行\n文本'''\n"
        'allow = ["jd-sms-link"]\n'
        "[[message]]\n"
        'text = """一 \\\n   二"""\n'
        'channel = "jd.push"\n'
    )
    cf = read_copy_file(write(tmp_path, "a.toml", content), default_channel="x")
    m = cf.messages
    assert m[0].fields == {"body": "你\t好中", "title": "多行\n文本"}
    assert where(cf, 0, "body", 0) == (3, 9)
    assert where(cf, 0, "body", 2) == (3, 12)
    assert where(cf, 0, "body", 3) == (3, 13)
    assert where(cf, 0, "title", 3) == (6, 1)
    assert m[0].allow == frozenset({"jd-sms-link"}) and m[0].channel == "jd.sms"
    assert m[1].fields == {"text": "一 二"} and where(cf, 1, "text", 2) == (10, 4)
    assert m[1].channel == "jd.push"
    assert (m[0].line, m[0].end_line) == (2, 7)


def test_toml_crlf(tmp_path: Path) -> None:
    cf = read_copy_file(write(tmp_path, "a.toml", '[[message]]\r\nbody = """\r\n一\r\n二"""\r\n'))
    assert cf.messages[0].fields["body"] == "一\n二"
    assert where(cf, 0, "body", 2) == (4, 1)


def test_toml_errors(tmp_path: Path) -> None:
    with pytest.raises(CopyFileError, match="TOML syntax error") as info:
        read_copy_file(write(tmp_path, "a.toml", '[[message]]\nbody = "x\n'))
    assert info.value.line == 2
    with pytest.raises(CopyFileError, match="did you mean 'message'"):
        read_copy_file(write(tmp_path, "b.toml", '[[mesage]]\nbody = "x"\n'))
    with pytest.raises(CopyFileError, match="'body' must be a string") as info:
        read_copy_file(write(tmp_path, "c.toml", "[[message]]\nbody = 3\n"))
    assert info.value.line == 2


# --------------------------------------------------------------------------------------- csv


def test_csv_quoted_multiline_crlf_and_special_columns(tmp_path: Path) -> None:
    content = '\ufeffbody,title,channel,allow,id\r\n"全,""场""",标题,jd.push,"a,b",m1\r\n普通,,,,\r\n"多\r\n行",,,,\r\n'
    cf = read_copy_file(write(tmp_path, "a.csv", content), default_channel="jd.sms")
    m = cf.messages
    assert m[0].fields == {"body": '全,"场"', "title": "标题"}
    assert where(cf, 0, "body", 2) == (2, 4)  # the doubled quote
    assert where(cf, 0, "body", 3) == (2, 6)
    assert m[0].channel == "jd.push" and m[0].allow == frozenset({"a", "b"}) and m[0].id == "m1"
    assert m[1].fields == {"body": "普通"} and m[1].channel == "jd.sms"
    assert m[2].fields == {"body": "多\r\n行"}
    assert where(cf, 2, "body", 3) == (5, 1)
    assert (m[2].line, m[2].end_line) == (4, 5)


def test_csv_wrong_field_count(tmp_path: Path) -> None:
    with pytest.raises(CopyFileError, match="expected 2 CSV fields") as info:
        read_copy_file(write(tmp_path, "a.csv", "body,title\nx\n"))
    assert info.value.line == 2


# ----------------------------------------------------------------------------------- general


def test_channel_precedence(tmp_path: Path) -> None:
    content = "channel: file.level\nmessages:\n  - {body: a, channel: own}\n  - {body: b}\n"
    cf = read_copy_file(write(tmp_path, "a.yaml", content), default_channel="default")
    assert [m.channel for m in cf.messages] == ["own", "file.level"]
    cf2 = read_copy_file(write(tmp_path, "b.yaml", "- {body: a, channel: own}\n- {body: b}\n"), default_channel="default")
    assert [m.channel for m in cf2.messages] == ["own", "default"]
    cf3 = read_copy_file(write(tmp_path, "c.yaml", "- b\n"), default_channel=None)
    assert cf3.messages[0].channel is None


def test_unknown_extension_lists_supported(tmp_path: Path) -> None:
    with pytest.raises(CopyFileError, match=r"supported: \.txt, \.md, \.yaml"):
        read_copy_file(write(tmp_path, "a.docx", "x"))


def test_empty_files_have_no_messages(tmp_path: Path) -> None:
    for name, content in [("a.txt", ""), ("a.yaml", ""), ("a.json", "[]"), ("a.toml", ""), ("a.csv", "body\n"), ("a.md", "")]:
        assert read_copy_file(write(tmp_path, name, content)).messages == []


def test_parse_copy_text_from_memory() -> None:
    cf = parse_copy_text(Path("inline.yaml"), "- 你好\n")
    assert cf.messages[0].fields == {"text": "你好"} and cf.format == ".yaml"


# ------------------------------------------------------------ where a field is written


def test_key_extent_covers_key_and_value_even_when_empty_or_null(tmp_path: Path) -> None:
    cf = read_copy_file(write(tmp_path, "a.yaml", '- body: 新品\n  optout: ""\n  title:\n- 整条文本\n'))
    first, plain = cf.messages
    assert "title" not in first.fields and first.fields["optout"] == ""
    extents = {name: first.key_extent(name) for name in ("body", "optout", "title")}
    assert {name: (s.line, s.column, e.line, e.column) for name, (s, e) in extents.items()} == {
        "body": (1, 3, 1, 11), "optout": (2, 3, 2, 13), "title": (3, 3, 3, 9),
    }
    assert first.key_extent("signature") is None and plain.keys == {}


@pytest.mark.parametrize(
    ("name", "content", "line", "column", "end_column"),
    [
        ("a.json", '[{"body": "新品",\n  "optout": ""}]\n', 2, 3, 15),
        ("a.toml", '[[message]]\nbody = "新品"\n  optout = ""\n', 3, 3, 14),
        ("a.csv", "body,optout\n新品,\n", 2, 4, 4),
        ("b.csv", 'body,optout\n新品,""\n', 2, 4, 6),
    ],
)
def test_key_extent_in_every_structured_format(tmp_path: Path, name: str, content: str, line: int, column: int,
                                               end_column: int) -> None:
    message = read_copy_file(write(tmp_path, name, content)).messages[0]
    extent = message.key_extent("optout")
    assert extent is not None
    start, end = extent
    assert (start.line, start.column, end.line, end.column) == (line, column, line, end_column)


def _lint_yaml(engine: object, tmp_path: Path, text: str) -> list[tuple[str, int, int, int]]:
    from compliance.config import Config
    from compliance.io.linter import CopyLinter

    linter = CopyLinter(engine, Config(default_channel="jd.sms"))
    report = linter.lint(linter.read(write(tmp_path, "copy.yaml", text)), "copy.yaml")
    return [(f.finding.rule, f.line, f.column, f.end_column) for f in report.findings]


def test_a_missing_opt_out_is_reported_on_the_optout_line(engine: object, tmp_path: Path) -> None:
    """It was reported on the message's first field (the signature line): the rule judges the
    whole message, and the finding has no span. Now it sits on the field its rule tests."""
    found = _lint_yaml(engine, tmp_path, '- signature: 小米之家\n  body: 新品到店，欢迎光临。\n  optout: ""\n'
                                 "- signature: 小米之家\n  body: 新品到店，欢迎光临。\n  optout:\n")
    assert found == [("jd-sms-optout", 3, 3, 13), ("jd-sms-optout", 6, 3, 10)]


def test_without_an_optout_key_the_finding_covers_the_message_from_its_first_line(engine: object,
                                                                                  tmp_path: Path) -> None:
    found = _lint_yaml(engine, tmp_path, "- signature: 小米之家\n  body: 新品到店，欢迎光临。\n")
    assert found == [("jd-sms-optout", 1, 14, 19)]  # from the first field to the end of the body (line 2)


def test_a_signature_of_the_wrong_length_is_reported_on_the_signature_line(engine: object, tmp_path: Path) -> None:
    found = _lint_yaml(engine, tmp_path, "- body: 新品到店，欢迎光临。回T退订\n  signature: 小\n")
    assert ("jd-sms-signature-format", 2, 3, 15) in found


def test_subject_field_of_a_whole_message_rule() -> None:
    from compliance.grammar.parser import parse_expression
    from compliance.io.linter import subject_field

    def subject(text: str) -> str | None:
        return subject_field(parse_expression(text))

    assert subject('message.optout != "" or len(lexicon("optout", message.body)) > 0') == "optout"
    assert subject("len(message.signature) >= 2 and len(message.signature) <= 16") == "signature"
    assert subject("rendered_length(message.signature, message.body, message.optout) <= 70") is None
    assert subject("send.via_template") is None
    assert subject_field(None) is None
