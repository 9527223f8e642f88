"""One central CSRF check for every unsafe request (forms and htmx alike).

A random seed lives in its own HttpOnly cookie (no session row is needed, so anonymous public
pages stay write-free); the token is an HMAC of that seed under the secret key. Every POST, PUT,
PATCH and DELETE must carry the token as the form field ``csrf_token`` or the header
``X-CSRF-Token`` (``base.html`` sends it from ``<body hx-headers>``). A cross-site page can
neither read the cookie nor compute the HMAC. The seed is replaced at login together with the
session id. Endpoints called server to server (the development IdP's token endpoint) are marked
with ``@exempt``.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Flask, current_app, g, request

from . import abort_with

COOKIE = "portal_csrf"
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def token_for_seed(secret_key: str, seed: str) -> str:
    return hmac.new(secret_key.encode(), b"csrf:" + seed.encode("utf-8", "replace"), hashlib.sha256).hexdigest()


def _seed() -> str:
    seed = g.get("csrf_seed")
    if seed is None:
        seed = request.cookies.get(COOKIE, "")
        if not (20 <= len(seed) <= 100):
            seed = secrets.token_urlsafe(32)
            g.csrf_new_seed = True
        g.csrf_seed = seed
    return seed


def csrf_token() -> str:
    """The token to put in forms (``{{ csrf_token() }}``) and htmx headers."""
    return token_for_seed(current_app.config["SECRET_KEY"], _seed())


def rotate() -> None:
    """A new seed (at login): tokens from pages rendered before it stop working."""
    g.csrf_seed = secrets.token_urlsafe(32)
    g.csrf_new_seed = True


def exempt(view):
    view.csrf_exempt = True
    return view


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.before_request
    def _check_csrf():
        if request.method in SAFE_METHODS:
            return None
        view = app.view_functions.get(request.endpoint or "")
        if view is not None and getattr(view, "csrf_exempt", False):
            return None
        seed = request.cookies.get(COOKIE, "")
        sent = request.headers.get(HEADER) or request.form.get(FIELD, "")
        # bytes, not str: compare_digest refuses a str with non-ASCII characters (a TypeError, a
        # 500); a token is hex, so anything else is simply a mismatch
        sent_bytes = sent.encode("utf-8", "replace")
        if not seed or not sent or not hmac.compare_digest(
                sent_bytes, token_for_seed(app.config["SECRET_KEY"], seed).encode("ascii")):
            abort_with(400, "页面已过期或请求来源无法验证，请刷新页面后重试。")
        return None

    @app.after_request
    def _set_seed_cookie(response):
        if g.get("csrf_new_seed"):
            response.set_cookie(COOKIE, g.csrf_seed, httponly=True, samesite="Lax",
                                secure=app.config.get("SESSION_COOKIE_SECURE", False))
        return response
