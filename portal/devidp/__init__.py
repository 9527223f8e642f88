"""The embedded development identity provider, mounted at ``/dev-idp`` (see ``server.py``).

``make run`` uses it, so a newcomer can log in as a demo credit subject at once; setting
``PORTAL_OIDC_ISSUER`` (plus client id and secret) replaces it by a real provider, and
``PORTAL_ENV=production`` refuses it.
"""
from __future__ import annotations

import json
from pathlib import Path

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from flask import Blueprint, Flask, current_app, jsonify, redirect, render_template, request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jws import JWSRegistry

from ..identity import ACR_BY_NAME, ACR_LEVELS
from ..web import abort_with, db, runtime
from ..web.csrf import exempt
from .identities import asserted_number, demo_identities
from .server import LEGAL_REP_ROLE, DevClient, DevIdP, DevUser, load_signing_key

PREFIX = "/dev-idp"
EXTENSION = "portal.devidp"
CLIENT_ID = "health-credit-portal-dev"
METHODS = {  # login method → (acr, amr per RFC 8176, label)
    "face": (ACR_BY_NAME["face"], ["face"], "人脸识别实名核验"),
    "password": (ACR_BY_NAME["password"], ["pwd"], "账号密码"),
}

OAUTH_PARAMS = ("response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge",
                "code_challenge_method", "prompt", "acr_values", "response_mode")

bp = Blueprint("devidp", __name__, url_prefix=PREFIX)


def init_app(app: Flask) -> DevIdP:
    if app.config["PORTAL_ENV"] == "production":  # portal.auth.setup refuses earlier; belt and braces
        raise RuntimeError("the development identity provider must not run in production")
    rt = app.extensions["portal"]
    base = app.config["PORTAL_BASE_URL"].rstrip("/")
    client = DevClient(client_id=CLIENT_ID, client_secret=rt.protector.sign("dev-idp-client-secret", 40),
                       redirect_uris=(f"{base}/auth/callback",), post_logout_redirect_uris=(f"{base}/logged-out",))
    idp = DevIdP(issuer=base + PREFIX, key=load_signing_key(Path(app.config["PORTAL_VAR_DIR"])), client=client)
    app.extensions[EXTENSION] = idp
    app.register_blueprint(bp)
    return idp


@bp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _idp() -> DevIdP:
    return current_app.extensions[EXTENSION]


def _identities():
    rt = runtime()
    leaves = rt.profile.leaf_regions() if hasattr(rt.profile, "leaf_regions") else ()
    area = leaves[0].code if leaves else "430102"
    return demo_identities(db(), rt.protector, area)


@bp.get("/.well-known/openid-configuration")
def discovery():
    data = _idp().metadata()
    data["acr_values_supported"] = sorted(ACR_LEVELS, key=ACR_LEVELS.get)
    return jsonify(data)


@bp.get("/jwks")
def jwks():
    return jsonify(_idp().jwks())


def _requested_acr() -> str | None:
    """The weakest level the client accepts (``claims`` essential ``acr``, or ``acr_values``)."""
    values: list[str] = []
    try:
        acr = json.loads(request.values.get("claims") or "{}").get("id_token", {}).get("acr") or {}
        values = list(acr.get("values") or ([acr["value"]] if "value" in acr else []))
    except (ValueError, AttributeError, TypeError):
        values = []
    values = values or (request.values.get("acr_values") or "").split()
    known = [v for v in values if v in ACR_LEVELS]
    return min(known, key=ACR_LEVELS.get) if known else None


@bp.route("/authorize", methods=["GET", "POST"])
def authorize():
    idp = _idp()
    if not all(value.isascii() and value.isprintable() for value in request.values.values()):
        # OAuth parameters are ASCII (RFC 6749 Appendix A); Authlib would fail on the others
        # while building its error (a 500), so refuse them here in words
        abort_with(400, "开发身份提供方拒绝了该认证请求：参数只能包含 ASCII 可打印字符。")
    try:
        grant = idp.server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        if error.redirect_uri:  # a known client and a registered redirect URI: tell the client
            return idp.server.handle_error_response(None, error)
        abort_with(400, f"开发身份提供方拒绝了该认证请求：{error.description or error.error}")
    people = _identities()
    if request.method == "GET":
        requested = _requested_acr()
        return render_template("devidp/login.html", people=people, methods=METHODS, requested=requested,
                               requested_label=next((m[2] for m in METHODS.values() if m[0] == requested), None),
                               default_method="password" if requested and ACR_LEVELS[requested] < 2 else "face",
                               action=request.full_path)
    user = None
    if request.form.get("decision") != "cancel":
        chosen = next((p for p in people if p.key == request.form.get("who")), None)
        method = METHODS.get(request.form.get("method", ""))
        if chosen is None or method is None:
            abort_with(400, "请选择登录身份和认证方式。")
        claims = {"name": chosen.name, "id_number": asserted_number(chosen, db(), runtime().protector)}
        if chosen.legal_rep_of:
            claims.update(legal_rep_of=chosen.legal_rep_of, org_role=LEGAL_REP_ROLE)
        user = DevUser(sub=pairwise_sub(idp, chosen.key), claims=claims, acr=method[0], amr=list(method[1]))
    return idp.server.create_authorization_response(grant=grant, grant_user=user)


def pairwise_sub(idp: DevIdP, key: str) -> str:
    """OIDC Core 8.1: a ``sub`` only this client can correlate; derived from the deployment's key,
    so it is stable across restarts and says nothing about the person."""
    return "pw-" + runtime().protector.sign(f"dev-idp-pairwise|{idp.client_id}|{key}", 32)


@bp.route("/userinfo", methods=["GET", "POST"])
@exempt  # server to server: the bearer access token authenticates, there is no browser
def userinfo():
    """OIDC Core 5.3: the claims for the access token in ``Authorization: Bearer`` (RFC 6750)."""
    scheme, _, value = (request.headers.get("Authorization") or "").partition(" ")
    claims = _idp().userinfo(value.strip()) if scheme.lower() == "bearer" and value.strip() else None
    if claims is None:
        response = jsonify({"error": "invalid_token"})
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    return jsonify(claims)


@bp.post("/token")
@exempt  # server to server: the client authenticates with its secret, there is no browser
def token():
    return _idp().server.create_token_response()


@bp.get("/logout")
def end_session():
    """RP-initiated logout: the development provider keeps no login session of its own, so it
    only checks the request and sends the browser back to a registered address. The portal sends
    ``client_id`` (and ``logout_hint``), never the ID token; a hint from another client is still
    checked."""
    idp = _idp()
    target = request.args.get("post_logout_redirect_uri")
    client_id = request.args.get("client_id")
    if client_id is not None and client_id != idp.client_id:
        abort_with(400, "退出请求中的客户端标识无效。")
    hint = request.args.get("id_token_hint")
    if hint:
        try:
            decoded = jwt.decode(hint, idp.key, registry=JWSRegistry(algorithms=["RS256"]))
            if decoded.claims.get("aud") not in (idp.client_id, [idp.client_id]):
                raise JoseError("aud")
        except (JoseError, ValueError):
            abort_with(400, "退出请求中的身份凭证无效。")
    if target and target in idp.client.post_logout_redirect_uris:
        state = request.args.get("state")
        return redirect(add_params_to_uri(target, {"state": state}) if state else target)
    return render_template("devidp/logged_out.html")


__all__ = ["DevIdP", "bp", "init_app"]
