"""Shared parts of the portal's verifiable PDFs: the credit report (``services.reports``) and the
case documents (``services.case_documents``), and the CJK font the QR plates use too.

A verifiable document has a number, a random verify token and the SHA-256 of its bytes; its QR
code and printed URL lead to a public page that says whether a copy is genuine while showing
nothing of its content (海南 第二十七条: non-public information only to the subject or with
its authorisation; 海南 第五十一条 / 湖南 第三十三条: security of disclosure).

Fonts: a CJK TrueType font the install provides (Debian ``fonts-wqy-zenhei``) is embedded,
else reportlab's built-in CID font STSong-Light (glyphs then come from the reader's fonts).
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from xml.sax.saxutils import escape

from ..documents.qr import encode_qr, qr_png  # the portal's one QR encoder (plates use it too)

CHINA_TZ = timezone(timedelta(hours=8))
# A sentence put together from parts ("（加盖公章）" + "。") must not print "。。" (issue 14).
_DOUBLED = re.compile(r"([。，；、！？])\1+")


def tidy(text: str) -> str:
    """Collapse doubled Chinese punctuation in a document's text."""
    return _DOUBLED.sub(r"\1", text)


FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
TOKEN_MAX = 64

_font_lock = threading.Lock()
_font_name: str | None = None


def cjk_font() -> str:
    """Register (once per process) and name the CJK font of every portal PDF."""
    global _font_name
    with _font_lock:
        if _font_name is None:
            from reportlab.pdfbase import pdfmetrics
            from reportlab.pdfbase.cidfonts import UnicodeCIDFont
            from reportlab.pdfbase.ttfonts import TTFont

            for path in FONT_CANDIDATES:
                if os.path.exists(path):
                    try:
                        pdfmetrics.registerFont(TTFont("PortalCJK", path, subfontIndex=0))
                    except Exception:  # noqa: BLE001 - an unusable font file: try the next one
                        continue
                    _font_name = "PortalCJK"
                    break
            else:
                pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
                _font_name = "STSong-Light"
        return _font_name


def china_time(at: datetime) -> datetime:
    """A stored naive UTC time in China Standard Time."""
    return at.replace(tzinfo=UTC).astimezone(CHINA_TZ)


def new_number(prefix: str, today: date) -> str:
    """``<prefix><yyyymmdd><8 unambiguous characters>``: unguessable, readable over the phone."""
    return f"{prefix}{today:%Y%m%d}" + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))


def new_token() -> str:
    return secrets.token_urlsafe(16)


def token_matches(stored: str | None, given: str | None) -> bool:
    """Constant-time check of a verify token from a QR code (a guessed number is not enough)."""
    return bool(stored) and bool(given) and secrets.compare_digest(stored, (given or "")[:TOKEN_MAX])


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Styles:
    """The paragraph styles and table styles every portal PDF uses."""

    font: str
    base: object
    small: object
    h1: object
    h2: object
    center: object
    grid: object  # a table with a header row
    box: object  # a table without a header row

    def p(self, text, style=None):
        """A paragraph of escaped text (``None`` prints as empty)."""
        from reportlab.platypus import Paragraph

        return Paragraph(escape(tidy(str(text if text is not None else ""))), style or self.base)

    def lines(self, texts, style=None):
        """One paragraph, one escaped line per item."""
        from reportlab.platypus import Paragraph

        return Paragraph("<br/>".join(escape(tidy(str(t))) for t in texts), style or self.base)


def styles() -> Styles:
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import TableStyle

    font = cjk_font()
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=14, wordWrap="CJK")
    return Styles(
        font=font, base=base,
        small=ParagraphStyle("small", parent=base, fontSize=8, leading=11),
        h1=ParagraphStyle("h1", parent=base, fontSize=20, leading=28, alignment=1, spaceAfter=4),
        h2=ParagraphStyle("h2", parent=base, fontSize=12.5, leading=18, spaceBefore=10, spaceAfter=4, keepWithNext=1),
        center=ParagraphStyle("center", parent=base, alignment=1),
        grid=TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                         ("VALIGN", (0, 0), (-1, -1), "TOP"), ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke)]),
        box=TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                        ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]),
    )


def facts_table(st: Styles, rows, widths=(40, 130)):
    """A two-column label / value table; a value is text or a ready flowable."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Table

    return Table([[st.p(k), v if hasattr(v, "wrap") else st.p(v)] for k, v in rows],
                 colWidths=[w * mm for w in widths], style=st.box)


def verify_header(st: Styles, *, portal_name: str, title: str, meta: list[tuple[str, str]], url: str,
                  explain: str) -> list:
    """Portal name, title, the meta table beside the QR code, the verify URL and what the
    verify page shows."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, Table, TableStyle

    table = Table([[st.p(k), st.p(v)] for k, v in meta], colWidths=[26 * mm, 100 * mm], style=st.box)
    qr = Image(io.BytesIO(qr_png(encode_qr(url))), width=36 * mm, height=36 * mm)
    return [st.p(portal_name, st.center), st.p(title, st.h1),
            Table([[table, [qr, st.p("扫码核验", st.center)]]], colWidths=[130 * mm, 40 * mm],
                  style=TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])),
            st.p(f"核验网址：{url}", st.small), st.p(explain, st.small)]


def build_pdf(story: list, *, title: str, author: str, subject: str, creator: str, footer_left: str) -> bytes:
    """A4 with the portal's margins and a footer ``<footer_left> … 第 N 页`` on every page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    font = cjk_font()

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawString(20 * mm, 10 * mm, footer_left)
        canvas.drawRightString(190 * mm, 10 * mm, f"第 {doc.page} 页")
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=title, author=author, subject=subject, creator=creator)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()
