"""Commitments and self-declaration (issue 16; 海南 第九–十一条; 阳山 四（一）; 淮安 三（六）): the
subject's page to sign a commitment online and declare information, and the staff page to register
a paper commitment and check declarations. The verbs (``services.commitments``) check the caller."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, redirect, render_template, request, url_for

from ..services import commitments as svc
from ..services import lists as list_svc
from ..services.access_log import actor_for
from ..services.errors import ServiceError
from . import abort_with, commit
from .common import caller_ctx, no_store, on_refusal
from .staff import ROLE_LABELS, _require
from .subject import load_subject

bp = Blueprint("commitments", __name__)
no_store(bp, robots=True)
LIMIT = svc.TEXT_LIMIT + 1


def _form(name: str, limit: int = LIMIT) -> str:
    return (request.form.get(name) or "").replace("\x00", "")[:limit]


def _date(name: str, required: bool = True) -> date | None:
    text = _form(name, 10).strip()
    if not text and not required:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ServiceError("日期格式应为 YYYY-MM-DD", name) from None


def _subject_page(public_id: str, error: str | None = None, status: int = 200):
    identity, subject, _ = load_subject(public_id)
    c = caller_ctx(actor_for(identity), identity)
    return render_template("lists/subject_commitments.html", subject=subject, error=error,
                           **svc.subject_commitments(c, subject)), status


@bp.get("/me/subjects/<public_id>/commitments")
def subject_page(public_id: str):
    return _subject_page(public_id)


@bp.post("/me/subjects/<public_id>/commitments")
def sign(public_id: str):
    identity, subject, _ = load_subject(public_id, manage=True)
    on_refusal(lambda exc: _subject_page(public_id, exc.message, exc.status))
    svc.sign_commitment(caller_ctx(actor_for(identity), identity), subject, _form("ctype", 20), _form("text"),
                        agreed=request.form.get("agreed") == "yes", until=_date("valid_until", required=False))
    commit()
    return redirect(url_for("commitments.subject_page", public_id=public_id))


@bp.post("/me/subjects/<public_id>/declarations")
def declare(public_id: str):
    identity, subject, _ = load_subject(public_id, manage=True)
    on_refusal(lambda exc: _subject_page(public_id, exc.message, exc.status))
    svc.submit_declaration(caller_ctx(actor_for(identity), identity), subject, _form("kind", 20),
                           _form("title", svc.TITLE_LIMIT + 1), _form("content"),
                           truthful=request.form.get("truthful") == "yes")
    commit()
    return redirect(url_for("commitments.subject_page", public_id=public_id))


def _staff_page(user, error: str | None = None, status: int = 200):
    c = caller_ctx(f"staff:{user.username}", user)
    r = c.profile.commitments
    from ..profiles.supervision import COMMITMENT_TYPES

    return render_template("lists/staff_commitments.html", user=user, role_labels=ROLE_LABELS, error=error,
                           pending=svc.pending_declarations(c),
                           types={t: COMMITMENT_TYPES[t] for t in (r.types if r else ())}), status


@bp.get("/staff/commitments")
def staff_page():
    return _staff_page(_require())


@bp.post("/staff/commitments")
def register_paper():
    user = _require()
    c = caller_ctx(f"staff:{user.username}", user)
    on_refusal(lambda exc: _staff_page(user, exc.message, exc.status))
    subject = list_svc.subject_for_proposal(c, _form("code", 20))
    svc.register_paper_commitment(c, subject, _form("ctype", 20), _form("text"), signed_on=_date("signed_on"),
                                  signer=_form("signer", 121), until=_date("valid_until", required=False))
    commit()
    return redirect(url_for("commitments.staff_page"))


@bp.post("/staff/declarations/<declaration_id>/check")
def check(declaration_id: str):
    user = _require()
    c = caller_ctx(f"staff:{user.username}", user)
    row = svc.declaration_by_id(c, declaration_id)
    if row is None:
        abort_with(404, "未找到该申报")
    on_refusal(lambda exc: _staff_page(user, exc.message, exc.status))
    svc.check_declaration(c, row, request.form.get("verdict") == "verified", _form("note"))
    commit()
    return redirect(url_for("commitments.staff_page"))
