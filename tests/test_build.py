"""The two builds: pure Python (the editable source install) and the mypyc-compiled hot path.

`make test` runs the whole suite twice: on the source, then on the compiled build with
COMPLIANCE_EXPECT_COMPILED=1 (conftest refuses to start unless every hot-path module is a
C extension). These tests check what tells the two apart.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from compliance import build

COMPILED_RUN = os.environ.get("COMPLIANCE_EXPECT_COMPILED") == "1"


def test_every_hot_path_module_exists_as_python_source() -> None:
    # setup.py compiles these files; a renamed module must not silently drop out of the build.
    for name in build.HOT_PATH:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin, name
        source = Path(spec.origin).with_name(name.rsplit(".", 1)[1] + ".py")
        assert source.is_file(), source


def test_this_run_reports_the_build_it_runs_on() -> None:
    compiled = build.compiled_modules()
    if COMPILED_RUN:
        assert compiled == list(build.HOT_PATH)
        assert build.describe() == f"hot path compiled by mypyc ({len(compiled)} of {len(compiled)} modules)"
    else:
        assert compiled == []
        assert build.describe() == "pure Python"


def test_version_names_the_build() -> None:
    result = subprocess.run([sys.executable, "-c", "from compliance.cli import main; main(['--version'])"],
                            capture_output=True, text=True, cwd=Path(__file__).parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("compliance ") and build.describe() in result.stdout


def test_only_the_hot_path_is_compiled() -> None:
    # A stale extension (say, from an earlier build with another module list) would shadow
    # its up-to-date Python source without anybody noticing.
    import compliance

    package = Path(compliance.__file__).parent
    found = sorted({
        ".".join(("compliance", *path.relative_to(package).with_suffix("").with_suffix("").parts))
        for suffix in build.EXTENSION_SUFFIXES for path in package.rglob(f"*{suffix}")
    })
    assert found == (sorted(build.HOT_PATH) if COMPILED_RUN else [])
