"""Staff area: login (password + TOTP), objection and repair queues with due dates, the case page
with the actions the step machine allows for the staff member's role, requests for more
material, the case documents, and the holiday table (administrators)."""
from __future__ import annotations

import io
import re
from datetime import date

from flask import Blueprint, Response, abort, redirect, render_template, request, send_file, session, url_for
from sqlalchemy import select

from ..domain import cases as engine
from ..domain.holiday_notice import NoticeError, parse_notice, table_rows
from ..domain.statutory import statutory_holidays
from ..domain.vocab import RECORD_STATUS_LABELS
from ..domain.workdays import PACKAGE_YEARS, fallback_warning
from ..identity import _rotate
from ..models import Case, CreditRecord, Evidence, Notification, StaffUser, Subject
from ..services import calendar as calendar_svc
from ..services import case_documents as docs_svc
from ..services import cases as svc
from ..services import staff as staff_svc
from ..services.access_log import log_staff_view
from ..services.errors import ServiceError
from ..services.evidence import evidence_path
from ..models.base import utcnow
from . import abort_with, commit, ctx, db, runtime
from .cases import event_label
from .ratelimit import client_address

bp = Blueprint("staff", __name__, url_prefix="/staff")
SESSION_KEY = "staff_id"
KIND_BY_QUEUE = {"objections": svc.OBJECTION, "repairs": svc.REPAIR}
ROLE_LABELS = engine.ROLE_LABELS | {"admin": "系统管理员", "system": "系统"}
HANDLING = "异议/信用修复办理"  # the purpose recorded when staff read a case


@bp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def current_staff() -> StaffUser | None:
    staff_id = session.get(SESSION_KEY)
    user = db().get(StaffUser, staff_id) if isinstance(staff_id, int) else None
    return user if user is not None and user.active else None


def _require() -> StaffUser:
    user = current_staff()
    if user is None:
        abort(redirect(url_for("staff.login", next=request.path)))
    return user


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    status = 200
    if request.method == "POST":
        try:
            user = staff_svc.authenticate(ctx("staff-login"), request.form.get("username", ""),
                                          request.form.get("password", ""), request.form.get("code", ""),
                                          client=client_address())
        except ServiceError as exc:
            commit()  # failed attempts and the back-off must persist
            error, status = exc.message, exc.status
            if isinstance(exc, staff_svc.LoginThrottled):
                response = Response(render_template("staff/login.html", error=error), status)
                response.headers["Retry-After"] = str(exc.retry_after)
                return response
        else:
            commit()
            session.clear()
            _rotate()
            session[SESSION_KEY] = user.id
            target = request.args.get("next", "")
            return redirect(target if target.startswith("/staff/") and not target.startswith("//")
                            else url_for("staff.objections"))
    return render_template("staff/login.html", error=error), status


@bp.post("/logout")
def logout():
    session.clear()
    _rotate()
    return redirect(url_for("staff.login"))


def _calendar():
    return runtime().calendar(db())


@bp.get("/objections", endpoint="objections")
@bp.get("/repairs", endpoint="repairs")
def queue():
    user = _require()
    name = request.path.rsplit("/", 1)[-1]
    kind = KIND_BY_QUEUE[name]
    status = request.args.get("status", "open")
    q = select(Case, Subject).join(Subject, Subject.id == Case.subject_id).where(Case.kind == kind)
    if status == "open":
        q = q.where(Case.closed_on.is_(None))
    elif status == "closed":
        q = q.where(Case.closed_on.is_not(None))
    state = request.args.get("state", "")
    if state:
        q = q.where(Case.state == state)
    number = (request.args.get("q") or "").strip()[:40]
    if number:
        q = q.where(Case.case_no.contains(number) | Subject.name.contains(number))
    rows = db().execute(q.order_by(Case.due_on.is_(None), Case.due_on, Case.id).limit(500)).all()
    today, cal = runtime().today(), _calendar()
    machine = svc.machine_for(runtime().profile, kind)
    items = []
    for case, subject in rows:
        if not staff_svc.can_see(user, case):
            continue
        overdue = case.open and engine.is_overdue(case.due_on, today)
        soon = case.open and engine.due_soon(case.due_on, today, cal)
        if request.args.get("due") == "overdue" and not overdue:
            continue
        if request.args.get("due") == "soon" and not soon:
            continue
        items.append({"case": case, "subject": subject, "overdue": overdue, "soon": soon,
                      "label": _step_label(machine, case), "warning": svc.deadline_warning(case, cal),
                      "mine": staff_svc.acting_role(user, case, runtime().profile) is not None})
    notes = list(db().execute(select(Notification).where(Notification.staff_id == user.id,
                                                         Notification.read_at.is_(None))
                              .order_by(Notification.id.desc()).limit(20)).scalars())
    return render_template("staff/queue.html", user=user, kind=kind, name=name, items=items, machine=machine,
                           args=request.args, kind_label=svc.KIND_LABELS[kind], role_labels=ROLE_LABELS,
                           notes=notes, is_admin=staff_svc.is_admin(user))


@bp.post("/notifications/read")
def notifications_read():
    """Mark the staff member's own notifications read."""
    user = _require()
    for note in db().execute(select(Notification).where(Notification.staff_id == user.id,
                                                        Notification.read_at.is_(None))).scalars():
        note.read_at = utcnow()
    commit()
    return redirect(request.form.get("back") if (request.form.get("back") or "").startswith("/staff/")
                    else url_for("staff.objections"), 303)


def _step_label(machine, case: Case) -> str:
    if case.state == svc.WITHDRAWN:
        return "申请人已撤回"
    return machine.step(case.state).label


def _load_case(user: StaffUser, case_no: str) -> Case:
    case = db().execute(select(Case).where(Case.case_no == case_no[:20])).scalar_one_or_none()
    if case is None or not staff_svc.can_see(user, case):
        abort_with(404, "未找到该案件。")
    from ..services.case_sweep import sweep_case  # a window that passed unused closes the case when read

    if sweep_case(ctx("system"), case):
        commit()
    return case


def _render_case(user: StaffUser, case: Case, error: str | None = None, status: int = 200):
    profile = runtime().profile
    machine = svc.machine_for(profile, case.kind)
    role = staff_svc.acting_role(user, case, profile)
    step = machine.step(case.state) if case.open else None
    actions = [step.transition(a) for a in engine.allowed_actions(machine, svc.state_of(case), role)] \
        if role and step else []
    record = db().execute(select(CreditRecord).where(CreditRecord.lineage_id == case.record_lineage_id,
                                                     CreditRecord.is_current.is_(True))).scalar_one_or_none()
    today, cal = runtime().today(), _calendar()
    ground = profile.objection.ground(case.ground) if case.ground else None
    return render_template(
        "staff/case.html", user=user, case=case, machine=machine, step=step, role=role, actions=actions,
        record=record, subject=db().get(Subject, case.subject_id), ground=ground, error=error,
        overdue=case.open and engine.is_overdue(case.due_on, today),
        soon=case.open and engine.due_soon(case.due_on, today, cal),
        warning=svc.deadline_warning(case, cal), is_admin=staff_svc.is_admin(user),
        timeline=[(ev, event_label(machine, ev)) for ev in case.events],
        documents=docs_svc.available_documents(ctx(f"staff:{user.username}"), case),
        upheld_steps=svc.UPHELD_STEPS, role_labels=ROLE_LABELS, status_labels=RECORD_STATUS_LABELS,
        step_label=_step_label(machine, case),
        state_labels={s.id: s.label for s in machine.steps} | {svc.WITHDRAWN: "申请人已撤回"},
        queue="staff.objections" if case.kind == svc.OBJECTION else "staff.repairs"), status


def _log(user: StaffUser, case: Case, what: str, ref: str = "") -> None:
    log_staff_view(ctx(f"staff:{user.username}"), user.username, user.display_name, case.subject_id, HANDLING,
                   what=what, ref=ref or f"case:{case.case_no}")


@bp.get("/cases/<case_no>")
def case_show(case_no: str):
    """The case with the subject's non-public record and statement: a logged read."""
    user = _require()
    case = _load_case(user, case_no)
    _log(user, case, "case")
    commit()
    return _render_case(user, case)


def _acting(user: StaffUser, case: Case) -> str:
    role = staff_svc.acting_role(user, case, runtime().profile)
    if role is None:
        abort_with(403, "当前环节不由您办理。")
    return role


def _post(case_no: str, do):
    user = _require()
    case = _load_case(user, case_no)
    role = _acting(user, case)
    try:
        do(ctx(f"staff:{user.username}"), case, role)
    except ServiceError as exc:
        db().rollback()
        return _render_case(user, _load_case(user, case_no), exc.message, exc.status)
    commit()
    return redirect(url_for("staff.case_show", case_no=case.case_no))


@bp.post("/cases/<case_no>/act")
def case_act(case_no: str):
    form = request.form
    changes = {"title": form["new_title"].strip()} if form.get("new_title", "").strip() else None
    effect = form.get("effect") or None

    def do(c, case, role):
        svc.act(c, case, form.get("action", ""), role=role, reason=form.get("reason", ""), changes=changes,
                effect=effect)

    return _post(case_no, do)


@bp.post("/cases/<case_no>/extend")
def case_extend(case_no: str):
    return _post(case_no, lambda c, case, role: svc.extend_case(c, case, role=role,
                                                               reason=request.form.get("reason", ""),
                                                               approver=request.form.get("approver", "")[:60],
                                                               approver_code=request.form.get("approver_code", "")[:12]))


@bp.post("/cases/<case_no>/materials")
def case_materials(case_no: str):
    """Ask the applicant for more material (补正材料): an explicit, notified case event."""
    return _post(case_no, lambda c, case, role: svc.request_materials(c, case, role=role,
                                                                     reason=request.form.get("reason", "")))


@bp.get("/cases/<case_no>/documents/<kind>.pdf")
def case_document(case_no: str, kind: str):
    """The case's PDFs for staff who may see the case; a logged read."""
    user = _require()
    case = _load_case(user, case_no)
    c = ctx(f"staff:{user.username}")
    try:
        doc = docs_svc.case_document(c, case, kind[:40], base_url=runtime().settings["PORTAL_BASE_URL"])
    except ServiceError as exc:
        db().rollback()
        abort_with(exc.status if exc.status in (404, 409) else 400, exc.message)
    _log(user, case, "case_document", f"document:{doc.doc_no}")
    commit()
    return Response(doc.pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{docs_svc.download_name(doc)}"'})


@bp.post("/cases/<case_no>/clock")
def case_clock(case_no: str):
    def do(c, case, role):
        if request.form.get("op") == "resume":
            svc.resume_clock(c, case, role=role)
        else:
            svc.stop_clock(c, case, role=role, reason=request.form.get("reason", ""))

    return _post(case_no, do)


@bp.get("/cases/<case_no>/evidence/<int:evidence_id>")
def evidence_file(case_no: str, evidence_id: int):
    user = _require()
    case = _load_case(user, case_no)
    row = db().get(Evidence, evidence_id)
    if row is None or row.case_id != case.id:
        abort_with(404, "文件不存在。")
    path = evidence_path(runtime().settings["PORTAL_VAR_DIR"], row)
    if not path.is_file():
        abort_with(404, "文件不存在。")
    _log(user, case, "evidence", f"case:{case.case_no}:evidence:{row.id}")
    commit()
    data = path.read_bytes()  # at most MAX_BYTES; no open handle outlives the request
    return send_file(io.BytesIO(data), mimetype=row.mime, as_attachment=True, download_name=row.original_name)


# --- the holiday table (administrators) ------------------------------------------------------------

def _require_admin() -> StaffUser:
    user = _require()
    if not staff_svc.is_admin(user):
        abort_with(403, "只有系统管理员可以维护节假日表。")
    return user


def _calendar_page(user: StaffUser, error: str | None = None, status: int = 200, preview=None, text: str = "",
                   year_text: str = ""):
    today = runtime().today()
    years = [today.year, today.year + 1]
    reviewed = calendar_svc.reviewed_years(db())
    rows = {y: calendar_svc.overrides_for(db(), y) for y in years}
    statutory = {y: statutory_holidays(y) for y in years if y not in PACKAGE_YEARS}
    missing = {y: calendar_svc.missing_statutory_days(db(), y) for y in statutory}
    return render_template("staff/calendar.html", user=user, years=years, rows=rows, reviewed=reviewed,
                           covered={y: y in PACKAGE_YEARS for y in years}, error=error, role_labels=ROLE_LABELS,
                           statutory=statutory, missing=missing, preview=preview,
                           preview_rows=table_rows(preview) if preview else [], notice_text=text,
                           year_text=year_text,
                           warning={y: fallback_warning([y]) for y in years if y not in PACKAGE_YEARS
                                    and y not in reviewed}, is_admin=True), status


@bp.get("/calendar")
def calendar_page():
    return _calendar_page(_require_admin())


def _form_year(raw: str | None, required: bool = True) -> int | None:
    raw = (raw or "").strip()
    if not raw and not required:
        return None
    if not re.fullmatch(r"\d{1,4}", raw):
        raise ServiceError("请填写年份（2000–2100）", "year")
    return int(raw)


@bp.post("/calendar")
def calendar_save():
    """One day of the State Council's holiday notice (holiday or make-up workday), a pasted
    notice (preview, then confirm: every line parsed or the text refused), or a year marked as
    entered completely; open cases' deadlines are counted again."""
    user = _require_admin()
    c = ctx(f"staff:{user.username}")
    form = request.form
    op = form.get("op")
    text, year_text = form.get("notice", "") or "", form.get("notice_year", "") or ""
    try:
        if op == "review":
            calendar_svc.mark_year_reviewed(c, _form_year(form.get("year")), form.get("note", ""))
        elif op in ("notice_preview", "notice_import"):
            try:
                notice = parse_notice(text, _form_year(year_text, required=False))
            except NoticeError as exc:
                raise ServiceError(str(exc), "notice") from None
            if op == "notice_preview":
                return _calendar_page(user, preview=notice, text=text, year_text=year_text)
            note = " ".join(p for p in (notice.title, notice.doc_no) if p)
            calendar_svc.import_notice(c, notice, note[:calendar_svc.NOTE_LIMIT])
        else:
            try:
                day = date.fromisoformat((form.get("day") or "").strip())
            except ValueError:
                raise ServiceError("请填写有效日期（YYYY-MM-DD）", "day") from None
            if form.get("kind") not in ("holiday", "workday"):
                raise ServiceError("请选择放假或调休上班", "kind")
            calendar_svc.set_holiday_override(c, day, form.get("kind") == "workday", form.get("note", ""))
    except ServiceError as exc:
        db().rollback()
        return _calendar_page(user, exc.message, exc.status, text=text[:20_000], year_text=year_text[:10])
    commit()
    return redirect(url_for("staff.calendar_page"), 303)


@bp.route("/paper", methods=["GET", "POST"])
def paper_application():
    """Register an application received on paper or at a window (海南 第三十八条; 湖南医保 第十七条):
    its real receipt date and a scan of the form; deadlines count from that date."""
    from datetime import date as _date

    from ..services.paper import CHANNELS, register_paper_application
    from ..services.records import current_version
    from ..services.subjects import find_subject_by_code

    user = _require()
    profile = runtime().profile
    error, status = None, 200
    if request.method == "POST":
        form = request.form
        c = ctx(f"staff:{user.username}")
        try:
            try:
                received = _date.fromisoformat(form.get("received_on", "")[:10])
                lineage = int(form.get("lineage_id", ""))
            except ValueError:
                raise ServiceError("请填写收到日期（YYYY-MM-DD）和信息编号", "received_on") from None
            subject = find_subject_by_code(c, form.get("subject_code", "")[:40], form.get("subject_kind", "org"))
            record = current_version(c, lineage)
            if subject is None or record is None:
                raise ServiceError("未找到该主体或信息", "record", 404)
            upload = request.files.get("scan")
            scan = (upload.filename or "scan", upload.read()) if upload else None
            kind = form.get("kind", "")
            role = next((r for r in user.roles if r in ("department", "operator", "provider")), "")
            case = register_paper_application(c, subject, record, kind=kind, received_on=received,
                                              channel=form.get("channel", ""), staff=user, role=role,
                                              applicant_name=form.get("applicant_name", ""),
                                              statement=form.get("statement", ""), ground=form.get("ground", ""),
                                              scan=scan, var_dir=runtime().settings["PORTAL_VAR_DIR"])
        except ServiceError as exc:
            db().rollback()
            error, status = exc.message, exc.status
        else:
            commit()
            return redirect(url_for("staff.case_show", case_no=case.case_no))
    return render_template("staff/paper.html", user=user, channels=CHANNELS, grounds=profile.objection.grounds,
                           error=error), status
