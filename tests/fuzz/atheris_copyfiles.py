"""Coverage-guided fuzzing of the copy-file and archive readers with atheris.

bytes → a temporary file of each copy-file extension (.txt .md .yaml .json .toml .csv) and of
the line archives (.jsonl .csv) → read → invariants. Run locally (``make fuzz`` does, 60 s)::

    .venv/bin/python tests/fuzz/atheris_copyfiles.py -max_total_time=60

Invariants (`check_copy_bytes`, `check_archive`; the hypothesis targets in
``test_fuzz_readers.py`` use the same functions):

* only `ComplianceError` escapes, and a `CopyFileError` names the file and a line (and a
  column) inside it;
* every exact position of every character of every message field is a valid line/column of
  the file read back independently, and the text there is that character (or the escape /
  line break that encodes it); spans never run backwards;
* an archive consumes every record exactly once: good + bad = records, in file order.

A failure is a crash that libFuzzer saves as ``crash-…`` (rerun it with
``python tests/fuzz/atheris_copyfiles.py crash-…``).
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

if __name__ == "__main__":  # instrument only the readers and the parsers they drive (instrumenting everything takes ~20 s)
    import atheris

    with atheris.instrument_imports(include=["compliance", "yaml", "tomllib"]):
        import tomllib  # noqa: F401
        import yaml  # noqa: F401

        import compliance.io._scanners
        import compliance.io.archives
        import compliance.io.copyfiles
        import compliance.io.positions
        import compliance.io.suppression  # noqa: F401

from compliance.errors import ComplianceError
from compliance.io.archives import iter_archive
from compliance.io.copyfiles import CopyFile, CopyFileError, parse_copy_text, read_copy_file

COPY_EXTENSIONS: tuple[str, ...] = (".txt", ".md", ".yaml", ".json", ".toml", ".csv")
_BREAK = re.compile(r"\r\n|\r|\n")
#: Characters whose source may be an escape or a line break rather than the character itself.
_ENCODED_BY = ("\\", '"', "'", "\r", "\n")
#: Characters checked per field (a 10 MB field would take long and tell nothing more).
MAX_CHECKED_CHARS = 4000


def reference_text(data: bytes) -> tuple[str, list[int]]:
    """The file's text as the spec says to read it (UTF-8, BOM dropped) and its line starts
    (LF, CRLF, lone CR), computed independently of the readers."""
    text = data.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, [0, *(m.end() for m in _BREAK.finditer(text))]


def _line_end(text: str, starts: list[int], line: int) -> int:
    end = starts[line] if line < len(starts) else len(text)
    while end > starts[line - 1] and text[end - 1] in "\r\n":
        end -= 1
    return end


def check_error(exc: CopyFileError, data: bytes, path: Path) -> None:
    """A reader error names the file and a line (and column) that exist in it."""
    assert isinstance(exc, ComplianceError)
    assert exc.path == path, (exc.path, path)
    assert exc.line is not None, f"error without a line: {exc}"
    try:
        text, starts = reference_text(data)
    except UnicodeDecodeError:  # invalid UTF-8: the position is of the bad byte, checked by the caller
        assert "UTF-8" in exc.reason, exc
        return
    assert 1 <= exc.line <= len(starts), (exc.line, len(starts), str(exc))
    if exc.column is not None:
        length = _line_end(text, starts, exc.line) - starts[exc.line - 1]
        assert 1 <= exc.column <= length + 1, (exc.line, exc.column, length, str(exc))
    assert str(exc).startswith(f"{path}:{exc.line}")


def check_copy_file(copy: CopyFile, data: bytes) -> None:
    """Every exact position of every field character points at that character in the file."""
    text, starts = reference_text(data)
    for message in copy.messages:
        assert message.fields, message
        assert 1 <= message.line <= message.end_line <= len(starts), (message.line, message.end_line)
        for name, value in message.fields.items():
            previous = -1
            for i in range(min(len(value), MAX_CHECKED_CHARS) + 1):
                pos = message.position(name, i)
                assert 0 <= pos.offset <= len(text)
                assert 1 <= pos.line <= len(starts)
                assert pos.offset == starts[pos.line - 1] + pos.column - 1, (pos, starts[pos.line - 1])
                prefix = text[starts[pos.line - 1] : pos.offset]
                assert pos.byte_column == len(prefix.encode("utf-8", "surrogatepass")) + 1, pos
                if not pos.exact:
                    continue
                assert pos.offset >= previous, f"positions of {name!r} run backwards at {i}"
                previous = pos.offset
                if i == len(value):
                    break
                start, end = message.span(name, i, i + 1)
                assert start.offset <= end.offset
                source = text[start.offset : end.offset]
                char = value[i]
                assert source, f"{name!r}[{i}] = {char!r} maps to nothing"
                if source != char:
                    # An escape (\n, "", ''), a folded/normalised line break, or CRLF read as LF.
                    assert source[0] in _ENCODED_BY or (char.isspace() and source.isspace()), (
                        f"{name!r}[{i}] = {char!r} but the file has {source!r} at {start.line}:{start.column}"
                    )


def check_copy_bytes(data: bytes, extension: str, directory: Path | None = None) -> CopyFile | None:
    """Read `data` as a copy file of `extension` (in memory, and from disk when a directory
    is given) and check the invariants; None when the reader refused it (with a good error)."""
    path = Path(f"fuzz{extension}")
    try:
        copy = parse_copy_text(path, data, extension=extension)
    except CopyFileError as exc:
        check_error(exc, data, path)
        copy = None
    else:
        check_copy_file(copy, data)
    if directory is not None:
        on_disk = directory / path
        on_disk.write_bytes(data)
        try:
            again = read_copy_file(on_disk)
        except CopyFileError as exc:
            assert copy is None, f"read from disk failed but parsed in memory: {exc}"
            check_error(exc, data, on_disk)
        else:
            assert copy is not None and again.messages == copy.messages
    return copy


def check_archive(path: Path, *, batch_size: int = 3, optional: tuple[str, ...] = ()) -> tuple[list, list]:
    """Read an archive; every record is consumed once, good ones in order. Returns
    ``(good rows, bad records)``; only `ComplianceError` may escape (the caller catches it)."""
    good: list[dict] = []
    bad: list = []
    expected_next = 0
    for batch in iter_archive(path, batch_size=batch_size, optional=optional):
        assert batch.first_record == expected_next
        assert batch.records.num_rows + len(batch.bad) == batch.consumed
        numbers = [*batch.records.column("__record__").to_pylist(), *(b.record for b in batch.bad)]
        assert sorted(numbers) == list(range(batch.first_record, batch.next_record))
        good.extend(batch.records.to_pylist())
        bad.extend(batch.bad)
        expected_next = batch.next_record
    lines = [row["__line__"] for row in good]
    assert lines == sorted(lines) and len(set(lines)) == len(lines)
    for record in bad:
        assert record.line >= 1 and record.reason
    return good, bad


def run(data: bytes, directory: Path) -> None:
    """One input through every reader."""
    for extension in COPY_EXTENSIONS:
        check_copy_bytes(data, extension)
    for name in ("fuzz.jsonl", "fuzz.csv"):
        path = directory / name
        path.write_bytes(b"text\n" + data if name.endswith(".csv") else data)
        try:
            check_archive(path)
        except ComplianceError:
            pass


def main() -> None:
    import atheris

    directory = Path(tempfile.mkdtemp(prefix="atheris-copyfiles-"))

    def test_one_input(data: bytes) -> None:
        run(data, directory)

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
