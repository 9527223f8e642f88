"""Staff area: login (password + TOTP), objection and repair queues with due dates, the case page
with the actions the step machine allows for the staff member's role, requests for more
material, the case documents, and the holiday table (administrators)."""
from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, Response, abort, has_request_context, redirect, render_template, request, session, url_for

from ..domain import cases as engine
from ..domain import permissions as rules
from ..domain.holiday_notice import NoticeError, parse_notice, table_rows
from ..domain.statutory import statutory_holidays
from ..domain.vocab import RECORD_STATUS_LABELS
from ..domain.workdays import PACKAGE_YEARS, fallback_warning
from ..identity import _rotate
from ..models import Case, StaffUser
from ..services import calendar as calendar_svc
from ..services import case_documents as docs_svc
from ..services import cases as svc
from ..services import holiday_table
from ..services import staff as staff_svc
from ..services import staff_desk as desk
from ..services.case_reads import case_record, read_case
from ..services.errors import ServiceError
from ..services.repair_notice import timeline_labels, waived_actions
from ..services.search import parse_page
from ..services.staff_guard import LOGIN_ENDED, LoginEnded
from . import abort_with, commit, ctx, db, runtime
from .cases import event_label
from .common import caller_ctx, no_store, on_refusal, send_case_document, send_evidence
from .ratelimit import client_address

bp = Blueprint("staff", __name__, url_prefix="/staff")
SESSION_KEY = "staff_id"
KIND_BY_QUEUE = {"objections": svc.OBJECTION, "repairs": svc.REPAIR}
ROLE_LABELS = engine.ROLE_LABELS | rules.STAFF_ROLE_LABELS | {"system": "系统"}
no_store(bp)


@bp.app_context_processor
def _staff_globals():
    """Every page knows whether it is a staff page (no citizen login, 我的 or chatbot there) and
    the staff role labels the staff nav shows."""
    return {"staff_page": has_request_context() and request.path.startswith("/staff"),
            "staff_role_labels": ROLE_LABELS}


@bp.app_template_filter("combine_page")
def _combine_page(args: dict, page: int) -> dict:
    """The query string of a queue page with another page number (filters kept)."""
    return {**args, "page": page}


def current_staff(pending_ok: bool = False) -> StaffUser | None:
    """The logged-in staff member. One whose password someone else set (an administrator's
    reset, the generated first one) is sent to 修改密码 first (``pending_ok``: that page)."""
    user = desk.staff_account(db(), session.get(SESSION_KEY))
    if user is not None and user.must_change_password and not pending_ok:
        abort(redirect(url_for("staff_password.form"), 303))
    return user


def _require() -> StaffUser:
    user = current_staff()
    if user is None:
        abort(redirect(url_for("staff.login", next=request.path)))
    return user


def _ctx(user: StaffUser):
    return caller_ctx(f"staff:{user.username}", user)


@bp.route("/login", methods=["GET", "POST"])
def login():
    # after a write refused because the account or login ended (web.staff_ended): say why
    error = LOGIN_ENDED if request.method == "GET" and request.args.get("ended") == "1" else None
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
            if user.must_change_password:  # before anything else
                return redirect(url_for("staff_password.form"))
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
    """The staff member's queue: only the cases they may see, a page at a time."""
    user = _require()
    name = request.path.rsplit("/", 1)[-1]
    kind = KIND_BY_QUEUE[name]
    filters = desk.QueueFilters.from_args(request.args)
    result = desk.list_cases_for(_ctx(user), user, kind, filters, parse_page(request.args.get("page")),
                                 calendar=_calendar())
    return render_template("staff/queue.html", user=user, kind=kind, name=name, items=result.items,
                           result=result, machine=svc.machine_for(runtime().profile, kind), args=request.args,
                           kind_label=svc.KIND_LABELS[kind], role_labels=ROLE_LABELS, filters=filters,
                           regions=[r for r in runtime().profile.regions if staff_svc.in_region(user, r.code)],
                           units=desk.queue_units(_ctx(user), user, kind),
                           notes=desk.unread_notifications(db(), user), is_admin=staff_svc.is_admin(user))


@bp.get("/<any(objections, repairs):name>.csv")
def queue_csv(name: str):
    """The filtered queue as CSV (UTF-8 with BOM for Excel); an audited read."""
    user = _require()
    kind = KIND_BY_QUEUE[name]
    data, _ = desk.export_csv(_ctx(user), user, kind, desk.QueueFilters.from_args(request.args),
                              calendar=_calendar())
    commit()
    filename = f"{name}-{runtime().today():%Y%m%d}.csv"
    return Response(data, mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename={filename}",
        "Content-Type": "text/csv; charset=utf-8"})


@bp.get("/<any(objections, repairs):name>/in-time")
def queue_in_time(name: str):
    """Cases decided per month and how many within every time limit (the last 12 months)."""
    user = _require()
    kind = KIND_BY_QUEUE[name]
    return render_template("staff/in_time.html", user=user, name=name, kind_label=svc.KIND_LABELS[kind],
                           months=desk.decided_in_time_by_month(_ctx(user), user, kind),
                           is_admin=staff_svc.is_admin(user))


@bp.post("/notifications/read")
def notifications_read():
    """Mark the staff member's own notifications read (an audited service verb)."""
    user = _require()
    desk.mark_notifications_read(_ctx(user))
    commit()
    return redirect(request.form.get("back") if (request.form.get("back") or "").startswith("/staff/")
                    else url_for("staff.objections"), 303)


def _load_case(user: StaffUser, case_no: str) -> Case:
    case = desk.staff_case(_ctx(user), user, case_no)
    if case is None:
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
    actions = waived_actions(machine, case, actions)
    state_labels = {s.id: s.label for s in machine.steps} | {svc.WITHDRAWN: "申请人已撤回"}  # a notice not held: no "公示期满无异议"
    today, cal = runtime().today(), _calendar()
    ground = profile.objection.ground(case.ground) if case.ground else None
    return render_template(
        "staff/case.html", user=user, case=case, machine=machine, step=step, role=role, actions=actions,
        record=case_record(db(), case), subject=desk.case_subject(db(), case), ground=ground, error=error,
        overdue=case.open and engine.is_overdue(case.due_on, today),
        soon=case.open and engine.due_soon(case.due_on, today, cal),
        warning=svc.deadline_warning(case, cal), is_admin=staff_svc.is_admin(user),
        recused=role is None and step is not None and desk.recused_from_step(user, case),
        timeline=timeline_labels(case.events, lambda ev: event_label(machine, ev),
                                 lambda state: state_labels.get(state, state)),
        documents=docs_svc.available_documents(_ctx(user), case),
        upheld_steps=svc.UPHELD_STEPS, role_labels=ROLE_LABELS, status_labels=RECORD_STATUS_LABELS,
        step_label=desk.step_label(machine, case),
        state_labels=state_labels,
        queue="staff.objections" if case.kind == svc.OBJECTION else "staff.repairs"), status


@bp.get("/cases/<case_no>")
def case_show(case_no: str):
    """The case with the subject's non-public record and statement: a logged read."""
    user = _require()
    case = _load_case(user, case_no)
    read_case(_ctx(user), case)
    commit()
    return _render_case(user, case)


def _acting(user: StaffUser, case: Case) -> str:
    role = staff_svc.acting_role(user, case, runtime().profile)
    if role is None:
        abort_with(403, "当前环节不由您办理。")
    return role


def _post(case_no: str, do):
    """A step on the case: the verb checks the staff member's role itself; a refusal shows the
    case page again with the message."""
    user = _require()
    case = _load_case(user, case_no)
    role = _acting(user, case)
    on_refusal(lambda exc: _render_case(user, _load_case(user, case_no), exc.message, exc.status))
    do(_ctx(user), case, role)
    commit()
    return redirect(url_for("staff.case_show", case_no=case.case_no))


@bp.post("/cases/<case_no>/act")
def case_act(case_no: str):
    form = request.form
    changes = {"title": form["new_title"].strip()} if form.get("new_title", "").strip() else None
    effect = form.get("effect") or None

    def do(c, case, role):
        svc.act(c, case, form.get("action", ""), role=role, reason=form.get("reason", ""), changes=changes,
                effect=effect, confirmed=form.get("confirm") == "yes")

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
    return send_case_document(_ctx(user), _load_case(user, case_no), kind)


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
    return send_evidence(_ctx(user), _load_case(user, case_no), evidence_id,
                         inline=request.args.get("view") == "inline")


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
    c = caller_ctx(f"staff:{user.username}", user)  # the holiday-table verbs check the caller themselves
    form = request.form
    op = form.get("op")
    text, year_text = form.get("notice", "") or "", form.get("notice_year", "") or ""
    try:
        if op == "review":
            holiday_table.mark_year_reviewed(c, _form_year(form.get("year")), form.get("note", ""))
        elif op in ("notice_preview", "notice_import"):
            try:
                notice = parse_notice(text, _form_year(year_text, required=False))
            except NoticeError as exc:
                raise ServiceError(str(exc), "notice") from None
            if op == "notice_preview":
                return _calendar_page(user, preview=notice, text=text, year_text=year_text)
            note = " ".join(p for p in (notice.title, notice.doc_no) if p)
            holiday_table.import_notice(c, notice, note[:holiday_table.NOTE_LIMIT])
        else:
            try:
                day = date.fromisoformat((form.get("day") or "").strip())
            except ValueError:
                raise ServiceError("请填写有效日期（YYYY-MM-DD）", "day") from None
            if form.get("kind") not in ("holiday", "workday"):
                raise ServiceError("请选择放假或调休上班", "kind")
            holiday_table.set_holiday_override(c, day, form.get("kind") == "workday", form.get("note", ""))
    except ServiceError as exc:
        if isinstance(exc, LoginEnded):
            raise  # web.staff_ended: to the login page
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
    from .progress import remember_code

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
            if isinstance(exc, LoginEnded):
                raise  # web.staff_ended: to the login page
            db().rollback()
            error, status = exc.message, exc.status
        else:
            commit()
            remember_code(case)  # for the paper receipt handed to the applicant
            return redirect(url_for("staff.case_show", case_no=case.case_no))
    return render_template("staff/paper.html", user=user, channels=CHANNELS, grounds=profile.objection.grounds,
                           error=error), status
