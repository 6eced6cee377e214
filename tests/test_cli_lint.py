"""`compliance lint` and `compliance init`: formats, exit codes, selection, suppressions,
fixes, stdin, configuration and exact positions of CJK text."""

from __future__ import annotations

import io
import json
import sys
import types
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from compliance.cli import commands as cli  # the parser and the built-in commands
from compliance.cli import main

SCHEMA = Path(__file__).parent / "output" / "data" / "sarif-schema-2.1.0.json"

BAD_LINE = "【小米之家】全网最低价，快来抢购！！回T退订"   # copy-ad-law (error) + repeated punctuation (warning, fix)
WARN_LINE = "【小米之家】新品到店！！欢迎光临。回T退订"    # repeated punctuation only (warning, fix)
GOOD_LINE = "【小米之家】新品到店，欢迎光临。回T退订"      # clean for jd.sms
AD_LAW = "全网最低价"


def col(line: str, needle: str) -> int:
    """1-based code-point column of `needle` in `line`."""
    index = line.index(needle)
    return index + 1


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def lint(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["lint", "--no-cache", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in an empty directory with a .git marker, so no configuration above it is found."""
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path


def set_stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8")), encoding="utf-8"))


# ----------------------------------------------------------------------------- formats


def test_text_format_points_at_the_word(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(in_tmp, "bad.txt", f"# 双十一\n{BAD_LINE}\n")
    code, out, _ = lint(capsys, "--channel", "jd.sms", "bad.txt")
    assert code == 1
    assert f"bad.txt:2:{col(BAD_LINE, AD_LAW)}: copy-ad-law (JD-SMS-13) [error]" in out
    assert f"bad.txt:2:{col(BAD_LINE, '！！')}: copy-repeated-punctuation (JD-SMS-12) [warning]" in out
    assert f"  2 | {BAD_LINE}" in out
    assert "= fix: replace “！！” with “！”" in out
    assert out.rstrip().endswith("Found 2 problems (1 error, 1 warning)")


@pytest.mark.parametrize("fmt", ["json", "jsonl", "sarif", "github", "junit"])
def test_every_format_reports_the_bad_file(fmt: str, in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(in_tmp, "bad.txt", BAD_LINE + "\n")
    code, out, _ = lint(capsys, "--channel", "jd.sms", "--format", fmt, "bad.txt")
    assert code == 1
    column = col(BAD_LINE, AD_LAW)
    if fmt == "json":
        items = json.loads(out)
        ad = next(i for i in items if i["rule"] == "copy-ad-law")
        assert (ad["path"], ad["line"], ad["column"], ad["end_column"]) == ("bad.txt", 1, column, column + 5)
        assert ad["ref"] == "JD-SMS-13" and ad["severity"] == "error" and ad["field"] == "body"
    elif fmt == "jsonl":
        items = [json.loads(line) for line in out.splitlines()]
        assert {i["rule"] for i in items} == {"copy-ad-law", "copy-repeated-punctuation"}
        fixable = next(i for i in items if i["rule"] == "copy-repeated-punctuation")
        assert fixable["fix"] == "！" and fixable["column"] == col(BAD_LINE, "！！")
    elif fmt == "sarif":
        jsonschema = pytest.importorskip("jsonschema")
        log = json.loads(out)
        jsonschema.validate(log, json.loads(SCHEMA.read_text(encoding="utf-8")))
        run = log["runs"][0]
        result = next(r for r in run["results"] if r["ruleId"] == "copy-ad-law")
        region = result["locations"][0]["physicalLocation"]["region"]
        assert (region["startLine"], region["startColumn"], region["endColumn"]) == (1, column, column + 5)
        rule = run["tool"]["driver"]["rules"][result["ruleIndex"]]
        assert rule["id"] == "copy-ad-law" and "广告法" in rule["shortDescription"]["text"]
        assert any("fixes" in r for r in run["results"])
    elif fmt == "github":
        lines = out.splitlines()
        assert (f"::error file=bad.txt,line=1,endLine=1,col={column},endColumn={column + 5},"
                f"title=copy-ad-law (JD-SMS-13)::") in out
        assert any(line.startswith("::warning ") and "copy-repeated-punctuation" in line for line in lines)
    else:
        root = ET.fromstring(out.split("\n", 1)[1])
        failures = root.findall(".//failure")
        # one message, two findings: one failing test case (its one <failure> names both rules)
        assert (root.get("tests"), root.get("failures"), len(failures)) == ("1", "1", 1)
        assert failures[0].get("message") == "2 problems: copy-ad-law (JD-SMS-13), copy-repeated-punctuation (JD-SMS-12)"


# ------------------------------------------------------------------------- exit codes


def test_exit_codes_clean_findings_and_errors(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(in_tmp, "good.txt", GOOD_LINE + "\n")
    write(in_tmp, "bad.txt", BAD_LINE + "\n")
    code, out, _ = lint(capsys, "--channel", "jd.sms", "good.txt")
    assert (code, out) == (0, "All checks passed!\n")
    assert lint(capsys, "--channel", "jd.sms", "bad.txt")[0] == 1
    code, _, err = lint(capsys, "--channel", "jd.sms", "missing.txt")
    assert code == 2 and "missing.txt" in err
    code, _, err = lint(capsys, "--channel", "jd.smss", "good.txt")
    assert code == 2 and "did you mean jd.sms?" in err


def test_input_errors_give_path_line_column(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(in_tmp, "broken.yaml", "channel: jd.sms\nmessages:\n  - body: [1, 2\n")
    write(in_tmp, "nochannel.txt", f"# 注释\n{GOOD_LINE}\n")
    write(in_tmp, "bad.txt", BAD_LINE + "\n")
    code, out, err = lint(capsys, "broken.yaml", "nochannel.txt")
    assert code == 2
    assert "error: broken.yaml:4:1: YAML syntax error" in err
    assert "error: nochannel.txt:2:1: this message names no channel" in err
    assert "All checks passed" not in out  # nothing was checked
    # findings of readable files are still reported; input errors still decide the exit code
    code, out, err = lint(capsys, "--channel", "jd.sms", "broken.yaml", "bad.txt")
    assert code == 2 and "copy-ad-law" in out and "broken.yaml:4:1" in err


def test_unknown_field_for_the_pack_is_an_input_error(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(in_tmp, "m.yaml", "- body: 新品到店\n  bodyy: 第二\n")
    code, _, err = lint(capsys, "--channel", "jd.sms", "m.yaml")
    assert code == 2 and f"m.yaml:1:{col('- body: 新品到店', '新')}:" in err and "bodyy" in err


def test_strict_fails_on_warnings(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(in_tmp, "warn.txt", WARN_LINE + "\n")
    code, out, _ = lint(capsys, "--channel", "jd.sms", "warn.txt")
    assert code == 0 and "copy-repeated-punctuation (JD-SMS-12) [warning]" in out
    assert lint(capsys, "--channel", "jd.sms", "--strict", "warn.txt")[0] == 1
    write(in_tmp, "compliance.toml", 'default-channel = "jd.sms"\nstrict = true\n')
    assert lint(capsys, "warn.txt")[0] == 1


# -------------------------------------------------------------------------- selection


@pytest.mark.parametrize(
    ("option", "codes", "expected"),
    [
        ("--select", "copy-ad-law", {"copy-ad-law"}),
        ("--select", "JD-SMS-12", {"copy-repeated-punctuation"}),   # catalogue ref
        ("--select", "cn-01", {"copy-ad-law"}),                     # a second ref the rule cites
        ("--select", "copy", {"copy-ad-law", "copy-repeated-punctuation"}),  # prefix
        ("--select", "jd-sms", {"copy-ad-law", "copy-repeated-punctuation"}),  # ref prefix: JD-SMS-*
        ("--select", "jd-sms-optout", set()),
        ("--ignore", "copy-ad-law", {"copy-repeated-punctuation"}),
        ("--ignore", "JD-SMS-12,CN-01", set()),
        ("--ignore", "copy-repeated", {"copy-ad-law"}),
    ],
)
def test_select_and_ignore(option: str, codes: str, expected: set[str], in_tmp: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    write(in_tmp, "bad.txt", BAD_LINE + "\n")
    _, out, _ = lint(capsys, "--channel", "jd.sms", "--format", "json", option, codes, "bad.txt")
    assert {i["rule"] for i in json.loads(out)} == expected


def test_select_is_repeatable_and_unknown_codes_are_usage_errors(in_tmp: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    write(in_tmp, "bad.txt", BAD_LINE + "\n")
    _, out, _ = lint(capsys, "--channel", "jd.sms", "--format", "json",
                     "--select", "copy-ad-law", "--select", "JD-SMS-12", "bad.txt")
    assert {i["rule"] for i in json.loads(out)} == {"copy-ad-law", "copy-repeated-punctuation"}
    code, out, err = lint(capsys, "--channel", "jd.sms", "--select", "copy-ad-lwa", "bad.txt")
    assert code == 2 and out == ""
    assert "--select: 'copy-ad-lwa' matches no rule id or catalogue ref; did you mean copy-ad-law?" in err


# ----------------------------------------------------------------------- suppressions


def test_suppressions_and_unused_suppressions(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (
        "# compliance: disable=copy-typo\n"
        f"{BAD_LINE}  # compliance: disable=copy-ad-law\n"
        "# compliance: disable-next-line=JD-SMS-12\n"
        f"{WARN_LINE}\n"
        f"{GOOD_LINE}  # compliance: disable=copy-links\n"
    )
    write(in_tmp, "s.txt", text)
    code, out, _ = lint(capsys, "--channel", "jd.sms", "--format", "json", "s.txt")
    items = json.loads(out)
    found = sorted((i["rule"], i["line"], i["column"], i["severity"]) for i in items)
    line5 = text.splitlines()[4]
    assert found == [
        ("copy-repeated-punctuation", 2, col(BAD_LINE, "！！"), "warning"),
        ("unused-suppression", 1, len("# compliance: disable=") + 1, "warning"),
        ("unused-suppression", 5, col(line5, "copy-links"), "warning"),
    ]
    assert code == 0  # warnings only
    messages = {i["line"]: i["message"] for i in items if i["rule"] == "unused-suppression"}
    assert "“copy-typo”没有抑制任何问题" in messages[1]
    assert "没有规则“copy-links”" in messages[5] and "copy-link" in messages[5]  # did you mean
    assert lint(capsys, "--channel", "jd.sms", "--strict", "s.txt")[0] == 1
    _, out, _ = lint(capsys, "--channel", "jd.sms", "--format", "json", "--ignore", "unused-suppression", "s.txt")
    assert {i["rule"] for i in json.loads(out)} == {"copy-repeated-punctuation"}


def test_suppression_of_an_ignored_rule_is_not_unused(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(in_tmp, "s.txt", f"{BAD_LINE}  # compliance: disable=copy-ad-law\n")
    _, out, _ = lint(capsys, "--channel", "jd.sms", "--format", "json", "--ignore", "copy-ad-law,JD-SMS-12", "s.txt")
    assert json.loads(out) == []


def test_allow_field_in_yaml(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (
        "channel: jd.sms\n"
        "messages:\n"
        f"  - text: {BAD_LINE}\n"
        "    allow: [CN-01, JD-SMS-12, copy-typo]\n"
    )
    write(in_tmp, "a.yaml", text)
    code, out, _ = lint(capsys, "--format", "json", "a.yaml")
    items = json.loads(out)
    assert [(i["rule"], i["line"], i["column"]) for i in items] == [
        ("unused-suppression", 4, col(text.splitlines()[3], "copy-typo"))
    ]
    assert code == 0


# ------------------------------------------------------------------------------- fixes


def test_fix_rewrites_the_file_and_reports(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(in_tmp, "c.txt", f"{BAD_LINE}\r\n{WARN_LINE}\r\n")
    code, out, _ = lint(capsys, "--channel", "jd.sms", "--fix", "c.txt")
    assert path.read_bytes() == (f"{BAD_LINE.replace('！！', '！')}\r\n{WARN_LINE.replace('！！', '！')}\r\n").encode()
    assert code == 1  # the ad-law error has no fix and remains
    assert f"c.txt:1:{col(BAD_LINE, '！！')}: fixed copy-repeated-punctuation: “！！” → “！”" in out
    assert "Fixed 2 problems in 1 file." in out
    assert "copy-repeated-punctuation (JD-SMS-12) [warning]" not in out
    assert "copy-ad-law (JD-SMS-13) [error]" in out


def test_fix_in_structured_files_keeps_them_valid(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    yaml_text = f'channel: jd.sms\nmessages:\n  - "{WARN_LINE}"\n  - body: 新品到店!欢迎\n    optout: 回T退订\n'
    json_text = json.dumps({"channel": "jd.sms", "messages": [{"body": "新品\\到店！！", "optout": "回T退订"}]},
                           ensure_ascii=False)
    y = write(in_tmp, "a.yaml", yaml_text)
    j = write(in_tmp, "b.json", json_text)
    code, _, _ = lint(capsys, "--fix", "--strict", "a.yaml", "b.json")
    assert y.read_text(encoding="utf-8") == yaml_text.replace("！！", "！").replace("到店!", "到店！")
    assert json.loads(j.read_text(encoding="utf-8"))["messages"][0]["body"] == "新品\\到店！"
    assert code == 1  # the body without signature still fails the signature rule


def test_unsafe_replacement_is_not_applied(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A YAML folded scalar maps only to its start: its fix is never applied."""
    text = f"- >\n  {WARN_LINE}\n"
    path = write(in_tmp, "f.yaml", text)
    code, out, _ = lint(capsys, "--channel", "jd.sms", "--fix", "f.yaml")
    assert path.read_text(encoding="utf-8") == text
    assert "Fixed 0 problems in 0 files." in out and "copy-repeated-punctuation" in out
    assert code == 0


def test_diff_shows_the_fix_and_touches_nothing(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(in_tmp, "c.txt", f"{WARN_LINE}\n{GOOD_LINE}\n")
    code, out, err = lint(capsys, "--channel", "jd.sms", "--diff", "c.txt")
    assert code == 1
    assert path.read_text(encoding="utf-8") == f"{WARN_LINE}\n{GOOD_LINE}\n"
    assert out.splitlines()[:5] == [
        "--- a/c.txt", "+++ b/c.txt", "@@ -1,2 +1,2 @@", f"-{WARN_LINE}", f"+{WARN_LINE.replace('！！', '！')}",
    ]
    assert "Would fix 1 problem in 1 file." in err
    write(in_tmp, "good.txt", GOOD_LINE + "\n")
    assert lint(capsys, "--channel", "jd.sms", "--diff", "good.txt")[:2] == (0, "")


# ------------------------------------------------------------------------------- stdin


def test_stdin(in_tmp: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    set_stdin(monkeypatch, f"# 注释\n{BAD_LINE}\n")
    code, out, _ = lint(capsys, "--channel", "jd.sms", "-")
    assert code == 1 and f"-:2:{col(BAD_LINE, AD_LAW)}: copy-ad-law (JD-SMS-13) [error]" in out

    set_stdin(monkeypatch, f"channel: jd.sms\nmessages:\n  - {BAD_LINE}\n")
    code, out, _ = lint(capsys, "--stdin-filename", "copy/x.yaml", "--format", "json", "-")
    assert code == 1 and {(i["path"], i["line"]) for i in json.loads(out)} == {("copy/x.yaml", 3)}

    set_stdin(monkeypatch, WARN_LINE + "\n")
    code, out, err = lint(capsys, "--channel", "jd.sms", "--fix", "-")
    assert (code, out) == (0, WARN_LINE.replace("！！", "！") + "\n")
    assert "Fixed 1 problem in 1 file." in err


# ----------------------------------------------------------------------- configuration


def test_config_discovered_from_the_first_path(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(in_tmp, "compliance.toml",
          'default-channel = "jd.sms"\nignore = ["copy-repeated-punctuation"]\n\n'
          '[severity-overrides]\n"copy-ad-law" = "warning"\n')
    write(in_tmp, "copy/sub/bad.txt", BAD_LINE + "\n")
    write(in_tmp, "copy/pyproject.toml", "[project]\nname = 'x'\n")  # no table: skipped
    code, out, _ = lint(capsys, "--format", "json", "copy")
    assert code == 0  # the only finding was turned into a warning
    assert [(i["rule"], i["severity"], i["path"]) for i in json.loads(out)] == [
        ("copy-ad-law", "warning", str(Path("copy/sub/bad.txt")))
    ]
    code, _, err = lint(capsys, "--no-config", "copy")
    assert code == 2 and "names no channel" in err


def test_pyproject_tool_table_per_file_ignores_and_exclude(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(in_tmp, "pyproject.toml",
          '[tool.compliance]\ndefault-channel = "jd.sms"\nexclude = ["vendor"]\n'
          '[tool.compliance.per-file-ignores]\n"drafts/**" = ["copy"]\n')
    write(in_tmp, "drafts/a.txt", BAD_LINE + "\n")
    write(in_tmp, "vendor/b.txt", BAD_LINE + "\n")
    write(in_tmp, "final/c.txt", BAD_LINE + "\n")
    code, out, _ = lint(capsys, "--format", "json", ".")
    assert code == 1
    assert {i["path"] for i in json.loads(out)} == {str(Path("final/c.txt"))}
    # excluded even when named explicitly (as pre-commit does)
    code, out, err = lint(capsys, "vendor/b.txt")
    assert (code, out) == (0, "All checks passed!\n") and "no copy files found" in err


def test_explicit_config_and_config_errors(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(in_tmp, "bad.txt", BAD_LINE + "\n")
    cfg = write(in_tmp, "other.toml", 'default-channel = "jd.sms"\nselct = ["copy"]\n')
    code, out, err = lint(capsys, "--config", str(cfg), "bad.txt")
    assert code == 2 and out == ""
    assert f"{cfg}:2: selct: unknown key 'selct'; did you mean 'select'?" in err
    cfg.write_text('default-channel = "jd.sms"\n\nselect = ["copy", "jd-smz"]\n', encoding="utf-8")
    code, _, err = lint(capsys, "--config", str(cfg), "bad.txt")
    assert code == 2 and f"{cfg}:3: select[1]: 'jd-smz' matches no rule id or catalogue ref" in err
    cfg.write_text('default-channel = "jd.smss"\n', encoding="utf-8")
    code, _, err = lint(capsys, "--config", str(cfg), "bad.txt")
    assert code == 2 and f"{cfg}:1: default-channel:" in err and "did you mean jd.sms?" in err
    code, _, err = lint(capsys, "--config", str(in_tmp / "nope.toml"), "bad.txt")
    assert code == 2 and "nope.toml" in err and "cannot read" in err


def test_config_output_format(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(in_tmp, "compliance.toml", 'default-channel = "jd.sms"\noutput-format = "jsonl"\n')
    write(in_tmp, "bad.txt", BAD_LINE + "\n")
    _, out, _ = lint(capsys, "bad.txt")
    assert {json.loads(line)["rule"] for line in out.splitlines()} == {"copy-ad-law", "copy-repeated-punctuation"}
    _, out, _ = lint(capsys, "--format", "text", "bad.txt")
    assert out.startswith("bad.txt:1:")


def test_banned_words_are_validated_and_reach_an_engine_that_takes_them(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(in_tmp, "good.txt", GOOD_LINE + "\n")
    write(in_tmp, "compliance.toml",
          'default-channel = "jd.sms"\nallowed-words = ["第一书记"]\n'
          '[[banned-words]]\nword = "秒杀"\ncategory = "inducement"\nseverity = "warning"\n')
    code, _, err = lint(capsys, "good.txt")
    assert code == 0 and err == ""
    # The configured banned word is applied: a line using it is reported, as an inducement.
    write(in_tmp, "promo.txt", "【小米之家】新品秒杀，欢迎光临。回T退订\n")
    code, out, _ = lint(capsys, "--format", "json", "promo.txt")
    assert code == 0  # severity warning: not failing without --strict
    assert [(f["category"], f["severity"]) for f in json.loads(out)] == [("inducement", "warning")]

    import compliance.engine

    seen: dict[str, Any] = {}

    class LexiconEngine(compliance.engine.Engine):
        def __init__(self, paths: Any = (), *, lexicons: Any = (), allowed_words: Any = (), **kwargs: Any) -> None:
            seen.update(lexicons=list(lexicons), allowed_words=list(allowed_words))
            super().__init__(paths, **kwargs)

    monkeypatch.setattr(compliance.engine, "Engine", LexiconEngine)
    code, _, err = lint(capsys, "good.txt")
    assert code == 0 and err == ""
    (lexicon,) = seen["lexicons"]
    assert (lexicon.name, lexicon.category, lexicon.terms()) == ("inducement", "inducement", ("秒杀",))
    assert seen["allowed_words"] == ["第一书记"]

    write(in_tmp, "compliance.toml",
          'default-channel = "jd.sms"\n[[banned-words]]\nword = "x"\ncategory = "link"\n')
    code, _, err = lint(capsys, "good.txt")
    assert code == 2 and "banned-words[0].category: no lexicon checks category 'link'" in err


# --------------------------------------------------------------------------- positions


def test_positions_txt_yaml_json_with_cjk(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    txt = f"# 标题行\n\n\u3000{BAD_LINE}  \n"
    yaml_text = f"channel: jd.sms\nmessages:\n  - id: 甲\n    body: '这是{AD_LAW}，''好''！'\n    optout: 回T退订\n"
    json_text = ('{"channel": "jd.sms",\n "messages": [\n  {"signature": "【小米之家】", '
                 f'"body": "\\u65b0品{AD_LAW}\\n", "optout": "回T退订"}}]}}\n')
    write(in_tmp, "p.txt", txt)
    write(in_tmp, "p.yaml", yaml_text)
    write(in_tmp, "p.json", json_text)
    _, out, _ = lint(capsys, "--channel", "jd.sms", "--select", "copy-ad-law", "--format", "json",
                     "p.txt", "p.yaml", "p.json")
    got = {i["path"]: (i["line"], i["column"], i["end_line"], i["end_column"], i["exact"]) for i in json.loads(out)}
    t_line, y_line, j_line = txt.splitlines()[2], yaml_text.splitlines()[3], json_text.splitlines()[2]
    assert got["p.txt"] == (3, col(t_line, AD_LAW), 3, col(t_line, AD_LAW) + 5, True)
    assert got["p.yaml"] == (4, col(y_line, AD_LAW), 4, col(y_line, AD_LAW) + 5, True)
    assert got["p.json"] == (3, col(j_line, AD_LAW), 3, col(j_line, AD_LAW) + 5, True)


def test_signature_position_in_a_field_mapping(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A signature field written with its 【】 is linted without them; positions still land on the name."""
    line = '- {signature: 【京东自营】, body: 新品到店, optout: 回T退订}'
    write(in_tmp, "s.yaml", line + "\n")
    _, out, _ = lint(capsys, "--channel", "jd.sms", "--select", "jd-sms-signature-platform-name",
                     "--format", "json", "s.yaml")
    (item,) = json.loads(out)
    assert (item["line"], item["column"]) == (1, col(line, "京东"))


# ------------------------------------------------------------------------ output knobs


def test_quiet_and_statistics(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(in_tmp, "bad.txt", f"{BAD_LINE}\n{WARN_LINE}\n")
    _, out, _ = lint(capsys, "--channel", "jd.sms", "--quiet", "bad.txt")
    assert "copy-ad-law" in out and "Found" not in out
    code, out, _ = lint(capsys, "--channel", "jd.sms", "--statistics", "bad.txt")
    assert code == 1
    rows = [line.split() for line in out.splitlines()]
    assert rows[0] == ["COUNT", "RULE", "REF", "SEVERITY", "FIX", "TITLE"]
    assert rows[1][:5] == ["2", "copy-repeated-punctuation", "JD-SMS-12", "warning", "[*]"]
    assert rows[2][:4] == ["1", "copy-ad-law", "JD-SMS-13", "error"]
    _, out, _ = lint(capsys, "--channel", "jd.sms", "--statistics", "--format", "json", "bad.txt")
    assert [(r["rule"], r["count"], r["fixable"]) for r in json.loads(out)] == [
        ("copy-repeated-punctuation", 2, True), ("copy-ad-law", 1, False)]


def test_directory_walk_skips_hidden_and_tool_config(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(in_tmp, ".hidden/a.txt", BAD_LINE + "\n")
    write(in_tmp, "node_modules/b.txt", BAD_LINE + "\n")
    write(in_tmp, "copy/c.md", f"---\nchannel: jd.sms\n---\n# 标题\n- {BAD_LINE}\n")
    write(in_tmp, "copy/notes.rst", BAD_LINE + "\n")
    write(in_tmp, ".pre-commit-config.yaml", "repos: []\n")
    code, out, _ = lint(capsys, "--format", "json", ".", ".pre-commit-config.yaml")
    assert code == 1
    assert {(i["path"], i["line"]) for i in json.loads(out)} == {(str(Path("copy/c.md")), 5)}


# ------------------------------------------------------------------------------- init


def test_init_writes_a_loadable_starter_and_refuses_to_overwrite(in_tmp: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from compliance.config import load_config, starter_config

    assert main(["init"]) == 0
    target = in_tmp / "compliance.toml"
    assert target.read_text(encoding="utf-8") == starter_config()
    assert load_config(target).default_channel == "jd.sms"
    target.write_text("# mine\n", encoding="utf-8")
    assert main(["init"]) == 2
    assert "already exists; pass --force" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "# mine\n"
    assert main(["init", "--force"]) == 0
    assert target.read_text(encoding="utf-8") == starter_config()


# ------------------------------------------------------------------- other subcommands


def test_rules_table_is_plain_and_aligned(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--channel", "jd.sms"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["RULE", "REFS", "KIND", "SEVERITY", "PACK", "TITLE"]
    row = next(line for line in lines if line.startswith("copy-ad-law "))
    assert row.index("JD-SMS-13") == lines[0].index("REFS")
    assert row.index("copy ") == lines[0].index("KIND")
    assert lines[-1].endswith(" rules")


def test_optional_commands_are_registered_when_present(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    module = types.ModuleType("compliance_fake_audit_command")

    def register(sub: Any) -> None:
        p = sub.add_parser("audit", help="fake audit")
        p.set_defaults(func=lambda args: 7)

    module.register = register  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "compliance_fake_audit_command", module)
    monkeypatch.setattr(cli, "OPTIONAL_COMMAND_MODULES", ("compliance_missing_module_xyz", "compliance_fake_audit_command"))
    assert main(["audit"]) == 7
