"""Staff account management by administrators (issue 14): list, create, disable / enable, a new
TOTP second factor, roles, unit and region. The command line creates accounts with the same verb
(``staff.create_staff``).

Every verb checks its caller itself (``portal.permissions.require_admin``: 系统管理员 only; the
command line, ``caller=None``, acts as the platform) and writes its audit event (海南 第五十一条;
湖南 第三十三条: access to credit data is controlled, its changes traceable). At least one active
administrator always remains (``domain.permissions.leaves_an_admin``), and nobody disables the
account they are logged in with.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

import pyotp
from sqlalchemy import delete, select

from ..domain import permissions as rules
from ..models import StaffUser, WebSession
from ..permissions import require_admin
from .audit import record_event
from .context import ServiceContext
from .errors import ServiceError
from .staff import CHANNEL_CHOICES, CHANNELS, ISSUER, STAFF_ROLES, _check_roles, channel_provider_only, create_staff
from .staff_notify import tell_owner


@dataclass(frozen=True)
class NewCredentials:
    """What an administrator hands to the account's owner, shown once and never stored in clear."""

    username: str
    password: str  # "" when only the second factor was reset
    totp_uri: str


def _require(ctx: ServiceContext) -> None:
    require_admin(ctx, rules.ACCOUNTS_ONLY)


def _self(ctx: ServiceContext, user: StaffUser) -> bool:
    return isinstance(ctx.caller, StaffUser) and ctx.caller.id == user.id


def _active_admin_ids(ctx: ServiceContext) -> set[int]:
    rows = ctx.session.execute(select(StaffUser.id, StaffUser.roles).where(StaffUser.active.is_(True))).all()
    return {uid for uid, roles in rows if rules.ADMIN in (roles or ())}


def end_sessions(ctx: ServiceContext, user: StaffUser) -> int:
    """Delete every web session logged in as ``user`` (server-side sessions, ``auth.sessions``);
    returns how many ended."""
    result = ctx.session.execute(delete(WebSession).where(WebSession.data["staff_id"].as_integer() == user.id)
                                 .execution_options(synchronize_session=False))
    return result.rowcount or 0


def list_accounts(ctx: ServiceContext) -> list[dict]:
    """Every staff account as plain values (no hash, no secret), by username."""
    _require(ctx)
    rows = ctx.session.execute(select(StaffUser).order_by(StaffUser.username)).scalars()
    return [{"id": u.id, "username": u.username, "display_name": u.display_name, "roles": list(u.roles or ()),
             "authority": u.authority, "region_code": u.region_code, "channel": u.channel, "active": u.active,
             "must_change_password": u.must_change_password,
             "last_login_at": u.last_login_at, "created_at": u.created_at} for u in rows]


def get_account(ctx: ServiceContext, staff_id: int) -> StaffUser:
    _require(ctx)
    user = ctx.session.get(StaffUser, staff_id) if isinstance(staff_id, int) else None
    if user is None:
        raise ServiceError("未找到该工作人员账号。", "staff", 404)
    return user


def create_account(ctx: ServiceContext, username: str, roles, *, authority: str = "", region_code: str = "",
                   display_name: str = "", channel: str = "") -> NewCredentials:
    """A new account with a random initial password and its TOTP provisioning URI, both shown
    once to the administrator (``create_staff`` checks the caller and audits). The owner must
    choose their own password at the first login. ``channel``: a providing unit of another
    channel (海南 第二十二条), as ``credit-portal staff create --channel``."""
    _require(ctx)
    password = secrets.token_urlsafe(15)  # 20 characters, above staff.MIN_PASSWORD
    user, uri = create_staff(ctx, username, password, roles, authority=authority, region_code=region_code,
                             display_name=display_name, channel=channel, must_change_password=True)
    return NewCredentials(user.username, password, uri)


def set_active(ctx: ServiceContext, user: StaffUser, active: bool) -> StaffUser:
    """Disable (the account can no longer log in and its web sessions are deleted at once, so that
    enabling it again does not revive an old cookie; a request already past its session check
    is refused at the next one, ``staff_desk.staff_account``) or enable again."""
    _require(ctx)
    if user.active == active:
        return user
    if not active and _self(ctx, user):
        raise ServiceError(rules.NOT_YOURSELF, "active", 409)
    if not rules.leaves_an_admin(_active_admin_ids(ctx), user.id, active=active, roles=user.roles):
        raise ServiceError(rules.LAST_ADMIN, "active", 409)
    user.active = active
    if active:
        user.failed_logins, user.locked_until = 0, None
    ctx.session.flush()
    detail = {"username": user.username}
    if not active:  # the owner learns it outside the portal (services.staff_notify)
        detail["sessions_ended"] = end_sessions(ctx, user)
        detail["owner_notified"] = tell_owner(ctx, user, "staff.disable")
    record_event(ctx.session, ctx.actor, "staff.enable" if active else "staff.disable",
                 object_ref=f"staff:{user.id}", detail=detail)
    return user


def reset_totp(ctx: ServiceContext, user: StaffUser, *, confirmed: bool = False) -> NewCredentials:
    """A new TOTP secret (a lost or compromised authenticator): the old codes stop working at once;
    the new provisioning URI is returned once. ``confirmed``: the administrator ticked that the
    owner's present authenticator stops working."""
    _require(ctx)
    if not confirmed:
        raise ServiceError("重置动态验证码须勾选确认：该账号现有的验证器将立即失效", "confirm")
    secret = pyotp.random_base32()
    user.totp_secret = ctx.protector.encrypt(secret)
    user.last_totp_step = 0
    ctx.session.flush()
    told = tell_owner(ctx, user, "staff.totp_reset")  # the owner learns it outside the portal
    record_event(ctx.session, ctx.actor, "staff.totp_reset", object_ref=f"staff:{user.id}",
                 detail={"username": user.username, "owner_notified": told})
    return NewCredentials(user.username, "", pyotp.TOTP(secret).provisioning_uri(name=user.username,
                                                                                 issuer_name=ISSUER))


def change_access(ctx: ServiceContext, user: StaffUser, roles, *, authority: str = "", region_code: str = "",
                  display_name: str | None = None, channel: str | None = None) -> StaffUser:
    """Roles, unit (信息提供单位 handle only their own unit's records, 海南 第三十八条), region and,
    for a providing unit, its channel (海南 第二十二条; ``None`` keeps it)."""
    _require(ctx)
    roles = _check_roles(roles)
    channel = user.channel if channel is None else channel
    if channel not in CHANNELS:
        raise ServiceError(CHANNEL_CHOICES, "channel")
    if channel and rules.PROVIDER not in roles:
        raise ServiceError(channel_provider_only(ctx.profile.document), "channel")
    authority = (authority or "").strip()[:120]
    region_code = (region_code or "").strip()
    if region_code and ctx.profile.region(region_code) is None:
        raise ServiceError(f"未知的行政区划代码：{region_code}", "region_code")
    if rules.PROVIDER in roles and not authority:
        raise ServiceError("信息提供单位账号须填写所属单位（只办理本单位提供的信息）", "authority")
    if not rules.leaves_an_admin(_active_admin_ids(ctx), user.id, active=user.active, roles=roles):
        raise ServiceError(rules.LAST_ADMIN, "roles", 409)
    name = (display_name or "").strip()[:80] or user.display_name
    before = {"roles": list(user.roles or ()), "authority": user.authority, "region": user.region_code,
              "name": user.display_name, "channel": user.channel}
    after = {"roles": roles, "authority": authority, "region": region_code, "name": name, "channel": channel}
    user.roles, user.authority, user.region_code, user.display_name = roles, authority, region_code, name
    user.channel = channel
    ctx.session.flush()
    if before != after:
        record_event(ctx.session, ctx.actor, "staff.access_changed", object_ref=f"staff:{user.id}",
                     detail={"username": user.username, "before": before, "after": after})
    return user


__all__ = ["STAFF_ROLES", "NewCredentials", "change_access", "create_account", "end_sessions", "get_account",
           "list_accounts", "reset_totp", "set_active"]
