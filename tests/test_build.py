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


def test_the_compiled_run_imports_the_installed_platform_wheel() -> None:
    """`make test-wheel` runs the suite on the platform wheel installed in a venv of its own:
    the package must come from that venv's site-packages, never from the source tree that
    pytest runs in, and be the installed distribution of a platform (not pure) wheel."""
    import sysconfig
    from importlib.metadata import distribution

    import compliance

    if not COMPILED_RUN:
        return
    package = Path(compliance.__file__).resolve().parent
    site = {Path(sysconfig.get_paths()[k]).resolve() for k in ("purelib", "platlib")}
    assert any(package.is_relative_to(s) for s in site), (package, site)
    assert package != Path(__file__).resolve().parents[1] / "compliance"  # not the source tree
    wheel = distribution("compliance").read_text("WHEEL") or ""
    assert "Root-Is-Purelib: false" in wheel
    assert f"Tag: cp{sys.version_info.major}{sys.version_info.minor}-" in wheel
    # So does a `python -c` child started in the checkout (`make test-wheel` sets PYTHONSAFEPATH).
    child = subprocess.run([sys.executable, "-c", "import compliance; print(compliance.__file__)"],
                           capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1])
    assert Path(child.stdout.strip()).resolve().parent == package


# -- the wheel checks `make dist` runs ---------------------------------------------------------


def _wheel(tmp_path: Path, name: str, files: list[str], *, purelib: bool) -> Path:
    import zipfile

    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as archive:
        for file in [*build.WHEEL_DATA, *files]:
            archive.writestr(file, "")
        archive.writestr("compliance-0.1.0.dist-info/WHEEL",
                         f"Wheel-Version: 1.0\nRoot-Is-Purelib: {'true' if purelib else 'false'}\n")
        archive.writestr("compliance-0.1.0.dist-info/entry_points.txt",
                         "[console_scripts]\ncompliance = compliance.cli:main\n")
    return path


def test_a_pure_wheel_passes_only_without_extensions(tmp_path: Path) -> None:
    good = _wheel(tmp_path, "compliance-0.1.0-py3-none-any.whl", ["compliance/analyzer/lint.py"], purelib=True)
    assert build.wheel_problems(good, compiled=False) == []
    (tmp_path / "bad").mkdir()
    bad = _wheel(tmp_path / "bad", "compliance-0.1.0-py3-none-any.whl",
                 ["compliance/lint.cpython-311-x86_64-linux-gnu.so"], purelib=True)
    assert any("extension modules" in p for p in build.wheel_problems(bad, compiled=False))
    # A pure wheel is not a compiled one.
    assert build.wheel_problems(good, compiled=True)


def test_a_platform_wheel_needs_its_tag_and_every_hot_path_extension(tmp_path: Path) -> None:
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    name = f"compliance-0.1.0-{tag}-{tag}-linux_x86_64.whl"
    extensions = [m.replace(".", "/") + f".{tag}-x86_64-linux-gnu.so" for m in build.HOT_PATH]
    good = _wheel(tmp_path, name, ["abc__mypyc.so", *extensions], purelib=False)
    assert build.wheel_problems(good, compiled=True) == []
    (tmp_path / "short").mkdir()
    short = _wheel(tmp_path / "short", name, extensions[1:], purelib=False)
    assert build.wheel_problems(short, compiled=True) == [f"{name}: no compiled extension for {build.HOT_PATH[0]}"]
    (tmp_path / "any").mkdir()
    mistagged = _wheel(tmp_path / "any", "compliance-0.1.0-py3-none-any.whl", extensions, purelib=True)
    problems = build.wheel_problems(mistagged, compiled=True)
    assert any("expected a platform tag" in p for p in problems) and any("Root-Is-Purelib" in p for p in problems)
    (tmp_path / "data").mkdir()
    import zipfile

    with zipfile.ZipFile(good) as src, zipfile.ZipFile(tmp_path / "data" / name, "w") as dst:
        for item in src.namelist():
            if item != "compliance/rules/jd_sms.rules":
                dst.writestr(item, src.read(item))
    assert any("missing ['compliance/rules/jd_sms.rules']" in p
               for p in build.wheel_problems(tmp_path / "data" / name, compiled=True))
