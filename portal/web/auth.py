"""Login, step-up, callback and logout (blueprint ``auth``).

``/login?acr=face&next=/me`` asks the identity provider for (at least) that assurance level as an
essential ``acr`` claim; without ``acr`` the portal asks for the level its profile requires for
non-public information (海南 第二十七条: real-name authentication before the subject sees it).
The callback re-checks everything (``portal.auth.oidc``), re-checks the level, maps the claims
to a subject, rotates the session id and audits ``auth.login``; any failure is a Chinese 401 page
and an ``auth.failed`` event, never a 500. ``/logout`` ends the portal session and then the
provider's (RP-initiated logout).
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, redirect, render_template, request, session, url_for
from werkzeug.routing import BuildError

from ..auth import oidc_client, setup
from ..auth.claims import AcrMap, ClaimNames
from ..auth.login import AcrTooLow, acr_label, actor, establish_identity, record_failure, record_logout
from ..auth.oidc import LoginError
from ..identity import ACR_BY_NAME, acr_satisfies, clear_identity, current_identity, set_identity
from . import abort_with, commit, csrf, ctx, db, runtime

bp = Blueprint("auth", __name__)

LOGOUT_HINT_KEY = "oidc_sid"  # the provider's session id for RP-initiated logout (never the ID token)
ACR_NAMES = {urn: name for name, urn in ACR_BY_NAME.items()}


def init_app(app: Flask) -> None:
    setup(app)
    app.register_blueprint(bp)
    app.jinja_env.globals["current_identity"] = current_identity
    app.jinja_env.globals["session_timed_out"] = lambda: bool(getattr(session, "expired", False))


@bp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def default_next() -> str:
    try:
        return url_for("subject.me")
    except BuildError:
        return url_for("public.home")


def safe_next(value: str | None) -> str:
    """Only a path on this site: no scheme, no host, no ``//`` or backslash tricks."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//") or "\\" in value \
            or any(ord(c) < 32 for c in value):
        return default_next()
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default_next()
    return value


def required_level() -> str:
    """The level this login asks for: ``?acr=password|face``, else the profile's level."""
    name = request.args.get("acr")
    if name:
        level = ACR_BY_NAME.get(name) or (name if name in ACR_NAMES else None)
        if level is None:
            abort_with(400, "未知的认证级别。")
        return level
    from ..permissions import required_acr

    return required_acr(runtime().profile)


@bp.get("/login")
def login():
    level = required_level()
    next_url = safe_next(request.args.get("next"))
    identity = current_identity()
    if identity is not None and acr_satisfies(identity.acr, level):
        return redirect(next_url)
    try:
        return oidc_client().authorization_redirect(level, next_url, force_login=identity is not None)
    except LoginError as exc:
        _failed(exc)
        abort_with(exc.status, exc.message)


def _failed(exc: LoginError, sub: str | None = None) -> None:
    db().rollback()
    record_failure(ctx(), exc.reason, issuer=oidc_client().issuer, sub=sub, source=request.remote_addr or "")
    commit()


@bp.get("/auth/callback")
def callback():
    client = oidc_client()
    try:
        result = client.finish()
    except LoginError as exc:
        _failed(exc)
        abort_with(exc.status, exc.message)
    settings = runtime().settings
    try:
        identity = establish_identity(ctx(), result, issuer=client.issuer, names=ClaimNames.from_settings(settings),
                                      acr_map=AcrMap(settings["PORTAL_OIDC_ACR_MAP"]))
    except AcrTooLow as exc:
        _failed(exc, result.claims.get("sub"))
        retry = url_for("auth.login", acr=ACR_NAMES.get(exc.required, "face"), next=result.next_url)
        return render_template("auth/step_up.html", required_label=acr_label(exc.required),
                               got_label=acr_label(exc.got), retry_url=retry), 401
    except LoginError as exc:
        _failed(exc, result.claims.get("sub"))
        abort_with(exc.status, exc.message)
    set_identity(identity)  # a new session id: nothing from before the login survives
    if result.sid:
        session[LOGOUT_HINT_KEY] = result.sid
    csrf.rotate()
    commit()
    return redirect(result.next_url)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    identity = current_identity()
    if request.method == "GET":
        if identity is None:
            return redirect(url_for("public.home"))
        return render_template("auth/logout.html", identity=identity)
    if identity is None:
        return redirect(url_for("auth.logged_out"))
    hint = session.get(LOGOUT_HINT_KEY)
    clear_identity()
    record_logout(ctx(actor(identity.sub)), identity)
    commit()
    return redirect(oidc_client().end_session_url(hint if isinstance(hint, str) else None)
                    or url_for("auth.logged_out"))


@bp.get("/logged-out")
def logged_out():
    return render_template("auth/logged_out.html")
