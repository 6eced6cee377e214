"""compliance.spark on a local[2] SparkSession: the cluster answers what `Engine.lint` answers.

Slow (a JVM starts once per session, ≈10 s); skipped when pyspark or Java is missing.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

from compliance.engine import Engine
from compliance.findings import SEVERITY_RANK


def spark_test(test: Any) -> Any:
    """Tests that need the Spark session (tests/conftest.py): slow (a JVM) and marked ``spark``."""
    return pytest.mark.slow(pytest.mark.spark(test))


MESSAGES: list[tuple[int, str | None]] = [
    (1, "【京东】全网最低价，快来抢购！！回T退订"),
    (2, "【好店】新品上市，详询13800138000，回T退订"),
    (3, "你好"),
    (4, "【好店】您的订单已发货，请注意查收。回T退订"),
    (5, "【好店】新品上市，详询13800138000，回T退订"),  # repeats 2: the batch cache must not mix rows up
    (6, None),
    (7, "【好店】國家級品質，全 网 最 低 价！！！拒收请回复R"),
]


def _finding_row(row_id: Any, finding: Any) -> tuple[Any, ...]:
    return (row_id, finding.rule, finding.ref, finding.category, finding.severity, finding.field,
            finding.start, finding.end, finding.message, finding.fix)


@pytest.fixture(scope="session")
def messages_df(spark: Any) -> Any:
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    schema = StructType([StructField("id", LongType(), False), StructField("text", StringType(), True)])
    return spark.createDataFrame(MESSAGES, schema).repartition(2)


@spark_test
def test_audit_equals_engine_lint(engine: Engine, messages_df: Any) -> None:
    from compliance.spark import FINDING_COLUMNS, audit

    result = audit(messages_df, "jd.sms", id_col="id")
    assert result.columns == ["id", *FINDING_COLUMNS]
    got = sorted(tuple(r) for r in result.collect())
    expected = sorted(_finding_row(row_id, f) for row_id, text in MESSAGES if text is not None
                      for f in engine.lint(text, channel="jd.sms").findings)
    assert expected, "the literal messages must produce findings for this test to mean anything"
    assert got == expected


@spark_test
def test_audit_without_id_carries_the_text(engine: Engine, messages_df: Any) -> None:
    from compliance.spark import audit

    result = audit(messages_df.select("text"), "jd.sms")
    assert result.columns[0] == "text"
    got = sorted(tuple(r) for r in result.collect())
    expected = sorted(_finding_row(text, f) for _, text in MESSAGES if text is not None
                      for f in engine.lint(text, channel="jd.sms").findings)
    assert got == expected


@spark_test
def test_verdicts_keep_every_row_and_column(engine: Engine, messages_df: Any) -> None:
    from compliance.spark import verdicts

    result = verdicts(messages_df, "jd.sms")
    assert result.columns == ["id", "text", "ok", "worst_severity", "finding_count"]
    rows = {r["id"]: r for r in result.collect()}
    assert sorted(rows) == [i for i, _ in MESSAGES]
    for row_id, text in MESSAGES:
        row = rows[row_id]
        assert row["text"] == text
        if text is None:
            assert (row["ok"], row["worst_severity"], row["finding_count"]) == (None, None, None)
            continue
        report = engine.lint(text, channel="jd.sms")
        worst = max((f.severity for f in report.findings), key=SEVERITY_RANK.__getitem__, default=None)
        assert (row["ok"], row["worst_severity"], row["finding_count"]) == (report.ok, worst, len(report.findings))
    assert rows[4]["ok"] is True and rows[1]["ok"] is False


@spark_test
def test_audit_by_fields(engine: Engine, spark: Any) -> None:
    from compliance.spark import audit

    data = [("a", "好店", "全网最低价，快来抢购", "回T退订"), ("b", "好店", "您的订单已发货", None)]
    df = spark.createDataFrame(data, "key string, sig string, body string, optout string")
    fields = {"signature": "sig", "body": "body", "optout": "optout"}
    got = sorted(tuple(r) for r in audit(df, "jd.sms", fields=fields, id_col="key").collect())
    expected = []
    for key, sig, body, optout in data:
        message = {k: v for k, v in {"signature": sig, "body": body, "optout": optout}.items() if v is not None}
        expected += [_finding_row(key, f) for f in engine.lint(message, channel="jd.sms").findings]
    assert expected and got == sorted(expected)


@spark_test
def test_bad_channel_and_column_fail_on_the_driver(messages_df: Any) -> None:
    from compliance.errors import UnknownChannelError
    from compliance.spark import audit, verdicts

    with pytest.raises(UnknownChannelError, match="jd.sms"):
        audit(messages_df, "jd.smss", id_col="id")
    with pytest.raises(ValueError, match=r"no column\(s\) 'body'"):
        verdicts(messages_df, "jd.sms", text_col="body")
    with pytest.raises(ValueError, match="no id column 'key'"):
        audit(messages_df, "jd.sms", id_col="key")


def test_one_engine_per_process_and_rule_set() -> None:
    from compliance import spark as adapter

    assert adapter._engine(()) is adapter._engine(())  # noqa: SLF001 - the per-worker cache itself
    assert adapter._rules_key("x.rules") == ("x.rules",)  # noqa: SLF001


def test_missing_pyspark_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from compliance import spark as adapter

    # A None entry in sys.modules makes `import pyspark.sql` raise ImportError.
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(ImportError, match=r"pip install 'compliance\[spark\]'"):
        adapter.audit(object(), "jd.sms")  # type: ignore[arg-type]


def test_missing_pandas_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    from compliance import spark as adapter

    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"needs pandas .*pyspark\[sql\]"):
        adapter.verdicts(object(), "jd.sms")  # type: ignore[arg-type]
