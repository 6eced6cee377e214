"""Load a script of ``benchmarks/`` as a module, for tests that drive its ``main``."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def load_script(name: str) -> ModuleType:
    """``benchmarks/<name>.py`` as a fresh module (not imported as ``benchmarks.<name>``)."""
    spec = importlib.util.spec_from_file_location(f"_accuracy_{name}", ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
