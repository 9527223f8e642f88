"""The providers' workspace (信息提供单位), /staff/provide: the unit's records with their versions,
file upload with a preview and a progress bar, the one-record form with drafts and 审核, the
import template, the information catalogue and the units overdue (湖南 第九条、第十条; 海南
第二十二条、第五十二条). Views parse, ask the service verbs (which check the caller) and render."""
from __future__ import annotations

import logging
import threading

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for

from ..domain import provision as rules
from ..domain.vocab import CATEGORIES, RECORD_STATUS_LABELS, RECORD_TYPES, SCOPE_LABELS, SEVERITY_LABELS
from ..models import RecordDraft
from ..services import provision as svc
from ..services import staff_desk as desk
from ..services.errors import ServiceError
from ..services.importer import columns, template_csv, template_xlsx
from ..services.search import parse_page
from . import commit, is_htmx, runtime
from .common import caller_ctx, no_store, on_refusal

log = logging.getLogger(__name__)
bp = Blueprint("provider", __name__, url_prefix="/staff/provide")
no_store(bp)


def _form_columns():
    """The form's columns, their help as it reads under the active profile (importer.columns)."""
    return [c for c in columns(runtime().profile) if c[0] in svc.FORM_KEYS]


CHOICES = {"record_type": {k: v[0] for k, v in RECORD_TYPES.items()}, "severity": dict(SEVERITY_LABELS),
           "scope": dict(SCOPE_LABELS), "category": {k: v[0] for k, v in CATEGORIES.items()},
           "subject_kind": {"org": "机构", "person": "个人"}, "ordinary_procedure": {"是": "是（普通程序）", "否": "否（简易程序）"}}


def _user():
    from .staff import current_staff

    user = current_staff()
    if user is None:
        abort(redirect(url_for("staff.login", next=request.path)))
    return user


def _ctx(user):
    return caller_ctx(f"staff:{user.username}", user)


def _again(render):
    """On a refused verb: the form again with the message for bad input (400, 409); the error
    page for a refusal of access (403, 404), which must not render the object it refused."""
    def answer(exc):
        if exc.status in (400, 409, 413):
            return render(exc)
        from . import ERROR_TITLES

        return render_template("error.html", code=exc.status, title=ERROR_TITLES.get(exc.status, "出错了"),
                               message=exc.message), exc.status
    on_refusal(answer)


def _page(template: str, user, status: int = 200, **kw):
    return render_template(template, user=user, rules=rules, **kw), status


@bp.get("")
def index():
    user = _user()
    c = _ctx(user)
    result = svc.unit_records(c, request.args.get("q", ""), parse_page(request.args.get("page")))
    return _page("provider/index.html", user, result=result, drafts=svc.unit_drafts(c), uploads=svc.list_uploads(c),
                 review=svc.review_queue(c), status_labels=RECORD_STATUS_LABELS, q=request.args.get("q", "")[:40],
                 approval=svc.approval_required(c))


@bp.get("/review")
def review():
    """Drafts waiting for the caller's 审核 (second person; other channels' for operators and
    departments)."""
    user = _user()
    return _page("provider/review.html", user, drafts=svc.review_queue(_ctx(user)))


# --- the template ------------------------------------------------------------------------------

@bp.get("/template.xlsx")
def template_xlsx_download():
    _user()
    return Response(template_xlsx(runtime().profile),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename=import-template.xlsx"})


@bp.get("/template.csv")
def template_csv_download():
    _user()
    return Response(template_csv(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=import-template.csv"})


# --- upload: check with a preview, then confirm -----------------------------------------------------

@bp.get("/upload")
def upload_form():
    user = _user()
    svc.require_provider(_ctx(user), official=True)
    return _page("provider/upload.html", user, columns=columns(runtime().profile))


def _in_background(app, user_id: int, upload_id: str, verb) -> None:
    """Run ``verb`` (check or confirm) on an upload in a thread with its own session; the page
    polls the upload's state."""
    with app.app_context():
        rt = app.extensions["portal"]
        session = rt.sessions()
        try:
            user = desk.staff_account(session, user_id)  # re-checked in this thread's session
            if user is None:  # disabled since the upload was started: refused, the upload fails
                raise ServiceError("账号已停用", "staff", 403)
            c = rt.context(session, f"staff:{user.username}", caller=user)
            verb(c, upload_id)
            session.commit()
            if verb is svc.confirm_upload:
                from ..services import indexing

                if rt.settings["PORTAL_INDEX_MODE"] == "inline":
                    indexing.drain(session, rt.backend, rt.today(), rt.profile)
        except Exception as exc:  # the page shows the failure instead of a bar that never moves
            if not isinstance(exc, ServiceError):  # a refusal is stored on the upload already
                log.exception("upload %s: %s failed", upload_id, verb.__name__)
            session.rollback()
            svc.mark_failed(rt.context(session, "system"), upload_id)
            session.commit()
        finally:
            session.close()


@bp.post("/upload")
def upload_post():
    user = _user()
    f = request.files.get("file")
    _again(lambda exc: _page("provider/upload.html", user, exc.status, columns=columns(runtime().profile),
                             error=exc.message))
    c = _ctx(user)
    name, raw = (f.filename or "", f.read()) if f else ("", b"")
    if f:
        f.close()  # a large upload is a spooled temporary file
    upload = svc.start_upload(c, name, raw)
    if svc.inline(upload):
        svc.check_upload(c, upload.id)
        commit()
    else:
        commit()
        _start(user, upload.id, svc.check_upload)
    return redirect(url_for("provider.upload_show", upload_id=upload.id), 303)


def _start(user, upload_id: str, verb) -> None:
    from flask import current_app

    threading.Thread(target=_in_background, args=(current_app._get_current_object(), user.id, upload_id, verb),
                     daemon=True, name=f"upload-{upload_id[:8]}").start()


@bp.get("/upload/<upload_id>")
def upload_show(upload_id: str):
    """The check's progress (the fragment polls itself while checking), then the report or the
    preview with the confirm button."""
    user = _user()
    c = _ctx(user)
    upload = svc.get_upload(c, upload_id)
    kw = dict(upload=upload, report=upload.report or {}, labels=rules.ACTION_LABELS,
              self_confirm=svc.approval_required(c) and upload.uploaded_by == c.actor)
    if is_htmx():
        return render_template("provider/_upload_status.html", **kw)
    return _page("provider/upload_show.html", user, **kw)


@bp.post("/upload/<upload_id>/confirm")
def upload_confirm(upload_id: str):
    """Small files are imported in the request; large ones in the background (the page polls)."""
    user = _user()
    c = _ctx(user)
    upload = svc.begin_confirm(c, upload_id)
    if not svc.inline(upload):
        commit()
        _start(user, upload.id, svc.confirm_upload)
        return redirect(url_for("provider.upload_show", upload_id=upload.id), 303)
    report = svc.confirm_upload(c, upload_id)
    commit()
    return redirect(url_for("provider.index", msg=f"已导入：新增 {report.records} 条，更正 {report.corrections} 条，"
                                                  f"撤回 {report.withdrawals} 条"), 303)


# --- one record: the form, drafts, 审核 -------------------------------------------------------------

def _form_page(user, values: dict, draft=None, error: str = "", status: int = 200):
    return _page("provider/form.html", user, status, columns=_form_columns(), values=values, draft=draft,
                 error=error, choices=CHOICES, approval=svc.approval_required(_ctx(user)))


@bp.get("/records/new")
def record_new():
    user = _user()
    svc.require_provider(_ctx(user))
    return _form_page(user, {"authority": user.authority, "region_code": user.region_code})


def _save(user, draft_id: int | None):
    form = request.form.to_dict()
    draft = None
    if draft_id is not None:
        draft = svc.get_draft(_ctx(user), draft_id)
    _again(lambda exc: _form_page(user, form, draft, exc.message, exc.status))
    saved = svc.save_draft(_ctx(user), form, draft_id, submit=request.form.get("op") == "submit")
    commit()
    if saved.state == rules.APPROVED:
        return redirect(url_for("provider.record_show", lineage_id=saved.record_id), 303)
    return redirect(url_for("provider.draft_show", draft_id=saved.id), 303)


@bp.post("/records/new")
def record_create():
    return _save(_user(), None)


@bp.get("/drafts/<int:draft_id>")
def draft_show(draft_id: int):
    user = _user()
    c = _ctx(user)
    draft = svc.get_draft(c, draft_id)
    return _form_page(user, svc.draft_form(c, draft), draft)


@bp.post("/drafts/<int:draft_id>")
def draft_save(draft_id: int):
    return _save(_user(), draft_id)


@bp.post("/drafts/<int:draft_id>/approve")
def draft_approve(draft_id: int):
    user = _user()
    record = svc.approve_draft(_ctx(user), draft_id)
    commit()
    return redirect(url_for("provider.review", msg=f"已审核发布，信息编号 {record.lineage_id}"), 303)


@bp.post("/drafts/<int:draft_id>/reject")
def draft_reject(draft_id: int):
    user = _user()
    svc.reject_draft(_ctx(user), draft_id, request.form.get("note", ""))
    commit()
    return redirect(url_for("provider.review"), 303)


# --- a published record: versions, correction, withdrawal --------------------------------------------

def _record_page(user, lineage_id: int, error: str = "", status: int = 200, form: dict | None = None):
    record, versions = svc.record_versions(_ctx(user), lineage_id)
    values = form or {k: _form_value(record, k) for k in svc.FORM_KEYS}
    return _page("provider/record.html", user, status, record=record, versions=versions, error=error, values=values,
                 columns=[c for c in _form_columns() if c[0] not in ("subject_code", "subject_name", "subject_kind",
                                                                   "category", "region_code")],
                 choices=CHOICES, status_labels=RECORD_STATUS_LABELS, channels=rules.CHANNEL_LABELS)


def _form_value(record, key: str) -> str:
    value = getattr(record, key, None)
    if key == "ordinary_procedure":
        return "" if value is None else ("是" if value else "否")
    return "" if value is None else str(value)


@bp.get("/records/<int:lineage_id>")
def record_show(lineage_id: int):
    return _record_page(_user(), lineage_id)


@bp.post("/records/<int:lineage_id>/correct")
def record_correct(lineage_id: int):
    user = _user()
    form = request.form.to_dict()
    _again(lambda exc: _record_page(user, lineage_id, exc.message, exc.status, form))
    done = svc.correct(_ctx(user), lineage_id, form, request.form.get("reason", ""))
    commit()
    return _after_change(lineage_id, done)


def _after_change(lineage_id: int, done):
    msg = "已提交审核，经另一名工作人员审核后生效" if isinstance(done, RecordDraft) else ""
    return redirect(url_for("provider.record_show", lineage_id=lineage_id, msg=msg or None), 303)


@bp.post("/records/<int:lineage_id>/withdraw")
def record_withdraw(lineage_id: int):
    user = _user()
    _again(lambda exc: _record_page(user, lineage_id, exc.message, exc.status))
    done = svc.withdraw(_ctx(user), lineage_id, request.form.get("reason", ""))
    commit()
    return _after_change(lineage_id, done)


# --- the catalogue and units overdue (湖南 第九条、第十条) -------------------------------------------

@bp.get("/catalogue")
def catalogue():
    user = _user()
    c = _ctx(user)
    return _page("provider/catalogue.html", user, entries=svc.catalogue(c), overdue=svc.overdue_units(c),
                 type_labels={k: v[0] for k, v in RECORD_TYPES.items()}, today=runtime().today())


