"""End to end: the `compliance-lint` pre-commit hook, as the README tells a user to set it up.

Two ways in, both run by pre-commit itself:

* the README's `.pre-commit-config.yaml` snippet (`repo: local`, `language: python`,
  compliance installed from a checkout through `additional_dependencies`) is taken from
  README.md, installed with `pre-commit install` in a scratch git repository, and exercised
  by real `git commit`s: good copy is committed, bad copy is refused with the finding shown;
* the hook this repository publishes (`.pre-commit-hooks.yaml`), through `pre-commit try-repo`.

pre-commit builds a virtualenv for each and pip-installs the package and its dependencies into
it, so these tests need PyPI and take a minute or more the first time; they are marked ``slow``
and ``precommit`` and each command has a 300 s limit. Everything pre-commit writes (its store,
the temporary clone) stays in tmp_path; the user's git configuration is not read.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 300
#: Where the README's snippet says the user's checkout of this repository is.
README_CHECKOUT = "file:///opt/compliance"

BAD = "【小米之家】全网最低价，快来抢购！回T退订\n"      # copy-ad-law at 1:7
GOOD = "【小米之家】新品到店，欢迎光临。回T退订\n"

pytestmark = [pytest.mark.slow, pytest.mark.precommit]


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)


def _git_ok(args: list[str], cwd: Path, env: dict[str, str]) -> None:
    done = _run(["git", *args], cwd, env)
    assert done.returncode == 0, done.stdout + done.stderr


def _environment(base: Path) -> dict[str, str]:
    base.mkdir(parents=True, exist_ok=True)
    empty_config = base / "gitconfig"
    empty_config.write_text("", encoding="utf-8")
    tmp = base / "tmp"
    tmp.mkdir()
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(base / "pre-commit-home"),
        "TMPDIR": str(tmp),  # try-repo keeps its store and clone in a temporary directory
        "GIT_CONFIG_GLOBAL": str(empty_config),  # no core.hooksPath or templates of the user's
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
        "NO_COLOR": "1",
    }
    for name in ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "PRE_COMMIT_COLOR"):
        env.pop(name, None)
    return env


def readme_config() -> str:
    """The `.pre-commit-config.yaml` the README shows, as written there."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- pre-commit-config -->\n(?P<indent> *)```yaml\n(?P<body>.*?)\n(?P=indent)```",
                      text, re.S)
    assert match is not None, "README.md lost its <!-- pre-commit-config --> yaml block"
    return textwrap.dedent(match.group("body")) + "\n"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    return tmp_path_factory.mktemp("precommit")


# ------------------------------------------------------------------- the README's snippet


def test_readme_snippet_is_a_local_hook_from_a_checkout() -> None:
    """What the README promises the snippet does (checked without running anything)."""
    import yaml

    config = yaml.safe_load(readme_config())
    (repo,) = config["repos"]
    (hook,) = repo["hooks"]
    assert repo["repo"] == "local"
    assert hook["id"] == "compliance-lint" and hook["entry"] == "compliance lint"
    assert hook["language"] == "python"
    assert hook["additional_dependencies"] == [f"compliance @ {README_CHECKOUT}"]
    assert re.search(hook["files"], "copy/sms.txt") and not re.search(hook["files"], "src/app.py")


@pytest.fixture(scope="module")
def copy_repo(base: Path) -> tuple[Path, dict[str, str]]:
    """A scratch repository with the README's hook installed, compliance coming from this checkout."""
    env = _environment(base / "readme")
    repo = base / "readme" / "copy-repo"
    repo.mkdir()
    config = readme_config()
    assert README_CHECKOUT in config
    (repo / ".pre-commit-config.yaml").write_text(config.replace(README_CHECKOUT, ROOT.as_uri()), encoding="utf-8")
    (repo / "compliance.toml").write_text('default-channel = "jd.sms"\n', encoding="utf-8")
    (repo / "copy").mkdir()
    _git_ok(["init", "-q"], repo, env)
    done = _run([sys.executable, "-m", "pre_commit", "install"], repo, env)
    assert done.returncode == 0 and "pre-commit installed" in done.stdout, done.stdout + done.stderr
    _git_ok(["add", ".pre-commit-config.yaml", "compliance.toml"], repo, env)
    _git_ok(["commit", "-q", "-m", "set up the hook"], repo, env)  # no copy staged: the hook is skipped
    return repo, env


def _commit(repo: Path, env: dict[str, str], name: str, text: str) -> subprocess.CompletedProcess[str]:
    (repo / name).write_text(text, encoding="utf-8")
    _git_ok(["add", name], repo, env)
    return _run(["git", "commit", "-m", f"add {name}"], repo, env)


def _commits(repo: Path, env: dict[str, str]) -> int:
    return int(_run(["git", "rev-list", "--count", "HEAD"], repo, env).stdout)


def test_readme_hook_commits_good_copy(copy_repo: tuple[Path, dict[str, str]]) -> None:
    repo, env = copy_repo
    before = _commits(repo, env)
    done = _commit(repo, env, "copy/good.txt", GOOD)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert re.search(r"compliance lint\.+Passed", output), output
    assert _commits(repo, env) == before + 1


def test_readme_hook_blocks_bad_copy_and_shows_the_finding(copy_repo: tuple[Path, dict[str, str]]) -> None:
    repo, env = copy_repo
    before = _commits(repo, env)
    done = _commit(repo, env, "copy/bad.txt", BAD)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert re.search(r"compliance lint\.+Failed", output), output
    assert "copy/bad.txt:1:7: copy-ad-law (JD-SMS-13) [error]" in output
    assert "  1 | 【小米之家】全网最低价" in output  # the line, with the caret under it
    assert _commits(repo, env) == before  # nothing was committed
    assert "copy/bad.txt" in _run(["git", "diff", "--cached", "--name-only"], repo, env).stdout


# --------------------------------------------------------- the published hook (try-repo)


@pytest.fixture(scope="module")
def hook_repo(base: Path) -> tuple[Path, dict[str, str]]:
    """A git repository holding a bad and a good copy file, and the environment to run in."""
    if not (ROOT / ".git").exists():
        pytest.skip("the project is not a git checkout; pre-commit try-repo needs one")
    env = _environment(base / "try-repo")
    repo = base / "try-repo" / "copy-repo"
    repo.mkdir()
    (repo / "compliance.toml").write_text('default-channel = "jd.sms"\n', encoding="utf-8")
    (repo / "bad.txt").write_text(BAD, encoding="utf-8")
    (repo / "good.yaml").write_text("- " + GOOD, encoding="utf-8")
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "copy"]):
        _git_ok(args, repo, env)
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
    assert "bad.txt:1:7: copy-ad-law (JD-SMS-13) [error]" in output


def test_hook_passes_on_the_good_file(hook_repo: tuple[Path, dict[str, str]]) -> None:
    repo, env = hook_repo
    done = _try_repo(repo, env, "good.yaml")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Passed" in output
