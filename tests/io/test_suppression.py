"""Suppression comments and allow fields: scopes, prefixes, unused reporting."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.findings import Finding
from compliance.io.copyfiles import CopyFileError, read_copy_file
from compliance.io.suppression import (
    DirectiveError,
    apply_suppressions,
    code_matches,
    parse_directive,
)


def finding(rule: str, ref: str | None = None) -> Finding:
    return Finding(rule, ref, "ad_law", "error", "违规")


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def test_code_matching_is_prefix_at_dash_boundary() -> None:
    assert code_matches("jd-sms", "jd-sms-ad-law")
    assert code_matches("jd-sms-ad-law", "jd-sms-ad-law")
    assert not code_matches("jd-sms", "jd-smsx-link")
    assert not code_matches("jd-sms-ad", "jd-sms-adlaw")
    assert code_matches("jd-mb-01", "anything", ref="JD-MB-01")
    assert code_matches("JD-MB", "anything", ref="JD-MB-01")
    assert not code_matches("JD-M", "anything", ref="JD-MB-01")


def test_parse_directive() -> None:
    assert parse_directive(" 普通注释") is None
    d = parse_directive(" compliance: disable=a-b, c ")
    assert d is not None and d.kind == "disable" and d.codes == ("a-b", "c")
    with pytest.raises(DirectiveError, match="did you mean 'disable'"):
        parse_directive("compliance: disabel=a")
    with pytest.raises(DirectiveError, match="malformed"):
        parse_directive("compliance: disable")


def test_txt_scopes(tmp_path: Path) -> None:
    content = (
        "# compliance: disable=file-wide\n"
        "第一条\n"
        "第二条 # compliance: disable=jd-sms\n"
        "# compliance: disable-next-line=jd-link\n"
        "\n"
        "第三条\n"
    )
    cf = read_copy_file(write(tmp_path, "a.txt", content))
    assert [m.fields["text"] for m in cf.messages] == ["第一条", "第二条", "第三条"]
    assert cf.messages[0].allow == frozenset({"file-wide"})
    assert cf.messages[1].allow == frozenset({"file-wide", "jd-sms"})
    assert cf.messages[2].allow == frozenset({"file-wide", "jd-link"})
    scopes = [(s.scope, s.message_index, s.line, s.column) for s in cf.suppressions]
    assert scopes == [("file", None, 1, 1), ("message", 1, 3, 5), ("message", 2, 4, 1)]


def test_apply_suppressions_keeps_unsuppressed_and_reports_unused(tmp_path: Path) -> None:
    content = (
        "# compliance: disable=jd-typo,never-used\n"
        "第一条 # compliance: disable=jd-sms,jd-link\n"
        "第二条\n"
    )
    cf = read_copy_file(write(tmp_path, "a.txt", content))
    findings = {
        0: [finding("jd-sms-ad-law"), finding("jd-typo-x"), finding("other")],
        1: [finding("jd-typo-y"), finding("jd-sms-ad-law")],
    }
    kept, unused = apply_suppressions(findings, cf)
    assert [f.rule for f in kept[0]] == ["other"]
    assert [f.rule for f in kept[1]] == ["jd-sms-ad-law"]
    assert [(u.code, u.line, u.column, u.scope) for u in unused] == [
        ("never-used", 1, 1, "file"),
        ("jd-link", 2, 5, "message"),
    ]
    assert all(u.path == str(cf.path) for u in unused)


def test_message_level_use_makes_redundant_file_level_unused(tmp_path: Path) -> None:
    content = "# compliance: disable=jd-sms\n第一条 # compliance: disable=jd-sms-ad-law\n"
    cf = read_copy_file(write(tmp_path, "a.txt", content))
    kept, unused = apply_suppressions({0: [finding("jd-sms-ad-law")]}, cf)
    assert kept == {0: []}
    assert [(u.code, u.line) for u in unused] == [("jd-sms", 1)]


def test_yaml_comments_and_allow(tmp_path: Path) -> None:
    content = (
        "# compliance: disable=top\n"
        "- 第一条  # compliance: disable=one\n"
        "- body: '#不是注释'\n"
        "  allow: [jd-sms, jd-link]\n"
        "# compliance: disable-next-line=three\n"
        "- 第三条\n"
        "- body: 第四条\n"
        "  # compliance: disable=four\n"
        "  title: 标题\n"
    )
    cf = read_copy_file(write(tmp_path, "a.yaml", content))
    assert cf.messages[1].fields["body"] == "#不是注释"
    assert [sorted(m.allow) for m in cf.messages] == [
        ["one", "top"],
        ["jd-link", "jd-sms", "top"],
        ["three", "top"],
        ["four", "top"],
    ]
    allow = [s for s in cf.suppressions if s.kind == "allow"]
    assert [(s.codes, s.line, s.column) for s in allow] == [(("jd-sms",), 4, 11), (("jd-link",), 4, 19)]
    kept, unused = apply_suppressions({1: [finding("jd-sms-x")]}, cf)
    assert kept[1] == []
    assert ("jd-link", 4, 19) in [(u.code, u.line, u.column) for u in unused]
    assert ("jd-sms", 4, 11) not in [(u.code, u.line, u.column) for u in unused]


def test_md_html_comment_directives(tmp_path: Path) -> None:
    content = "<!-- compliance: disable=top -->\n# 标题\n- 第一条 <!-- compliance: disable=one -->\n<!-- compliance: disable-next-line=two -->\n第二条\n"
    cf = read_copy_file(write(tmp_path, "a.md", content))
    assert [m.fields["text"] for m in cf.messages] == ["第一条", "第二条"]
    assert [sorted(m.allow) for m in cf.messages] == [["one", "top"], ["top", "two"]]


def test_toml_comments_and_allow(tmp_path: Path) -> None:
    content = (
        "# compliance: disable=top\n"
        "[[message]]  # compliance: disable=one\n"
        'body = "第一条"\n'
        'allow = "x,y"\n'
        "# compliance: disable-next-line=two\n"
        "[[message]]\n"
        'body = "第二条"  # compliance: disable=three\n'
    )
    cf = read_copy_file(write(tmp_path, "a.toml", content))
    assert [sorted(m.allow) for m in cf.messages] == [["one", "top", "x", "y"], ["three", "top", "two"]]


def test_json_and_csv_allow(tmp_path: Path) -> None:
    cf = read_copy_file(write(tmp_path, "a.json", '[{"body": "x", "allow": ["a", "b"]}]'))
    assert cf.messages[0].allow == frozenset({"a", "b"})
    cf = read_copy_file(write(tmp_path, "a.csv", "body,allow\nx,\"a, b\"\n"))
    assert cf.messages[0].allow == frozenset({"a", "b"})


def test_misplaced_and_malformed_directives_are_errors(tmp_path: Path) -> None:
    with pytest.raises(CopyFileError, match="disable-next-line") as info:
        read_copy_file(write(tmp_path, "a.txt", "第一条\n# compliance: disable=x\n第二条\n"))
    assert (info.value.line, info.value.column) == (2, 1)
    with pytest.raises(CopyFileError, match="did you mean") as info:
        read_copy_file(write(tmp_path, "b.txt", "第一条 # compliance: disabel=x\n"))
    assert info.value.line == 1


def test_disable_next_line_with_nothing_after_is_unused(tmp_path: Path) -> None:
    cf = read_copy_file(write(tmp_path, "a.txt", "第一条\n# compliance: disable-next-line=x\n"))
    assert cf.messages[0].allow == frozenset()
    _, unused = apply_suppressions({0: []}, cf)
    assert [(u.code, u.line) for u in unused] == [("x", 2)]


def test_nothing_hides_a_message_that_was_not_checked(tmp_path: Path) -> None:
    """`message-too-large` means the copy was never scanned: a suppression comment, an ignore
    list or a severity setting must not turn it into a pass."""
    from compliance.config import Config
    from compliance.engine import Engine
    from compliance.io.linter import CopyLinter

    path = write(tmp_path, "copy.txt", "# compliance: disable=message\n【小米旗舰店】" + "好" * 80 + " 回T退订\n")
    config = Config(default_channel="jd.sms", ignore=["message"], severity_overrides={"message-too-large": "info"})
    report = CopyLinter(Engine(max_message_chars=50), config, channel="jd.sms").lint(read_copy_file(path))
    found = [(f.finding.rule, f.finding.severity) for f in report.findings]
    assert ("message-too-large", "error") in found
    assert ("unused-suppression", "warning") in found  # the comment had no effect: said so
