"""The evaluation set on disk: ``manifest.tsv`` and ``labels/*.jsonl`` of one directory.

The repository keeps it in ``tests/data/accuracy/``; the texts come from the corpus at run
time (`compliance.evaluation.draw.Corpus`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .draw import Corpus, Item, ManifestRow, read_manifest
from .labels import Label, read_labels, validate
from .render import EvalText
from .scoring import MODES, Score, score
from .systems import System

__all__ = ["EvaluationSet", "LABELS_DIR", "MANIFEST"]

MANIFEST = "manifest.tsv"
LABELS_DIR = "labels"


@dataclass
class EvaluationSet:
    """The manifest, the labels and (when the corpus is present) the evaluation texts."""

    directory: Path
    manifest: list[ManifestRow]
    labels: list[Label]
    texts: dict[str, EvalText]

    @classmethod
    def load(cls, directory: Path, corpus: Corpus | None = None) -> EvaluationSet:
        """Read ``directory``; the texts of every manifest line when ``corpus`` is given and not empty."""
        manifest = read_manifest(directory / MANIFEST)
        labels = read_labels(directory / LABELS_DIR) if (directory / LABELS_DIR).is_dir() else []
        texts: dict[str, EvalText] = {}
        if corpus:
            texts = {row.item.id: corpus.text(row.item) for row in manifest}
        return cls(directory, manifest, labels, texts)

    @property
    def items(self) -> list[Item]:
        return [row.item for row in self.manifest]

    def of_round(self, number: int) -> EvaluationSet:
        """The same set restricted to the lines of one round of the draw (manifest, labels, texts)."""
        manifest = [row for row in self.manifest if row.round == number]
        ids = {row.item.id for row in manifest}
        return EvaluationSet(self.directory, manifest, [lb for lb in self.labels if lb.id in ids],
                             {k: v for k, v in self.texts.items() if k in ids})

    def problems(self) -> list[str]:
        """Every problem of every label (see `compliance.evaluation.labels.validate`)."""
        rows = {row.item: row for row in self.manifest}
        out = []
        for label in self.labels:
            out.extend(validate(label, self.texts.get(label.id), rows))
        return out

    def labelled(self, split: str = "all") -> list[Label]:
        """The labels of ``split`` (``"dev"``, ``"test"`` or ``"all"``)."""
        return [lb for lb in self.labels if split in ("all", lb.split)]

    def evaluate(self, systems: Iterable[System], *, splits: Sequence[str] = ("dev", "test"),
                 modes: Sequence[str] = MODES) -> list[Score]:
        """Every system scored on every split in every mode (each message predicted once)."""
        if not self.texts:
            raise ValueError("the evaluation texts are missing (load with the corpus)")
        texts = {ident: t.text for ident, t in self.texts.items()}
        wanted = self.labelled("all") if len(splits) != 1 else self.labelled(splits[0])
        out: list[Score] = []
        for system in systems:
            predictions = {lb.id: system.predict(texts[lb.id]) for lb in wanted}
            out.extend(score(system.name, wanted, predictions, texts, split=split, mode=mode)
                       for split in splits for mode in modes)
        return out
