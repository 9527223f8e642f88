"""Early warning, staff side (issue 16; 淮安 三（二）): the queue of the staff member's
region, closing a warning with a note, registering a complaint. Rules run from the command line
(``credit-portal warnings run``); warnings are never public."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, redirect, render_template, request, url_for

from ..domain.warnings import LABELS
from ..services import lists as list_svc
from ..services import warnings as svc
from ..services.errors import ServiceError
from . import abort_with, commit
from .common import caller_ctx, no_store, on_refusal
from .staff import ROLE_LABELS, _require

bp = Blueprint("warnings", __name__)
no_store(bp, robots=True)


def _staff_ctx():
    user = _require()
    return user, caller_ctx(f"staff:{user.username}", user)


def _page(user, c, error: str | None = None, status: int = 200):
    closed = request.args.get("closed") == "1"
    return render_template("lists/warnings.html", user=user, role_labels=ROLE_LABELS, labels=LABELS,
                           rows=svc.warning_queue(c, closed=closed), closed=closed, error=error,
                           rules=c.profile.warnings), status


@bp.get("/staff/warnings")
def queue():
    user, c = _staff_ctx()
    return _page(user, c)


@bp.post("/staff/warnings/<warning_id>/close")
def close(warning_id: str):
    user, c = _staff_ctx()
    warning = svc.warning_by_id(c, warning_id)
    if warning is None:
        abort_with(404, "未找到该预警")
    on_refusal(lambda exc: _page(user, c, exc.message, exc.status))
    svc.close_warning(c, warning, (request.form.get("note") or "")[:svc.NOTE_LIMIT + 1])
    commit()
    return redirect(url_for("warnings.queue"))


@bp.post("/staff/complaints")
def complaint():
    user, c = _staff_ctx()
    on_refusal(lambda exc: _page(user, c, exc.message, exc.status))
    subject = list_svc.subject_for_proposal(c, request.form.get("code", ""))
    try:
        received = date.fromisoformat((request.form.get("received_on") or "")[:10])
    except ValueError:
        raise ServiceError("请填写收到日期（YYYY-MM-DD）", "received_on") from None
    svc.register_complaint(c, subject, received, (request.form.get("summary") or "")[:svc.NOTE_LIMIT + 1])
    commit()
    return redirect(url_for("warnings.queue"))
