"""Reading the portal's PDFs for real: text with poppler's pdftotext, QR codes by rendering the
pages with pdftoppm and decoding them with zxing-cpp."""
from __future__ import annotations

import subprocess

from ..conftest import require_tool


def blank_pdf() -> bytes:
    """A small, valid one-page PDF (evidence uploads are parsed, so junk bytes no longer pass)."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def pdf_text(pdf: bytes, tmp_path, name: str = "doc.pdf") -> str:
    tool = require_tool("pdftotext", "PDF text extraction (poppler-utils)")
    path = tmp_path / name
    path.write_bytes(pdf)
    return subprocess.run([tool, str(path), "-"], check=True, capture_output=True).stdout.decode()


def flat(text: str) -> str:
    """pdftotext wraps long lines; compare without the line breaks and spaces."""
    return text.replace("\n", "").replace(" ", "").replace("\u3000", "")


def qr_codes(pdf: bytes, tmp_path, name: str = "qr") -> list[str]:
    """Render every page and decode the QR codes on it."""
    import zxingcpp
    from PIL import Image

    tool = require_tool("pdftoppm", "PDF rendering (poppler-utils)")
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    path = folder / "in.pdf"
    path.write_bytes(pdf)
    subprocess.run([tool, "-r", "150", "-png", str(path), str(folder / "page")], check=True)
    found = []
    for png in sorted(folder.glob("page*.png")):
        with Image.open(png) as image:
            found += [b.text for b in zxingcpp.read_barcodes(image) if b.format == zxingcpp.BarcodeFormat.QRCode]
    return found
