"""How hard the fuzz targets try.

CI runs a short, derandomized budget (the same cases every run, so a landing is never decided by
luck); ``make fuzz`` runs a long random one. Set ``COMPLIANCE_FUZZ_EXAMPLES`` to choose the number
of cases per target yourself.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

#: Cases per hypothesis target: 200 by default (CI), 20,000 under `make fuzz`.
FUZZ_EXAMPLES = int(os.environ.get("COMPLIANCE_FUZZ_EXAMPLES", "200"))

#: Long mode explores new random cases each run; the default is repeatable.
LONG_MODE = "COMPLIANCE_FUZZ_EXAMPLES" in os.environ


def fuzz_settings(**overrides: object) -> settings:
    """hypothesis settings for a fuzz target: the budget above, no deadline, no slow-data check."""
    options: dict[str, object] = {
        "max_examples": FUZZ_EXAMPLES,
        "deadline": None,
        "derandomize": not LONG_MODE,
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large,
                                  HealthCheck.filter_too_much],
    }
    options.update(overrides)
    return settings(**options)  # type: ignore[arg-type]


def require_atheris() -> None:
    """Skip an atheris test where atheris is not installed (it ships wheels for Linux x86_64
    only); in CI, which runs on such a machine, its absence is a failure instead."""
    import importlib.util

    import pytest

    if importlib.util.find_spec("atheris") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("atheris is not installed; CI must run the atheris harnesses (make test)")
        pytest.skip("atheris not installed (Linux x86_64 wheels only)")
