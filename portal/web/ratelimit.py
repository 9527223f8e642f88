"""Per-client rate limits (Flask-Limiter) and the client address behind trusted proxies.

One table says what is limited; every limit counts per client address, in one store shared by
every process and node that serves (``PORTAL_RATELIMIT_STORAGE``: ``memory://`` for one process,
``redis://`` or ``memcached://`` when several serve). Over a limit the answer is a 429 with a
Chinese page (or the htmx fragment's place holder) and ``Retry-After``.

The client address is ``request.remote_addr``; behind ``PORTAL_TRUSTED_PROXIES`` reverse proxies
werkzeug's ProxyFix takes it from that many ``X-Forwarded-For`` hops (never more: a client could
otherwise forge its address and escape every limit).

Views that must answer a breach in their own way (the chatbot's message, the staff login's
back-off) call ``hit`` with their own scope and key.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass

from flask import Flask, Response, current_app, render_template, request
from flask_limiter import Limiter, RateLimitExceeded
from limits import parse
from limits.errors import ConfigurationError
from limits.storage import MemoryStorage
from werkzeug.middleware.proxy_fix import ProxyFix

from ..runtime import ConfigError

log = logging.getLogger(__name__)

EXTENSION = "portal.ratelimit"
MESSAGE = "请求过于频繁，请稍后再试。"


@dataclass(frozen=True)
class RouteLimit:
    endpoint: str
    setting: str
    methods: tuple[str, ...] | None = None  # None: every method


#: What is limited, per client address. Search covers the htmx fragment (same URL).
ROUTE_LIMITS = (
    RouteLimit("public.search", "PORTAL_RATELIMIT_SEARCH"),
    RouteLimit("auth.login", "PORTAL_RATELIMIT_LOGIN"),
    RouteLimit("auth.callback", "PORTAL_RATELIMIT_LOGIN"),
    RouteLimit("staff.login", "PORTAL_RATELIMIT_LOGIN", ("POST",)),
    RouteLimit("public_report.report", "PORTAL_RATELIMIT_SEARCH", ("POST",)),
    RouteLimit("progress.lookup", "PORTAL_RATELIMIT_LOGIN", ("POST",)),  # guessing codes
)



class ThreadSafeMemoryStorage(MemoryStorage):
    """``memory://`` with its expiry timer started under a lock. limits' own MemoryStorage
    replaces and starts ``self.timer`` unguarded, so two threads of one process (the threaded
    development server, gthread workers) can start one Timer twice (a KeyError in a thread)."""

    STORAGE_SCHEME = ["portal-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options) -> None:
        self._timer_lock = threading.Lock()
        super().__init__(uri, wrap_exceptions, **options)

    def _MemoryStorage__schedule_expiry(self) -> None:  # the parent's private hook, by its mangled name
        with self._timer_lock:
            super()._MemoryStorage__schedule_expiry()

def client_address() -> str:
    """The client's address (after ProxyFix); the limit key."""
    return request.remote_addr or "-"


def _limit_value(settings, name: str) -> str:
    value = (settings.get(name) or "").strip()
    try:
        parse(value)
    except ValueError:
        raise ConfigError(f"{name} 须是形如 60/minute 的频率（次数/时间单位），而不是 {value!r}") from None
    return value


def chat_rate(settings) -> float:
    try:
        rate = float(settings.get("PORTAL_CHAT_RATE_PER_MINUTE") or 20)
        if not rate > 0:
            raise ValueError
    except ValueError:
        raise ConfigError("PORTAL_CHAT_RATE_PER_MINUTE 必须是正数") from None
    return rate


def init_app(app: Flask) -> Limiter:
    settings = app.config
    try:
        proxies = int(settings.get("PORTAL_TRUSTED_PROXIES") or 0)
        if proxies < 0:
            raise ValueError
    except ValueError:
        raise ConfigError("PORTAL_TRUSTED_PROXIES 必须是 0 或正整数（反向代理的层数）") from None
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    chat_rate(settings)
    storage = (settings.get("PORTAL_RATELIMIT_STORAGE") or "memory://").strip()
    if storage == "memory://":
        storage = f"{ThreadSafeMemoryStorage.STORAGE_SCHEME[0]}://"
    try:
        limiter = Limiter(client_address, app=app, storage_uri=storage, strategy="fixed-window",
                          headers_enabled=False, swallow_errors=True, key_prefix="portal")
    except (ConfigurationError, ValueError) as exc:
        raise ConfigError(f"PORTAL_RATELIMIT_STORAGE（{storage}）不可用：{exc}") from None
    for rule in ROUTE_LIMITS:
        view = app.view_functions.get(rule.endpoint)
        if view is None:
            continue
        value = _limit_value(settings, rule.setting)
        app.view_functions[rule.endpoint] = limiter.limit(
            value, methods=list(rule.methods) if rule.methods else None, scope=rule.endpoint)(view)
    app.extensions[EXTENSION] = limiter
    app.register_error_handler(RateLimitExceeded, _too_many)
    return limiter


def too_many_response(retry_after: int, message: str = MESSAGE) -> Response:
    """The 429 page, or for an htmx request a fragment that takes the results' place."""
    from . import is_htmx

    if is_htmx():
        body = render_template("_rate_limited.html", message=message)
    else:
        body = render_template("error.html", code=429, title="请求过于频繁", message=message)
    response = Response(body, status=429)
    response.headers["Retry-After"] = str(max(1, retry_after))
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("HX-Request")
    return response


def _too_many(exc: RateLimitExceeded) -> Response:
    limiter: Limiter = current_app.extensions[EXTENSION]
    current = limiter.current_limit
    retry = math.ceil(current.window[0] - time.time()) if current is not None else 60
    return too_many_response(retry)


def hit(scope: str, rate: str, key: str) -> int | None:
    """Count one request of ``key`` against ``rate`` in ``scope``; ``None`` when allowed, else
    the seconds until the window resets (for ``Retry-After``). A store that fails lets the
    request through (logged): an unavailable Redis must not take the portal down."""
    limiter: Limiter = current_app.extensions[EXTENSION]
    item = parse(rate)
    try:
        if limiter.limiter.hit(item, "portal", scope, key):
            return None
        reset_at, _remaining = limiter.limiter.get_window_stats(item, "portal", scope, key)
    except Exception:  # storage errors (connection refused, timeouts)
        log.exception("rate-limit store failed; request allowed")
        return None
    return max(1, math.ceil(reset_at - time.time()))
