"""Backup and restore (issue 17, "Must show": the restore test): a small demo is backed up,
restored into a fresh var dir and a fresh database, the index is rebuilt, and searches and
``audit verify`` give the same answers."""
from __future__ import annotations

import os
import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from portal.cli import main
from search_index import SearchQuery

from ..conftest import DATABASES, SEARCH_BACKEND, require_postgres, require_tool

KEYS = ("PORTAL_SECRET_KEY", "PORTAL_DATA_KEY", "PORTAL_AUDIT_KEY", "PORTAL_AUDIT_CHECKPOINT_FILE")


def run(env, *args):
    result = CliRunner().invoke(main, list(args), env={**env, **{k: None for k in KEYS}}, catch_exceptions=False)
    return result


def answers(env) -> dict:
    """Totals, hit order and facets of a few searches, and the subjects' public ids."""
    from portal.config import load_settings
    from portal.models import Subject
    from portal.runtime import Runtime

    saved = {k: os.environ.pop(k, None) for k in KEYS}
    try:
        rt = Runtime.from_settings(load_settings(env))
    finally:
        os.environ.update({k: v for k, v in saved.items() if v is not None})
    try:
        with rt.sessions() as s:
            names = s.execute(select(Subject.name).order_by(Subject.id).limit(6)).scalars().all()
            ids = sorted(s.execute(select(Subject.public_id)).scalars().all())
        queries = [SearchQuery(text=n[:2]) for n in names] + \
            [SearchQuery(text=names[0]), SearchQuery(text=names[1][:2], filters={"kind": "org"}, per_page=50)]
        out = {"ids": ids}
        for q in queries:
            r = rt.backend.search(q)
            out[(q.text, tuple(sorted(q.filters.items())))] = (r.total, [h.id for h in r.hits], r.facets)
        assert out[(names[0], ())][0] > 0
        return out
    finally:
        rt.close()


@pytest.fixture(params=[*DATABASES, "postgresql?pgbouncer=1"])
def two_places(request, tmp_path):
    """Settings of the portal backed up (A) and of the fresh place it is restored to (B).
    ``postgresql?pgbouncer=1``: both URLs carry the portal's own ``pgbouncer=1`` option (a
    deployment whose web nodes go through pgbouncer) but name the server directly, as backup and
    restore need: pg_dump/pg_restore must get the URL without it (libpq refuses it)."""
    def env(name, url):
        return {"PORTAL_VAR_DIR": str(tmp_path / name / "var"), "DATABASE_URL": url,
                "SEARCH_URL": f"{SEARCH_BACKEND}://{tmp_path / name / 'index'}",
                "PORTAL_TODAY": "2026-11-20", "PORTAL_PROFILE": "hunan"}

    if request.param == "sqlite":
        yield env("a", f"sqlite:///{tmp_path / 'a' / 'portal.sqlite3'}"), \
            env("b", f"sqlite:///{tmp_path / 'b' / 'portal.sqlite3'}")
        return
    require_tool("pg_dump", "PostgreSQL backup")
    source = request.getfixturevalue("pg_schema_url")
    base = make_url(require_postgres())
    fresh = f"restore_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)  # nothing left open for the GC
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {fresh}"))
    target = make_url(source).set(database=fresh).render_as_string(hide_password=False)
    if request.param.endswith("pgbouncer=1"):
        source, target = (make_url(u).update_query_dict({"pgbouncer": "1"}).render_as_string(hide_password=False)
                          for u in (source, target))
    try:
        yield env("a", source), env("b", target)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {fresh} WITH (FORCE)"))
        admin.dispose()


def test_backup_restore_gives_the_same_answers(two_places, tmp_path):
    a, b = two_places
    for args in (["db", "upgrade"], ["demo", "--subjects", "40", "--seed", "3"], ["index", "rebuild"],
                 ["audit", "checkpoint"]):
        result = run(a, *args)
        assert result.exit_code == 0, result.output
    evidence = tmp_path / "a" / "var" / "evidence" / ("0" * 32 + ".pdf")
    evidence.parent.mkdir(parents=True, exist_ok=True)
    evidence.write_bytes(b"%PDF-1.4 uploaded evidence")
    verify_a = run(a, "audit", "verify")
    before = answers(a)

    dest = tmp_path / "backup"
    result = run(a, "backup", str(dest))
    assert result.exit_code == 0, result.output
    assert run(a, "backup", str(dest)).exit_code != 0  # never over an earlier backup

    result = run(b, "restore", str(dest))
    assert result.exit_code == 0, result.output
    assert answers(b) == before
    verify_b = run(b, "audit", "verify")
    assert (verify_b.exit_code, verify_b.output) == (verify_a.exit_code, verify_a.output)
    assert verify_b.exit_code == 0 and "已核对 1 个检查点" in verify_b.output
    assert (tmp_path / "b" / "var" / "evidence" / evidence.name).read_bytes() == evidence.read_bytes()

    again = run(b, "restore", str(dest))  # the database is no longer empty: refused, nothing touched
    assert again.exit_code != 0 and "不是空库" in again.output
    assert answers(b) == before


def test_a_damaged_backup_is_refused_before_anything_is_written(tmp_path):
    a = {"PORTAL_VAR_DIR": str(tmp_path / "a" / "var"), "DATABASE_URL": f"sqlite:///{tmp_path / 'a.sqlite3'}",
         "SEARCH_URL": f"{SEARCH_BACKEND}://{tmp_path / 'a-index'}", "PORTAL_TODAY": "2026-11-20"}
    b = {**a, "PORTAL_VAR_DIR": str(tmp_path / "b" / "var"), "DATABASE_URL": f"sqlite:///{tmp_path / 'b.sqlite3'}",
         "SEARCH_URL": f"{SEARCH_BACKEND}://{tmp_path / 'b-index'}"}
    assert run(a, "db", "upgrade").exit_code == 0
    assert run(a, "backup", str(tmp_path / "bk")).exit_code == 0
    with (tmp_path / "bk" / "portal.sqlite3").open("r+b") as fh:
        fh.seek(200)
        fh.write(b"\xff" * 16)
    result = run(b, "restore", str(tmp_path / "bk"))
    assert result.exit_code != 0 and "校验和不符" in result.output
    assert not (tmp_path / "b" / "var" / "dev-secrets.json").exists()
    assert not (tmp_path / "b.sqlite3").exists() or (tmp_path / "b.sqlite3").stat().st_size == 0
