"""Operations plumbing in one place (issue 17): probes, metrics, request ids and JSON logs.
``portal.web.init_app`` calls ``init_app`` first, so its hooks see every request, also the
ones an earlier hook refuses."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from . import health

    app.register_blueprint(health.bp)
