"""The labelling workflow of the evaluation set (docs/accuracy.md, "Labelling").

Run from the repository root::

    python -m benchmarks.accuracy_label dump --batch 2 --labeller NAME > /work/labels/batch-2.txt
    # … label /work/labels/batch-2.txt by reading each message against docs/accuracy.md …
    python -m benchmarks.accuracy_label ingest /work/labels/batch-2.txt
    python -m benchmarks.accuracy_label status

* ``dump``: the worksheet of batch K (each message's evaluation text with its ``file:line``
  id). Batches are numbered across the rounds of the draw: round 1 is batches 1-6, round 2
  batches 7-12, round 3 batches 13-18 (`compliance.evaluation.draw.ROUNDS`). Worksheets
  hold corpus text: keep them OUTSIDE the repository.
* ``dump --with-labels``: the same worksheet with the labelled messages done and their spans
  written out; edit and ingest it to revise a batch (ingesting it unchanged changes nothing).
* ``dump --agreement``: the second reader's worksheet: the seeded sample of dev messages
  (`compliance.evaluation.agreement.sample`), never with labels; ingest it with
  ``--out tests/data/accuracy/agreement/second-reader.jsonl`` (outside ``labels/``: the second
  reader's labels are not gold), then ``python -m benchmarks.accuracy_agreement``.
* ``ingest``: reads a worksheet, checks every span against the real text, and writes the
  finished messages (``[x]``) into ``tests/data/accuracy/labels/batch-K.jsonl`` (offsets only).
  Ingesting again replaces the records of the same messages in that file.
* ``status``: labelled messages per batch and split, and any problem of the label files.
* ``draw``: recompute the seeded draw; ``--check`` compares it with the committed manifest,
  ``--write`` rewrites the manifest (only when the draw itself is meant to change).

Needs the corpora (``../shared/corpora`` or ``$COMPLIANCE_CORPORA``).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

from compliance.evaluation.agreement import AGREEMENT_DIR, SAMPLE_SIZE, sample
from compliance.evaluation.dataset import LABELS_DIR, MANIFEST, EvaluationSet
from compliance.evaluation.draw import (Corpus, Item, ManifestRow, batch_count, batch_numbers, draw_rounds,
                                        read_manifest, write_manifest)
from compliance.evaluation.labels import Label, LabelError, read_labels, validate, write_labels
from compliance.evaluation.render import EvalText
from compliance.evaluation.worksheet import WorksheetError, dump, read

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "accuracy"
_BATCH = re.compile(r"^\s*(?P<k>\d+)\s+of\s+(?P<n>\d+)\s*$")


def _corpus() -> Corpus:
    corpus = Corpus.load()
    if not corpus:
        from compliance import corpora

        sys.exit(f"no corpus found at {corpora.corpora_dir()} (set COMPLIANCE_CORPORA)")
    return corpus


def _read_from(label: Label, path: Path) -> bool:
    """Was ``label`` read from the file ``path``? (`Label.source` is "path:line".)"""
    return Path(label.source.rpartition(":")[0]).resolve() == path.resolve()


def cmd_draw(args: argparse.Namespace) -> int:
    corpus = _corpus()
    rows = [ManifestRow(item, item.split, corpus.text(item).sha, round_) for item, round_ in draw_rounds(corpus).items()]
    path = args.data / MANIFEST
    counts = Counter(row.item.file for row in rows)
    rounds = Counter(row.round for row in rows)
    print(f"draw: {len(rows)} lines (" + ", ".join(f"round {r}: {n}" for r, n in sorted(rounds.items())) + "): "
          + ", ".join(f"{f} {n}" for f, n in sorted(counts.items())), file=sys.stderr)
    if args.write:
        write_manifest(path, rows)
        print(f"wrote {path}", file=sys.stderr)
        return 0
    committed = read_manifest(path)
    if committed != rows:
        differ = len(set(committed) ^ set(rows))
        print(f"{path} differs from the draw ({differ} rows differ)", file=sys.stderr)
        return 1
    print(f"{path} matches the draw", file=sys.stderr)
    return 0


def cmd_dump(args: argparse.Namespace) -> int:
    if args.agreement:
        return _dump_agreement(args)
    if args.batch is None:
        sys.exit("dump needs --batch K (or --agreement)")
    of = batch_count()
    if not 1 <= args.batch <= of:
        sys.exit(f"--batch must be between 1 and {of}, got {args.batch}")
    corpus = _corpus()
    data = EvaluationSet.load(args.data, corpus)
    done = {lb.id for lb in data.labels}
    assignment = batch_numbers(data.manifest)
    chosen = [item for item in data.items if assignment[item] == args.batch]
    if args.unlabelled:
        chosen = [item for item in chosen if item.id not in done]
    texts = [data.texts[item.id] for item in chosen]
    labels = {lb.id: lb for lb in data.labels} if args.with_labels else None
    labeller = args.labeller
    if args.with_labels and not labeller:
        # A review keeps the batch's labeller unless the reviewer signs the revision.
        names = Counter(labels[item.id].labeller for item in chosen if labels and item.id in labels)
        labeller = names.most_common(1)[0][0] if names else ""
    print(dump(texts, batch=f"{args.batch} of {of}", labeller=labeller,
               path=f"/work/labels/batch-{args.batch}.txt", labels=labels))
    print(f"batch {args.batch} of {of}: {len(texts)} messages", file=sys.stderr)
    return 0


def _shown(path: Path) -> Path:
    """``path`` relative to the working directory when it lies inside it (for the worksheet header)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def _dump_agreement(args: argparse.Namespace) -> int:
    """The second reader's worksheet: the agreement sample, never with the gold labels."""
    if args.with_labels:
        sys.exit("--agreement is read blind: it cannot be dumped --with-labels")
    corpus = _corpus()
    data = EvaluationSet.load(args.data, corpus)
    chosen = sample(data.manifest, args.size)
    out = args.data / AGREEMENT_DIR / "second-reader.jsonl"
    if args.unlabelled and out.parent.is_dir():
        done = {lb.id for lb in read_labels(out.parent)}
        chosen = [item for item in chosen if item.id not in done]
    print(dump([data.texts[item.id] for item in chosen], batch=f"agreement sample of {args.size}",
               labeller=args.labeller, path=f"/work/labels/agreement.txt --out {_shown(out)}"))
    print(f"agreement sample: {len(chosen)} messages", file=sys.stderr)
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    corpus = _corpus()
    data = EvaluationSet.load(args.data, corpus)
    in_manifest = {row.item for row in data.manifest}

    def text_of(item: Item) -> EvalText:
        if item not in in_manifest:
            raise KeyError(f"{item.id} is not in {MANIFEST}")
        return data.texts[item.id]

    try:
        sheet = read(args.worksheet, text_of)
    except WorksheetError as exc:
        print(f"{args.worksheet}: {len(exc.problems)} problem(s), nothing written:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    if args.out is not None:
        out = args.out
    else:
        batch = _BATCH.match(sheet.batch)
        if not batch:
            sys.exit(f"{args.worksheet}: header 'batch: K of N' missing or malformed ({sheet.batch!r}); use --out")
        out = args.data / LABELS_DIR / f"batch-{batch['k']}.jsonl"
    existing = {lb.id: lb for lb in (read_labels(out.parent) if out.parent.is_dir() else [])}
    clashes = [f"{lb.id} (labelled in {existing[lb.id].source})" for lb in sheet.labels
               if lb.id in existing and not _read_from(existing[lb.id], out)]
    if clashes:
        print("already labelled in another file, nothing written:\n  " + "\n  ".join(clashes), file=sys.stderr)
        return 2
    rows = {row.item: row for row in data.manifest}
    problems = [p for lb in sheet.labels for p in validate(lb, data.texts[lb.id], rows)]
    if problems:
        print("problems, nothing written:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    kept = [lb for lb in existing.values() if _read_from(lb, out)]
    merged: dict[str, Label] = {lb.id: lb for lb in kept}
    merged.update((lb.id, lb) for lb in sheet.labels)
    write_labels(out, merged.values())
    splits = Counter(lb.split for lb in sheet.labels)
    spans = Counter(s.category for lb in sheet.labels for s in lb.spans if s.origin == "hand")
    print(f"ingested {len(sheet.labels)} messages (dev {splits['dev']}, test {splits['test']}) into {out}; "
          f"{len(sheet.open)} still open; hand spans: "
          + ", ".join(f"{c} {n}" for c, n in sorted(spans.items())), file=sys.stderr)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    corpus = Corpus.load()
    try:
        data = EvaluationSet.load(args.data, corpus)
    except LabelError as exc:
        print(exc, file=sys.stderr)
        return 2
    assignment = batch_numbers(data.manifest)
    done = {lb.id for lb in data.labels}
    per_batch: Counter[tuple[int, str]] = Counter()
    total: Counter[int] = Counter()
    for item in data.items:
        total[assignment[item]] += 1
        if item.id in done:
            per_batch[(assignment[item], item.split)] += 1
    of = batch_count()
    for k in range(1, of + 1):
        labelled = per_batch[(k, "dev")] + per_batch[(k, "test")]
        print(f"batch {k} of {of}: {labelled}/{total[k]} labelled "
              f"(dev {per_batch[(k, 'dev')]}, test {per_batch[(k, 'test')]})")
    print(f"all: {len(done)}/{len(data.items)} labelled")
    problems = data.problems()
    if not corpus:
        print("(corpus absent: offsets and hashes not checked)")
    for problem in problems:
        print(f"problem: {problem}")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.accuracy_label", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help=f"evaluation set directory (default {DATA})")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("dump", help="write the worksheet of a batch to stdout")
    p.add_argument("--batch", type=int, help=f"1..{batch_count()} (round 1: 1-6, round 2: 7-12, round 3: 13-18)")
    p.add_argument("--agreement", action="store_true",
                   help="the second reader's worksheet: the seeded dev sample (docs/accuracy.md), without labels")
    p.add_argument("--size", type=int, default=SAMPLE_SIZE, help=f"with --agreement: sample size (default {SAMPLE_SIZE})")
    p.add_argument("--labeller", default="", help="your name, written into the worksheet header")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--unlabelled", action="store_true", help="leave out messages already labelled")
    group.add_argument("--with-labels", action="store_true",
                       help="write labelled messages done, with their spans (to review and re-ingest a batch)")
    p.set_defaults(run=cmd_dump)
    p = sub.add_parser("ingest", help="read a worksheet into the label files")
    p.add_argument("worksheet", type=Path)
    p.add_argument("--out", type=Path, help="label file to write (default labels/batch-K.jsonl from the header)")
    p.set_defaults(run=cmd_ingest)
    p = sub.add_parser("status", help="labelled messages per batch, and label problems")
    p.set_defaults(run=cmd_status)
    p = sub.add_parser("draw", help="recompute the draw and compare it with (or write) the manifest")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--check", action="store_true", help="compare with the committed manifest (default)")
    group.add_argument("--write", action="store_true", help="rewrite the manifest")
    p.set_defaults(run=cmd_draw)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
