"""compliance: decide whether a Chinese marketing message may be sent.

    import compliance
    engine = compliance.Engine()
    decision = engine.eligibility(facts, channel="jd.message_box")

Heavy modules load on first use, so `import compliance` stays cheap for a pre-commit hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "Engine": ("compliance.engine", "Engine"),
    "EligibilityDecision": ("compliance.engine", "EligibilityDecision"),
    "AudienceResult": ("compliance.engine", "AudienceResult"),
    "ScheduleDecision": ("compliance.engine", "ScheduleDecision"),
    "LintReport": ("compliance.analyzer.lint", "LintReport"),
    "Send": ("compliance.frequency", "Send"),
    "Ledger": ("compliance.frequency", "Ledger"),
    "Decision": ("compliance.frequency", "Decision"),
    "LedgerError": ("compliance.frequency", "LedgerError"),
    "Finding": ("compliance.findings", "Finding"),
    "CATEGORIES": ("compliance.findings", "CATEGORIES"),
    "ComplianceError": ("compliance.errors", "ComplianceError"),
    "RulesError": ("compliance.errors", "RulesError"),
    "FactError": ("compliance.errors", "FactError"),
    "EvaluationError": ("compliance.errors", "EvaluationError"),
    "UnknownChannelError": ("compliance.errors", "UnknownChannelError"),
}

__all__ = sorted(_LAZY) + ["__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from compliance.engine import AudienceResult, EligibilityDecision, Engine, ScheduleDecision  # noqa: F401
    from compliance.frequency import Decision, Ledger, LedgerError, Send  # noqa: F401
    from compliance.analyzer.lint import LintReport  # noqa: F401
    from compliance.errors import (  # noqa: F401
        ComplianceError,
        EvaluationError,
        FactError,
        RulesError,
        UnknownChannelError,
    )
    from compliance.findings import CATEGORIES, Finding  # noqa: F401


def __getattr__(name: str) -> Any:
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'compliance' has no attribute {name!r}") from None
    import importlib

    value = getattr(importlib.import_module(module_name), attribute)
    globals()[name] = value
    return value
