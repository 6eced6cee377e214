"""How the CLI prints an eligibility decision (``compliance eligibility`` and ``compliance demo``)."""

from __future__ import annotations

from typing import Any


def print_decision(decision: Any, label: str = "") -> None:
    """Print ``decision``: the verdict, then each unmet rule with its explanation."""
    verdict = "eligible" if decision.eligible else "NOT eligible"
    print(f"{label}{decision.channel}: {verdict}" + (f"  grants {decision.grants}" if decision.grants else ""))
    for finding in decision.unmet:
        print(f"  {finding.rule} ({finding.ref}) [{finding.severity}] {finding.message}")
        for line in finding.explanation:
            print(f"      because {line}")
