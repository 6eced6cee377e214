"""Archive readers: bad records with exact lines, nothing good dropped, checkpoints."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from compliance.io.archives import (
    LINE_COLUMN,
    RECORD_COLUMN,
    ArchiveError,
    BadRecord,
    ReadTracker,
    iter_archive,
)

JSONL_LINES = [
    b'{"content": "\xe5\x85\xa8\xe5\x9c\xba\xe4\xba\x94\xe6\x8a\x98", "shop": "s1"}',  # 1 good (全场五折)
    b"",  # 2 blank: not a record
    b'{"content": "broken"',  # 3 invalid JSON
    b'{"content": 42}',  # 4 wrong type
    b'{"content": "\xff\xfe"}',  # 5 invalid UTF-8
    b'{"shop": "s2"}',  # 6 missing mapped field
    b"[1, 2]",  # 7 not an object
    b'{"content": "ok \\u00e9", "shop": null}\r',  # 8 good (CRLF)
    b'{"content": "\\ud800"}',  # 9 lone surrogate
    b'{"content": "last", "shop": "s9"}',  # 10 good
]


def collect(path: Path, **kwargs):  # type: ignore[no-untyped-def]
    good: list[dict[str, object]] = []
    bad: list[BadRecord] = []
    batches = list(iter_archive(path, **kwargs))
    for batch in batches:
        good.extend(batch.records.to_pylist())
        bad.extend(batch.bad)
    return good, bad, batches


def expected_bad() -> list[tuple[int, str]]:
    return [
        (3, "invalid JSON"),
        (4, "field 'content' must be a string, got integer 42"),
        (5, "invalid UTF-8"),
        (6, "missing field 'content'"),
        (7, "expected a JSON object"),
        (9, "lone surrogate"),
    ]


@pytest.mark.parametrize("name", ["a.jsonl", "a.jsonl.gz"])
def test_jsonl_bad_records_have_exact_lines_and_good_ones_survive(tmp_path: Path, name: str) -> None:
    data = b"\n".join(JSONL_LINES) + b"\n"
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    good, bad, batches = collect(path, fields={"body": "content", "shop": "shop"}, optional={"shop"}, batch_size=4)
    assert [(r["body"], r["shop"], r[LINE_COLUMN]) for r in good] == [
        ("全场五折", "s1", 1),
        ("ok é", None, 8),
        ("last", "s9", 10),
    ]
    assert [(b.line, ) for b in bad] == [(line,) for line, _ in expected_bad()]
    for record, (line, reason) in zip(bad, expected_bad()):
        assert reason in record.reason, (line, record.reason)
        assert record.path == str(path)
    # Records are the 9 non-blank lines; batches consume exactly batch_size of them.
    assert [(b.first_record, b.next_record) for b in batches] == [(0, 4), (4, 8), (8, 9)]
    assert sorted([r[RECORD_COLUMN] for r in good] + [b.record for b in bad]) == list(range(9))
    assert batches[0].records.schema.field("body").type == pa.string()


def test_truncated_gzip_reports_and_keeps_what_was_read(tmp_path: Path) -> None:
    lines = [f'{{"text": "消息{i}"}}'.encode() for i in range(2000)]
    blob = gzip.compress(b"\n".join(lines) + b"\n")
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(blob[: len(blob) // 2])
    good, bad, _ = collect(path)
    assert len(bad) == 1 and "compressed stream" in bad[0].reason
    assert good, "records before the damage are kept"
    assert [r["text"] for r in good] == [f"消息{i}" for i in range(len(good))]
    assert bad[0].line > good[-1][LINE_COLUMN]


def test_resume_from_checkpoint_gives_the_same_records(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"\n".join(JSONL_LINES) + b"\n")
    fields = {"body": "content"}
    full_good, full_bad, batches = collect(path, fields=fields, batch_size=3)
    checkpoint = batches[1].next_record
    good, bad, resumed = collect(path, fields=fields, batch_size=3, skip_records=checkpoint)
    assert resumed[0].first_record == checkpoint
    assert good == [r for r in full_good if r[RECORD_COLUMN] >= checkpoint]
    assert bad == [b for b in full_bad if b.record >= checkpoint]


def test_csv_bad_rows_multiline_fields_bom_and_gzip(tmp_path: Path) -> None:
    text = (
        "\ufeffid,content\r\n"
        '1,"多\r\n行"\r\n'  # good, starts on line 2, spans 2 lines
        "2\r\n"  # line 4: too few fields
        "\r\n"  # line 5: blank
        "3,\r\n"  # line 6: missing value
        "4,好\r\n"  # line 7: good
    ).encode("utf-8") + b"5,\xff\r\n" + "6,末\r\n".encode("utf-8")  # line 8 invalid UTF-8, line 9 good
    for name, data in (("a.csv", text), ("a.csv.gz", gzip.compress(text))):
        path = tmp_path / name
        path.write_bytes(data)
        good, bad, _ = collect(path, fields={"body": "content", "id": "id"})
        assert [(r["id"], r["body"], r[LINE_COLUMN]) for r in good] == [("1", "多\r\n行", 2), ("4", "好", 7), ("6", "末", 9)]
        assert [(b.line, b.reason.split(" ")[0]) for b in bad] == [(4, "expected"), (6, "missing"), (8, "invalid")]


def test_csv_missing_column_is_an_archive_error(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("id,text\n1,x\n", encoding="utf-8")
    with pytest.raises(ArchiveError, match="no column 'content'"):
        list(iter_archive(path, fields={"body": "content"}))


def test_parquet_nulls_invalid_utf8_and_row_numbers(tmp_path: Path) -> None:
    values = [b"a", None, b"\xff", "中".encode(), b"e", b"f", b"g"]
    table = pa.table({"content": pa.array(values, pa.binary()), "n": list(range(7))})
    path = tmp_path / "a.parquet"
    pq.write_table(table, path, row_group_size=3)
    good, bad, batches = collect(path, fields={"body": "content"}, batch_size=2)
    assert [(r["body"], r[LINE_COLUMN]) for r in good] == [("a", 1), ("中", 4), ("e", 5), ("f", 6), ("g", 7)]
    assert [(b.line, b.record) for b in bad] == [(2, 1), (3, 2)]
    assert "missing value" in bad[0].reason and "invalid UTF-8" in bad[1].reason
    assert [b.consumed for b in batches] == [2, 2, 2, 1]
    resumed, _, rbatches = collect(path, fields={"body": "content"}, batch_size=2, skip_records=4)
    assert [r["body"] for r in resumed] == ["e", "f", "g"] and rbatches[0].first_record == 4


def test_parquet_string_column_and_wrong_type(tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"text": ["一", "二"], "n": [1, 2]}), path)
    good, bad, _ = collect(path)
    assert [r["text"] for r in good] == ["一", "二"] and bad == []
    with pytest.raises(ArchiveError, match="'n' \\(mapped to 'body'\\) has type int64, expected string$"):
        list(iter_archive(path, fields={"body": "n"}))


def test_unsupported_archive(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"")
    with pytest.raises(ArchiveError, match="supported"):
        list(iter_archive(path))


# -- identifiers: strings or integers, delivered as text, the same in every format ---------------

SENDS = [{"id": 0, "text": "一", "merchant": 12, "recipient": 13800138000},
         {"id": -7, "text": "二", "merchant": "s2", "recipient": None},
         {"id": "m3", "text": "三", "merchant": 2**63 - 1, "recipient": "u3"}]
MAPPING = {"text": "text", "id": "id", "merchant": "merchant", "recipient": "recipient"}
OPTIONAL = {"id", "merchant", "recipient"}
EXPECTED = [("0", "一", "12", "13800138000"), ("-7", "二", "s2", None), ("m3", "三", str(2**63 - 1), "u3")]


def _good(path: Path) -> list[tuple[object, ...]]:
    good, bad, _ = collect(path, fields=MAPPING, optional=OPTIONAL, batch_size=2)
    assert bad == []
    return [(r["id"], r["text"], r["merchant"], r["recipient"]) for r in good]


def test_integer_identifiers_are_text_in_jsonl_and_csv(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in SENDS) + "\n", encoding="utf-8")
    assert _good(path) == EXPECTED
    path = tmp_path / "a.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(list(SENDS[0]))
        writer.writerows([["" if v is None else v for v in r.values()] for r in SENDS])
    assert _good(path) == EXPECTED


def test_integer_parquet_identifier_columns_are_text(tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    table = pa.table({"id": pa.array([0, -7, None], pa.int64()), "text": ["一", "二", "三"],
                      "merchant": pa.array([12, 2, 2**63 - 1], pa.uint64()).dictionary_encode(),
                      "recipient": pa.array([13800138000, None, 3], pa.int64())})
    pq.write_table(table, path, row_group_size=2)
    assert _good(path) == [("0", "一", "12", "13800138000"), ("-7", "二", "2", None), (None, "三", str(2**63 - 1), "3")]
    batch = next(iter(iter_archive(path, fields=MAPPING, optional=OPTIONAL)))
    assert {batch.records.schema.field(n).type for n in MAPPING} == {pa.string()}


@pytest.mark.parametrize(("value", "reason"), [
    (1.0, "field 'id' must be a string or an integer, got number 1.0"),
    (True, "field 'id' must be a string or an integer, got boolean true"),
    ({"n": 1}, "field 'id' must be a string or an integer, got object"),
])
def test_other_identifier_types_are_bad_records(tmp_path: Path, value: object, reason: str) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"id": value, "text": "x"}) + "\n" + json.dumps({"id": 5, "channel": 5, "text": "y"})
                    + "\n", encoding="utf-8")
    good, bad, _ = collect(path, fields={"text": "text", "id": "id", "channel": "channel"}, optional={"id", "channel"})
    assert good == []
    assert [(b.line, b.reason, b.id) for b in bad] == [
        (1, reason, None), (2, "field 'channel' must be a string, got integer 5", "5")]


def test_parquet_identifier_column_of_another_type_is_an_archive_error(tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"id": [1.5], "text": ["x"], "n": [True]}), path)
    with pytest.raises(ArchiveError, match="'id' \\(mapped to 'id'\\) has type double, expected string or integer"):
        list(iter_archive(path, fields={"text": "text", "id": "id"}))
    with pytest.raises(ArchiveError, match="type bool, expected string or integer"):
        list(iter_archive(path, fields={"text": "text", "merchant": "n"}))


def test_identifiers_can_be_restricted(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"id": 0, "text": "x"}) + "\n", encoding="utf-8")
    good, bad, _ = collect(path, fields={"text": "text", "id": "id"}, identifiers=())
    assert good == [] and "must be a string, got integer 0" in bad[0].reason


def test_bad_records_carry_their_id_as_text(tmp_path: Path) -> None:
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('{"id": 41, "text": 1}\n{"id": "k", "text": null}\n{"id": 43, \n', encoding="utf-8")
    _, bad, _ = collect(jsonl, fields={"text": "text", "id": "id"}, optional={"id"})
    assert [(b.line, b.id) for b in bad] == [(1, "41"), (2, "k"), (3, None)]
    csv_path = tmp_path / "a.csv"
    csv_path.write_text("id,text\n41,\n42,x,y\n", encoding="utf-8")
    _, bad, _ = collect(csv_path, fields={"text": "text", "id": "id"}, optional={"id"})
    assert [(b.line, b.id) for b in bad] == [(2, "41"), (3, None)]
    parquet = tmp_path / "a.parquet"
    pq.write_table(pa.table({"id": pa.array([41, 42], pa.int64()), "text": [None, "x"]}), parquet)
    _, bad, _ = collect(parquet, fields={"text": "text", "id": "id"}, optional={"id"})
    assert [(b.line, b.id) for b in bad] == [(1, "41")]


def test_an_integer_too_long_to_read_is_a_bad_record(tmp_path: Path) -> None:
    """It used to escape as a ValueError from the reader (Python's int digit limit)."""
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": ' + "9" * 5000 + ', "text": "x"}\n{"text": "y"}\n', encoding="utf-8")
    good, bad, _ = collect(path, fields={"text": "text", "id": "id"}, optional={"id"})
    assert [r["text"] for r in good] == ["y"]
    assert bad[0].line == 1 and "an integer of more than" in bad[0].reason


# -- what was read: counted and hashed as it goes by ------------------------------------------------


@pytest.mark.parametrize("name", ["a.jsonl", "a.jsonl.gz", "a.csv", "a.csv.gz", "a.parquet"])
def test_read_tracker_hashes_the_bytes_read(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    texts = [f"消息{i}-" + hashlib.sha256(str(i).encode()).hexdigest() * 4 for i in range(3000)]  # not too compressible
    if name.startswith("a.jsonl"):
        data = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts).encode()
    else:
        data = ("text\n" + "".join(t + "\n" for t in texts)).encode()
    if name.endswith(".parquet"):
        pq.write_table(pa.table({"text": texts}), path)
    else:
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    whole = path.read_bytes()
    tracker = ReadTracker()
    batches = iter_archive(path, batch_size=100, tracker=tracker)
    first = next(batches)
    assert tracker.stat is not None and tracker.stat.st_size == len(whole)
    if name.endswith(".parquet"):  # hashed whole when opened
        assert tracker.read_bytes == len(whole) and tracker.eof
    else:  # a prefix that holds at least the records yielded
        assert 0 < tracker.read_bytes < len(whole) and not tracker.eof
        if name in ("a.jsonl", "a.csv"):
            assert tracker.read_bytes >= len(b"".join(data.splitlines(keepends=True)[: first.next_record + 1]))
    assert tracker.hexdigest() == hashlib.sha256(whole[: tracker.read_bytes]).hexdigest()
    assert sum(b.records.num_rows for b in batches) + first.records.num_rows == len(texts)
    assert (tracker.read_bytes, tracker.eof) == (len(whole), True)
    assert tracker.hexdigest() == hashlib.sha256(whole).hexdigest()
