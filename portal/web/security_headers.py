"""Security headers on every response: a strict Content-Security-Policy, HSTS in production.

The policy allows script only from the portal's own origin: no inline ``<script>``, no inline
event handlers, no ``eval`` (htmx runs with ``allowEval: false``; the chat panel's behaviour is
``static/js/chat.js``). Styles come from ``static/css``; the one inline ``<style>`` (the QR scan
page, inlined so the page loads in one request on a slow network) is allowed by its SHA-256,
computed here from the same file the template inlines (``inline_style``), so the hash and the
text cannot drift apart. Pages in the page cache hold no per-request nonce, which is why hashes
and not nonces are used. ``frame-ancestors 'none'`` forbids framing (clickjacking), as
``X-Frame-Options: DENY`` does for older browsers.

Production must be served over https (``PORTAL_BASE_URL``): otherwise the session and CSRF
cookies silently lose ``Secure`` and HSTS means nothing, so the portal refuses to start.
"""
from __future__ import annotations

import base64
import hashlib
from functools import cache
from pathlib import Path

from flask import Flask
from markupsafe import Markup

from ..runtime import ConfigError

HSTS = "max-age=31536000"  # one year; subdomains are not the portal's to decide


@cache
def _inline_css(static_folder: str, name: str) -> tuple[str, str]:
    text = (Path(static_folder) / name).read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return text, f"'sha256-{digest}'"


#: Stylesheets a template inlines with ``inline_style``; their hashes are in every policy.
INLINE_STYLES = ("css/scan.css",)


def policy(static_folder: str) -> str:
    hashes = " ".join(_inline_css(static_folder, name)[1] for name in INLINE_STYLES)
    return "; ".join((
        "default-src 'self'",
        "script-src 'self'",
        f"style-src 'self' {hashes}",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ))


def check_base_url(settings: dict) -> None:
    """Production only over https: the cookies' ``Secure`` flag follows PORTAL_BASE_URL."""
    if settings.get("PORTAL_ENV") == "production" and not settings.get("PORTAL_BASE_URL", "").startswith("https://"):
        raise ConfigError(f"生产环境的 PORTAL_BASE_URL 必须使用 https（当前为 {settings.get('PORTAL_BASE_URL')!r}）；"
                          "否则会话 Cookie 将不带 Secure 标志")


def init_app(app: Flask) -> None:
    settings = app.extensions["portal"].settings
    check_base_url(settings)
    static_folder = app.static_folder
    csp = policy(static_folder)
    production = settings.get("PORTAL_ENV") == "production"

    def inline_style(name: str) -> Markup:
        """The text of ``static/<name>`` for a ``<style>`` element (listed in INLINE_STYLES)."""
        if name not in INLINE_STYLES:
            raise ValueError(f"{name} is not in INLINE_STYLES: its hash would be missing from the policy")
        return Markup(_inline_css(static_folder, name)[0])

    app.jinja_env.globals["inline_style"] = inline_style

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("Content-Security-Policy", csp)
        if production:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
