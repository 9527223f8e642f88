"""Staff pages for QR identity plates (淮安 三(七)): list with scan counts, issue, revoke, reissue,
single-plate downloads and batch printing (PDF / ZIP) with progress.

Behind the staff login (portal.web.staff); only operators and departments manage plates
(services.plates.can_manage_plates), and only in their own region (services.staff.in_region).
A batch runs in a background thread of the process that received it and writes its progress to
a small JSON file under PORTAL_VAR_DIR, so the status page works from any worker; the status page
refreshes itself with <meta http-equiv=refresh> (no JavaScript needed).
"""
from __future__ import annotations

import json
import logging
import os
import re
import secrets
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Blueprint, Response, abort, redirect, render_template, request, send_file, url_for

from ..documents import plates as render
from ..documents.qr import qr_png
from ..domain.plates import PLATE_STATUS_LABELS, REVOKE_REASONS, scan_url
from ..domain.vocab import CATEGORIES, SubjectKind
from ..services import plates as svc
from ..services.errors import ServiceError
from ..services.staff import in_region
from . import abort_with, commit, db, runtime
from .common import caller_ctx, no_store, on_refusal

if TYPE_CHECKING:
    from ..models import Plate

log = logging.getLogger(__name__)

bp = Blueprint("staff_plates", __name__, url_prefix="/staff/plates")

PER_PAGE = 50
MAX_ISSUE = 2000  # per request; more from the CLI (credit-portal plates issue)
ORG_CATEGORIES = {k: v[0] for k, v in CATEGORIES.items() if v[1] == SubjectKind.ORG}
JOB_ID = re.compile(r"[A-Za-z0-9_-]{8,32}")
_batch_lock = threading.Lock()  # one batch renders at a time per process (CPU-bound)
_threads: dict[str, threading.Thread] = {}


no_store(bp)


def _require():
    from .staff import current_staff

    user = current_staff()
    if user is None:
        abort(redirect(url_for("staff.login", next=request.path)))
    if not svc.can_manage_plates(user):
        abort_with(403, "只有平台运行机构和认定部门的工作人员可以管理二维码身份牌。")
    return user


def _actor(user) -> str:
    return f"staff:{user.username}"


def _ctx(user):
    return caller_ctx(_actor(user), user)


def _region(user, requested: str | None) -> str | None:
    """The region a staff member may select: their own unless they ask for a part of it."""
    requested = (requested or "").strip()[:6]
    if requested and (runtime().profile.region(requested) is None or not in_region(user, requested)):
        abort_with(403, "所选区划不在您的管辖范围内。")
    return requested or user.region_code or None


def _category(value: str | None) -> str | None:
    value = (value or "").strip()
    if value and value not in ORG_CATEGORIES:
        abort_with(400, "未知的主体类别。")
    return value or None


def _load(user, plate_no: str) -> Plate:
    plate = svc.find_by_number(db(), plate_no[:32])
    if plate is None or not in_region(user, plate.subject.region_code):
        abort_with(404, "未找到该身份牌。")
    return plate


def _regions(user):
    return [r for r in runtime().profile.regions if in_region(user, r.code)]


@bp.get("", endpoint="index")
def index():
    user = _require()
    rt = runtime()
    session = db()
    region = _region(user, request.args.get("region"))
    category = _category(request.args.get("category"))
    status = request.args.get("status", "active")
    try:
        wanted = int(request.args.get("page", 1))
    except ValueError:
        wanted = 1
    rows, total, page, pages = svc.plates_page(session, region, category, None if status == "all" else status,
                                               (request.args.get("q") or "").strip()[:40], wanted, PER_PAGE)
    ids = [p.id for p in rows]
    since = rt.today() - timedelta(days=29)
    missing = svc.count_without_plate(session, region, category)
    return render_template("staff/plates.html", user=user, plates=rows, total=total, page=page, pages=pages,
                           scans_total=svc.scan_counts(session, ids), scans_30=svc.scan_counts(session, ids, since),
                           missing=missing, regions=_regions(user), categories=ORG_CATEGORIES,
                           status_labels=PLATE_STATUS_LABELS, args=request.args, region=region or "",
                           category=category or "", status=status, sizes=list(render.PAGE_SIZES),
                           message=request.args.get("msg", "")[:200])


@bp.post("/issue")
def issue():
    user = _require()
    region = _region(user, request.form.get("region"))
    category = _category(request.form.get("category"))
    subjects = svc.without_plate(db(), region, category, MAX_ISSUE)
    issued, _ = svc.issue_missing(_ctx(user), subjects)
    commit()
    more = "；还有未发放的单位，请再次提交" if len(subjects) == MAX_ISSUE else ""
    return redirect(url_for(".index", region=region or "", category=category or "",
                            msg=f"已发放 {issued} 块身份牌{more}"))


@bp.get("/<plate_no>")
def show(plate_no: str):
    user = _require()
    session = db()
    plate = _load(user, plate_no)
    rt = runtime()
    current = svc.current_plate(session, plate) if plate.replaced_by_id else None
    days = svc.scan_days(session, plate.id, rt.today() - timedelta(days=59))
    return render_template("staff/plate.html", user=user, plate=plate, current=current,
                           earlier=svc.predecessors(session, plate), days=days,
                           total=svc.scan_counts(session, [plate.id]).get(plate.id, 0),
                           url=scan_url(rt.settings["PORTAL_BASE_URL"], plate.token), reasons=REVOKE_REASONS,
                           status_labels=PLATE_STATUS_LABELS, sizes=list(render.PAGE_SIZES),
                           error=request.args.get("error", "")[:200])


def _act(plate_no: str, verb):
    user = _require()
    plate = _load(user, plate_no)
    reason, note = request.form.get("reason", ""), request.form.get("note", "")[:200]
    plate_no = plate.plate_no
    on_refusal(lambda exc: redirect(url_for(".show", plate_no=plate_no, error=exc.message)))
    result = verb(_ctx(user), plate, reason, note, confirmed=request.form.get("confirm") == "yes")
    commit()
    return redirect(url_for(".show", plate_no=result.plate_no))


@bp.post("/<plate_no>/revoke")
def revoke(plate_no: str):
    return _act(plate_no, svc.revoke_plate)


@bp.post("/<plate_no>/reissue")
def reissue(plate_no: str):
    return _act(plate_no, svc.reissue_plate)


def _card(plate: Plate):
    rt = runtime()
    return svc.plate_card(db(), rt.profile, plate, rt.settings["PORTAL_BASE_URL"], rt.today())


@bp.get("/<plate_no>/plate.<fmt>")
def download(plate_no: str, fmt: str):
    user = _require()
    plate = _load(user, plate_no)
    size = request.args.get("size", "A6")
    if size not in render.PAGE_SIZES or fmt not in ("pdf", "svg", "png"):
        abort_with(404, "没有这种格式。")
    card = _card(plate)
    commit()  # keep a QR matrix rendered for the first time
    name = f"{plate.plate_no}-{size}.{fmt}" if fmt != "png" else f"{plate.plate_no}-qr.png"
    if fmt == "pdf":
        body, mime = render.plate_pdf(card, size), "application/pdf"
    elif fmt == "svg":
        body, mime = render.plate_svg(card, size), "image/svg+xml"
    else:
        body, mime = qr_png(card.matrix, scale=10), "image/png"
    return Response(body, mimetype=mime, headers={"Content-Disposition": f"attachment; filename={name}"})


# --- batches -----------------------------------------------------------------------------------

def _jobs_dir() -> Path:
    path = Path(runtime().settings["PORTAL_VAR_DIR"]) / "plate-batches"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_status(job_dir: Path, **status) -> None:
    tmp = job_dir / "status.json.tmp"
    tmp.write_text(json.dumps(status, ensure_ascii=False))
    os.replace(tmp, job_dir / "status.json")


def _read_status(job_id: str) -> tuple[Path, dict]:
    if not JOB_ID.fullmatch(job_id):
        abort_with(404, "未找到该打印任务。")
    job_dir = _jobs_dir() / job_id
    try:
        return job_dir, json.loads((job_dir / "status.json").read_text())
    except (OSError, ValueError):
        abort_with(404, "未找到该打印任务。")


def _run_batch(rt, job_dir: Path, status: dict, plate_ids: list[int], actor: str) -> None:
    from ..services.staff_desk import staff_account

    """Render in the background; progress goes to status.json at most every half second."""
    last = [0.0]

    def progress(n: int) -> None:
        now = time.monotonic()
        if now - last[0] > 0.5 or n == status["total"]:
            last[0] = now
            _write_status(job_dir, **{**status, "state": "running", "done": n})

    with _batch_lock:
        session = rt.sessions()
        try:
            _write_status(job_dir, **{**status, "state": "running", "done": 0})
            plates = svc.plates_by_ids(session, plate_ids)
            caller = staff_account(session, status["owner"])  # re-checked in this thread's session
            if caller is None:  # deactivated since the batch was started
                raise ServiceError("账号已停用", "staff", 403)
            with (job_dir / status["filename"]).open("wb") as fh:
                n = svc.print_batch(rt.context(session, actor, caller=caller), plates, fh, fmt=status["format"],
                                    size=status["size"], base_url=rt.settings["PORTAL_BASE_URL"],
                                    region=status["region"], category=status["category"], progress=progress)
            session.commit()
            _write_status(job_dir, **{**status, "state": "done", "done": n})
        except Exception:  # noqa: BLE001 — shown to the staff member as a failed batch
            session.rollback()
            log.exception("plate batch %s failed", job_dir.name)
            _write_status(job_dir, **{**status, "state": "failed"})
        finally:
            session.close()
            _threads.pop(job_dir.name, None)


def _purge_old_jobs(root: Path, max_age_s: float = 86400) -> None:
    """Batch files are for download, not for keeping: drop those older than a day."""
    import shutil

    cutoff = time.time() - max_age_s
    for job in root.iterdir():
        try:
            if job.is_dir() and (job / "status.json").stat().st_mtime < cutoff:
                shutil.rmtree(job, ignore_errors=True)
        except OSError:
            pass


@bp.post("/batches")
def batch_start():
    user = _require()
    region = _region(user, request.form.get("region"))
    category = _category(request.form.get("category"))
    size, fmt = _print_format()
    ids = svc.plate_ids(db(), region, category)
    if not ids:
        return redirect(url_for(".index", region=region or "", category=category or "",
                                msg="没有符合条件的有效身份牌，请先发放"))
    return _start_batch(user, ids, region, category, size, fmt,
                        f"plates-{region or 'all'}-{category or 'all'}-{size}.{fmt}")


def _print_format() -> tuple[str, str]:
    size = request.form.get("size", "A6")
    fmt = request.form.get("format", "pdf")
    if size not in render.PAGE_SIZES or fmt not in ("pdf", "zip"):
        abort_with(400, "请选择纸张（A5 / A6）和格式（PDF / ZIP）。")
    return size, fmt


@bp.get("/reprint", endpoint="reprint")
def reprint_list():
    """Plates whose printed grade is not the grade in force (issue #13: reprint after each grading)."""
    user = _require()
    rt = runtime()
    region = _region(user, request.args.get("region"))
    rows = svc.plates_to_reprint(db(), rt.profile, region, rt.today(), limit=PER_PAGE * 10)
    return render_template("staff/plates_reprint.html", user=user, rows=rows, region=region or "",
                           regions=_regions(user), shows_grade=svc.shows_grade(rt.profile),
                           sizes=list(render.PAGE_SIZES), limit=PER_PAGE * 10)


@bp.post("/reprint")
def reprint_start():
    """Reprint the listed plates (same token, same QR: only the printed grade changes); the print
    itself is the audited ``print_batch`` verb, run as any batch."""
    user = _require()
    rt = runtime()
    region = _region(user, request.form.get("region"))
    size, fmt = _print_format()
    ids = [r["plate"].id for r in svc.plates_to_reprint(db(), rt.profile, region, rt.today())]
    if not ids:
        return redirect(url_for(".reprint", region=region or ""))
    return _start_batch(user, ids, region, None, size, fmt, f"plates-reprint-{region or 'all'}-{size}.{fmt}")


def _start_batch(user, ids: list[int], region: str | None, category: str | None, size: str, fmt: str,
                 filename: str):
    _purge_old_jobs(_jobs_dir())
    job_id = secrets.token_urlsafe(12)
    job_dir = _jobs_dir() / job_id
    job_dir.mkdir()
    status = {"owner": user.id, "total": len(ids), "region": region or "", "category": category or "",
              "size": size, "format": fmt, "filename": filename,
              "state": "queued", "done": 0}
    _write_status(job_dir, **status)
    thread = threading.Thread(target=_run_batch, args=(runtime(), job_dir, status, ids, _actor(user)),
                              name=f"plate-batch-{job_id}", daemon=True)
    _threads[job_id] = thread
    thread.start()
    return redirect(url_for(".batch_show", job_id=job_id))


@bp.get("/batches/<job_id>")
def batch_show(job_id: str):
    user = _require()
    _, status = _read_status(job_id)
    if status.get("owner") != user.id:
        abort_with(404, "未找到该打印任务。")
    return render_template("staff/plate_batch.html", user=user, job_id=job_id, status=status,
                           categories=ORG_CATEGORIES)


@bp.get("/batches/<job_id>/download")
def batch_download(job_id: str):
    user = _require()
    job_dir, status = _read_status(job_id)
    if status.get("owner") != user.id or status.get("state") != "done":
        abort_with(404, "打印文件尚未生成。")
    mime = "application/pdf" if status["format"] == "pdf" else "application/zip"
    return send_file(job_dir / status["filename"], mimetype=mime, as_attachment=True,
                     download_name=status["filename"])
