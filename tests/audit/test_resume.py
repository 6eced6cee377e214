"""Resume after SIGKILL: a real ``python -m compliance.audit`` process is killed mid-archive and
resumed; the outputs equal those of an uninterrupted run.

The first process reads its archive from a FIFO fed with only part of the records, so it is
certainly mid-run (blocked waiting for more input) when it is killed — no timing involved.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from compliance.audit.summary import TIMING_KEYS

from .conftest import message_rows, write_jsonl

ROWS = 900
FED = 600  # records the killed run gets to see
BATCH = 20
EVERY = 100

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")


def _command(archive: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "compliance.audit", str(archive), "--out", str(out), "--channel", "jd.sms",
            "--batch-size", str(BATCH), "--checkpoint-every", str(EVERY), "--progress", "none",
            "--max-bad-records", "1%", *extra]


def _rows() -> list[object]:
    rows: list[object] = message_rows(ROWS)
    # unique texts too, so the resumed run cannot lean on the cache only; and some bad lines
    for i in range(0, ROWS, 7):
        rows[i] = {**rows[i], "text": f"【小店】第{i}号活动，全网最低价，加微信abc{i} 回T退订"}  # type: ignore[dict-item]
    for i in (5, 333, 777):
        rows[i] = "{broken"
    return rows


def _without_timing(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k not in TIMING_KEYS}


def _wait_for_checkpoint(out: Path, process: subprocess.Popen, records: int) -> dict:
    deadline = time.monotonic() + 60  # a guard against hanging, not an assertion about speed
    while time.monotonic() < deadline:
        path = out / "checkpoint.json"
        if path.exists():
            state = json.loads(path.read_text(encoding="utf-8"))
            if state["positions"][0] >= records:
                return state
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        time.sleep(0.05)
    raise AssertionError("the audit never checkpointed")


def _open_feed(fifo: Path, process: subprocess.Popen):
    """Open the FIFO for writing once the audit opened it for reading; fail (instead of
    blocking forever) if the audit exits first."""
    deadline = time.monotonic() + 120  # a guard against hanging, not an assertion about speed
    while True:
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # ENXIO until a reader is there
            break
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise
        if process.poll() is not None:
            raise AssertionError(f"the audit exited ({process.returncode}) before reading its archive: "
                                 f"{process.stderr.read() if process.stderr else ''}")
        assert time.monotonic() < deadline, "the audit never opened its archive"
        time.sleep(0.01)
    os.set_blocking(fd, True)
    return open(fd, "w", encoding="utf-8")


def test_resume_after_sigkill_equals_an_uninterrupted_run(tmp_path):
    rows = _rows()
    lines = [json.dumps(r, ensure_ascii=False) if isinstance(r, dict) else r for r in rows]
    clean_archive = write_jsonl(tmp_path / "clean.jsonl", lines)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    clean = subprocess.run(_command(clean_archive, tmp_path / "clean-out", "--jobs", "1"), env=env,
                           capture_output=True, text=True)
    assert clean.returncode == 1, clean.stderr

    archive = tmp_path / "archive.jsonl"
    os.mkfifo(archive)
    out = tmp_path / "out"
    process = subprocess.Popen(_command(archive, out, "--jobs", "1"), env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    with _open_feed(archive, process) as feed:  # opens once the audit opens it for reading
        feed.write("\n".join(lines[:FED]) + "\n")
        feed.flush()
        state = _wait_for_checkpoint(out, process, FED - EVERY)
        # the batches after the last checkpoint reach the file too; give them a moment to land
        deadline = time.monotonic() + 30
        findings = out / "findings.jsonl"
        while findings.stat().st_size <= state["outputs"]["findings"]["bytes"] and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    state = json.loads((out / "checkpoint.json").read_text(encoding="utf-8"))
    assert state["phase"] == "lint" and state["positions"][0] < ROWS
    # output written after the last checkpoint is there, and must be cut back on resume
    assert findings.stat().st_size > state["outputs"]["findings"]["bytes"]
    assert not (out / "summary.json").exists()

    archive.unlink()
    write_jsonl(archive, lines)
    resumed = subprocess.run(_command(archive, out, "--resume", "--jobs", "2"), env=env, capture_output=True,
                             text=True)
    assert resumed.returncode == 1, resumed.stderr

    def normalised(path: Path, name: str) -> list[str]:
        return path.read_text(encoding="utf-8").replace(json.dumps(str(name))[1:-1], "ARCHIVE").splitlines()

    assert normalised(out / "findings.jsonl", str(archive)) == normalised(tmp_path / "clean-out" / "findings.jsonl",
                                                                          str(clean_archive))
    assert normalised(out / "bad_records.jsonl", str(archive)) == normalised(
        tmp_path / "clean-out" / "bad_records.jsonl", str(clean_archive))
    got = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    want = json.loads((tmp_path / "clean-out" / "summary.json").read_text(encoding="utf-8"))
    assert got["resumed"] is True
    for summary, name in ((got, archive), (want, clean_archive)):
        summary["archives"][0]["path"] = "ARCHIVE"
        for bad in summary["bad_record_sample"]:
            assert bad.pop("archive") == str(name)
    assert _without_timing(got) == _without_timing(want)
    report = (out / "report.html").read_text(encoding="utf-8")
    assert report.replace(str(archive), "A").count("<mark") == (
        (tmp_path / "clean-out" / "report.html").read_text(encoding="utf-8").replace(str(clean_archive), "A").count("<mark"))


def test_resume_refuses_a_checkpoint_of_other_options(engine, tmp_path):
    from compliance.audit import AuditOptions, AuditUsageError, FieldMap, run_audit

    archive = write_jsonl(tmp_path / "a.jsonl", message_rows(10))
    out = tmp_path / "out"
    run_audit(AuditOptions([archive], out, channel="jd.sms", jobs=1, progress="none"), engine=engine)
    with pytest.raises(AuditUsageError, match="fields"):
        run_audit(AuditOptions([archive], out, fields=FieldMap.parse(["text=body"]), channel="jd.sms", jobs=1,
                               progress="none", resume=True), engine=engine)


def test_resume_of_a_complete_run_rewrites_the_same_outputs(engine, tmp_path):
    from compliance.audit import AuditOptions, run_audit

    archive = write_jsonl(tmp_path / "a.jsonl", message_rows(25))
    options = AuditOptions([archive], tmp_path / "out", channel="jd.sms", jobs=1, progress="none", batch_size=4)
    first = run_audit(options, engine=engine)
    before = (tmp_path / "out" / "findings.jsonl").read_bytes()
    again = run_audit(AuditOptions(**{**options.__dict__, "resume": True}), engine=engine)
    assert (tmp_path / "out" / "findings.jsonl").read_bytes() == before
    assert again.summary["resumed"] is True
    assert _without_timing(again.summary) == _without_timing(first.summary)
