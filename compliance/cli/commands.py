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

from compliance.cli.decisions import print_decision as _print_decision

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
    """List rules (id, refs, kind, severity, pack, title): a plain aligned table, or JSON."""
    engine = _engine(args)
    rules = engine.rules(args.channel)
    if args.format == "json":
        json.dump([r.to_dict() for r in rules], sys.stdout, ensure_ascii=False, indent=2)
        print()
        return EXIT_CLEAN
    rows = [(r.id, ",".join(r.refs) or "-", r.kind, r.severity, r.pack, r.title) for r in rules]
    sys.stdout.write(format_table(("RULE", "REFS", "KIND", "SEVERITY", "PACK", "TITLE"), rows))
    print(f"\n{len(rules)} rule{'s' if len(rules) != 1 else ''}")
    return EXIT_CLEAN


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell (CJK counts two cells), two spaces apart, the last
    column unpadded — the way Ruff lists rules and statistics."""
    from compliance.output.text import display_width

    widths = [max([display_width(header[i])] + [display_width(row[i]) for row in rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [tuple(header), *rows]:
        cells = [cell + " " * (widths[i] - display_width(cell)) for i, cell in enumerate(row[:-1])]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines) + "\n"


def cmd_rule(args: argparse.Namespace) -> int:
    """Explain one rule: what it checks, why, its examples and its source."""
    from compliance.checker.describe import describe_rule

    engine = _engine(args)
    try:
        pack, rule = engine.rule(args.id)
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return EXIT_ERROR
    about = describe_rule(pack, rule)
    print(f"{rule.id} ({', '.join(rule.refs) or 'no ref'}) — {rule.kind}, {rule.severity}, category {rule.category}")
    print(f"pack {rule.pack} ({pack.title}); defined at {rule.pos.file}:{rule.pos.line}")
    print()
    print(rule.title)
    if rule.explain:
        print()
        print(rule.explain)
    print()
    if about["when"] is not None:
        print(f"applies when: {about['when']}")
    if about["condition"] is not None:
        print(f"{about['condition_kind']}: {about['condition']}")
    for tier in about["tiers"]:
        print(f"tier {tier}")
    if about["message"] is not None:
        print(f"message: {about['message']}")
    if about["examples"]:
        print()
        print("examples:")
        for example in about["examples"]:
            print(f"  {example['outcome']}: {example['text']}")
    return EXIT_CLEAN


def cmd_eligibility(args: argparse.Namespace) -> int:
    """Decide eligibility for facts in a JSON file (or - for stdin)."""
    engine = _engine(args)
    facts = _read_json(args.facts)
    decision = engine.eligibility(facts, channel=args.channel, coerce=args.coerce)
    if args.format == "json":
        json.dump({"channel": decision.channel, "eligible": decision.eligible, "grants": decision.grants,
                   "unmet": [f.to_dict() for f in decision.unmet]}, sys.stdout, ensure_ascii=False, indent=2,
                  default=_json_default)
        print()
    else:
        _print_decision(decision)
    return EXIT_CLEAN if decision.eligible else EXIT_FINDINGS


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
    from compliance.cli.demo import run_demo

    return run_demo()


# --------------------------------------------------------------------------------------
# lint: copy files
# --------------------------------------------------------------------------------------


def _codes(values: Sequence[str] | None) -> list[str]:
    """``--select a,b --select c`` → ``["a", "b", "c"]``."""
    return [code.strip() for value in values or () for code in value.split(",") if code.strip()]


def _lint_config(args: argparse.Namespace) -> Any:
    """The configuration for ``lint``: --no-config, --config PATH, or the one governing the
    first path (or the working directory)."""
    from compliance.config import default_config, find_config, load_config

    # Without a configuration file: the defaults, without pydantic (validating a file needs it).
    if args.no_config:
        return default_config()
    if args.config:
        return load_config(Path(args.config))
    start = next((Path(p) for p in args.paths if p != "-"), None)
    if start is None and args.stdin_filename:
        start = Path(args.stdin_filename)
    found = find_config(start if start is not None else Path.cwd())
    return load_config(found) if found is not None else default_config()


def _lexicon_kwargs(config: Any, engine_class: Any) -> dict[str, Any]:
    """Extra lexicons from the configuration, as `Engine` keyword arguments.

    ``extra-lexicons`` files and ``banned-words`` (one lexicon per category, named after the
    built-in lexicon of that category so it extends it) are validated here in any case. They
    reach the engine only if it takes ``lexicons=`` and ``allowed_words=``; otherwise a warning
    says they are not applied.
    """
    if not (config.extra_lexicons or config.banned_words or config.allowed_words):
        return {}
    from compliance.analyzer.lexicon import LexiconError, build_lexicon, load_builtin_lexicons, load_lexicon

    lexicons: list[Any] = []
    for i, path in enumerate(config.extra_lexicons):
        try:
            lexicons.append(load_lexicon(config.resolve(path)))
        except LexiconError as exc:
            raise config.error(("extra-lexicons", i), str(exc)) from None
    if config.banned_words:
        by_category: dict[str, list[Any]] = {}
        for word in config.banned_words:
            by_category.setdefault(word.category, []).append(word)
        builtin = {lex.category: name for name, lex in load_builtin_lexicons().items()}
        for category, words in by_category.items():
            index = config.banned_words.index(words[0])
            if category not in builtin:
                raise config.error(("banned-words", index, "category"),
                                   f"no lexicon checks category {category!r}; banned words may use: "
                                   + ", ".join(sorted(builtin)))
            entries = [{"term": w.word, "severity": w.severity, **({"note": w.message} if w.message else {})}
                       for w in words]
            try:
                lexicons.append(build_lexicon(builtin[category], entries, category=category, source="config"))
            except LexiconError as exc:
                raise config.error(("banned-words", index), str(exc)) from None
    import inspect

    parameters = inspect.signature(engine_class).parameters
    if "lexicons" in parameters and "allowed_words" in parameters:
        return {"lexicons": lexicons, "allowed_words": list(config.allowed_words)}
    where = config.source or "configuration"
    print(f"warning: {where}: extra-lexicons, banned-words and allowed-words are validated but not applied: "
          "this engine does not take extra lexicons yet", file=sys.stderr)
    return {}


def _check_codes(linter: Any, config: Any, select: list[str], ignore: list[str]) -> None:
    """Every selector must name some rule: a typo must not silently select nothing.

    Raises ConfigError (for the file's values) or ComplianceError (for the command line).
    """
    from compliance.errors import ComplianceError

    for option, codes in (("--select", select), ("--ignore", ignore)):
        for code in codes:
            reason = linter.unknown_code(code)
            if reason is not None:
                raise ComplianceError(f"{option}: {reason}")
    checks: list[tuple[tuple[Any, ...], str]] = []
    checks += [(("select", i), c) for i, c in enumerate(config.select)]
    checks += [(("ignore", i), c) for i, c in enumerate(config.ignore)]
    checks += [(("per-file-ignores", glob, i), c) for glob, cs in config.per_file_ignores.items()
               for i, c in enumerate(cs)]
    checks += [(("severity-overrides", c), c) for c in config.severity_overrides]
    for loc, code in checks:
        reason = linter.unknown_code(code)
        if reason is not None:
            raise config.error(loc, reason)


def _print_statistics(findings: Sequence[Any], rules: Any, as_json: bool) -> None:
    """Counts per rule, most frequent first (Ruff's --statistics)."""
    from collections import Counter

    counts = Counter(item.finding.rule for item in findings)
    first = {}
    fixable: set[str] = set()
    for item in findings:
        first.setdefault(item.finding.rule, item.finding)
        if item.finding.fix is not None and item.exact:
            fixable.add(item.finding.rule)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if as_json:
        json.dump([{"rule": rule, "ref": first[rule].ref, "count": n, "severity": first[rule].severity,
                    "fixable": rule in fixable,
                    "title": rules[rule].short_description if rule in rules else first[rule].message}
                   for rule, n in ordered], sys.stdout, ensure_ascii=False, indent=2)
        print()
        return
    rows = [(str(n), rule, first[rule].ref or "-", first[rule].severity, "[*]" if rule in fixable else "",
             rules[rule].short_description if rule in rules else first[rule].message) for rule, n in ordered]
    if rows:
        sys.stdout.write(format_table(("COUNT", "RULE", "REF", "SEVERITY", "FIX", "TITLE"), rows))


def cmd_lint(args: argparse.Namespace) -> int:
    """Lint copy files: findings with file positions, suppressions, selection and safe fixes."""
    import difflib
    import os

    from compliance.config import ConfigError
    from compliance.engine import Engine
    from compliance.io.copyfiles import SUPPORTED_EXTENSIONS, CopyFileError
    from compliance.io.fixes import diff_label, encode_like
    from compliance.io.linter import CopyLinter, LintInputError, collect_files, display_path, fail_threshold
    from compliance.output import OutputContext, get_formatter

    try:
        base_config = _lint_config(args)
        select, ignore = _codes(args.select), _codes(args.ignore)
        config = base_config.model_copy(update={
            **({"select": select} if args.select else {}),
            "ignore": [*base_config.ignore, *ignore],
        })
        rule_paths = [config.resolve(p) for p in config.extra_rules] + [Path(p) for p in args.rules or ()]
        engine = Engine(rule_paths, use_cache=not args.no_cache, **_lexicon_kwargs(base_config, Engine))
        linter = CopyLinter(engine, config, channel=args.channel)
        _check_codes(linter, base_config, select if args.select else [], ignore)
        if base_config.default_channel:
            try:
                engine.program(base_config.default_channel)
            except Exception as exc:  # noqa: BLE001 - UnknownChannelError, reported at the key
                raise base_config.error(("default-channel",), str(exc)) from None
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if args.channel:
        engine.program(args.channel)  # an unknown channel is a usage error, with a suggestion
    fmt = args.format or config.output_format
    strict = args.strict or config.strict
    formatter = get_formatter(fmt)
    fixing = args.fix or args.diff

    paths = args.paths or ["."]
    files = list(collect_files([Path(p) for p in paths if p != "-"], config))
    inputs: list[tuple[Any, str, Path | None]] = []  # (copy file, display, path to write or None for stdin)
    errors: list[str] = []
    for path in files:
        try:
            inputs.append((linter.read(path), display_path(path), path))
        except CopyFileError as exc:
            errors.append(str(exc))
    stdin_name = args.stdin_filename or "-"
    if "-" in paths:
        data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
        suffix = Path(stdin_name).suffix.lower()
        extension = suffix if args.stdin_filename and suffix in SUPPORTED_EXTENSIONS else ".txt"
        try:
            inputs.append((linter.read_text(data, Path(stdin_name), extension), stdin_name, None))
        except CopyFileError as exc:
            errors.append(str(exc))
    if not inputs and not errors and not args.quiet:
        print("warning: no copy files found (" + ", ".join(SUPPORTED_EXTENSIONS) + ")", file=sys.stderr)

    located: list[Any] = []
    messages: list[Any] = []
    fixed_lines: list[str] = []
    fixed_count = fixed_files = 0
    diffs: list[str] = []
    stdin_output: str | None = None
    for copy_file, shown, target in inputs:
        config_path = target if target is not None else (Path(args.stdin_filename) if args.stdin_filename else None)
        try:
            if not fixing:
                report = linter.lint(copy_file, shown, config_path=config_path)
            else:
                result = linter.fix(copy_file, shown, config_path=config_path)
                report = result.report
                if result.changed:
                    fixed_files += 1
                    fixed_count += len(result.applied)
                    for edit in result.applied:
                        item = edit.request.key
                        old = item.source_line[item.column - 1:item.end_column - 1]
                        fixed_lines.append(f"{item.path}:{item.line}:{item.column}: fixed {item.finding.rule}: "
                                           f"“{old}” → “{edit.replacement}”")
                    if args.diff:
                        diffs.append("".join(difflib.unified_diff(
                            result.original.splitlines(keepends=True), result.text.splitlines(keepends=True),
                            fromfile=diff_label("a", shown), tofile=diff_label("b", shown))))
                    elif target is not None:
                        target.write_bytes(encode_like(copy_file, result.text))
                if target is None and args.fix and not args.diff:
                    stdin_output = result.text
        except LintInputError as exc:
            errors.append(str(exc))
            continue
        located.extend(report.findings)
        messages.extend(report.messages)

    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    if args.diff:
        for diff in diffs:
            sys.stdout.write(diff if diff.endswith("\n") else diff + "\n")
        if not args.quiet:
            print(f"Would fix {fixed_count} problem{'s' if fixed_count != 1 else ''} "
                  f"in {fixed_files} file{'s' if fixed_files != 1 else ''}.", file=sys.stderr)
        return EXIT_ERROR if errors else (EXIT_FINDINGS if diffs else EXIT_CLEAN)

    stream = sys.stdout
    if stdin_output is not None:
        sys.stdout.write(stdin_output)
        stream = sys.stderr  # stdout carries the fixed text
    if args.statistics:
        _print_statistics(located, linter.rule_infos, as_json=fmt == "json")
    else:
        # Only SARIF and JUnit write the version; reading it imports importlib.metadata (~10 ms).
        version = {"tool_version": _package_version() or "0+unknown"} if formatter.name in ("sarif", "junit") else {}
        context = OutputContext(messages=messages, rules=linter.rule_infos, **version,
                                color=False if os.environ.get("NO_COLOR") else None,
                                summary=not args.quiet and (bool(located) or not errors))
        formatter.write(located, stream, context)
    if args.fix and not args.quiet:
        note = sys.stdout if fmt == "text" and stdin_output is None else sys.stderr
        for line in fixed_lines:
            print(line, file=note)
        print(f"Fixed {fixed_count} problem{'s' if fixed_count != 1 else ''} "
              f"in {fixed_files} file{'s' if fixed_files != 1 else ''}.", file=note)
    if errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if fail_threshold(located, strict=strict) else EXIT_CLEAN


def cmd_init(args: argparse.Namespace) -> int:
    """Write a commented starter compliance.toml (refuses to overwrite unless --force)."""
    from compliance.config import CONFIG_FILENAME, starter_config

    directory = Path(args.directory)
    if not directory.is_dir():
        print(f"error: no such directory: {directory}", file=sys.stderr)
        return EXIT_ERROR
    target = directory / CONFIG_FILENAME
    if target.exists() and not args.force:
        print(f"error: {target} already exists; pass --force to overwrite it", file=sys.stderr)
        return EXIT_ERROR
    target.write_text(starter_config(), encoding="utf-8")
    print(f"wrote {target}")
    return EXIT_CLEAN


# --------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------


#: The commands `build_parser` defines itself (`OPTIONAL_COMMAND_MODULES` add the others).
BUILTIN_COMMANDS = frozenset({"check", "compile", "test", "rules", "rule", "eligibility", "demo", "lint", "init"})


def build_parser(*, optional_commands: bool = True) -> argparse.ArgumentParser:
    """The command-line parser; without ``optional_commands`` only the built-in commands (what
    parsing a command line that names one needs: importing the others costs start-up time)."""
    parser = argparse.ArgumentParser(prog="compliance",
                                     description="Decide whether a Chinese marketing message may be sent.")
    parser.add_argument("--version", action=_VersionAction)
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
    p.add_argument("--coerce", action="store_true",
                   help='read mistyped facts leniently ("12" as 12, "yes" as true) instead of failing')
    with_rules(p)

    add("demo", cmd_demo, "Run the bundled examples.")

    from compliance.output import FORMATS

    p = add("lint", cmd_lint, "Lint copy files (.txt .md .yaml .yml .json .toml .csv; - reads stdin).")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="files or directories (default: the working directory); - reads stdin as .txt")
    p.add_argument("--channel", help="lint every message for this channel (default: the message's, "
                                     "the file's, or default-channel from the configuration)")
    p.add_argument("--format", choices=list(FORMATS), default=None,
                   help="output format (default: output-format from the configuration, else text)")
    p.add_argument("--select", action="append", metavar="CODES",
                   help="only these rule ids, prefixes or catalogue refs (comma-separated, repeatable; "
                        "replaces the configuration's select)")
    p.add_argument("--ignore", action="append", metavar="CODES",
                   help="also ignore these rule ids, prefixes or refs (comma-separated, repeatable)")
    p.add_argument("--strict", action="store_true", help="warnings fail the run too (exit 1)")
    p.add_argument("--fix", action="store_true", help="apply safe fixes in place and report what was fixed")
    p.add_argument("--diff", action="store_true",
                   help="print the fixes as a unified diff, change nothing; exit 1 if there would be changes")
    p.add_argument("--config", metavar="PATH", help="use this compliance.toml / pyproject.toml")
    p.add_argument("--no-config", action="store_true", help="ignore every configuration file")
    p.add_argument("--rules", action="append", metavar="PATH", help="extra rule file or directory (repeatable)")
    p.add_argument("--no-cache", action="store_true", help="do not use the compiled-pack cache")
    p.add_argument("--stdin-filename", metavar="PATH",
                   help="name (and so format, per-file-ignores) of the text read from -")
    p.add_argument("--quiet", "-q", action="store_true", help="print findings only: no summary, no notes")
    p.add_argument("--statistics", action="store_true", help="print counts per rule instead of findings")

    p = add("init", cmd_init, "Write a commented starter compliance.toml.")
    p.add_argument("directory", nargs="?", default=".", help="where to write it (default: here)")
    p.add_argument("--force", action="store_true", help="overwrite an existing compliance.toml")

    if optional_commands:
        _register_optional_commands(sub)
    return parser


def _names_builtin_command(argv: Sequence[str]) -> bool:
    """Does the command line start with a built-in command (so the optional ones are not
    needed to parse it)? An option first (``--help``, ``--version``) needs the full parser."""
    return bool(argv) and argv[0] in BUILTIN_COMMANDS


#: Subcommands other parts of the project provide; each module has ``register(sub)``, which
#: adds its parser(s) to the ``add_subparsers`` object. They are imported when the parser is
#: built, so they must import anything heavy inside their command functions.
OPTIONAL_COMMAND_MODULES: tuple[str, ...] = (
    "compliance.audit.command",
    "compliance.server.command",
    "compliance.cli.replay_command",
)


def _register_optional_commands(sub: Any) -> None:
    """Register the ``audit`` / ``serve`` commands when those packages are present.

    A module that cannot be imported (not written yet, or an extra such as fastapi missing)
    is skipped: the rest of the CLI keeps working.
    """
    import importlib

    for name in OPTIONAL_COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        module.register(sub)


class _VersionAction(argparse.Action):
    """``--version``: the version and the build, worked out only when asked for (finding
    out whether the hot path is compiled imports it, which every other command may not need)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="show the version and the build (pure Python or compiled) and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        print(_version())
        parser.exit()


def _version() -> str:
    from compliance.build import describe

    version = _package_version() or "(not installed)"
    return f"compliance {version}, {describe()}"


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("compliance")
    except PackageNotFoundError:
        return ""


def main(argv: Sequence[str] | None = None) -> int:
    from compliance.errors import ComplianceError, RulesError

    arguments = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(optional_commands=not _names_builtin_command(arguments))
    args = parser.parse_args(arguments)
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
