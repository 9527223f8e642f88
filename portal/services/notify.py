"""Notices outside the portal (issue 14): an applicant is told by e-mail (the default) or SMS
that a new notice about their case is waiting; each notice once; an opt-out on ``/me``.

The message says only that there is a notice, the case number and where to read it: never a name,
an ID number, the notice's text or the record it concerns (data minimisation, 湖南 第三十三条;
海南 第五十一条 security of personal information). The addresses are stored encrypted.

Flow: ``cases.notify`` (and ``tell_subject`` for the notices of list procedures, warnings and
commitments, issue 16) writes the inbox row and, in the same transaction, ``enqueue`` writes one
``NoticeOutbox`` row per notice and channel. ``credit-portal notify send`` (a scheduler runs it) claims a row, sends, marks it sent.
"""
from __future__ import annotations

import json
import smtplib
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr

from sqlalchemy import or_, select, update

from ..models import Case, LoginBinding, NoticeOutbox, Notification, NotifyContact, NotifyContactSubject
from ..models.base import utcnow
from .context import ServiceContext

CHANNELS = {"email": "电子邮件", "sms": "手机短信", "none": "不接收（仅在门户内查看）"}
DEFAULT_CHANNEL = "email"
MAX_ATTEMPTS = 5
CLAIM_TIMEOUT = timedelta(minutes=10)  # a sender that died mid-send frees its claim after this


# --- the login's choice (the verbs live in ``my_desk``: they check the caller like the notices) ----

def contact_of(session, iss: str, sub: str) -> NotifyContact | None:
    return session.execute(select(NotifyContact).where(NotifyContact.iss == iss, NotifyContact.sub == sub)
                           ).scalar_one_or_none()


# --- queueing -----------------------------------------------------------------------------------

def _subject_logins(ctx: ServiceContext, subject_id: int) -> list[tuple[str, str]]:
    """The logins that act for a subject itself, newest first: those that saved their channel on
    ``/me`` while managing it (``NotifyContactSubject``), the person's own login binding and the
    applicants of its cases (a legal representative who applied for the organisation)."""
    chose = ctx.session.execute(select(NotifyContact.iss, NotifyContact.sub).join(
        NotifyContactSubject, NotifyContactSubject.contact_id == NotifyContact.id)
        .where(NotifyContactSubject.subject_id == subject_id).order_by(NotifyContact.updated_at.desc())).all()
    bound = ctx.session.execute(select(LoginBinding.iss, LoginBinding.sub).where(LoginBinding.subject_id == subject_id)
                                .order_by(LoginBinding.id.desc())).all()
    applied = ctx.session.execute(select(Case.applicant_iss, Case.applicant_sub).where(
        Case.subject_id == subject_id, Case.applicant_sub != "").order_by(Case.id.desc())).all()
    out: list[tuple[str, str]] = []
    for login in [*chose, *bound, *applied]:
        if tuple(login) not in out:
            out.append(tuple(login))
    return out


def enqueue(ctx: ServiceContext, note: Notification, case: Case | None = None) -> list[NoticeOutbox]:
    """Queue the outside message for a subject's notice, in the same transaction as the notice.
    About a case (``cases.notify``): to the case applicant's channel. Without one (list procedures,
    early warnings, commitments through ``tell_subject``): to the logins acting for the subject,
    one message per channel (the outbox's unique key), the newest login first. Nothing for staff
    notices, nor for a login that chose no channel or opted out."""
    if note.subject_id is None:
        return []
    if case is not None:
        logins = [(case.applicant_iss, case.applicant_sub)] if case.applicant_sub else []
    else:
        logins = _subject_logins(ctx, note.subject_id)
    rows: dict[str, NoticeOutbox] = {}
    for iss, sub in logins:
        c = contact_of(ctx.session, iss, sub)
        if c is None or c.channel == "none" or c.channel in rows:
            continue
        if note.id is None:
            ctx.session.add(note)
            ctx.session.flush()
        rows[c.channel] = NoticeOutbox(notification_id=note.id, contact_id=c.id, channel=c.channel, state="pending",
                                       attempts=0, last_error="")
        ctx.session.add(rows[c.channel])
    return list(rows.values())


def tell_subject(ctx: ServiceContext, subject_id: int, text: str) -> Notification:
    """A notice to the subject itself that is not about a case (名单程序的告知与决定, 信用预警,
    违诺, 自主申报核查): its inbox on ``/me`` and, like a case notice, the outside message."""
    note = Notification(subject_id=subject_id, text=text)
    ctx.session.add(note)
    enqueue(ctx, note)
    return note


# --- sending ------------------------------------------------------------------------------------

def message_text(portal_name: str, base_url: str, case_no: str) -> str:
    """The only words that leave the portal: no name, no ID number, no notice text."""
    where = base_url.rstrip("/") + "/me"
    ref = f"（申请编号 {case_no}）" if case_no else ""
    return (f"【{portal_name}】您有一条新的办理通知{ref}，请登录 {where} 查看。"
            "如不再接收，可在“我的”页面修改通知方式。")


class NotConfigured(Exception):
    """The channel's server is not configured; rows stay queued."""


@dataclass
class SmtpSender:
    """E-mail through an SMTP server (``PORTAL_SMTP_*``)."""
    host: str
    port: int
    user: str = ""
    password: str = ""
    tls: str = "off"  # off | starttls | ssl
    sender: str = "noreply@localhost"
    timeout: float = 10.0

    def send(self, to: str, subject: str, body: str) -> None:
        if not self.host:
            raise NotConfigured("email")
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = formataddr(("", to))
        msg["Subject"] = subject
        msg.set_content(body)
        cls = smtplib.SMTP_SSL if self.tls == "ssl" else smtplib.SMTP
        with cls(self.host, self.port, timeout=self.timeout) as smtp:
            if self.tls == "starttls":
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(msg)


@dataclass
class SmsGateway:
    """SMS through an HTTP gateway (``PORTAL_SMS_URL``): a JSON POST ``{"to": …, "text": …}``
    with an optional bearer token; any 2xx answer counts as accepted."""
    url: str
    token: str = ""
    timeout: float = 10.0

    def send(self, to: str, text: str) -> None:
        if not self.url:
            raise NotConfigured("sms")
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.url, data=json.dumps({"to": to, "text": text}, ensure_ascii=False)
                                     .encode("utf-8"), headers=headers, method="POST")
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # the operator-configured gateway
            if not 200 <= resp.status < 300:
                raise OSError(f"sms gateway answered {resp.status}")


def senders_from(settings: dict) -> dict:
    timeout = float(settings.get("PORTAL_NOTIFY_TIMEOUT") or 10)
    return {"email": SmtpSender(host=settings.get("PORTAL_SMTP_HOST", ""),
                                port=int(settings.get("PORTAL_SMTP_PORT") or 25),
                                user=settings.get("PORTAL_SMTP_USER", ""),
                                password=settings.get("PORTAL_SMTP_PASSWORD", ""),
                                tls=settings.get("PORTAL_SMTP_TLS", "off") or "off",
                                sender=settings.get("PORTAL_MAIL_FROM") or "noreply@localhost", timeout=timeout),
            "sms": SmsGateway(url=settings.get("PORTAL_SMS_URL", ""), token=settings.get("PORTAL_SMS_TOKEN", ""),
                              timeout=timeout)}


def _claim(session, row_id: int, now: datetime) -> bool:
    """Take one pending row for this sender (a second sender running at the same time gets 0 rows)."""
    result = session.execute(update(NoticeOutbox).where(
        NoticeOutbox.id == row_id, NoticeOutbox.state == "pending",
        or_(NoticeOutbox.claimed_at.is_(None), NoticeOutbox.claimed_at < now - CLAIM_TIMEOUT))
        .values(claimed_at=now, attempts=NoticeOutbox.attempts + 1))
    session.commit()
    return result.rowcount == 1


def send_pending(session, protector, settings: dict, portal_name: str, *, senders: dict | None = None,
                 limit: int = 200) -> dict:
    """Send what is queued, each row at most once: claim (committed), send, mark sent (committed).
    A crash between sending and marking frees the claim after ``CLAIM_TIMEOUT`` (the only way a
    message could go twice); a failure is retried on the next run up to ``MAX_ATTEMPTS``. Returns
    counts: sent, skipped (opted out since), failed, waiting (channel not configured)."""
    senders = senders or senders_from(settings)
    base_url = settings.get("PORTAL_BASE_URL", "")
    counts = {"sent": 0, "skipped": 0, "failed": 0, "waiting": 0}
    now = utcnow()
    rows = session.execute(select(NoticeOutbox.id).where(NoticeOutbox.state == "pending").order_by(NoticeOutbox.id)
                           .limit(limit)).scalars().all()
    for row_id in rows:
        if not _claim(session, row_id, now):
            continue
        row = session.get(NoticeOutbox, row_id)
        contact = session.get(NotifyContact, row.contact_id)
        if contact.channel == "none" or contact.channel != row.channel:  # opted out or changed since queued
            row.state, row.last_error = "skipped", "opted_out"
            session.commit()
            counts["skipped"] += 1
            continue
        note = session.get(Notification, row.notification_id)
        case = session.get(Case, note.case_id) if note.case_id else None
        text = message_text(portal_name, base_url, case.case_no if case else "")
        title = f"【{portal_name}】办理通知"
        if note.staff_id is not None:  # a staff account notice (services.staff_notify): its own words, no secret
            text, title = f"【{portal_name}】{note.text}", f"【{portal_name}】账号安全通知"
        try:
            if row.channel == "email":
                senders["email"].send(protector.decrypt(contact.email_enc), title, text)
            else:
                senders["sms"].send(protector.decrypt(contact.phone_enc), text)
        except NotConfigured:
            row.claimed_at, row.attempts = None, row.attempts - 1
            session.commit()
            counts["waiting"] += 1
            continue
        except Exception as exc:  # any transport error: retried, recorded without content
            row.claimed_at = None
            row.last_error = type(exc).__name__[:200]
            if row.attempts >= MAX_ATTEMPTS:
                row.state = "failed"
                counts["failed"] += 1
            session.commit()
            continue
        row.state, row.sent_at = "sent", utcnow()
        session.commit()
        counts["sent"] += 1
    return counts
