"""Drawing QR identity plates (their QR code: ``documents.qr``): SVG for screens, PDF (A5 / A6)
for print, and batch PDF / ZIP output with progress.

No Flask, no database: callers pass ``PlateCard`` values built by ``services.plates``.
"""
from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

from ..domain.plates import LIVE_CAPTION, printed_grade_line
from ..services.verifiable import cjk_font  # one CJK font for every portal PDF
from .qr import QUIET, QrMatrix, qr_svg_path

BRAND = "#b3261e"
# Sizes in millimetres; A5 is A6 scaled by √2, so one layout serves both.
PAGE_SIZES = {"A6": (105.0, 148.0), "A5": (148.0, 210.0)}
SVG_FONTS = "'WenQuanYi Zen Hei','Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif"


# --- what goes on a plate ----------------------------------------------------------------------

@dataclass(frozen=True)
class PlateCard:
    plate_no: str
    url: str
    matrix: QrMatrix
    unit_name: str
    issued_on: date
    portal_name: str
    authority: str
    grade_letter: str | None = None  # printed only when the profile says so
    grade_year: int | None = None
    grade_label: str = ""


@dataclass(frozen=True)
class TextLine:
    text: str
    x: float  # centre, mm
    y: float  # baseline, mm from the top
    size: float  # mm
    bold: bool = False
    color: str = "#1d2733"


@dataclass(frozen=True)
class Layout:
    width: float
    height: float
    header_h: float
    lines: tuple[TextLine, ...]
    qr_x: float
    qr_y: float
    qr_size: float  # including the quiet zone


def _char_em(ch: str) -> float:
    return 0.55 if ord(ch) < 0x2E80 else 1.0


def estimate_width(text: str, size: float) -> float:
    return sum(_char_em(c) for c in text) * size


def wrap(text: str, max_width: float, size: float, measure: Callable[[str, float], float] = estimate_width,
         max_lines: int = 3) -> list[str]:
    """Greedy wrap by characters (Chinese has no spaces); the last line gets an ellipsis if cut."""
    lines, current = [], ""
    for ch in text:
        if current and measure(current + ch, size) > max_width:
            lines.append(current)
            current = ch
        else:
            current += ch
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and measure(last + "…", size) > max_width:
            last = last[:-1]
        lines = lines[:max_lines - 1] + [last + "…"]
    return lines


def layout(card: PlateCard, size: str = "A6", measure: Callable[[str, float], float] = estimate_width) -> Layout:
    """Positions in millimetres, computed on A6 and scaled for A5."""
    if size not in PAGE_SIZES:
        raise ValueError(f"unknown plate size {size!r}; use one of {', '.join(PAGE_SIZES)}")
    k = PAGE_SIZES[size][0] / PAGE_SIZES["A6"][0]
    W, H = 105.0, 148.0
    margin = 7.0
    inner = W - 2 * margin
    lines: list[TextLine] = []
    # header band: the official portal name
    fs = 5.2
    y = 9.5
    for t in wrap(card.portal_name, inner, fs, measure, 2):
        lines.append(TextLine(t, W / 2, y, fs, True, "#ffffff"))
        y += 6.6
    y -= 1.6
    lines.append(TextLine("二维码身份牌", W / 2, y, 3.4, False, "#ffffff"))
    header_h = y + 3.2
    # unit name, shrinking until it fits in two lines
    y = header_h + 9.5
    for fs in (6.4, 5.6, 4.8, 4.2):
        unit = wrap(card.unit_name, inner, fs, measure, 2)
        if not unit[-1].endswith("…") or fs == 4.2:
            break
    for t in unit:
        lines.append(TextLine(t, W / 2, y, fs, True))
        y += fs * 1.3
    # the QR code
    qr_size = 64.0
    qr_y = y - fs * 0.6 + 2
    qr_x = (W - qr_size) / 2
    y = qr_y + qr_size + 4.5
    lines.append(TextLine(LIVE_CAPTION, W / 2, y, 5.0, True, BRAND))
    y += 7.0
    if card.grade_letter:
        lines.append(TextLine(printed_grade_line(card.grade_letter, card.grade_year, card.grade_label), W / 2, y,
                              4.2, True))
        y += 6.0
    foot = H - 6.0
    lines.append(TextLine(f"编号 {card.plate_no}　发牌日期 {card.issued_on.isoformat()}", W / 2, foot, 3.0))
    for t in reversed(wrap(f"发牌单位：{card.authority}", inner, 3.3, measure, 2)):
        foot -= 4.8
        lines.append(TextLine(t, W / 2, foot, 3.3))
    scaled = tuple(TextLine(t.text, t.x * k, t.y * k, t.size * k, t.bold, t.color) for t in lines)
    return Layout(W * k, H * k, header_h * k, scaled, qr_x * k, qr_y * k, qr_size * k)


# --- SVG plate ---------------------------------------------------------------------------------

def plate_svg(card: PlateCard, size: str = "A6") -> str:
    lay = layout(card, size)
    full = card.matrix.size + 2 * QUIET
    k = lay.qr_size / full
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lay.width:g}mm" height="{lay.height:g}mm" '
        f'viewBox="0 0 {lay.width:g} {lay.height:g}" font-family="{SVG_FONTS}">',
        f'<title>{escape(card.unit_name)} {escape(card.plate_no)}</title>',
        f'<rect width="{lay.width:g}" height="{lay.height:g}" fill="#fff"/>',
        f'<rect width="{lay.width:g}" height="{lay.header_h:.2f}" fill="{BRAND}"/>',
        f'<rect x="1.5" y="1.5" width="{lay.width - 3:g}" height="{lay.height - 3:g}" fill="none" '
        f'stroke="{BRAND}" stroke-width="0.6"/>',
        f'<g transform="translate({lay.qr_x:.3f} {lay.qr_y:.3f}) scale({k:.5f})" shape-rendering="crispEdges">'
        f'<rect width="{full}" height="{full}" fill="#fff"/>'
        f'<path fill="#000" d="{qr_svg_path(card.matrix)}"/></g>',
    ]
    for t in lay.lines:
        weight = ' font-weight="700"' if t.bold else ""
        out.append(f'<text x="{t.x:.2f}" y="{t.y:.2f}" font-size="{t.size:.2f}" text-anchor="middle" '
                   f'fill="{t.color}"{weight}>{escape(t.text)}</text>')
    out.append("</svg>")
    return "\n".join(out)


# --- PDF plates --------------------------------------------------------------------------------

def _hex(color: str):
    from reportlab.lib.colors import HexColor

    return HexColor(color)


def draw_plate(canvas, card: PlateCard, size: str = "A6") -> None:
    """Draw one plate on the current page of a reportlab canvas (page size set by the caller)."""
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfmetrics import stringWidth

    font = cjk_font()
    lay = layout(card, size, lambda s, fs: stringWidth(s, font, fs))
    H = lay.height
    canvas.setFillColor(_hex(BRAND))
    canvas.rect(0, (H - lay.header_h) * mm, lay.width * mm, lay.header_h * mm, fill=1, stroke=0)
    canvas.setStrokeColor(_hex(BRAND))
    canvas.setLineWidth(0.6 * mm)
    canvas.rect(1.5 * mm, 1.5 * mm, (lay.width - 3) * mm, (H - 3) * mm, fill=0, stroke=1)
    # QR: one filled path of horizontal runs, rows overlapped by a hair so no raster seams show
    full = card.matrix.size + 2 * QUIET
    unit = lay.qr_size / full * mm
    x0, top = lay.qr_x * mm, (H - lay.qr_y) * mm
    canvas.setFillColor(_hex("#ffffff"))
    canvas.rect(x0, top - full * unit, full * unit, full * unit, fill=1, stroke=0)
    canvas.setFillColor(_hex("#000000"))
    canvas.saveState()
    # Module coordinates (y down), written as literal path operators: a few hundred rectangles
    # per plate would otherwise dominate the time of a batch (reportlab formats every float).
    canvas.transform(unit, 0, 0, -unit, x0 + QUIET * unit, top - QUIET * unit)
    canvas.addLiteral(" ".join(f"{x} {y} {n} 1.04 re" for x, y, n in card.matrix.runs()) + " f")
    canvas.restoreState()
    for t in lay.lines:
        canvas.setFillColor(_hex(t.color))
        canvas.setFont(font, t.size * mm)
        if t.bold:  # the CJK fonts at hand have no bold face: a thin outline in the fill colour
            canvas.saveState()  # the text render mode (Tr) would otherwise outlive this line
            canvas.setStrokeColor(_hex(t.color))
            canvas.setLineWidth(t.size * mm * 0.035)
            text = canvas.beginText()
            text.setTextRenderMode(2)
            text.setFont(font, t.size * mm)
            w = stringWidth(t.text, font, t.size * mm)
            text.setTextOrigin(t.x * mm - w / 2, (H - t.y) * mm)
            text.textOut(t.text)
            canvas.drawText(text)
            canvas.restoreState()
        else:
            canvas.drawCentredString(t.x * mm, (H - t.y) * mm, t.text)


def _canvas(out, size: str, title: str):
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    w, h = PAGE_SIZES[size]
    c = Canvas(out, pagesize=(w * mm, h * mm), pageCompression=1)
    c.setTitle(title)
    c.setCreator("health-credit-portal")
    return c


def plate_pdf(card: PlateCard, size: str = "A6") -> bytes:
    out = io.BytesIO()
    c = _canvas(out, size, f"{card.unit_name} {card.plate_no}")
    draw_plate(c, card, size)
    c.showPage()
    c.save()
    return out.getvalue()


def batch_pdf(cards: Iterable[PlateCard], out, size: str = "A6", title: str = "二维码身份牌",
              progress: Callable[[int], None] | None = None) -> int:
    """Write one PDF with one plate per page to ``out`` (path or binary file); returns the count."""
    if size not in PAGE_SIZES:
        raise ValueError(f"unknown plate size {size!r}")
    c = _canvas(out, size, title)
    n = 0
    for card in cards:
        draw_plate(c, card, size)
        c.showPage()
        n += 1
        if progress:
            progress(n)
    c.save()
    return n


def batch_zip(cards: Iterable[PlateCard], out, size: str = "A6",
              progress: Callable[[int], None] | None = None) -> int:
    """A ZIP with ``<plate_no>.pdf`` and ``<plate_no>.svg`` per plate and an ``index.csv``."""
    n = 0
    index = io.StringIO()
    writer = csv.writer(index)
    writer.writerow(["plate_no", "unit_name", "url", "issued_on"])
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for card in cards:
            zf.writestr(f"{card.plate_no}.pdf", plate_pdf(card, size))
            zf.writestr(f"{card.plate_no}.svg", plate_svg(card, size))
            writer.writerow([card.plate_no, card.unit_name, card.url, card.issued_on.isoformat()])
            n += 1
            if progress:
                progress(n)
        zf.writestr("index.csv", "\ufeff" + index.getvalue())  # BOM: Excel opens UTF-8 CSV correctly
    return n
