"""Shared fixtures: an engine over the built-in packs, and an isolated compiled-pack cache."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

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


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local[2] SparkSession for every Spark test (the JVM starts once, ≈10 s).

    Skipped when pyspark/pandas (the ``spark`` extra) or a Java runtime (``java`` on PATH or
    JAVA_HOME; Debian: ``apt-get install default-jre-headless``) is missing — except in CI
    (``CI`` set), where a missing Java fails: the Spark tests must not silently not run there.
    """
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    pytest.importorskip("pandas", reason="PySpark's mapInArrow needs pandas (the spark extra installs it)")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        if os.environ.get("CI"):
            pytest.fail("no Java runtime for Spark in CI: `make test` installs default-jre-headless")
        pytest.skip("no Java runtime for Spark")
    from pyspark.sql import SparkSession

    # Workers must run this interpreter, which has compliance installed.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (SparkSession.builder.master("local[2]").appName("compliance-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.default.parallelism", "2")
               .config("spark.driver.memory", "1g")
               .config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.driver.host", "127.0.0.1")
               .config("spark.python.worker.reuse", "true")
               .config("spark.sql.session.timeZone", "Asia/Shanghai")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
