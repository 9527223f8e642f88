"""Evidence uploads for cases (湖南 第二十七条: 证明异议内容的相关材料; 湖南医保 第二十五条（二）).

Only PDF, JPEG and PNG, recognised by their magic bytes (never by the file name); images are
opened and verified with Pillow under a pixel limit (decompression bombs are refused). Files are
stored under ``PORTAL_VAR_DIR/evidence/`` with random names, never under ``static/``; the
original name is kept only as sanitised display text. Nothing is written for a refused file.

Staff open these files, so nothing active may reach them:

* images are re-encoded from their pixels: whatever followed the image data (an HTML page in a
  JPEG/HTML polyglot), comments, EXIF (location, device) and other metadata are gone; the stored
  bytes are the re-encoded ones;
* PDFs are parsed (pypdf) and refused when any object carries active content: JavaScript, an
  action run on opening or on an event (``/OpenAction``, ``/AA``), ``/Launch``, embedded files,
  rich media or an XFA form. A PDF that cannot be parsed is refused too: what cannot be checked
  is not passed on.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import unicodedata
import warnings
from pathlib import Path

from PIL import Image, ImageOps
from pypdf import PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject
from sqlalchemy import func, select

from ..models import Case, Evidence
from ..permissions import require_applicant
from .audit import record_event
from .context import ServiceContext
from .errors import ServiceError

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 10  # per submission (the application, or one answer to a request for more material)
MAX_CASE_FILES = 30  # per case, supplements included
STAGES = ("filing", "supplement")
MAX_PIXELS = 40_000_000  # well above a phone photo (~12 MP), far below a bomb
MIME_BY_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}
# PDF names that make a document do something when opened or clicked (keys of a dictionary, or
# values of /S, /Type, /Subtype). /URI links stay allowed: a viewer asks before following them.
ACTIVE_PDF_KEYS = frozenset({"/JavaScript", "/JS", "/OpenAction", "/AA", "/Launch", "/EmbeddedFile",
                             "/EmbeddedFiles", "/RichMedia", "/XFA"})
ACTIVE_PDF_VALUES = frozenset({"/JavaScript", "/Launch", "/EmbeddedFile", "/RichMedia", "/RichMediaExecute",
                               "/ImportData", "/GoToE"})
ACTIVE_PDF = "PDF 文件含有脚本、自动执行动作或嵌入文件等活动内容，出于安全原因不能上传；请打印为普通 PDF 或扫描后重新上传"
MAX_PDF_OBJECTS = 200_000  # a walk bound: far above a scanned document


def sniff(data: bytes) -> str | None:
    return next((mime for magic, mime in MIME_BY_MAGIC if data.startswith(magic)), None)


def sanitise_name(name: str, mime: str) -> str:
    """Display name only: the last path component, no control or path characters, bounded."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r'[<>:"|?*\x00]', "_", name).strip(" .")
    stem = os.path.splitext(name)[0][:80] or "材料"
    return stem + EXTENSIONS[mime]


def _check_image(data: bytes, mime: str) -> None:
    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.format != PIL_FORMATS[mime]:
                    raise ServiceError("图片格式与文件内容不符", "file")
                width, height = img.size
                if width * height > MAX_PIXELS:
                    raise ServiceError("图片尺寸过大", "file")
                img.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ServiceError("图片尺寸过大（疑似压缩炸弹），请重新拍摄或扫描后上传", "file") from exc
    except ServiceError:
        raise
    except Exception as exc:  # truncated or malformed image
        raise ServiceError("图片文件已损坏，无法读取", "file") from exc
    finally:
        Image.MAX_IMAGE_PIXELS = old


def _reencode_image(data: bytes, mime: str) -> bytes:
    """The image drawn again from its pixels (already verified by ``_check_image``): no trailing
    data, comments, EXIF or other metadata survive. EXIF orientation is applied first so that a
    phone photo still stands upright."""
    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            try:
                upright = ImageOps.exif_transpose(img) or img
            except Exception:  # a malformed orientation tag: keep the pixels as they are
                upright = img
            clean = upright.copy()
    except Exception as exc:  # verified already; a decoder failure is still a broken image
        raise ServiceError("图片文件已损坏，无法读取", "file") from exc
    finally:
        Image.MAX_IMAGE_PIXELS = old
    transparency = clean.info.get("transparency")
    clean.info = {}
    out = io.BytesIO()
    if mime == "image/jpeg":
        if clean.mode not in ("RGB", "L", "CMYK"):
            clean = clean.convert("RGB")
        clean.save(out, "JPEG", quality=90)
    else:
        options = {"transparency": transparency} if transparency is not None else {}
        clean.save(out, "PNG", **options)
    return out.getvalue()


def _active_pdf_content(reader: PdfReader) -> str | None:
    """The first active-content name found in any object reachable from the trailer, else None."""
    seen: set[tuple[int, int]] = set()
    stack = [reader.trailer]
    walked = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            ref = (item.idnum, item.generation)
            if ref in seen:
                continue
            seen.add(ref)
            walked += 1
            if walked > MAX_PDF_OBJECTS:
                raise ServiceError("PDF 文件结构过于复杂，无法检查，请重新导出后上传", "file")
            item = item.get_object()
        if isinstance(item, DictionaryObject):  # streams too (their dictionary)
            for key, value in item.items():
                if key in ACTIVE_PDF_KEYS:
                    return str(key)
                if key in ("/S", "/Type", "/Subtype") and isinstance(value, NameObject) \
                        and value in ACTIVE_PDF_VALUES:
                    return str(value)
                stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(item)
    return None


def _check_pdf(data: bytes) -> None:
    if b"%%EOF" not in data[-2048:]:
        raise ServiceError("PDF 文件不完整", "file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pypdf warns about every repaired oddity
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                raise ServiceError("PDF 文件设有打开密码，无法检查其内容，请去除密码后上传", "file")
            found = _active_pdf_content(reader)
    except ServiceError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError, OSError) as exc:
        raise ServiceError("PDF 文件已损坏或结构异常，无法检查其内容，请重新导出或扫描后上传", "file") from exc
    if found is not None:
        raise ServiceError(ACTIVE_PDF, "file", 415)


def validate(filename: str, data: bytes, max_bytes: int = MAX_BYTES) -> tuple[str, str]:
    """``(mime, display name)`` for an acceptable file, else ``ServiceError``."""
    if not data:
        raise ServiceError("上传的文件为空", "file")
    if len(data) > max_bytes:
        raise ServiceError(f"单个文件不能超过 {max_bytes // (1024 * 1024)} MB", "file", 413)
    raw = filename or ""
    if "\x00" in raw or ".." in re.split(r"[\\/]", raw) or raw.startswith(("/", "\\")) or re.search(r"[\\/]", raw):
        raise ServiceError("文件名不合法", "file")
    mime = sniff(data)
    if mime is None:
        raise ServiceError("只能上传 PDF、JPG 或 PNG 文件", "file", 415)
    if mime in PIL_FORMATS:
        _check_image(data, mime)
    else:
        _check_pdf(data)
    return mime, sanitise_name(raw, mime)


def evidence_dir(var_dir: str | os.PathLike) -> Path:
    return Path(var_dir) / "evidence"


def add_evidence(ctx: ServiceContext, case: Case, filename: str, data: bytes, *, var_dir: str | os.PathLike,
                 uploaded_by: str, max_bytes: int = MAX_BYTES, max_files: int = MAX_CASE_FILES,
                 stage: str = "filing") -> Evidence:
    """Validate and store one file for ``case``. The file is written only after every check
    passed; if the database write fails later, the caller's rollback leaves an orphan file at
    most (never a row without a file). ``stage``: with the application, or a supplement
    answering a request for more material (``cases.supplement_evidence``)."""
    if not case.open:
        raise ServiceError("案件已办结，不能再补充材料", "file", 409)
    require_applicant(ctx, case)  # the applicant's own files only (permissions)
    if stage not in STAGES:
        raise ValueError(f"unknown evidence stage {stage!r}")
    count = ctx.session.execute(select(func.count()).select_from(Evidence).where(Evidence.case_id == case.id)).scalar_one()
    if count >= max_files:
        raise ServiceError(f"每件申请最多上传 {max_files} 个文件", "file")
    mime, display = validate(filename, data, max_bytes)
    received = hashlib.sha256(data).hexdigest()
    if mime in PIL_FORMATS:
        data = _reencode_image(data, mime)  # what is stored is what staff will open
    folder = evidence_dir(var_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stored = secrets.token_hex(16) + EXTENSIONS[mime]
    target = folder / stored
    with open(target, "xb") as fh:
        fh.write(data)
    row = Evidence(case_id=case.id, stored_name=stored, original_name=display, mime=mime, size=len(data),
                   sha256=hashlib.sha256(data).hexdigest(), uploaded_by=uploaded_by, stage=stage)
    ctx.session.add(row)
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "case.evidence", subject_id=case.subject_id, object_ref=f"case:{case.case_no}",
                 detail={"evidence": row.id, "sha256": row.sha256, "size": row.size, "mime": mime, "stage": stage,
                         "received_sha256": received})
    return row


def evidence_path(var_dir: str | os.PathLike, row: Evidence) -> Path:
    """The stored file of a row (names are generated, so no traversal is possible)."""
    if not re.fullmatch(r"[0-9a-f]{32}\.(pdf|jpg|png)", row.stored_name):
        raise ServiceError("文件不存在", "file", 404)
    return evidence_dir(var_dir) / row.stored_name
