"""Hostile files: each ends in a clear, positioned error or a result, within a bounded time.

Time bounds are generous guards for a 2-core CI box ("an answer within 30 s"), not speed
assertions; the measured figures are in docs/RELIABILITY.md.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from compliance.cli import main
from compliance.config import ConfigError, load_config
from compliance.errors import ComplianceError
from compliance.io.archives import ArchiveError, iter_archive
from compliance.io.copyfiles import MAX_COPY_FILE_BYTES, CopyFileError, parse_copy_text, read_copy_file
from fuzz.atheris_copyfiles import check_copy_bytes

pytestmark = pytest.mark.hostile
BOUND = 30.0  # seconds: an answer, not a hang


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed = time.perf_counter() - self.start
        assert self.elapsed < BOUND, f"took {self.elapsed:.1f} s"


def _error(path: Path, data: bytes | str, extension: str | None = None) -> CopyFileError:
    with Timer(), pytest.raises(CopyFileError) as info:
        parse_copy_text(path, data, extension=extension)
    return info.value


def _lint(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["lint", "--no-cache", *args])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


# ---------------------------------------------------------------------------- bombs & size


def test_yaml_billion_laughs_is_refused_quickly_with_a_position() -> None:
    bomb = "- &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"- &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
    error = _error(Path("bomb.yaml"), bomb)
    assert error.line is not None and "alias" in error.reason
    assert str(error).startswith(f"bomb.yaml:{error.line}:{error.column}: ")


def test_recursive_yaml_alias_is_refused() -> None:
    error = _error(Path("loop.yaml"), "- &a [*a]\n")
    assert (error.line, error.column) == (1, 3) and "recursive alias" in error.reason


def test_yaml_python_tags_never_build_objects(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    doc = (f"- !!python/object/apply:os.system ['touch {marker}']\n"
           f"- text: !!python/object/apply:os.system ['touch {marker}']\n"
           "- !!python/name:os.system\n")
    with Timer():
        try:
            copy = parse_copy_text(Path("tags.yaml"), doc)
        except CopyFileError as exc:
            assert exc.line is not None
        else:
            assert all(isinstance(v, str) for m in copy.messages for v in m.fields.values())
    assert not marker.exists()


def test_json_with_100000_nested_arrays_is_a_positioned_error() -> None:
    error = _error(Path("deep.json"), "[" * 100_000 + "]" * 100_000)
    assert (error.line, error.column) == (1, 65) and "nested deeper than 64" in error.reason


@pytest.mark.parametrize(("name", "text"), [
    ("deep.yaml", "[" * 100_000 + "]" * 100_000),
    ("deep-block.yaml", "".join("  " * i + "-\n" for i in range(3000))),
    ("deep.toml", "a = " + "[" * 100_000 + "]" * 100_000),
    ("deep-inline.toml", "a = " + "{b = " * 5000 + "1" + "}" * 5000),
])
def test_deep_nesting_in_yaml_and_toml_is_a_positioned_error(name: str, text: str) -> None:
    error = _error(Path(name), text)
    assert error.line is not None and error.column is not None and "nested" in error.reason


def test_a_50_mb_single_line_txt_is_one_message(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_bytes("测".encode() * (50 * 1024 * 1024 // 3))
    with Timer():
        copy = read_copy_file(path)
    assert len(copy.messages) == 1 and len(copy.messages[0].fields["text"]) == 50 * 1024 * 1024 // 3
    assert copy.messages[0].position("text", 1000).column == 1001


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path, capsys) -> None:
    path = tmp_path / "sparse.txt"
    with open(path, "wb") as handle:
        handle.truncate(MAX_COPY_FILE_BYTES + 1)  # sparse: no disk used
    with Timer(), pytest.raises(CopyFileError, match="limited to"):
        read_copy_file(path)
    code, err = _lint(capsys, "--channel", "jd.sms", str(path))
    assert code == 2 and "limited to" in err


@pytest.mark.parametrize("quoted", [True, False])
def test_a_csv_copy_file_with_a_10_mb_field(quoted: bool) -> None:
    field = "好" * 10_000_000
    cell = f'"{field}"' if quoted else field
    with Timer():
        copy = parse_copy_text(Path("big.csv"), f"id,body\n1,{cell}\n2,短\n")
    assert [len(m.fields["body"]) for m in copy.messages] == [10_000_000, 1]
    assert copy.messages[1].position("body", 0).line == 3


@pytest.mark.parametrize("extension", [".txt", ".md"])
def test_long_runs_of_blanks_and_hashes_are_linear(extension: str) -> None:
    """A trailing-directive search used to be quadratic on a long run of blanks."""
    lines = ["a" + " " * 1_000_000 + "b # x", "c" + " \t" * 500_000 + "<!-- x", "#" * 1_000_000 + " text"]
    with Timer():
        copy = parse_copy_text(Path(f"blanks{extension}"), "\n".join(lines))
    assert copy.messages
    opener, closer = ("#", "") if extension == ".txt" else ("<!--", " -->")
    with Timer(), pytest.raises(CopyFileError, match="malformed directive") as info:
        parse_copy_text(Path(f"d{extension}"), f"a {opener} compliance: disable=a" + " " * 1_000_000 + "x" + closer)
    assert len(str(info.value)) < 400


def test_one_million_repeated_characters_in_every_format() -> None:
    for extension, text in [(".txt", "啊" * 1_000_000), (".md", "-" * 1_000_000), (".json", json.dumps(["啊" * 1_000_000])),
                            (".yaml", "- " + "啊" * 1_000_000), (".toml", f'[[message]]\nbody = "{"啊" * 1_000_000}"'),
                            (".csv", "body\n" + "啊" * 1_000_000)]:
        with Timer():
            try:
                copy = parse_copy_text(Path(f"r{extension}"), text)
            except CopyFileError as exc:
                assert exc.line is not None
            else:
                assert all(len(v) <= 1_000_000 for m in copy.messages for v in m.fields.values())


# ------------------------------------------------------------------------------ encodings

INVALID = {
    ".txt": (b"ok\nab\xffc\n", 2, 3),
    ".md": (b"# t\n\nline \xc3(\n", 3, 6),
    ".yaml": (b"- ok\n- b\xe9\n", 2, 4),
    ".json": (b'["ok",\n "\x80"]', 2, 3),
    ".toml": (b'[[message]]\nbody = "\xfe"\n', 2, 9),
    ".csv": (b"body\nfine\n\xef\xbb\n", 3, 1),
}


@pytest.mark.parametrize("extension", list(INVALID))
def test_invalid_utf8_in_each_format_names_file_line_column_and_the_encoding(tmp_path, capsys, extension) -> None:
    data, line, column = INVALID[extension]
    path = tmp_path / f"bad{extension}"
    path.write_bytes(data)
    with pytest.raises(CopyFileError) as info:
        read_copy_file(path)
    assert (info.value.line, info.value.column) == (line, column)
    assert "invalid UTF-8" in info.value.reason and "encoded as UTF-8" in info.value.reason
    code, err = _lint(capsys, "--channel", "jd.sms", str(path))
    assert code == 2
    assert err.strip().splitlines() == [f"error: {path}:{line}:{column}: {info.value.reason}"]


@pytest.mark.parametrize("text", ["a\x00b", "\u202e\u200b【店】\u200f正文\u2028续", "\ufeff\ufeffx", "a\rb\r\nc\n"])
@pytest.mark.parametrize("extension", [".txt", ".md", ".csv"])
def test_nul_rtl_zero_width_and_mixed_line_breaks_keep_exact_positions(text: str, extension: str) -> None:
    data = (("body\n" if extension == ".csv" else "") + text).encode("utf-8")
    copy = check_copy_bytes(data, extension)  # positions re-checked against the file read back
    assert copy is not None and copy.messages


# ----------------------------------------------------------------------- not regular files


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_fifo_is_refused_without_blocking(tmp_path: Path, capsys) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with Timer(), pytest.raises(CopyFileError, match="not a regular file"):
        read_copy_file(fifo)
    (tmp_path / "good.txt").write_text("【小店】你好 回T退订\n", encoding="utf-8")
    with Timer():
        code, err = _lint(capsys, "--channel", "jd.sms", str(tmp_path))
    assert code == 2 and err.strip().splitlines() == [f"error: {fifo}: not a regular file (a FIFO, socket or device); "
                                                       "copy files must be regular files"]
    config = tmp_path / "compliance.toml"
    os.mkfifo(config)
    with Timer(), pytest.raises(ConfigError, match="not a regular file"):
        load_config(config)


def test_a_directory_named_like_a_copy_file(tmp_path: Path) -> None:
    directory = tmp_path / "looks.txt"
    directory.mkdir()
    with pytest.raises(CopyFileError, match="is a directory"):
        read_copy_file(directory)
    with pytest.raises(ArchiveError, match="is a directory"):
        list(iter_archive(_dir(tmp_path, "x.jsonl")))
    with pytest.raises(ConfigError, match="a directory"):
        load_config(_dir(tmp_path, "compliance.toml"))


def _dir(root: Path, name: str) -> Path:
    path = root / name
    path.mkdir()
    return path


def test_unreadable_paths_are_clear_errors(tmp_path: Path, capsys) -> None:
    """Permissions cannot block root, so unreadability comes from the path itself: a
    component that is a file, a dangling symlink, and (when not root) mode 000."""
    (tmp_path / "file").write_text("x", encoding="utf-8")
    dangling = tmp_path / "dangling.txt"
    dangling.symlink_to(tmp_path / "nowhere.txt")
    for path in (tmp_path / "file" / "inside.txt", dangling):
        with pytest.raises(CopyFileError, match="cannot read file"):
            read_copy_file(path)
    if os.geteuid() != 0:
        locked = tmp_path / "locked.txt"
        locked.write_text("x", encoding="utf-8")
        locked.chmod(0)
        with pytest.raises(CopyFileError, match="Permission denied"):
            read_copy_file(locked)
    code, err = _lint(capsys, "--channel", "jd.sms", str(dangling))
    assert code == 2 and len(err.strip().splitlines()) == 1


# ------------------------------------------------------------------- through the CLI


@pytest.mark.parametrize(("name", "data"), [
    ("deep.json", b"[" * 100_000 + b"]" * 100_000),
    ("bomb.yaml", ("- &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"- &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))).encode()),
    ("nul.yaml", b"- a\x00b\n"),
    ("bad.toml", b"[[message]\nbody = 1\n"),
    ("bad.csv", b'body\n"open\n'),
])
def test_cli_lint_on_hostile_files_exits_2_with_one_line(tmp_path: Path, capsys, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with Timer():
        code, err = _lint(capsys, "--channel", "jd.sms", str(path))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}:"), err


# ------------------------------------------------------------------------ config & archives


def test_hostile_configs_are_config_errors_with_lines(tmp_path: Path) -> None:
    cases = {
        "deep": (b"select = " + b"[" * 50_000 + b"]" * 50_000, 1),
        "utf8": (b'default-channel = "jd.sms"\nselect = ["\xff"]\n', 2),
        "huge-value": (b"select = [" + b'"' + b"x " * 1_000_000 + b'"]\n', 1),
    }
    for name, (data, line) in cases.items():
        path = tmp_path / name / "compliance.toml"
        path.parent.mkdir()
        path.write_bytes(data)
        with Timer(), pytest.raises(ConfigError) as info:
            load_config(path)
        assert isinstance(info.value, ComplianceError) and info.value.line == line, (name, info.value)
        assert len(str(info.value)) < 1000


def test_archives_keep_good_records_around_hostile_ones(tmp_path: Path) -> None:
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_bytes(b"\n".join([
        b'{"text": "one"}', b"[" * 100_000 + b"]" * 100_000, b'{"text": "' + "好".encode() * 3_000_000 + b'"}',
        b'{"text": "bad \xff"}', b"\x00" * 1000, b'{"text": "two"}',
    ]) + b"\n")
    csv_path = tmp_path / "a.csv"
    csv_path.write_bytes(b"text\none\n\"" + "好".encode() * 3_000_000 + b'"\n"stray\ntwo\n')
    for path, good_lines, bad_lines in ((jsonl, [1, 3, 6], [2, 4, 5]), (csv_path, [2, 3, 5], [4])):
        with Timer():
            batches = list(iter_archive(path, batch_size=2))
        good = [row for b in batches for row in b.records.to_pylist()]
        bad = [r for b in batches for r in b.bad]
        assert [r["__line__"] for r in good] == good_lines, path
        assert [r.line for r in bad] == bad_lines, path
        assert good[0]["text"] == "one" and good[-1]["text"] == "two" and len(good[1]["text"]) == 3_000_000


@pytest.mark.parametrize("data", [b"", b"PAR1", b"PAR1" + b"\x00" * 100 + b"PAR1", os.urandom(4096)])
def test_garbage_parquet_is_an_archive_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "g.parquet"
    path.write_bytes(data)
    with Timer(), pytest.raises(ArchiveError, match="Parquet"):
        list(iter_archive(path))
