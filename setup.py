"""Build script: pure Python by default; ``COMPLIANCE_MYPYC=1`` compiles the hot path.

Everything about the package lives in ``pyproject.toml``; this file only adds the optional
compiled build. With ``COMPLIANCE_MYPYC=1`` the modules in ``compliance.build.HOT_PATH`` (the lint hot path:
normalizer, matcher, scanners, lint pipeline) are compiled to C extensions by mypyc, from the
very same source: the Python files stay the reference implementation, and the test suite runs
against both builds (`make test`). A compiled build lints about 1.5x faster
(docs/BENCHMARKS.md). It needs a C compiler and the Python headers; mypy is fetched for the
build (it is not a run-time dependency).

Editable installs (``pip install -e .``) are never compiled: a compiled module next to its
source would silently shadow every edit of that source.
"""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

from setuptools import setup


def _hot_path() -> list[str]:
    """The source files of `compliance.build.HOT_PATH` (read without importing compliance)."""
    namespace = runpy.run_path(str(Path(__file__).parent / "compliance" / "build.py"))
    return [name.replace(".", "/") + ".py" for name in namespace["HOT_PATH"]]


def _compiled() -> bool:
    wanted = os.environ.get("COMPLIANCE_MYPYC", "").strip().lower() in {"1", "true", "yes"}
    return wanted and "editable_wheel" not in sys.argv


if _compiled():
    try:
        from mypyc.build import mypycify
    except ImportError:
        # setuptools' build backend first runs this file to collect `setup_requires` (the
        # build's extra requirements); mypy is installed for the second run.
        setup(setup_requires=["mypy>=1.11"])
    else:
        setup(setup_requires=["mypy>=1.11"], ext_modules=mypycify(_hot_path(), opt_level="3"))
else:
    setup()
