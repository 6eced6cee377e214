"""``audit --ledger URL`` checks the ledger before auditing: a URL that names no store, a Redis
that cannot be reached or a SQLite file that cannot be opened stops the run with the reason
(exit 2) before anything is linted or written — not after the lint pass, and never exit 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from compliance.audit import AuditOptions, AuditUsageError, run_audit

from .conftest import message_rows, write_jsonl

UNUSABLE = [
    ("foo://x", "unknown scheme 'foo'"),
    ("redis://127.0.0.1:1/0", "could not reach Redis"),
    ("sqlite:///nonexistent-dir/x.db", "unable to open database file"),
]


@pytest.mark.parametrize("url, reason", UNUSABLE)
def test_an_unusable_ledger_stops_the_audit_before_it_starts(engine: Any, tmp_path: Path, url: str,
                                                             reason: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    archive = write_jsonl(tmp_path / "a.jsonl", message_rows(3))
    linted: list[Any] = []

    class Watching:
        channels = engine.channels

        def __getattr__(self, name: str) -> Any:
            return getattr(engine, name)

        def lint(self, *args: Any, **kwargs: Any) -> Any:
            linted.append(args)
            return engine.lint(*args, **kwargs)

    options = AuditOptions(archives=[archive], out=tmp_path / "out", channel="jd.sms", jobs=1, progress="none",
                           ledger=url, message_class="marketing")
    with pytest.raises(AuditUsageError, match=reason) as info:
        run_audit(options, engine=Watching())
    assert str(info.value).startswith("--ledger: ")
    assert linted == [] and not (tmp_path / "out").exists()


@pytest.mark.parametrize("url, reason", UNUSABLE)
def test_the_audit_command_exits_2_with_the_reason(tmp_path: Path, url: str, reason: str) -> None:
    archive = write_jsonl(tmp_path / "a.jsonl", message_rows(3))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]),
                                                        os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "compliance", "audit", str(archive), "--out", "out", "--jobs", "1",
                           "--channel", "jd.sms", "--ledger", url], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 2, done
    assert done.stderr.startswith("error: --ledger: ") and reason in done.stderr, done.stderr
    assert "audited" not in done.stdout and not (tmp_path / "out").exists()
