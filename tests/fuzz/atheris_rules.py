"""Coverage-guided fuzzing of the rules language with atheris: bytes → source → parse/check/compile.

Run locally (``make fuzz`` does this for 60 s)::

    .venv/bin/python tests/fuzz/atheris_rules.py -max_total_time=60

The only exceptions allowed out of the pipeline are `ComplianceError` subclasses; a
`RulesError` must point inside the source. Anything else is a crash that libFuzzer saves as
``crash-…`` (rerun it with ``python tests/fuzz/atheris_rules.py crash-…``).
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    import compliance.analyzer.primitives  # noqa: F401 - registers the analyzer functions
    from compliance.checker.checker import check_files
    from compliance.compiler.codegen import compile_source, generate
    from compliance.errors import ComplianceError, RulesError
    from compliance.grammar.parser import parse_text
    from compliance.compiler.program import Program

FILE = "atheris.rules"

#: Prefixes that get random bytes past the first few tokens (chosen by the first input byte).
PREFIXES = (
    "",
    "pack p {\n",
    "pack p {\n  fact f { a: int, b: bool, s: str, d: date }\n  param n: int = 5w\n",
    "pack p {\n  fact f { a: int, b: bool, s: str, d: date }\n  eligibility r {\n    require ",
    'pack p {\n  fact message { body: str }\n  copy c {\n    category ad_law\n    on body\n    message "',
)


def check_positions(error: RulesError, text: str) -> None:
    """Every diagnostic points at a line of the source and a column of that line (+1)."""
    lines = text.split("\n")
    for diag in error.diagnostics:
        pos = diag.pos
        if pos.file != FILE or not 1 <= pos.line <= len(lines) \
                or not 1 <= pos.column <= len(lines[pos.line - 1]) + 1:
            raise AssertionError(f"diagnostic outside the source: {pos} {diag.message}")
        diag.render()


def run(text: str) -> None:
    """Parse, check, compile and load one source; only positioned `ComplianceError`s may escape."""
    try:
        packs = check_files([parse_text(text, FILE)], {FILE: text})
        for name, pack in packs.items():
            compiled = generate(pack)
            Program.build(pack, compiled, compile_source(compiled, f"<atheris {name}>"))
    except RulesError as exc:
        check_positions(exc, text)
    except ComplianceError:
        pass


def test_one_input(data: bytes) -> None:
    """libFuzzer entry point."""
    if not data:
        return
    prefix = PREFIXES[data[0] % len(PREFIXES)]
    body = data[1:]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("utf-8", "replace")
    run(prefix + text)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
