"""A fresh venv holding nothing but one built distribution of compliance (and its run-time
dependencies) runs the README's examples: the platform wheel as the compiled build, the
sdist as pure Python, built without a compiler.

`make test-wheel` builds both (`make dist`) and names them in COMPLIANCE_WHEEL and
COMPLIANCE_SDIST; elsewhere these tests are skipped. Each installs into a new venv (from pip's
cache or PyPI), so they are slow.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from compliance import build

README = Path(__file__).resolve().parents[1] / "README.md"
WHEEL = os.environ.get("COMPLIANCE_WHEEL", "")
SDIST = os.environ.get("COMPLIANCE_SDIST", "")

# The README's first embedding example (copy and frequency), printed as JSON to compare with
# the same calls made here, on the build under test.
EMBEDDING = r'''
import json, sys
import compliance

engine = compliance.Engine()
report = engine.lint(sys.argv[1], channel="jd.sms")
ledger = engine.ledger("sqlite:///ledger.db")
send = {"channel": "jd.sms", "message_class": "marketing", "merchant": "A",
        "recipient": "13800000000", "at": "2026-11-24T09:00:00"}
decisions = [ledger.reserve(dict(send, at=f"2026-11-24T{9 + i:02d}:00:00")) for i in range(4)]
print(json.dumps({
    "ok": report.ok,
    "findings": [(f.rule, f.ref, f.field, f.start, f.end, f.fix) for f in report.findings],
    "decisions": [(d.allowed, [f.ref for f in d.violations]) for d in decisions],
}, ensure_ascii=False))
'''


def readme_block(marker: str) -> str:
    """The body of the first fenced block of README.md that contains ``marker``."""
    text = README.read_text(encoding="utf-8")
    for i, block in enumerate(text.split("```")):
        if i % 2 and marker in block:
            return block.split("\n", 1)[1]
    raise AssertionError(f"README.md has no code block with {marker!r}")


def readme_message() -> str:
    """The message of the README's first `engine.lint` example."""
    line = next(line for line in readme_block("engine.lint(").splitlines() if "engine.lint(\"" in line)
    return line.split('engine.lint("', 1)[1].split('"', 1)[0]


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "COMPLIANCE_EXPECT_COMPILED", "VIRTUAL_ENV", "COMPLIANCE_MYPYC")}
    env["COMPLIANCE_CACHE_DIR"] = str(tmp_path / "cache")
    env.update(extra)
    return env


def fresh_venv(tmp_path: Path, distribution: str, **build_env: str) -> Path:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", distribution],
                   check=True, env=clean_env(tmp_path, **build_env), cwd=tmp_path)
    return venv


def run(venv: Path, tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(venv / "bin" / args[0]), *args[1:]], capture_output=True, text=True,
                          input=stdin, env=clean_env(tmp_path), cwd=tmp_path, timeout=300)


def smoke(venv: Path, tmp_path: Path, engine, expected_build: str) -> None:
    """The README's examples, run from a directory outside the source tree."""
    version = run(venv, tmp_path, "compliance", "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"compliance 0.1.0, {expected_build}"
    where = run(venv, tmp_path, "python", "-c", "import compliance; print(compliance.__file__)")
    assert Path(where.stdout.strip()).is_relative_to(venv), where

    # Embedding: the same findings and decisions as the build this test runs on.
    message = readme_message()
    (tmp_path / "embedding.py").write_text(EMBEDDING, encoding="utf-8")
    result = run(venv, tmp_path, "python", "embedding.py", message)
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    report = engine.lint(message, channel="jd.sms")
    assert got["ok"] is report.ok is False
    assert got["findings"] == [[f.rule, f.ref, f.field, f.start, f.end, f.fix] for f in report.findings]
    ledger = engine.ledger("memory://")
    send = {"channel": "jd.sms", "message_class": "marketing", "merchant": "A", "recipient": "13800000000"}
    expected = [ledger.reserve(dict(send, at=f"2026-11-24T{9 + i:02d}:00:00")) for i in range(4)]
    assert got["decisions"] == [[d.allowed, [f.ref for f in d.violations]] for d in expected]
    assert got["decisions"][0] == [True, []] and not got["decisions"][1][0]  # JD-SMS-20: once per merchant

    # CLI: lint a file and standard input, as the README shows.
    stdin_line = next(line for line in readme_block("compliance lint --channel jd.sms -").splitlines()
                      if line.startswith("echo "))
    text = stdin_line.split("'", 2)[1]
    (tmp_path / "sms.txt").write_text(text + "\n", encoding="utf-8")
    for args, stdin in ((("sms.txt",), None), (("-",), text + "\n")):
        linted = run(venv, tmp_path, "compliance", "lint", "--channel", "jd.sms", *args, stdin=stdin)
        assert linted.returncode == 1, (linted.stdout, linted.stderr)  # 1: findings
        assert "copy-ad-law" in linted.stdout and "JD-SMS-13" in linted.stdout

    # Writing rules: the README's pack checks, and its embedded examples pass.
    (tmp_path / "my_shop.rules").write_text(readme_block("pack my_shop.sms {"), encoding="utf-8")
    for command in ("check", "test"):
        done = run(venv, tmp_path, "compliance", command, "my_shop.rules")
        assert done.returncode == 0, (command, done.stdout, done.stderr)

    demo = run(venv, tmp_path, "compliance", "demo")
    assert demo.returncode == 0, (demo.stdout, demo.stderr)


@pytest.mark.slow
@pytest.mark.skipif(not WHEEL, reason="COMPLIANCE_WHEEL names no platform wheel (`make test-wheel` sets it)")
def test_the_platform_wheel_alone_runs_the_readme_examples_compiled(tmp_path: Path, engine) -> None:
    assert not build.wheel_problems(WHEEL, compiled=True)
    venv = fresh_venv(tmp_path, WHEEL)
    n = len(build.HOT_PATH)
    smoke(venv, tmp_path, engine, f"hot path compiled by mypyc ({n} of {n} modules)")


@pytest.mark.slow
@pytest.mark.skipif(not SDIST, reason="COMPLIANCE_SDIST names no sdist (`make test-wheel` sets it)")
def test_the_sdist_installs_pure_python_without_a_compiler(tmp_path: Path, engine) -> None:
    # CC=false: any attempt to compile C while building from the sdist fails the install.
    venv = fresh_venv(tmp_path, SDIST, CC="false", CXX="false")
    found = list((venv / "lib").rglob("compliance/**/*.so"))
    assert found == []
    smoke(venv, tmp_path, engine, "pure Python")
