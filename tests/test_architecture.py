"""The layer contract of docs/architecture.md (pyproject.toml's [tool.importlinter]).

`make test` runs ``lint-imports`` too; this test makes a broken layer fail the suite itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("importlinter", reason="import-linter is in the [dev] extra")

ROOT = Path(__file__).resolve().parent.parent


def _lint(config: Path) -> tuple[bool, str]:
    """Whether every contract of ``config`` is kept, and lint-imports' report. In a child
    process: lint-imports reconfigures logging (which would silence this run's loggers). Debug
    mode: an error raises (exit status 1 with a traceback), it is not a broken contract."""
    code = ("import sys; from importlinter.cli import lint_imports; "
            f"sys.exit(lint_imports(config_filename={str(config)!r}, no_cache=True, no_logo=True, is_debug_mode=True))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in run.stderr, run.stderr
    return run.returncode == 0, run.stdout


def test_the_layer_contract_is_kept() -> None:
    kept, report = _lint(ROOT / "pyproject.toml")
    assert kept, report


def test_an_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    """The contract is checked at all: with the layers upside down (the grammar on top), the
    real imports of the engine and the compiler break it."""
    config = tmp_path / "upside_down.ini"
    config.write_text("[importlinter]\nroot_package = compliance\n\n"
                      "[importlinter:contract:upside-down]\nname = upside down\ntype = layers\n"
                      "layers =\n    compliance.grammar\n    compliance.checker\n    compliance.compiler\n    compliance.engine\n")
    kept, report = _lint(config)
    assert not kept
    assert "upside down BROKEN" in report and "compliance.engine" in report
