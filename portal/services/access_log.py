"""Every read of a subject's non-public information is written to the audit log, and the subject
can read it back as "谁查看了我的信息" (海南 第二十七条, 第五十一条; 湖南 第三十三条 security and
audit of query and use).

Views never call ``record_event`` for reads themselves: they call ``log_private_view``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..domain.identity import Identity, person_actor
from ..models import AuditEvent, Authorisation, StaffUser
from .audit import record_event
from .context import ServiceContext

PRIVATE_VIEW = "private.view"
# Audit actions that count as someone seeing the subject's non-public data.
ACCESS_ACTIONS = (PRIVATE_VIEW, "subject.reveal_code")
WHAT_LABELS = {
    "page": "查看全部信用信息",
    "report": "下载信用报告",
    "report_copy": "再次下载已出具的信用报告",
    "access_log": "查看访问记录",
    "authorisations": "查看书面授权",
    "code": "查看完整证件号码",
    "case": "查看异议/信用修复申请",
    "case_document": "下载异议/信用修复文书",
    "evidence": "下载证明材料",
    "api_records": "经政务共享接口读取信用信息",  # services.api_data (the sharing API)
    "api_subject": "经政务共享接口查询主体",
    "api_grades": "经政务共享接口查询信用等级",
}


def actor_for(identity: Identity) -> str:
    """The audit actor of a logged-in person (``identity.person_actor``)."""
    return person_actor(identity.sub)


def log_private_view(ctx: ServiceContext, identity: Identity, subject, purpose: str, via: str,
                     authorisation_id: int | None = None, *, what: str = "page", ref: str = "") -> AuditEvent:
    """Record that ``identity`` saw ``subject``'s non-public information (who, when, why, how)."""
    detail = {"viewer_name": identity.name, "via": str(via), "what": what, "acr": identity.acr}
    if authorisation_id is not None:
        detail["authorisation_id"] = authorisation_id
    return record_event(ctx.session, actor_for(identity), PRIVATE_VIEW, subject_id=subject.id,
                        object_ref=ref or what, purpose=(purpose or "")[:200], detail=detail)


def log_staff_view(ctx: ServiceContext, username: str, display_name: str, subject_id: int, purpose: str, *,
                   what: str, ref: str = "") -> AuditEvent:
    """Record that a staff member saw non-public information of a subject while handling a case
    (the same event as a subject's own reads, so it shows in "谁查看了我的信息")."""
    return record_event(ctx.session, f"staff:{username}"[:120], PRIVATE_VIEW, subject_id=subject_id,
                        object_ref=ref or what, purpose=(purpose or "")[:200],
                        detail={"viewer_name": display_name or username, "via": "staff", "what": what})


# "谁查看了我的信息" filtered by who looked (issue 14): the subject itself or its legal
# representative, commission staff, third parties holding a written authorisation.
WHO_FILTERS = {"all": "全部", "mine": "本人或法定代表人", "staff": "监管工作人员", "third": "经授权的第三方"}


def _who_condition(who: str):
    via = AuditEvent.detail["via"].as_string()
    if who == "staff":
        return AuditEvent.actor.like("staff:%")
    if who == "mine":
        return ~AuditEvent.actor.like("staff:%") & via.in_(["self", "legal_rep"])
    if who == "third":
        return ~AuditEvent.actor.like("staff:%") & (via == "authorisation")
    return None


def _staff_units(session: Session, actors: set[str], profile) -> dict[str, str]:
    """The unit of each staff actor: its own authority (an information-providing unit), else the
    portal's authority with the staff member's region."""
    names = {a.split(":", 1)[1] for a in actors if a.startswith("staff:")}
    if not names:
        return {}
    units = {}
    home = profile.authority if profile is not None else ""
    for user in session.execute(select(StaffUser).where(StaffUser.username.in_(names))).scalars():
        region = profile.region(user.region_code) if profile is not None and user.region_code else None
        units[f"staff:{user.username}"] = user.authority or (f"{home}（{region.name}）" if region else home)
    return units


@dataclass(frozen=True)
class AccessEntry:
    at: datetime  # UTC, naive (as stored)
    actor: str
    viewer_name: str
    via: str
    what: str
    what_label: str
    purpose: str
    authorisation: Authorisation | None
    unit: str = ""  # a staff member's unit (issue 14)


def access_entries(session: Session, subject_id: int, page: int = 1, per_page: int = 50, *, who: str = "all",
                   profile=None) -> tuple[list[AccessEntry], int]:
    """Newest first: every access to the subject's non-public data (or only those of ``who``,
    one of ``WHO_FILTERS``), and the total count. Staff entries carry the staff member's unit."""
    where = (AuditEvent.subject_id == subject_id, AuditEvent.action.in_(ACCESS_ACTIONS))
    if (condition := _who_condition(who)) is not None:
        where = (*where, condition)
    total = session.execute(select(func.count()).select_from(AuditEvent).where(*where)).scalar_one()
    events = session.execute(select(AuditEvent).where(*where).order_by(AuditEvent.id.desc())
                             .offset((page - 1) * per_page).limit(per_page)).scalars().all()
    auth_ids = {e.detail.get("authorisation_id") for e in events if e.detail.get("authorisation_id")}
    auths = {a.id: a for a in session.execute(select(Authorisation).where(Authorisation.id.in_(auth_ids))).scalars()} \
        if auth_ids else {}
    units = _staff_units(session, {e.actor for e in events}, profile)
    entries = []
    for e in events:
        what = e.detail.get("what") or ("code" if e.action == "subject.reveal_code" else "page")
        entries.append(AccessEntry(
            at=e.at, actor=e.actor, viewer_name=e.detail.get("viewer_name") or e.actor,
            via=e.detail.get("via") or ("staff" if e.action == "subject.reveal_code" else ""),
            what=what, what_label=WHAT_LABELS.get(what, what), purpose=e.purpose,
            authorisation=auths.get(e.detail.get("authorisation_id")), unit=units.get(e.actor, "")))
    return entries, total


def authorisation_use_counts(session: Session, subject_id: int) -> dict[int, int]:
    """How many times each of the subject's authorisations has been used."""
    counts: dict[int, int] = {}
    events = session.execute(select(AuditEvent.detail).where(AuditEvent.subject_id == subject_id,
                                                             AuditEvent.action == PRIVATE_VIEW)).scalars()
    for detail in events:
        auth_id = (detail or {}).get("authorisation_id")
        if auth_id:
            counts[auth_id] = counts.get(auth_id, 0) + 1
    return counts
