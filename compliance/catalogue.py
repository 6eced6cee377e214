"""The rule catalogue of the built-in packs, as Markdown (docs/CATALOGUE.md).

Regenerate with ``python -m compliance.catalogue > docs/CATALOGUE.md``; a test fails when the
file is out of date, so the published catalogue always says what the packs do.
"""

from __future__ import annotations

from compliance.engine import Engine, RuleInfo

KIND_ORDER = {"eligibility": 0, "audience": 1, "copy": 2, "frequency": 3, "schedule": 4}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_markdown(engine: Engine) -> str:
    """Every rule in force, grouped by the pack that defines it, with refs and channels."""
    rules = sorted(engine.rules(), key=lambda r: (r.pack, KIND_ORDER.get(r.kind, 9), r.line))
    out = [
        "# Rule catalogue",
        "",
        "Generated from the built-in packs by `python -m compliance.catalogue`; do not edit.",
        "`compliance rule ID` shows one rule with its explanation and examples.",
        "",
    ]
    by_pack: dict[str, list[RuleInfo]] = {}
    for rule in rules:
        by_pack.setdefault(rule.pack, []).append(rule)
    for name, pack_rules in by_pack.items():
        pack = engine.packs[name]
        out += [f"## `{name}` — {pack.title}", ""]
        if pack.source:
            out += [f"Source: {pack.source}", ""]
        out += ["| rule | refs | kind | severity | category | channels | what it checks |",
                "|---|---|---|---|---|---|---|"]
        for r in pack_rules:
            out.append(f"| `{r.id}` | {', '.join(r.refs) or '—'} | {r.kind} | {r.severity} | {r.category} | "
                       f"{', '.join(r.channels)} | {_cell(r.title)} |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover - exercised by the freshness test
    print(render_markdown(Engine()), end="")
