"""Commission staff accounts: argon2 password + TOTP second factor, back-off after repeated
failures (per client address, per account, per pair; ``domain.throttle``), and which cases a
staff member may handle (海南 第五十一条; 湖南 第三十三条: access to credit data is controlled
and audited).

Roles are the profile's step actors (``operator`` 平台运行机构, ``provider`` 信息提供单位,
``reviewer`` 复核部门, ``department`` 认定部门) plus ``admin`` 系统管理员, who acts on no case
step but maintains the holiday table, and ``head`` 负责人, who acts on no case step but approves
extensions with their own second factor (湖南 第二十八条; 海南 第四十条: 经负责人批准). A staff member handles a case when the current step's
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
from sqlalchemy import delete, or_, select

from ..documents.citations import own_note
from ..domain import passwords, throttle
from ..domain import permissions as rules
from ..domain.provision import CHANNEL_ARTICLE
from ..models import Case, LoginThrottle, Notification, StaffUser
from ..models.base import utcnow
from ..permissions import require_admin, staff_role
from ..profiles.model import ROLES
from .audit import record_event
from .audit_rollup import record_repeated
from .context import ServiceContext
from .errors import ServiceError
from .verifiable import china_time

ADMIN = rules.ADMIN
HEAD = "head"  # 负责人: approves extensions (湖南 第二十八条; 海南 第四十条)
STAFF_ROLES = tuple(r for r in ROLES if r != "applicant") + (ADMIN, HEAD)
# An approver's wrong one-time codes (confirm_approver) lock that head account for a while.
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
# Back-off policies. One address guessing one account waits after 5 failures; an address trying
# many accounts after 10; an account attacked from many addresses only after 20 and never more
# than 5 minutes at a time, so that nobody can keep its owner out for long from elsewhere.
POLICIES = {
    "pair": throttle.Policy(free=5, cap=timedelta(minutes=15)),
    "ip": throttle.Policy(free=10, cap=timedelta(minutes=15)),
    "account": throttle.Policy(free=20, cap=timedelta(minutes=5)),
}
NOTIFY_AT = 5  # failures on one account (from anywhere) that tell its owner at once
MIN_PASSWORD = passwords.MIN_LENGTH
USERNAME = re.compile(r"[a-z][a-z0-9_.-]{2,59}")
LOGIN_FAILED = "用户名、密码或动态验证码错误"
THROTTLED = "登录尝试过于频繁，请 {wait}后再试"  # the same for every username, real or not
ISSUER = "医疗卫生信用信息公示平台"
CHANNELS = ("", "association", "third_party")  # official unit, 行业协会, 第三方信用服务机构 (海南 第二十二条)
CHANNEL_CHOICES = "报送渠道须为：行业协会（association）或第三方信用服务机构（third_party）"
CHANNEL_PROVIDER_ONLY = "报送渠道只适用于信息提供单位账号"  # + the own part of provision.CHANNEL_ARTICLE
# Information security of each regulation; own_note keeps the active profile's part.
SECURITY_ARTICLES = "海南 第五十一条；湖南 第三十三条；湖南医保 第二十六条（一）；阳山 四（七）"



def channel_provider_only(document: str) -> str:
    """The refusal of a channel on an account that provides nothing, citing the channels article
    of the profile whose ``document`` is given only where that regulation has one."""
    return CHANNEL_PROVIDER_ONLY + own_note(CHANNEL_ARTICLE, document)


_hasher = PasswordHasher()
_DUMMY = _hasher.hash("not-a-real-password-0000")


def _check_roles(roles) -> list[str]:
    roles = sorted(set(roles))
    unknown = [r for r in roles if r not in STAFF_ROLES]
    if not roles or unknown:
        raise ServiceError(f"角色须为：{'、'.join(STAFF_ROLES)}", "roles")
    return roles


def create_staff(ctx: ServiceContext, username: str, password: str, roles, *, authority: str = "",
                 region_code: str = "", display_name: str = "", channel: str = "",
                 must_change_password: bool = False) -> tuple[StaffUser, str]:
    """A new account; returns it and the TOTP provisioning URI (shown once). Administrators only
    (the command line acts as the platform). ``channel``: a providing unit of another channel
    (海南 第二十二条: association, third_party). ``must_change_password``: the password was made
    for the owner (the web's generated one), who sets their own at the first login."""
    require_admin(ctx, rules.ACCOUNTS_ONLY)
    username = (username or "").strip().lower()
    if not USERNAME.fullmatch(username):
        raise ServiceError("用户名须以小写字母开头，3–60 位小写字母、数字、点、下划线或连字符", "username")
    if ctx.session.execute(select(StaffUser.id).where(StaffUser.username == username)).first():
        raise ServiceError("用户名已存在", "username", 409)
    problem = passwords.password_problem(password, username)
    if problem:
        raise ServiceError(problem, "password")
    if region_code and ctx.profile.region(region_code) is None:
        raise ServiceError(f"未知的行政区划代码：{region_code}", "region_code")
    if "provider" in set(roles or ()) and not (authority or "").strip():
        raise ServiceError("信息提供单位账号须填写所属单位（只办理本单位提供的信息）", "authority")
    if channel not in CHANNELS:
        raise ServiceError(CHANNEL_CHOICES, "channel")
    if channel and "provider" not in set(roles or ()):
        raise ServiceError(channel_provider_only(ctx.profile.document), "channel")
    secret = pyotp.random_base32()
    user = StaffUser(channel=channel, username=username, display_name=(display_name or username)[:80],
                     password_hash=_hasher.hash(password), totp_secret=ctx.protector.encrypt(secret),
                     roles=_check_roles(roles), authority=(authority or "").strip()[:120], region_code=region_code or "",
                     must_change_password=must_change_password)
    ctx.session.add(user)
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "staff.create", object_ref=f"staff:{user.id}",
                 detail={"username": username, "roles": user.roles, "region": user.region_code,
                         "authority": user.authority, "channel": channel})
    return user, pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def totp_for(ctx: ServiceContext, user: StaffUser) -> pyotp.TOTP:
    return pyotp.TOTP(ctx.protector.decrypt(user.totp_secret))


class LoginThrottled(ServiceError):
    """An attempt refused unchecked while a back-off wait runs (429, ``retry_after`` seconds)."""

    def __init__(self, wait: timedelta):
        super().__init__(THROTTLED.format(wait=throttle.wait_text(wait)), "password", 429)
        self.retry_after = max(1, int(-(-wait.total_seconds() // 1)))


def _keys(ctx: ServiceContext, username: str, client: str) -> dict[str, str]:
    """Throttle keys, each a keyed hash (no username or address is stored in clear)."""
    def key(kind: str, value: str) -> str:
        return f"{kind}:{ctx.protector.lookup_hash('staff-login|' + kind + '|' + value)[:64]}"

    keys = {"account": key("account", username)}
    if client:
        keys["ip"] = key("ip", client)
        keys["pair"] = key("pair", f"{client}|{username}")
    return keys


def _throttles(ctx: ServiceContext, keys: dict[str, str]) -> dict[str, LoginThrottle]:
    """The existing rows, locked (PostgreSQL) in key order so that parallel attempts queue, not
    deadlock, and no failure is lost."""
    rows = ctx.session.execute(select(LoginThrottle).where(LoginThrottle.key.in_(list(keys.values())))
                               .order_by(LoginThrottle.key).with_for_update()).scalars()
    by_key = {row.key: row for row in rows}
    return {kind: by_key[k] for kind, k in keys.items() if k in by_key}


def _blocked(ctx: ServiceContext, keys: dict[str, str], now: datetime) -> timedelta | None:
    """The longest wait still running on any key (the attempt is refused unchecked), else None."""
    rows = _throttles(ctx, keys)
    waits = [row.blocked_until - now for row in rows.values() if row.blocked_until and row.blocked_until > now]
    if not waits:
        return None
    for row in rows.values():
        row.refused = (row.refused or 0) + 1  # counted, not audited one by one
    ctx.session.flush()
    return max(waits)


def _count_failure(ctx: ServiceContext, keys: dict[str, str], now: datetime) -> dict[str, int]:
    rows = _throttles(ctx, keys)
    missing = [key for kind, key in keys.items() if kind not in rows]
    if missing:  # new keys: forget the ones nobody has failed on for a while, then add these
        ctx.session.execute(delete(LoginThrottle).where(
            LoginThrottle.last_failure_at < now - throttle.RESET_AFTER,
            or_(LoginThrottle.blocked_until.is_(None), LoginThrottle.blocked_until < now)))
        _insert_missing(ctx, missing, now)
        rows = _throttles(ctx, keys)
    counts: dict[str, int] = {}
    for kind, _key in keys.items():
        row = rows[kind]
        row.failures = throttle.counted(row.failures or 0, row.last_failure_at, now) + 1
        row.last_failure_at = now
        wait = throttle.backoff(row.failures, POLICIES[kind])
        row.blocked_until = now + wait if wait else None
        counts[kind] = row.failures
    ctx.session.flush()
    return counts


def _insert_missing(ctx: ServiceContext, keys: list[str], now: datetime) -> None:
    """Insert counter rows, leaving alone any that a parallel attempt inserted first (a plain
    INSERT would fail on the primary key there)."""
    dialect = ctx.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    rows = [{"key": key, "failures": 0, "refused": 0, "last_failure_at": now} for key in keys]
    ctx.session.execute(insert(LoginThrottle).values(rows).on_conflict_do_nothing(index_elements=["key"]))


def _fail(ctx: ServiceContext, user: StaffUser | None, username: str, now: datetime, why: str,
          keys: dict[str, str]) -> ServiceError:
    counts = _count_failure(ctx, keys, now)
    detail = {"username": username[:60], "why": why, "failures": counts}
    if user is not None:
        user.failed_logins = (user.failed_logins or 0) + 1
        if counts["account"] == NOTIFY_AT:
            ctx.session.add(Notification(staff_id=user.id, text=(
                f"您的工作人员账号在 {china_time(now):%Y-%m-%d %H:%M} 前后连续 {NOTIFY_AT} 次登录失败，"
                "系统已对继续尝试的来源逐次延长等待时间。如非本人操作，请立即联系系统管理员并修改密码"
                + own_note(SECURITY_ARTICLES, ctx.profile.document) + "。")))
            record_event(ctx.session, "system", "staff.login_owner_notified", object_ref=f"staff:{user.id}",
                         detail={"failures": counts["account"]})
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
                 now: datetime | None = None, client: str = "") -> StaffUser:
    """Check password and TOTP code; a code is accepted only once. ``client`` is the client's
    address (the caller's ProxyFix-resolved ``remote_addr``).

    Failures are flushed (the caller commits them too) and counted per address, per account and
    per pair; past a policy's free failures the next attempt waits, doubling each time. While a
    wait runs the attempt is refused before any password is hashed, with one message and one
    status (429) whether or not the username exists. The account's owner is notified when it is
    attacked, and at the next successful login of the failures since the last one."""
    now = now or utcnow()
    username = (username or "").strip().lower()[:200]
    keys = _keys(ctx, username, client)
    wait = _blocked(ctx, keys, now)
    if wait is not None:
        raise LoginThrottled(wait)
    user = ctx.session.execute(select(StaffUser).where(StaffUser.username == username)).scalar_one_or_none()
    if user is None or not user.active:
        try:
            _hasher.verify(_DUMMY, password or "x")  # same cost as a real check
        except VerificationError:
            pass
        raise _fail(ctx, None, username, now, "unknown", keys)
    try:
        _hasher.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        raise _fail(ctx, user, username, now, "password", keys) from None
    matched = _totp_step(ctx, user, code, now)
    if matched is None:
        raise _fail(ctx, user, username, now, "totp", keys)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    if user.failed_logins:
        ctx.session.add(Notification(staff_id=user.id, text=(
            f"自上次成功登录以来，您的账号有 {user.failed_logins} 次失败的登录尝试。如非本人操作，请联系系统管理员。")))
    # This account and this address+account start again; the address's own count stays (it may
    # be trying other accounts).
    ctx.session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(
        [k for kind, k in keys.items() if kind in ("account", "pair")])))
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
