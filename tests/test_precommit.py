"""End to end: the `compliance-lint` pre-commit hook, installed by pre-commit from this repo.

`pre-commit try-repo` clones this repository (with uncommitted changes to tracked files),
builds a virtualenv and pip-installs the package into it, so the test needs network access
to PyPI and takes a minute or more the first time; it is marked ``slow`` and each run has a
300 s limit. Everything pre-commit writes (its store, the temporary clone) stays in tmp_path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 300

pytestmark = pytest.mark.slow


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A git repository holding a bad and a good copy file, and the environment to run in."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    if not (ROOT / ".git").exists():
        pytest.skip("the project is not a git checkout; pre-commit try-repo needs one")
    base = tmp_path_factory.mktemp("precommit")
    repo = base / "copy-repo"
    repo.mkdir()
    tmp = base / "tmp"
    tmp.mkdir()
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(base / "pre-commit-home"),
        "TMPDIR": str(tmp),  # try-repo keeps its store and clone in a temporary directory
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
        "NO_COLOR": "1",
    }
    env.pop("GIT_DIR", None)
    env.pop("GIT_INDEX_FILE", None)
    (repo / "compliance.toml").write_text('default-channel = "jd.sms"\n', encoding="utf-8")
    (repo / "bad.txt").write_text("【小米之家】全网最低价，快来抢购！回T退订\n", encoding="utf-8")
    (repo / "good.yaml").write_text("- 【小米之家】新品到店，欢迎光临。回T退订\n", encoding="utf-8")
    for args in (["git", "init", "-q"], ["git", "add", "."], ["git", "commit", "-q", "-m", "copy"]):
        done = _run(args, repo, env)
        assert done.returncode == 0, done.stderr
    return repo, env


def _try_repo(repo: Path, env: dict[str, str], *files: str) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "compliance-lint", "--files", *files],
                repo, env)


def test_hook_fails_on_the_bad_file(hook_repo: tuple[Path, dict[str, str]]) -> None:
    repo, env = hook_repo
    done = _try_repo(repo, env, "bad.txt")
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "compliance lint" in output and "Failed" in output
    assert "bad.txt:1:7: copy-ad-law [error]" in output


def test_hook_passes_on_the_good_file(hook_repo: tuple[Path, dict[str, str]]) -> None:
    repo, env = hook_repo
    done = _try_repo(repo, env, "good.yaml")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Passed" in output
