"""Real-name login: OIDC client, claim mapping, assurance levels, server-side sessions.

``setup(app)`` wires it into an application: the configured issuer (``PORTAL_OIDC_ISSUER``), or,
when none is configured and ``PORTAL_ENV`` is not ``production``, the embedded development
identity provider mounted at ``/dev-idp``. Everything else reads the result only through
``portal.identity``.
"""
from __future__ import annotations

from flask import Flask, current_app

from ..runtime import ConfigError
from .claims import AcrMap, ClaimNames
from .oidc import OidcClient
from .sessions import DatabaseSessionInterface

EXTENSION = "portal.oidc"


def setup(app: Flask) -> OidcClient:
    settings = app.config
    base = settings["PORTAL_BASE_URL"].rstrip("/")
    app.session_interface = DatabaseSessionInterface()
    app.config["SESSION_COOKIE_NAME"] = "portal_session"
    for name in ("PORTAL_SESSION_IDLE_MINUTES", "PORTAL_SESSION_MAX_HOURS", "PORTAL_OIDC_TIMEOUT"):
        try:
            if float(settings[name]) <= 0:
                raise ValueError
        except ValueError:
            raise ConfigError(f"{name} 必须是正数") from None
    try:
        acr_map = AcrMap(settings["PORTAL_OIDC_ACR_MAP"])
        names = ClaimNames.from_settings(settings)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc

    issuer = settings["PORTAL_OIDC_ISSUER"].strip()
    transport = None
    if issuer:
        client_id = settings["PORTAL_OIDC_CLIENT_ID"].strip()
        client_secret = settings["PORTAL_OIDC_CLIENT_SECRET"]
        if not client_id or not client_secret:
            raise ConfigError("配置了 PORTAL_OIDC_ISSUER 时必须同时配置 PORTAL_OIDC_CLIENT_ID 和 PORTAL_OIDC_CLIENT_SECRET")
        if settings["PORTAL_ENV"] == "production" and not issuer.startswith("https://"):
            raise ConfigError("生产环境的 PORTAL_OIDC_ISSUER 必须使用 https")
    else:
        if settings["PORTAL_ENV"] == "production":
            raise ConfigError("生产环境必须配置 PORTAL_OIDC_ISSUER（统一身份认证平台）；内置开发身份提供方不得用于生产")
        dev_idp = settings["PORTAL_DEV_IDP"].strip().lower()
        if dev_idp not in ("auto", "on"):
            raise ConfigError(f"PORTAL_DEV_IDP 只能是 auto 或 on，而不是 {settings['PORTAL_DEV_IDP']!r}")
        if dev_idp == "auto" and not _is_loopback(base):
            # Anyone can log in as any demo identity there: never on a reachable address by accident.
            raise ConfigError(f"PORTAL_BASE_URL（{base}）不是本机地址，未配置 PORTAL_OIDC_ISSUER 时不会启用内置开发身份提供方；"
                              "请配置统一身份认证平台，或在仅含合成数据的演示环境设置 PORTAL_DEV_IDP=on")
        from .. import devidp
        from .transport import WSGIAdapter

        dev = devidp.init_app(app)
        issuer, client_id, client_secret = dev.issuer, dev.client_id, dev.client_secret
        transport = WSGIAdapter(app)
    client = OidcClient(app, issuer=issuer, client_id=client_id, client_secret=client_secret,
                        scopes=settings["PORTAL_OIDC_SCOPES"], acr_map=acr_map,
                        redirect_uri=f"{base}/auth/callback", post_logout_redirect_uri=f"{base}/logged-out",
                        wanted_claims=("name", names.id_number, names.org, names.role_claim),
                        transport=transport, timeout=float(settings["PORTAL_OIDC_TIMEOUT"]))
    app.extensions[EXTENSION] = client
    return client


def _is_loopback(base_url: str) -> bool:
    import ipaddress
    from urllib.parse import urlsplit

    host = (urlsplit(base_url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def oidc_client() -> OidcClient:
    return current_app.extensions[EXTENSION]
