"""The command line: exit codes, error output and listings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from compliance.cli import main

ROOT = Path(__file__).resolve().parent.parent
ELIGIBILITY_REFS = ["JD-SMS-01", "JD-SMS-02", "JD-SMS-03", "JD-MB-01", "JD-MB-02", "JD-MB-03", "JD-MB-04",
                    "WX-01", "WX-02", "WX-06", "WX-08", "WX-09", "TB-01", "TB-03", "TB-04", "TB-07"]
AUDIENCE_REFS = ["TB-06", "GT-01", "GT-02", "JD-MB-10"]


def test_check_misspelt_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.rules"
    bad.write_text("pack bad {\n  extends jd.message_box\n  eligibility bad-fans {\n    require shop.fanz >= 5w\n  }\n}\n",
                   encoding="utf-8")
    assert main(["check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:4:13: error: unknown field shop.fanz" in err
    assert "4 |     require shop.fanz >= 5w" in err
    assert "  |             ^^^^^^^^^" in err
    assert "did you mean shop.fans?" in err


def test_check_clean_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(ROOT / "compliance" / "examples" / "rules" / "my_shop.rules")]) == 0
    assert "ok: 1 file(s), 1 pack(s), 1 rule(s)" in capsys.readouterr().out


def test_check_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "/nonexistent.rules"]) == 2


def test_rules_json_lists_every_eligibility_and_audience_ref(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--format", "json"]) == 0
    rules = json.loads(capsys.readouterr().out)
    by_ref: dict[str, list[str]] = {}
    for rule in rules:
        for ref in rule["refs"]:
            by_ref.setdefault(ref, []).append(rule["id"])
    for ref in ELIGIBILITY_REFS + AUDIENCE_REFS:
        assert by_ref.get(ref), f"{ref} has no rule"
    assert all(r["id"] and r["kind"] and r["source"] for r in rules)


def test_compile_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", "--show", "jd.message_box"]) == 0
    assert "def eligibility(facts):" in capsys.readouterr().out


def test_test_command_runs_builtin_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test"]) == 0
    assert " passed, 0 failed" in capsys.readouterr().out


def test_rule_explains(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rule", "tb-recall-level"]) == 0
    out = capsys.readouterr().out
    assert "tier level2 (TB-04)" in out and "quota = 100000" in out
    assert main(["rule", "jd-mb-fanz"]) == 2
    assert "did you mean jd-mb-fans?" in capsys.readouterr().err


def test_eligibility_command_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    facts = ROOT / "compliance" / "examples" / "facts"
    assert main(["eligibility", str(facts / "jd_message_box_eligible.json"), "--channel", "jd.message_box"]) == 0
    assert main(["eligibility", str(facts / "jd_message_box_small_shop.json"), "--channel", "jd.message_box",
                 "--format", "json"]) == 1
    out = capsys.readouterr().out
    assert '"JD-MB-01"' in out


def test_python_dash_m_entry_point() -> None:
    result = subprocess.run([sys.executable, "-m", "compliance", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and "compliance" in result.stdout


def test_demo_runs_on_the_bundled_examples(capsys: pytest.CaptureFixture[str]) -> None:
    """`compliance demo` (what `make demo` runs) finds the examples shipped in the package."""
    from compliance.cli.demo import EXAMPLES

    assert (EXAMPLES / "facts" / "jd_message_box_eligible.json").is_file()
    assert main(["demo"]) == 0
    assert "JD message box" in capsys.readouterr().out
