"""Benchmarks share one engine and a ratio report printed at the end of the run."""

from __future__ import annotations

import pytest

RESULTS: dict[str, float] = {}


@pytest.fixture(scope="session")
def engine():
    from compliance.engine import Engine

    return Engine()


def record(name: str, benchmark) -> None:
    """Keep the median of a finished benchmark for the ratio checks."""
    RESULTS[name] = benchmark.stats.stats.median


def pytest_terminal_summary(terminalreporter) -> None:
    if RESULTS:
        terminalreporter.section("medians (seconds)")
        for name, value in sorted(RESULTS.items()):
            terminalreporter.write_line(f"{name:40} {value:.9f}")
