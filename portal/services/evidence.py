"""Evidence uploads for cases (湖南 第二十七条: 证明异议内容的相关材料; 湖南医保 第二十五条（二）).

Only PDF, JPEG and PNG, recognised by their magic bytes (never by the file name); images are
opened and verified with Pillow under a pixel limit (decompression bombs are refused). Files are
stored under ``PORTAL_VAR_DIR/evidence/`` with random names, never under ``static/``; the
original name is kept only as sanitised display text. Nothing is written for a refused file.
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

from PIL import Image
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
    elif b"%%EOF" not in data[-2048:]:
        raise ServiceError("PDF 文件不完整", "file")
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
                 detail={"evidence": row.id, "sha256": row.sha256, "size": row.size, "mime": mime, "stage": stage})
    return row


def evidence_path(var_dir: str | os.PathLike, row: Evidence) -> Path:
    """The stored file of a row (names are generated, so no traversal is possible)."""
    if not re.fullmatch(r"[0-9a-f]{32}\.(pdf|jpg|png)", row.stored_name):
        raise ServiceError("文件不存在", "file", 404)
    return evidence_dir(var_dir) / row.stored_name
