"""The subject side's dashboard (``/me``, issue 14): my subjects, my open cases with their next
step and due date, my notices with read/unread state; and marking notices read.

Notices and cases are the subject's own affairs (海南 第二十七条): they are shown only for subjects
the login *is* (itself, or the organisation it legally represents), never to a third party holding
a written authorisation, and only at the profile's assurance level (``permissions.can_manage``).
A 补正材料 request comes first: the applicant has to act on it (湖南 第二十七条)."""
from __future__ import annotations

from sqlalchemy import select

from ..domain.cases import ROLE_LABELS
from ..domain.identity import Identity
from ..domain.permissions import APPLICANT
from ..models import Case, Notification
from ..models.base import utcnow
from ..permissions import can_manage, required_acr, subjects_for
from .audit import record_event
from .calendar import load_calendar
from .cases import KIND_LABELS, is_provisional, machine_for
from .context import ServiceContext
from .errors import ServiceError

NOTICE_LIMIT = 30


def managed_subjects(ctx: ServiceContext, identity: Identity | None) -> list:
    """The subjects whose cases and notices ``identity`` may see and handle now."""
    required = required_acr(ctx.profile)
    return [e.subject for e in subjects_for(identity, ctx.session, ctx.today)
            if e.authorisation is None and can_manage(identity, e.subject, session=ctx.session,
                                                      required=required).allowed]


def next_step(profile, case: Case) -> str:
    """What happens next, in the applicant's words."""
    if case.materials_requested_on is not None:
        return f"待您补正材料：{case.materials_request}"
    step = machine_for(profile, case.kind).step(case.state)
    if case.stop_from is not None:
        return f"{step.label}（自 {case.stop_from.isoformat()} 起中止计时：{case.stop_reason}）"
    if step.actor == APPLICANT:
        return f"待您处理：{step.label}"
    return f"{ROLE_LABELS.get(step.actor, step.actor)}办理中：{step.label}"


def dashboard(ctx: ServiceContext, identity: Identity | None) -> dict:
    """Plain values for ``subject/me.html``: ``materials`` (open 补正材料 requests), ``cases``
    (open cases), ``notices`` (newest first, with ``unread``), ``unread`` (count)."""
    subjects = {s.id: s for s in managed_subjects(ctx, identity)}
    if not subjects:
        return {"materials": [], "cases": [], "notices": [], "unread": 0}
    calendar = load_calendar(ctx.session, ctx.profile)
    rows = ctx.session.execute(select(Case).where(Case.subject_id.in_(list(subjects)), Case.closed_on.is_(None))
                               .order_by(Case.due_on.is_(None), Case.due_on, Case.id)).scalars().all()
    cases = [{"case_no": c.case_no, "kind": KIND_LABELS[c.kind], "subject": subjects[c.subject_id].name,
              "public_id": subjects[c.subject_id].public_id, "next": next_step(ctx.profile, c),
              "due_on": c.due_on, "provisional": is_provisional(c, calendar),
              "materials": c.materials_requested_on is not None, "materials_request": c.materials_request,
              "materials_requested_on": c.materials_requested_on} for c in rows]
    case_nos = {c.id: (c.case_no, subjects[c.subject_id].public_id) for c in rows}
    notes = ctx.session.execute(select(Notification).where(Notification.subject_id.in_(list(subjects)))
                                .order_by(Notification.id.desc()).limit(NOTICE_LIMIT)).scalars().all()
    missing = {n.case_id for n in notes if n.case_id and n.case_id not in case_nos}
    if missing:
        for c in ctx.session.execute(select(Case).where(Case.id.in_(missing))).scalars():
            case_nos[c.id] = (c.case_no, subjects[c.subject_id].public_id)
    notices = [{"id": n.id, "text": n.text, "created_at": n.created_at, "unread": n.read_at is None,
                "case_no": case_nos.get(n.case_id, ("", ""))[0], "public_id": case_nos.get(n.case_id, ("", ""))[1]}
               for n in notes]
    return {"materials": [c for c in cases if c["materials"]], "cases": cases, "notices": notices,
            "unread": sum(1 for n in notices if n["unread"])}


def mark_notices_read(ctx: ServiceContext, note_id: int | None = None) -> int:
    """Mark the caller's own notices read (one, or all). The audit event names the login's
    pseudonymous actor and a count, never a notice's text or a name."""
    identity = ctx.caller
    if not isinstance(identity, Identity):
        raise ServiceError("只有信用主体本人或其法定代表人可以处理自己的通知。", "notices", 403)
    subjects = [s.id for s in managed_subjects(ctx, identity)]
    if not subjects:
        raise ServiceError("未找到该通知。", "notices", 404)
    q = select(Notification).where(Notification.subject_id.in_(subjects), Notification.read_at.is_(None))
    if note_id is not None:
        q = q.where(Notification.id == note_id)
    notes = ctx.session.execute(q).scalars().all()
    if note_id is not None and not notes:
        owned = ctx.session.execute(select(Notification.id).where(Notification.id == note_id,
                                                                  Notification.subject_id.in_(subjects))).first()
        if owned is None:
            raise ServiceError("未找到该通知。", "notices", 404)
        return 0
    now = utcnow()
    for note in notes:
        note.read_at = now
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "subject.notices_read", object_ref="notices",
                 detail={"count": len(notes)})
    return len(notes)
