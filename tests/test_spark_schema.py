"""One schema: the outputs of compliance.spark written as Parquet read back in the audit's
tools (docs/SCHEMAS.md), and the HTML report built from a Spark run's findings equals the one
built from ``compliance audit``'s own findings.parquet of the same archive."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

pq = pytest.importorskip("pyarrow.parquet")

ARCHIVE = [
    {"id": "1", "text": "【京东】全网最低价，快来抢购！！回T退订", "merchant": "m1", "at": "2026-11-24T10:00:00+08:00"},
    {"id": "2", "text": "【好店】新品上市，详询13800138000，回T退订", "merchant": "m2", "at": "2026-11-24T23:30:00+08:00"},
    {"id": "3", "text": "【好店】您的订单已发货，请注意查收。回T退订", "merchant": "m1", "at": "2026-11-25T00:30:00+08:00"},
    {"id": "4", "text": "【好店】國家級品質，全 网 最 低 价！！！拒收请回复R", "merchant": "m3", "at": "2026-11-25T09:00:00+08:00"},
    {"id": "5", "text": "【好店】新品上市，详询13800138000，回T退订", "merchant": "m3", "at": "2026-11-26T09:00:00+08:00"},
]


def spark_test(test: Any) -> Any:
    """Needs the local[2] session (tests/conftest.py): slow (a JVM) and marked ``spark``."""
    return pytest.mark.slow(pytest.mark.spark(test))


def test_spark_column_lists_match_the_schema_doc() -> None:
    """docs/SCHEMAS.md names every column of every output, in order."""
    from compliance import spark

    doc = (Path(__file__).resolve().parents[1] / "docs" / "SCHEMAS.md").read_text(encoding="utf-8")
    for name in ("FINDING_COLUMNS", "VERDICT_COLUMNS", "REPLAY_COLUMNS", "ELIGIBILITY_COLUMNS", "AUDIENCE_COLUMNS"):
        columns = getattr(spark, name)
        table = doc.split(f"<!-- {name} -->", 1)[1].split("\n\n", 1)[0]
        documented = [line.split("|")[1].strip().strip("`") for line in table.strip().splitlines()[2:]]
        assert documented[-len(columns):] == list(columns), name


@spark_test
def test_report_from_spark_findings_equals_the_audit(spark: Any, tmp_path: Path) -> None:
    from pyspark.sql import functions as F

    from compliance.audit.__main__ import main as audit_main
    from compliance.audit.readback import read_findings, report_from_findings
    from compliance.spark import audit

    archive = tmp_path / "archive.jsonl"
    archive.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ARCHIVE), encoding="utf-8")
    assert audit_main([str(archive), "--out", str(tmp_path / "cli"), "--channel", "jd.sms", "--jobs", "1",
                       "--findings-format", "parquet", "--progress", "none"]) == 1  # 1: error findings
    df = spark.read.json(str(archive)).withColumn("at", F.to_timestamp("at")).withColumn("channel", F.lit("jd.sms"))
    findings = audit(df, "jd.sms", id_col="id", carry=["text", "merchant", "at", "channel"])
    findings.write.parquet(str(tmp_path / "spark-findings"))

    ours, texts = read_findings([tmp_path / "spark-findings"])
    theirs, _ = read_findings([tmp_path / "cli" / "findings.parquet"])
    assert ours.schema == theirs.schema
    keep = ["id", "merchant", "at", "channel", "rule", "ref", "category", "severity", "field", "start", "end",
            "message", "fix"]
    rows = sorted(tuple(r.values()) for r in ours.select(keep).to_pylist())
    assert rows and rows == sorted(tuple(r.values()) for r in theirs.select(keep).to_pylist())
    assert len(texts) == ours.num_rows and all(texts)

    report = report_from_findings([tmp_path / "spark-findings"], tmp_path / "report")
    html = report.read_text(encoding="utf-8")
    summary = json.loads((tmp_path / "report" / "summary.json").read_text(encoding="utf-8"))
    audited = json.loads((tmp_path / "cli" / "summary.json").read_text(encoding="utf-8"))
    for key in ("findings", "records_with_findings", "findings_by_severity", "findings_by_category",
                "findings_by_rule", "findings_by_merchant", "findings_by_day"):
        assert summary[key] == audited[key], key
    # The worst texts, highlighted as the audit highlights them (only "first seen at" differs).
    def worst(page: str) -> str:
        return re.sub(r"first seen at [^<]*? — ", "", page.split("Worst texts</h2>")[1].split("<h2>")[0])

    cli_html = (tmp_path / "cli" / "report.html").read_text(encoding="utf-8")
    assert "全网最低价</mark>" in worst(html)
    assert worst(html) == worst(cli_html)
