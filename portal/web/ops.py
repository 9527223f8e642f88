"""Operations plumbing in one place (issue 17): probes, metrics, request ids and JSON logs.
``portal.web.init_app`` calls ``init_app`` first, so its hooks see every request, also the
ones an earlier hook refuses."""
from __future__ import annotations

from flask import Flask, current_app, g, request

from .. import logs, metrics


def route_label() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else metrics.UNMATCHED


def update_scan_buffer() -> None:
    """The in-memory buffers' gauges: plate scans and search-result opens (both ``ScanCounter``)."""
    counter = current_app.extensions.get("portal.scan_counter")
    if counter is not None:
        metrics.SCAN_BUFFER.set(counter.pending())
    opens = current_app.extensions.get("portal.search_open_counter")
    if opens is not None:
        metrics.SEARCH_OPEN_BUFFER.set(opens.pending())


def init_app(app: Flask) -> None:
    from . import health
    from . import metrics as metrics_view

    app.register_blueprint(health.bp)
    app.register_blueprint(metrics_view.bp)

    json_logs = app.extensions["portal"].settings["PORTAL_LOG_FORMAT"] == "json"
    logs.configure(app.extensions["portal"].settings["PORTAL_LOG_FORMAT"])

    @app.before_request
    def _start_clock():
        g.ops_started = metrics.monotonic()
        g.request_id = logs.new_request_id(request.headers.get("X-Request-ID"))

    @app.after_request
    def _observe(response):
        started = g.get("ops_started")
        if started is not None:
            seconds = metrics.monotonic() - started
            metrics.observe_request(route_label(), request.method, response.status_code, seconds)
            if json_logs:  # the URL rule, never the path or the query
                logs.ACCESS.info("request", extra={
                    "method": request.method if request.method in metrics.METHODS else "other",
                    "route": route_label(), "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 1)})
        if g.get("request_id"):
            response.headers["X-Request-ID"] = g.request_id
        update_scan_buffer()
        return response
