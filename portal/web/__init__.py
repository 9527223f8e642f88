"""Shared request plumbing: one DB session per request, commit at the edge, index drain,
error pages in Chinese, template helpers."""
from __future__ import annotations

import logging
from datetime import UTC

from flask import Flask, current_app, g, render_template, request
from werkzeug.exceptions import HTTPException

from ..documents.citations import own_note
from ..domain.vocab import CATEGORIES, INFO_CLASS_LABELS, SEVERITY_LABELS, record_type_label
from ..runtime import Runtime
from ..services import indexing

log = logging.getLogger(__name__)

ERROR_TITLES = {
    400: "请求有误",
    401: "需要登录",
    403: "无权访问",
    404: "页面不存在",
    405: "请求方式不被允许",
    410: "已不再提供",
    413: "上传内容过大",
    429: "请求过于频繁",
    500: "系统繁忙",
}


def runtime() -> Runtime:
    return current_app.extensions["portal"]


def cached_pages():
    """This process's cache of rendered public pages (``portal.web.page_cache``)."""
    return current_app.extensions["portal.page_cache"]


def db():
    """The request's session (created on first use)."""
    if "db" not in g:
        g.db = runtime().sessions()
    return g.db


def ctx(actor: str = "anonymous"):
    return runtime().context(db(), actor)


def commit() -> None:
    """The one commit of a request that changed something; index work follows it."""
    db().commit()
    g.index_dirty = True


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def init_app(app: Flask) -> None:
    from . import hygiene, ops, security_headers
    from .page_cache import PageCache

    ops.init_app(app)  # first: request id, timing, /healthz /readyz /metrics (issue 17)
    hygiene.init_app(app)  # first: control characters and huge path integers never reach a view
    security_headers.init_app(app)  # CSP, HSTS (production)

    app.extensions["portal.page_cache"] = PageCache(app.extensions["portal"].engine)
    from ..services.audit_anchor import DailyCheckpoints

    daily = app.extensions["portal.audit_daily"] = DailyCheckpoints(
        app.extensions["portal"].settings["PORTAL_AUDIT_CHECKPOINT_FILE"])

    @app.teardown_appcontext
    def _close_session(exc):
        session = g.pop("db", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()

    @app.after_request
    def _drain_index(response):
        rt = runtime()
        if g.get("index_dirty") and rt.settings["PORTAL_INDEX_MODE"] == "inline":
            try:
                indexing.drain(db(), rt.backend, rt.today(), rt.profile)
            except Exception:  # the jobs stay queued; `credit-portal index drain` retries
                log.exception("index drain failed; jobs remain queued")
        today = rt.today().isoformat()
        if g.get("index_dirty") and daily.due(today):  # a request that wrote: anchor the head, once a day
            try:
                daily.run(rt.sessions, today)
            except Exception:  # logged once a day; `credit-portal audit checkpoint` writes one too
                log.exception("daily audit checkpoint failed")
        if request.headers.get("HX-Request"):
            response.vary.add("HX-Request")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    @app.context_processor
    def _template_globals():
        rt = runtime()
        return {
            "profile": rt.profile,
            "today": rt.today(),
            "data_updated_at": _data_updated_at,
            "CATEGORIES": CATEGORIES,
            "INFO_CLASS_LABELS": INFO_CLASS_LABELS,
            "SEVERITY_LABELS": SEVERITY_LABELS,
            "record_type_label": record_type_label,
            # （湖南 第三十三条） under 湖南, nothing under a profile whose document the citation is not
            "own_cite": lambda article: own_note(article, rt.profile.document),
        }

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = exc.code or 500
        message = getattr(exc, "portal_message", None) or ERROR_TITLES.get(code, "请求未能完成")
        return render_template("error.html", code=code, title=ERROR_TITLES.get(code, "出错了"),
                               message=message), code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        try:  # the error page reads the database (footer): not inside a failed transaction
            db().rollback()
        except Exception:  # the database itself may be gone: the page still renders
            log.warning("rollback after an unhandled error failed", exc_info=True)
        return render_template("error.html", code=500, title=ERROR_TITLES[500],
                               message="系统暂时无法处理您的请求，请稍后再试。"), 500


def _data_updated_at() -> str:
    """When the public data last changed (``services.public_pages.data_changed_at``), in Beijing
    time (stored as UTC)."""
    from ..services.public_pages import data_changed_at

    return _beijing_minute(data_changed_at(db()))


def data_time(value: str | None):
    """The templates' ``data_updated_at()`` for a page whose read already fetched the value
    (the facility and scan pages' one statement, issue #17): no second read."""
    shown = _beijing_minute(value)
    return lambda: shown


def _beijing_minute(value: str | None) -> str:
    from datetime import datetime

    from ..runtime import CHINA_TZ

    if not value:
        return "—"
    stamp = datetime.fromisoformat(value).replace(tzinfo=UTC).astimezone(CHINA_TZ)
    return stamp.strftime("%Y-%m-%d %H:%M")


def abort_with(code: int, message: str):
    """Abort with a Chinese message shown on the error page."""
    from werkzeug.exceptions import default_exceptions

    exc = default_exceptions[code]()
    exc.portal_message = message
    raise exc
