"""The reads behind the public pages (no login): the facility page, the QR scan page, the red and
serious-dishonesty lists and the 信用修复公示. Every value they return went through the privacy
boundary (``domain.disclosure.public_view`` / ``public_subject``) and is a plain dict: no ORM
object reaches a public template, so no attribute a template might print (a grade's explanation
names records that are not public) is within its reach (DESIGN.md, the privacy boundary).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, select

from ..domain.disclosure import public_subject, public_view, publishable, subject_publishable
from ..domain.plates import REVOKE_REASONS, PlateStatus
from ..domain.repair import repair_possible_from
from ..domain.vocab import InfoClass, SubjectKind, SubjectStatus
from ..models import Case, CreditRecord, Subject
from . import public_page_read
from .risk import public_risk

LIST_TYPES = {
    "red": (("redlist",), "守信红名单"),
    "serious": (("serious_list", "blacklist", "joint_punishment"), "严重失信主体名单"),
}
LIST_PER_PAGE = 50
NOTICES_SHOWN = 200
# Built once (the subject page).
_SUBJECT_BY_PUBLIC_ID = select(Subject).where(Subject.public_id == bindparam("public_id"))


def subject_by_public_id(session, public_id: str) -> Subject | None:
    """The subject a page URL names (the caller decides what it may show of it)."""
    if not (1 <= len(public_id or "") <= 16):
        return None
    return session.execute(_SUBJECT_BY_PUBLIC_ID, {"public_id": public_id}).scalar_one_or_none()


def public_id_by_credit_code(session, credit_code: str) -> str | None:
    """The page of the organisation with this USCC (public registration data), if it has one."""
    return session.execute(select(Subject.public_id).where(Subject.credit_code == credit_code)).scalar_one_or_none()


class NotShown(Exception):
    """The subject behind a page (a plate, a public id) may not be shown (a minor, a person
    without public records …)."""


def grade_view(grade) -> dict | None:
    """The public part of a stored grade: letter and year. Never the score's explanation,
    which names records, some of them not public."""
    return {"letter": grade.letter, "year": grade.year} if grade is not None else None


def facility_read(session, profile, public_id: str, today: date):
    """``(rows, content)`` of the facility page of ``public_id`` from its one statement
    (``services.public_page_read``): the rows as read and the page's content through the privacy
    boundary (``None`` when nothing may be shown); ``None`` if no subject has this public id. For
    the readers that need the rows too (the public report's version key)."""
    rows = public_page_read.facility_rows(session, public_id, today)
    return (rows, _public_context(profile, rows, today)) if rows is not None else None


def facility_page(session, profile, public_id: str, today: date) -> dict | None:
    """The facility page of ``public_id`` from one statement (``services.public_page_read``);
    ``None`` if no subject has this public id. Raises ``NotShown`` when it may not be shown.
    ``cache_scope`` is for the page cache, not the page: the subject and its public stamp, read
    in the same statement as the content (web.page_cache). The chatbot's facility details are
    this too (one statement, no subject loaded before it)."""
    read = facility_read(session, profile, public_id, today)
    if read is None:
        return None
    rows, context = read
    if context is None:
        raise NotShown(public_id)
    return {**context, "cache_scope": _cache_scope(rows)}


def _cache_scope(rows) -> dict:
    return {"subject_id": rows.subject["id"], "stamp": rows.subject["public_stamp"] or ""}


def _public_context(profile, rows, today: date) -> dict | None:
    """The page's content from the rows read (``public_page_read``), through the privacy
    boundary (``public_subject`` / ``public_view``); ``None`` when nothing may be shown."""
    from .cases import markers_from_open_cases  # "异议处理中" / "信用修复中" (profile display.case_markers)
    from .grading import absence_from

    subject = rows.subject
    view = public_subject(subject, today, rows.employer)
    if view is None:
        return None
    markers = markers_from_open_cases(profile, rows.open_cases, today)
    public = []
    for r in rows.records:
        v = public_view(r, today, subject["birth_on"], profile=profile)
        if v is None:
            continue
        v["case_marker"] = markers.get(r["lineage_id"])
        if v["info_class"] in (InfoClass.DISHONEST, InfoClass.SERIOUS):
            v["repair_from"] = repair_possible_from(r, profile)
            # "已可申请" once the day has come, not a date in the past (issue #13)
            v["repair_open"] = bool(v["repair_from"] and v["repair_from"].on and v["repair_from"].on <= today)
        public.append(v)
    public.sort(key=lambda v: v["decided_on"], reverse=True)
    if view["kind"] == "person" and not public:
        return None
    grade = rows.grade  # the formal grade in force (indexing.grade_in_force_query)
    return {"subject": view, "groups": {c: [v for v in public if v["info_class"] == c] for c in InfoClass},
            "grade": grade_view(grade), "grade_info": profile.grade(grade.letter) if grade else None,
            "region": profile.region(subject["region_code"]),
            "risk": public_risk(None, view, public, grade, today, profile, changed=rows.changed_at),  # (#13)
            # not evaluated for a finished period (湖南 第十八条): say so, never the reason
            "grade_absence": absence_from(rows.excluded_year, rows.newest_grade_year, profile) if grade is None else None,
            "data_changed_at": rows.data_changed_at}  # the footer's "数据更新时间", read with the rest


def _banners(plate, current, subject: dict) -> list[dict]:
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
    if subject["status"] == SubjectStatus.CLOSED:
        out.append({"id": "banner-closed", "level": "bad",
                    "text": "该单位已注销或停业，此身份牌已失效。以下为其历史信用信息。"})
    elif subject["status"] == SubjectStatus.LICENCE_REVOKED:
        out.append({"id": "banner-licence-revoked", "level": "bad",
                    "text": "该单位的许可已被吊销，此身份牌已失效，不得继续执业或经营。"})
    return out


def scan_view(session, profile, token: str, today: date) -> dict | None:
    """The QR scan page of a plate from public views only, read in one statement
    (``services.public_page_read``); ``None`` if no plate has this token. Raises ``NotShown``
    when the plate's subject may not be shown."""
    rows = public_page_read.scan_rows(session, token, today)
    if rows is None:
        return None
    context = _public_context(profile, rows, today)
    if context is None:
        raise NotShown(token)
    plate, subject = rows.plate, rows.subject
    current = rows.current_plate if plate.replaced_by_id else None
    view = context["subject"]
    return {**context,
            # for the page cache, not the page: the subject and its public stamp, read in the same
            # statement as the page's content (web.page_cache)
            "cache_scope": _cache_scope(rows),
            "plate": {"id": plate.id, "plate_no": plate.plate_no, "issued_on": plate.issued_on},
            "banners": _banners(plate, current, subject),
            "valid": plate.status == PlateStatus.ACTIVE and subject["status"] == SubjectStatus.ACTIVE,
            "licence_expired": bool(view.get("licence_valid_until") and view["licence_valid_until"] < today)}


def public_list(session, name: str, today: date, page: int = 1, per_page: int | None = LIST_PER_PAGE, *,
                profile, filters: dict[str, str] | None = None) -> dict | None:
    """One page of a public list (``red`` / ``serious``) and its total, counted with the rule
    that shows an entry (``disclosure.publishable`` / ``subject_publishable``, the decisions of
    ``public_view`` / ``public_subject``): the SQL only narrows the candidates, so the count never
    includes an entry the page would refuse (a record about what a person did as a minor …).
    The entries shown are built by ``public_view`` / ``public_subject`` themselves. ``None`` for
    an unknown list. ``filters``: cleaned by ``list_filters.clean_list_filters`` (city, county,
    category, name); a page past the last gives the last page; ``per_page=None``: every entry
    (the CSV download)."""
    from .list_filters import list_conditions

    if name not in LIST_TYPES:
        return None
    types, title = LIST_TYPES[name]
    facts = (select(CreditRecord.id, CreditRecord.scope, CreditRecord.is_current, CreditRecord.status,
                    CreditRecord.publish_from, CreditRecord.publish_until, CreditRecord.decided_on,
                    CreditRecord.severity, Subject.kind, Subject.birth_on)
             .join(Subject, Subject.id == CreditRecord.subject_id)
             .where(CreditRecord.record_type.in_(types), CreditRecord.is_current.is_(True),
                    CreditRecord.scope == "public", CreditRecord.status == "active",
                    CreditRecord.publish_from <= today,
                    (CreditRecord.publish_until.is_(None)) | (CreditRecord.publish_until >= today),
                    *list_conditions(filters or {}))
             .order_by(CreditRecord.decided_on.desc(), CreditRecord.id))
    ids = [row.id for row in session.execute(facts)
           if publishable(row, today, row.birth_on, profile=profile) and subject_publishable(row, today)]
    total = len(ids)
    if per_page is None:
        shown, pages, wanted = 1, 1, ids
    else:
        pages = max(1, -(-total // per_page))
        shown = min(max(1, page), pages)
        wanted = ids[(shown - 1) * per_page:shown * per_page]
    entries = []
    for chunk in range(0, len(wanted), 500):  # bounded IN lists (SQLite's variable limit)
        part = wanted[chunk:chunk + 500]
        rows = {r.id: (r, s) for r, s in session.execute(
            select(CreditRecord, Subject).join(Subject, Subject.id == CreditRecord.subject_id)
            .where(CreditRecord.id.in_(part)))}
        for record_id in part:
            record, subject = rows[record_id]
            rv, sv = public_view(record, today, subject.birth_on, profile=profile), public_subject(subject, today)
            if rv is not None and sv is not None:  # the pure rule has the last word
                entries.append({"record": rv, "subject": sv})
    return {"title": title, "name": name, "entries": entries, "total": total, "page": shown, "pages": pages}


def _public_name(view: dict) -> str:
    """Organisations by name; natural persons masked on the notice (the notice is about the
    record, not the person)."""
    if view["kind"] == SubjectKind.ORG:
        return view["name"]
    return view["name"][:1] + "*" * max(1, len(view["name"]) - 1)


def repair_notices(session, today: date, limit: int = NOTICES_SHOWN, *, profile) -> list[dict]:
    """信用修复公示 (湖南 第三十条（三）; 海南 第四十二条（四）; 湖南医保 第二十五条第二款): repairs
    in their public-notice step, only through the privacy boundary (the record's ``public_view``,
    the subject's ``public_subject``: never a minor)."""
    from .cases import REPAIR

    rows = session.execute(select(Case, Subject, CreditRecord)
                           .join(Subject, Subject.id == Case.subject_id)
                           .join(CreditRecord, (CreditRecord.lineage_id == Case.record_lineage_id)
                                 & CreditRecord.is_current.is_(True))
                           .where(Case.kind == REPAIR, Case.state == "notice", Case.closed_on.is_(None),
                                  Case.earliest_on.is_not(None),  # a notice not held (repair_notice.WAIVED)
                                  CreditRecord.scope == "public")
                           .order_by(Case.step_entered_on.desc(), Case.id.desc()).limit(limit)).all()
    notices = []
    from ..domain.cases import notice_last_day
    from .repair_notice import shown_on_notice_page

    for c, s, r in rows:
        if not shown_on_notice_page(r, s, today, profile):  # the rule the repair letter states
            continue
        record, subject = public_view(r, today, s.birth_on, profile=profile), public_subject(s, today)
        if record is None or subject is None:
            continue
        notices.append({"case_no": c.case_no, "name": _public_name(subject), "title": record["title"],
                        "authority": record["authority"], "doc_no": record["doc_no"], "from": c.step_entered_on,
                        "until": notice_last_day(c.earliest_on)})
    return notices


def ping(session) -> None:
    """The health check's round trip to the database."""
    session.execute(select(1))


def data_changed_at(session) -> str | None:
    """When the public data last changed (the public data version's time, issue #13; the index
    time before the first versioned change), as stored (UTC ISO); ``None`` when unknown or when
    the database does not answer (an error page while the database is down still renders)."""
    from sqlalchemy.exc import SQLAlchemyError

    from .. import public_version
    from .indexing import get_state

    try:
        changed = public_version.changed_at(session.connection())
        return public_version.data_time_value(changed, None if changed else get_state(session, "index_updated_at"))
    except SQLAlchemyError:
        session.rollback()
        return None

