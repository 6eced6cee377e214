"""Which corpus lines are in the evaluation set: the seeded draw, the split, the batches.

The draw (`draw`) takes every spam line (label 1) of ``sms_spam_zh.tsv``, `HAM_SAMPLE` of its
ordinary sentences (label 0), and from each ``fbs_*.txt`` at least `FBS_MINIMUM` lines plus a
share of `FBS_TOTAL` proportional to the file's size. Candidates are the non-blank lines whose
text is not an exact repeat of an earlier line of the same file (FBS repeats itself; a repeat
would count the same message twice). Each file is sampled with its own `random.Random`, seeded
with ``f"{SEED}:{file}"``, so a file's sample does not depend on the others.

The result is committed as a manifest (``tests/data/accuracy/manifest.tsv``): file, line,
split and the hash of the evaluation text (`compliance.evaluation.render.text_sha`) — never
the text.

The split is fixed (others rely on it): `split_of`. Batches for parallel labellers
(`batches`) deal the lines out round-robin, file by file, in an order given by a hash, so each
batch has about the same mix of files and splits.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from compliance import corpora

from .render import TSV_FILE, EvalText, evaluation_text

__all__ = [
    "Corpus",
    "FBS_MINIMUM",
    "FBS_TOTAL",
    "HAM_SAMPLE",
    "Item",
    "ManifestError",
    "ManifestRow",
    "SEED",
    "batches",
    "draw",
    "read_manifest",
    "split_of",
    "write_manifest",
]

SEED = "compliance-accuracy-v1"
#: Ordinary sentences (label 0) of the TSV file: false alarms matter.
HAM_SAMPLE = 150
#: Every FBS file gets at least this many lines ...
FBS_MINIMUM = 60
#: ... and the FBS files together about this many (the rest shared in proportion to size).
FBS_TOTAL = 436
MANIFEST_HEADER = "# file\tline\tsplit\tsha"


def split_of(file: str, line: int) -> str:
    """``"test"`` for a third of the lines (by a stable hash of ``file:line``), else ``"dev"``."""
    digest = hashlib.sha256(f"{file}:{line}".encode()).hexdigest()
    return "test" if int(digest, 16) % 3 == 0 else "dev"


@dataclass(frozen=True, slots=True, order=True)
class Item:
    """A corpus line: file basename and 1-based line number."""

    file: str
    line: int

    @property
    def id(self) -> str:
        """``"file:line"``, as labels and worksheets name the line."""
        return f"{self.file}:{self.line}"

    @property
    def split(self) -> str:
        """``"dev"`` or ``"test"`` (`split_of`)."""
        return split_of(self.file, self.line)

    @classmethod
    def parse(cls, ident: str) -> Item:
        """``"file:line"`` → Item (ValueError when it is not of that form)."""
        file, sep, line = ident.rpartition(":")
        if not sep or not file or not line.isdigit() or int(line) < 1:
            raise ValueError(f"expected file:line (e.g. sms_spam_zh.tsv:17), got {ident!r}")
        return cls(file, int(line))


class Corpus:
    """The corpus lines as distributed, by file basename (read through `compliance.corpora`)."""

    def __init__(self, tsv: Sequence[tuple[str, str]], fbs: Mapping[str, Sequence[str]]) -> None:
        self.tsv = list(tsv)
        self.fbs = {name: list(lines) for name, lines in fbs.items()}

    @classmethod
    def load(cls) -> Corpus:
        """Read ``../shared/corpora`` (or ``$COMPLIANCE_CORPORA``); empty when absent."""
        fbs: dict[str, list[str]] = defaultdict(list)
        for path, line in corpora.fbs_lines():
            fbs[path.name].append(line)
        return cls(corpora.spam_lines(), fbs)

    def __bool__(self) -> bool:
        return bool(self.tsv) or any(self.fbs.values())

    def files(self) -> list[str]:
        """Every file basename, TSV first, then the FBS files in name order."""
        return ([TSV_FILE] if self.tsv else []) + sorted(self.fbs)

    def raw(self, item: Item) -> str:
        """The line as distributed (KeyError/IndexError when the corpus has no such line)."""
        if item.file == TSV_FILE:
            label, text = self.tsv[item.line - 1]
            return f"{label}\t{text}"
        if item.line > len(self.fbs[item.file]):
            raise IndexError(f"{item.file} has {len(self.fbs[item.file])} lines, not {item.line}")
        return self.fbs[item.file][item.line - 1]

    def text(self, item: Item) -> EvalText:
        """The evaluation text of a line (`compliance.evaluation.render.evaluation_text`)."""
        if item.line < 1:
            raise IndexError(f"line numbers start at 1: {item.id}")
        return evaluation_text(item.file, item.line, self.raw(item))


def _candidates(lines: Iterable[str]) -> list[int]:
    """1-based numbers of the non-blank lines that are not repeats of an earlier line."""
    seen: set[str] = set()
    out = []
    for number, line in enumerate(lines, 1):
        key = corpora.rejoin(line).strip()
        if key and key not in seen:
            out.append(number)
        seen.add(key)
    return out


def _sample(file: str, numbers: Sequence[int], size: int, seed: str) -> list[Item]:
    rng = random.Random(f"{seed}:{file}")
    chosen = rng.sample(list(numbers), min(size, len(numbers)))
    return [Item(file, n) for n in sorted(chosen)]


def draw(corpus: Corpus, *, seed: str = SEED, ham: int = HAM_SAMPLE, fbs_minimum: int = FBS_MINIMUM,
         fbs_total: int = FBS_TOTAL) -> list[Item]:
    """The evaluation set of ``corpus``, sorted by file then line (see the module docstring)."""
    items: list[Item] = []
    spam = [n for n, (label, text) in enumerate(corpus.tsv, 1) if label == "1" and text.strip()]
    items.extend(Item(TSV_FILE, n) for n in spam)
    ham_lines = [text if label == "0" else "" for label, text in corpus.tsv]
    items.extend(_sample(TSV_FILE, _candidates(ham_lines), ham, seed))
    candidates = {name: _candidates(lines) for name, lines in sorted(corpus.fbs.items())}
    total = sum(len(c) for c in candidates.values())
    extra = max(0, fbs_total - fbs_minimum * len(candidates))
    for name, numbers in candidates.items():
        share = fbs_minimum + (round(extra * len(numbers) / total) if total else 0)
        items.extend(_sample(name, numbers, share, seed))
    return sorted(items)


def batches(items: Iterable[Item], of: int) -> dict[Item, int]:
    """Batch number (1..``of``) of each item: round-robin, file by file, in hash order."""
    if of < 1:
        raise ValueError(f"the number of batches must be at least 1, got {of}")
    by_file: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        by_file[item.file].append(item)
    out: dict[Item, int] = {}
    counter = 0
    for file in sorted(by_file):
        ordered = sorted(by_file[file], key=lambda i: hashlib.sha256(f"batch:{i.id}".encode()).hexdigest())
        for item in ordered:
            out[item] = counter % of + 1
            counter += 1
    return out


class ManifestError(ValueError):
    """The manifest file is malformed (the message names the file and line)."""


@dataclass(frozen=True, slots=True)
class ManifestRow:
    """One line of the manifest: the item, its split and the hash of its evaluation text."""

    item: Item
    split: str
    sha: str


def write_manifest(path: Path, rows: Iterable[ManifestRow]) -> None:
    """Write the manifest (TSV with a commented header)."""
    lines = [MANIFEST_HEADER]
    lines.extend(f"{r.item.file}\t{r.item.line}\t{r.split}\t{r.sha}" for r in rows)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_manifest(path: Path) -> list[ManifestRow]:
    """Read the manifest; `ManifestError` for a malformed line."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 4 or not fields[1].isdigit() or fields[2] not in ("dev", "test"):
            raise ManifestError(f"{path}:{number}: expected file<TAB>line<TAB>dev|test<TAB>sha, got {line!r}")
        rows.append(ManifestRow(Item(fields[0], int(fields[1])), fields[2], fields[3]))
    return rows
