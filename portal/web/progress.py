"""The public progress look-up /progress (信用中国 修复进度查询): case number + the look-up code
from the applicant's receipt, no login (``services.progress``). POST only for the answer (CSRF
checked centrally, rate-limited per client address like the login: ``ratelimit.ROUTE_LIMITS``),
so neither number nor code lands in a URL, a log line or the browser history."""
from __future__ import annotations

from flask import Blueprint, render_template, request, session

from ..services import progress as svc
from . import commit, ctx, db, runtime
from .common import no_store

bp = Blueprint("progress", __name__)
SESSION_KEY = "portal.lookup_codes"
no_store(bp, robots=True)


def remember_code(case) -> None:
    """Keep a new case's look-up code for the one page that shows it (the receipt)."""
    code = getattr(case, "lookup_code", "")
    if code:
        session[SESSION_KEY] = {**session.get(SESSION_KEY, {}), case.case_no: code}


@bp.app_template_global()
def take_lookup_code(case_no: str) -> str:
    """The code kept by :func:`remember_code`, once: it cannot be read back afterwards."""
    codes = dict(session.get(SESSION_KEY) or {})
    code = codes.pop(case_no, "")
    if code:
        session[SESSION_KEY] = codes
    return code


@bp.route("/progress", methods=["GET", "POST"])
def lookup():
    result, status = None, 200
    if request.method == "POST":
        case = svc.find_case(db(), request.form.get("case_no") or "", request.form.get("code") or "")
        if case is None:
            status = 404
        else:
            from ..services.case_sweep import sweep_case  # a window that passed unused closes the case

            if sweep_case(ctx("system"), case):
                commit()
            rt = runtime()
            result = svc.public_progress(db(), rt.profile, case, rt.calendar(db()))
    # a wrong number and a wrong code get the very same page (nothing echoed back)
    return render_template("cases/progress.html", result=result, not_found=status == 404,
                           message=svc.NOT_FOUND), status
