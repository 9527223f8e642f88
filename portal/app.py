from __future__ import annotations

import logging

from flask import Flask

from .config import ROOT, load_settings
from .runtime import Runtime

log = logging.getLogger(__name__)


def create_app(config: dict | None = None) -> Flask:
    """Build the portal. ``config`` overrides settings (tests pass a temporary directory)."""
    runtime = Runtime.from_settings(load_settings(config))
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    app.config.update(runtime.settings)
    app.config["SECRET_KEY"] = runtime.settings["PORTAL_SECRET_KEY"]
    app.config["MAX_CONTENT_LENGTH"] = 20 * 1024 * 1024
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = runtime.settings["PORTAL_BASE_URL"].startswith("https://")
    app.extensions["portal"] = runtime
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    from . import web
    from .web import (
        api,  # /api/v1: the government sharing API (bearer tokens, outside the CSRF check)
        auth,
        cases,
        chat,
        commitments,
        common,
        csrf,
        draws,  # 双随机、一公开: /draws (public), /staff/draws
        facility,
        grading,  # grading cycle: /grades/summary (public), /staff/grading, the subject's objection
        lists,
        notices,
        progress,
        provider,
        public,
        public_report,
        ratelimit,
        staff,
        staff_accounts,
        staff_api_clients,
        staff_password,
        staff_plates,
        staff_stats,
        subject,
        warnings,
    )

    web.init_app(app)
    common.init_app(app)  # the one answer to a refused service call
    csrf.init_app(app)  # one CSRF check for every unsafe request, htmx included
    auth.init_app(app)  # server-side sessions, OIDC login (or the embedded dev IdP), /login /logout
    app.register_blueprint(draws.bp)
    app.register_blueprint(lists.bp)  # issue 16: list procedures (staff and subject side)
    app.register_blueprint(warnings.bp)  # issue 16: early warning (staff)
    app.register_blueprint(commitments.bp)  # issue 16: commitments and self-declaration
    app.register_blueprint(notices.bp)  # issue 16: commendation and typical cases (/notices, /staff/notices)
    app.register_blueprint(grading.bp)
    for bp in (
        public.bp,        # home, search, facility pages, lists
        facility.bp,      # QR plate landing page /p/<token>
        subject.bp,       # /me: the subject's own record, authorisations, access log, reports
        cases.bp,         # objections and repairs, subject side; public 信用修复公示
        progress.bp,      # /progress: public look-up of a case by number + receipt code
        public_report.bp,  # POST /facility/<id>/report.pdf: an organisation's public credit report
        staff.bp,         # /staff: queues and case handling
        staff_plates.bp,  # /staff/plates: QR plates
        staff_api_clients.bp,  # /staff/api-clients: the sharing API's clients (administrators)
        staff_stats.bp,   # /staff/stats: statistics, yearly summary (.xlsx) and report (PDF)
        provider.bp,      # /staff/provide: providers' workspace (信息提供单位)
        staff_accounts.bp,  # /staff/accounts: staff accounts (administrators)
        staff_password.bp,  # /staff/password: 修改密码 (every staff member, their own)
        chat.bp,          # 智能问答 /chat
    ):
        app.register_blueprint(bp)
    api.init_app(app)
    ratelimit.init_app(app)  # per-client limits on search, login, callback (after the routes exist)

    return app
