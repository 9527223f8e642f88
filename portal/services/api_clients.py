"""Registered clients of the government sharing API (海南 第二十五条; 湖南 第二十四条): registration,
key rotation and disabling (CLI ``credit-portal api-client …`` and the admin page), OAuth 2.0
client-credentials secrets hashed with argon2 like staff passwords, issued tokens stored as
their SHA-256. Only administrators manage clients; every change is an audit event."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from limits import parse
from sqlalchemy import select, update

from ..domain.api_access import SCOPES
from ..models import ApiClient, ApiToken
from ..models.base import utcnow
from ..permissions import require_admin
from .audit import record_event
from .context import ServiceContext
from .errors import ServiceError

TOKEN_TTL = timedelta(hours=1)
DEFAULT_RATE = "120/minute"
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("not-a-real-client-secret-0000")
CLIENT_ID = re.compile(r"[a-z][a-z0-9_.-]{2,39}")


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


def _check(ctx: ServiceContext, *, name: str, purpose: str, scopes, region_code: str, rate_limit: str) -> list[str]:
    if not (name or "").strip() or len(name.strip()) > 120:
        raise ServiceError("部门名称不能为空，且不超过 120 字", "name")
    if not (purpose or "").strip() or len(purpose.strip()) > 200:
        raise ServiceError("用途不能为空，且不超过 200 字（将显示在信用主体的“谁查看了我的信息”中）", "purpose")
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in SCOPES]
    if not scopes or unknown:
        raise ServiceError("权限范围须为：" + "、".join(SCOPES), "scopes")
    if region_code and ctx.profile.region(region_code) is None:
        raise ServiceError(f"区划代码 {region_code} 不属于{ctx.profile.jurisdiction}", "region_code")
    try:
        parse(rate_limit)
    except ValueError:
        raise ServiceError("频率上限须形如 120/minute", "rate_limit") from None
    return scopes


def create_client(ctx: ServiceContext, client_id: str, *, name: str, purpose: str, scopes, region_code: str = "",
                  authority: str = "", rate_limit: str = DEFAULT_RATE) -> tuple[ApiClient, str]:
    """Register a department's client; returns it and its secret (shown once, stored hashed)."""
    require_admin(ctx)
    client_id = (client_id or "").strip().lower()
    if not CLIENT_ID.fullmatch(client_id):
        raise ServiceError("客户端编号须以小写字母开头，3–40 位小写字母、数字、点、下划线或连字符", "client_id")
    scopes = _check(ctx, name=name, purpose=purpose, scopes=scopes, region_code=region_code, rate_limit=rate_limit)
    if ctx.session.execute(select(ApiClient.id).where(ApiClient.client_id == client_id)).first():
        raise ServiceError("客户端编号已存在", "client_id", 409)
    secret = _new_secret()
    client = ApiClient(client_id=client_id, name=name.strip(), purpose=purpose.strip(), scopes=" ".join(scopes),
                       region_code=region_code or "", authority=(authority or "").strip()[:120],
                       rate_limit=rate_limit, secret_hash=_hasher.hash(secret), created_by=ctx.actor)
    ctx.session.add(client)
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "api_client.create", object_ref=f"api_client:{client_id}",
                 detail={"scopes": scopes, "region": client.region_code, "authority": client.authority,
                         "rate_limit": rate_limit})
    return client, secret


def find_client(session, client_id: str) -> ApiClient | None:
    if not client_id or len(client_id) > 40:
        return None
    return session.execute(select(ApiClient).where(ApiClient.client_id == client_id)).scalar_one_or_none()


def list_clients(ctx: ServiceContext) -> list[ApiClient]:
    require_admin(ctx)
    return list(ctx.session.execute(select(ApiClient).order_by(ApiClient.client_id)).scalars())


def _revoke_tokens(ctx: ServiceContext, client: ApiClient) -> None:
    ctx.session.execute(update(ApiToken).where(ApiToken.client_pk == client.id).values(revoked=True))


def rotate_secret(ctx: ServiceContext, client: ApiClient) -> str:
    """A new secret; the old one and every token issued with it stop working at once."""
    require_admin(ctx)
    secret = _new_secret()
    client.secret_hash = _hasher.hash(secret)
    client.rotated_at = utcnow()
    _revoke_tokens(ctx, client)
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "api_client.rotate", object_ref=f"api_client:{client.client_id}")
    return secret


def disable_client(ctx: ServiceContext, client: ApiClient, reason: str = "") -> None:
    require_admin(ctx)
    client.active = False
    _revoke_tokens(ctx, client)
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "api_client.disable", object_ref=f"api_client:{client.client_id}",
                 detail={"reason": (reason or "")[:200]})


def check_secret(client: ApiClient | None, secret: str) -> bool:
    """Constant work whether or not the client exists (no client-id probing by timing)."""
    try:
        if client is None or not client.active:
            _hasher.verify(_DUMMY, secret or "")
            return False
        return _hasher.verify(client.secret_hash, secret or "")
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def save_token(session, client: ApiClient, access_token: str, scopes: list[str], expires_in: int) -> None:
    now = utcnow()
    session.add(ApiToken(token_hash=_digest(access_token), client_pk=client.id, scopes=" ".join(scopes),
                         issued_at=now, expires_at=now + timedelta(seconds=expires_in)))
    record_event(session, f"api:{client.client_id}", "api.token", object_ref=f"api_client:{client.client_id}",
                 detail={"scopes": scopes})


def client_for_token(session, token: str, now: datetime | None = None) -> tuple[ApiClient, list[str]] | None:
    """The active client a bearer token belongs to and the token's scopes; ``None`` for an
    unknown, expired or revoked token or a disabled client."""
    if not token or len(token) > 200:
        return None
    row = session.execute(select(ApiToken, ApiClient).join(ApiClient, ApiClient.id == ApiToken.client_pk)
                          .where(ApiToken.token_hash == _digest(token))).first()
    if row is None:
        return None
    tok, client = row
    if tok.revoked or not client.active or tok.expires_at <= (now or utcnow()):
        return None
    granted = set(client.scope_list)  # a scope taken away since issue is gone at once
    return client, [s for s in tok.scopes.split() if s in granted]
