"""The portal's one QR encoder: the module matrix (computed once per URL; plates store it packed),
SVG for screens and PNG for pages and PDFs. Plates (``documents.plates``), the credit report and
the case documents (``services.verifiable``) all draw their codes here.

No Flask, no database.
"""
from __future__ import annotations

import base64
import io
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import qrcode
from qrcode.constants import ERROR_CORRECT_Q

QUIET = 4  # modules of white border the QR specification asks for


@dataclass(frozen=True)
class QrMatrix:
    """Dark modules of a QR code, row by row, without the quiet zone."""

    size: int
    rows: tuple[tuple[bool, ...], ...]

    def pack(self) -> str:
        """Compact text form stored on the plate row (``33:base64``, about 200 characters)."""
        bits = bytearray((self.size * self.size + 7) // 8)
        for i, dark in enumerate(d for row in self.rows for d in row):
            if dark:
                bits[i >> 3] |= 0x80 >> (i & 7)
        return f"{self.size}:{base64.b64encode(bytes(bits)).decode()}"

    @classmethod
    def unpack(cls, text: str) -> QrMatrix:
        size_s, b64 = text.split(":", 1)
        size = int(size_s)
        bits = base64.b64decode(b64)
        flat = [bool(bits[i >> 3] & (0x80 >> (i & 7))) for i in range(size * size)]
        return cls(size, tuple(tuple(flat[r * size:(r + 1) * size]) for r in range(size)))

    def runs(self) -> Iterable[tuple[int, int, int]]:
        """Horizontal runs of dark modules as (x, y, length): few shapes, small files."""
        for y, row in enumerate(self.rows):
            x = 0
            while x < self.size:
                if row[x]:
                    start = x
                    while x < self.size and row[x]:
                        x += 1
                    yield start, y, x - start
                else:
                    x += 1


@lru_cache(maxsize=4096)
def encode_qr(data: str) -> QrMatrix:
    """Encode once (≈5–10 ms in pure Python); error correction Q survives ~25 % damage."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, border=0)
    qr.add_data(data)
    qr.make(fit=True)
    return QrMatrix(qr.modules_count, tuple(tuple(bool(m) for m in row) for row in qr.modules))


def qr_svg_path(matrix: QrMatrix, offset: float = QUIET) -> str:
    return "".join(f"M{x + offset:g} {y + offset:g}h{n}v1h-{n}z" for x, y, n in matrix.runs())


@lru_cache(maxsize=1024)
def qr_svg(matrix: QrMatrix) -> str:
    """A standalone SVG of the code with its quiet zone (one path, a few KB)."""
    full = matrix.size + 2 * QUIET
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {full} {full}" shape-rendering="crispEdges">'
            f'<rect width="{full}" height="{full}" fill="#fff"/>'
            f'<path fill="#000" d="{qr_svg_path(matrix)}"/></svg>')


def qr_png(matrix: QrMatrix, scale: int = 8) -> bytes:
    from PIL import Image

    full = matrix.size + 2 * QUIET
    img = Image.new("1", (full, full), 1)
    px = img.load()
    for y, row in enumerate(matrix.rows):
        for x, dark in enumerate(row):
            if dark:
                px[x + QUIET, y + QUIET] = 0
    img = img.resize((full * scale, full * scale), Image.NEAREST)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()
