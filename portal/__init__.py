"""医疗卫生信用信息公示平台 — the Flask application factory."""
from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
