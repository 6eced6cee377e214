"""Agreement between readers (docs/accuracy.md, "Agreement between readers"): the seeded sample,
the agreement computation on synthetic labels of known agreement, and the committed
second-reader file (well formed, exactly the sample, kept apart from the gold labels)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from compliance import corpora
from compliance.evaluation.agreement import AGREEMENT_DIR, SAMPLE_SIZE, Kappa, cohen_kappa, compare, sample, sample_key
from compliance.evaluation.dataset import LABELS_DIR, EvaluationSet
from compliance.evaluation.draw import Corpus, Item, ManifestRow, read_manifest
from compliance.evaluation.labels import Label, Span, read_labels
from benchmark_scripts import load_script

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data" / "accuracy"
SECOND = DATA / AGREEMENT_DIR
needs_corpus = pytest.mark.skipif(not corpora.available(), reason="../shared/corpora absent")


# --- the sample rule -------------------------------------------------------------------------

def _rows(n: int) -> list[ManifestRow]:
    return [ManifestRow(Item("sms_spam_zh.tsv", k), Item("sms_spam_zh.tsv", k).split, "0" * 12, 1 + k % 3)
            for k in range(1, n + 1)]


def test_sample_is_the_first_dev_lines_by_the_salted_hash() -> None:
    rows = _rows(120)
    chosen = sample(rows, 10)
    dev = [row.item for row in rows if row.split == "dev"]
    expected = sorted(dev, key=lambda item: int(hashlib.sha256(f"agreement:{item.id}".encode()).hexdigest(), 16))[:10]
    assert chosen == expected
    assert all(item.split == "dev" for item in chosen)
    assert sample_key(chosen[0]) == hashlib.sha256(f"agreement:{chosen[0].id}".encode()).hexdigest()
    assert sample(list(reversed(rows)), 10) == chosen  # the manifest's order does not matter
    assert sample(rows, 5) == chosen[:5]  # a smaller sample is a prefix
    test_rows = [ManifestRow(Item("x.txt", k), "test", "0" * 12, 1) for k in range(1, 50)]
    assert sample(rows + test_rows, 10) == chosen  # test lines never take part
    assert all(item.split == "test" for item in sample(rows, 10, split="test"))


def test_committed_sample_covers_every_round_of_the_dev_split() -> None:
    rows = read_manifest(DATA / "manifest.tsv")
    chosen = sample(rows)
    assert len(chosen) == SAMPLE_SIZE == len(set(chosen))
    rounds = {row.item: row.round for row in rows}
    assert {rounds[item] for item in chosen} == {1, 2, 3}
    assert all(item.split == "dev" for item in chosen)


# --- the agreement computation ---------------------------------------------------------------

def _label(line: int, *spans: Span, file: str = "sms_spam_zh.tsv") -> Label:
    item = Item(file, line)
    return Label(file, line, item.split, tuple(spans), "t")


def _dev_lines(n: int) -> list[int]:
    return [k for k in range(1, 200) if Item("sms_spam_zh.tsv", k).split == "dev"][:n]


TEXT = "x" * 40


def test_identical_readers_agree_fully() -> None:
    lines = _dev_lines(4)
    gold = [_label(lines[0], Span(0, 4, "ad_law"), Span(10, 12, "contact", True, "r")),
            _label(lines[1], Span(3, 6, "inducement")), _label(lines[2]), _label(lines[3])]
    result = compare(gold, gold, {lb.id: TEXT for lb in gold})
    for mode in ("strict", "lenient"):
        total = result.spans[mode].total()
        assert total.precision == total.recall == total.f1 == 1.0
    assert result.kappa["strict"]["ad_law"].kappa == 1.0
    assert result.kappa["strict"]["impersonation"].kappa is None  # nobody says yes: undefined
    assert result.kappa["strict"]["impersonation"].observed == 1.0
    assert result.disagreements == []


def test_known_span_agreement_and_swapping_the_readers_swaps_precision_and_recall() -> None:
    a, b, c = _dev_lines(3)
    gold = [_label(a, Span(0, 4, "ad_law"), Span(10, 14, "ad_law"), Span(20, 22, "contact")),
            _label(b, Span(5, 8, "ad_law")), _label(c)]
    second = [_label(a, Span(2, 6, "ad_law"), Span(20, 22, "ad_law")),  # overlaps #1; wrong category
              _label(b, Span(6, 7, "ad_law"), Span(30, 33, "ad_law")),  # overlaps; extra
              _label(c, Span(1, 2, "impersonation"))]                   # extra
    texts = {lb.id: TEXT for lb in gold}
    result = compare(gold, second, texts)
    ad_law = result.spans["strict"].spans["ad_law"]
    assert (ad_law.gold, ad_law.found, ad_law.predicted, ad_law.correct) == (3, 2, 4, 2)
    assert ad_law.precision == 0.5 and ad_law.recall == pytest.approx(2 / 3)
    contact = result.spans["strict"].spans["contact"]
    assert (contact.gold, contact.found, contact.predicted) == (1, 0, 0)
    swapped = compare(second, gold, texts)
    for category in ("ad_law", "contact", "impersonation"):
        mine, theirs = result.spans["strict"].spans[category], swapped.spans["strict"].spans[category]
        assert (mine.precision, mine.recall) == (theirs.recall, theirs.precision)
    only = sorted((d.id, d.category, d.start, d.reader) for d in result.disagreements if d.kind == "only")
    assert only == sorted([(gold[0].id, "ad_law", 10, "gold"), (gold[0].id, "contact", 20, "gold"),
                           (gold[0].id, "ad_law", 20, "second"), (gold[1].id, "ad_law", 30, "second"),
                           (gold[2].id, "impersonation", 1, "second")])


def test_lenient_ignores_borderline_spans_of_both_readers() -> None:
    a, b = _dev_lines(2)
    gold = [_label(a, Span(0, 4, "ad_law"), Span(10, 14, "ad_law", True, "deadline")),
            _label(b, Span(0, 3, "impersonation"))]
    second = [_label(a, Span(0, 4, "ad_law", True, "maybe"), Span(10, 14, "ad_law")),
              _label(b, Span(0, 3, "impersonation"))]
    texts = {lb.id: TEXT for lb in gold}
    result = compare(gold, second, texts)
    strict = result.spans["strict"].spans["ad_law"]
    assert (strict.gold, strict.found, strict.predicted, strict.correct) == (2, 2, 2, 2)
    lenient = result.spans["lenient"].spans["ad_law"]
    # each reader's strict span is only overlapped by the other's borderline one: neither counts
    assert (lenient.gold, lenient.predicted) == (0, 0)
    swapped = compare(second, gold, texts).spans["lenient"].spans["ad_law"]
    assert (swapped.gold, swapped.predicted) == (0, 0)
    severity = sorted((d.start, d.reader) for d in result.disagreements if d.kind == "severity")
    assert severity == [(0, "gold"), (10, "second")]
    assert not [d for d in result.disagreements if d.kind == "only"]
    # message level, lenient: both readers positive on ad_law in message a (a strict span each)
    assert result.kappa["lenient"]["ad_law"].both == 1


def test_cohen_kappa_of_a_known_table() -> None:
    table = cohen_kappa([(True, True)] * 2 + [(True, False)] + [(False, True)] + [(False, False)] * 6)
    assert (table.both, table.gold_only, table.second_only, table.neither) == (2, 1, 1, 6)
    assert table.observed == pytest.approx(0.8)
    assert table.kappa == pytest.approx((0.8 - 0.58) / (1 - 0.58))
    assert Kappa(0, 5, 5, 0).kappa == pytest.approx(-1.0)
    assert Kappa().kappa is None and Kappa().observed is None


def test_message_kappa_per_category_and_mode() -> None:
    lines = _dev_lines(10)
    gold = [_label(k, Span(0, 2, "contact")) if i < 3 else _label(k) for i, k in enumerate(lines)]
    second = ([_label(k, Span(0, 2, "contact")) for k in lines[:2]] + [_label(lines[2])]
              + [_label(lines[3], Span(5, 6, "contact"))]
              + [_label(lines[4], Span(5, 6, "contact", True, "bare number"))] + [_label(k) for k in lines[5:]])
    result = compare(gold, second, {lb.id: TEXT for lb in gold})
    strict = result.kappa["strict"]["contact"]
    assert (strict.both, strict.gold_only, strict.second_only, strict.neither) == (2, 1, 2, 5)
    lenient = result.kappa["lenient"]["contact"]  # message 4: only a borderline span, left out
    assert (lenient.both, lenient.gold_only, lenient.second_only, lenient.neither) == (2, 1, 1, 5)


def test_placeholder_contacts_are_left_out_unless_asked_for() -> None:
    (a,) = _dev_lines(1)
    auto = Span(0, 11, "contact", False, "FBS placeholder PHONE", "placeholder")
    gold = [_label(a, auto, Span(20, 23, "contact"))]
    second = [_label(a, auto)]
    texts = {gold[0].id: TEXT}
    contact = compare(gold, second, texts).spans["strict"].spans["contact"]
    assert (contact.gold, contact.found, contact.predicted) == (1, 0, 0)
    contact = compare(gold, second, texts, hand_only=False).spans["strict"].spans["contact"]
    assert (contact.gold, contact.found, contact.predicted) == (2, 1, 1)


def test_messages_without_gold_are_reported_not_scored() -> None:
    a, b = _dev_lines(2)
    result = compare([_label(a)], [_label(a), _label(b, Span(0, 1, "ad_law"))], {Item("sms_spam_zh.tsv", a).id: TEXT})
    assert result.messages == 1 and result.missing == [Item("sms_spam_zh.tsv", b).id]
    assert result.spans["strict"].total().predicted == 0


# --- the committed second reader -------------------------------------------------------------

def test_second_reader_file_is_the_sample_and_well_formed_without_the_corpus() -> None:
    data = EvaluationSet.load(DATA)
    second = read_labels(SECOND)
    assert sorted(lb.item for lb in second) == sorted(sample(data.manifest))
    rows = {row.item: row for row in data.manifest}
    from compliance.evaluation.labels import validate

    assert [p for lb in second for p in validate(lb, None, rows)] == []
    assert all(lb.split == "dev" and lb.labeller for lb in second)
    assert any(s.origin == "hand" for lb in second for s in lb.spans)


def test_second_reader_is_not_read_as_gold() -> None:
    data = EvaluationSet.load(DATA)
    assert all(Path(lb.source.rpartition(":")[0]).parent.name == LABELS_DIR for lb in data.labels)
    gold = {lb.id for lb in data.labels}
    assert {lb.id for lb in read_labels(SECOND)} <= gold  # every sampled message has its gold label


@pytest.mark.corpus
@needs_corpus
def test_second_reader_file_is_well_formed_with_the_corpus() -> None:
    data = EvaluationSet.load(DATA, Corpus.load())
    rows = {row.item: row for row in data.manifest}
    from compliance.evaluation.labels import validate

    second = read_labels(SECOND)
    assert [p for lb in second for p in validate(lb, data.texts[lb.id], rows)] == []


_script = load_script


@pytest.mark.corpus
@needs_corpus
def test_agreement_worksheet_is_the_sample_without_labels(capsys: pytest.CaptureFixture[str]) -> None:
    label_tool = _script("accuracy_label")
    assert label_tool.main(["--data", str(DATA), "dump", "--agreement", "--labeller", "bo"]) == 0
    sheet = capsys.readouterr().out
    ids = re.findall(r"^=== \[(.)\] (\S+) \(dev\)$", sheet, flags=re.M)
    assert [i for _, i in ids] == [item.id for item in sample(read_manifest(DATA / "manifest.tsv"))]
    assert {done for done, _ in ids} == {" "}  # nothing done, although every message has gold
    assert not re.search(r'^[a-z_]+ \| "', sheet, flags=re.M)  # no span line: read blind
    assert "--out tests/data/accuracy/agreement/second-reader.jsonl" in sheet or AGREEMENT_DIR in sheet
    with pytest.raises(SystemExit):
        label_tool.main(["--data", str(DATA), "dump", "--agreement", "--with-labels"])


@pytest.mark.corpus
@needs_corpus
def test_agreement_benchmark_runs_and_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    benchmark = _script("accuracy_agreement")
    out = tmp_path / "agreement.json"
    assert benchmark.main(["--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "strict (borderline = violation)" in printed and "disagreements:" in printed
    payload = json.loads(out.read_text(encoding="utf-8"))
    assert payload["messages"] == SAMPLE_SIZE and payload["missing"] == []
    assert set(payload["kappa"]["strict"]) == {"ad_law", "contact", "inducement", "impersonation"}
    assert {d["reader"] for d in payload["disagreements"]} <= {"gold", "second"}
