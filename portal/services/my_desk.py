"""The subject side's dashboard (``/me``, issue 14): my subjects, my open cases with their next
step and due date, my notices with read/unread state; and marking notices read.

Notices and cases are the subject's own affairs (海南 第二十七条): they are shown only for subjects
the login *is* (itself, or the organisation it legally represents), never to a third party holding
a written authorisation, and only at the profile's assurance level (``permissions.can_manage``).
A 补正材料 request comes first: the applicant has to act on it (湖南 第二十七条)."""
from __future__ import annotations

import re

from sqlalchemy import func, select, update

from ..domain.cases import ROLE_LABELS
from ..domain.identifiers import mask_email, mask_phone
from ..domain.identity import Identity
from ..domain.permissions import APPLICANT
from ..models import Case, NoticeOutbox, Notification, NotifyContact, NotifyContactSubject
from ..models.base import utcnow
from ..permissions import can_manage, required_acr, subjects_for
from .audit import record_event
from .calendar import load_calendar
from .cases import KIND_LABELS, is_provisional, machine_for
from .context import ServiceContext
from .errors import ServiceError
from .notify import CHANNELS, DEFAULT_CHANNEL, contact_of

NOTICE_LIMIT = 30
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9.\-]{1,190}\.[A-Za-z]{2,24}")
_MOBILE = re.compile(r"1[3-9]\d{9}")


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
        return {"materials": [], "cases": [], "notices": [], "unread": 0, "manages": False}
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
            "unread": _unread(ctx, list(subjects)), "manages": True}


def _unread(ctx: ServiceContext, subject_ids: list[int]) -> int:
    return ctx.session.execute(select(func.count()).select_from(Notification).where(
        Notification.subject_id.in_(subject_ids), Notification.read_at.is_(None))).scalar_one()


def unread_count(ctx: ServiceContext, identity: Identity | None) -> int:
    """How many of the login's own notices are unread (the header's "我的" link)."""
    subjects = [s.id for s in managed_subjects(ctx, identity)]
    return _unread(ctx, subjects) if subjects else 0


def open_notice(ctx: ServiceContext, note_id: int) -> dict:
    """Open one of the caller's notices: mark it read (``mark_notices_read``) and say where it
    leads (its case). Another subject's notice is a 404."""
    mark_notices_read(ctx, note_id)
    note = ctx.session.get(Notification, note_id)
    case = ctx.session.get(Case, note.case_id) if note.case_id else None
    subject = next((s for s in managed_subjects(ctx, ctx.caller) if case and s.id == case.subject_id), None)
    return {"case_no": case.case_no if case and subject else "", "public_id": subject.public_id if subject else ""}


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


# --- how the login is told outside the portal (services.notify sends) --------------------------

def _desk_identity(ctx: ServiceContext) -> Identity:
    """The caller, if it is a login that handles at least one subject's own affairs."""
    identity = ctx.caller
    if not isinstance(identity, Identity) or not managed_subjects(ctx, identity):
        raise ServiceError("只有信用主体本人或其法定代表人可以设置通知方式。", "notify", 403)
    return identity


def contact_settings(ctx: ServiceContext) -> dict:
    """The caller's channel and masked addresses, for the form on ``/me``."""
    identity = ctx.caller
    c = contact_of(ctx.session, identity.iss, identity.sub) if isinstance(identity, Identity) else None
    if c is None:
        return {"channel": DEFAULT_CHANNEL, "email": "", "phone": "", "saved": False, "channels": CHANNELS}
    email = ctx.protector.decrypt(c.email_enc) if c.email_enc else ""
    phone = ctx.protector.decrypt(c.phone_enc) if c.phone_enc else ""
    return {"channel": c.channel, "email": mask_email(email) if email else "",
            "phone": mask_phone(phone) if phone else "", "saved": True, "channels": CHANNELS}


def set_notify_contact(ctx: ServiceContext, channel: str, email: str = "", phone: str = "") -> NotifyContact:
    """Save how the caller wants to be told (e-mail by default, SMS, or not at all). An empty
    address keeps the stored one; ``none`` opts out and cancels what is still queued. Addresses
    are stored encrypted; the audit event records the channel only."""
    identity = _desk_identity(ctx)
    channel = (channel or "").strip()
    if channel not in CHANNELS:
        raise ServiceError("请选择通知方式。", "channel")
    email = (email or "").strip()
    phone = re.sub(r"[\s\-]", "", phone or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if email and (len(email) > 254 or not _EMAIL.fullmatch(email)):
        raise ServiceError("请填写有效的电子邮箱地址。", "email")
    if phone and not _MOBILE.fullmatch(phone):
        raise ServiceError("请填写有效的 11 位手机号码。", "phone")
    c = contact_of(ctx.session, identity.iss, identity.sub)
    email_enc = ctx.protector.encrypt(email) if email else (c.email_enc if c else "")
    phone_enc = ctx.protector.encrypt(phone) if phone else (c.phone_enc if c else "")
    if channel == "email" and not email_enc:
        raise ServiceError("选择电子邮件通知时，请填写电子邮箱地址。", "email")
    if channel == "sms" and not phone_enc:
        raise ServiceError("选择短信通知时，请填写手机号码。", "phone")
    if c is None:
        c = NotifyContact(iss=identity.iss, sub=identity.sub)
        ctx.session.add(c)
    c.channel, c.email_enc, c.phone_enc = channel, email_enc, phone_enc
    ctx.session.flush()
    known = set(ctx.session.execute(select(NotifyContactSubject.subject_id).where(
        NotifyContactSubject.contact_id == c.id)).scalars())
    for s in managed_subjects(ctx, identity):  # notices not about a case find the login (issue 16)
        if s.id not in known:
            ctx.session.add(NotifyContactSubject(contact_id=c.id, subject_id=s.id))
    if channel == "none":  # opting out also stops what is queued and not yet sent
        ctx.session.execute(update(NoticeOutbox).where(NoticeOutbox.contact_id == c.id,
                                                       NoticeOutbox.state == "pending")
                            .values(state="skipped", last_error="opted_out"))
    record_event(ctx.session, ctx.actor, "subject.notify_contact", object_ref="notify", detail={"channel": channel})
    return c
