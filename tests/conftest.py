"""Shared fixtures: an engine over the built-in packs, and an isolated compiled-pack cache."""

from __future__ import annotations

import os
import tempfile

import pytest

# Tests never read or write the user's cache; each session gets its own directory.
os.environ.setdefault("COMPLIANCE_CACHE_DIR", tempfile.mkdtemp(prefix="compliance-test-cache-"))


def pytest_configure(config: pytest.Config) -> None:
    """With COMPLIANCE_EXPECT_COMPILED=1 (`make test` runs the suite again on the compiled
    build), refuse to run unless every hot-path module really is compiled: a run that
    silently imported the Python source would prove nothing about the compiled build."""
    if os.environ.get("COMPLIANCE_EXPECT_COMPILED") == "1":
        from compliance.build import HOT_PATH, compiled_modules

        missing = sorted(set(HOT_PATH) - set(compiled_modules()))
        if missing:
            raise pytest.UsageError(f"COMPLIANCE_EXPECT_COMPILED=1 but these modules are not compiled: {missing}")


@pytest.fixture(scope="session")
def engine():
    from compliance.engine import Engine

    return Engine()
