"""Accuracy on real copy: precision, recall and F1 per category against the labelled set.

Run from the repository root (``make accuracy``)::

    python -m benchmarks.accuracy                 # dev and test figures, dev errors of lint
    python -m benchmarks.accuracy --errors all    # … and the errors of every system
    python -m benchmarks.accuracy --json out.json # everything, machine-readable
    python -m benchmarks.accuracy --markdown      # the span-level tables for docs/BENCHMARKS.md
    python -m benchmarks.accuracy --round 2       # only the lines of round 2 of the draw

Systems (`compliance.evaluation.systems`), all on the same labelled messages: lint errors only;
lint errors and warnings; naive substring over the same lexicons; ``jieba.lcut`` + lexicon
lookup. Channel ``jd.sms``. Scoring (`compliance.evaluation.scoring`): span level — a predicted
span is correct when it overlaps a gold span of its category — and message level; strict
(borderline spans are violations) and lenient (borderline spans ignored both ways).

Every false positive and false negative is listed with its message and span: by default those
of ``lint errors+warnings`` on the dev split (tune on dev only: ``--errors-split test`` exists
for the final check, not for tuning). Only the messages labelled so far are scored
(``python -m benchmarks.accuracy_label status``). Skips (exit 0) when the corpora are absent.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from compliance.evaluation import CATEGORIES
from compliance.evaluation.dataset import EvaluationSet
from compliance.evaluation.draw import Corpus
from compliance.evaluation.scoring import MODES, Counts, Error, Score
from compliance.evaluation.systems import CHANNEL, standard_systems

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "accuracy"
DEFAULT_ERRORS = "lint errors+warnings"


def _figure(value: float | None) -> str:
    return "   –" if value is None else f"{value:.2f}"



def _cell(counts: Counts) -> str:
    return f"{_figure(counts.precision)} {_figure(counts.recall)} {_figure(counts.f1)} {counts.predicted:>4}"


def print_scores(scores: list[Score], level: str) -> None:
    """One table per split and mode: a row per system, P R F1 and predictions per category."""
    groups: dict[tuple[str, str], list[Score]] = {}
    for s in scores:
        groups.setdefault((s.split, s.mode), []).append(s)
    columns = (*CATEGORIES, "all")
    for (split, mode), group in groups.items():
        what = "borderline = violation" if mode == "strict" else "borderline ignored"
        print(f"\n{split} · {mode} ({what}) · {level[:-1]} level · {group[0].messages_scored} messages")

        def counts_of(s: Score, category: str) -> Counts:
            return s.total(level) if category == "all" else getattr(s, level)[category]

        gold = {c: counts_of(group[0], c).gold for c in columns}
        print(f"  {'':<21}" + "".join(f" {f'{c} (gold {gold[c]})':<23}" for c in columns))
        print(f"  {'':<21}" + f" {'   P    R   F1 pred':<23}" * len(columns))
        for s in group:
            print(f"  {s.system:<21}" + "".join(f" {_cell(counts_of(s, c)):<23}" for c in columns))
        whole = {s.system: sum(s.whole_message.values()) for s in group if sum(s.whole_message.values())}
        if whole and level == "spans":
            print("  whole-message predictions (not in span scores): "
                  + ", ".join(f"{name} {n}" for name, n in whole.items()))


def markdown_scores(scores: list[Score], level: str = "spans") -> str:
    """The scores as Markdown tables (docs/BENCHMARKS.md): one per split and mode, a row per
    system, P / R / F1 per category (the gold count in the header)."""
    groups: dict[tuple[str, str], list[Score]] = {}
    for s in scores:
        groups.setdefault((s.split, s.mode), []).append(s)
    out: list[str] = []
    for (split, mode), group in groups.items():
        def counts_of(s: Score, category: str) -> Counts:
            return s.total(level) if category == "all" else getattr(s, level)[category]

        columns = (*CATEGORIES, "all")
        what = "borderline = violation" if mode == "strict" else "borderline ignored"
        out.append(f"**{split} · {mode}** ({what}; {level[:-1]} level; {group[0].messages_scored} messages)\n")
        out.append("| system | " + " | ".join(f"{c} (gold {counts_of(group[0], c).gold}) P / R / F1" for c in columns) + " |")
        out.append("|---|" + "---|" * len(columns))
        for s in group:
            cells = []
            for c in columns:
                k = counts_of(s, c)
                cells.append(f"{_figure(k.precision)} / {_figure(k.recall)} / {_figure(k.f1)}".replace("   –", "–"))
            out.append(f"| {s.system} | " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def _show(error: Error) -> str:
    text = error.text
    marked = f"{text[:error.start]}⟦{text[error.start:error.end]}⟧{text[error.end:]}"
    tag = " (borderline)" if error.borderline else ""
    detail = f" — {error.detail}" if error.detail else ""
    return f"    {error.kind} {error.id} [{error.start}:{error.end}] “{error.span_text}”{tag}{detail}\n        {marked}"


def print_errors(score: Score) -> None:
    """Every false positive and false negative of one score, by category."""
    print(f"\nerrors of {score.system} · {score.split} · {score.mode}:")
    for category in CATEGORIES:
        errors = [e for e in score.errors if e.category == category]
        fp = sum(e.kind == "FP" for e in errors)
        print(f"  {category}: {fp} false positive(s), {len(errors) - fp} false negative(s)")
        for error in sorted(errors, key=lambda e: (e.kind, e.id, e.start)):
            print(_show(error))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.accuracy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help=f"evaluation set directory (default {DATA})")
    parser.add_argument("--split", choices=("dev", "test", "both"), default="both", help="splits to report")
    parser.add_argument("--errors", default=DEFAULT_ERRORS,
                        help=f"systems whose errors are listed: comma-separated names, 'all' or 'none' "
                             f"(default {DEFAULT_ERRORS!r})")
    parser.add_argument("--errors-split", choices=("dev", "test"), default="dev")
    parser.add_argument("--errors-mode", choices=MODES, default="strict")
    parser.add_argument("--round", type=int, default=None,
                        help="score only the lines of this round of the draw (default: every round)")
    parser.add_argument("--json", type=Path, help="write every score (and the listed errors) to this file")
    parser.add_argument("--markdown", action="store_true",
                        help="print the span-level tables as Markdown (for docs/BENCHMARKS.md) instead of text")
    args = parser.parse_args(argv)

    corpus = Corpus.load()
    if not corpus:
        print("accuracy: corpora absent, nothing measured", file=sys.stderr)
        return 0
    started = time.perf_counter()
    data = EvaluationSet.load(args.data, corpus)
    problems = data.problems()
    if problems:
        print("label problems (fix them first):\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    if args.round is not None:
        rounds = {row.round for row in data.manifest}
        if args.round not in rounds:
            parser.error(f"--round {args.round}: the manifest has rounds {sorted(rounds)}")
        data = data.of_round(args.round)
    from compliance.engine import Engine

    systems = standard_systems(Engine())
    names = [s.name for s in systems]
    listed = names if args.errors == "all" else [] if args.errors == "none" else [n.strip() for n in args.errors.split(",")]
    unknown = sorted(set(listed) - set(names))
    if unknown:
        parser.error(f"unknown system(s) {unknown}; known: {names}")
    splits = ("dev", "test") if args.split == "both" else (args.split,)
    if args.errors_split not in splits and listed:
        splits = (*splits, args.errors_split)
    scores = data.evaluate(systems, splits=splits)
    elapsed = time.perf_counter() - started

    labelled = {split: len(data.labelled(split)) for split in ("dev", "test")}
    scope = f"round {args.round} · " if args.round is not None else ""
    print(f"accuracy · channel {CHANNEL} · {scope}{len(data.labels)} of {len(data.manifest)} messages labelled "
          f"(dev {labelled['dev']}, test {labelled['test']}) · {elapsed:.1f} s")
    reported = [s for s in scores if args.split == "both" or s.split == args.split]
    if args.markdown:
        print()
        print(markdown_scores(reported, "spans"))
        return 0
    print_scores(reported, "spans")
    print_scores(reported, "messages")
    chosen = [s for s in scores if s.system in listed and s.split == args.errors_split and s.mode == args.errors_mode]
    for s in chosen:
        print_errors(s)
    if args.json:
        payload: dict[str, Any] = {
            "channel": CHANNEL, "round": args.round, "labelled": labelled, "manifest": len(data.manifest), "seconds": elapsed,
            "scores": [s.to_dict(errors=any(s is c for c in chosen)) for s in scores],
        }
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
