"""Hostile messages: each ends in a verdict or a clear error within a bounded time.

Decisions (see docs/RELIABILITY.md):

* a message longer than ``max_chars`` (default `compliance.analyzer.lint.MAX_MESSAGE_CHARS`, 1,000,000
  characters over all text fields) is denied by one ``message-too-large`` finding without being
  scanned: fail closed, never passed;
* up to that size every message is scanned; time and memory are linear in the text and in the
  findings (1 MB of one repeated character: a few seconds at most here);
* invisible characters, bidi controls and NUL inside a banned word do not hide it: the finding
  covers the whole disguised word in the original text, and the finding message shows the
  hidden characters escaped;
* text that is not valid Unicode is refused with a clear error: invalid UTF-8 in a copy file or
  on stdin is exit 2 naming file:line:col; a lone surrogate from an embedding caller is a
  `FactError` naming the offset.

The time bound is deliberately generous (a 2-core CI box under load); measured figures are in
docs/RELIABILITY.md.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from compliance.errors import FactError
from compliance.analyzer.lint import MAX_MESSAGE_CHARS, MESSAGE_TOO_LARGE
from fuzz.test_fuzz_text import check_report

pytestmark = pytest.mark.hostile

#: Generous bound for "a verdict within bounded time" (measured: at most ~7 s on 2 cores).
BOUND_S = 60.0
MB = 1_000_000
SIGNED = "【好物小铺】{} 回T退订"


def _timed_lint(engine: Any, message: Any, channel: str = "jd.sms", **kwargs: Any) -> Any:
    started = time.monotonic()
    report = engine.lint(message, channel=channel, **kwargs)
    elapsed = time.monotonic() - started
    assert elapsed < BOUND_S, f"lint took {elapsed:.1f} s"
    return report


def _rules(report: Any) -> set[str]:
    return {f.rule for f in report.findings}


# --------------------------------------------------------------------------------------------
# Size


@pytest.mark.parametrize("shape", ["string", "mapping"])
def test_a_10_mb_message_is_denied_unscanned(engine: Any, shape: str) -> None:
    text = "最低价" * (10 * MB // 9)  # 10 MB of UTF-8
    assert len(text.encode()) >= 10 * MB - 9
    message = text if shape == "string" else {"signature": "好物小铺", "body": text, "optout": "回T退订"}
    report = _timed_lint(engine, message)
    assert not report.ok
    [finding] = report.findings
    assert finding.rule == MESSAGE_TOO_LARGE
    assert finding.category == "length" and finding.severity == "error"
    size = len(text) if shape == "string" else len(text) + 8
    assert f"{size} 个字符" in finding.message and str(MAX_MESSAGE_CHARS) in finding.message
    assert report.fields == {}  # nothing was scanned, nothing is echoed back


def test_the_size_limit_is_configurable_and_counts_every_text_field(engine: Any) -> None:
    message = {"signature": "好物小铺", "body": "新品上市", "optout": "回T退订"}  # 12 characters
    assert _rules(engine.lint(message, channel="jd.sms", max_chars=11)) == {MESSAGE_TOO_LARGE}
    at_limit = engine.lint(message, channel="jd.sms", max_chars=12)
    assert MESSAGE_TOO_LARGE not in _rules(at_limit) and at_limit.ok
    strict = copy.copy(engine)
    strict.max_message_chars = 11
    assert _rules(strict.lint(message, channel="jd.sms")) == {MESSAGE_TOO_LARGE}
    # An unknown channel is still an unknown channel, however long the message.
    from compliance.errors import UnknownChannelError

    with pytest.raises(UnknownChannelError):
        engine.lint("x" * (MAX_MESSAGE_CHARS + 1), channel="jd.smss")


#: (character, a rule that must report it, denied?). JD-SMS-07 (jd-sms-length) and repeated
#: punctuation are warnings in the platform rules: an over-long SMS gets a verdict with a
#: warning, not a denial. A body of spaces only is an empty body (JD-SMS-08); invisible and
#: control characters are special symbols (JD-SMS-11).
@pytest.mark.parametrize(("char", "expected", "denied"), [
    ("最", "copy-ad-law", True),
    ("!", "copy-repeated-punctuation", False),
    ("1", "jd-sms-length", False),
    (" ", "jd-sms-empty-body", True),
    ("a", "jd-sms-length", False),
    ("【", "copy-brackets", True),
    ("{", "jd-sms-length", False),
    ("微", "jd-sms-length", False),
    ("\u200b", "copy-symbols", True),
    ("😀", "copy-symbols", True),
    ("\x00", "copy-symbols", True),
    ("\u202e", "copy-symbols", True),
], ids=repr)
def test_1_mb_of_one_repeated_character_gets_a_verdict(engine: Any, char: str, expected: str | None,
                                                      denied: bool) -> None:
    """1 MB (UTF-8) of one character inside a signed message: scanned, reported, spans valid."""
    body = char * (MB // len(char.encode()) - 20)  # under the 1,000,000-character limit
    message = SIGNED.format(body)
    report = _timed_lint(engine, message)
    if expected is not None:
        assert expected in _rules(report)
    assert report.ok is not denied
    check_report(report, message, "jd.sms")


def test_many_lexicon_hits_stay_linear(engine: Any) -> None:
    """400,000 characters with 100,000 banned words (the hit containment check was quadratic:
    80,000 characters took 25 s)."""
    message = SIGNED.format("最低价，" * 100_000)
    report = _timed_lint(engine, message)
    assert sum(f.rule == "copy-ad-law" for f in report.findings) == 100_000
    check_report(report, message, "jd.sms")


def test_many_contact_hits_stay_linear(engine: Any) -> None:
    """70,000 keyworded QQ numbers, then e-mail addresses (merging the contact shapes compared
    every hit with every kept one: 70,000 took 89 s)."""
    body = "Q Q 12345678，" * 35_000 + "a@b.cn，" * 35_000
    message = SIGNED.format(body)
    report = _timed_lint(engine, message)
    numbers = [f for f in report.findings if f.rule == "copy-contact-numbers"]
    assert len(numbers) == 70_000
    check_report(report, message, "jd.sms")


@pytest.mark.parametrize(("unit", "count", "rule"), [
    ('中"', 100_000, "copy-halfwidth-punctuation"),  # each quote's fix counted the quotes before it
    ("中)", 200_000, "copy-halfwidth-punctuation"),  # each ) looked back through the text for its (
    ("看http://a.cn/x!!", 50_000, "copy-repeated-punctuation"),  # each mark was tested against every link
])
def test_many_punctuation_marks_stay_linear(engine: Any, unit: str, count: int, rule: str) -> None:
    """Quotes, unmatched brackets and marks next to links, by the hundred thousand (they took
    8.8 s, quadratic, and 155 s)."""
    message = SIGNED.format(unit * count)
    report = _timed_lint(engine, message)
    assert rule in _rules(report)
    check_report(report, message, "jd.sms")


def test_many_decorated_separators_get_a_verdict(engine: Any) -> None:
    """300,000 symbols between CJK characters, each removed for matching and each reported."""
    message = SIGNED.format("最★" * 150_000 + "低价")
    report = _timed_lint(engine, message)
    assert "copy-symbols" in _rules(report)
    check_report(report, message, "jd.sms")


# --------------------------------------------------------------------------------------------
# Invisible characters, bidi controls and NUL


@pytest.mark.parametrize("disguised", [
    "最\u200b低\u200b价",  # zero-width space
    "最\u200d低\u200c价",  # zero-width joiners
    "最\ufeff低\u2060价",  # BOM, word joiner
    "最\u00ad低价",  # soft hyphen
    "最\u202e低价",  # right-to-left override
    "最\u202d低\u202c价",  # left-to-right override … pop
    "最\u2067低\u2069价",  # right-to-left isolate … pop
    "最\u200f低\u200e价",  # RLM, LRM
    "最\x00低\x00价",  # NUL
    "最\x01\x7f低价",  # other control characters
    "最\u034f低价",  # combining grapheme joiner
    "最 \u200b*低·价",  # separators and invisibles mixed
    "最\u200b低\u200b價",  # … with a traditional character
], ids=repr)
def test_hidden_characters_do_not_hide_a_banned_word(engine: Any, disguised: str) -> None:
    message = SIGNED.format(f"新品{disguised}，速来")
    report = _timed_lint(engine, message)
    check_report(report, message, "jd.sms")
    body = report.fields["body"]
    [finding] = [f for f in report.findings if f.rule == "copy-ad-law" and body[f.start:f.end] == disguised]
    assert finding.message.isprintable(), finding.message  # escaped, e.g. 最\u202e低价


def test_hidden_characters_do_not_hide_a_contact_word(engine: Any) -> None:
    message = SIGNED.format("详情加\u200bV\u202e信咨询")
    report = _timed_lint(engine, message)
    assert any(f.category == "contact" for f in report.findings), report.findings


def test_nul_bytes_get_a_verdict(engine: Any) -> None:
    message = "\x00【好物小铺】\x00新品\x00上市\x00 回T退订\x00"
    report = _timed_lint(engine, message)
    check_report(report, message, "jd.sms")
    mapping = {"signature": "好物\x00小铺", "body": "\x00" * 1000, "optout": "回T退订"}
    check_report(_timed_lint(engine, mapping), mapping, "jd.sms")


def test_a_lone_surrogate_is_refused_with_its_offset(engine: Any) -> None:
    with pytest.raises(FactError, match="lone surrogate U\\+D83D at character 6"):
        engine.lint("【好物小铺】\ud83d新品", channel="jd.sms")


# --------------------------------------------------------------------------------------------
# Through the CLI: invalid UTF-8, NUL and a 10 MB copy file


def _cli(args: list[str], cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "compliance", "lint", "--no-config", *args], cwd=cwd,
                          input=stdin, capture_output=True, timeout=300, env=env)
    assert time.monotonic() - started < BOUND_S + 30
    assert b"Traceback" not in done.stderr, done.stderr.decode(errors="replace")
    return done


def test_cli_invalid_utf8_on_stdin_and_in_a_copy_file_is_exit_2_with_a_position(tmp_path: Path) -> None:
    data = "【好物小铺】新品".encode() + b"\xff\xfe" + "上市 回T退订\n".encode()
    (tmp_path / "copy.txt").write_bytes(b"\xe7\xac\xac\xe4\xb8\x80\n" + data)  # line 2
    done = _cli(["--channel", "jd.sms", "copy.txt"], tmp_path)
    assert done.returncode == 2
    err = done.stderr.decode()
    assert "copy.txt:2:9:" in err and "invalid UTF-8" in err
    done = _cli(["--channel", "jd.sms", "-"], tmp_path, stdin=data)
    assert done.returncode == 2
    assert "-:1:9:" in done.stderr.decode() and "invalid UTF-8" in done.stderr.decode()


def test_cli_nul_and_bidi_in_a_copy_file_are_linted(tmp_path: Path) -> None:
    (tmp_path / "copy.txt").write_bytes("【好物小铺】最\x00低\u202e价 回T退订\n".encode())
    done = _cli(["--channel", "jd.sms", "--format", "json", "copy.txt"], tmp_path)
    assert done.returncode == 1, done.stderr.decode()
    assert b"copy-ad-law" in done.stdout
    assert "\u202e".encode() not in done.stdout  # JSON escapes it in the message


def test_cli_10_mb_copy_file_is_denied(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("【好物小铺】" + "最" * (10 * MB // 3) + " 回T退订\n", encoding="utf-8")
    done = _cli(["--channel", "jd.sms", "--format", "json", "big.txt"], tmp_path)
    assert done.returncode == 1, done.stderr.decode()
    assert MESSAGE_TOO_LARGE.encode() in done.stdout
    assert len(done.stdout) < 10_000  # the verdict, not the message echoed back
