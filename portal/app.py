from __future__ import annotations

import logging

from flask import Flask, g, request
from werkzeug.exceptions import HTTPException

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
    from .web import public

    web.init_app(app)
    app.register_blueprint(public.bp)

    return app
