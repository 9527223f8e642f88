"""What a new dishonesty record sets off elsewhere (issue 16), without ``records`` importing the
workflows that react to it (``services.lists`` imports ``records``; the services import no circle,
tests/unit/test_import_contracts.py): removal from the red list (淮安 三（一）) and the
broken-commitment flag (海南 第九条). The reacting modules register here when imported;
``Runtime.from_settings`` imports them, so every app and command has them. Order of registration
is order of calls."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

_ON_DISHONESTY: dict[str, Callable[[Any, Any, Any], Any]] = {}


def on_dishonesty(fn: Callable[[Any, Any, Any], Any]) -> Callable[[Any, Any, Any], Any]:
    """Register ``fn(ctx, subject, record)`` (once per module and name)."""
    _ON_DISHONESTY[f"{fn.__module__}.{fn.__qualname__}"] = fn
    return fn


def dishonesty_filed(ctx, subject, record) -> None:
    """Called by ``records.add_record`` after an active dishonesty record was filed."""
    for fn in list(_ON_DISHONESTY.values()):
        fn(ctx, subject, record)


def registered() -> list[str]:
    return list(_ON_DISHONESTY)
