"""Archive readers: bad records with exact lines, nothing good dropped, checkpoints."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from compliance.io.archives import (
    LINE_COLUMN,
    RECORD_COLUMN,
    ArchiveError,
    BadRecord,
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
        (4, "must be a string, got int"),
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
    with pytest.raises(ArchiveError, match="type int64"):
        list(iter_archive(path, fields={"body": "n"}))


def test_unsupported_archive(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"")
    with pytest.raises(ArchiveError, match="supported"):
        list(iter_archive(path))
