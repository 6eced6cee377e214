"""Project configuration: ``[tool.compliance]`` in pyproject.toml, or a ``compliance.toml``.

Keys are kebab-case (``default-channel``); the snake_case spelling is accepted too. Unknown
keys are errors with a did-you-mean. Paths are relative to the directory of the config file.

=========================  ================================================================
key                        meaning
=========================  ================================================================
``default-channel``        channel for copy files / messages that name none (``"jd.sms"``)
``extra-rules``            extra ``.rules`` files (add to or override the built-in packs)
``extra-lexicons``         extra lexicon ``.toml`` files
``allowed-words``          words never reported (e.g. a brand name containing 第一)
``banned-words``           extra banned words: ``{word, category, severity, message}``
``severity-overrides``     rule id → ``"error"`` / ``"warning"`` / ``"info"``
``select`` / ``ignore``    rule ids or prefixes to enable / disable (empty select: all rules)
``per-file-ignores``       glob → rule ids or prefixes ignored in matching files
``strict``                 warnings fail the run too (exit code 1)
``output-format``          default output format (see `compliance.output.FORMATS`)
``exclude``                globs of paths never checked
=========================  ================================================================

Selection follows Ruff: the most specific matching selector wins, and ``ignore`` wins a tie;
codes match rule ids exactly or as prefixes at a ``-`` boundary.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Sequence
from difflib import get_close_matches
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from compliance.errors import ComplianceError
from compliance.findings import SEVERITIES

if TYPE_CHECKING:  # pragma: no cover
    from pydantic import ValidationError

    from compliance._config_model import BannedWord, Config

CONFIG_FILENAME = "compliance.toml"
#: Largest configuration file read (a real one is a few KB).
MAX_CONFIG_BYTES = 4 * 1024 * 1024
PYPROJECT = "pyproject.toml"
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")


def _shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters (errors quote the user's values, not megabytes of them)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _kebab(name: str) -> str:
    return name.replace("_", "-")


class ConfigError(ComplianceError, ValueError):
    """A configuration file that cannot be used.

    Attributes:
        path: the config file.
        key: dotted key path of the problem (``tool.compliance.banned-words[1].severity``), or None.
        line: 1-based line of the key in the file, when it could be found.
        reason: what is wrong.
    """

    def __init__(self, path: Path, reason: str, *, key: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.key = key
        self.line = line
        self.reason = reason
        where = f"{path}:{line}" if line is not None else str(path)
        subject = f" {key}:" if key else ""
        super().__init__(f"{where}:{subject} {reason}")


def _one_of(value: str, allowed: Sequence[str] | frozenset[str], what: str) -> str:
    if value in allowed:
        return value
    close = get_close_matches(value, sorted(allowed), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"unknown {what} {value!r}{hint} (expected one of: {', '.join(sorted(allowed))})")


def _code(code: str) -> str:
    if not _CODE.fullmatch(code):
        raise ValueError(f"{code!r} is not a rule id or prefix (letters, digits, '-', '_', '.')")
    return code


def _severity(value: str) -> str:
    return _one_of(value, SEVERITIES, "severity")


class ConfigMethods:
    """What a configuration answers (selection, severities, paths), shared by the validated
    `Config` (a pydantic model) and `DefaultConfig`; both hold the same fields."""

    if TYPE_CHECKING:  # declared for the type checker only: pydantic must not see them
        _source: Path | None
        select: list[str]
        ignore: list[str]
        per_file_ignores: dict[str, list[str]]
        severity_overrides: dict[str, str]
        exclude: list[str]

    @property
    def source(self) -> Path | None:
        """The file this configuration was loaded from (None for defaults)."""
        return self._source

    @property
    def root(self) -> Path:
        """Directory that relative paths and globs are relative to."""
        return self._source.parent if self._source is not None else Path.cwd()

    def resolve(self, path: Path) -> Path:
        """`path` made absolute against `root`."""
        return path if path.is_absolute() else self.root / path

    def _relative(self, path: Path) -> str:
        path = Path(path)
        if path.is_absolute():
            try:
                return path.relative_to(self.root.absolute()).as_posix()
            except ValueError:
                return path.as_posix()
        return path.as_posix()

    def is_excluded(self, path: Path) -> bool:
        """Whether `path` matches an ``exclude`` glob."""
        rel = self._relative(path)
        return any(glob_match(pattern, rel) for pattern in self.exclude)

    def is_enabled(
        self, rule: str, path: Path | None = None, ref: str | None = None, *, refs: Sequence[str] = ()
    ) -> bool:
        """Whether findings of `rule` are reported (select/ignore/per-file-ignores).

        `ref` and `refs` are the rule's catalogue refs (a rule may cite several); a selector
        naming any of them covers the rule.
        """
        from compliance.io.suppression import code_matches

        all_refs = [r for r in (ref, *refs) if r] or [None]

        def best(codes: Sequence[str]) -> int:
            return max(
                (len(c) for c in codes if any(code_matches(c, rule, r) for r in all_refs)), default=-1
            )

        ignores = list(self.ignore)
        if path is not None:
            rel = self._relative(path)
            for pattern, codes in self.per_file_ignores.items():
                if glob_match(pattern, rel):
                    ignores.extend(codes)
        selected = best(self.select) if self.select else 0
        return selected >= 0 and best(ignores) < selected

    def error(self, loc: Sequence[str | int], reason: str) -> ConfigError:
        """A `ConfigError` about the value at `loc` (e.g. ``("select", 0)``) of this file,
        naming the dotted key and, when it can be found, its line."""
        if self._source is None:
            return ConfigError(Path("<command line>"), reason, key=_dotted(loc))
        prefix: tuple[str, ...] = ("tool", "compliance") if self._source.name == PYPROJECT else ()
        try:
            text = self._source.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            text = ""
        return ConfigError(self._source, reason, key=_dotted(prefix + tuple(loc)),
                           line=_find_line(text, prefix, tuple(loc)))

    def severity_for(self, rule: str, default: str) -> str:
        """The severity of `rule` after ``severity-overrides`` (most specific prefix wins)."""
        from compliance.io.suppression import code_matches

        matches = [(len(code), sev) for code, sev in self.severity_overrides.items() if code_matches(code, rule)]
        return max(matches)[1] if matches else default


class DefaultConfig(ConfigMethods):
    """The default settings — the values of ``Config()`` — without pydantic: what lint uses
    when no configuration file governs its files, or with ``--no-config`` (importing pydantic
    and building the models is ~25 % of a short lint's start; see docs/BENCHMARKS.md).
    Immutable like `Config`; `model_copy` as pydantic's (``update`` is not validated)."""

    def __init__(self, **fields: Any) -> None:
        values: dict[str, Any] = {
            "default_channel": None, "extra_rules": [], "extra_lexicons": [], "allowed_words": [],
            "banned_words": [], "severity_overrides": {}, "select": [], "ignore": [],
            "per_file_ignores": {}, "strict": False, "output_format": "text", "exclude": [],
        }
        unknown = fields.keys() - values.keys()
        if unknown:
            raise TypeError(f"DefaultConfig: unknown fields {sorted(unknown)}")
        values.update(fields)
        values["_source"] = None
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a configuration is immutable (cannot set {name!r})")

    def model_copy(self, *, update: dict[str, Any] | None = None) -> DefaultConfig:
        """A copy with the fields in ``update`` replaced (pydantic's `model_copy`)."""
        fields = {name: value for name, value in vars(self).items() if name != "_source"}
        return DefaultConfig(**{**fields, **(update or {})})


def default_config() -> DefaultConfig:
    """The default configuration, without importing pydantic."""
    return DefaultConfig()


def __getattr__(name: str) -> Any:
    """`Config` and `BannedWord`, the pydantic models, imported on first use."""
    if name in ("Config", "BannedWord"):
        from compliance import _config_model

        return getattr(_config_model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            close = pattern.find("]", i + 1)
            if close == -1:
                out.append(re.escape(c))
                i += 1
            else:
                body = pattern[i + 1 : close].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = close + 1
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("".join(out) + r"(?:/.*)?\Z")


def glob_match(pattern: str, path: str) -> bool:
    """Gitignore-like glob: ``*`` within a segment, ``**`` across segments; a pattern without
    ``/`` also matches a file or directory name anywhere; a match on a directory covers its
    contents."""
    pattern = pattern.strip().removeprefix("./")
    path = PurePosixPath(path).as_posix().removeprefix("./")
    if _glob_regex(pattern).match(path):
        return True
    if "/" not in pattern:
        parts = path.split("/")
        return any(_glob_regex(pattern).match("/".join(parts[i:])) for i in range(1, len(parts)))
    return False


# ------------------------------------------------------------------------------ find / load


def _has_tool_table(pyproject: Path) -> bool:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return True  # let load_config report the problem rather than silently skip the file
    tool = data.get("tool")
    return isinstance(tool, dict) and "compliance" in tool


def find_config(start: Path) -> Path | None:
    """The config file governing `start` (a file or directory), or None.

    Walks up from `start` to the filesystem root, stopping after the first directory that
    contains ``.git``. In each directory ``compliance.toml`` wins over ``pyproject.toml``; a
    pyproject.toml without a ``[tool.compliance]`` table is skipped.
    """
    start = Path(start).absolute()
    directory = start if start.is_dir() else start.parent
    for current in (directory, *directory.parents):
        candidate = current / CONFIG_FILENAME
        if candidate.is_file():
            return candidate
        pyproject = current / PYPROJECT
        if pyproject.is_file() and _has_tool_table(pyproject):
            return pyproject
        if (current / ".git").exists():
            return None
    return None


def load_config(path: Path) -> Config:
    """Load and validate a ``compliance.toml`` or the ``[tool.compliance]`` of a pyproject.toml.

    A pyproject.toml without the table gives the default `Config`.

    Raises:
        ConfigError: unreadable file, TOML syntax error, unknown key (with did-you-mean) or
            invalid value; names the file, the dotted key and the line when it can be found.
    """
    path = Path(path)
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise ConfigError(path, f"cannot read: {kind}; a configuration must be a TOML file")
        if info.st_size > MAX_CONFIG_BYTES:
            raise ConfigError(path, f"cannot read: {info.st_size:,} bytes; a configuration is at most {MAX_CONFIG_BYTES:,}")
        data_bytes = path.read_bytes()
    except OSError as exc:
        raise ConfigError(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        text = data_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bom = 3 if data_bytes.startswith(b"\xef\xbb\xbf") else 0  # utf-8-sig counts after the BOM
        good = data_bytes[bom : bom + exc.start].decode("utf-8", "replace")
        line = good.count("\n") + 1
        column = len(good) - (good.rfind("\n") + 1) + 1
        raise ConfigError(
            path, f"not valid UTF-8 (byte 0x{data_bytes[bom + exc.start]:02x} at column {column}); "
            "configuration files must be encoded as UTF-8", line=line,
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        reason = re.sub(r"\s*\(at (?:line \d+, column \d+|end of document)\)", "", str(exc))
        line = int(match.group(1)) if match else max(1, len(text.splitlines()))
        raise ConfigError(path, f"TOML syntax error: {reason}", line=line) from None
    except RecursionError:
        raise ConfigError(path, "TOML nested too deeply (arrays or inline tables inside each other)",
                          line=_first_deep_line(text)) from None
    prefix: tuple[str, ...] = ()
    if path.name == PYPROJECT:
        prefix = ("tool", "compliance")
        tool = data.get("tool", {})
        section = tool.get("compliance", {}) if isinstance(tool, dict) else {}
        if not isinstance(section, dict):
            raise ConfigError(path, "must be a table", key="tool.compliance", line=_find_line(text, prefix, ()))
        data = section
    from pydantic import ValidationError

    from compliance._config_model import Config

    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise _config_error(path, text, prefix, exc) from None
    config._source = path.absolute()
    return config


def _first_deep_line(text: str, limit: int = 64) -> int:
    """1-based line of the first bracket nested more than `limit` deep (roughly), else 1."""
    depth = 0
    for number, line in enumerate(text.splitlines(), 1):
        for c in line:
            if c in "[{":
                depth += 1
                if depth > limit:
                    return number
            elif c in "]}":
                depth = max(0, depth - 1)
    return 1


def _aliases(model: Any) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _config_error(path: Path, text: str, prefix: tuple[str, ...], exc: ValidationError) -> ConfigError:
    errors = exc.errors()
    first = errors[0]
    loc = tuple(first["loc"])
    key = _dotted(prefix + loc)
    if first["type"] == "extra_forbidden":
        unknown = str(loc[-1])
        from compliance._config_model import BannedWord, Config

        model: Any = BannedWord if loc and loc[0] in ("banned-words", "banned_words") else Config
        choices = _aliases(model)
        close = get_close_matches(unknown.replace("_", "-"), choices, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        reason = f"unknown key {unknown!r}{hint} (known keys: {', '.join(choices)})"
    else:
        message = _shorten(first["msg"].removeprefix("Value error, "), 300)
        shown = _shorten(repr(first["input"]), 120)
        reason = f"{message} (got {shown})" if first["type"] != "missing" else message
    if len(errors) > 1:
        reason += f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})"
    return ConfigError(path, reason, key=key, line=_find_line(text, prefix, loc))


def _dotted(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            part = str(part)
            if not re.fullmatch(r"[A-Za-z0-9_\-]+", part):
                part = '"' + part.replace('"', '\\"') + '"'
            out += f".{part}" if out else part
    return out


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")


def _key_pattern(key: str) -> str:
    return rf"(?:{re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')"


def _find_line(text: str, prefix: tuple[str, ...], loc: tuple[Any, ...]) -> int | None:
    """Best-effort line of a key: the header/assignment of its first component under
    `prefix`, then the next nested string component after it."""
    lines = text.splitlines()
    table = ".".join(prefix)
    current = ""
    names = [str(part) for part in loc if isinstance(part, str)]
    if not names:
        for number, line in enumerate(lines, 1):
            header = _HEADER.match(line)
            if header and header.group(1).replace(" ", "") == table:
                return number
        return None
    top = names[0]
    found: int | None = None
    for number, line in enumerate(lines, 1):
        header = _HEADER.match(line)
        if header:
            current = header.group(1).replace(" ", "").replace('"', "")
            if current in (f"{table}.{top}" if table else top, f"{table}.{top.replace('-', '_')}"):
                found = number
                break
            continue
        if current == table and re.match(rf"^\s*{_key_pattern(top)}\s*[.=]", line):
            found = number
            break
    if found is None:
        return None
    for name in names[1:]:
        for number in range(found, min(len(lines), found + 200) + 1):
            if re.search(rf"(?:^|[{{,\s]){_key_pattern(name)}\s*=", lines[number - 1]):
                found = number
                break
    return found


STARTER_CONFIG = '''\
# compliance.toml: settings for the `compliance` linter.
# Paths and globs are relative to this file. The same keys work under
# [tool.compliance] in pyproject.toml; compliance.toml wins when both exist.

# Channel for copy files that name none (front matter `channel:` or a top-level
# `channel = ...` in the file wins over this).
default-channel = "jd.sms"

# Rule ids or prefixes to report; empty means every rule. "jd-sms" covers "jd-sms-…".
select = []
# Rule ids or prefixes never reported.
ignore = []

# Warnings fail the run too (exit code 1), not only errors.
strict = false

# Default output format: text, json, jsonl, sarif, github or junit.
output-format = "text"

# Globs of paths never checked.
exclude = []

# Extra rules and lexicons, on top of the built-in packs.
extra-rules = []
extra-lexicons = []

# Words never reported, e.g. a brand name that contains 第一.
allowed-words = []

# Rule ids or prefixes ignored only in files matching a glob.
[per-file-ignores]
# "drafts/**" = ["jd-sms-length"]

# Change the severity of a rule ("error", "warning" or "info").
[severity-overrides]
# "jd-sms-length" = "warning"

# Extra banned words: category is a finding category, severity error/warning/info.
# [[banned-words]]
# word = "秒杀"
# category = "inducement"
# severity = "warning"
# message = "避免使用“秒杀”"
'''


def starter_config() -> str:
    """A commented starter ``compliance.toml`` (what ``compliance init`` writes)."""
    return STARTER_CONFIG
