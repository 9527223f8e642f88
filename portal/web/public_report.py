"""The public credit report of an organisation (``services.public_report``): issued by a POST
from the facility page (CSRF-checked: a cross-site page must not make reports), the same report
for the same public data version and day. Rate-limited like search (``ratelimit.ROUTE_LIMITS``)."""
from __future__ import annotations

from flask import Blueprint, Response

from ..services import public_pages as pages_svc
from ..services.public_report import public_report
from . import abort_with, ctx, db, runtime

bp = Blueprint("public_report", __name__)


@bp.post("/facility/<public_id>/report.pdf")
def report(public_id: str):
    subject = pages_svc.subject_by_public_id(db(), public_id[:16])
    if subject is None:
        abort_with(404, "未找到该主体。请检查链接是否完整。")
    issued = public_report(ctx(), subject, runtime().settings["PORTAL_BASE_URL"])
    db().commit()  # a report row only: no index work (``commit()`` would start a drain)
    return Response(issued.pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="public-credit-report-{issued.report_no}.pdf"',
        "Cache-Control": "no-store"})
