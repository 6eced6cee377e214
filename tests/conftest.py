"""Shared fixtures: an engine over the built-in packs, and an isolated compiled-pack cache."""

from __future__ import annotations

import os
import tempfile

import pytest

# Tests never read or write the user's cache; each session gets its own directory.
os.environ.setdefault("COMPLIANCE_CACHE_DIR", tempfile.mkdtemp(prefix="compliance-test-cache-"))


@pytest.fixture(scope="session")
def engine():
    from compliance.engine import Engine

    return Engine()
