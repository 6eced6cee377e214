"""Archives for the audit tests, written at test time (nothing generated is committed)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

#: Messages with known problems (ad-law words, contacts, links) and clean ones, plus hostile text.
TEXTS: tuple[str, ...] = (
    "【好物商城】全网最低价！点击 http://x.cn 领取，加微信abc123 回T退订",
    "【好物商城】您的订单已发货，请注意查收。回T退订",
    "【小店】国家级品质，限时特惠，详询 13800138000 拒收请回复R",
    "【小店】新品上架，欢迎选购 回T退订",
    '【坏人】<script>alert("x")</script><img src="http://evil.example/a.png"> 第一品牌 & 最佳 回T退订',
    "最好的服务，万能神药，快来买",
)


def write_jsonl(path: Path, rows: Iterable[dict[str, Any] | bytes | str]) -> Path:
    """Write rows (objects as JSON; bytes/str verbatim, one line each)."""
    with open(path, "wb") as f:
        for row in rows:
            if isinstance(row, bytes):
                f.write(row.rstrip(b"\n") + b"\n")
            elif isinstance(row, str):
                f.write(row.encode("utf-8") + b"\n")
            else:
                f.write(json.dumps(row, ensure_ascii=False).encode("utf-8") + b"\n")
    return path


def message_rows(count: int, *, texts: tuple[str, ...] = TEXTS, start_day: int = 1) -> list[dict[str, Any]]:
    """``count`` sends cycling through ``texts`` with ids, merchants, recipients and timestamps."""
    return [
        {"id": f"m{i}", "text": texts[i % len(texts)], "merchant": f"shop{i % 3}", "recipient": f"u{i % 11}",
         "at": f"2024-05-{start_day + i % 5:02d}T{8 + i % 12:02d}:00:00+08:00"}
        for i in range(count)
    ]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """60 good records, with three bad ones (invalid JSON, wrong type, invalid UTF-8) among them."""
    rows: list[Any] = message_rows(60)
    rows.insert(10, "{not json")
    rows.insert(20, {"id": "x", "text": 42})
    rows.insert(30, b'{"id": "y", "text": "\xff\xfe bad"}')
    return write_jsonl(tmp_path / "archive.jsonl", rows)
