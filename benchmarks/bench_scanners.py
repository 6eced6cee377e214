"""Throughput of every copy-analyzer scanner over the real corpus bodies.

Run: ``pytest benchmarks/bench_scanners.py --benchmark-only``. Each benchmark runs one
scanner over every corpus message once per round; divide the mean by the message count
(printed in ``extra_info["messages"]``) for µs per message. For comparison the suite also
times a naive alternative a user might write (``jieba.lcut`` of every message), which the
design forbids on the hot path. Skipped when ../shared/corpora is absent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from compliance.analyzer.scanners import (
    brackets_outside_signature,
    char_count,
    contacts,
    disallowed_links,
    embedded_signature_or_optout,
    halfwidth_punctuation,
    handwritten_values,
    incomplete_template,
    links,
    placeholders,
    repeated_punctuation,
    signature_problems,
    special_symbols,
    split_message,
    width,
)

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
OPTOUTS = ("回T退订", "拒收请回复R", "退订回T")
_CJK = "\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef"
_JOIN = re.compile(rf"(?<=[{_CJK}]) +(?=[{_CJK}])")

pytestmark = pytest.mark.skipif(
    not (CORPORA / "sms_spam_zh.tsv").exists(), reason="corpora absent"
)


def _bodies() -> list[str]:
    """Corpus messages: the TSV text column and the FBS lines with CJK spacing removed."""
    from compliance import corpora

    return corpora.all_texts()


@pytest.fixture(scope="module")
def bodies() -> list[str]:
    """All corpus bodies, loaded once per module."""
    return _bodies()


SCANNERS: dict[str, Callable[[str], Any]] = {
    "halfwidth_punctuation": halfwidth_punctuation,
    "repeated_punctuation": repeated_punctuation,
    "special_symbols": special_symbols,
    "brackets_outside_signature": lambda text: brackets_outside_signature(text, None),
    "placeholders": placeholders,
    "incomplete_template": lambda text: incomplete_template(text, 4),
    "handwritten_values": handwritten_values,
    "embedded_signature_or_optout": embedded_signature_or_optout,
    "contacts": contacts,
    "links": links,
    "disallowed_links": lambda text: disallowed_links(text, [".jd.com"]),
    "char_count": char_count,
    "width": width,
    "split_message": lambda text: split_message(text, OPTOUTS),
}


def _run_all(scanner: Callable[[str], Any], texts: list[str]) -> None:
    for text in texts:
        scanner(text)


@pytest.mark.parametrize("name", list(SCANNERS))
def test_scanner_over_corpus(benchmark: Any, bodies: list[str], name: str) -> None:
    """One scanner over every corpus message per round."""
    benchmark.group = "scanners over corpus"
    benchmark.extra_info["messages"] = len(bodies)
    benchmark(_run_all, SCANNERS[name], bodies)


_SIGNATURE_RE = re.compile(r"【[^【】]{1,40}】")


def test_signature_problems_over_corpus_signatures(benchmark: Any, bodies: list[str]) -> None:
    """`signature_problems` is meant for signatures, so it runs over the corpus' 【…】 only."""
    signatures = [match.group() for text in bodies for match in _SIGNATURE_RE.finditer(text)]
    benchmark.group = "signatures"
    benchmark.extra_info["messages"] = len(signatures)
    benchmark(_run_all, signature_problems, signatures)


def test_all_scanners_per_message(benchmark: Any, bodies: list[str]) -> None:
    """Every scanner on each message: the scanners' share of one lint."""
    benchmark.group = "scanners over corpus"
    benchmark.extra_info["messages"] = len(bodies)
    scanners = list(SCANNERS.values())

    def run() -> None:
        for text in bodies:
            for scanner in scanners:
                scanner(text)

    benchmark(run)


def test_naive_jieba_every_message(benchmark: Any, bodies: list[str]) -> None:
    """Baseline: segmenting every message with jieba (what the scanners avoid)."""
    import jieba

    jieba.initialize()
    benchmark.group = "scanners over corpus"
    benchmark.extra_info["messages"] = len(bodies)
    benchmark.pedantic(_run_all, args=(jieba.lcut, bodies), rounds=3, iterations=1)
