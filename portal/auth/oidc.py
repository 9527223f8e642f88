"""The portal's OpenID Connect client (Authlib), with the checks Authlib leaves to its caller.

Flow: discovery → authorization request (code + PKCE S256, ``state``, ``nonce``, the required
assurance level as an *essential* ``acr`` claim) → callback → token request → ID-token checks →
``Identity``. What this module adds to Authlib's Flask client, on purpose:

* the discovery document's ``issuer`` must equal the configured issuer (OIDC Discovery §4.3);
* the authorization response's ``iss`` parameter (RFC 9207) is compared with the issuer, and is
  required when the provider announces ``authorization_response_iss_parameter_supported``;
  Authlib does not look at it;
* the ID token is verified here rather than by ``parse_id_token``: passing ``claims_options`` to
  Authlib silently drops its default ``iss`` check and it never compares ``aud`` with the
  client id, so ``iss``, ``aud`` (exactly this client), ``exp``, ``iat``, ``sub`` and ``nonce``
  are all required explicitly; only asymmetric signature algorithms are accepted;
* a cached JWKS is refreshed once when a signature fails or a key id is unknown (the provider
  rotated its keys), not only on an unknown ``kid`` as Authlib does;
* ``state`` is single use: it is removed from the session before anything else can fail, so a
  replayed callback finds nothing;
* every failure, including ``OAuthError``, JOSE errors and network errors, becomes a
  ``LoginError`` with a Chinese message; the view turns it into a 401 page and an audit event;
* personal claims (name, identity number, organisation) are asked for in the UserInfo response
  only and fetched over the back channel; the ID token is neither kept nor ever put into a URL:
  logout names the client and the provider's session id (``client_id`` + ``logout_hint``), not
  the person (an ``id_token_hint`` would land in browser history and access logs).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import FlaskIntegration, FlaskOAuth2App
from authlib.oidc.core import CodeIDToken
from flask import Flask, redirect, request, session
from joserfc import jwt
from joserfc.errors import BadSignatureError, InvalidKeyIdError, JoseError, MissingKeyError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from .claims import AcrMap

NAME = "portal"
ASYMMETRIC_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
LEEWAY_SECONDS = 60
METADATA_TTL_SECONDS = 3600


class LoginError(Exception):
    """A login that must not succeed. ``reason`` goes to the audit trail, ``message`` to the user."""

    def __init__(self, reason: str, message: str = "登录未能完成，请重新登录。", *, status: int = 401):
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.status = status


UNAVAILABLE = "统一身份认证服务暂时无法访问，请稍后再试。"


@dataclass(frozen=True)
class LoginResult:
    claims: dict[str, Any]  # verified ID-token claims plus the UserInfo claims
    sid: str | None  # the provider's session id (``sid`` claim), the logout hint; never personal data
    required_acr: str  # the portal level this login asked for
    next_url: str


class PortalOAuthApp(FlaskOAuth2App):
    """Authlib's Flask OAuth 2 client, bound to one issuer, with the checks listed above."""

    def __init__(self, *, issuer: str, transport=None, timeout: float = 10.0, **kwargs):
        super().__init__(FlaskIntegration(NAME), name=NAME,
                         server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration", **kwargs)
        self.issuer = issuer
        self.transport = transport
        self.timeout = timeout

    # -- HTTP --------------------------------------------------------------------------------
    def _prepare(self, http):
        http.default_timeout = self.timeout
        if self.transport is not None:
            http.mount(self.issuer.rstrip("/") + "/", self.transport)
        return http

    def _get_session(self):
        return self._prepare(super()._get_session())

    def _get_oauth_client(self, **metadata):
        return self._prepare(super()._get_oauth_client(**metadata))

    # -- discovery ---------------------------------------------------------------------------
    def load_server_metadata(self):
        loaded_at = self.server_metadata.get("_loaded_at")
        if loaded_at is not None and time.time() - loaded_at > METADATA_TTL_SECONDS:
            self.server_metadata.clear()
        metadata = super().load_server_metadata()
        if metadata.get("issuer") != self.issuer:
            self.server_metadata.clear()  # fetch again next time: the configuration may be fixed
            raise LoginError("discovery_issuer_mismatch", "身份认证服务的发行者标识与配置不一致，已拒绝登录。")
        return metadata

    # -- ID token ----------------------------------------------------------------------------
    def verify_id_token(self, token: dict, nonce: str) -> dict[str, Any]:
        raw = token.get("id_token")
        if not isinstance(raw, str):
            raise LoginError("no_id_token")
        metadata = self.load_server_metadata()
        algs = [a for a in metadata.get("id_token_signing_alg_values_supported") or ["RS256"] if a in ASYMMETRIC_ALGS]
        registry = JWSRegistry(algorithms=algs or ["RS256"])
        try:
            decoded = jwt.decode(raw, KeySet.import_key_set(self.fetch_jwk_set()), registry=registry)
        except (BadSignatureError, InvalidKeyIdError, MissingKeyError):
            # The provider may have rotated its keys since the JWKS was cached: refresh once.
            decoded = jwt.decode(raw, KeySet.import_key_set(self.fetch_jwk_set(force=True)), registry=registry)
        options = {"iss": {"essential": True, "value": self.issuer},
                   "aud": {"essential": True, "value": self.client_id},
                   "sub": {"essential": True}, "exp": {"essential": True}, "iat": {"essential": True},
                   "nonce": {"essential": True, "value": nonce}}
        claims = CodeIDToken(decoded.claims, decoded.header, options,
                             {"nonce": nonce, "client_id": self.client_id,
                              "access_token": token.get("access_token")})
        claims.validate(leeway=LEEWAY_SECONDS)
        if claims["aud"] not in (self.client_id, [self.client_id]):
            raise LoginError("aud_untrusted")  # OIDC Core 3.1.3.7: no additional audiences
        return dict(claims)


class OidcClient:
    """One per application: the configured issuer (or the embedded development IdP)."""

    def __init__(self, app: Flask, *, issuer: str, client_id: str, client_secret: str, scopes: str,
                 acr_map: AcrMap, redirect_uri: str, post_logout_redirect_uri: str,
                 wanted_claims: tuple[str, ...] = ("name",), transport=None, timeout: float = 10.0):
        self.issuer = issuer
        self.acr_map = acr_map
        self.wanted_claims = wanted_claims  # name, identity number, organisation, role
        self.redirect_uri = redirect_uri
        self.post_logout_redirect_uri = post_logout_redirect_uri
        self.app = PortalOAuthApp(issuer=issuer, transport=transport, timeout=timeout, client_id=client_id,
                                  client_secret=client_secret,
                                  client_kwargs={"scope": scopes, "code_challenge_method": "S256"})

    # -- step 1: to the provider ------------------------------------------------------------
    def authorization_redirect(self, required_acr: str, next_url: str, *, force_login: bool = False):
        values = self.acr_map.request_values(required_acr)
        wanted = {name: None for name in self.wanted_claims}  # voluntary claims (OIDC Core 5.5)
        # Personal claims from UserInfo only: the ID token stays free of them (OIDC Core 5.5).
        claims_request = {"id_token": {"acr": {"essential": True, "values": values}}, "userinfo": wanted}
        extra: dict[str, str] = {"acr_values": " ".join(values), "claims": json.dumps(claims_request)}
        if force_login:
            extra["prompt"] = "login"
        try:
            rv = self.app.create_authorization_url(self.redirect_uri, **extra)
        except (OAuthError, requests.RequestException, ValueError, KeyError) as exc:
            raise LoginError(f"discovery_failed:{type(exc).__name__}", UNAVAILABLE, status=503) from exc
        self.app.save_authorize_data(redirect_uri=self.redirect_uri, required_acr=required_acr, next=next_url, **rv)
        return redirect(rv["url"])

    # -- step 2: back from the provider -----------------------------------------------------
    def finish(self) -> LoginResult:
        args = request.args
        state = args.get("state", "")
        state_data = self.app.framework.get_state_data(session, state) if state else None
        if state:
            self.app.framework.clear_state_data(session, state)  # single use, whatever happens next
        if state_data is None:
            raise LoginError("state_mismatch", "登录请求已失效或已被使用，请重新登录。")
        if "error" in args:
            error = args.get("error", "")[:60]
            message = "您已取消登录。" if error == "access_denied" else "统一身份认证未通过，请重新登录。"
            raise LoginError(f"idp_error:{error}", message)
        try:
            metadata = self.app.load_server_metadata()
            iss = args.get("iss")
            if iss is not None and iss != self.issuer:
                raise LoginError("iss_parameter_mismatch", "认证响应来自未配置的身份认证服务，已拒绝登录。")
            if iss is None and metadata.get("authorization_response_iss_parameter_supported"):
                raise LoginError("iss_parameter_missing", "认证响应缺少发行者标识，已拒绝登录。")
            code = args.get("code")
            if not code:
                raise LoginError("missing_code")
            token = self.app.fetch_access_token(redirect_uri=state_data["redirect_uri"], code=code,
                                                code_verifier=state_data["code_verifier"])
            claims = self.app.verify_id_token(token, state_data["nonce"])
            claims = self._add_userinfo(claims, token, metadata)
        except LoginError:
            raise
        except OAuthError as exc:  # e.g. invalid_grant for a code that was already used
            raise LoginError(f"token_error:{exc.error}"[:80]) from exc
        except JoseError as exc:  # bad signature, expired, wrong iss/aud/nonce ...
            raise LoginError(f"id_token_invalid:{type(exc).__name__}:{getattr(exc, 'claim', '')}"[:80],
                             "身份凭证校验未通过，已拒绝登录。") from exc
        except requests.RequestException as exc:
            raise LoginError(f"network_error:{type(exc).__name__}", UNAVAILABLE) from exc
        except (ValueError, KeyError, TypeError) as exc:  # malformed responses
            raise LoginError(f"malformed_response:{type(exc).__name__}") from exc
        sid = claims.get("sid")
        return LoginResult(claims=claims, sid=sid if isinstance(sid, str) and 0 < len(sid) <= 200 else None,
                           required_acr=state_data["required_acr"], next_url=state_data.get("next") or "/")

    def _add_userinfo(self, claims: dict, token: dict, metadata: dict) -> dict:
        """The personal claims come from the UserInfo response (the portal asks for them there).
        Its ``sub`` must be the ID token's (5.3.2); the ID token's values win, and assurance
        (``acr``) is only ever taken from the signed ID token."""
        if not metadata.get("userinfo_endpoint") or not token.get("access_token"):
            return claims
        info = self.app.userinfo(token=token)
        if info.get("sub") != claims["sub"]:
            raise LoginError("userinfo_sub_mismatch")
        extra = {k: v for k, v in info.items() if k in self.wanted_claims and k not in claims}
        return {**claims, **extra}

    # -- logout --------------------------------------------------------------------------------
    def end_session_url(self, sid: str | None = None) -> str | None:
        """The provider's RP-initiated logout URL, or None when it has none (or is unreachable).

        RP-Initiated Logout 1.0 §2: ``client_id`` identifies the client (and lets the provider
        check ``post_logout_redirect_uri``) and ``logout_hint`` may name the session; the ID
        token is not sent, because this URL passes through the browser."""
        try:
            metadata = self.app.load_server_metadata()
        except (LoginError, OAuthError, requests.RequestException, ValueError):
            return None
        if not metadata.get("end_session_endpoint"):
            return None
        extra = {"logout_hint": sid} if sid else {}
        rv = self.app.create_logout_url(post_logout_redirect_uri=self.post_logout_redirect_uri,
                                        client_id=self.app.client_id, **extra)
        return rv["url"]
