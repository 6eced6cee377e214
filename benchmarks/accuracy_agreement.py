"""Agreement between readers: the gold labels against a second reader's blind labels.

Run from the repository root (``make accuracy-agreement``)::

    python -m benchmarks.accuracy_agreement                  # figures and the disagreements
    python -m benchmarks.accuracy_agreement --json out.json  # everything, machine-readable
    python -m benchmarks.accuracy_agreement --no-list        # figures only

The second reader labelled the seeded sample of dev messages
(`compliance.evaluation.agreement.sample`, ``dump --agreement``) by reading, without seeing the
gold labels; the labels are in ``tests/data/accuracy/agreement/`` (never in ``labels/``: they are
not gold). Span level: the second reader's spans scored against gold by the overlap rule of
`compliance.evaluation.scoring` (P = share of the second reader's spans gold has, R = share of
gold spans the second reader has; F1 is symmetric), strict and lenient. Message level: Cohen's
kappa per category. The FBS placeholder contacts, which both readers carry by construction, are
left out (``--with-placeholders`` keeps them). Every disagreement is listed (strict: a span of
one reader that no span of the other overlaps; and spans both have that only one calls strict),
for the guideline's next revision.

The listing shows corpus text: print it, do not commit it. Skips (exit 0) without the corpora.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from compliance.evaluation import CATEGORIES
from compliance.evaluation.agreement import AGREEMENT_DIR, Agreement, compare
from compliance.evaluation.dataset import EvaluationSet
from compliance.evaluation.draw import Corpus
from compliance.evaluation.labels import read_labels
from compliance.evaluation.scoring import MODES

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "accuracy"


def _figure(value: float | None) -> str:
    return "   –" if value is None else f"{value:.2f}"


def print_agreement(result: Agreement) -> None:
    """The span-level and message-level tables, one row per category."""
    for mode in MODES:
        what = "borderline = violation" if mode == "strict" else "borderline ignored (both readers)"
        print(f"\n{mode} ({what}) · {result.messages} messages")
        print(f"{'category':<14} {'gold':>5} {'2nd':>5} {'P':>5} {'R':>5} {'F1':>5}   "
              f"{'kappa':>6} {'agree':>6}  both gold-only 2nd-only neither")
        score = result.spans[mode]
        for category in (*CATEGORIES, "all"):
            counts = score.total() if category == "all" else score.spans[category]
            row = (f"{category:<14} {counts.gold:>5} {counts.predicted:>5} {_figure(counts.precision):>5} "
                   f"{_figure(counts.recall):>5} {_figure(counts.f1):>5}")
            if category != "all":
                k = result.kappa[mode][category]
                row += (f"   {_figure(k.kappa):>6} {_figure(k.observed):>6}  {k.both:>4} {k.gold_only:>9} "
                        f"{k.second_only:>8} {k.neither:>7}")
            print(row)


def print_disagreements(result: Agreement, texts: dict[str, str]) -> None:
    """Each span one reader has and the other does not, grouped by message."""
    only = sum(d.kind == "only" for d in result.disagreements)
    print(f"\ndisagreements: {only} spans only one reader has, "
          f"{len(result.disagreements) - only} both have but only one calls strict")
    last = ""
    for d in result.disagreements:
        if d.id != last:
            print(f"\n{d.id}\n  > {texts[d.id]}")
            last = d.id
        where = f'{d.category:<13} [{d.start}:{d.end}] "{d.span_text}"'
        if d.kind == "severity":
            other = "second" if d.reader == "gold" else "gold"
            print(f"  {d.reader:<6} strict, {other} borderline: {where} — {other}: {d.reason}")
        else:
            kind = "borderline" if d.borderline else "strict"
            reason = f" — {d.reason}" if d.reason else ""
            print(f"  {d.reader:<6} only: {where} ({kind}){reason}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.accuracy_agreement",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help=f"evaluation set directory (default {DATA})")
    parser.add_argument("--second", type=Path, default=None,
                        help=f"directory of the second reader's *.jsonl (default DATA/{AGREEMENT_DIR})")
    parser.add_argument("--with-placeholders", action="store_true",
                        help="keep the FBS placeholder contacts (both readers have them: they always agree)")
    parser.add_argument("--no-list", action="store_true", help="leave out the list of disagreements")
    parser.add_argument("--json", type=Path, help="write the figures and the disagreements to this file")
    args = parser.parse_args(argv)
    corpus = Corpus.load()
    if not corpus:
        print("accuracy agreement: no corpus (../shared/corpora or $COMPLIANCE_CORPORA): skipped", file=sys.stderr)
        return 0
    data = EvaluationSet.load(args.data, corpus)
    second = read_labels(args.second or args.data / AGREEMENT_DIR)
    texts = {ident: t.text for ident, t in data.texts.items()}
    result = compare(data.labels, second, texts, hand_only=not args.with_placeholders)
    if result.missing:
        print(f"second reader's messages without gold labels (left out): {', '.join(result.missing)}",
              file=sys.stderr)
    splits = sorted({lb.split for lb in second})
    print(f"agreement: gold labels vs second reader on {result.messages} messages ({', '.join(splits)}); "
          f"{'with' if args.with_placeholders else 'without'} the FBS placeholder contacts")
    print("P = share of the second reader's spans overlapping a gold span, R = share of gold spans the "
          "second reader overlaps; kappa: Cohen's, message level")
    print_agreement(result)
    if not args.no_list:
        print_disagreements(result, texts)
    if args.json:
        args.json.write_text(json.dumps(result.to_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
