"""Fuzz targets for the readers of files users hand us: copy files, suppression comments,
the configuration, and the archives ``compliance audit`` / ``replay`` read.

Each target checks properties users rely on: only `ComplianceError` subclasses escape (a
copy-file error names file:line:col inside the file); every extracted character's position
points at that character in the file read back independently; a file we wrote ourselves
reads back to what we wrote; an archive never loses a good record because of a bad
neighbour, and reports each bad one at its line. CI runs the short budget of
``tests/fuzz/budget.py``; ``make fuzz`` the long one.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import string
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from compliance.config import Config, ConfigError, load_config
from compliance.errors import ComplianceError
from compliance.io.archives import ArchiveError, iter_archive
from compliance.io.suppression import DirectiveError, parse_allow_value, parse_directive
from fuzz.atheris_copyfiles import COPY_EXTENSIONS, check_archive, check_copy_bytes
from fuzz.budget import fuzz_settings, require_atheris

pytestmark = pytest.mark.fuzz
TMP_OK = [HealthCheck.function_scoped_fixture]

# --------------------------------------------------------------------------- building blocks

#: Characters that break readers: line breaks of every kind, BOM, NUL, tabs, quotes,
#: escapes, comment and directive starters, RTL/zero-width marks, CJK and an emoji.
NASTY = "\r\n\t\x00\ufeff\u2028\u2029\x85\u200b\u200f\u202e\"'\\#,:-*>[]{}&!|%@` 　一二三【】😀é"
nasty_text = st.text(alphabet=st.sampled_from(NASTY) | st.characters(codec="utf-8"), max_size=40)
plain_text = st.text(alphabet=string.ascii_letters + "一二三【】，。！ 😀", min_size=1, max_size=30).filter(str.strip)
line_breaks = st.sampled_from(["\n", "\r\n", "\r"])
FRAGMENTS = [
    b"---\n", b"...\n", b"- ", b"? ", b": ", b"&a ", b"*a", b"!!python/object:os.system ", b"!!binary ",
    b"{", b"}", b"[", b"]", b'"', b"'", b"\\", b"\\u00e9", b"\\ud800", b"#", b"# compliance: disable=x\n",
    b"<!-- compliance: disable-next-line=jd-sms -->", b"[[message]]\n", b"body = ", b'"""', b"'''",
    b"channel", b"messages", b"text", b"allow", b"id", b"body", b",", b"\r", b"\n", b"\r\n", b"\t",
    b"\x00", b"\xef\xbb\xbf", b"\xff", b"\xc3", b"\xe2\x80\xa8", b"```\n", b"<!--", b"-->", b"|\n  ", b">-\n  ",
    b"1e999", b"-0", b"true", b"null", b"~", b"\xe4\xbd\xa0\xe5\xa5\xbd",
]
# Arbitrary bytes, and byte soups made of format syntax (they get past the first token).
soup = st.one_of(
    st.binary(max_size=300),
    st.lists(st.sampled_from(FRAGMENTS) | st.binary(max_size=4), max_size=40).map(b"".join),
)


# ------------------------------------------------------------------ copy files: any bytes


@pytest.mark.parametrize("extension", COPY_EXTENSIONS)
@fuzz_settings()
@given(data=soup)
def test_copy_file_readers_on_any_bytes(extension: str, data: bytes) -> None:
    """Any bytes, each format: a file of messages with exact positions, or a CopyFileError
    at a file:line:col inside the file."""
    check_copy_bytes(data, extension)


@fuzz_settings(suppress_health_check=[*fuzz_settings().suppress_health_check, *TMP_OK])
@given(data=soup, extension=st.sampled_from(COPY_EXTENSIONS))
def test_copy_file_read_from_disk_equals_read_in_memory(tmp_path: Path, data: bytes, extension: str) -> None:
    """`read_copy_file` (from disk) and `parse_copy_text` (stdin) agree, errors included."""
    check_copy_bytes(data, extension, tmp_path)


# --------------------------------------------------------- copy files we write ourselves


def _with_breaks(text: str, newline: str) -> str:
    return text.replace("\n", newline)


message_texts = st.lists(nasty_text.filter(lambda s: s != ""), min_size=1, max_size=6)


@fuzz_settings()
@given(texts=message_texts, ensure_ascii=st.booleans(), indent=st.sampled_from([None, 0, 2]),
       shape=st.sampled_from(["list", "mapping", "fields"]), bom=st.booleans())
def test_json_copy_file_reads_back_what_json_dumps_wrote(texts, ensure_ascii, indent, shape, bom) -> None:
    """JSON written by `json.dumps` (escapes, surrogate pairs, any indentation) reads back
    exactly, and every character's position is the character or its escape."""
    if shape == "list":
        doc: object = texts
    elif shape == "mapping":
        doc = {"channel": "jd.sms", "messages": texts}
    else:
        doc = [{"body": t, "id": str(i), "allow": "jd-sms"} for i, t in enumerate(texts)]
    data = (b"\xef\xbb\xbf" if bom else b"") + json.dumps(doc, ensure_ascii=ensure_ascii, indent=indent).encode(
        "utf-8", "surrogatepass")
    copy = check_copy_bytes(data, ".json")
    if any("\ud800" <= ch <= "\udfff" for t in texts for ch in t):
        return  # a lone surrogate escape is not text; a clear error is fine
    assert copy is not None
    key = "body" if shape == "fields" else "text"
    assert [m.fields[key] for m in copy.messages] == texts


@fuzz_settings()
@given(texts=message_texts, style=st.sampled_from([None, '"', "'", "|", ">"]), width=st.sampled_from([20, 80, 4096]),
       tag=st.sampled_from(["", "!!str ", "!!python/object:os.system ", "!!python/name:os.system "]))
def test_yaml_copy_file_reads_back_what_pyyaml_wrote_and_never_builds_objects(texts, style, width, tag) -> None:
    """YAML written by PyYAML in every scalar style reads back as PyYAML reads it; Python tags are
    never constructed (a tagged scalar is only its text, or the message is refused)."""
    import yaml

    texts = [t for t in texts if not any("\ud800" <= ch <= "\udfff" for ch in t)] or ["x"]
    body = yaml.safe_dump(texts, default_style=style, allow_unicode=True, width=width)
    tagged = body.replace("- ", "- " + tag, 1) if tag else body
    copy = check_copy_bytes(tagged.encode("utf-8"), ".yaml")
    if tag:
        return  # tags are only exercised for safety (no object is built; the check above passed)
    if copy is None:
        # PyYAML writes some characters (NUL, U+FEFF…) that it then refuses to read: same here.
        assert any(ch in t for t in texts for ch in "\x00\ufeff\x85\u2028\u2029\x1b\x7f")
        return
    # PyYAML does not round-trip everything it writes (U+0085 in a single-quoted scalar reads
    # back as a space): what PyYAML reads is the reference.
    assert [m.fields["text"] for m in copy.messages] == yaml.safe_load(body)


def _toml_basic(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


@fuzz_settings()
@given(texts=message_texts, newline=line_breaks, literal=st.booleans())
def test_toml_copy_file_reads_back_what_we_wrote(texts, newline, literal) -> None:
    """``[[message]]`` tables with basic (escaped) or literal strings read back exactly."""
    texts = [t for t in texts if not any("\ud800" <= ch <= "\udfff" for ch in t)] or ["x"]
    parts = ['channel = "jd.sms"', ""]
    for t in texts:
        simple = literal and "'" not in t and not any(ord(c) < 0x20 or c == "\x7f" for c in t)
        parts += ["[[message]]", f"body = '{t}'" if simple else f"body = {_toml_basic(t)}", ""]
    data = newline.join(parts).encode("utf-8")
    copy = check_copy_bytes(data, ".toml")
    if newline == "\r":
        return  # a lone CR is not a TOML line break: an error at a position is the right answer
    assert copy is not None
    assert [m.fields["body"] for m in copy.messages] == texts


@fuzz_settings()
@given(rows=st.lists(st.tuples(nasty_text, nasty_text), min_size=1, max_size=6), newline=line_breaks,
       quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
def test_csv_copy_file_reads_back_what_the_csv_module_wrote(rows, newline, quoting) -> None:
    """RFC 4180 CSV (quotes, line breaks inside fields, any line terminator) reads back."""
    rows = [(a, b) for a, b in rows if not any("\ud800" <= ch <= "\udfff" for ch in a + b)]
    if any(ch in cell for row in rows for cell in row for ch in "\r\n"):
        quoting = csv.QUOTE_ALL  # the csv module leaves a lone CR unquoted under "\n" endings
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline, quoting=quoting)
    writer.writerow(["id", "body"])
    writer.writerows(rows)
    copy = check_copy_bytes(buffer.getvalue().encode("utf-8"), ".csv")
    assert copy is not None
    expected = [b for a, b in rows if b]
    got = [m.fields.get("body") for m in copy.messages if "body" in m.fields]
    assert got == expected


@fuzz_settings()
@given(lines=st.lists(nasty_text, max_size=12), newline=line_breaks, extension=st.sampled_from([".txt", ".md"]))
def test_line_copy_files_positions_hold_for_any_line_mix(lines, newline, extension) -> None:
    """.txt/.md: any mix of lines, comments, directives and line breaks keeps exact positions."""
    data = newline.join(lines).encode("utf-8", "surrogatepass")
    copy = check_copy_bytes(data, extension)
    if copy is not None and extension == ".txt":
        for message in copy.messages:
            text = message.fields["text"]
            assert text == text.strip(" \t") and "\n" not in text and "\r" not in text


@fuzz_settings()
@given(depth=st.integers(1, 400), kind=st.sampled_from(["json", "yaml-flow", "yaml-block", "toml"]),
       alias_levels=st.integers(0, 12))
def test_deep_nesting_and_alias_bombs_end_in_a_positioned_error_or_messages(depth, kind, alias_levels) -> None:
    """Nesting at any depth and alias expansion at any size: messages or a positioned error,
    never RecursionError / MemoryError."""
    if kind == "json":
        data, ext = "[" * depth + '"x"' + "]" * depth, ".json"
    elif kind == "yaml-flow":
        data, ext = "[" * depth + "x" + "]" * depth, ".yaml"
    elif kind == "yaml-block":
        data, ext = "".join("  " * i + "-\n" for i in range(depth)) + "  " * depth + "- x\n", ".yaml"
    else:
        data, ext = "a = " + "[" * depth + "1" + "]" * depth, ".toml"
    check_copy_bytes(data.encode(), ext)
    if alias_levels:
        doc = 'a0: &a0 ["lol", "lol", "lol"]\n'
        doc += "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 3)}]\n" for i in range(1, alias_levels))
        check_copy_bytes(f"- text: x\n  extra: {doc!r}\n".encode(), ".yaml")
        bomb = "- &m0 [x, x, x]\n" + "".join(
            f"- &m{i} [{', '.join([f'*m{i - 1}'] * 3)}]\n" for i in range(1, alias_levels))
        check_copy_bytes(bomb.encode(), ".yaml")


# ------------------------------------------------------------------------- suppressions

codes = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,12}", fullmatch=True)


@fuzz_settings()
@given(comment=st.one_of(nasty_text, st.builds(lambda a, b: a + "compliance:" + b, nasty_text, nasty_text)))
def test_directive_parser_returns_a_directive_none_or_a_directive_error(comment: str) -> None:
    """Any comment text: not ours (None), a directive, or a DirectiveError — nothing else."""
    try:
        directive = parse_directive(comment)
    except DirectiveError as exc:
        assert len(str(exc)) < 400  # quotes are shortened, not the whole comment
        return
    if directive is not None:
        assert directive.kind in ("disable", "disable-next-line") and directive.codes


@fuzz_settings()
@given(kind=st.sampled_from(["disable", "disable-next-line", "DISABLE"]), items=st.lists(codes, min_size=1, max_size=5),
       space=st.sampled_from(["", " ", "\t", "  "]), trailing_comma=st.booleans())
def test_well_formed_directives_round_trip(kind, items, space, trailing_comma) -> None:
    """A directive written by the documented syntax parses to its codes."""
    comment = f"{space}compliance{space}:{space}{kind}{space}={space}" + f"{space},{space}".join(items)
    comment += "," if trailing_comma else ""
    directive = parse_directive(comment)
    assert directive is not None and directive.kind == kind.lower() and directive.codes == tuple(items)
    assert parse_allow_value(",".join(items)) == tuple(items)


@fuzz_settings()
@given(value=st.one_of(nasty_text, st.lists(nasty_text, max_size=4)))
def test_allow_values_are_codes_or_a_value_error(value) -> None:
    try:
        result = parse_allow_value(value)
    except ValueError:
        return
    assert all(result) and all(c == c.strip() for c in result)


# ------------------------------------------------------------------------------- config

config_values = st.recursive(
    st.one_of(st.booleans(), st.integers(-5, 5), nasty_text, st.sampled_from(["jd.sms", "error", "json", "x"])),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["word", "category", "severity", "a"]),
                                                                inner, max_size=3),
    max_leaves=6,
)
config_keys = st.sampled_from(["default-channel", "extra-rules", "allowed-words", "banned-words", "severity-overrides",
                               "select", "ignore", "per-file-ignores", "strict", "output-format", "exclude",
                               "default_channel", "selct", "extra-lexicons"])


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _toml_basic(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{_toml_basic(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"


def _load(path: Path, data: bytes) -> Config | None:
    path.write_bytes(data)
    try:
        return load_config(path)
    except ConfigError as exc:
        assert isinstance(exc, ComplianceError) and str(exc).startswith(str(path))
        assert len(str(exc)) < 2000
        return None


@fuzz_settings(suppress_health_check=[*fuzz_settings().suppress_health_check, *TMP_OK])
@given(data=soup, pyproject=st.booleans())
def test_config_reader_on_any_bytes(tmp_path: Path, data: bytes, pyproject: bool) -> None:
    """Any bytes as compliance.toml / pyproject.toml: a Config or a ConfigError naming the file."""
    name = "pyproject.toml" if pyproject else "compliance.toml"
    _load(tmp_path / name, (b"[tool.compliance]\n" if pyproject else b"") + data)


@fuzz_settings(suppress_health_check=[*fuzz_settings().suppress_health_check, *TMP_OK])
@given(table=st.dictionaries(config_keys, config_values, max_size=5), pyproject=st.booleans())
def test_config_reader_on_wrong_types_and_keys(tmp_path: Path, table: dict, pyproject: bool) -> None:
    """Well-formed TOML with wrong types, unknown keys, both spellings: Config or ConfigError
    whose line, when given, holds the key."""
    name = "pyproject.toml" if pyproject else "compliance.toml"
    lines = ["[tool.compliance]"] if pyproject else []
    lines += [f"{key} = {_toml_value(value)}" for key, value in table.items()]
    text = "\n".join(lines) + "\n"
    path = tmp_path / name
    try:
        _load(path, text.encode("utf-8", "surrogatepass"))
        load_config(path)
    except ConfigError as exc:
        if exc.line is not None and exc.key:
            assert 1 <= exc.line <= len(text.splitlines())


# ----------------------------------------------------------------------------- archives

good_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=20).filter(
    lambda s: s.strip() != "" and not any("\ud800" <= c <= "\udfff" for c in s))
BAD_JSONL = [
    b"{broken", b"[1, 2]", b'"just a string"', b'{"text": 5}', b'{"other": "x"}', b'{"text": null}',
    b'{"text": "\\ud800"}', b'{"text": "\xff\xfe"}', b"\x00\x00", b"[" * 5000 + b"]" * 5000,
    b'{"text": "a", "text": {"nested": 1}}', b"NaN", b'{"text": "x"', b"\xef\xbb\xbf{}",
]
jsonl_records = st.lists(
    st.one_of(good_text.map(lambda t: ("good", t)), st.sampled_from(BAD_JSONL).map(lambda b: ("bad", b))),
    max_size=25,
)


@fuzz_settings(suppress_health_check=[*fuzz_settings().suppress_health_check, *TMP_OK])
@given(records=jsonl_records, newline=st.sampled_from([b"\n", b"\r\n"]), blank=st.booleans(),
       batch_size=st.integers(1, 7), gz=st.booleans())
def test_jsonl_archive_keeps_every_good_record_beside_bad_ones(tmp_path, records, newline, blank, batch_size, gz) -> None:
    """Every good JSONL record comes through, in order, at its line; every bad one is
    reported at its line; resuming from any checkpoint gives the same records."""
    lines: list[bytes] = []
    expected_good: list[tuple[int, str]] = []
    expected_bad: list[int] = []
    for kind, value in records:
        if blank:
            lines.append(b"   ")
        line_number = len(lines) + 1
        if kind == "good":
            lines.append(json.dumps({"text": value, "n": 1}, ensure_ascii=False).encode())
            expected_good.append((line_number, value))
        else:
            lines.append(value)
            expected_bad.append(line_number)
    data = newline.join(lines) + newline
    path = tmp_path / ("a.jsonl.gz" if gz else "a.jsonl")
    path.write_bytes(gzip.compress(data) if gz else data)
    good, bad = check_archive(path, batch_size=batch_size)
    assert [(r["__line__"], r["text"]) for r in good] == expected_good
    assert [b.line for b in bad] == expected_bad
    _resume_matches(path, good, bad, batch_size)


def _resume_matches(path: Path, good: list, bad: list, batch_size: int) -> None:
    total = len(good) + len(bad)
    for skip in {0, total // 2, total}:
        rest_good = [r for b in iter_archive(path, batch_size=batch_size, skip_records=skip)
                     for r in b.records.to_pylist()]
        assert rest_good == [r for r in good if r["__record__"] >= skip]


csv_bad = st.sampled_from(["wrong-count", "after-quote", "bad-utf8", "missing"])


@fuzz_settings(suppress_health_check=[*fuzz_settings().suppress_health_check, *TMP_OK])
@given(records=st.lists(st.one_of(st.tuples(st.just("good"), good_text), st.tuples(st.just("bad"), csv_bad)),
                        max_size=20),
       newline=st.sampled_from(["\n", "\r\n"]), unterminated_last=st.booleans(), batch_size=st.integers(1, 7))
def test_csv_archive_keeps_every_good_record_beside_bad_ones(tmp_path, records, newline, unterminated_last,
                                                             batch_size) -> None:
    """Good CSV rows (quotes, commas, line breaks inside fields) all come through in order;
    bad rows (wrong field count, text after a closing quote, invalid UTF-8, empty required
    field, a quote never closed) are reported at their line."""
    out = io.BytesIO()
    line = 2
    expected_good: list[tuple[int, str]] = []
    expected_bad: list[int] = []
    out.write(f"id,text{newline}".encode())
    for n, (kind, value) in enumerate(records):
        if kind == "good":
            buffer = io.StringIO()
            # The csv module leaves a lone CR unquoted under "\n" endings: quote such cells.
            quoting = csv.QUOTE_ALL if "\r" in value or "\n" in value else csv.QUOTE_MINIMAL
            csv.writer(buffer, lineterminator=newline, quoting=quoting).writerow([str(n), value])
            row = buffer.getvalue().encode("utf-8")
            expected_good.append((line, value))
        else:
            row = {"wrong-count": b"1,2,3", "after-quote": b'1,"x"y', "bad-utf8": b"1,caf\xe9",
                   "missing": b"1,"}[value] + newline.encode()
            expected_bad.append(line)
        out.write(row)
        line += len(re.findall(rb"\r\n|\r|\n", row))  # physical lines, as the reader counts them
    if unterminated_last:
        out.write(f'9,"never closed{newline}'.encode())
        expected_bad.append(line)
    path = tmp_path / "a.csv"
    path.write_bytes(out.getvalue())
    good, bad = check_archive(path, batch_size=batch_size)
    assert [(r["__line__"], r["text"]) for r in good] == expected_good
    assert [b.line for b in bad] == expected_bad
    _resume_matches(path, good, bad, batch_size)


PARQUET_TYPES = {
    "string": pa.string(), "large_string": pa.large_string(), "binary": pa.binary(), "int": pa.int64(),
    "list": pa.list_(pa.string()), "null": pa.null(), "dictionary": pa.dictionary(pa.int32(), pa.string()),
}


@fuzz_settings(suppress_health_check=[*fuzz_settings().suppress_health_check, *TMP_OK])
@given(values=st.lists(st.one_of(st.none(), good_text, st.binary(max_size=6)), max_size=30),
       column_type=st.sampled_from(list(PARQUET_TYPES)), row_group=st.integers(1, 8),
       cut=st.one_of(st.none(), st.floats(0, 1)), flip=st.one_of(st.none(), st.integers(0, 10_000)),
       optional=st.booleans())
def test_parquet_archive_good_rows_or_archive_error(tmp_path, values, column_type, row_group, cut, flip,
                                                    optional) -> None:
    """Parquet of any column type, truncated or with a flipped byte: its good rows in order
    (null and invalid UTF-8 rows reported bad at their row), or an ArchiveError."""
    kind = PARQUET_TYPES[column_type]
    if column_type in ("string", "large_string", "dictionary"):
        column = [v if v is None or isinstance(v, str) else v.decode("utf-8", "replace") for v in values]
    elif column_type == "binary":
        column = [v.encode() if isinstance(v, str) else v for v in values]
    elif column_type == "int":
        column = [None if v is None else len(v) for v in values]
    elif column_type == "list":
        column = [None if v is None else [str(v)] for v in values]
    else:
        column = [None] * len(values)
    table = pa.table({"text": pa.array(column, type=pa.string() if column_type == "dictionary" else kind)})
    if column_type == "dictionary":
        table = table.set_column(0, "text", table.column("text").dictionary_encode())
    path = tmp_path / "a.parquet"
    pq.write_table(table, path, row_group_size=row_group)
    data = bytearray(path.read_bytes())
    damaged = cut is not None or flip is not None
    if cut is not None:
        data = data[: int(len(data) * cut)]
    if flip is not None and data:
        data[flip % len(data)] ^= 0xFF
    path.write_bytes(bytes(data))
    try:
        good, bad = check_archive(path, optional=("text",) if optional else ())
    except ArchiveError:
        assert damaged or column_type in ("int", "list", "null"), f"an undamaged {column_type} column was refused"
        return
    if damaged:
        return  # a flip inside the data pages may still decode: only the invariants matter
    texts = [v.decode("utf-8", "surrogateescape") if isinstance(v, bytes) else v for v in column]
    expected = [(i + 1, t) for i, t in enumerate(texts) if t is not None or optional]
    assert [(r["__line__"], r["text"]) for r in good] == [
        (n, t) for n, t in expected if t is None or _utf8(t)]
    assert all(b.line == b.record + 1 for b in bad)


def _utf8(value: str) -> bool:
    return not any("\ud800" <= c <= "\udfff" for c in value)


@fuzz_settings(suppress_health_check=[*fuzz_settings().suppress_health_check, *TMP_OK])
@given(data=soup, suffix=st.sampled_from([".jsonl", ".csv", ".parquet", ".jsonl.gz", ".csv.gz"]))
def test_archive_readers_on_any_bytes(tmp_path, data: bytes, suffix: str) -> None:
    """Any bytes as an archive: batches obeying the record invariants, or an ArchiveError."""
    path = tmp_path / f"any{suffix}"
    path.write_bytes(data)
    try:
        check_archive(path)
    except ArchiveError as exc:
        assert str(exc).startswith(str(path))


# ----------------------------------------------------------------- the atheris harness, briefly


def test_atheris_copyfiles_harness_runs_clean_for_a_few_hundred_inputs(tmp_path: Path) -> None:
    """`tests/fuzz/atheris_copyfiles.py` works and finds nothing in a short, seeded run."""
    import subprocess
    import sys

    require_atheris()
    harness = Path(__file__).with_name("atheris_copyfiles.py")
    repo = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, str(harness), "-runs=500", "-seed=1", f"-artifact_prefix={tmp_path}/"],
                            cwd=repo, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Done 500 runs" in result.stderr
