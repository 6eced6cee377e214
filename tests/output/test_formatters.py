"""Formatters: text (alignment, summary, colour), json/jsonl, sarif (schema), github, junit."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from compliance.findings import Finding
from compliance.io.copyfiles import read_copy_file
from compliance.output import FORMATS, MessageRef, OutputContext, get_formatter, locate
from compliance.output.github import escape_data, escape_property
from compliance.output.located import LocatedFinding
from compliance.output.text import display_width

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
JUNIT_SCHEMA = Path(__file__).parent / "data" / "junit-10.xsd"


def make(rule: str = "jd-sms-ad-law", severity: str = "error", **kw: object) -> Finding:
    defaults: dict[str, object] = {"ref": "JD-SMS-01", "category": "ad_law", "message": "含有广告法禁用词“最低价”"}
    defaults.update(kw)
    return Finding(rule, defaults.pop("ref"), defaults.pop("category"), severity, defaults.pop("message"), **defaults)  # type: ignore[arg-type]


@pytest.fixture()
def located(tmp_path: Path) -> list[LocatedFinding]:
    path = tmp_path / "copy.txt"
    path.write_text("全网最低价！\r\n【店铺】限时😀抢购 a,b:c\n", encoding="utf-8")
    cf = read_copy_file(path)
    m0, m1 = cf.messages
    return [
        locate(make(field="text", start=2, end=5, fix="超低价"), m0, "copy.txt"),
        locate(make("jd-sms-emoji", "warning", category="symbol", message="含有表情符号", field="text", start=6, end=7, fix=""), m1, "copy.txt"),
        locate(make("jd-sms-signature", "info", ref=None, category="signature", message="签名: 50%\n请核对"), m1, "copy.txt"),
    ]


def render(name: str, findings: list[LocatedFinding], context: OutputContext | None = None) -> str:
    stream = io.StringIO()
    get_formatter(name).write(findings, stream, context)
    return stream.getvalue()


def test_registry_and_did_you_mean() -> None:
    assert set(FORMATS) == {"text", "json", "jsonl", "sarif", "github", "junit"}
    assert get_formatter("SARIF") is FORMATS["sarif"]
    with pytest.raises(ValueError, match="did you mean 'sarif'"):
        get_formatter("sarf")
    with pytest.raises(ValueError, match="available: text"):
        get_formatter("xml")


def test_locate_positions(located: list[LocatedFinding]) -> None:
    first, emoji, whole = located
    assert (first.line, first.column, first.end_line, first.end_column) == (1, 3, 1, 6)
    assert first.source_line == "全网最低价！"
    assert (emoji.line, emoji.column, emoji.end_column) == (2, 7, 8)
    # No span: the whole message text.
    assert (whole.line, whole.column, whole.end_column) == (2, 1, 16)


def test_locate_with_field_origins_and_unknown_field(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("  【店铺】全场五折，回T退订\n", encoding="utf-8")
    message = read_copy_file(path).messages[0]
    # The engine split "text" into signature [0, 4) and body [4, 9); the body finding is on
    # body offsets 2..4 (五折).
    origins = {"signature": ("text", 0), "body": ("text", 4)}
    item = locate(make(field="body", start=2, end=4), message, "a.txt", field_origins=origins)
    assert (item.line, item.column, item.end_column, item.exact) == (1, 9, 11, True)
    lost = locate(make(field="body", start=2, end=4), message, "a.txt")
    assert (lost.column, lost.exact) == (3, False)


def test_text_alignment_with_cjk_and_emoji(located: list[LocatedFinding]) -> None:
    out = render("text", located, OutputContext(color=False))
    lines = out.splitlines()
    assert lines[0] == "copy.txt:1:3: jd-sms-ad-law (JD-SMS-01) [error] 含有广告法禁用词“最低价”"
    assert lines[1] == "  1 | 全网最低价！"
    assert lines[2] == "    |     ^~~~~~"  # 全网 = 4 cells before; 最低价 = 6 cells underlined
    assert lines[3] == "    = fix: replace “最低价” with “超低价”"
    # Sorted by line then column: the span-less signature finding (column 1) comes first and
    # underlines the whole message; then the emoji.
    assert lines[4].startswith("copy.txt:2:1: jd-sms-signature [info]")
    assert lines[6] == "    | " + "^" + "~" * (display_width("【店铺】限时😀抢购 a,b:c") - 1)
    assert lines[7].startswith("copy.txt:2:7: jd-sms-emoji (JD-SMS-01) [warning]")
    source, underline = lines[8], lines[9]
    assert source == "  2 | 【店铺】限时😀抢购 a,b:c"
    assert underline == "    | " + " " * display_width("【店铺】限时") + "^~"  # the emoji is two cells
    assert "fix: delete “😀”" in out
    assert lines[-1] == "Found 3 problems (1 error, 1 warning, 1 info)"
    assert "\x1b[" not in out


def test_text_colour_only_when_forced_or_tty(located: list[LocatedFinding]) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    get_formatter("text").write(located, tty)
    assert "\x1b[" in tty.getvalue()
    assert "Found 3 problems" in tty.getvalue()
    assert "\x1b[" not in render("text", located)


def test_text_summary_without_findings() -> None:
    assert render("text", []) == "All checks passed!\n"


def test_json_and_jsonl_parse_back(located: list[LocatedFinding]) -> None:
    data = json.loads(render("json", located))
    assert [d["rule"] for d in data] == ["jd-sms-ad-law", "jd-sms-signature", "jd-sms-emoji"]
    assert data[0]["line"] == 1 and data[0]["column"] == 3 and data[0]["fix"] == "超低价"
    assert data[0]["message"] == "含有广告法禁用词“最低价”"
    lines = render("jsonl", located).splitlines()
    assert [json.loads(line) for line in lines] == data


def test_sarif_validates_against_the_official_schema(located: list[LocatedFinding]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    log = json.loads(render("sarif", located))
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(log, schema)
    run = log["runs"][0]
    assert run["columnKind"] == "unicodeCodePoints"
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["jd-sms-ad-law", "jd-sms-signature", "jd-sms-emoji"]
    assert rules[0]["properties"] == {"ref": "JD-SMS-01", "category": "ad_law"}
    results = run["results"]
    assert [r["level"] for r in results] == ["error", "note", "warning"]
    for result in results:
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        assert result["ruleId"] == rules[result["ruleIndex"]]["id"]
    assert results[0]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 1, "startColumn": 3, "endLine": 1, "endColumn": 6,
    }
    assert results[0]["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"] == "超低价"
    assert "fixes" not in results[1]


def test_sarif_invalid_log_is_rejected_by_the_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": "2.1.0", "runs": [{"results": []}]}, schema)


def test_sarif_uri_for_awkward_paths(located: list[LocatedFinding]) -> None:
    from dataclasses import replace

    from compliance.output.sarif import artifact_uri

    assert artifact_uri("文案/双十一 copy.txt") == "%E6%96%87%E6%A1%88/%E5%8F%8C%E5%8D%81%E4%B8%80%20copy.txt"
    assert artifact_uri("/abs/a.txt") == "file:///abs/a.txt"
    log = json.loads(render("sarif", [replace(located[0], path="文案/a b.txt")]))
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "%E6%96%87%E6%A1%88/a%20b.txt"


def test_github_escaping() -> None:
    assert escape_data("50% off\r\nnext") == "50%25 off%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_github_commands(located: list[LocatedFinding]) -> None:
    from dataclasses import replace

    weird = replace(located[2], path="dir,x/a:b.txt")
    lines = render("github", [located[0], weird]).splitlines()
    assert lines[0] == (
        "::error file=copy.txt,line=1,endLine=1,col=3,endColumn=6,title=jd-sms-ad-law (JD-SMS-01)::"
        "含有广告法禁用词“最低价”%0Afix: “超低价”"
    )
    assert lines[1].startswith("::notice file=dir%2Cx/a%3Ab.txt,line=2,")
    assert ",title=jd-sms-signature::" in lines[1]  # a rule without a catalogue ref: the id alone
    assert lines[1].endswith("::签名: 50%25%0A请核对")


def test_junit_xml_one_case_per_message_and_escaping(located: list[LocatedFinding]) -> None:
    from dataclasses import replace

    nasty = replace(located[0], finding=make(message='<&"控制\x01字符">'))
    context = OutputContext(
        messages=[MessageRef("copy.txt", 0, 1), MessageRef("copy.txt", 1, 2), MessageRef("copy.txt", 2, 3, id="m3")]
    )
    xml = render("junit", [nasty, *located[1:]], context)
    root = ET.fromstring(xml.encode("utf-8"))
    # Three messages, two of them with findings (one has two): two failing test cases.
    assert root.tag == "testsuites" and root.get("tests") == "3" and root.get("failures") == "2"
    cases = root.findall("./testsuite/testcase")
    assert [c.get("name") for c in cases] == ["message 1 (line 1)", "message 2 (line 2)", "message m3 (line 3)"]
    assert [len(c.findall("failure")) for c in cases] == [1, 1, 0]
    failure = cases[0].find("failure")
    assert failure is not None
    assert failure.get("message") == 'jd-sms-ad-law (JD-SMS-01): <&"控制\\x01字符">'
    both = cases[1].find("failure")
    assert both is not None
    assert both.get("message") == "2 problems: jd-sms-signature, jd-sms-emoji (JD-SMS-01)"
    assert both.get("type") == "warning"  # the worst of info and warning
    assert both.text is not None
    assert "copy.txt:2:1: jd-sms-signature [info]" in both.text
    assert "copy.txt:2:7: jd-sms-emoji (JD-SMS-01) [warning] 含有表情符号" in both.text


def _junit_checks(xml: str) -> ET.Element:
    """What JUnit consumers require: the Jenkins xUnit schema, at most one <failure> per test
    case (Ant's schema), and counts that add up (so `failures` never exceeds `tests`)."""
    xmlschema = pytest.importorskip("xmlschema")
    xmlschema.XMLSchema(str(JUNIT_SCHEMA)).validate(xml)
    root = ET.fromstring(xml.encode("utf-8"))
    suites = root.findall("testsuite")
    for suite in suites:
        cases = suite.findall("testcase")
        assert all(len(c.findall("failure")) <= 1 for c in cases)
        assert int(suite.get("tests", "")) == len(cases)
        assert int(suite.get("failures", "")) == sum(1 for c in cases if c.find("failure") is not None)
    assert int(root.get("tests", "")) == sum(int(s.get("tests", "")) for s in suites)
    assert int(root.get("failures", "")) == sum(int(s.get("failures", "")) for s in suites)
    assert int(root.get("failures", "")) <= int(root.get("tests", ""))
    return root


def test_junit_validates_and_never_counts_more_failures_than_tests(tmp_path: Path) -> None:
    """One message with five findings was ``tests="3" failures="5"`` with five <failure> in one
    test case; consumers reject or miscount that."""
    path = tmp_path / "copy.txt"
    path.write_text("全网最低价！！第一\n新品到店\n欢迎光临\n", encoding="utf-8")
    messages = read_copy_file(path).messages
    five = [locate(make(f"rule-{k}", field="text", start=k, end=k + 1), messages[0], "copy.txt") for k in range(5)]
    outside = LocatedFinding(make("unused-suppression", "warning", ref=None), "copy.txt", 4, 1, 4, 5)
    context = OutputContext(messages=[MessageRef("copy.txt", m.index, m.line) for m in messages])
    root = _junit_checks(render("junit", [*five, outside], context))
    assert (root.get("tests"), root.get("failures")) == ("4", "2")
    names = [c.get("name") for c in root.iter("testcase")]
    assert names == ["message 1 (line 1)", "message 2 (line 2)", "message 3 (line 3)", "line 4"]
    assert len(set(names)) == len(names)  # GitLab keeps only the first of two cases of one name
    _junit_checks(render("junit", [], context))


def test_junit_of_the_shared_fixture_validates(located: list[LocatedFinding]) -> None:
    _junit_checks(render("junit", located))


def test_junit_schema_check_rejects_what_consumers_reject() -> None:
    """The checks above can fail: the old shape (file/line attributes) is refused by the schema."""
    xmlschema = pytest.importorskip("xmlschema")
    old = ('<testsuites><testsuite name="a" tests="1" failures="2" errors="0">'
           '<testcase classname="a" name="m" file="a" line="1"><failure/><failure/></testcase>'
           '</testsuite></testsuites>')
    assert not xmlschema.XMLSchema(str(JUNIT_SCHEMA)).is_valid(old)


def test_sarif_carries_the_catalogue_ref_on_the_rule_and_each_result(located: list[LocatedFinding]) -> None:
    log = json.loads(render("sarif", located))
    run = log["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["jd-sms-ad-law"]["properties"]["ref"] == "JD-SMS-01"
    assert rules["jd-sms-signature"]["properties"]["ref"] is None
    assert [r["properties"]["ref"] for r in run["results"]] == ["JD-SMS-01", None, "JD-SMS-01"]


def test_text_shows_a_window_of_a_long_line_and_escapes_hidden_characters(tmp_path: Path) -> None:
    """A 1 MB line prints one screen, and a bidi override in the copy cannot reorder the
    terminal line that quotes it; the caret still sits under the span."""
    path = tmp_path / "copy.txt"
    text = "好" * 500_000 + "最\u202e低价" + "好" * 500_000
    path.write_text(text + "\n", encoding="utf-8")
    message = read_copy_file(path).messages[0]
    item = locate(make(field="text", start=500_000, end=500_004, message="含有“最\u202e低价”"), message, "copy.txt")
    out = render("text", [item])
    assert len(out) < 2_000
    source, caret = out.splitlines()[1:3]
    assert "\u202e" not in out and "最\\u202e低价" in source
    assert source.count("…") == 2
    column = display_width(source[: source.index("最")])
    assert caret.index("^") == column and caret.count("~") == display_width("最\\u202e低价") - 1
