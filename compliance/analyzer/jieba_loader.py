"""The one place jieba is imported: lazily, and without its log lines on stderr.

jieba logs "Building prefix dict…" at DEBUG to stderr when its dictionary loads; a linter's
output (and a pre-commit hook's) must not carry that.
"""

from __future__ import annotations

import logging
from types import ModuleType


def load_jieba() -> ModuleType:
    """The jieba module, imported on first call with its logger quietened."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba
