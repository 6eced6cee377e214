"""The audit runner: bad records, field mapping, jobs, cache, summary, Parquet, exit codes."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from compliance.audit import AuditOptions, AuditUsageError, FieldMap, run_audit
from compliance.audit.summary import TIMING_KEYS

from .conftest import TEXTS, message_rows, read_jsonl, write_jsonl


def audit(engine: Any, archives: list[Path], out: Path, **kwargs: Any) -> Any:
    kwargs.setdefault("channel", "jd.sms")
    kwargs.setdefault("jobs", 1)
    kwargs.setdefault("progress", "none")
    return run_audit(AuditOptions(archives=archives, out=out, **kwargs), engine=engine)


def test_bad_records_are_reported_with_exact_lines_and_nothing_is_dropped(engine, archive, tmp_path):
    result = audit(engine, [archive], tmp_path / "out", batch_size=7)
    bad = read_jsonl(tmp_path / "out" / "bad_records.jsonl")
    assert [(b["line"], b["record"]) for b in bad] == [(11, 10), (21, 20), (31, 30)]
    assert "invalid JSON" in bad[0]["reason"]
    assert "must be a string" in bad[1]["reason"]
    assert "invalid UTF-8" in bad[2]["reason"]
    assert all(b["archive"] == str(archive) for b in bad)
    summary = result.summary
    assert (summary["records"], summary["bad_records"], summary["records_read"]) == (60, 3, 63)
    # every good line is audited: each one with a finding shows up with its own line number
    findings = read_jsonl(tmp_path / "out" / "findings.jsonl")
    lines_with_findings = {f["line"] for f in findings}
    good_lines = set(range(1, 64)) - {11, 21, 31}
    expected = {line for line in good_lines if engine.lint(_text_at(archive, line), channel="jd.sms").findings}
    assert lines_with_findings == expected
    assert summary["records_with_findings"] == len(expected)


def _text_at(path: Path, line: int) -> str:
    return json.loads(path.read_bytes().splitlines()[line - 1])["text"]


def test_findings_rows_carry_record_columns_and_match_engine(engine, tmp_path):
    archive = write_jsonl(tmp_path / "a.jsonl", message_rows(6))
    audit(engine, [archive], tmp_path / "out")
    rows = read_jsonl(tmp_path / "out" / "findings.jsonl")
    first = [r for r in rows if r["record"] == 0]
    expected = engine.lint(TEXTS[0], channel="jd.sms").findings
    assert [(r["rule"], r["ref"], r["category"], r["severity"], r["field"], r["start"], r["end"], r["message"], r["fix"])
            for r in first] == [(f.rule, f.ref, f.category, f.severity, f.field, f.start, f.end, f.message, f.fix)
                                for f in expected]
    assert {(r["id"], r["merchant"], r["recipient"], r["at"], r["channel"], r["line"]) for r in first} == {
        ("m0", "shop0", "u0", "2024-05-01T08:00:00+08:00", "jd.sms", 1)}
    assert list(first[0])[:8] == ["archive", "line", "record", "id", "merchant", "recipient", "at", "channel"]


def test_field_mapping_of_parts_from_csv(engine, tmp_path):
    path = tmp_path / "parts.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["msg_id", "sig", "content", "shop"])
        writer.writerow(["a1", "【好物商城】", "全网最低价，加微信abc123", "s1"])
        writer.writerow(["a2", "", "您的订单已发货", "s2"])
    fields = FieldMap.parse(["body=content", "signature=sig", "id=msg_id", "merchant=shop"])
    result = audit(engine, [path], tmp_path / "out", fields=fields)
    rows = read_jsonl(tmp_path / "out" / "findings.jsonl")
    expected = engine.lint({"signature": "【好物商城】", "body": "全网最低价，加微信abc123"}, channel="jd.sms").findings
    assert [(r["rule"], r["field"], r["start"], r["end"]) for r in rows if r["id"] == "a1"] == [
        (f.rule, f.field, f.start, f.end) for f in expected]
    assert {r["merchant"] for r in rows if r["id"] == "a1"} == {"s1"}
    assert result.summary["records"] == 2 and result.summary["bad_records"] == 0


def test_field_mapping_with_nested_keys_and_per_record_channel(engine, tmp_path):
    rows = [{"msg": {"content": TEXTS[0]}, "channel": "jd.sms"},
            {"msg": {"content": TEXTS[0]}, "channel": "no.such.channel"},
            {"msg": {"content": TEXTS[0]}}]
    archive = write_jsonl(tmp_path / "n.jsonl", rows)
    result = audit(engine, [archive], tmp_path / "out", fields=FieldMap.parse(["text=msg.content"]), channel=None)
    bad = read_jsonl(tmp_path / "out" / "bad_records.jsonl")
    assert [b["line"] for b in bad] == [2, 3]
    assert "no.such.channel" in bad[0]["reason"] and "no channel" in bad[1]["reason"]
    assert result.summary["records"] == 1


@pytest.mark.parametrize("specs, problem", [
    (["body"], "NAME=KEY"), (["colour=x"], "unknown field"), (["text=a", "body=b"], "not both"),
    (["signature=s"], "needs body"), (["text=a", "text=b"], "twice"),
])
def test_field_mapping_usage_errors(specs, problem):
    with pytest.raises(AuditUsageError, match=problem):
        FieldMap.parse(specs)


def test_jobs_two_equals_jobs_one(engine, archive, tmp_path):
    one = audit(engine, [archive], tmp_path / "one", batch_size=5)
    two = audit(engine, [archive], tmp_path / "two", batch_size=5, jobs=2)
    assert (tmp_path / "one" / "findings.jsonl").read_bytes() == (tmp_path / "two" / "findings.jsonl").read_bytes()
    assert (tmp_path / "one" / "bad_records.jsonl").read_bytes() == (tmp_path / "two" / "bad_records.jsonl").read_bytes()
    strip = lambda s: {k: v for k, v in s.items() if k not in TIMING_KEYS}  # noqa: E731
    assert strip(one.summary) == strip(two.summary)
    assert one.summary["cache"] == two.summary["cache"]


def test_cache_hit_rate_counts_repeated_texts(engine, tmp_path):
    archive = write_jsonl(tmp_path / "a.jsonl", message_rows(60))
    result = audit(engine, [archive], tmp_path / "out", batch_size=8)
    cache = result.summary["cache"]
    assert cache == {"lookups": 60, "hits": 60 - len(TEXTS), "linted": len(TEXTS),
                     "hit_rate": round((60 - len(TEXTS)) / 60, 6)}


def test_cache_is_bounded_and_still_correct(engine, tmp_path):
    archive = write_jsonl(tmp_path / "a.jsonl", message_rows(30))
    small = audit(engine, [archive], tmp_path / "small", cache_size=1, batch_size=1)
    big = audit(engine, [archive], tmp_path / "big")
    assert (tmp_path / "small" / "findings.jsonl").read_bytes() == (tmp_path / "big" / "findings.jsonl").read_bytes()
    assert small.summary["cache"]["linted"] > big.summary["cache"]["linted"]


def test_summary_contents(engine, archive, tmp_path):
    result = audit(engine, [archive], tmp_path / "out")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary == result.summary
    rows = read_jsonl(tmp_path / "out" / "findings.jsonl")
    assert summary["findings"] == len(rows)
    for key, column in (("findings_by_category", "category"), ("findings_by_rule", "rule"),
                        ("findings_by_severity", "severity"), ("findings_by_merchant", "merchant")):
        counts: dict[str, int] = {}
        for row in rows:
            counts[row[column]] = counts.get(row[column], 0) + 1
        assert summary[key] == dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    days: dict[str, int] = {}
    for row in rows:
        days[row["at"][:10]] = days.get(row["at"][:10], 0) + 1
    assert summary["findings_by_day"] == dict(sorted(days.items()))
    assert summary["archives"] == [{"path": str(archive), "records": 60, "bad_records": 3,
                                    "findings": len(rows), "error": None}]
    assert summary["elapsed_seconds"] > 0 and summary["throughput_records_per_second"] > 0
    errors = summary["findings_by_severity"].get("error", 0)
    assert summary["findings_at_or_above_threshold"] == errors
    # three bad records and the default --max-bad-records 0: the audit fails, whatever its findings
    assert (summary["max_bad_records"], summary["too_many_bad_records"], result.exit_code) == ("0", True, 2)
    allowed = audit(engine, [archive], tmp_path / "allowed", max_bad_records=3)
    assert allowed.summary["too_many_bad_records"] is False
    assert allowed.exit_code == (1 if errors else 0)


def test_exit_codes_follow_the_threshold(engine, tmp_path):
    clean = write_jsonl(tmp_path / "clean.jsonl", [{"text": "【小店】您的订单已发货，请注意查收。回T退订"}])
    assert audit(engine, [clean], tmp_path / "c").summary["findings_by_severity"].get("error", 0) == 0
    assert audit(engine, [clean], tmp_path / "c").exit_code == 0
    dirty = write_jsonl(tmp_path / "dirty.jsonl", [{"text": TEXTS[0]}])
    assert audit(engine, [dirty], tmp_path / "d").exit_code == 1
    assert audit(engine, [dirty], tmp_path / "d", fail_on="never").exit_code == 0


def test_usage_errors(engine, tmp_path):
    archive = write_jsonl(tmp_path / "a.jsonl", message_rows(2))
    with pytest.raises(AuditUsageError, match="no such archive"):
        audit(engine, [tmp_path / "missing.jsonl"], tmp_path / "o")
    with pytest.raises(AuditUsageError, match="unsupported archive"):
        audit(engine, [write_jsonl(tmp_path / "a.txt", [])], tmp_path / "o")
    with pytest.raises(AuditUsageError, match="did you mean"):
        audit(engine, [archive], tmp_path / "o", channel="jd.smss")


def test_ledger_asked_of_an_engine_without_one_is_a_usage_error(engine, tmp_path):
    class OldEngine:
        channels = engine.channels

        def lint(self, *args: Any, **kwargs: Any) -> Any:
            return engine.lint(*args, **kwargs)

    archive = write_jsonl(tmp_path / "a.jsonl", message_rows(2))
    with pytest.raises(AuditUsageError, match="no ledger"):
        audit(OldEngine(), [archive], tmp_path / "o", ledger="memory://")
    assert not (tmp_path / "o").exists()


def test_a_broken_archive_is_reported_and_the_others_are_audited(engine, tmp_path):
    broken = tmp_path / "broken.csv"
    broken.write_text("id,other\n1,2\n", encoding="utf-8")
    good = write_jsonl(tmp_path / "good.jsonl", message_rows(4))
    result = audit(engine, [broken, good], tmp_path / "out")
    assert result.exit_code == 2
    assert "no column 'text'" in result.summary["archive_errors"][0]["error"]
    assert result.summary["records"] == 4


def test_parquet_findings_equal_jsonl_findings(engine, archive, tmp_path):
    audit(engine, [archive], tmp_path / "j", batch_size=4)
    audit(engine, [archive], tmp_path / "p", batch_size=4, findings_format="parquet", checkpoint_every=10)
    table = pq.read_table(tmp_path / "p" / "findings.parquet")
    assert table.to_pylist() == read_jsonl(tmp_path / "j" / "findings.jsonl")
    assert not (tmp_path / "p" / "findings.parts").exists()


def test_ledger_replay_when_the_engine_offers_one(engine, tmp_path):
    from compliance.frequency import Cap, Ledger, Window

    class EngineWithLedger:
        """The engine as it will be: ledger(url) with caps (here one cap of 2 sends a day)."""

        def __init__(self, inner: Any) -> None:
            self._inner = inner
            self.channels = inner.channels

        def lint(self, *args: Any, **kwargs: Any) -> Any:
            return self._inner.lint(*args, **kwargs)

        def program(self, channel: str) -> Any:
            return self._inner.program(channel)

        def ledger(self, url: str) -> Ledger:
            cap = Cap("daily-two", "T-01", frozenset({"jd.sms"}), frozenset({"marketing"}), ("recipient",),
                      Window("calendar", "day"), 2)
            return Ledger.open(url, [cap])

    rows = [{"text": TEXTS[3], "recipient": "u1", "merchant": "s", "at": f"2024-05-01T0{h}:00:00+08:00"}
            for h in range(4)]
    archive = write_jsonl(tmp_path / "a.jsonl", rows)
    result = audit(EngineWithLedger(engine), [archive], tmp_path / "out", ledger="memory://",
                   message_class="marketing")
    frequency = [r for r in read_jsonl(tmp_path / "out" / "findings.jsonl") if r["category"] == "frequency"]
    assert [(r["line"], r["rule"]) for r in frequency] == [(3, "daily-two"), (4, "daily-two")]
    assert result.summary["frequency"] == {"ledger": "memory://", "violations": 2}
    assert result.summary["findings_by_category"]["frequency"] == 2


def test_ledger_replay_with_the_engines_own_frequency_rules(engine, tmp_path):
    rows = [{"text": TEXTS[3], "recipient": "u1", "merchant": "s", "message_class": "marketing",
             "at": f"2024-05-01T{h:02d}:00:00+08:00"} for h in range(8, 14)]
    archive = write_jsonl(tmp_path / "a.jsonl", rows)
    result = audit(engine, [archive], tmp_path / "out", ledger="memory://")
    frequency = [r for r in read_jsonl(tmp_path / "out" / "findings.jsonl") if r["category"] == "frequency"]
    daily = engine.caps()[0]
    assert daily.rule == "jd-sms-daily-marketing"
    # the daily cap alone is broken by every send after the first `limit` of the day
    assert [r["line"] for r in frequency if r["rule"] == daily.rule] == list(range(daily.limit + 1, 7))
    assert result.summary["frequency"]["violations"] == len(frequency)


def test_command_module_is_light_to_import():
    import subprocess
    import sys

    code = ("import sys, compliance.audit.command; "
            "print(sorted(m for m in ('pyarrow', 'rich', 'compliance.engine') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
