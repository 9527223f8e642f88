"""双随机、一公开 pages: the public list of draws and each draw's record (一公开: 阳山 四（四）;
湖南 第二十三条; 海南 第三十二条; 湖南医保 第二十条), a JSON copy for re-running the draw, and the
staff page to announce and run draws and record inspection results.

Public output: organisation names and credit codes, strata, counts, seed and its commitment,
outcome labels. Never inspectors, findings or anything about persons."""
from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, url_for

from ..domain import draw as algo
from ..domain.vocab import CATEGORIES, SubjectKind, category_label
from ..models import Draw
from ..services import draws as svc
from ..services.errors import ServiceError
from ..services.staff import in_region
from ..services.staff_guard import LoginEnded
from . import abort_with, commit, ctx, db
from .staff import ROLE_LABELS, _require

bp = Blueprint("draws", __name__)


@bp.after_request
def _no_store_staff(response):
    if request.path.startswith("/staff/"):
        response.headers["Cache-Control"] = "no-store"
    return response


ORG_CATEGORIES = {code: label for code, (label, kind) in CATEGORIES.items() if kind == SubjectKind.ORG}


def _region_names() -> dict[str, str]:
    return {r.code: r.name for r in ctx().profile.regions}


def _draw_or_404(number: str) -> Draw:
    row = svc.draw_by_number(ctx(), number)
    if row is None:
        abort_with(404, "未找到该抽查")
    return row


@bp.get("/draws")
def public_list():
    c = ctx()
    return render_template("draws/list.html", draws=[svc.public_view(c, d) for d in svc.public_draws(c)],
                           regions=_region_names(), category_label=category_label,
                           inspection=c.profile.inspection)


@bp.get("/draws/<number>")
def public_detail(number: str):
    c = ctx()
    view = svc.public_view(c, _draw_or_404(number))
    return render_template("draws/detail.html", d=view, regions=_region_names(), category_label=category_label,
                           inspection=c.profile.inspection, script=algo.CITIZEN_SCRIPT)


@bp.get("/draws/<number>.json")
def public_json(number: str):
    view = svc.public_view(ctx(), _draw_or_404(number))
    for key in ("announced_at", "drawn_on", "publish_results_by"):
        if view.get(key) is not None:
            view[key] = view[key].isoformat()
    for item in view.get("items", []):
        for key in ("inspected_on", "published_on"):
            item[key] = item[key].isoformat() if item[key] else None
    return jsonify(view)


# --- staff --------------------------------------------------------------------------------------

@bp.get("/staff/draws")
def staff_list():
    user = _require()
    c = ctx(f"staff:{user.username}")
    return _staff_page(c, user)


def _staff_page(c, user, error: str | None = None, status: int = 200):
    """The draws of the staff member's region (findings and inspector ids are staff-only)."""
    rows = [d for d in svc.public_draws(c) if in_region(user, d.region_code)]
    return render_template("draws/staff.html", user=user, role_labels=ROLE_LABELS, draws=rows,
                           categories=ORG_CATEGORIES, regions=_region_names(), error=error,
                           items={d.id: svc.items(c, d) for d in rows if d.status == svc.DRAWN},
                           outcomes=svc.OUTCOMES, record_outcomes=svc.RECORD_OUTCOMES, today=c.today), status


def _clean(value: str | None, limit: int = 100) -> str:
    return (value or "").replace("\x00", "")[:limit]


@bp.post("/staff/draws")
def staff_action():
    user = _require()
    c = ctx(f"staff:{user.username}")
    op = _clean(request.form.get("op"), 20)
    try:
        if op == "announce":
            row = svc.announce_draw(c, _clean(request.form.get("category")), _clean(request.form.get("region")), user)
        elif op == "run":
            row = svc.run_draw(c, _clean(request.form.get("category")), _clean(request.form.get("region")), user)
        elif op == "inspect":
            item_id = _clean(request.form.get("item"), 10)
            item = svc.item_by_id(c, item_id)
            if item is None:
                raise ServiceError("未找到该抽查对象", "item", 404)
            svc.record_inspection(c, item, _clean(request.form.get("outcome"), 20),
                                  _clean(request.form.get("finding"), svc.FINDING_LIMIT + 1), user=user)
            row = svc.draw_of(c, item)
        elif op == "link":
            item = svc.item_by_id(c, _clean(request.form.get("item"), 10))
            if item is None:
                raise ServiceError("未找到该抽查对象", "item", 404)
            svc.link_inspection_record(c, item, _clean(request.form.get("record"), 20), user=user)
            row = svc.draw_of(c, item)
        else:
            raise ServiceError("未知操作", "op")
    except ServiceError as exc:
        if isinstance(exc, LoginEnded):
            raise  # web.staff_ended: to the login page
        db().rollback()
        return _staff_page(c, user, exc.message, exc.status)
    commit()
    return redirect(url_for("draws.staff_list") + f"#{row.number}")
