"""``checkpoint.json``: where each archive stands, what the outputs hold, and the tallies so far.

Written atomically (temporary file, fsync, rename) only after the outputs it describes were
fsynced, so after a crash the checkpoint never claims more than is on disk.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHECKPOINT_NAME = "checkpoint.json"
CHECKPOINT_VERSION = 1


@dataclass
class Checkpoint:
    """The resumable state of a run.

    Attributes:
        fingerprint: `AuditOptions.fingerprint` of the run (a resume must match it).
        positions: per archive (in order), the ``next_record`` to resume from.
        done: per archive, whether it was read to the end (or failed as a whole).
        outputs: committed state of each output writer.
        tally: `Tally.to_state`.
        phase: ``"lint"`` while archives are being linted, ``"complete"`` at the end.
    """

    fingerprint: dict[str, Any]
    positions: list[int]
    done: list[bool]
    outputs: dict[str, Any] = field(default_factory=dict)
    tally: dict[str, Any] = field(default_factory=dict)
    phase: str = "lint"

    def save(self, out: Path) -> None:
        """Replace ``out/checkpoint.json`` atomically."""
        path = out / CHECKPOINT_NAME
        tmp = path.with_suffix(".json.tmp")
        data = {"version": CHECKPOINT_VERSION, "fingerprint": self.fingerprint, "positions": self.positions,
                "done": self.done, "outputs": self.outputs, "tally": self.tally, "phase": self.phase}
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

        Raises `AuditUsageError` (a `ValueError`) when it exists but cannot be used.
        """
        from compliance.audit.options import AuditUsageError

        path = out / CHECKPOINT_NAME
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != CHECKPOINT_VERSION:
                raise AuditUsageError(f"{path}: checkpoint version {data.get('version')!r}, "
                                      f"expected {CHECKPOINT_VERSION}; run without --resume to start over")
            return cls(data["fingerprint"], data["positions"], data["done"], data["outputs"], data["tally"],
                       data["phase"])
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise AuditUsageError(f"{path}: unreadable checkpoint ({type(exc).__name__}: {exc}); "
                                  "run without --resume to start over") from None
