"""report.html: self-contained, hostile text escaped, charts drawn (headless Chromium)."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from compliance.audit import AuditOptions, run_audit
from compliance.audit.report import bar_chart, highlight

from .conftest import TEXTS, message_rows, write_jsonl


@pytest.fixture
def report(engine, tmp_path) -> Path:
    archive = write_jsonl(tmp_path / "a.jsonl", message_rows(40) + [
        {"text": '<b onmouseover="alert(1)">x</b>', "merchant": '<script>alert("m")</script>',
         "at": "2024-05-02T10:00:00+08:00"}])
    run_audit(AuditOptions([archive], tmp_path / "out", channel="jd.sms", jobs=1, progress="none"), engine=engine)
    return tmp_path / "out" / "report.html"


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _elements(text: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(text)
    return parser.tags


def test_report_is_self_contained(report):
    text = report.read_text(encoding="utf-8")
    tags = _elements(text)
    for tag, attrs in tags:
        for name in ("src", "href", "xlink:href", "action", "data"):
            assert not (attrs.get(name) or "").lower().startswith(("http:", "https:", "//")), (tag, attrs)
    assert not any(tag in ("script", "link", "iframe", "object", "embed") for tag, _ in tags)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", text)
    assert "@import" not in text


def test_report_escapes_hostile_text(report):
    text = report.read_text(encoding="utf-8")
    tags = _elements(text)
    # the archive's <script>, <img src=http://…> and <b onmouseover> are text, never elements
    assert not any(tag in ("script", "img", "b") for tag, _ in tags)
    assert not any(name.startswith("on") for _, attrs in tags for name in attrs)
    parser = _Elements()
    parser.feed(text)
    shown = "".join(parser.text)
    # ...and they read as the archive wrote them (highlight marks may cut them into pieces)
    assert '<script>alert("x")</script><img src="http://evil.example/a.png">' in shown
    assert '<b onmouseover="alert(1)">x</b>' in shown
    assert '<script>alert("m")</script>' in shown


def test_report_draws_charts_and_highlights_the_worst_texts(report, engine):
    text = report.read_text(encoding="utf-8")
    assert text.count('<rect class="bar"') >= 4
    for title in ("Findings by category", "Findings by rule", "Findings by merchant", "Findings by day"):
        assert title in text
    worst = engine.lint(TEXTS[0], channel="jd.sms")
    assert any(f.category == "ad_law" for f in worst.findings)
    assert '<mark class="error" title="copy-ad-law: ' in text and ">全网最低价</mark>" in text


def test_highlight_cuts_overlapping_spans_and_escapes():
    out = highlight("a<b>c", [(0, 3, "warning", "w"), (1, 5, "error", "e&")])
    assert out == ('<mark class="warning" title="w">a</mark><mark class="error" title="w; e&amp;">&lt;b</mark>'
                   '<mark class="error" title="e&amp;">&gt;c</mark>')


def test_bar_chart_scales_to_the_largest_value():
    svg = bar_chart("t", [("a", 10), ("<b>", 5)])
    widths = [float(w) for w in re.findall(r'class="bar" x="\d+" y="[\d.]+" width="([\d.]+)"', svg)]
    assert widths == [300.0, 150.0]
    assert "&lt;b&gt;" in svg and "<b>" not in svg


# ------------------------------------------------------------------------------ Chromium

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium_or_skip() -> str:
    if CHROMIUM:
        return CHROMIUM
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is required on CI (Debian package 'chromium')")
    pytest.skip("chromium not installed")


def _chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def decode_png(data: bytes) -> tuple[int, int, int, bytes]:
    """(width, height, channels, raw pixels) of an 8-bit RGB/RGBA/grey PNG (stdlib only)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    assert header is not None
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and interlace == 0, header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color]
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    out = bytearray()
    previous = bytearray(stride)
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += line
        previous = line
    return width, height, channels, bytes(out)


@pytest.mark.slow
def test_report_renders_in_headless_chromium(report, tmp_path):
    binary = _chromium_or_skip()
    png = tmp_path / "report.png"
    shot = _chromium(binary, tmp_path / "profile-shot", f"--screenshot={png}", "--window-size=1200,900",
                     report.as_uri())
    assert png.exists(), shot.stderr
    width, height, channels, pixels = decode_png(png.read_bytes())
    assert (width, height) == (1200, 900)
    grey = [sum(pixels[i:i + min(channels, 3)]) / min(channels, 3) for i in range(0, len(pixels), channels * 7)]
    mean = sum(grey) / len(grey)
    variance = sum((g - mean) ** 2 for g in grey) / len(grey)
    assert variance > 100, f"screenshot looks blank (variance {variance:.1f})"
    assert len({pixels[i:i + 3] for i in range(0, len(pixels), channels)}) > 20  # bars, text, marks

    dom = _chromium(binary, tmp_path / "profile-dom", "--dump-dom", report.as_uri())
    assert dom.returncode == 0, dom.stderr
    tags = _elements(dom.stdout)
    assert sum(1 for _, attrs in tags if attrs.get("class") == "bar") >= 4
    assert sum(1 for tag, _ in tags if tag == "svg") >= 4
    assert sum(1 for tag, _ in tags if tag == "mark") >= 1
