"""Which corpus lines are in the evaluation set: the seeded draw, the split, the batches.

The evaluation set is drawn in rounds (`ROUNDS`); a later round adds lines and never changes
an earlier one. A round (`draw`) takes every spam line (label 1) of ``sms_spam_zh.tsv`` not
drawn before, a sample of its ordinary sentences (label 0), and from each ``fbs_*.txt`` at least
a minimum of lines plus a share of a total proportional to the file's size. Candidates are the
non-blank lines whose text is not an exact repeat of an earlier line of the same file (FBS
repeats itself; a repeat would count the same message twice) and that no earlier round drew.
Each file is sampled with its own `random.Random`, seeded with ``f"{seed}:{file}"``, so a
file's sample does not depend on the others. `draw_rounds` gives the whole set.

The result is committed as a manifest (``tests/data/accuracy/manifest.tsv``): file, line,
split, the hash of the evaluation text (`compliance.evaluation.render.text_sha`) and the round
— never the text.

The split is fixed (others rely on it): `split_of`. Batches for parallel labellers
(`batches`) deal a round's lines out round-robin, file by file, in an order given by a hash, so
each batch has about the same mix of files and splits; `batch_numbers` numbers the batches of
all rounds in one sequence (round 1: 1–6, round 2: 7–12, round 3: 13–18).
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
    "ROUNDS",
    "Round",
    "SEED",
    "batch_count",
    "batch_numbers",
    "batches",
    "draw",
    "draw_rounds",
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
MANIFEST_HEADER = "# file\tline\tsplit\tsha\tround"


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


@dataclass(frozen=True, slots=True)
class Round:
    """One round of the draw: its seed, its quotas and how many labelling batches it is dealt into."""

    seed: str
    ham: int
    fbs_minimum: int
    fbs_total: int
    batches: int


#: The rounds of the evaluation set, in order. Round 1 (699 lines) was labelled first; rounds 2
#: and 3 (600 lines each) add ordinary sentences and FBS lines no earlier round drew (the TSV's
#: spam lines are all in round 1). Never change a round once labelled: add one.
ROUNDS: tuple[Round, ...] = (
    Round(SEED, HAM_SAMPLE, FBS_MINIMUM, FBS_TOTAL, 6),
    Round("compliance-accuracy-v2", 150, 40, 450, 6),
    Round("compliance-accuracy-v3", 150, 40, 450, 6),
)


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
         fbs_total: int = FBS_TOTAL, exclude: frozenset[Item] = frozenset()) -> list[Item]:
    """One round of the draw over ``corpus``, leaving out ``exclude`` (the lines of earlier
    rounds); sorted by file then line (see the module docstring)."""
    items: list[Item] = []
    spam = [n for n, (label, text) in enumerate(corpus.tsv, 1) if label == "1" and text.strip()]
    items.extend(item for item in (Item(TSV_FILE, n) for n in spam) if item not in exclude)
    ham_lines = [text if label == "0" else "" for label, text in corpus.tsv]
    items.extend(_sample(TSV_FILE, _unused(TSV_FILE, _candidates(ham_lines), exclude), ham, seed))
    candidates = {name: _unused(name, _candidates(lines), exclude) for name, lines in sorted(corpus.fbs.items())}
    total = sum(len(c) for c in candidates.values())
    extra = max(0, fbs_total - fbs_minimum * len(candidates))
    for name, numbers in candidates.items():
        share = fbs_minimum + (round(extra * len(numbers) / total) if total else 0)
        items.extend(_sample(name, numbers, share, seed))
    return sorted(items)


def _unused(file: str, numbers: Sequence[int], exclude: frozenset[Item]) -> list[int]:
    return [n for n in numbers if Item(file, n) not in exclude]


def draw_rounds(corpus: Corpus, rounds: Sequence[Round] = ROUNDS) -> dict[Item, int]:
    """Every round of the draw: item → its round (1-based), in file-then-line order."""
    out: dict[Item, int] = {}
    for number, spec in enumerate(rounds, 1):
        chosen = draw(corpus, seed=spec.seed, ham=spec.ham, fbs_minimum=spec.fbs_minimum,
                      fbs_total=spec.fbs_total, exclude=frozenset(out))
        out.update((item, number) for item in chosen)
    return dict(sorted(out.items()))


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


def batch_numbers(rows: Iterable[ManifestRow], rounds: Sequence[Round] = ROUNDS) -> dict[Item, int]:
    """The batch of every manifest row, numbered across rounds: round 1's batches first, then
    round 2's, and so on (each round dealt with `batches`)."""
    by_round: dict[int, list[Item]] = defaultdict(list)
    for row in rows:
        by_round[row.round].append(row.item)
    out: dict[Item, int] = {}
    offset = 0
    for number, spec in enumerate(rounds, 1):
        out.update((item, offset + k) for item, k in batches(by_round.pop(number, []), spec.batches).items())
        offset += spec.batches
    if by_round:
        raise ValueError(f"manifest rows of unknown rounds: {sorted(by_round)} (known: 1-{len(rounds)})")
    return out


def batch_count(rounds: Sequence[Round] = ROUNDS) -> int:
    """How many batches all rounds have together."""
    return sum(spec.batches for spec in rounds)


class ManifestError(ValueError):
    """The manifest file is malformed (the message names the file and line)."""


@dataclass(frozen=True, slots=True)
class ManifestRow:
    """One line of the manifest: the item, its split, the hash of its evaluation text and the
    round of the draw that took it."""

    item: Item
    split: str
    sha: str
    round: int = 1


def write_manifest(path: Path, rows: Iterable[ManifestRow]) -> None:
    """Write the manifest (TSV with a commented header)."""
    lines = [MANIFEST_HEADER]
    lines.extend(f"{r.item.file}\t{r.item.line}\t{r.split}\t{r.sha}\t{r.round}" for r in rows)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_manifest(path: Path) -> list[ManifestRow]:
    """Read the manifest; `ManifestError` for a malformed line."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if (len(fields) not in (4, 5) or not fields[1].isdigit() or fields[2] not in ("dev", "test")
                or (len(fields) == 5 and not fields[4].isdigit())):
            raise ManifestError(f"{path}:{number}: expected file<TAB>line<TAB>dev|test<TAB>sha<TAB>round, got {line!r}")
        round_ = int(fields[4]) if len(fields) == 5 else 1
        rows.append(ManifestRow(Item(fields[0], int(fields[1])), fields[2], fields[3], round_))
    return rows
