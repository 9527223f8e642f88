"""Probes for a load balancer and an orchestrator (issue 17, Operations).

``/healthz``: the process answers (no database, no index): a liveness probe; restart on failure.
``/readyz``: this node can serve: the database answers, the Alembic revision in it is the code's
head, and the search index answers a count. A failure is a 503 with a JSON body naming the check
that failed (``{"status": "unavailable", "checks": {"database": "fail", ...}}``); take the node
out of the pool, do not restart it.

Neither says anything about the data: no counts, no names, no exception text (a driver's message
can carry the database URL with its password). Both are GET-only, exempt from the CSRF check and
never cached (``Cache-Control: no-store``); the page cache only holds pages its views put there.
"""
from __future__ import annotations

import logging
import threading

from flask import Blueprint, jsonify

from . import runtime
from .csrf import exempt

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

_heads_lock = threading.Lock()
_code_heads: tuple[str, ...] | None = None


def code_heads() -> tuple[str, ...]:
    """The migration heads shipped with this code (read once per process)."""
    global _code_heads
    if _code_heads is None:
        from alembic.script import ScriptDirectory

        from ..db.migrate import alembic_config

        with _heads_lock:
            cfg = alembic_config("sqlite://")  # the URL is not used to read the scripts
            _code_heads = tuple(sorted(ScriptDirectory.from_config(cfg).get_heads()))
    return _code_heads


def readiness(rt) -> dict[str, str]:
    """``{"database": "ok"|"fail", "migrations": "ok"|"behind"|"unknown", "index": "ok"|"fail"}``."""
    from alembic.runtime.migration import MigrationContext

    checks = {"database": "fail", "migrations": "unknown", "index": "fail"}
    try:
        with rt.engine.connect() as conn:
            current = tuple(sorted(MigrationContext.configure(conn).get_current_heads()))
            checks["database"] = "ok"
    except Exception as exc:  # a closed port, a dead server, a file that is not a database
        log.warning("readyz: database check failed (%s)", type(exc).__name__)
    else:
        checks["migrations"] = "ok" if current == code_heads() else "behind"
    try:
        rt.backend.count()
        checks["index"] = "ok"
    except Exception as exc:
        log.warning("readyz: search index check failed (%s)", type(exc).__name__)
    return checks


def _no_store(resp, status: int):
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/healthz")
@exempt
def healthz():
    return _no_store(jsonify(status="ok"), 200)


@bp.get("/readyz")
@exempt
def readyz():
    checks = readiness(runtime())
    ok = all(v == "ok" for v in checks.values())
    failed = sorted(k for k, v in checks.items() if v != "ok")
    return _no_store(jsonify(status="ok" if ok else "unavailable", checks=checks, failed=failed),
                     200 if ok else 503)
