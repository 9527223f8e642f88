"""The QR landing page: what a citizen sees after scanning a unit's identity plate (淮安 三(七)).

Built for a phone in WeChat on a slow network: server-rendered, inline CSS, no JavaScript, a few
KB. Live data, read through ``services.public_pages.scan_view`` (public views only, plain values), so a printed plate
never shows a stale grade: the rendered page is reused only while the public data version and
the day are unchanged (``page_cache``: a change anywhere shows within 1 s on every worker).
A token whose signature is not ours is answered before any database lookup, with one fixed page
that says nothing about which plates exist. Anonymous: no session, no cookie; scans are counted
per plate and day (``ScanCounter``), nothing about the scanner is kept.
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, make_response, render_template, request

from ..domain.plates import verify_token
from ..runtime import CHINA_TZ
from ..services import plates as plate_service
from ..services import public_pages as pages_svc
from . import abort_with, cached_pages, data_time, db, runtime
from .common import private_headers
from .page_cache import tag

bp = Blueprint("facility", __name__)

RECORDS_SHOWN = 10  # per group; the full list is one link away on the facility page
COUNTER = "portal.scan_counter"


@bp.record_once
def _setup(state) -> None:
    state.app.extensions[COUNTER] = plate_service.ScanCounter(state.app.extensions["portal"].sessions)


def scan_counter(app=None) -> plate_service.ScanCounter:
    return (app or current_app).extensions[COUNTER]


def _headers(resp, status: int):
    resp.status_code = status
    # Live data: any cache (browser or shared) must revalidate; the ETag makes that a 304.
    # Not for search engines: the facility page is the one to index.
    return private_headers(resp, "no-cache, max-age=0", robots=True)


def _not_genuine():
    """The same response for every token that is not a plate of ours (forged, mistyped, cut off).
    Rendered without touching the database, not even the page cache's version check."""
    return _headers(make_response(render_template("facility/not_genuine.html")), 404)


def _render_scan(token: str, today, clock_marker: str) -> tuple[str, dict] | None:
    """The scan page of a plate from public views only (``services.public_pages.scan_view``:
    plain values, no ORM object); ``None`` if no plate has this token."""
    rt = runtime()
    try:
        context = pages_svc.scan_view(db(), rt.profile, token, today)
    except pages_svc.NotShown:
        abort_with(404, "未找到该主体。")
    if context is None:
        return None
    scope = context.pop("cache_scope")
    context["data_updated_at"] = data_time(context.pop("data_changed_at"))  # read with the rest
    profile = rt.profile
    html = render_template(
        "facility/scan.html", shown=RECORDS_SHOWN, updated_at=f"{today.isoformat()} {clock_marker}",
        complaint_url="" if profile.complaint_url_is_example else profile.complaint_url, **context)
    return html, {"plate_id": context["plate"]["id"], **scope}


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
