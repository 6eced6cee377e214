"""``checkpoint.json``: where each archive stands, what was read of it, what the outputs hold,
and the tallies so far.

Written atomically (temporary file, fsync, rename) only after the outputs it describes were
fsynced, so after a crash the checkpoint never claims more than is on disk. Each archive's
identity (`compliance.audit.identity.ArchiveIdentity`: size, modification time, the SHA-256
of the bytes read) is recorded with its position, so a resume can prove that the part already
audited is still what the archive holds.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compliance.audit.options import AuditUsageError

CHECKPOINT_NAME = "checkpoint.json"
#: 2: archive identities (``archives``) added; version 1 checkpoints cannot be resumed.
CHECKPOINT_VERSION = 2


class ResumeRefused(AuditUsageError):
    """The checkpoint in the output directory cannot be resumed (exit code 2).

    Attributes:
        reason: why, without the advice (``str(error)`` adds how to start over).
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"--resume: {reason}; rerun with --restart to discard the checkpoint and start over")


@dataclass
class Checkpoint:
    """The resumable state of a run.

    Attributes:
        fingerprint: `AuditOptions.fingerprint` of the run (a resume must match it).
        positions: per archive (in order), the ``next_record`` to resume from.
        done: per archive, whether it was read to the end (or failed as a whole).
        archives: per archive, `ArchiveIdentity.to_state` of what was read of it (None: not
            opened yet).
        outputs: committed state of each output writer.
        tally: `Tally.to_state`.
        phase: ``"lint"`` while archives are being linted, ``"ledger"`` while the frequency
            caps are replayed, ``"complete"`` at the end.
    """

    fingerprint: dict[str, Any]
    positions: list[int]
    done: list[bool]
    archives: list[dict[str, Any] | None] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    tally: dict[str, Any] = field(default_factory=dict)
    phase: str = "lint"

    def save(self, out: Path) -> None:
        """Replace ``out/checkpoint.json`` atomically."""
        path = out / CHECKPOINT_NAME
        tmp = path.with_suffix(".json.tmp")
        data = {"version": CHECKPOINT_VERSION, "fingerprint": self.fingerprint, "positions": self.positions,
                "done": self.done, "archives": self.archives, "outputs": self.outputs, "tally": self.tally,
                "phase": self.phase}
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        directory = os.open(out, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    @classmethod
    def load(cls, out: Path) -> Checkpoint | None:
        """The checkpoint in ``out``, or None when there is none.

        Raises `ResumeRefused` when it exists but cannot be used (unreadable, or written by
        another version of the checkpoint format).
        """
        path = out / CHECKPOINT_NAME
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            version = data.get("version")
            if version != CHECKPOINT_VERSION:
                raise ResumeRefused(
                    f"{path} has checkpoint version {version!r}, and this version of compliance resumes only "
                    f"version {CHECKPOINT_VERSION} (version 1 did not record what was read of each archive, so "
                    "nothing proves the archives are unchanged)")
            checkpoint = cls(data["fingerprint"], data["positions"], data["done"], data["archives"],
                             data["outputs"], data["tally"], data["phase"])
            if not len(checkpoint.positions) == len(checkpoint.done) == len(checkpoint.archives):
                raise ValueError("positions, done and archives differ in length")
            return checkpoint
        except ResumeRefused:
            raise
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ResumeRefused(f"{path} is unreadable ({type(exc).__name__}: {exc})") from None

    @staticmethod
    def interrupted(out: Path) -> str | None:
        """If ``out`` holds the checkpoint of an audit that did not finish (or one that cannot be
        read), a description of it; None when there is no checkpoint or the audit finished."""
        path = out / CHECKPOINT_NAME
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            phase = data["phase"]
            positions = list(data["positions"])
            done = list(data["done"])
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            return f"a checkpoint that cannot be read ({type(exc).__name__})"
        if phase == "complete":
            return None
        if phase == "lint":
            read = sum(int(p) for p in positions)
            return (f"the checkpoint of an interrupted audit ({read:,} record(s) audited, "
                    f"{sum(1 for d in done if d)} of {len(done)} archive(s) finished)")
        return f"the checkpoint of an interrupted audit (phase {phase!r})"
