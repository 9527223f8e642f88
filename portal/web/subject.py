"""The credit subject's own area: all of its information, its report, who saw it, and the written
authorisations it gives (海南 第二十七条; 征信业管理条例 第十八条). Plus the public report check.

Every view: load → ask ``portal.permissions`` → call one service → render. Every read of
non-public information goes through ``services.access_log.log_private_view``.
"""
from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, make_response, redirect, render_template, request, url_for
from werkzeug.routing import BuildError

from .. import permissions
from ..domain.private_view import explanation_rows, own_values, record_rows
from ..domain.vocab import INFO_CLASS_LABELS, SCOPE_LABELS, SUBJECT_KIND_LABELS, InfoClass, category_label
from ..identity import ACR_BY_NAME, Identity, acr_satisfies, current_identity
from ..models import Subject
from ..services import indexing, my_desk
from ..services.access_log import WHO_FILTERS, access_entries, actor_for, authorisation_use_counts, log_private_view
from ..services.authorisations import authorisations_of, grant_authorisation, revoke_authorisation
from ..services.case_reads import subject_case_panel
from ..services.errors import ServiceError
from ..services.public_pages import subject_by_public_id
from ..services.reports import china_time, generate_report, issued_report, verify_report
from ..services.subject_reads import authorisation_held, authorisation_of, subject_records
from . import abort_with, commit, ctx, db, runtime
from .common import caller_ctx, no_store, on_refusal
from .hygiene import ID_MAX

bp = Blueprint("subject", __name__)

ACR_NAMES = {urn: name for name, urn in ACR_BY_NAME.items()}
NOT_FOUND = "未找到该主体。"
PER_PAGE = 50
MAX_REPORT_UPLOAD = 20 * 1024 * 1024


@bp.app_template_filter("china_time")
def _china_time(value) -> str:
    return f"{china_time(value):%Y-%m-%d %H:%M}" if value else "—"


# Nothing here may be cached by a browser or proxy; verify pages are not for search engines.
no_store(bp, robots=True)


def login_url(required_acr: str | None = None) -> str:
    """The login (``portal.web.auth``) with a return address and, for step-up, the level."""
    params = {"next": request.full_path.rstrip("?")}
    if required_acr:
        params["acr"] = ACR_NAMES.get(required_acr, required_acr)
    try:
        return url_for("auth.login", **params)
    except BuildError:  # the login blueprint is not registered (yet)
        return "/login?" + urlencode(params)


def _login_required(message: str = "查看非公开信用信息需要先登录并完成实名认证。"):
    abort(make_response(render_template("subject/login_required.html", message=message,
                                        login_url=login_url()), 401))


def _identity() -> Identity:
    identity = current_identity()
    if identity is None:
        _login_required()
    return identity


def _required_acr() -> str:
    return permissions.required_acr(runtime().profile)


def _enforce(decision: permissions.Decision) -> permissions.Decision:
    """Turn a refusal into its answer: login page, step-up redirect, 403 or 404."""
    if decision.allowed:
        return decision
    if decision.step_up:
        abort(redirect(login_url(decision.required_acr)))
    if decision.status == 401:
        _login_required(decision.reason_zh)
    abort_with(decision.status, decision.reason_zh)


def load_subject(public_id: str, *, manage: bool = False) -> tuple[Identity, Subject, permissions.Decision]:
    """Load → check for every ``/me/subjects/<public_id>/...`` view (other areas use it too):
    401 before anything is looked up, then 404 / step-up / 403. ``manage``: the subject itself
    only (``permissions.can_manage``)."""
    identity = _identity()
    subject = subject_by_public_id(db(), public_id)
    if subject is None:
        abort_with(404, NOT_FOUND)
    today = runtime().today()
    if manage:
        decision = permissions.can_manage(identity, subject, session=db(), required=_required_acr())
    else:
        decision = permissions.can_view_private(identity, subject, today, session=db(), required=_required_acr())
    return identity, subject, _enforce(decision)


_load = load_subject  # the earlier name, still imported by portal.web.cases


def _log(identity: Identity, subject: Subject, decision: permissions.Decision, what: str) -> None:
    log_private_view(ctx(), identity, subject, decision.purpose, decision.via, decision.authorisation_id,
                     what=what)
    commit()


def _header(subject: Subject, decision: permissions.Decision) -> dict:
    region = runtime().profile.region(subject.region_code)
    authorisation = authorisation_held(db(), decision.authorisation_id)
    return {"subject": subject, "decision": decision, "authorisation": authorisation,
            "kind_label": SUBJECT_KIND_LABELS.get(subject.kind, subject.kind),
            "category_label": category_label(subject.category), "region": region,
            "via_label": permissions.VIA_LABELS.get(decision.via, ""),
            "can_manage": decision.via in (permissions.Via.SELF, permissions.Via.LEGAL_REP)}


def _render_me(identity: Identity, error: ServiceError | None = None) -> str:
    today = runtime().today()
    entries = permissions.subjects_for(identity, db(), today)
    caller = caller_ctx(actor_for(identity), identity)
    desk = my_desk.dashboard(caller, identity)
    return render_template("subject/me.html", identity=identity, entries=entries, desk=desk,
                           contact=my_desk.contact_settings(caller) if desk["manages"] else None, error=error,
                           via_labels=permissions.VIA_LABELS, kind_labels=SUBJECT_KIND_LABELS,
                           step_up_url=None if acr_satisfies(identity.acr, _required_acr())
                           else login_url(_required_acr()))


@bp.get("/me")
def me():
    return _render_me(_identity())


@bp.app_template_global("my_unread")
def _my_unread() -> int:
    """The unread count beside "我的" in the header (0 for no login or a third party)."""
    identity = current_identity()
    return my_desk.unread_count(caller_ctx(actor_for(identity), identity), identity) if identity else 0


@bp.get("/me/notices/<int:note_id>")
def notice_open(note_id: int):
    """Opening a notice marks it read and goes to its case (or back to the list)."""
    identity = _identity()
    target = my_desk.open_notice(caller_ctx(actor_for(identity), identity), note_id)
    commit()
    if target["case_no"]:
        return redirect(url_for("cases.case_show", public_id=target["public_id"], case_no=target["case_no"]), 303)
    return redirect(url_for("subject.me") + f"#notice-{note_id}", 303)


@bp.post("/me/notify")
def notify_settings():
    """How the login is told outside the portal: e-mail (default), SMS, or not at all."""
    identity = _identity()
    on_refusal(lambda exc: (_render_me(identity, exc), exc.status))
    my_desk.set_notify_contact(caller_ctx(actor_for(identity), identity), request.form.get("channel", "")[:10],
                               request.form.get("email", "")[:300], request.form.get("phone", "")[:40])
    commit()
    return redirect(url_for("subject.me") + "#notify", 303)


@bp.post("/me/notices/read")
def notices_read():
    """Mark one notice (``id``) or all of the login's notices read (a service verb)."""
    identity = _identity()
    raw = (request.form.get("id") or "").strip()
    note_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 12 and int(raw) <= ID_MAX else None
    if raw and note_id is None:
        abort_with(404, "未找到该通知。")
    my_desk.mark_notices_read(caller_ctx(actor_for(identity), identity), note_id)
    commit()
    return redirect(url_for("subject.me") + "#notices", 303)


@bp.get("/me/subjects/<public_id>")
def show(public_id: str):
    identity, subject, decision = load_subject(public_id)
    rt = runtime()
    today = rt.today()
    records = subject_records(db(), subject)
    own = own_values(subject)
    rows = record_rows(permissions.visible_records(decision, records, today, runtime().profile), today,
                       runtime().profile, own)
    grade = indexing.latest_grade(db(), subject.id, today)
    header = _header(subject, decision)
    # the objection / repair panel, for the subject itself or its legal representative only
    panel = subject_case_panel(ctx(), subject, rows) if header["can_manage"] else None
    from ..services.grading import rolling_preview  # 湖南医保 第十六、十九条: dynamic, preliminary

    preview = rolling_preview(ctx(), subject.id)
    from ..services.grading_cycle import subject_results  # 湖南医保 第十九条: 初评, objection window

    grade_results = (subject_results(caller_ctx(actor_for(identity), identity), subject)
                     if header["can_manage"] else [])
    _log(identity, subject, decision, "page")
    return render_template("subject/show.html", **header, rows=rows, grade=grade, panel=panel,
                           groups=_by_class(rows),
                           open_cases=[c for c in panel["cases"] if c["closed_on"] is None] if panel else [],
                           preview=preview, grade_results=grade_results, preview_explanation=explanation_rows(
                               [e.__dict__ for e in preview.explanation]) if preview and decision.full else [],
                           grade_info=rt.profile.grade(grade.letter) if grade else None,
                           explanation=explanation_rows(grade.explanation, own) if grade and decision.full else [],
                           class_labels=INFO_CLASS_LABELS, scope_labels=SCOPE_LABELS)


# Severe first: what the subject may want to act on is at the top of the page.
CLASS_ORDER = (InfoClass.SERIOUS, InfoClass.DISHONEST, InfoClass.POSITIVE, InfoClass.BASIC)


def _by_class(rows) -> list[dict]:
    """The record rows grouped by information class (湖南 第十一条), for the summary and the
    collapsible groups of ``subject/show.html``."""
    groups = [{"cls": str(c), "label": INFO_CLASS_LABELS[c], "rows": [r for r in rows if r.current.info_class == c]}
              for c in CLASS_ORDER]
    other = [r for r in rows if r.current.info_class not in CLASS_ORDER]
    if other:
        groups.append({"cls": "other", "label": "其他信息", "rows": other})
    return [g for g in groups if g["rows"]]


@bp.post("/me/subjects/<public_id>/report.pdf")
def report_pdf(public_id: str):
    """Issue a numbered report: a POST (CSRF-checked), because every report is a new number and
    an access-log row; a GET, even a cross-site top-level navigation, must not create one. The
    same report is downloadable again by its number (``issued_report_pdf``, Content-Location)."""
    identity, subject, decision = load_subject(public_id)
    rt = runtime()
    report, pdf = generate_report(ctx(), subject, identity, decision, rt.settings["PORTAL_BASE_URL"])
    commit()
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="credit-report-{report.report_no}.pdf"',
        "Content-Location": url_for("subject.issued_report_pdf", public_id=subject.public_id,
                                    report_no=report.report_no), "Cache-Control": "no-store"})


@bp.get("/me/subjects/<public_id>/reports/<report_no>.pdf")
def issued_report_pdf(public_id: str, report_no: str):
    """A report issued earlier, by its number: the same bytes, to the person who had it issued
    (``reports.issued_report``: one access-log row, no new report)."""
    identity, subject, decision = load_subject(public_id)
    report, pdf = issued_report(ctx(), subject, identity, decision, report_no)
    commit()
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="credit-report-{report.report_no}.pdf"',
        "Cache-Control": "no-store"})


@bp.get("/me/subjects/<public_id>/report.pdf")
def report_page(public_id: str):
    """Old links and the login's way back: the subject page, where the report is issued."""
    return redirect(url_for("subject.show", public_id=public_id), 303)


@bp.get("/me/subjects/<public_id>/access-log")
def access_log(public_id: str):
    identity, subject, decision = load_subject(public_id, manage=True)
    try:
        page = max(1, min(int(request.args.get("page", 1)), 10_000))
    except ValueError:
        page = 1
    who = request.args.get("who", "all")
    who = who if who in WHO_FILTERS else "all"
    entries, total = access_entries(db(), subject.id, page, PER_PAGE, who=who, profile=runtime().profile)
    _log(identity, subject, decision, "access_log")
    pages = max(1, -(-total // PER_PAGE))
    return render_template("subject/access_log.html", **_header(subject, decision), entries=entries,
                           total=total, page=page, pages=pages, via_labels=permissions.VIA_LABELS,
                           who_filter=who, who_filters=WHO_FILTERS)


def _form_defaults(today: date) -> dict:
    return {"grantee_kind": "org", "grantee_name": "", "grantee_code": "", "purpose": "",
            "info_classes": [c.value for c in InfoClass], "include_non_public": True,
            "valid_from": today.isoformat(), "valid_until": (today + timedelta(days=364)).isoformat()}


def _render_authorisations(subject: Subject, decision, form: dict, error: ServiceError | None = None,
                           status: int = 200):
    session = db()
    today = runtime().today()
    auths = authorisations_of(ctx(), subject)
    return render_template("subject/authorisations.html", **_header(subject, decision), auths=auths,
                           states={a.id: a.state(today) for a in auths},
                           uses=authorisation_use_counts(session, subject.id), form=form, error=error,
                           class_labels=INFO_CLASS_LABELS, kind_labels=SUBJECT_KIND_LABELS,
                           scope_labels=SCOPE_LABELS), status


@bp.get("/me/subjects/<public_id>/authorisations")
def authorisations(public_id: str):
    identity, subject, decision = load_subject(public_id, manage=True)
    _log(identity, subject, decision, "authorisations")
    return _render_authorisations(subject, decision, _form_defaults(runtime().today()))


def _date(name: str) -> date:
    try:
        return date.fromisoformat((request.form.get(name) or "").strip())
    except ValueError:
        raise ServiceError("请填写有效日期（YYYY-MM-DD）", name) from None


@bp.post("/me/subjects/<public_id>/authorisations")
def grant(public_id: str):
    identity, subject, decision = load_subject(public_id, manage=True)
    form = {"grantee_kind": request.form.get("grantee_kind", ""),
            "grantee_name": request.form.get("grantee_name", "")[:200],
            "grantee_code": request.form.get("grantee_code", "")[:40],
            "purpose": request.form.get("purpose", "")[:400],
            "info_classes": request.form.getlist("info_classes"),
            "include_non_public": request.form.get("include_non_public") == "1",
            "valid_from": request.form.get("valid_from", "")[:10], "valid_until": request.form.get("valid_until", "")[:10]}
    on_refusal(lambda exc: _render_authorisations(subject, decision, form, exc, 400))
    grant_authorisation(caller_ctx(actor_for(identity), identity), subject, grantee_kind=form["grantee_kind"],
                        grantee_code=form["grantee_code"], grantee_name=form["grantee_name"],
                        purpose=form["purpose"], info_classes=form["info_classes"],
                        include_non_public=form["include_non_public"], valid_from=_date("valid_from"),
                        valid_until=_date("valid_until"))
    commit()
    return redirect(url_for("subject.authorisations", public_id=subject.public_id), 303)


@bp.post("/me/subjects/<public_id>/authorisations/<int:auth_id>/revoke")
def revoke(public_id: str, auth_id: int):
    identity, subject, decision = load_subject(public_id, manage=True)
    auth = authorisation_of(db(), subject, auth_id)
    if auth is None:
        abort_with(404, "未找到该授权。")
    on_refusal(lambda exc: _render_authorisations(subject, decision, _form_defaults(runtime().today()), exc,
                                                  exc.status))
    revoke_authorisation(caller_ctx(actor_for(identity), identity), auth, request.form.get("reason", ""))
    commit()
    return redirect(url_for("subject.authorisations", public_id=subject.public_id), 303)


@bp.route("/verify/report/<report_no>", methods=["GET", "POST"])
def verify(report_no: str):
    """Public: is this report genuine? Only number, subject name, time and hash are shown."""
    token = (request.values.get("t") or "")[:64]
    pdf = None
    if request.method == "POST":
        upload = request.files.get("file")
        pdf = upload.read(MAX_REPORT_UPLOAD + 1) if upload else b""
    result = verify_report(ctx(), report_no, token, pdf)
    status = 200 if result.genuine else 404
    return render_template("subject/verify_report.html", result=result, token=token), status
