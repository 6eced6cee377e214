"""Which build of compliance is running: pure Python, or the hot path compiled by mypyc.

The compiled build (``COMPLIANCE_MYPYC=1 pip install .``, see setup.py and the README) turns
the modules in `HOT_PATH` into C extensions, from the same source; everything else stays
Python. `compiled_modules` tells which of them really are extensions in this process, so a
benchmark or a bug report can say what it measured. Kept free of imports beyond the standard
library: setup.py reads `HOT_PATH` from this file before compliance is installed.
"""

from __future__ import annotations

import importlib.util
import sys
import zipfile
from collections.abc import Sequence
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

__all__ = ["EXTENSION_SUFFIXES", "HOT_PATH", "compiled_modules", "describe", "wheel_problems"]

#: The modules the compiled build compiles: what every lint runs (measured with
#: benchmarks/lint_breakdown.py). Modules that import pydantic, lark or the CLI stay Python.
HOT_PATH: tuple[str, ...] = (
    "compliance.analyzer.normalize",
    "compliance.analyzer.matcher",
    "compliance.analyzer.primitives",
    "compliance.analyzer.scanners.contact",
    "compliance.analyzer.scanners.length",
    "compliance.analyzer.scanners.punctuation",
    "compliance.analyzer.scanners.symbols",
    "compliance.analyzer.scanners.template",
    "compliance.custom_lexicons",
    "compliance.lint",
)


def compiled_modules() -> list[str]:
    """The modules of `HOT_PATH` that load from a C extension (empty for a pure build)."""
    compiled = []
    for name in HOT_PATH:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin and spec.origin.endswith(tuple(EXTENSION_SUFFIXES)):
            compiled.append(name)
    return compiled


def describe() -> str:
    """``"pure Python"``, or ``"hot path compiled by mypyc (N of M modules)"``."""
    compiled = compiled_modules()
    if not compiled:
        return "pure Python"
    return f"hot path compiled by mypyc ({len(compiled)} of {len(HOT_PATH)} modules)"


#: Files every distribution must carry besides the Python modules (package data, setup.py's
#: `HOT_PATH` source): one of each kind that pyproject.toml's package-data lists.
WHEEL_DATA: tuple[str, ...] = (
    "compliance/build.py",
    "compliance/grammar/rules.lark",
    "compliance/rules/jd_sms.rules",
    "compliance/lexicons/ad_law.toml",
    "compliance/frequency/reserve.lua",
    "compliance/examples/rules/my_shop.rules",
    "compliance/examples/facts/taobao_recall.json",
    "compliance/server/static/index.html",
    "compliance/server/static/page.js",
    "compliance/server/static/page.css",
)


def wheel_problems(path: str | Path, *, compiled: bool) -> list[str]:
    """What is wrong with a built wheel of compliance (empty when nothing is).

    A pure wheel (``compiled=False``) is tagged ``py3-none-any``, says ``Root-Is-Purelib:
    true`` and holds no extension module. A platform wheel is tagged for this interpreter
    (``cp311-cp311-linux_x86_64`` on CPython 3.11, Linux x86-64), says ``Root-Is-Purelib:
    false`` and holds an extension of every `HOT_PATH` module. Both carry the package data
    and the ``compliance`` command.
    """
    path = Path(path)
    problems: list[str] = []
    stem = path.name[:-len(".whl")] if path.name.endswith(".whl") else path.name
    parts = stem.split("-")
    if len(parts) < 5 or parts[0] != "compliance":
        return [f"{path.name}: not a wheel file name of compliance (name-version-python-abi-platform.whl)"]
    python, abi, platform = parts[-3:]
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            info = next((n for n in names if n.endswith(".dist-info/WHEEL")), None)
            wheel = archive.read(info).decode("utf-8") if info else ""
            entry_points = next((n for n in names if n.endswith(".dist-info/entry_points.txt")), None)
            scripts = archive.read(entry_points).decode("utf-8") if entry_points else ""
    except (OSError, zipfile.BadZipFile) as exc:
        return [f"{path}: cannot read the wheel: {exc}"]
    extensions = sorted(n for n in names if n.endswith((".so", ".pyd")))
    purelib = "Root-Is-Purelib: true" in wheel
    if compiled:
        expected_python = f"cp{sys.version_info.major}{sys.version_info.minor}"
        if python != expected_python or abi == "none" or platform == "any":
            problems.append(f"{path.name}: tagged {python}-{abi}-{platform}, expected a platform "
                            f"tag for this interpreter ({expected_python}-…-<platform>)")
        if purelib:
            problems.append(f"{path.name}: WHEEL says Root-Is-Purelib: true for a compiled build")
        for module in HOT_PATH:
            stem_path = module.replace(".", "/")
            if not any(n.startswith(stem_path + ".") and n.endswith((".so", ".pyd")) for n in extensions):
                problems.append(f"{path.name}: no compiled extension for {module}")
        stray = [n for n in extensions if n.startswith("compliance/")
                 and n.split(".", 1)[0].replace("/", ".") not in HOT_PATH]
        if stray:
            problems.append(f"{path.name}: extensions outside the hot path: {stray}")
    else:
        if (python, abi, platform) != ("py3", "none", "any"):
            problems.append(f"{path.name}: tagged {python}-{abi}-{platform}, expected py3-none-any")
        if not purelib:
            problems.append(f"{path.name}: WHEEL does not say Root-Is-Purelib: true")
        if extensions:
            problems.append(f"{path.name}: a pure wheel holds extension modules: {extensions}")
    missing = [n for n in WHEEL_DATA if n not in names]
    if missing:
        problems.append(f"{path.name}: missing {missing}")
    if "compliance = compliance.cli:main" not in scripts:
        problems.append(f"{path.name}: no `compliance` console script in entry_points.txt")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m compliance.build check-wheel (--pure|--compiled) WHEEL...`` (make dist)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 3 or args[0] != "check-wheel" or args[1] not in ("--pure", "--compiled"):
        print("usage: python -m compliance.build check-wheel (--pure|--compiled) WHEEL...", file=sys.stderr)
        return 2
    compiled = args[1] == "--compiled"
    failed = False
    for wheel in args[2:]:
        problems = wheel_problems(wheel, compiled=compiled)
        for problem in problems:
            print(problem, file=sys.stderr)
        failed = failed or bool(problems)
        if not problems:
            size = Path(wheel).stat().st_size
            print(f"{Path(wheel).name}: ok ({'compiled' if compiled else 'pure'}, {size / 1e6:.2f} MB)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
