"""医疗卫生信用信息公示平台.

Importing ``portal`` is light: the Flask application factory is resolved on first use, so
``import portal.domain.workdays`` (or ``search_index``'s tests, or a CLI helper) loads no Flask,
SQLAlchemy or models. ``from portal import create_app`` and gunicorn's ``'portal:create_app()'``
keep working through the module ``__getattr__`` below (PEP 562).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module 'portal' has no attribute {name!r}")
