"""An audit SIGKILLed at many points — start-up, linting, output flushes, checkpoint writes, the
ledger replay, the final merge and summary — then resumed (and killed twice) must write exactly
the findings, bad records and summary of an uninterrupted run: nothing lost, nothing twice.
A full disk under the outputs is a clear error that leaves a resumable state.

Kill points are real timings spread over a measured clean run (the default covers 10 points
and 2 double kills; ``COMPLIANCE_FAULT_KILLS=N`` tries N points for a longer local run).
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from compliance.audit.checkpoint import CHECKPOINT_VERSION
from compliance.audit.summary import TIMING_KEYS

from .conftest import message_rows, write_jsonl

pytestmark = pytest.mark.fault

ROWS = 1200
BATCH = 20
EVERY = 60
BAD = 3  # bad lines in the archive, allowed by --max-bad-records so a clean run exits 1
KILLS = max(int(os.environ.get("COMPLIANCE_FAULT_KILLS", "10")), 2)


def _rows() -> list[Any]:
    rows: list[Any] = message_rows(ROWS)
    for i in range(0, ROWS, 3):  # distinct texts, so a resume cannot lean on cached verdicts
        rows[i] = {**rows[i], "text": f"【小店】第{i}号活动，全网最低价，加微信abc{i} 回T退订"}
    for i in (7, 200, 401):
        rows[i] = "{broken"
    return rows


def command(archive: Path, out: Path, fmt: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "compliance.audit", str(archive), "--out", str(out), "--channel", "jd.sms",
            "--batch-size", str(BATCH), "--checkpoint-every", str(EVERY), "--progress", "none", "--jobs", "1",
            "--ledger", "memory://", "--message-class", "marketing", "--findings-format", fmt,
            "--max-bad-records", str(BAD), *extra]


ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


@dataclass
class Workload:
    archive: Path
    reference: dict[str, Path]  # findings format -> output directory of a clean run
    seconds: float  # wall time of a clean run from its first checkpoint to its exit


def started_writing(out: Path, process: subprocess.Popen[str]) -> float:
    """Wait until the run wrote its first checkpoint (start-up done); the time it took."""
    started = time.monotonic()
    while not (out / "checkpoint.json").exists() and process.poll() is None:
        assert time.monotonic() - started < 120, "the audit never started writing"
        time.sleep(0.002)
    return time.monotonic() - started


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> Workload:
    base = tmp_path_factory.mktemp("kill")
    archive = write_jsonl(base / "archive.jsonl", _rows())
    reference, seconds = {}, 0.0
    for fmt in ("jsonl", "parquet"):
        out = base / f"clean-{fmt}"
        process = subprocess.Popen(command(archive, out, fmt), env=ENV, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
        started_writing(out, process)
        started = time.monotonic()
        _, err = process.communicate(timeout=300)
        seconds = max(seconds, time.monotonic() - started)
        assert process.returncode == 1, err
        reference[fmt] = out
    return Workload(archive, reference, seconds)


def findings_of(out: Path) -> Counter[str]:
    jsonl = out / "findings.jsonl"
    if jsonl.exists():
        return Counter(jsonl.read_text(encoding="utf-8").splitlines())
    import pyarrow.parquet as pq

    return Counter(json.dumps(row, ensure_ascii=False, sort_keys=True)
                   for row in pq.read_table(out / "findings.parquet").to_pylist())


def outputs_of(out: Path) -> tuple[Counter[str], Counter[str], dict[str, Any]]:
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return (findings_of(out), Counter((out / "bad_records.jsonl").read_text(encoding="utf-8").splitlines()),
            {k: v for k, v in summary.items() if k not in TIMING_KEYS})


def assert_same_outputs(out: Path, reference: Path) -> None:
    findings, bad, summary = outputs_of(out)
    want_findings, want_bad, want_summary = outputs_of(reference)
    assert sum(findings.values()) == sum(want_findings.values()), "findings lost or duplicated"
    assert findings == want_findings
    assert bad == want_bad
    assert summary == want_summary
    assert not (out / "findings.parts").exists()


def where(out: Path) -> str:
    """Where a killed run stood, from what it left on disk (for the report)."""
    path = out / "checkpoint.json"
    if not path.exists():
        return "before the first checkpoint"
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return "checkpoint unreadable"
    if state["phase"] == "lint":
        return f"lint, checkpointed at record {state['positions'][0]}"
    if state["phase"] == "complete" and (out / "summary.json").exists():
        return "finished before the kill"
    return f"phase {state['phase']}"


def run_killed(cmd: list[str], delay: float) -> str:
    """Start ``cmd``; once it wrote its first checkpoint, SIGKILL it after ``delay`` seconds
    (a negative delay: during start-up instead). Returns how it ended."""
    process = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if delay >= 0:
        started_writing(Path(cmd[cmd.index("--out") + 1]), process)
    else:
        delay = max(0.05, 0.6 + delay)  # during start-up (interpreter, rules, dictionary)
    try:
        process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return "killed"
    assert process.returncode in (0, 1), process.stderr.read() if process.stderr else ""
    return "finished"


def resume(cmd: list[str]) -> None:
    """Resume a killed run: ``--resume`` when it left a checkpoint — which must be taken up,
    not discarded — else ``--resume`` is refused and ``--resume --restart`` starts afresh."""
    out = Path(cmd[cmd.index("--out") + 1])
    if not (out / "checkpoint.json").exists():
        refused = subprocess.run([*cmd, "--resume"], env=ENV, capture_output=True, text=True, timeout=300)
        assert refused.returncode == 2 and "holds no checkpoint" in refused.stderr, refused.stderr
        cmd = [*cmd, "--restart"]
    done = subprocess.run([*cmd, "--resume"], env=ENV, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "cannot resume" not in done.stderr, done.stderr


def kill_delays(seconds: float, count: int) -> list[float]:
    """One kill during start-up, the others spread evenly over the writing part of a run
    (lint batches, flushes, checkpoints, the ledger replay, the merge, summary and report)."""
    return [-0.2] + [seconds * 1.05 * i / (count - 2) for i in range(count - 1)]


@pytest.mark.parametrize("point", range(KILLS))
def test_killed_at_any_point_resumes_to_the_same_outputs(workload: Workload, point: int, tmp_path: Path) -> None:
    fmt = "parquet" if point % 3 == 2 else "jsonl"
    delay = kill_delays(workload.seconds, KILLS)[point]
    out = tmp_path / "out"
    cmd = command(workload.archive, out, fmt)
    ended = run_killed(cmd, delay)
    landed = where(out)
    print(f"kill point {point} ({fmt}) {delay:+.3f}s after the first checkpoint: {ended}, {landed}")
    resume(cmd)
    assert_same_outputs(out, workload.reference[fmt])


@pytest.mark.parametrize(("first", "second"), [(0.3, 0.3), (0.7, 0.5)])
def test_killed_again_while_resuming_still_resumes_to_the_same_outputs(
    workload: Workload, tmp_path: Path, first: float, second: float
) -> None:
    out = tmp_path / "out"
    cmd = command(workload.archive, out, "jsonl")
    run_killed(cmd, workload.seconds * first)
    run_killed([*cmd, "--resume"], workload.seconds * second)
    resume(cmd)
    assert_same_outputs(out, workload.reference["jsonl"])


def test_a_run_killed_after_merging_its_parquet_parts_finishes_on_resume(workload: Workload,
                                                                         tmp_path: Path) -> None:
    """The state a kill leaves between the final merge and summary.json, made exactly: the
    merged findings.parquet is complete and its parts are gone."""
    out = tmp_path / "out"
    cmd = command(workload.archive, out, "parquet")
    assert subprocess.run(cmd, env=ENV, capture_output=True).returncode == 1
    (out / "summary.json").unlink()
    (out / "report.html").unlink()
    resume(cmd)
    assert_same_outputs(out, workload.reference["parquet"])


# -- a full disk under the outputs ---------------------------------------------------------------


def _enospc() -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("where_full", ["findings flush", "checkpoint write", "summary write"])
def test_a_full_disk_is_a_clear_error_and_the_run_resumes(
    workload: Workload, engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where_full: str
) -> None:
    from compliance.audit import AuditOptions, AuditOutputError, run_audit
    from compliance.audit import checkpoint as checkpoint_module
    from compliance.audit import outputs, runner

    calls = {"n": 0}

    def failing(real: Any, after: int) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls["n"] += 1
            if calls["n"] > after:
                raise _enospc()
            return real(*args, **kwargs)
        return wrapper

    if where_full == "findings flush":
        monkeypatch.setattr(outputs.AppendLog, "flush", failing(outputs.AppendLog.flush, 25))
    elif where_full == "checkpoint write":
        real_dump = checkpoint_module.json.dump

        def dump_half_then_fail(data: Any, f: Any, **kw: Any) -> None:
            calls["n"] += 1
            if calls["n"] > 3:
                f.write(json.dumps(data)[:100])  # a torn temporary file
                raise _enospc()
            real_dump(data, f, **kw)

        monkeypatch.setattr(checkpoint_module.json, "dump", dump_half_then_fail)
    else:
        monkeypatch.setattr(runner, "write_summary", failing(runner.write_summary, 0))

    out = tmp_path / "out"
    options = AuditOptions([workload.archive], out, channel="jd.sms", jobs=1, progress="none",
                           batch_size=BATCH, checkpoint_every=EVERY, ledger="memory://",
                           message_class="marketing", max_bad_records=BAD)
    with pytest.raises(AuditOutputError) as info:
        run_audit(options, engine=engine)
    text = str(info.value)
    assert "No space left on device" in text and str(out) in text and "--resume" in text
    assert json.loads((out / "checkpoint.json").read_text(encoding="utf-8"))["version"] == CHECKPOINT_VERSION
    monkeypatch.undo()  # space is back
    run_audit(AuditOptions(**{**options.__dict__, "resume": True}), engine=engine)
    assert_same_outputs(out, workload.reference["jsonl"])


def test_the_cli_reports_a_full_disk_without_a_traceback(
    workload: Workload, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from compliance.audit import outputs
    from compliance.audit.__main__ import main

    def full(self: Any) -> None:
        raise _enospc()

    monkeypatch.setattr(outputs.AppendLog, "flush", full)
    out = tmp_path / "out"
    code = main([str(workload.archive), "--out", str(out), "--channel", "jd.sms", "--jobs", "1",
                 "--progress", "none"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: writing the audit outputs") and "No space left" in err and "Traceback" not in err


@pytest.mark.parametrize("damage", ["truncated checkpoint", "findings file removed", "findings cut short"])
def test_a_damaged_resume_state_is_refused_clearly(workload: Workload, engine: Any, tmp_path: Path,
                                                   damage: str) -> None:
    """Resuming must never silently lose records: a state it cannot trust is a usage error."""
    from compliance.audit import AuditOptions, AuditUsageError, run_audit

    out = tmp_path / "out"
    options = AuditOptions([workload.archive], out, channel="jd.sms", jobs=1, progress="none",
                           batch_size=BATCH, checkpoint_every=EVERY)
    run_audit(options, engine=engine)
    if damage == "truncated checkpoint":
        path = out / "checkpoint.json"
        path.write_bytes(path.read_bytes()[:50])
    elif damage == "findings file removed":
        (out / "findings.jsonl").unlink()
    else:
        path = out / "findings.jsonl"
        path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(AuditUsageError, match="rerun with --restart"):
        run_audit(AuditOptions(**{**options.__dict__, "resume": True}), engine=engine)
