"""``report.html``: one self-contained page (no network, no scripts, no external CSS) with
bar charts drawn as inline SVG and the worst texts with their findings highlighted.

Every piece of archive text goes through `html.escape` — archives are hostile input.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

from compliance.audit.tally import Tally

_COLORS = {"error": "#c62828", "warning": "#ef6c00", "info": "#1565c0"}
_BAR = "#3f6fb5"
_CSS = """
body{font-family:system-ui,-apple-system,"Noto Sans CJK SC","PingFang SC",sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 12px} h2{font-size:17px;margin:28px 0 8px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:130px}
.card strong{display:block;font-size:20px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:16px}
figure{margin:0;overflow-x:auto} svg{max-width:100%;height:auto} svg text{font-size:12px;fill:#222}
.text{white-space:pre-wrap;border:1px solid #eee;padding:8px;border-radius:4px;background:#fafafa}
mark{padding:0 1px;border-radius:2px} mark.error{background:#ffcdd2} mark.warning{background:#ffe0b2}
mark.info{background:#bbdefb}
table{border-collapse:collapse} td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;font-size:13px}
.muted{color:#777;font-size:12px}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def bar_chart(title: str, items: list[tuple[str, int]], *, color: str = _BAR, limit: int = 20) -> str:
    """A horizontal bar chart as inline SVG (``<rect class="bar">`` per item)."""
    items = items[:limit]
    if not items:
        return f'<figure><figcaption>{_e(title)}</figcaption><p class="muted">no findings</p></figure>'
    label_w, bar_w, row_h = 190, 300, 20
    height = row_h * len(items) + 10
    peak = max(v for _, v in items) or 1
    rows = []
    for i, (label, value) in enumerate(items):
        y = 5 + i * row_h
        width = max(1.0, bar_w * value / peak)
        short = label if len(label) <= 28 else label[:27] + "…"
        rows.append(
            f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{_e(short)}</text>'
            f'<rect class="bar" x="{label_w}" y="{y + 2}" width="{width:.1f}" height="{row_h - 5}" fill="{color}">'
            f"<title>{_e(label)}: {value:,}</title></rect>"
            f'<text x="{label_w + width + 4:.1f}" y="{y + 14}">{value:,}</text>'
        )
    return (f'<figure><figcaption>{_e(title)}</figcaption>'
            f'<svg role="img" width="{label_w + bar_w + 70}" height="{height}" '
            f'viewBox="0 0 {label_w + bar_w + 70} {height}">'
            + "".join(rows) + "</svg></figure>")


def column_chart(title: str, items: list[tuple[str, int]], *, color: str = _BAR, limit: int = 120) -> str:
    """A vertical bar chart (days in order) as inline SVG."""
    items = items[-limit:]
    if not items:
        return f'<figure><figcaption>{_e(title)}</figcaption><p class="muted">no findings</p></figure>'
    chart_h, left, step = 180, 50, max(4, min(28, 560 // len(items)))
    peak = max(v for _, v in items) or 1
    parts = [f'<text x="{left - 6}" y="14" text-anchor="end">{peak:,}</text>',
             f'<text x="{left - 6}" y="{chart_h + 4}" text-anchor="end">0</text>']
    for i, (label, value) in enumerate(items):
        height = max(1.0, chart_h * value / peak)
        x = left + i * step
        parts.append(f'<rect class="bar" x="{x}" y="{chart_h + 8 - height:.1f}" width="{step - 2}" '
                     f'height="{height:.1f}" fill="{color}"><title>{_e(label)}: {value:,}</title></rect>')
    every = max(1, -(-80 // step))  # a date label needs about 80 px
    for i in range(0, len(items), every):
        parts.append(f'<text x="{left + i * step}" y="{chart_h + 24}">{_e(items[i][0])}</text>')
    width = left + step * len(items) + 60
    return (f'<figure><figcaption>{_e(title)}</figcaption>'
            f'<svg role="img" width="{max(width, 320)}" height="{chart_h + 32}" '
            f'viewBox="0 0 {max(width, 320)} {chart_h + 32}">'
            + "".join(parts) + "</svg></figure>")


def highlight(text: str, spans: list[tuple[int, int, str, str]]) -> str:
    """``text`` escaped, with ``<mark>`` around each (start, end, severity, note) span.

    Overlapping spans are cut at every boundary; each piece takes the worst severity over it.
    """
    rank = {"info": 0, "warning": 1, "error": 2}
    cuts = {0, len(text)}
    for start, end, _, _ in spans:
        cuts.update((max(0, min(start, len(text))), max(0, min(end, len(text)))))
    points = sorted(cuts)
    out = []
    for a, b in zip(points, points[1:]):
        covering = [s for s in spans if s[0] <= a and b <= s[1]]
        piece = _e(text[a:b])
        if covering:
            worst = max(covering, key=lambda s: rank.get(s[2], 0))[2]
            notes = "; ".join(dict.fromkeys(s[3] for s in covering))
            out.append(f'<mark class="{_e(worst)}" title="{_e(notes)}">{piece}</mark>')
        else:
            out.append(piece)
    return "".join(out)


def _worst_block(entry: dict[str, Any]) -> str:
    fields, offsets, findings = entry["fields"], entry["offsets"], entry["findings"]
    whole = list(fields) == ["text"]
    blocks = []
    for name, text in fields.items():
        spans = []
        for rule, _ref, _cat, severity, field, start, end, message, _fix in findings:
            if start is None or end is None:
                continue
            if whole:
                shift = offsets.get(field or "", 0)
            elif field == name:
                shift = offsets.get(name, 0) if name == "signature" and text.startswith("【") else 0
            else:
                continue
            spans.append((start + shift, end + shift, severity, f"{rule}: {message}"))
        label = "" if whole else f'<span class="muted">{_e(name)}</span> '
        blocks.append(f'<div class="text">{label}{highlight(text, spans)}</div>')
    rows = "".join(
        f'<tr><td style="color:{_COLORS.get(f[3], "#222")}">{_e(f[3])}</td><td>{_e(f[0])}</td><td>{_e(f[1] or "")}</td>'
        f'<td>{_e(f[2])}</td><td>{_e(f[4] or "")}</td><td>{_e(f[7])}</td></tr>'
        for f in findings
    )
    errors, warnings, total = entry["score"]
    return (f'<section class="worst"><p class="muted">first seen at {_e(entry["where"])} — {total} finding(s), '
            f"{errors} error(s), {warnings} warning(s)</p>{''.join(blocks)}"
            f"<table><tr><th>severity</th><th>rule</th><th>ref</th><th>category</th><th>field</th><th>message</th></tr>"
            f"{rows}</table></section>")


def render_report(summary: dict[str, Any], tally: Tally) -> str:
    """The whole HTML page."""
    severity = summary["findings_by_severity"]
    bad_card = f'{summary["bad_records"]:,}' + (" — too many" if summary.get("too_many_bad_records") else "")
    cards = [("records", summary["records"]), ("bad records", bad_card),
             ("findings", summary["findings"]), ("records with findings", summary["records_with_findings"]),
             *((f"{s}s", severity.get(s, 0)) for s in ("error", "warning", "info")),
             ("cache hit rate", f'{summary["cache"]["hit_rate"]:.1%}'),
             ("throughput", f'{summary["throughput_records_per_second"] or 0:,.0f} rec/s')]
    if summary.get("resumed"):
        this_run = summary["this_run"]
        cards.append(("this run (resumed)", f'{this_run["throughput_records_per_second"] or 0:,.0f} rec/s'))
    card_html = "".join(f'<div class="card">{_e(k)}<strong>{_e(f"{v:,}" if isinstance(v, int) else v)}</strong></div>'
                        for k, v in cards)
    charts = [
        bar_chart("Findings by severity", list(severity.items())),
        bar_chart("Findings by category", list(summary["findings_by_category"].items())),
        bar_chart("Findings by rule (top 20)", list(summary["findings_by_rule"].items())),
        bar_chart("Findings by merchant (top 20)", list(summary["findings_by_merchant"].items())),
        column_chart("Findings by day", list(summary["findings_by_day"].items())),
    ]
    worst = "".join(_worst_block(e) for e in tally.worst_entries()) or '<p class="muted">no findings</p>'
    bad = summary["bad_record_sample"]
    bad_html = ("<table><tr><th>archive</th><th>line</th><th>id</th><th>reason</th></tr>" + "".join(
        f"<tr><td>{_e(b['archive'])}</td><td>{b['line']}</td><td>{_e(b.get('id') or '')}</td>"
        f"<td>{_e(b['reason'])}</td></tr>" for b in bad)
        + "</table>") if bad else '<p class="muted">none</p>'
    archives = "".join(f"<tr><td>{_e(a['path'])}</td><td>{a['records']:,}</td><td>{a['bad_records']:,}</td>"
                       f"<td>{a['findings']:,}</td><td>{_e(a['error'] or '')}</td></tr>" for a in summary["archives"])
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; img-src data:">'
        f"<title>compliance audit</title><style>{_CSS}</style></head><body>"
        f"<h1>Compliance audit</h1><div class=\"cards\">{card_html}</div>"
        f"<h2>Charts</h2><div class=\"charts\">{''.join(charts)}</div>"
        f"<h2>Worst texts</h2>{worst}"
        f"<h2>Archives</h2><table><tr><th>archive</th><th>records</th><th>bad</th><th>findings</th><th>error</th></tr>"
        f"{archives}</table>"
        f"<h2>Bad records (first {len(bad)})</h2>{bad_html}"
        "</body></html>\n"
    )


def write_report(summary: dict[str, Any], tally: Tally, out: Path) -> Path:
    """Write ``out/report.html`` atomically."""
    path = out / "report.html"
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(render_report(summary, tally), encoding="utf-8")
    os.replace(tmp, path)
    return path
