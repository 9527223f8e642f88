"""Connecting through pgbouncer in ``pool_mode = transaction`` (issue #17).

A transaction-mode pooler hands each *transaction* to any server connection, so nothing may
outlive one: no session-level ``SET``, no session advisory locks (the portal only uses
``pg_advisory_xact_lock``), no ``LISTEN``, and no named prepared statements (psycopg 3 prepares
a statement after it ran ``prepare_threshold`` = 5 times; pgbouncer 1.18 does not track them, so
the next transaction may land on a server connection that lacks it or already has one of that
name). Startup ``options`` (``-csearch_path=…``, ``-cjit=off``) are refused by pgbouncer unless
it ignores them: put such settings on the role or database (``ALTER ROLE … SET jit = off``) or
in pgbouncer's ``connect_query``.

Turn it on with ``pgbouncer=1`` in the URL (``DATABASE_URL`` and a PostgreSQL ``SEARCH_URL``;
removed before connecting) or ``PORTAL_DB_PGBOUNCER=1`` in the environment. Then psycopg never
prepares (``prepare_threshold=None``) and the search backend adds no startup options.
"""
from __future__ import annotations

import os

PARAM = "pgbouncer"
ENV = "PORTAL_DB_PGBOUNCER"
_TRUE = ("1", "true", "yes", "on", "transaction")


def split(url):
    """``(url without the pgbouncer parameter, whether pgbouncer mode is on)``; ``url`` is a
    string or a SQLAlchemy URL, the result a SQLAlchemy URL."""
    from sqlalchemy.engine import make_url

    url = make_url(url)
    raw = url.query.get(PARAM)
    if isinstance(raw, tuple):
        raise ValueError(f"database URL: {PARAM} given twice")
    on = (raw if raw is not None else os.environ.get(ENV, "")).strip().lower() in _TRUE
    return url.difference_update_query([PARAM]), on and url.get_backend_name() == "postgresql"


def connect_args(on: bool) -> dict:
    """psycopg connection arguments for pgbouncer mode: never prepare server-side."""
    return {"prepare_threshold": None} if on else {}
