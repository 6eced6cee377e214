"""Which build of compliance is running: pure Python, or the hot path compiled by mypyc.

The compiled build (``COMPLIANCE_MYPYC=1 pip install .``, see setup.py and the README) turns
the modules in `HOT_PATH` into C extensions, from the same source; everything else stays
Python. `compiled_modules` tells which of them really are extensions in this process, so a
benchmark or a bug report can say what it measured. Kept free of imports beyond the standard
library: setup.py reads `HOT_PATH` from this file before compliance is installed.
"""

from __future__ import annotations

import importlib.util
from importlib.machinery import EXTENSION_SUFFIXES

__all__ = ["EXTENSION_SUFFIXES", "HOT_PATH", "compiled_modules", "describe"]

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
