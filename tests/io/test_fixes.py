"""Safe fixes: exact verbatim spans only, overlaps and duplicates, verification by re-reading."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.io.copyfiles import parse_copy_text
from compliance.io.fixes import FixRequest, apply_edits, encode_like, fix_copy_file, plan_edits


def test_right_to_left_on_one_line_keeps_offsets() -> None:
    cf = parse_copy_text(Path("a.txt"), "甲！！乙,,丙\n")
    outcome = fix_copy_file(cf, [FixRequest(0, "text", 1, 3, "！"), FixRequest(0, "text", 4, 6, "，")])
    assert outcome.text == "甲！乙，丙\n"
    assert len(outcome.applied) == 2 and outcome.skipped == []


def test_overlapping_fix_is_skipped_and_duplicate_applied_once() -> None:
    cf = parse_copy_text(Path("a.txt"), "最最好好\n")
    first, overlapping, duplicate = (FixRequest(0, "text", 0, 2, "最"), FixRequest(0, "text", 1, 3, "x"),
                                     FixRequest(0, "text", 0, 2, "最"))
    outcome = fix_copy_file(cf, [first, overlapping, duplicate])
    assert outcome.text == "最好好\n"
    assert outcome.skipped == [overlapping]
    assert [e.request for e in outcome.applied] == [first, duplicate]


def test_two_insertions_at_one_point_conflict() -> None:
    cf = parse_copy_text(Path("a.txt"), "新品\n")
    edits, skipped = plan_edits(cf, [FixRequest(0, "text", 0, 0, "【甲】"), FixRequest(0, "text", 0, 0, "【乙】")])
    assert apply_edits(cf.source.text, edits) == "【甲】新品\n"
    assert [r.replacement for r in skipped] == ["【乙】"]


def test_escaped_json_span_and_line_breaks_are_not_fixed() -> None:
    cf = parse_copy_text(Path("a.json"), '["\\u65b0\\u54c1！！", "好！！"]')
    escaped = FixRequest(0, "text", 0, 2, "新品")   # source holds escapes, not the characters
    in_place = FixRequest(0, "text", 2, 4, "！")    # verbatim characters after the escapes
    newline = FixRequest(1, "text", 1, 3, "！\n")
    outcome = fix_copy_file(cf, [escaped, in_place, newline])
    assert outcome.text == '["\\u65b0\\u54c1！", "好！！"]'
    assert outcome.skipped == [escaped, newline]


def test_replacement_that_breaks_the_format_is_dropped_by_verification() -> None:
    cf = parse_copy_text(Path("a.csv"), "body,id\n甲！！,1\n乙,2\n")
    quote = FixRequest(0, "body", 1, 3, '"')       # would need CSV quoting
    comma = FixRequest(1, "body", 0, 1, "乙，")      # fine
    outcome = fix_copy_file(cf, [quote, comma])
    assert outcome.text == "body,id\n甲！！,1\n乙，,2\n"
    assert quote in outcome.skipped and [e.request for e in outcome.applied] == [comma]


def test_bom_and_crlf_survive() -> None:
    cf = parse_copy_text(Path("a.txt"), "\ufeff甲！！\r\n乙\r\n".encode("utf-8"))
    outcome = fix_copy_file(cf, [FixRequest(0, "text", 1, 3, "！")])
    assert encode_like(cf, outcome.text) == "\ufeff甲！\r\n乙\r\n".encode("utf-8")


def test_diff_labels_follow_git() -> None:
    from compliance.io.fixes import diff_label

    assert diff_label("a", "copy/x.txt") == "a/copy/x.txt"
    assert diff_label("b", "/tmp/x.txt") == "b/tmp/x.txt"


def test_diff_of_an_absolute_path_has_no_double_slash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """`compliance lint --diff /abs/path` names the file ``a/abs/path`` as git does (it was
    ``a//abs/path``, which `git apply` and `patch -p1` do not take)."""
    from compliance.cli import main

    copy = tmp_path / "copy" / "x.txt"
    copy.parent.mkdir()
    copy.write_text("【小米之家】新品到店！！欢迎光临。回T退订\n", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / ".git").mkdir(parents=True)  # no configuration above the working directory
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("NO_COLOR", "1")
    code = main(["lint", "--no-cache", "--no-config", "--channel", "jd.sms", "--diff", str(copy)])
    out = capsys.readouterr().out
    assert code == 1
    absolute = str(copy).replace("\\", "/").lstrip("/")
    assert out.splitlines()[:2] == [f"--- a/{absolute}", f"+++ b/{absolute}"]
    assert "//" not in out.splitlines()[0]
