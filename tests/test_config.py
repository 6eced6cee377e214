"""Configuration: discovery, loading, errors with key/line/did-you-mean, selection."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from compliance.config import Config, ConfigError, find_config, glob_match, load_config, starter_config


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_starter_config_loads_cleanly_and_has_comments(tmp_path: Path) -> None:
    text = starter_config()
    assert text.count("#") > 10
    config = load_config(write(tmp_path / "compliance.toml", text))
    assert config.default_channel == "jd.sms"
    assert config.output_format == "text" and config.strict is False
    # The commented-out examples are valid too once uncommented.
    example = re.compile(r'^# (\[\[?[\w.-]+\]\]?$|"?[\w.*/-]+"?\s*=\s*\S)')
    uncommented = "\n".join(line[2:] if example.match(line) else line for line in text.splitlines())
    assert uncommented.count("=") > text.count("\n=")
    config = Config.model_validate(tomllib.loads(uncommented))
    assert config.banned_words[0].word == "秒杀"
    assert config.per_file_ignores == {"drafts/**": ["jd-sms-length"]}


def test_full_config_in_pyproject(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pyproject.toml",
        """
[project]
name = "copy"

[tool.compliance]
default-channel = "jd.push"
extra-rules = ["rules/ours.rules"]
extra-lexicons = ["lex/ours.toml"]
allowed-words = ["第一坊"]
select = ["jd-sms"]
ignore = ["jd-sms-length"]
strict = true
output-format = "sarif"
exclude = ["drafts/**", "*.bak.txt"]

[tool.compliance.severity-overrides]
"jd-sms-link" = "warning"

[tool.compliance.per-file-ignores]
"legacy/*.txt" = ["jd-sms-ad-law"]

[[tool.compliance.banned-words]]
word = "秒杀"
category = "inducement"
severity = "warning"
""",
    )
    config = load_config(path)
    assert config.default_channel == "jd.push"
    assert config.resolve(config.extra_rules[0]) == tmp_path.absolute() / "rules/ours.rules"
    assert config.banned_words[0].word == "秒杀" and config.banned_words[0].severity == "warning"
    assert config.severity_for("jd-sms-link-short", "error") == "warning"
    assert config.severity_for("jd-sms-other", "error") == "error"
    assert config.is_enabled("jd-sms-ad-law")
    assert not config.is_enabled("jd-sms-length-body")
    assert not config.is_enabled("jd-mb-fans")  # not selected
    assert not config.is_enabled("jd-sms-ad-law", tmp_path / "legacy" / "old.txt")
    assert config.is_enabled("jd-sms-ad-law", tmp_path / "legacy" / "sub" / "old.txt")
    assert config.is_excluded(tmp_path / "drafts" / "x" / "a.txt")
    assert config.is_excluded(Path("deep/dir/a.bak.txt"))
    assert not config.is_excluded(Path("copy/a.txt"))


def test_more_specific_select_beats_ignore() -> None:
    config = Config(select=["jd-sms-ad-law"], ignore=["jd-sms"])
    assert config.is_enabled("jd-sms-ad-law")
    assert not config.is_enabled("jd-sms-link")
    tie = Config(select=["jd-sms"], ignore=["jd-sms"])
    assert not tie.is_enabled("jd-sms-link")


def test_snake_case_keys_are_accepted() -> None:
    assert Config.model_validate({"default_channel": "x"}).default_channel == "x"


def test_unknown_key_did_you_mean_with_line(tmp_path: Path) -> None:
    path = write(tmp_path / "compliance.toml", 'default-channel = "jd.sms"\n\nselct = ["a"]\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    err = info.value
    assert err.path == path and err.key == "selct" and err.line == 3
    assert "did you mean 'select'" in str(err)
    assert str(err).startswith(f"{path}:3: selct:")


def test_nested_error_names_dotted_key_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pyproject.toml",
        '[tool.compliance]\nstrict = true\n\n[[tool.compliance.banned-words]]\nword = "a"\ncategory = "ad_law"\n\n'
        '[[tool.compliance.banned-words]]\nword = "b"\ncategory = "inducment"\n',
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == "tool.compliance.banned-words[1].category"
    assert "did you mean 'inducement'" in str(info.value)
    assert info.value.line is not None and info.value.line >= 4


def test_unknown_key_in_banned_word(tmp_path: Path) -> None:
    path = write(tmp_path / "compliance.toml", '[[banned-words]]\nword = "a"\ncategory = "ad_law"\nseverty = "error"\n')
    with pytest.raises(ConfigError, match="did you mean 'severity'") as info:
        load_config(path)
    assert info.value.key == "banned-words[0].severty" and info.value.line == 4


def test_invalid_values(tmp_path: Path) -> None:
    cases = {
        'output-format = "sarf"\n': ("output-format", "did you mean 'sarif'"),
        '[severity-overrides]\n"jd-x" = "fatal"\n': ("severity-overrides.jd-x", "unknown severity"),
        'strict = "yes"\n': ("strict", "boolean"),
        'select = ["bad code!"]\n': ("select[0]", "not a rule id"),
    }
    for text, (key, reason) in cases.items():
        with pytest.raises(ConfigError) as info:
            load_config(write(tmp_path / "compliance.toml", text))
        assert info.value.key == key, text
        assert reason in str(info.value), str(info.value)
        assert info.value.line is not None


def test_toml_syntax_error_has_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TOML syntax error") as info:
        load_config(write(tmp_path / "compliance.toml", 'strict = true\nselect = ["a" "b"]\nignore = []\n'))
    assert info.value.line == 2
    with pytest.raises(ConfigError, match="Unclosed array") as info:
        load_config(write(tmp_path / "compliance.toml", 'strict = true\nselect = ["a"\n'))
    assert info.value.line == 2


def test_find_config_precedence_and_git_boundary(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    write(tmp_path / "compliance.toml", "")  # above the repository: never found from inside
    deep = repo / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) is None
    write(repo / "pyproject.toml", "[project]\nname = 'x'\n")  # no [tool.compliance]: skipped
    assert find_config(deep) is None
    write(repo / "pyproject.toml", "[tool.compliance]\nstrict = true\n")
    assert find_config(deep) == repo / "pyproject.toml"
    write(repo / "compliance.toml", "strict = false\n")
    assert find_config(deep / "file.txt") == repo / "compliance.toml"
    write(repo / "a" / "pyproject.toml", "[tool.compliance]\n")
    assert find_config(deep) == repo / "a" / "pyproject.toml"


def test_pyproject_without_table_gives_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n"))
    assert config.model_dump() == Config().model_dump() and config.source == (tmp_path / "pyproject.toml").absolute()


def test_glob_match() -> None:
    assert glob_match("drafts/**", "drafts/a/b.txt")
    assert glob_match("**/*.md", "x/y/z.md") and glob_match("**/*.md", "z.md")
    assert glob_match("*.md", "x/y/z.md")  # no slash: matches a name anywhere
    assert not glob_match("copy/*.txt", "copy/sub/a.txt")
    assert glob_match("copy", "copy/sub/a.txt")  # a directory covers its contents
    assert glob_match("a?.txt", "ab.txt") and not glob_match("a?.txt", "a/.txt")


def test_selection_covers_every_ref_a_rule_cites() -> None:
    config = Config(ignore=["CN-01"])
    assert not config.is_enabled("copy-ad-law", refs=("JD-SMS-13", "CN-01"))
    assert config.is_enabled("copy-ad-law", ref="JD-SMS-13")
    selected = Config(select=["cn-05"], ignore=["copy-contact"])
    assert selected.is_enabled("copy-ad-law", refs=("JD-SMS-13", "CN-05"))
    assert not selected.is_enabled("copy-contact-words", refs=("JD-SMS-15", "CN-05"))  # longer selector wins


def test_error_for_a_value_checked_later_names_key_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml",
                 '[project]\nname = "x"\n\n[tool.compliance]\nselect = ["a"]\n\n'
                 '[tool.compliance.per-file-ignores]\n"drafts/**" = ["b"]\n')
    config = load_config(path)
    error = config.error(("per-file-ignores", "drafts/**", 0), "no such rule")
    assert (error.key, error.line) == ('tool.compliance.per-file-ignores."drafts/**"[0]', 8)
    assert str(error) == f'{path}:8: tool.compliance.per-file-ignores."drafts/**"[0]: no such rule'
    assert Config().error(("select", 0), "bad").key == "select[0]"
