"""Commission staff accounts: argon2 password + TOTP second factor, lockout after repeated
failures, and which cases a staff member may handle (海南 第五十一条; 湖南 第三十三条: access to
credit data is controlled and audited).

Roles are the profile's step actors (``operator`` 平台运行机构, ``provider`` 信息提供单位,
``reviewer`` 复核部门, ``department`` 认定部门) plus ``admin`` 系统管理员, who acts on no case
step but maintains the holiday table. A staff member handles a case when the current step's
actor is one of their roles, the case lies in their region (``""`` = the whole jurisdiction; a
city code ``xxxx00`` covers its counties) and, for providing units, the record came from their
authority (海南 第三十八条: the unit that provided the information handles its objection). Those rules are
``portal.domain.permissions`` (pure) and ``portal.permissions`` (facts); the names below ask them.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from ..domain import permissions as rules
from ..models import Case, StaffUser
from ..models.base import utcnow
from ..permissions import staff_role
from ..profiles.model import ROLES
from .audit import record_event
from .context import ServiceContext
from .errors import ServiceError

ADMIN = rules.ADMIN
STAFF_ROLES = tuple(r for r in ROLES if r != "applicant") + (ADMIN,)
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
    record_event(ctx.session, f"staff:{username[:60]}", "staff.login_failed",
                 object_ref=f"staff:{user.id}" if user else "", detail=detail)
    return ServiceError(LOGIN_FAILED, "password", 401)


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
        record_event(ctx.session, f"staff:{username}", "staff.login_locked", object_ref=f"staff:{user.id}")
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        raise ServiceError(f"连续登录失败次数过多，账号已锁定，请 {minutes} 分钟后再试", "password", 429)
    try:
        _hasher.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        raise _fail(ctx, user, username, now, "password") from None
    totp = totp_for(ctx, user)
    code = re.sub(r"\s", "", code or "")
    step = int(now.timestamp()) // totp.interval
    matched = next((s for s in (step, step - 1, step + 1)
                    if code and pyotp.utils.strings_equal(totp.at(s * totp.interval), code)), None)
    if matched is None or matched <= user.last_totp_step:
        raise _fail(ctx, user, username, now, "totp")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_logins, user.locked_until, user.last_totp_step, user.last_login_at = 0, None, matched, now
    ctx.session.flush()
    record_event(ctx.session, f"staff:{username}", "staff.login", object_ref=f"staff:{user.id}")
    return user


def in_region(user: StaffUser, region_code: str) -> bool:
    return rules.in_region(user.region_code, region_code)


# Who sees and acts on which case is decided in portal.domain.permissions (pure) and
# portal.permissions (facts); these names stay for the callers that ask about one account.
can_see = rules.staff_can_see
is_admin = rules.is_admin


def acting_role(user: StaffUser, case: Case, profile) -> str | None:
    """The role in which ``user`` may act on the case's current step, or ``None``."""
    return staff_role(user, case, profile)
