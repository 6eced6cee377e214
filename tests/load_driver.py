"""`benchmarks/load_http.py` as a module for the tests: its `running_server` and `run_load` are
what the server tests start and drive a real uvicorn process with."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def _load() -> ModuleType:
    existing = sys.modules.get("load_http")
    if existing is not None:
        return existing
    spec = importlib.util.spec_from_file_location(
        "load_http", Path(__file__).resolve().parents[1] / "benchmarks" / "load_http.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["load_http"] = module
    spec.loader.exec_module(module)
    return module


load_http = _load()
