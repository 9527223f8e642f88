"""The QR landing page: what a citizen sees after scanning a unit's identity plate (淮安 三(七)).

Built for a phone in WeChat on a slow network: server-rendered, inline CSS, no JavaScript, a few
KB. Live data, read through ``public.facility_context`` (public views only), so a printed plate
never shows a stale grade: the rendered page is reused only while the public data version and
the day are unchanged (``page_cache``: a change anywhere shows within 1 s on every worker).
A token whose signature is not ours is answered before any database lookup, with one fixed page
that says nothing about which plates exist. Anonymous: no session, no cookie; scans are counted
per plate and day (``ScanCounter``), nothing about the scanner is kept.
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, make_response, render_template, request
from sqlalchemy import bindparam, select

from ..domain.plates import REVOKE_REASONS, PlateStatus, verify_token
from ..domain.vocab import SubjectStatus
from ..models import Plate, Subject
from ..runtime import CHINA_TZ
from ..services import plates as plate_service
from . import cached_pages, db, runtime
from .page_cache import tag
from .public import facility_context

bp = Blueprint("facility", __name__)

RECORDS_SHOWN = 10  # per group; the full list is one link away on the facility page
COUNTER = "portal.scan_counter"
_PLATE_AND_SUBJECT = (select(Plate, Subject).join(Subject, Subject.id == Plate.subject_id)
                      .where(Plate.token == bindparam("token")))


@bp.record_once
def _setup(state) -> None:
    state.app.extensions[COUNTER] = plate_service.ScanCounter(state.app.extensions["portal"].sessions)


def scan_counter(app=None) -> plate_service.ScanCounter:
    return (app or current_app).extensions[COUNTER]


def _headers(resp, status: int):
    resp.status_code = status
    # Live data: any cache (browser or shared) must revalidate; the ETag makes that a 304.
    resp.headers["Cache-Control"] = "no-cache, max-age=0"
    resp.headers["X-Robots-Tag"] = "noindex"  # the facility page is the one to index
    return resp


def _not_genuine():
    """The same response for every token that is not a plate of ours (forged, mistyped, cut off).
    Rendered without touching the database, not even the page cache's version check."""
    return _headers(make_response(render_template("facility/not_genuine.html")), 404)


def _banners(plate, current, subject) -> list[dict]:
    out = []
    if plate.status == PlateStatus.REVOKED:
        reason = REVOKE_REASONS.get(plate.revoked_reason, "")
        out.append({"id": "banner-revoked", "level": "bad",
                    "text": f"此身份牌已于 {plate.revoked_on} 作废（{reason}）。"
                            "如在经营场所见到此牌仍在悬挂，请以新牌为准或向监管部门反映。"})
    elif plate.status == PlateStatus.REPLACED:
        out.append({"id": "banner-replaced", "level": "warn",
                    "text": f"此身份牌已于 {plate.revoked_on} 换发，不再使用。"})
    if current is not None and current.id != plate.id:
        out.append({"id": "banner-current", "level": "info", "link": current.token,
                    "text": f"该单位现行身份牌编号 {current.plate_no}"})
    if subject.status == SubjectStatus.CLOSED:
        out.append({"id": "banner-closed", "level": "bad",
                    "text": "该单位已注销或停业，此身份牌已失效。以下为其历史信用信息。"})
    elif subject.status == SubjectStatus.LICENCE_REVOKED:
        out.append({"id": "banner-licence-revoked", "level": "bad",
                    "text": "该单位的许可已被吊销，此身份牌已失效，不得继续执业或经营。"})
    return out


def _render_scan(token: str, today, clock_marker: str) -> tuple[str, dict] | None:
    """The scan page of a plate from public views only; ``None`` if no plate has this token."""
    rt = runtime()
    session = db()
    row = session.execute(_PLATE_AND_SUBJECT, {"token": token}).first()
    if row is None:
        return None
    plate, subject = row
    context = facility_context(subject)
    current = plate_service.current_plate(session, plate) if plate.replaced_by_id else None
    banners = _banners(plate, current, subject)
    genuine_and_valid = plate.status == PlateStatus.ACTIVE and subject.status == SubjectStatus.ACTIVE
    view = context["subject"]
    licence_expired = bool(view.get("licence_valid_until") and view["licence_valid_until"] < today)
    profile = rt.profile
    html = render_template(
        "facility/scan.html", plate=plate, banners=banners, valid=genuine_and_valid,
        licence_expired=licence_expired, shown=RECORDS_SHOWN,
        updated_at=f"{today.isoformat()} {clock_marker}",
        complaint_url="" if profile.complaint_url_is_example else profile.complaint_url,
        **context)
    return html, {"plate_id": plate.id}


@bp.get("/P/<token>")  # the upper-case form printed in QR codes (domain.plates.scan_url)
@bp.get("/p/<token>")
def scan(token: str):
    rt = runtime()
    valid = verify_token(rt.protector, token[:64])
    if valid is None:
        return _not_genuine()
    today = rt.today()
    cache = cached_pages()
    clock_marker = cache.marker("clock")
    page = cache.get_or_build("scan", valid, today, lambda: _render_scan(valid, today, clock_marker))
    if page is None:  # signed by us but unknown here (e.g. another database): same answer
        return _not_genuine()
    clock = f"{datetime.now(CHINA_TZ):%H:%M}"  # "数据更新时间": the data was current at this scan
    resp = _headers(make_response(page.body.replace(clock_marker, clock)), 200)
    resp.set_etag(f"{page.etag}-{tag(clock)}")
    if "If-None-Match" in request.headers:
        resp.make_conditional(request)  # the browser's copy is current: 304 without the body
    if request.method == "GET" and not _is_prefetch():
        scan_counter().add(page.meta["plate_id"], today)  # a 304 is a scan too
    return resp


def _is_prefetch() -> bool:
    purpose = (request.headers.get("Sec-Purpose") or request.headers.get("Purpose") or "").lower()
    return "prefetch" in purpose
