"""Input side of the linter: copy files, suppressions and message archives.

* `compliance.io.copyfiles`: read copy files (.txt/.md/.yaml/.json/.toml/.csv) into messages
  whose field offsets map back to exact (line, column) positions.
* `compliance.io.suppression`: ``compliance: disable=…`` comments and ``allow`` fields.
* `compliance.io.archives`: stream message archives (JSONL/CSV/Parquet) in Arrow batches.

Submodules are imported on use so that the pre-commit hook does not pay for pyarrow.
"""

from __future__ import annotations
