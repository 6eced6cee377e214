"""`compliance replay`: archived sends through the built-in frequency rules."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from compliance.cli import replay_command as command

ROWS = [
    {"channel": "jd.sms", "message_class": "marketing", "merchant": m, "recipient": "13800000000", "at": at, "id": i}
    for i, (m, at) in enumerate([("A", "2026-11-24T09:00:00"), ("B", "2026-11-24T09:01:00"),
                                 ("C", "2026-11-24T09:02:00"), ("D", "2026-11-24T10:00:00"),
                                 ("A", "2026-11-25T09:00:00")])
]


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    args = parser.parse_args(["replay", *argv])
    return args.func(args)


def test_replay_reports_violations_and_bad_records(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "sends.jsonl"
    lines = [json.dumps({**r, "id": f"s{r['id']}"}) for r in reversed(ROWS)]  # out of time order
    lines.insert(2, "{not json")
    archive.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert run([str(archive), "--format", "jsonl"]) == 1
    captured = capsys.readouterr()
    found = [json.loads(line) for line in captured.out.splitlines()]
    assert [(v["id"], v["ref"]) for v in found] == [("s3", "JD-SMS-18"), ("s4", "JD-SMS-20")]
    assert found[0]["earlier"] == ["s0", "s1", "s2"]
    assert f"{archive}:3: bad record" in captured.err
    assert "2 send(s) broke a cap" in captured.err


def test_replay_csv_with_field_mapping(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "sends.csv"
    rows = ["class,shop,phone,time"] + [f"marketing,{r['merchant']},{r['recipient']},{r['at']}" for r in ROWS[:3]]
    archive.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert run([str(archive), "--channel", "jd.sms", "--field", "message_class=class", "--field", "merchant=shop",
                "--field", "recipient=phone", "--field", "at=time"]) == 0
    assert "0 send(s) broke a cap" in capsys.readouterr().err


def test_replay_missing_archive(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["/nonexistent.jsonl"]) == 2


def test_replay_max_earlier_names_the_oldest_and_counts_all(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "sends.jsonl"
    rows = [{"channel": "jd.sms", "message_class": "marketing", "merchant": "A", "recipient": "13800000000",
             "at": f"2026-11-24T09:0{i}:00", "id": f"s{i}"} for i in range(6)]
    archive.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert run([str(archive), "--format", "jsonl", "--max-earlier", "2"]) == 1
    found = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    daily = [v for v in found if v["ref"] == "JD-SMS-18"]
    assert [(v["id"], v["count"], v["limit"], v["window"], v["earlier"]) for v in daily] == [
        ("s3", 3, 3, "自然日", ["s0", "s1"]), ("s4", 4, 3, "自然日", ["s0", "s1"]), ("s5", 5, 3, "自然日", ["s0", "s1"])]
    assert run([str(archive), "--max-earlier", "2"]) == 1
    assert "earlier: s0, s1 (+3 more)" in capsys.readouterr().out
