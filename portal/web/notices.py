"""Public notices of commendation and typical cases (issue 16; 阳山 四（五）; 淮安 三（五）): the staff
pages (draft, publish, withdraw) and the public ones (``/notices``). Views parse the form, call one
verb of ``services.public_notices`` (which checks the caller and writes the audit event) and render."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from ..domain import public_notices as rules
from ..services import public_notices as svc
from ..services.errors import ServiceError
from . import abort_with, commit
from .common import caller_ctx, no_store, on_refusal
from .staff import ROLE_LABELS, _require

bp = Blueprint("notices", __name__)
no_store(bp, robots=True, prefixes=("/staff/",))


def _form(name: str, limit: int = svc.BODY_LIMIT + 1) -> str:
    return (request.form.get(name) or "").replace("\x00", "")[:limit]


def _staff_ctx():
    user = _require()
    return user, caller_ctx(f"staff:{user.username}", user)


def _index_page(user, c, error: str | None = None, status: int = 200, form=None):
    return render_template("notices/staff_index.html", user=user, role_labels=ROLE_LABELS, rows=svc.staff_notices(c),
                           kinds=rules.KINDS, error=error, form=form or {}), status


@bp.get("/staff/notices")
def staff_index():
    user, c = _staff_ctx()
    return _index_page(user, c)


def _links(c, kind: str) -> list:
    links = svc.parse_links(c, kind, _form("records", 3000), _form("subjects", 3000))
    year = _form("top_grade_year", 4).strip()
    if year:
        if not year.isdigit():
            raise ServiceError("年度应为四位数字", "top_grade_year")
        links = list(dict.fromkeys([*svc.top_grade_subjects(c, int(year)), *links]))
    return links


@bp.post("/staff/notices")
def staff_draft():
    user, c = _staff_ctx()
    on_refusal(lambda exc: _index_page(user, c, exc.message, exc.status, request.form))
    kind = _form("kind", 20)
    notice = svc.draft_notice(c, kind, _form("title", svc.TITLE_LIMIT + 1), _form("body"), _links(c, kind))
    commit()
    return redirect(url_for("notices.staff_show", number=notice.number))


def _show_page(user, c, number: str, error: str | None = None, status: int = 200):
    notice = svc.notice_by_number(c, number)
    if notice is None:
        abort_with(404, "未找到该公示")
    return render_template("notices/staff_show.html", user=user, role_labels=ROLE_LABELS,
                           notice=svc.staff_notice(c, notice), error=error), status


@bp.get("/staff/notices/<number>")
def staff_show(number: str):
    user, c = _staff_ctx()
    return _show_page(user, c, number)


@bp.post("/staff/notices/<number>/act")
def staff_act(number: str):
    """``op``: edit (a draft), publish, withdraw (with a reason); the verb checks caller and state."""
    user, c = _staff_ctx()
    notice = svc.notice_by_number(c, number)
    if notice is None:
        abort_with(404, "未找到该公示")

    def again(exc: ServiceError):
        if exc.status in (401, 403, 404):
            return render_template("error.html", code=exc.status, title="无法办理", message=exc.message), exc.status
        return _show_page(user, c, number, exc.message, exc.status)

    on_refusal(again)
    op = _form("op", 10)
    if op == "edit":
        svc.edit_notice(c, notice, _form("title", svc.TITLE_LIMIT + 1), _form("body"), _links(c, notice.kind))
    elif op == "publish":
        svc.publish_notice(c, notice)
    elif op == "withdraw":
        svc.withdraw_notice(c, notice, _form("reason", svc.REASON_LIMIT + 1))
    else:
        raise ServiceError("未知操作", "op")
    commit()
    return redirect(url_for("notices.staff_show", number=notice.number))


# --- public ---------------------------------------------------------------------------------------

@bp.get("/notices")
def public_index():
    """表彰与典型案例公示: published notices, newest first."""
    from . import ctx

    return render_template("notices/index.html", notices=svc.public_notices(ctx()))


@bp.get("/notices/<number>")
def public_show(number: str):
    from . import ctx

    notice = svc.public_notice(ctx(), number)
    if notice is None:
        abort_with(404, "未找到该公示，或已撤回")
    return render_template("notices/show.html", notice=notice)
