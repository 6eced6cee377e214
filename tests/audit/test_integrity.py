"""Audit integrity: record ids of any JSON scalar type give the same audit in JSONL, CSV and
Parquet, ids stay text in every output, and bad records always count (``--max-bad-records``).

Each case runs the real command (``python -m compliance.audit``'s ``main``, in process) on the
same records written in the three formats.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from compliance.audit.__main__ import main
from compliance.audit.options import AuditUsageError, BadRecordLimit

from .conftest import TEXTS, read_jsonl, write_jsonl

FORMATS = ("jsonl", "csv", "parquet")
ISSUE_TEXT = "【好物小铺】全网最低价回T退订"  # one ad-law error


def rows(count: int) -> list[dict[str, Any]]:
    """Sends with integer ids, merchants and recipients (0 included)."""
    return [{"id": i, "text": TEXTS[i % len(TEXTS)], "merchant": 100 + i % 3, "recipient": 9_000_000_000 + i,
             "at": f"2024-05-0{1 + i % 5}T09:00:00+08:00"} for i in range(count)]


def write(fmt: str, path: Path, records: list[dict[str, Any]], *, bad_line: int | None = None) -> Path:
    """``records`` as an archive of ``fmt``; with ``bad_line``, that record (1-based) is made bad
    in the way the format allows: text of the wrong type (JSONL), a missing field (CSV), a
    null text (Parquet)."""
    path = path.with_suffix(f".{fmt}")
    if fmt == "jsonl":
        lines: list[Any] = list(records)
        if bad_line is not None:
            lines[bad_line - 1] = {**records[bad_line - 1], "text": 42}
        write_jsonl(path, lines)
    elif fmt == "csv":
        names = list(records[0])
        with open(path, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(names)
            for n, record in enumerate(records, start=1):
                values = [record[k] for k in names]
                if n == bad_line:
                    values[names.index("text")] = ""
                writer.writerow(values)
    else:
        columns = {k: [r[k] for r in records] for k in records[0]}
        if bad_line is not None:
            columns["text"][bad_line - 1] = None
        table = pa.table({k: pa.array(v, type=pa.int64() if k in ("id", "merchant", "recipient") else pa.string())
                          for k, v in columns.items()})
        pq.write_table(table, path, row_group_size=7)
    return path


def audit(archive: Path, out: Path, *extra: str) -> int:
    return main([str(archive), "--out", str(out), "--channel", "jd.sms", "--jobs", "1", "--progress", "none",
                 "--batch-size", "5", *extra])


def comparable(rows: list[dict[str, Any]], fmt: str) -> list[dict[str, Any]]:
    """Finding rows without what differs between formats: the archive path, and the line (a
    CSV's header is its line 1), which is checked against the record number instead."""
    header = 1 if fmt == "csv" else 0
    assert all(row["line"] == row["record"] + 1 + header for row in rows)
    return [{k: v for k, v in row.items() if k not in ("archive", "line")} for row in rows]


def test_the_issue_archive_with_integer_ids_is_audited(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``{"id": 0, "text": …}`` x5 used to be 0 records audited, 5 bad, exit 0."""
    archive = write_jsonl(tmp_path / "a.jsonl", [{"id": 0, "text": ISSUE_TEXT}] * 5)
    assert audit(archive, tmp_path / "out") == 1
    assert capsys.readouterr().out.startswith("audited 5 record(s) (0 bad)")
    rows_out = read_jsonl(tmp_path / "out" / "findings.jsonl")
    assert [(r["id"], r["rule"]) for r in rows_out] == [("0", "copy-ad-law")] * 5
    assert (tmp_path / "out" / "bad_records.jsonl").read_text(encoding="utf-8") == ""


def test_integer_ids_give_the_same_audit_in_every_format(tmp_path: Path) -> None:
    records = rows(23)
    results = {}
    for fmt in FORMATS:
        archive = write(fmt, tmp_path / "archive", records)
        code = audit(archive, tmp_path / f"out-{fmt}", "--findings-format", "parquet" if fmt == "parquet" else "jsonl")
        if fmt == "parquet":  # the Parquet findings hold the same rows, ids as strings
            table = pq.read_table(tmp_path / f"out-{fmt}" / "findings.parquet")
            assert table.schema.field("id").type == pa.string()
            got = comparable(table.to_pylist(), fmt)
        else:
            got = comparable(read_jsonl(tmp_path / f"out-{fmt}" / "findings.jsonl"), fmt)
        summary = json.loads((tmp_path / f"out-{fmt}" / "summary.json").read_text(encoding="utf-8"))
        results[fmt] = (code, got, summary["records"], summary["bad_records"], summary["findings_by_merchant"])
    assert results["jsonl"] == results["csv"] == results["parquet"]
    code, got, audited, bad, by_merchant = results["jsonl"]
    assert (code, audited, bad) == (1, 23, 0)
    assert {r["id"] for r in got} <= {str(i) for i in range(23)} and "0" in {r["id"] for r in got}
    assert all(isinstance(r[k], str) for r in got for k in ("id", "merchant", "recipient"))
    assert set(by_merchant) == {"100", "101", "102"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_bad_record_fails_the_audit_and_is_reported_by_line(fmt: str, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    archive = write(fmt, tmp_path / "archive", rows(12), bad_line=4)
    out = tmp_path / "out"
    assert audit(archive, out) == 2
    err = capsys.readouterr().err
    assert "1 bad record(s) of 12 read" in err and "--max-bad-records 0" in err
    # everything was written all the same
    bad = read_jsonl(out / "bad_records.jsonl")
    line = 5 if fmt == "csv" else 4  # a CSV's header is its line 1; a Parquet "line" is the row number
    assert [(b["line"], b["record"], b["id"]) for b in bad] == [(line, 3, "3")]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (summary["records"], summary["bad_records"], summary["too_many_bad_records"]) == (11, 1, True)
    assert summary["bad_record_sample"][0]["id"] == "3"
    assert (out / "report.html").exists() and summary["findings"] > 0
    assert ">3</td>" in (out / "report.html").read_text(encoding="utf-8")  # the id in the bad-records table


@pytest.mark.parametrize(("limit", "bad_lines", "code"), [
    ("1", [2], 1), ("1", [2, 7], 2), ("10%", [2], 1), ("10%", [2, 7], 2), ("0%", [2], 2), ("100%", [1, 2, 3], 1),
])
def test_max_bad_records(tmp_path: Path, limit: str, bad_lines: list[int], code: int) -> None:
    records: list[Any] = [{"id": i, "text": ISSUE_TEXT} for i in range(10)]
    for line in bad_lines:
        records[line - 1] = {"id": line - 1, "text": None if line % 2 else 1.5}
    archive = write_jsonl(tmp_path / "a.jsonl", records)
    assert audit(archive, tmp_path / "out", "--max-bad-records", limit) == code
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["max_bad_records"] == limit
    assert summary["too_many_bad_records"] is (code == 2)
    assert [b["line"] for b in read_jsonl(tmp_path / "out" / "bad_records.jsonl")] == bad_lines


def test_an_audit_of_bad_records_only_never_exits_0(tmp_path: Path) -> None:
    archive = write_jsonl(tmp_path / "a.jsonl", [{"id": 1.0, "text": ISSUE_TEXT}, {"id": True, "text": ISSUE_TEXT},
                                                 {"id": [1], "text": ISSUE_TEXT}])
    assert audit(archive, tmp_path / "out", "--fail-on", "never") == 2
    reasons = [b["reason"] for b in read_jsonl(tmp_path / "out" / "bad_records.jsonl")]
    assert reasons == ["field 'id' must be a string or an integer, got number 1.0",
                       "field 'id' must be a string or an integer, got boolean true",
                       "field 'id' must be a string or an integer, got array"]


def test_a_parquet_id_column_of_another_type_fails_the_audit(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"id": [0.5, 1.5], "text": [ISSUE_TEXT, ISSUE_TEXT]}), path)
    assert audit(path, tmp_path / "out") == 2
    assert "Parquet column 'id' (mapped to 'id') has type double, expected string or integer" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["x", "-1", "1.5", "101%", "%", "1e3"])
def test_max_bad_records_usage_errors(text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = write_jsonl(tmp_path / "a.jsonl", [{"text": ISSUE_TEXT}])
    with pytest.raises(SystemExit) as info:
        audit(archive, tmp_path / "out", "--max-bad-records", text)
    assert info.value.code == 2
    assert "--max-bad-records" in capsys.readouterr().err
    with pytest.raises(AuditUsageError):
        BadRecordLimit.parse(text)


def test_bad_record_limit_arithmetic() -> None:
    assert str(BadRecordLimit.parse("0.5%")) == "0.5%" and str(BadRecordLimit.parse(7)) == "7"
    half = BadRecordLimit.parse("0.5%")
    assert not half.exceeded(5, 1000) and half.exceeded(6, 1000)
    assert not BadRecordLimit.parse(0).exceeded(0, 0) and BadRecordLimit.parse(0).exceeded(1, 10**9)
    with pytest.raises(AuditUsageError):
        BadRecordLimit.parse(-1)
    with pytest.raises(AuditUsageError):
        BadRecordLimit.parse(True)  # type: ignore[arg-type]
