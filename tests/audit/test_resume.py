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


# -- a resume that cannot lie: the archive must be the one the checkpoint read ---------------------


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env={**os.environ, "PYTHONUNBUFFERED": "1"}, capture_output=True, text=True,
                          timeout=300)


def _same_outputs(out: Path, fresh: Path) -> None:
    """Findings, bad records and summary (timing aside) equal a fresh run's on the same archives."""
    for name in ("findings.jsonl", "bad_records.jsonl"):
        assert (out / name).read_text(encoding="utf-8") == (fresh / name).read_text(encoding="utf-8"), name
    got = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    want = json.loads((fresh / "summary.json").read_text(encoding="utf-8"))
    assert _without_timing(got) == _without_timing(want)


def test_resume_after_sigkill_refuses_a_changed_stream_archive(tmp_path):
    """Killed while reading a FIFO: the archive resumed from must begin with the bytes the
    stream delivered; a line already audited that differs is refused, and --resume --restart
    then gives exactly a fresh run's outputs."""
    rows = _rows()
    lines = [json.dumps(r, ensure_ascii=False) if isinstance(r, dict) else r for r in rows]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    archive = tmp_path / "archive.jsonl"
    os.mkfifo(archive)
    out = tmp_path / "out"
    process = subprocess.Popen(_command(archive, out, "--jobs", "1"), env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    with _open_feed(archive, process) as feed:
        feed.write("\n".join(lines[:FED]) + "\n")
        feed.flush()
        _wait_for_checkpoint(out, process, FED - EVERY)
        process.send_signal(signal.SIGKILL)
        process.wait()
    state = json.loads((out / "checkpoint.json").read_text(encoding="utf-8"))
    identity = state["archives"][0]
    assert identity["kind"] == "stream" and identity["read_bytes"] > 0 and not identity["eof"]

    changed = list(lines)
    changed[10] = json.dumps({**rows[10], "text": "【小店】全网最低价，假一赔十"}, ensure_ascii=False)  # a line passed
    archive.unlink()
    write_jsonl(archive, changed)
    refused = _run(_command(archive, out, "--resume", "--jobs", "1"))
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.startswith(f"error: --resume: {archive} changed since the checkpoint: its first ")
    assert "already read and audited, are not the same" in refused.stderr and "--restart" in refused.stderr
    assert not (out / "summary.json").exists()
    assert json.loads((out / "checkpoint.json").read_text(encoding="utf-8")) == state  # left as it was

    restarted = _run(_command(archive, out, "--resume", "--restart", "--jobs", "1"))
    assert restarted.returncode == 1, restarted.stderr
    assert "cannot resume" in restarted.stderr and "starting over (--restart)" in restarted.stderr
    fresh = _run(_command(archive, tmp_path / "fresh", "--jobs", "1"))
    assert fresh.returncode == 1, fresh.stderr
    _same_outputs(out, tmp_path / "fresh")


def test_resume_after_sigkill_refuses_a_file_edited_in_place(tmp_path):
    """A regular file edited where the checkpoint already passed — same size, modification time
    put back — is refused by the hash of the part read; --restart gives a fresh run's outputs.

    The run is certainly mid-audit when killed: it blocks opening its second archive, a FIFO
    nobody writes to, after checkpointing in the first."""
    rows = _rows()[:200]
    first = write_jsonl(tmp_path / "first.jsonl", rows)
    second = tmp_path / "second.jsonl"
    os.mkfifo(second)
    out = tmp_path / "out"
    cmd = _command(first, out, "--jobs", "1")
    cmd.insert(cmd.index(str(first)) + 1, str(second))
    process = subprocess.Popen(cmd, env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    state = _wait_for_checkpoint(out, process, 100)
    process.send_signal(signal.SIGKILL)
    process.wait()
    state = json.loads((out / "checkpoint.json").read_text(encoding="utf-8"))
    assert state["archives"][0]["kind"] == "file" and state["archives"][1] is None

    data = first.read_bytes()
    before = os.stat(first)
    at = data.index("第14号".encode())  # record 14, already audited
    first.write_bytes(data[:at] + "第41号".encode() + data[at + len("第14号".encode()):])
    os.utime(first, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(first).st_size == before.st_size and os.stat(first).st_mtime_ns == before.st_mtime_ns
    second.unlink()
    write_jsonl(second, _rows()[200:260])

    refused = _run([*cmd, "--resume"])
    assert refused.returncode == 2, refused.stderr
    assert f"{first} changed since the checkpoint: its first" in refused.stderr
    assert "are not the same (SHA-256" in refused.stderr
    restarted = _run([*cmd, "--restart"])
    assert restarted.returncode == 1, restarted.stderr
    fresh_cmd = _command(first, tmp_path / "fresh", "--jobs", "1")
    fresh_cmd.insert(fresh_cmd.index(str(first)) + 1, str(second))
    fresh = _run(fresh_cmd)
    assert fresh.returncode == 1, fresh.stderr
    _same_outputs(out, tmp_path / "fresh")


class _Killed(BaseException):
    """Stands for SIGKILL right after a checkpoint was written (in process, so exact)."""


def _interrupted(engine, options, monkeypatch, *, after: int = 2) -> dict:
    """Run ``options`` and stop it right after its ``after``-th checkpoint; that checkpoint."""
    from compliance.audit import run_audit
    from compliance.audit.checkpoint import Checkpoint

    real = Checkpoint.save
    saved = {"n": 0}

    def save(self, out):
        real(self, out)
        saved["n"] += 1
        if saved["n"] == after:
            raise _Killed

    monkeypatch.setattr(Checkpoint, "save", save)
    with pytest.raises(_Killed):
        run_audit(options, engine=engine)
    monkeypatch.undo()
    return json.loads((options.out / "checkpoint.json").read_text(encoding="utf-8"))


def _edit_same_size(path: Path) -> None:
    data = path.read_bytes()
    before = os.stat(path)
    at = data.index(b"u1") if b"u1" in data else 40
    path.write_bytes(data[:at] + (b"U" if data[at:at + 1] != b"U" else b"V") + data[at + 1:])
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


CHANGES = {
    "edited, same size and modification time": (_edit_same_size, "are not the same (SHA-256"),
    "a line appended": (lambda p: p.write_bytes(p.read_bytes() + p.read_bytes().splitlines(keepends=True)[0]),
                        "its size changed from"),
    "cut short": (lambda p: p.write_bytes(p.read_bytes()[:100]), "its size changed from"),
    "touched": (lambda p: os.utime(p, ns=(os.stat(p).st_atime_ns, os.stat(p).st_mtime_ns + 5_000_000_000)),
                "it was modified (modification time"),
    "replaced by a FIFO": (lambda p: (p.unlink(), os.mkfifo(p)), "it is not a regular file now"),
}


def _archive(tmp_path: Path, kind: str) -> Path:
    import gzip

    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = message_rows(120)
    for i in range(0, 120, 3):
        rows[i]["text"] = f"【小店】第{i}号活动，全网最低价 回T退订"
    if kind == "parquet":
        path = tmp_path / "a.parquet"
        pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=16)
        return path
    path = write_jsonl(tmp_path / "a.jsonl", rows)
    if kind == "jsonl.gz":
        gz = tmp_path / "a.jsonl.gz"
        gz.write_bytes(gzip.compress(path.read_bytes()))
        path.unlink()
        return gz
    return path


@pytest.mark.parametrize("kind", ["jsonl", "jsonl.gz", "parquet"])
@pytest.mark.parametrize("change", list(CHANGES))
def test_resume_refuses_an_archive_changed_since_its_checkpoint(engine, tmp_path, monkeypatch, kind, change):
    from compliance.audit import AuditOptions, AuditUsageError, run_audit

    archive = _archive(tmp_path, kind)
    options = AuditOptions([archive], tmp_path / "out", channel="jd.sms", jobs=1, progress="none", batch_size=10,
                           checkpoint_every=20)
    state = _interrupted(engine, options, monkeypatch)
    assert state["phase"] == "lint" and 0 < state["positions"][0] < 120
    mutate, reason = CHANGES[change]
    content = archive.read_bytes()
    mutate(archive)
    feeder = None
    if change == "replaced by a FIFO":  # feed it, so that a resume that reads it does not block forever
        import threading

        def feed() -> None:
            with open(archive, "wb") as f:
                f.write(content)

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
    try:
        with pytest.raises(AuditUsageError, match="rerun with --restart") as info:
            run_audit(AuditOptions(**{**options.__dict__, "resume": True}), engine=engine)
    finally:
        if feeder is not None:  # release the feeder if nothing read the FIFO
            reader = os.open(archive, os.O_RDONLY | os.O_NONBLOCK)
            feeder.join(10)
            os.close(reader)
    assert f"{archive} changed since the checkpoint" in str(info.value) and reason in str(info.value)
    if change == "replaced by a FIFO":
        return  # nothing to audit it from
    stream = __import__("io").StringIO()
    restarted = run_audit(AuditOptions(**{**options.__dict__, "resume": True, "restart": True}), engine=engine,
                          stream=stream)
    assert "cannot resume" in stream.getvalue() and restarted.summary["resumed"] is False
    fresh = run_audit(AuditOptions(**{**options.__dict__, "out": tmp_path / "fresh"}), engine=engine)
    _same_outputs(tmp_path / "out", tmp_path / "fresh")
    assert restarted.exit_code == fresh.exit_code


@pytest.mark.parametrize("kind", ["jsonl", "jsonl.gz", "parquet"])
def test_resume_of_an_unchanged_archive_equals_a_fresh_run(engine, tmp_path, monkeypatch, kind):
    from compliance.audit import AuditOptions, run_audit

    archive = _archive(tmp_path, kind)
    options = AuditOptions([archive], tmp_path / "out", channel="jd.sms", jobs=1, progress="none", batch_size=10,
                           checkpoint_every=20)
    _interrupted(engine, options, monkeypatch, after=3)
    resumed = run_audit(AuditOptions(**{**options.__dict__, "resume": True}), engine=engine)
    assert resumed.summary["resumed"] is True
    run_audit(AuditOptions(**{**options.__dict__, "out": tmp_path / "fresh"}), engine=engine)
    _same_outputs(tmp_path / "out", tmp_path / "fresh")


def test_resume_with_no_checkpoint_says_so(tmp_path, capsys):
    from compliance.audit.__main__ import main

    archive = write_jsonl(tmp_path / "a.jsonl", message_rows(10))
    out = tmp_path / "out"
    base = [str(archive), "--out", str(out), "--channel", "jd.sms", "--jobs", "1", "--progress", "none"]
    assert main([*base, "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --resume: {out} holds no checkpoint, so there is no audit to resume")
    assert not (out / "summary.json").exists() and not (out / "findings.jsonl").exists()
    assert main([*base, "--resume", "--restart"]) == 1
    assert "no checkpoint in" in capsys.readouterr().err and (out / "summary.json").exists()


def test_a_plain_run_does_not_discard_an_interrupted_audit(engine, tmp_path, monkeypatch):
    from compliance.audit import AuditOptions, AuditUsageError, run_audit

    archive = write_jsonl(tmp_path / "a.jsonl", message_rows(60))
    options = AuditOptions([archive], tmp_path / "out", channel="jd.sms", jobs=1, progress="none", batch_size=10,
                           checkpoint_every=10)
    state = _interrupted(engine, options, monkeypatch)
    with pytest.raises(AuditUsageError, match="holds the checkpoint of an interrupted audit .* add --resume to "
                                              "continue it, or --restart to discard it"):
        run_audit(options, engine=engine)
    assert json.loads((options.out / "checkpoint.json").read_text(encoding="utf-8")) == state
    restarted = run_audit(AuditOptions(**{**options.__dict__, "restart": True}), engine=engine)
    assert restarted.summary["resumed"] is False and restarted.summary["records"] == 60
    again = run_audit(options, engine=engine)  # a finished audit is simply replaced
    assert _without_timing(again.summary) == _without_timing(restarted.summary)


def test_an_old_version_checkpoint_is_refused_clearly(engine, tmp_path, monkeypatch):
    from compliance.audit import AuditOptions, AuditUsageError, run_audit

    archive = write_jsonl(tmp_path / "a.jsonl", message_rows(60))
    options = AuditOptions([archive], tmp_path / "out", channel="jd.sms", jobs=1, progress="none", batch_size=10,
                           checkpoint_every=10)
    state = _interrupted(engine, options, monkeypatch)
    old = {k: v for k, v in state.items() if k != "archives"} | {"version": 1}
    (options.out / "checkpoint.json").write_text(json.dumps(old), encoding="utf-8")
    with pytest.raises(AuditUsageError, match="checkpoint version 1, and this version of compliance resumes only "
                                              "version 2") as info:
        run_audit(AuditOptions(**{**options.__dict__, "resume": True}), engine=engine)
    assert "--restart" in str(info.value)
    with pytest.raises(AuditUsageError, match="interrupted audit"):
        run_audit(options, engine=engine)
    restarted = run_audit(AuditOptions(**{**options.__dict__, "resume": True, "restart": True}), engine=engine)
    assert restarted.summary["resumed"] is False and restarted.summary["records"] == 60


def test_after_a_resume_this_runs_rate_and_the_total_are_apart(engine, tmp_path, monkeypatch, capsys):
    from compliance.audit import AuditOptions
    from compliance.audit.__main__ import main

    archive = write_jsonl(tmp_path / "a.jsonl", message_rows(100))
    out = tmp_path / "out"
    options = AuditOptions([archive], out, channel="jd.sms", jobs=1, progress="none", batch_size=10,
                           checkpoint_every=10)
    state = _interrupted(engine, options, monkeypatch, after=3)
    done = state["positions"][0]
    assert done == 30
    code = main([str(archive), "--out", str(out), "--channel", "jd.sms", "--jobs", "1", "--progress", "none",
                 "--batch-size", "10", "--checkpoint-every", "10", "--resume"])
    assert code == 1
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    this_run = summary["this_run"]
    assert summary["records_read"] == 100 and this_run["records_read"] == 100 - done
    assert summary["elapsed_seconds"] >= this_run["elapsed_seconds"] > 0
    # elapsed_seconds is rounded to the millisecond, the rate is not: allow that rounding.
    low, high = this_run["elapsed_seconds"] - 0.0005, this_run["elapsed_seconds"] + 0.0005
    assert 70 / high * 0.99 <= this_run["throughput_records_per_second"] <= 70 / max(low, 1e-9) * 1.01
    total = summary["elapsed_seconds"]
    assert 100 / (total + 0.0005) * 0.99 <= summary["throughput_records_per_second"] <= 100 / max(total - 0.0005, 1e-9) * 1.01
    line = capsys.readouterr().out.splitlines()[0]
    assert "resumed: this run 70 record(s) in " in line and "; all runs " in line
