"""What an audit read of each archive, so that a resume can prove the archive did not change.

An `ArchiveIdentity` is stored for every archive in each checkpoint: the file's size and
modification time when it was opened, and the number and SHA-256 of the bytes read from the
start of the file so far (`compliance.io.archives.ReadTracker` hashes them as the reader
takes them, so a checkpoint costs nothing more however far into the file it is). A resume
re-hashes that prefix once — one sequential read, about 1 GB/s — and refuses an archive
whose size, modification time or prefix differ (see `ArchiveIdentity.differences`).

An archive read from a stream (a FIFO, ``/dev/stdin``) has no size or modification time:
its identity is the prefix only, and the file resumed from must begin with exactly the
bytes the stream delivered (and end there, if the stream had ended).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from compliance.io.archives import ReadTracker

_CHUNK = 1 << 20


def prefix_digest(path: Path, size: int) -> str:
    """SHA-256 of the first ``size`` bytes of ``path`` (fewer if the file is shorter)."""
    digest = hashlib.sha256()
    left = size
    with open(path, "rb") as f:
        while left > 0:
            chunk = f.read(min(_CHUNK, left))
            if not chunk:
                break
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def _when(ns: int) -> str:
    return dt.datetime.fromtimestamp(ns / 1e9).isoformat(sep=" ", timespec="microseconds")


@dataclass(frozen=True)
class ArchiveIdentity:
    """An archive as the audit found it.

    Attributes:
        kind: ``"file"`` (a regular file) or ``"stream"`` (FIFO or character device).
        size: bytes in the file when it was opened (None for a stream).
        mtime_ns: its modification time then, in nanoseconds (None for a stream).
        read_bytes: bytes read from the start of the file (compressed bytes for ``.gz``; the
            whole file for Parquet). At least the bytes of every record already audited.
        sha256: SHA-256 of those bytes.
        eof: whether the reader reached the end of the file.
    """

    kind: str
    size: int | None
    mtime_ns: int | None
    read_bytes: int
    sha256: str
    eof: bool

    @classmethod
    def of(cls, tracker: ReadTracker) -> ArchiveIdentity | None:
        """The identity of what a tracked reader read (None if it never opened the file)."""
        st = tracker.stat
        if st is None:
            return None
        regular = stat.S_ISREG(st.st_mode)
        return cls("file" if regular else "stream", st.st_size if regular else None,
                   st.st_mtime_ns if regular else None, tracker.read_bytes, tracker.hexdigest(), tracker.eof)

    def to_state(self) -> dict[str, Any]:
        """As stored in ``checkpoint.json``."""
        return asdict(self)

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ArchiveIdentity:
        """From `to_state` (raises KeyError/TypeError on a malformed state)."""
        return cls(str(state["kind"]), state["size"], state["mtime_ns"], int(state["read_bytes"]),
                   str(state["sha256"]), bool(state["eof"]))

    def differences(self, path: Path) -> str | None:
        """Why the archive at ``path`` is not the one described, or None when it is.

        A file must have the same size and modification time, and its first ``read_bytes``
        bytes the same SHA-256. A file resumed in place of a stream must begin with the
        bytes the stream delivered (and hold nothing more if the stream had ended).
        """
        try:
            st = os.stat(path)
        except OSError as exc:
            return f"it cannot be read any more ({exc.strerror or exc})"
        if not stat.S_ISREG(st.st_mode):
            return ("it is not a regular file now (a FIFO or device), so the records already audited cannot "
                    "be checked against it")
        changes = []
        if self.kind == "file":
            if st.st_size != self.size:
                changes.append(f"its size changed from {self.size:,} to {st.st_size:,} bytes")
            if st.st_mtime_ns != self.mtime_ns:
                changes.append(f"it was modified (modification time {_when(self.mtime_ns or 0)}, "
                               f"now {_when(st.st_mtime_ns)})")
        elif self.eof and st.st_size != self.read_bytes:
            changes.append(f"it holds {st.st_size:,} bytes where the stream read before held {self.read_bytes:,}")
        if st.st_size < self.read_bytes:
            changes.append(f"it is shorter than the {self.read_bytes:,} bytes already read")
        elif not changes:
            try:
                digest = prefix_digest(path, self.read_bytes)
            except OSError as exc:
                return f"it cannot be read any more ({exc.strerror or exc})"
            if digest != self.sha256:
                changes.append(f"its first {self.read_bytes:,} bytes, already read and audited, are not the "
                               f"same (SHA-256 {self.sha256[:12]}… then, {digest[:12]}… now)")
        return "; ".join(changes) or None
