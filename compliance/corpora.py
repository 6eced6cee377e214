"""The shared corpora: real Chinese commercial SMS nobody on the team wrote.

For tests and benchmarks only. They live beside the repository checkout in
``../shared/corpora`` (or wherever ``$COMPLIANCE_CORPORA`` points) and are never copied into the
repository. Every reader here returns an empty list when the folder is absent, so callers can
skip cleanly.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

#: Spaces between two CJK characters (incl. CJK punctuation and full-width forms). FBS lines are
#: word-segmented with spaces; removing these gives the text as it was sent (corpora README).
CJK_GAP = re.compile(r"(?<=[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]) +"
                     r"(?=[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef])")


def corpora_dir() -> Path:
    """Where the corpora are expected (they may be absent: see `available`)."""
    explicit = os.environ.get("COMPLIANCE_CORPORA")
    if explicit:
        return Path(explicit)
    return Path(__file__).resolve().parents[2] / "shared" / "corpora"


def available() -> bool:
    """Are the corpora there?"""
    return (corpora_dir() / "sms_spam_zh.tsv").exists()


def spam_lines() -> list[tuple[str, str]]:
    """(label, text) of every line of sms_spam_zh.tsv; label "1" is a commercial SMS."""
    path = corpora_dir() / "sms_spam_zh.tsv"
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        label, _, text = line.partition("\t")
        out.append((label, text))
    return out


def fbs_lines(pattern: str = "fbs_*.txt") -> list[tuple[Path, str]]:
    """(file, line as distributed, word-segmented) of the FBS files, files in name order."""
    out = []
    for path in sorted(corpora_dir().glob(pattern)):
        out.extend((path, line) for line in path.read_text(encoding="utf-8").splitlines())
    return out


def rejoin(segmented: str) -> str:
    """An FBS line as it was sent: spaces between CJK characters removed."""
    return CJK_GAP.sub("", segmented)


def all_texts() -> list[str]:
    """Every corpus text as sent: the TSV texts, then the rejoined FBS lines."""
    return [text for _, text in spam_lines()] + [rejoin(line) for _, line in fbs_lines()]
