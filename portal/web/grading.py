"""The grading cycle's pages (services.grading_cycle):

- public: the summary table of formal grades per region and category (阳山 四（三）分级评价结果
  汇总表), as a page and an Excel download — counts of formal grades only;
- staff: the cycles with their state, a "run now" button (the same verb as ``credit-portal grade
  run``), one cycle's pending objections, excluded subjects with reasons (湖南 第十八条) and
  changed formal grades;
- subject: an objection against its preliminary result (湖南医保 第十九条)."""
from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for

from ..domain import grading_cycle as rules
from ..services import grading_cycle as svc
from ..services.access_log import actor_for
from . import abort_with, commit, ctx
from .common import caller_ctx
from .staff import _require
from .subject import load_subject

bp = Blueprint("grading", __name__)


@bp.after_request
def _no_store_private(response):
    if request.path.startswith(("/staff/", "/me/")):
        response.headers["Cache-Control"] = "no-store"
    return response


def _year(c) -> int:
    raw = (request.args.get("year") or "").strip()
    if raw:
        if not (raw.isdigit() and len(raw) == 4):
            abort_with(400, "年度应为四位数字。")
        return int(raw)
    years = svc.summary_years(c)
    return years[0] if years else c.today.year - 1


@bp.get("/grades/summary")
def summary():
    c = ctx()
    year = _year(c)
    return render_template("grading/summary.html", data=svc.summary_table(c, year), years=svc.summary_years(c))


@bp.get("/grades/summary.xlsx")
def summary_xlsx():
    c = ctx()
    year = _year(c)
    return Response(svc.summary_xlsx(c, year), headers={
        "Content-Disposition": f'attachment; filename="grade-summary-{year}.xlsx"'},
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# --- staff --------------------------------------------------------------------------------------

def _staff_ctx():
    user = _require()
    return user, caller_ctx(f"staff:{user.username}", user)


@bp.get("/staff/grading")
def staff_cycles():
    user, c = _staff_ctx()
    return render_template("grading/staff.html", user=user, cycles=svc.cycles(c), schedule=svc.next_schedule(c),
                           labels=rules.STATUS_LABELS)


@bp.post("/staff/grading/run")
def staff_run():
    user, c = _staff_ctx()
    out = svc.run_cycle(c)
    commit()
    target = url_for("grading.staff_cycles")
    return redirect(f"{target}?generated={out['generated']}&formal={out['formal']}", 303)


@bp.get("/staff/grading/<int:cycle_id>")
def staff_cycle(cycle_id: int):
    user, c = _staff_ctx()
    view = svc.cycle_overview(c, cycle_id)
    if view is None:
        abort_with(404, "未找到该评价周期。")
    return render_template("grading/cycle.html", user=user, cycle=view, labels=rules.STATUS_LABELS,
                           outcomes=rules.OUTCOMES)


@bp.post("/staff/grading/results/<int:result_id>/decide")
def staff_decide(result_id: int):
    user, c = _staff_ctx()
    result = svc.result_by_id(c, result_id)
    if result is None:
        abort_with(404, "未找到该评价结果。")
    svc.decide_grade_objection(c, result, (request.form.get("outcome") or "")[:20],
                               (request.form.get("reason") or "")[:svc.REASON_LIMIT + 1])
    commit()
    return redirect(url_for("grading.staff_cycle", cycle_id=result.cycle_id), 303)


# --- subject ------------------------------------------------------------------------------------

@bp.post("/me/subjects/<public_id>/grade-objection")
def file_objection(public_id: str):
    identity, subject, _decision = load_subject(public_id)
    c = caller_ctx(actor_for(identity), identity)
    raw = (request.form.get("result") or "").strip()
    result = svc.result_by_id(c, int(raw)) if raw.isdigit() and len(raw) < 12 else None
    if result is None or result.subject_id != subject.id:
        abort_with(404, "未找到该初评结果。")
    svc.file_grade_objection(c, result, (request.form.get("statement") or "")[:svc.STATEMENT_LIMIT + 1])
    commit()
    return redirect(url_for("subject.show", public_id=public_id) + "#grade-results", 303)
