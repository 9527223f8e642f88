"""Commission staff accounts: argon2 password + TOTP second factor, lockout after repeated
failures, and which cases a staff member may handle (海南 第五十一条; 湖南 第三十三条: access to
credit data is controlled and audited).

Roles are the profile's step actors (``operator`` 平台运行机构, ``provider`` 信息提供单位,
``reviewer`` 复核部门, ``department`` 认定部门) plus ``admin`` 系统管理员, who acts on no case
step but maintains the holiday table, and ``head`` 负责人, who acts on no case step but approves
extensions with their own second factor (湖南 第二十八条; 海南 第四十条: 经负责人批准). A staff member handles a case when the current step's
actor is one of their roles, the case lies in their region (``""`` = the whole jurisdiction; a
city code ``xxxx00`` covers its counties) and, for providing units, the record came from their
authority (海南 第三十八条: the unit that provided the information handles its objection).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from ..models import Case, StaffUser
from ..models.base import utcnow
from ..profiles.model import ROLES
from .audit import record_event
from .audit_rollup import record_repeated
from .context import ServiceContext
from .errors import ServiceError

ADMIN = "admin"
HEAD = "head"  # 负责人: approves extensions (湖南 第二十八条; 海南 第四十条)
STAFF_ROLES = tuple(r for r in ROLES if r != "applicant") + (ADMIN, HEAD)
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 12
USERNAME = re.compile(r"[a-z][a-z0-9_.-]{2,59}")
LOGIN_FAILED = "用户名、密码或动态验证码错误"
ISSUER = "医疗卫生信用信息公示平台"

_hasher = PasswordHasher()
_DUMMY = _hasher.hash("not-a-real-password-0000")


def _check_roles(roles) -> list[str]:
    roles = sorted(set(roles))
    unknown = [r for r in roles if r not in STAFF_ROLES]
    if not roles or unknown:
        raise ServiceError(f"角色须为：{'、'.join(STAFF_ROLES)}", "roles")
    return roles


def create_staff(ctx: ServiceContext, username: str, password: str, roles, *, authority: str = "",
                 region_code: str = "", display_name: str = "") -> tuple[StaffUser, str]:
    """A new account; returns it and the TOTP provisioning URI (shown once)."""
    username = (username or "").strip().lower()
    if not USERNAME.fullmatch(username):
        raise ServiceError("用户名须以小写字母开头，3–60 位小写字母、数字、点、下划线或连字符", "username")
    if ctx.session.execute(select(StaffUser.id).where(StaffUser.username == username)).first():
        raise ServiceError("用户名已存在", "username", 409)
    if len(password or "") < MIN_PASSWORD:
        raise ServiceError(f"密码至少 {MIN_PASSWORD} 位", "password")
    if region_code and ctx.profile.region(region_code) is None:
        raise ServiceError(f"未知的行政区划代码：{region_code}", "region_code")
    if "provider" in set(roles or ()) and not (authority or "").strip():
        raise ServiceError("信息提供单位账号须填写所属单位（只办理本单位提供的信息）", "authority")
    secret = pyotp.random_base32()
    user = StaffUser(username=username, display_name=(display_name or username)[:80],
                     password_hash=_hasher.hash(password), totp_secret=ctx.protector.encrypt(secret),
                     roles=_check_roles(roles), authority=(authority or "").strip()[:120], region_code=region_code or "")
    ctx.session.add(user)
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "staff.create", object_ref=f"staff:{user.id}",
                 detail={"username": username, "roles": user.roles, "region": user.region_code,
                         "authority": user.authority})
    return user, pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def totp_for(ctx: ServiceContext, user: StaffUser) -> pyotp.TOTP:
    return pyotp.TOTP(ctx.protector.decrypt(user.totp_secret))


def _fail(ctx: ServiceContext, user: StaffUser | None, username: str, now: datetime, why: str) -> ServiceError:
    detail = {"username": username[:60], "why": why}
    if user is not None:
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until, user.failed_logins = now + LOCKOUT, 0
            detail["locked_until"] = user.locked_until.isoformat(timespec="seconds")
        ctx.session.flush()
    # bounded rows per account and minute (unknown names, which anyone can vary, share one
    # counter); the lock itself is always its own event
    source = f"{username[:60]}|{why}" if user is not None else "(unknown account)"
    record_repeated(ctx.session, f"staff:{username[:60]}", "staff.login_failed", source=source,
                    object_ref=f"staff:{user.id}" if user else "", detail=detail, now=now,
                    always="locked_until" in detail)
    return ServiceError(LOGIN_FAILED, "password", 401)


def _totp_step(ctx: ServiceContext, user: StaffUser, code: str, now: datetime) -> int | None:
    """The time step ``code`` belongs to (±1 step), or ``None``; a code already used is refused."""
    totp = totp_for(ctx, user)
    code = re.sub(r"\s", "", code or "")
    step = int(now.timestamp()) // totp.interval
    matched = next((s for s in (step, step - 1, step + 1)
                    if code and pyotp.utils.strings_equal(totp.at(s * totp.interval), code)), None)
    return None if matched is None or matched <= user.last_totp_step else matched


def confirm_approver(ctx: ServiceContext, username: str, code: str, case: Case, handler: str,
                     now: datetime | None = None) -> StaffUser:
    """The 负责人 who approves an extension, proven by their own current TOTP code (湖南 第二十八条
    "经本部门负责人批准"; 海南 第四十条). Must be an active ``head`` account covering the case's
    region and not the handler. Wrong codes count towards the account's lockout."""
    now = now or utcnow()
    username = (username or "").strip().lower()
    refused = ServiceError("负责人账号或其动态验证码不正确", "approver", 403)
    user = ctx.session.execute(select(StaffUser).where(StaffUser.username == username)).scalar_one_or_none()
    if user is None or not user.active or HEAD not in user.roles or not in_region(user, case.region_code):
        raise refused
    if f"staff:{user.username}" == handler:
        raise ServiceError("延期须经负责人批准，承办人不能自行批准", "approver", 403)
    if user.locked_until is not None and user.locked_until > now:
        raise ServiceError("负责人账号已因多次验证失败被锁定，请稍后再试", "approver", 429)
    matched = _totp_step(ctx, user, code, now)
    if matched is None:
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until, user.failed_logins = now + LOCKOUT, 0
        ctx.session.flush()
        raise refused
    user.failed_logins, user.last_totp_step = 0, matched
    ctx.session.flush()
    return user


def authenticate(ctx: ServiceContext, username: str, password: str, code: str,
                 now: datetime | None = None) -> StaffUser:
    """Check password and TOTP code. Failures are flushed (the caller commits them too) and,
    after five in a row, lock the account for 15 minutes. A code is accepted only once."""
    now = now or utcnow()
    username = (username or "").strip().lower()
    user = ctx.session.execute(select(StaffUser).where(StaffUser.username == username)).scalar_one_or_none()
    if user is None or not user.active:
        try:
            _hasher.verify(_DUMMY, password or "x")  # same cost as a real check
        except VerificationError:
            pass
        raise _fail(ctx, None, username, now, "unknown")
    if user.locked_until is not None and user.locked_until > now:
        record_repeated(ctx.session, f"staff:{username}", "staff.login_locked", source=username,
                        object_ref=f"staff:{user.id}", now=now)
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        raise ServiceError(f"连续登录失败次数过多，账号已锁定，请 {minutes} 分钟后再试", "password", 429)
    try:
        _hasher.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        raise _fail(ctx, user, username, now, "password") from None
    matched = _totp_step(ctx, user, code, now)
    if matched is None:
        raise _fail(ctx, user, username, now, "totp")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_logins, user.locked_until, user.last_totp_step, user.last_login_at = 0, None, matched, now
    ctx.session.flush()
    record_event(ctx.session, f"staff:{username}", "staff.login", object_ref=f"staff:{user.id}")
    return user


def in_region(user: StaffUser, region_code: str) -> bool:
    if not user.region_code:
        return True
    if user.region_code.endswith("00"):
        return region_code[:4] == user.region_code[:4]
    return region_code == user.region_code


def _own_records(user: StaffUser, case: Case) -> bool:
    return bool(user.authority) and case.authority == user.authority


def can_see(user: StaffUser, case: Case) -> bool:
    """A case appears in the staff member's queues: region, and for an account that is only a
    providing unit, the unit's own records (an account without a unit sees none)."""
    if not user.active or not in_region(user, case.region_code):
        return False
    if set(user.roles) == {"provider"} and not _own_records(user, case):
        return False
    return True


def is_admin(user: StaffUser | None) -> bool:
    return user is not None and user.active and ADMIN in user.roles


def acting_role(user: StaffUser, case: Case, profile) -> str | None:
    """The role in which ``user`` may act on the case's current step, or ``None``."""
    from .cases import machine_for

    if not case.open or not can_see(user, case):
        return None
    actor = machine_for(profile, case.kind).step(case.state).actor
    if actor not in user.roles:
        return None
    if actor == "provider" and not _own_records(user, case):
        return None
    return actor
