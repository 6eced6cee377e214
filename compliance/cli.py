"""The `compliance` command line.

Exit codes (as Ruff): 0 clean, 1 findings (or failed examples, or ineligible), 2 usage,
configuration, rules or input errors.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _engine(args: argparse.Namespace) -> Any:
    from compliance.engine import Engine

    return Engine(getattr(args, "rules", None) or (), use_cache=not getattr(args, "no_cache", False))


def _json_default(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


# --------------------------------------------------------------------------------------
# Subcommands
# --------------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    """Parse and check rule files (with the built-in packs, which they may extend)."""
    from compliance.engine import Engine

    files = [Path(f) for f in args.files]
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        print(f"error: no such file: {', '.join(missing)}", file=sys.stderr)
        return EXIT_ERROR
    engine = Engine(files, use_cache=False)
    user = [p for p in engine.packs.values() if p.pos.file in {str(f) for f in files}]
    rules = sum(1 for p in user for r in p.rules if r.pack == p.name)
    print(f"ok: {len(files)} file(s), {len(user)} pack(s), {rules} rule(s)")
    return EXIT_CLEAN


def cmd_compile(args: argparse.Namespace) -> int:
    """Compile packs; --show prints the generated Python of one pack."""
    engine = _engine(args)
    if args.show:
        print(engine.source(args.show), end="")
        return EXIT_CLEAN
    for name, program in sorted(engine.programs.items()):
        print(f"{name}: {len(program.pack.rules)} rule(s), {len(program.source.splitlines())} lines of Python")
    return EXIT_CLEAN


def cmd_test(args: argparse.Namespace) -> int:
    """Run the examples embedded in rule files."""
    from compliance.engine import Engine
    from compliance.testing import run_examples

    paths = [Path(p) for p in args.paths]
    engine = Engine(paths, use_cache=not args.no_cache)
    if paths:
        files = {str(p) for p in engine._user_files}  # noqa: SLF001 - same package
        packs = [n for n, p in engine.packs.items() if p.pos.file in files]
    else:
        packs = list(engine.packs)
    results = run_examples(engine, packs)
    failed = [r for r in results if r.status == "failed"]
    for result in failed:
        print(f"{result.location}: {result.rule}: example {result.example.outcome}: {result.detail}")
    counts = {s: sum(1 for r in results if r.status == s) for s in ("passed", "failed", "skipped")}
    print(f"{counts['passed']} passed, {counts['failed']} failed" +
          (f", {counts['skipped']} skipped" if counts["skipped"] else ""))
    return EXIT_FINDINGS if failed else EXIT_CLEAN


def cmd_rules(args: argparse.Namespace) -> int:
    """List rules (id, refs, kind, severity, title)."""
    engine = _engine(args)
    rules = engine.rules(args.channel)
    if args.format == "json":
        json.dump([r.to_dict() for r in rules], sys.stdout, ensure_ascii=False, indent=2)
        print()
        return EXIT_CLEAN
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False)
    for column in ("rule", "refs", "kind", "severity", "pack", "title"):
        table.add_column(column)
    for r in rules:
        table.add_row(r.id, ", ".join(r.refs), r.kind, r.severity, r.pack, r.title)
    Console().print(table)
    return EXIT_CLEAN


def cmd_rule(args: argparse.Namespace) -> int:
    """Explain one rule: what it checks, why, its examples and its source."""
    from compliance.evaluator import render

    engine = _engine(args)
    try:
        pack, rule = engine.rule(args.id)
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return EXIT_ERROR
    print(f"{rule.id} ({', '.join(rule.refs) or 'no ref'}) — {rule.kind}, {rule.severity}, category {rule.category}")
    print(f"pack {rule.pack} ({pack.title}); defined at {rule.pos.file}:{rule.pos.line}")
    print()
    print(rule.title)
    if rule.explain:
        print()
        print(rule.explain)
    print()
    if rule.when is not None:
        print(f"applies when: {render(rule.when)}")
    condition = rule.require if rule.require is not None else rule.select
    if condition is not None:
        print(f"{'requires' if rule.require is not None else 'selects'}: {render(condition)}")
    for tier in rule.tiers:
        grants = ", ".join(f"{k} = {v.text}" for k, v in tier.grants)
        print(f"tier {tier.name}{' (' + tier.ref + ')' if tier.ref else ''}: {render(tier.condition)}"
              + (f" → {grants}" if grants else ""))
    if rule.message is not None:
        print(f"message: {rule.message.source}")
    if rule.examples:
        print()
        print("examples:")
        for example in rule.examples:
            if example.facts is not None:
                body = ", ".join(f"{'.'.join(a.target)} = {render(a.value)}" for a in example.facts)
                print(f"  {example.outcome}: {{ {body} }}")
            else:
                print(f"  {example.outcome}: {example.text}")
    return EXIT_CLEAN


def cmd_eligibility(args: argparse.Namespace) -> int:
    """Decide eligibility for facts in a JSON file (or - for stdin)."""
    engine = _engine(args)
    facts = _read_json(args.facts)
    decision = engine.eligibility(facts, channel=args.channel)
    if args.format == "json":
        json.dump({"channel": decision.channel, "eligible": decision.eligible, "grants": decision.grants,
                   "unmet": [f.to_dict() for f in decision.unmet]}, sys.stdout, ensure_ascii=False, indent=2,
                  default=_json_default)
        print()
    else:
        _print_decision(decision)
    return EXIT_CLEAN if decision.eligible else EXIT_FINDINGS


def _print_decision(decision: Any, label: str = "") -> None:
    verdict = "eligible" if decision.eligible else "NOT eligible"
    print(f"{label}{decision.channel}: {verdict}" + (f"  grants {decision.grants}" if decision.grants else ""))
    for finding in decision.unmet:
        print(f"  {finding.rule} ({finding.ref}) [{finding.severity}] {finding.message}")
        for line in finding.explanation:
            print(f"      because {line}")


def _read_json(path: str) -> Any:
    from compliance.errors import ComplianceError

    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        return json.loads(text)
    except OSError as exc:
        raise ComplianceError(f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ComplianceError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the bundled examples end to end."""
    from compliance.demo import run_demo

    return run_demo()


# --------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="compliance",
                                     description="Decide whether a Chinese marketing message may be sent.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func: Any, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    def with_rules(p: argparse.ArgumentParser) -> None:
        p.add_argument("--rules", action="append", metavar="PATH",
                       help="extra rule file or directory (repeatable)")
        p.add_argument("--no-cache", action="store_true", help="do not use the compiled-pack cache")

    p = add("check", cmd_check, "Parse and check rule files; exit 2 on errors.")
    p.add_argument("files", nargs="+", metavar="FILE")

    p = add("compile", cmd_compile, "Compile packs; --show PACK prints the generated Python.")
    p.add_argument("--show", metavar="PACK", help="pack name or channel")
    with_rules(p)

    p = add("test", cmd_test, "Run the examples embedded in rule files (default: the built-in packs).")
    p.add_argument("paths", nargs="*", metavar="PATH")
    p.add_argument("--no-cache", action="store_true")

    p = add("rules", cmd_rules, "List rules with their ids and catalogue refs.")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--channel")
    with_rules(p)

    p = add("rule", cmd_rule, "Explain one rule: what it checks, why, examples, source.")
    p.add_argument("id")
    with_rules(p)

    p = add("eligibility", cmd_eligibility, "Decide eligibility for facts given as JSON.")
    p.add_argument("facts", metavar="FACTS.json", help="JSON file of facts, or - for stdin")
    p.add_argument("--channel", required=True)
    p.add_argument("--format", choices=("text", "json"), default="text")
    with_rules(p)

    add("demo", cmd_demo, "Run the bundled examples.")
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"compliance {version('compliance')}"
    except PackageNotFoundError:
        return "compliance (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    from compliance.errors import ComplianceError, RulesError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_ERROR
    try:
        return int(args.func(args))
    except RulesError as exc:
        print(str(exc), file=sys.stderr)
        count = len(exc.diagnostics)
        print(f"\n{count} error{'s' if count != 1 else ''}", file=sys.stderr)
        return EXIT_ERROR
    except (ComplianceError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_CLEAN


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
