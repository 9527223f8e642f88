"""The embedded development identity provider, built from Authlib's server components.

An OpenID Connect provider for one client (the portal itself): authorization code flow with
PKCE (S256 required from every client), ``nonce`` required, the RFC 9207 ``iss`` parameter on
every authorization response, RS256 ID tokens carrying ``acr``/``amr``, a UserInfo endpoint, a
JWKS and a discovery document.

The ID token carries no personal data: a pairwise ``sub`` (a keyed hash of the demo identity
for this client) plus assurance. Name, identity number and organisation are answered only by
the UserInfo endpoint, which the portal calls over the back channel with the access token: an
ID token that ends up in a URL, a log or a browser history cannot reveal who logged in
(GB/T 35273 minimisation; 湖南 第十六条). Development and demonstration only: ``portal.auth.setup`` mounts it only when no
``PORTAL_OIDC_ISSUER`` is configured and refuses it under ``PORTAL_ENV=production``.

State (authorization codes, seen nonces) is kept in this process; the signing key is generated
once into ``PORTAL_VAR_DIR``.
"""
from __future__ import annotations

import hmac
import json
import os
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9207 import IssuerParameter
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import RSAKey

CODE_TTL_SECONDS = 120
ID_TOKEN_TTL_SECONDS = 300
ACCESS_TOKEN_TTL_SECONDS = 300
SCOPES = ("openid", "profile")
CLAIMS = ("sub", "name", "id_number", "legal_rep_of", "org_role", "acr", "amr", "auth_time")
LEGAL_REP_ROLE = "legal_representative"


def load_signing_key(var_dir: Path) -> RSAKey:
    """The provider's RS256 key, generated once (file mode 0600)."""
    path = var_dir / "dev-idp-key.json"
    if path.exists():
        return RSAKey.import_key(json.loads(path.read_text()))
    var_dir.mkdir(parents=True, exist_ok=True)
    key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, private=True)
    key.ensure_kid()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race
        return RSAKey.import_key(json.loads(path.read_text()))
    with os.fdopen(fd, "w") as fh:
        json.dump(key.as_dict(private=True), fh)
    return key


@dataclass
class DevClient(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope):
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return hmac.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_basic", "client_secret_post") if endpoint == "token" else True

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class DevUser:
    """The person chosen on the login page and how they authenticated."""

    sub: str  # pairwise
    claims: dict  # name, id_number, legal_rep_of, org_role: UserInfo only, never the ID token
    acr: str
    amr: list[str]
    auth_time: int = field(default_factory=lambda: int(time.time()))
    sid: str = field(default_factory=lambda: secrets.token_urlsafe(16))  # this login, the logout hint


@dataclass
class DevCode(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    user: DevUser
    expires_at: float

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.user.auth_time

    def get_acr(self):
        return self.user.acr

    def get_amr(self):
        return self.user.amr


class RequireS256(CodeChallenge):
    """PKCE for every client, confidential ones included, and only S256 (RFC 9700 §2.1.1)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        if not grant.request.payload.data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge'")
        if grant.request.payload.data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256")
        return super().validate_code_challenge(grant, redirect_uri)


class DevIdP:
    """One provider per application."""

    def __init__(self, *, issuer: str, key: RSAKey, client: DevClient):
        self.issuer = issuer
        self.key = key
        self.client = client
        self.id_token_ttl = ID_TOKEN_TTL_SECONDS
        self._codes: dict[str, DevCode] = {}
        self._nonces: OrderedDict[str, float] = OrderedDict()
        self._tokens: dict[str, tuple[DevUser, float]] = {}  # access token -> (user, expires_at)
        self._lock = threading.Lock()
        self.server = self._build_server()

    @property
    def client_id(self) -> str:
        return self.client.client_id

    @property
    def client_secret(self) -> str:
        return self.client.client_secret

    def jwks(self) -> dict:
        return {"keys": [self.key.as_dict(private=False)]}

    def metadata(self) -> dict:
        i = self.issuer
        return {
            "issuer": i,
            "authorization_endpoint": f"{i}/authorize",
            "token_endpoint": f"{i}/token",
            "jwks_uri": f"{i}/jwks",
            "userinfo_endpoint": f"{i}/userinfo",
            "end_session_endpoint": f"{i}/logout",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": list(SCOPES),
            "claims_supported": list(CLAIMS),
            "claims_parameter_supported": True,
            "acr_values_supported": [],  # filled by the blueprint from portal.identity
            "authorization_response_iss_parameter_supported": True,
        }

    # -- code store ---------------------------------------------------------------------------
    def save_code(self, code: DevCode) -> None:
        with self._lock:
            now = time.time()
            for stale in [c for c, item in self._codes.items() if item.expires_at < now]:
                del self._codes[stale]
            self._codes[code.code] = code
            if code.nonce:
                self._nonces[code.nonce] = now
                while len(self._nonces) > 10_000:
                    self._nonces.popitem(last=False)

    def find_code(self, code: str, client_id: str) -> DevCode | None:
        with self._lock:
            item = self._codes.get(code)
        if item is None or item.client_id != client_id or item.expires_at < time.time():
            return None
        return item

    def delete_code(self, code: DevCode) -> None:
        with self._lock:
            self._codes.pop(code.code, None)

    def nonce_seen(self, nonce: str) -> bool:
        with self._lock:
            return nonce in self._nonces

    # -- access tokens (for UserInfo) ---------------------------------------------------------
    def save_token(self, token: dict, request) -> None:
        with self._lock:
            now = time.time()
            for stale in [t for t, (_, exp) in self._tokens.items() if exp < now]:
                del self._tokens[stale]
            self._tokens[token["access_token"]] = (request.user, now + ACCESS_TOKEN_TTL_SECONDS)

    def userinfo(self, access_token: str) -> dict | None:
        """The claims for a live access token (OIDC Core 5.3), else ``None``."""
        with self._lock:
            item = self._tokens.get(access_token)
        if item is None or item[1] < time.time():
            return None
        user = item[0]
        return {"sub": user.sub, **user.claims}

    # -- Authlib server -----------------------------------------------------------------------
    def _build_server(self) -> AuthorizationServer:
        idp = self

        class CodeGrant(AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

            def save_authorization_code(self, code, request):
                data = request.payload.data
                idp.save_code(DevCode(
                    code=code, client_id=request.client.get_client_id(), redirect_uri=request.payload.redirect_uri,
                    scope=request.scope, nonce=data.get("nonce"), code_challenge=data.get("code_challenge"),
                    code_challenge_method=data.get("code_challenge_method"), user=request.user,
                    expires_at=time.time() + CODE_TTL_SECONDS))

            def query_authorization_code(self, code, client):
                return idp.find_code(code, client.get_client_id())

            def delete_authorization_code(self, authorization_code):
                idp.delete_code(authorization_code)

            def authenticate_user(self, authorization_code):
                return authorization_code.user

        class IdToken(OpenIDCode):
            def exists_nonce(self, nonce, request):
                return idp.nonce_seen(nonce)

            def resolve_client_private_key(self, client):
                return idp.key

            def get_client_algorithm(self, client):
                return "RS256"

            def get_encode_header(self, client):
                return {"alg": "RS256", "kid": idp.key.kid, "typ": "JWT"}

            def get_client_claims(self, client):
                return {"iss": idp.issuer, "aud": client.get_client_id(),
                        "exp": int(time.time()) + idp.id_token_ttl}

            def generate_user_info(self, user, scope):
                return UserInfo(sub=user.sub, sid=user.sid)  # personal claims only from UserInfo

        class Issuer(IssuerParameter):
            def get_issuer(self):
                return idp.issuer

        server = AuthorizationServer(query_client=self._query_client, save_token=self.save_token)
        server.load_config({"OAUTH2_TOKEN_EXPIRES_IN": {"authorization_code": ACCESS_TOKEN_TTL_SECONDS}})
        server.register_grant(CodeGrant, [IdToken(require_nonce=True), RequireS256(required=True)])
        server.register_extension(Issuer())
        return server

    def _query_client(self, client_id):
        return self.client if client_id == self.client.client_id else None
