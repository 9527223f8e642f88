"""Staff passwords (issue 14): the owner changes their own (current password + a fresh TOTP code
+ the new one twice), an administrator resets one (a random password shown once; the owner must
choose their own at the next login before anything else).

Both verbs check their caller, write their audit event without the password (海南 第五十一条;
湖南 第三十三条: access to credit data is controlled and its changes traceable), and end every
web session of the account: whoever held a session with the old password is out (the web view
gives the owner who changed it a new session id).
"""
from __future__ import annotations

import secrets
from datetime import datetime

from argon2.exceptions import InvalidHashError, VerificationError

from ..domain import passwords
from ..domain import permissions as rules
from ..models import StaffUser
from ..models.base import utcnow
from ..permissions import require_admin
from .audit import record_event
from .context import ServiceContext
from .errors import ServiceError
from .staff import _hasher, _totp_step
from .staff_accounts import NewCredentials, end_sessions
from .staff_notify import tell_owner

OWN_ONLY = "只能修改本人的密码；他人的密码请由系统管理员重置。"
WRONG = "当前密码或动态验证码不正确（每个动态验证码只能使用一次，如刚用于登录，请等待下一个）。"
MISMATCH = "两次输入的新密码不一致。"
SAME = "新密码不能与当前密码相同。"
TOO_MANY = "当前密码或动态验证码连续多次不正确，已退出登录，请重新登录后再修改。"
CONFIRM_RESET = "重置密码须勾选确认：该账号现有的密码立即失效，已登录的会话随即结束。"
RESET_OWN = "不能重置自己的密码，请在“修改密码”页修改。"
MAX_WRONG = 5  # wrong current passwords or codes in a row end the account's sessions


def _set_password(ctx: ServiceContext, user: StaffUser, password: str, *, must_change: bool) -> int:
    user.password_hash = _hasher.hash(password)
    user.must_change_password = must_change
    user.failed_logins, user.locked_until = 0, None
    ended = end_sessions(ctx, user)
    ctx.session.flush()
    return ended


def change_own_password(ctx: ServiceContext, user: StaffUser, current: str, code: str, new: str, repeat: str,
                        now: datetime | None = None) -> StaffUser:
    """The logged-in owner sets a new password. Wrong current passwords or codes are counted
    (flushed: the caller commits them even on refusal); after ``MAX_WRONG`` in a row the account's
    sessions end, so that a borrowed session cannot guess on."""
    now = now or utcnow()
    caller = ctx.caller
    if not isinstance(caller, StaffUser) or caller.id != user.id or not user.active:
        raise ServiceError(OWN_ONLY, "staff", 403)
    try:
        _hasher.verify(user.password_hash, current or "")
        right = True
    except (VerificationError, InvalidHashError):
        right = False
    matched = _totp_step(ctx, user, code, now) if right else None
    if matched is None:
        user.failed_logins = (user.failed_logins or 0) + 1
        wrong = user.failed_logins
        if wrong >= MAX_WRONG:
            user.failed_logins = 0
            end_sessions(ctx, user)
        ctx.session.flush()
        record_event(ctx.session, ctx.actor, "staff.password_change_refused", object_ref=f"staff:{user.id}",
                     detail={"username": user.username, "wrong": wrong})
        if wrong >= MAX_WRONG:
            raise ServiceError(TOO_MANY, "current", 401)
        raise ServiceError(WRONG, "current", 403)
    if (new or "") != (repeat or ""):
        raise ServiceError(MISMATCH, "repeat")
    problem = passwords.password_problem(new, user.username)
    if problem:
        raise ServiceError(problem, "new")
    if new == current:
        raise ServiceError(SAME, "new")
    user.last_totp_step = matched
    ended = _set_password(ctx, user, new, must_change=False)
    record_event(ctx.session, ctx.actor, "staff.password_changed", object_ref=f"staff:{user.id}",
                 detail={"username": user.username, "sessions_ended": ended})
    return user


def reset_password(ctx: ServiceContext, user: StaffUser, *, confirmed: bool = False) -> NewCredentials:
    """An administrator (or the command line) gives the account a random password, returned once;
    the owner must choose their own at the next login. ``confirmed``: the administrator ticked
    that the present password stops working and running sessions end."""
    require_admin(ctx, rules.ACCOUNTS_ONLY)
    if not confirmed:
        raise ServiceError(CONFIRM_RESET, "confirm")
    if isinstance(ctx.caller, StaffUser) and ctx.caller.id == user.id:
        raise ServiceError(RESET_OWN, "staff", 409)
    password = secrets.token_urlsafe(15)  # 20 random characters
    ended = _set_password(ctx, user, password, must_change=True)
    told = tell_owner(ctx, user, "staff.password_reset")  # the owner learns it outside the portal
    record_event(ctx.session, ctx.actor, "staff.password_reset", object_ref=f"staff:{user.id}",
                 detail={"username": user.username, "sessions_ended": ended, "owner_notified": told})
    return NewCredentials(user.username, password, "")


__all__ = ["change_own_password", "end_sessions", "reset_password"]
