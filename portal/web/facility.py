"""The QR landing page: what a citizen sees after scanning a unit's identity plate (淮安 三(七)).

Built for a phone in WeChat on a slow network: server-rendered, inline CSS, no JavaScript, a few
KB. Live data on every scan, read through ``public.facility_context`` (public views only), so a
printed plate never shows a stale grade. A token whose signature is not ours is answered before
any database lookup, with one fixed page that says nothing about which plates exist.
"""
from __future__ import annotations

import logging
from datetime import datetime

from flask import Blueprint, make_response, render_template, request

from ..domain.plates import REVOKE_REASONS, PlateStatus, verify_token
from ..domain.vocab import SubjectStatus
from ..models import Subject
from ..runtime import CHINA_TZ
from ..services import plates as plate_service
from . import db, runtime
from .public import facility_context

log = logging.getLogger(__name__)

bp = Blueprint("facility", __name__)

RECORDS_SHOWN = 10  # per group; the full list is one link away on the facility page


def _headers(resp, status: int):
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-cache, max-age=0"  # live data: always revalidate
    resp.headers["X-Robots-Tag"] = "noindex"  # the facility page is the one to index
    return resp


def _not_genuine():
    """The same response for every token that is not a plate of ours (forged, mistyped, cut off)."""
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


@bp.get("/P/<token>")  # the upper-case form printed in QR codes (domain.plates.scan_url)
@bp.get("/p/<token>")
def scan(token: str):
    rt = runtime()
    valid = verify_token(rt.protector, token[:64])
    if valid is None:
        return _not_genuine()
    session = db()
    plate = plate_service.find_by_token(session, valid)
    if plate is None:  # signed by us but unknown here (e.g. another database): same answer
        return _not_genuine()
    subject = session.get(Subject, plate.subject_id)
    context = facility_context(subject)
    current = plate_service.current_plate(session, plate) if plate.replaced_by_id else None
    banners = _banners(plate, current, subject)
    genuine_and_valid = plate.status == PlateStatus.ACTIVE and subject.status == SubjectStatus.ACTIVE
    today = rt.today()
    view = context["subject"]
    licence_expired = bool(view.get("licence_valid_until") and view["licence_valid_until"] < today)
    now = datetime.now(CHINA_TZ)
    profile = rt.profile
    html = render_template(
        "facility/scan.html", plate=plate, banners=banners, valid=genuine_and_valid,
        licence_expired=licence_expired, shown=RECORDS_SHOWN,
        updated_at=f"{today.isoformat()} {now:%H:%M}",
        complaint_url="" if profile.complaint_url_is_example else profile.complaint_url,
        **context)
    if request.method == "GET" and not _is_prefetch():
        _count_scan(plate.id, today)
    return _headers(make_response(html), 200)


def _is_prefetch() -> bool:
    purpose = (request.headers.get("Sec-Purpose") or request.headers.get("Purpose") or "").lower()
    return "prefetch" in purpose


def _count_scan(plate_id: int, day) -> None:
    """Count the scan; a failure here is logged and never spoils the page."""
    session = db()
    try:
        plate_service.record_scan(session, plate_id, day)
        session.commit()
    except Exception:  # noqa: BLE001 — counting is best effort
        session.rollback()
        log.warning("scan count for plate %s failed", plate_id, exc_info=True)
