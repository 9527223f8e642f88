"""List procedures (issue 16): the staff pages of the serious-dishonesty and red lists (queue,
proposal, each step with its deadline, the documents) and the subject's side (the 告知 with its
documents, 陈述申辩 online after real-name login).

Views parse the form, call one verb of ``services.lists`` and render; the verbs check the caller
(``ctx.caller``) and write the audit events. The public lists themselves stay at ``/lists/<name>``
(``portal.web.public``): they show the records a procedure published, nothing else.
"""
from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for

from ..domain import lists as rules
from ..services import lists as svc
from ..services.access_log import actor_for
from ..services.errors import ServiceError
from . import abort_with, commit, runtime
from .common import caller_ctx, no_store, on_refusal
from .staff import ROLE_LABELS, _require
from .subject import load_subject

bp = Blueprint("lists", __name__)
no_store(bp, robots=True, prefixes=("/staff/", "/me/"))
LIMIT = svc.TEXT_LIMIT + 1


def _form_again(render):
    """The form again with the message, except when the caller may not see the page at all
    (401/403/404): then the error page, so a refusal never shows the case it refused."""
    from .common import ERROR_TITLES

    def page(exc: ServiceError):
        if exc.status in (401, 403, 404):
            return render_template("error.html", code=exc.status, title=ERROR_TITLES.get(exc.status, "出错了"),
                                   message=exc.message), exc.status
        return render(exc)

    return page


def _form(name: str, limit: int = LIMIT) -> str:
    return (request.form.get(name) or "").replace("\x00", "")[:limit]


def _staff_ctx():
    user = _require()
    return user, caller_ctx(f"staff:{user.username}", user)


def _case_or_404(c, case_no: str):
    case = svc.case_by_no(c, case_no)
    if case is None:
        abort_with(404, "未找到该名单程序")
    return case


def _queue_page(user, c, error: str | None = None, status: int = 200, form=None):
    return render_template("lists/staff_queue.html", user=user, role_labels=ROLE_LABELS,
                           rows=svc.staff_queue(c, include_closed=request.args.get("all") == "1"),
                           kinds=rules.KINDS, error=error, form=form or {}, rules=c.profile.lists), status


@bp.get("/staff/lists")
def staff_queue():
    user, c = _staff_ctx()
    return _queue_page(user, c)


@bp.post("/staff/lists")
def staff_propose():
    user, c = _staff_ctx()
    on_refusal(_form_again(lambda exc: _queue_page(user, c, exc.message, exc.status, request.form)))
    subject = svc.subject_for_proposal(c, _form("code", 20))
    case = svc.propose_listing(c, subject, _form("kind", 10), _form("reason"), basis=_form("basis"),
                               measures=_form("measures"), public_summary=_form("public_summary"))
    commit()
    return redirect(url_for("lists.staff_case", case_no=case.case_no))


def _case_page(user, c, case_no: str, error: str | None = None, status: int = 200):
    view = svc.case_view(c, _case_or_404(c, case_no))
    commit()  # the read is logged
    return render_template("lists/staff_case.html", user=user, role_labels=ROLE_LABELS, case=view,
                           exit_reasons=rules.EXIT_REASONS, action_labels=rules.ACTION_LABELS, error=error,
                           rules=c.profile.lists), status


@bp.get("/staff/lists/<case_no>")
def staff_case(case_no: str):
    user, c = _staff_ctx()
    return _case_page(user, c, case_no)


@bp.post("/staff/lists/<case_no>/act")
def staff_act(case_no: str):
    """One step of the procedure; ``op`` names it, the verb checks the caller and the state."""
    user, c = _staff_ctx()
    case = _case_or_404(c, case_no)
    on_refusal(_form_again(lambda exc: _case_page(user, c, case_no, exc.message, exc.status)))
    op, note, base_url = _form("op", 10), _form("note"), runtime().settings["PORTAL_BASE_URL"]
    if op == "notify":
        svc.notify_subject(c, case, base_url=base_url)
    elif op == "notice":
        svc.start_red_notice(c, case)
    elif op == "defence":
        svc.record_defence(c, case, note, hearing=request.form.get("hearing") == "yes")
    elif op == "decide":
        svc.decide_listing(c, case, note, base_url=base_url)
    elif op == "publish":
        svc.publish_listing(c, case)
    elif op == "report":
        svc.report_to_province(c, case, note)
    elif op == "exit":
        svc.exit_listing(c, case, _form("reason", 20), note)
    elif op == "drop":
        svc.drop_listing(c, case, note)
    else:
        raise ServiceError("未知操作", "op")
    commit()
    return redirect(url_for("lists.staff_case", case_no=case.case_no))


@bp.get("/staff/lists/<case_no>/documents/<doc_no>.pdf")
def staff_document(case_no: str, doc_no: str):
    _, c = _staff_ctx()
    doc = svc.staff_document(c, _case_or_404(c, case_no), doc_no)
    commit()
    return _pdf(doc)


def _pdf(doc) -> Response:
    return Response(doc.pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="list-{doc.kind}-{doc.doc_no}.pdf"'})


@bp.get("/lists/red/notices")
def red_notices():
    """Public: organisations proposed for the red list, during their notice period (公示)."""
    from . import ctx

    c = ctx()
    return render_template("lists/red_notices.html", notices=svc.public_red_notices(c),
                           days=c.profile.lists.red_notice_workdays if c.profile.lists else None)


# --- the subject's side ---------------------------------------------------------------------------

def _subject_page(identity, subject, decision, case_no: str, error: str | None = None, status: int = 200):
    c = caller_ctx(actor_for(identity), identity)
    view = svc.subject_case_view(c, subject, case_no, decision)
    commit()
    return render_template("lists/subject_case.html", subject=subject, case=view, error=error), status


@bp.get("/me/subjects/<public_id>/lists")
def subject_index(public_id: str):
    """The list procedures the subject has been told about (告知 onwards)."""
    identity, subject, _ = load_subject(public_id)
    rows = svc.subject_cases(caller_ctx(actor_for(identity), identity), subject)
    return render_template("lists/subject_index.html", subject=subject, rows=rows)


@bp.get("/me/subjects/<public_id>/lists/<case_no>")
def subject_case(public_id: str, case_no: str):
    identity, subject, decision = load_subject(public_id)
    return _subject_page(identity, subject, decision, case_no)


@bp.post("/me/subjects/<public_id>/lists/<case_no>/defence")
def subject_defence(public_id: str, case_no: str):
    """陈述申辩 by the subject itself (or its legal representative), checked again by the verb."""
    identity, subject, decision = load_subject(public_id, manage=True)
    c = caller_ctx(actor_for(identity), identity)
    case = svc.case_by_no(c, case_no)
    if case is None or case.subject_id != subject.id:
        abort_with(404, "未找到该名单程序")
    on_refusal(_form_again(lambda exc: _subject_page(identity, subject, decision, case_no, exc.message, exc.status)))
    svc.record_defence(c, case, _form("statement"), hearing=request.form.get("hearing") == "yes")
    commit()
    return redirect(url_for("lists.subject_case", public_id=public_id, case_no=case_no))


@bp.get("/me/subjects/<public_id>/lists/<case_no>/documents/<doc_no>.pdf")
def subject_document(public_id: str, case_no: str, doc_no: str):
    identity, subject, decision = load_subject(public_id)
    doc = svc.subject_document(caller_ctx(actor_for(identity), identity), subject, case_no, doc_no, decision)
    commit()
    return _pdf(doc)
