"""`compliance.audit.workers.lint_many`: the auditor's batches through `Engine.lint_many`."""

from __future__ import annotations

from typing import Any

from compliance.audit.verdicts import LintFailure
from compliance.audit.workers import LINT_CHUNK, _lint_one, lint_many


def test_batches_equal_lint_one_by_one_in_order(engine: Any) -> None:
    texts = ["【小米旗舰店】全网最低价，回T退订", "加微信领券", {"body": "最好的", "title": "新品"}, {"body": 3},
             "【京东】限时特惠 拒收请回复R"]
    items: list[tuple[str, Any]] = []
    for i in range(2 * LINT_CHUNK + 7):  # several chunks, channels interleaved
        channel = ("jd.sms", "jd.message_box", "no.such.channel")[i % 3]
        items.append((channel, texts[i % len(texts)]))
    got = lint_many(engine, items)
    expected = [_lint_one(engine, channel, message) for channel, message in items]
    assert got == expected
    assert isinstance(got[2], LintFailure) and "no.such.channel" in got[2].reason
    assert any(isinstance(r, LintFailure) and "must be text" in r.reason for r in got)


def test_an_engine_without_lint_many_is_asked_message_by_message(engine: Any) -> None:
    class LintOnly:
        def lint(self, *args: Any, **kwargs: Any) -> Any:
            return engine.lint(*args, **kwargs)

    items = [("jd.sms", "加微信领券"), ("jd.sms", {"body": 3})]
    assert lint_many(LintOnly(), items) == lint_many(engine, items)
