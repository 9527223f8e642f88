"""The public credit report of an organisation (``services.public_report``): issued by a POST
from the facility page (CSRF-checked: a cross-site page must not make reports), the same report
for the same public data version and day. Rate-limited like search (``ratelimit.ROUTE_LIMITS``)."""
from __future__ import annotations

from flask import Blueprint, Response, url_for

from ..services.public_report import issued_public_report, public_report
from . import ctx, db, runtime

bp = Blueprint("public_report", __name__)


@bp.post("/facility/<public_id>/report.pdf")
def report(public_id: str):
    issued = public_report(ctx(), public_id, runtime().settings["PORTAL_BASE_URL"])
    db().commit()  # a report row only: no index work (``commit()`` would start a drain)
    return _pdf(issued, public_id)


@bp.get("/facility/<public_id>/reports/<report_no>.pdf")
def issued(public_id: str, report_no: str):
    """An issued public report by its number, for anyone, while it shows today's public data."""
    return _pdf(issued_public_report(ctx(), public_id, report_no), public_id)


def _pdf(report, public_id: str) -> Response:
    return Response(report.pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="public-credit-report-{report.report_no}.pdf"',
        "Content-Location": url_for("public_report.issued", public_id=public_id, report_no=report.report_no),
        "Cache-Control": "no-store"})
