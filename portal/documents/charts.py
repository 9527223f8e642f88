"""Charts as inline SVG, drawn on the server (the strict CSP allows no script and no inline style:
only presentation attributes are used). Each chart has a ``<title>`` and ``<desc>`` and is
``role="img"``; the page puts the same figures in a table beside it (``<details>``), so the chart
is never the only way to read a number.

Pure functions over lists of numbers; no Flask, no database.
"""
from __future__ import annotations

import itertools
from collections.abc import Sequence

from markupsafe import Markup, escape

# Okabe–Ito colours: distinguishable with the common colour-vision deficiencies; every series also
# has a legend entry and the table, so colour is never the only carrier of meaning.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
_ids = itertools.count(1)


def _fmt(n: float) -> str:
    return f"{n:.1f}".rstrip("0").rstrip(".")


LABEL_CHARS = 14  # what fits left of the bars at 12 px; the full label is in the table


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1] + "…"


def _legend(series: Sequence[str], y: float) -> list[str]:
    out, x = [], 0.0
    for i, name in enumerate(series):
        out.append(f'<rect x="{_fmt(x)}" y="{_fmt(y)}" width="12" height="12" fill="{PALETTE[i % len(PALETTE)]}"/>'
                   f'<text x="{_fmt(x + 16)}" y="{_fmt(y + 11)}" font-size="12" fill="#1a1a1a">{escape(name)}</text>')
        x += 28 + 13 * len(name)
    return out


def stacked_bars(title: str, labels: Sequence[str], series: Sequence[str], values: Sequence[Sequence[int]],
                 *, width: int = 640) -> Markup:
    """Horizontal bars, one per label, stacked by series: ``values[row][series]``."""
    cid = f"chart{next(_ids)}"
    label_w, row_h, top = 190, 24, 30
    totals = [sum(row) for row in values]
    peak = max(totals, default=0) or 1
    plot_w = width - label_w - 50
    height = top + row_h * max(len(labels), 1) + 10
    parts = _legend(series, 4) if len(series) > 1 else []
    for r, (label, row) in enumerate(zip(labels, values, strict=True)):
        y = top + r * row_h
        parts.append(f'<text x="{label_w - 6}" y="{y + 16}" font-size="12" text-anchor="end" fill="#1a1a1a">'
                     f'{escape(_short(label))}</text>')
        x = float(label_w)
        for s, n in enumerate(row):
            if n:
                w = plot_w * n / peak
                parts.append(f'<rect x="{_fmt(x)}" y="{y + 3}" width="{_fmt(w)}" height="{row_h - 6}" '
                             f'fill="{PALETTE[s % len(PALETTE)]}"/>')
                x += w
        parts.append(f'<text x="{_fmt(x + 4)}" y="{y + 16}" font-size="12" fill="#1a1a1a">{totals[r]}</text>')
    if not labels:
        parts.append(f'<text x="{label_w}" y="{top + 16}" font-size="12" fill="#1a1a1a">本期间没有数据</text>')
    return _svg(cid, title, _desc(labels, totals), width, height, parts)


def columns(title: str, labels: Sequence[str], values: Sequence[int], *, width: int = 640,
            height: int = 180) -> Markup:
    """Vertical columns over time (days or months); the first and last labels on the axis."""
    cid = f"chart{next(_ids)}"
    left, bottom, top = 40, 22, 10
    peak = max(values, default=0) or 1
    plot_w, plot_h = width - left - 10, height - top - bottom
    step = plot_w / max(len(values), 1)
    parts = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="#555"/>',
             f'<text x="{left - 4}" y="{top + 10}" font-size="11" text-anchor="end" fill="#1a1a1a">{peak}</text>',
             f'<text x="{left - 4}" y="{height - bottom}" font-size="11" text-anchor="end" fill="#1a1a1a">0</text>']
    for i, n in enumerate(values):
        if n:
            h = plot_h * n / peak
            parts.append(f'<rect x="{_fmt(left + i * step)}" y="{_fmt(height - bottom - h)}" '
                         f'width="{_fmt(max(step - 1, 0.8))}" height="{_fmt(h)}" fill="{PALETTE[0]}"/>')
    if labels:
        parts.append(f'<text x="{left}" y="{height - 6}" font-size="11" fill="#1a1a1a">{escape(labels[0])}</text>')
        parts.append(f'<text x="{width - 10}" y="{height - 6}" font-size="11" text-anchor="end" fill="#1a1a1a">'
                     f'{escape(labels[-1])}</text>')
    total = sum(values)
    desc = f"共 {total}；最高 {peak if total else 0}" + (f"（{labels[0]} 至 {labels[-1]}）" if labels else "")
    return _svg(cid, title, desc, width, height, parts)


def _desc(labels: Sequence[str], totals: Sequence[int]) -> str:
    return "；".join(f"{label} {n}" for label, n in zip(labels, totals, strict=True)) or "本期间没有数据"


def _svg(cid: str, title: str, desc: str, width: int, height: int, parts: list[str]) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" aria-labelledby="{cid}-t {cid}-d" focusable="false">'
        f'<title id="{cid}-t">{escape(title)}</title><desc id="{cid}-d">{escape(desc)}</desc>'
        + "".join(parts) + "</svg>")
