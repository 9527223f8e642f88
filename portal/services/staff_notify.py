"""Telling a staff member outside the portal that an administrator changed their account: a reset
password, a reset second factor (TOTP) or a disabled account. Whoever did not ask for it learns at
once that someone else may have taken the account over (海南 第五十一条 security of the
information; 湖南 第三十三条: access to credit data is controlled and its changes traceable).

The staff account's contact (an e-mail address or a mainland mobile number, set by an
administrator on ``/staff/accounts`` or ``credit-portal staff set-contact``) is a ``NotifyContact``
of the local issuer ``STAFF_ISS`` with the account id as subject: the same encrypted storage and
the same outbox as the applicants' notices (``services.notify``), so ``credit-portal notify send``
sends it and no new table is needed. An OIDC issuer is an https URL, so ``STAFF_ISS`` never meets
a citizen's login.

The message carries no secret: no password, no provisioning URI, no token; only what happened and
when (China time), and whom to call.
"""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import update

from ..domain import permissions as rules
from ..domain.identifiers import mask_email, mask_phone
from ..models import NoticeOutbox, Notification, NotifyContact, StaffUser
from ..models.base import utcnow
from ..permissions import require_admin
from .audit import record_event
from .context import ServiceContext
from .errors import ServiceError
from .my_desk import _EMAIL, _MOBILE
from .notify import contact_of
from .verifiable import china_time

STAFF_ISS = "urn:credit-portal:staff"  # not an https URL: never an OIDC issuer
BAD_CONTACT = "请填写有效的电子邮箱地址或 11 位手机号码（用于账号安全通知），不需要时请留空。"
# What happened, in the owner's words; the keys are the audit actions that call ``tell_owner``.
EVENTS = {"staff.password_reset": "您的账号密码已由管理员重置",
          "staff.totp_reset": "您的账号动态验证码（身份验证器）已由管理员重置",
          "staff.disable": "您的账号已由管理员停用"}


def parse_contact(text: str) -> tuple[str, str]:
    """``(channel, address)`` for what an administrator typed: ``("email", …)``, ``("sms", …)``
    or ``("none", "")`` for an empty field. Anything else is refused with a Chinese message."""
    text = (text or "").strip()
    if not text:
        return "none", ""
    if "@" in text:
        if len(text) > 254 or not _EMAIL.fullmatch(text):
            raise ServiceError(BAD_CONTACT, "contact")
        return "email", text
    phone = re.sub(r"[\s\-]", "", text)
    if phone.startswith("+86"):
        phone = phone[3:]
    if not _MOBILE.fullmatch(phone):
        raise ServiceError(BAD_CONTACT, "contact")
    return "sms", phone


def _contact(ctx: ServiceContext, user: StaffUser) -> NotifyContact | None:
    return contact_of(ctx.session, STAFF_ISS, str(user.id))


def masked_contact(ctx: ServiceContext, user: StaffUser) -> str:
    """The stored contact, masked, for the account page ("" when there is none)."""
    require_admin(ctx, rules.ACCOUNTS_ONLY)
    c = _contact(ctx, user)
    if c is None or c.channel == "none":
        return ""
    if c.channel == "email":
        return mask_email(ctx.protector.decrypt(c.email_enc))
    return mask_phone(ctx.protector.decrypt(c.phone_enc))


def set_contact(ctx: ServiceContext, user: StaffUser, text: str) -> StaffUser:
    """An administrator sets (or, with an empty field, removes) the account's contact. Stored
    encrypted; the audit event names the channel only. Removing it cancels what is still queued."""
    require_admin(ctx, rules.ACCOUNTS_ONLY)
    channel, address = parse_contact(text)
    c = _contact(ctx, user)
    if c is None:
        if channel == "none":
            return user
        c = NotifyContact(iss=STAFF_ISS, sub=str(user.id))
        ctx.session.add(c)
    c.channel = channel
    c.email_enc = ctx.protector.encrypt(address) if channel == "email" else ""
    c.phone_enc = ctx.protector.encrypt(address) if channel == "sms" else ""
    ctx.session.flush()
    if channel == "none":
        ctx.session.execute(update(NoticeOutbox).where(NoticeOutbox.contact_id == c.id,
                                                       NoticeOutbox.state == "pending")
                            .values(state="skipped", last_error="opted_out"))
    record_event(ctx.session, ctx.actor, "staff.contact_changed", object_ref=f"staff:{user.id}",
                 detail={"username": user.username, "channel": channel})
    return user


def owner_text(action: str, when: datetime) -> str:
    """The words of the notice: what happened and when, nothing secret."""
    local = china_time(when)
    return (f"{EVENTS[action]}（{local:%Y-%m-%d %H:%M} 北京时间）。"
            "如非本人知悉，请立即联系本单位系统管理员。")


def tell_owner(ctx: ServiceContext, user: StaffUser, action: str, now: datetime | None = None) -> str:
    """The staff inbox notice and, when the account has a contact, its outside message queued in
    the caller's transaction. Returns the channel queued ("" when none) for the audit event."""
    note = Notification(staff_id=user.id, text=owner_text(action, now or utcnow()))
    ctx.session.add(note)
    c = _contact(ctx, user)
    if c is None or c.channel == "none":
        return ""
    ctx.session.flush()
    ctx.session.add(NoticeOutbox(notification_id=note.id, contact_id=c.id, channel=c.channel, state="pending",
                                 attempts=0, last_error=""))
    return c.channel


__all__ = ["BAD_CONTACT", "EVENTS", "STAFF_ISS", "masked_contact", "owner_text", "parse_contact", "set_contact",
           "tell_owner"]
