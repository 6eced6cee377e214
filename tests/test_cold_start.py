"""Cold start (issue 13 item 2): what `import compliance.cli` and a `compliance lint` of a
one-line copy file import, checked in a fresh interpreter.

`compliance lint` runs on every commit as a pre-commit hook: modules it does not need cost
start-up time on each run. pyarrow (Spark, the auditor), rich (the auditor's progress bar) and
jieba (the evaluation's baseline; the matcher's segmentation of ambiguous hits) are imported
only by the commands and hits that use them; lark (the rules grammar) only when a pack is not
in the on-disk cache and must be parsed; yaml only for YAML copy files, phonenumbers only for
text with digits; pydantic only when there is a configuration file to validate (without one,
lint uses `compliance.config.DefaultConfig`, the defaults without pydantic).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Never imported by `import compliance.cli`, nor by a lint of a one-line .txt file without
#: digits and without a configuration file, with a warm cache.
HEAVY = ("pydantic", "pyarrow", "rich", "jieba", "lark", "yaml", "phonenumbers")

_PROBE = """
import json, sys
code = 0
if sys.argv[1:]:
    from compliance.cli import main
    code = main(sys.argv[1:])
else:
    import compliance.cli
print(json.dumps(sorted(sys.modules)))
sys.exit(0 if code in (0, 1) else 3)
"""


def loaded_modules(args: list[str], cache_dir: Path) -> set[str]:
    """The modules a fresh interpreter holds after `compliance ARGS` (or, without args, after
    `import compliance.cli`); the last line of its output lists them."""
    env = {**os.environ, "COMPLIANCE_CACHE_DIR": str(cache_dir), "PYTHONPATH": str(ROOT)}
    env.pop("COMPLIANCE_NO_CACHE", None)
    done = subprocess.run([sys.executable, "-c", _PROBE, *args], env=env, cwd=cache_dir.parent,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def top_level_modules(args: list[str], cache_dir: Path) -> set[str]:
    """The top-level packages of `loaded_modules`."""
    return {name.split(".")[0] for name in loaded_modules(args, cache_dir)}


@pytest.fixture
def copy_file(tmp_path: Path) -> Path:
    path = tmp_path / "copy.txt"
    path.write_text("【京东】限时抢购，全网最低价！回T退订\n", encoding="utf-8")
    return path


def test_import_cli_imports_nothing_heavy(tmp_path: Path) -> None:
    loaded = top_level_modules([], tmp_path / "cache")
    assert loaded & set(HEAVY) == set()
    assert "compliance" in loaded  # the probe ran


def test_lint_of_a_one_line_file_imports_nothing_it_does_not_need(tmp_path: Path, copy_file: Path) -> None:
    args = ["lint", "--no-config", "--channel", "jd.sms", str(copy_file)]
    cold = top_level_modules(args, tmp_path / "cache")  # fills the cache (parses the packs)
    warm = top_level_modules(args, tmp_path / "cache")
    assert "compliance" in warm and "ahocorasick" in warm  # the probe linted
    assert warm & set(HEAVY) == set()
    assert cold & {"pydantic", "pyarrow", "rich", "jieba"} == set()


def test_lint_searching_for_a_configuration_and_finding_none(tmp_path: Path, copy_file: Path) -> None:
    args = ["lint", "--channel", "jd.sms", str(copy_file)]
    (tmp_path / ".git").mkdir()  # the search stops at the repository root
    top_level_modules(args, tmp_path / "cache")
    assert top_level_modules(args, tmp_path / "cache") & set(HEAVY) == set()


def test_a_configuration_file_is_validated_with_pydantic(tmp_path: Path, copy_file: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "compliance.toml").write_text('ignore = ["jd-sms-optout"]\n', encoding="utf-8")
    loaded = top_level_modules(["lint", "--channel", "jd.sms", str(copy_file)], tmp_path / "cache")
    assert "pydantic" in loaded
    assert loaded & {"pyarrow", "rich", "jieba"} == set()


def test_default_config_is_config_without_pydantic(tmp_path: Path) -> None:
    """`DefaultConfig` holds exactly the fields and values of ``Config()`` and copies alike."""
    from compliance.config import Config, DefaultConfig

    validated, plain = Config(), DefaultConfig()
    for name in Config.model_fields:
        assert getattr(plain, name) == getattr(validated, name), name
    assert {n for n in vars(plain) if not n.startswith("_")} == set(Config.model_fields)
    assert plain.source is None and plain.root == validated.root
    update = {"select": ["jd-sms"], "ignore": ["jd-sms-length", "CN-03"]}
    copied, reference = plain.model_copy(update=update), validated.model_copy(update=update)
    for name in Config.model_fields:
        assert getattr(copied, name) == getattr(reference, name), name
    for rule, ref in [("jd-sms-length", None), ("jd-sms-optout", "JD-SMS-26"), ("wechat-x", "CN-03"), ("copy-ad-law", None)]:
        assert copied.is_enabled(rule, tmp_path / "a.txt", ref) == reference.is_enabled(rule, tmp_path / "a.txt", ref)
    assert plain.severity_for("jd-sms-length", "error") == validated.severity_for("jd-sms-length", "error")
    with pytest.raises(AttributeError):
        plain.strict = True  # type: ignore[misc]
    with pytest.raises(TypeError):
        DefaultConfig(no_such_key=1)


def test_lint_does_not_import_the_other_commands_or_formats(tmp_path: Path, copy_file: Path) -> None:
    """The parser of a built-in command is built without the optional commands' modules, and
    only the output format in use is imported."""
    args = ["lint", "--no-config", "--channel", "jd.sms", str(copy_file)]
    loaded_modules(args, tmp_path / "cache")
    warm = loaded_modules(args, tmp_path / "cache")
    assert "compliance.output.text" in warm and "compliance._config_model" not in warm
    unneeded = {"compliance.audit.command", "compliance.server.command", "compliance.replay",
                "compliance.output.junit", "compliance.output.sarif", "compliance.output.github",
                "importlib.metadata"}  # (the fold tables' key names OpenCC without it)
    assert warm & unneeded == set()
    formats = loaded_modules([*args[:-1], "--format", "junit", str(copy_file)], tmp_path / "cache")
    assert "compliance.output.junit" in formats and "compliance.output.text" not in formats


def test_the_fold_tables_key_follows_opencc_s_installed_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tables' cache key names OpenCC by its files (no importlib.metadata at start-up):
    a changed or added file of the package is a new key."""
    import importlib.machinery
    import importlib.util

    from compliance.analyzer import normalize

    package = tmp_path / "opencc"
    (package / "clib").mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "clib" / "t2s.json").write_text("{}", encoding="utf-8")
    spec = importlib.machinery.ModuleSpec("opencc", None, origin=str(package / "__init__.py"), is_package=True)
    spec.submodule_search_locations = [str(package)]
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: spec if name == "opencc" else None)
    first = normalize._tables_key()
    assert normalize._tables_key() == first
    (package / "clib" / "t2s.json").write_text('{"changed": 1}', encoding="utf-8")
    second = normalize._tables_key()
    assert second != first
    (package / "clib" / "extra.ocd2").write_bytes(b"x")
    assert normalize._tables_key() not in (first, second)


def test_text_with_a_phone_number_imports_the_library_on_first_use(tmp_path: Path) -> None:
    """phonenumbers is imported from inside the contact scanner, which generated pack code
    calls: that must work in the compiled build too (the probe fails on exit code 2)."""
    path = tmp_path / "phone.txt"
    path.write_text("【好物小店】详询电话 0571-88881234\n", encoding="utf-8")
    loaded = top_level_modules(["lint", "--no-config", "--channel", "jd.sms", str(path)], tmp_path / "cache")
    assert "phonenumbers" in loaded
