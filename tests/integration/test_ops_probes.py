"""/healthz and /readyz (issue 17, "Must show": /readyz failing when the database is down)."""
from __future__ import annotations

import socket

import pytest
from sqlalchemy import text

from portal import create_app
from portal.db.migrate import upgrade


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def test_ready_when_database_index_and_migrations_are(client, make_org, reindex):
    make_org(name="长沙市探针医院")
    reindex()
    live = client.get("/healthz")
    assert live.status_code == 200 and live.get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_data(as_text=True)
    assert ready.get_json() == {"status": "ok", "failed": [],
                                "checks": {"database": "ok", "migrations": "ok", "index": "ok"}}
    for resp in (live, ready):
        assert resp.headers["Cache-Control"] == "no-store"
        assert "探针" not in resp.get_data(as_text=True)


def test_probes_need_no_csrf_token_and_refuse_writes(client):
    assert client.post("/readyz", csrf=False).status_code in (400, 405)  # the CSRF check or the router
    assert client.post("/readyz").status_code == 405
    assert client.head("/healthz").status_code == 200


def test_readyz_503_when_migrations_are_behind(app, client):
    with app.extensions["portal"].engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version"))  # one row per head
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0006_case_documents')"))
    resp = client.get("/readyz")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["checks"]["database"] == "ok" and body["checks"]["migrations"] == "behind"
    assert body["failed"] == ["migrations"]


def test_readyz_503_when_postgresql_is_down(tmp_path):
    """A PostgreSQL server that does not answer (nothing listens on the port): the node is not
    ready, the process is alive, and the body names the database without the driver's message."""
    port = _closed_port()
    app = create_app({
        "PORTAL_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"postgresql+psycopg://portal:s3cret-pw@127.0.0.1:{port}/portal?connect_timeout=3",
        "SEARCH_URL": f"tantivy://{tmp_path / 'index'}",
        "PORTAL_TODAY": "2026-11-20",
    })
    try:
        client = app.test_client()
        assert client.get("/healthz").status_code == 200
        resp = client.get("/readyz")
        assert resp.status_code == 503
        body = resp.get_json()
        assert body["checks"]["database"] == "fail" and body["checks"]["migrations"] == "unknown"
        assert "database" in body["failed"]
        assert "s3cret" not in resp.get_data(as_text=True) and str(port) not in resp.get_data(as_text=True)
    finally:
        app.extensions["portal"].close()


def test_readyz_503_when_the_sqlite_file_is_broken(tmp_path):
    db = tmp_path / "portal.sqlite3"
    app = create_app({"PORTAL_VAR_DIR": str(tmp_path / "var"), "DATABASE_URL": f"sqlite:///{db}",
                      "SEARCH_URL": f"tantivy://{tmp_path / 'index'}", "PORTAL_TODAY": "2026-11-20"})
    rt = app.extensions["portal"]
    try:
        upgrade(rt.engine)
        client = app.test_client()
        assert client.get("/readyz").status_code == 200
        rt.engine.dispose()
        db.write_bytes(b"this is not a database " * 512)  # a disk fault, a wrong file restored
        resp = client.get("/readyz")
        assert resp.status_code == 503
        assert resp.get_json()["checks"]["database"] == "fail"
        assert client.get("/healthz").status_code == 200
    finally:
        rt.close()


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_are_plain_json_for_anonymous_visitors(client, path):
    resp = client.get(path, headers={"Cookie": "session=forged"})
    assert resp.mimetype == "application/json"
    assert "Set-Cookie" not in resp.headers or "session" not in resp.headers.get("Set-Cookie", "")


def test_readyz_503_when_the_search_index_does_not_answer(tmp_path):
    blocker = tmp_path / "index-is-a-file"
    blocker.write_text("not an index directory")
    app = create_app({"PORTAL_VAR_DIR": str(tmp_path / "var"), "DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite3'}",
                      "SEARCH_URL": f"tantivy://{blocker / 'index'}", "PORTAL_TODAY": "2026-11-20"})
    rt = app.extensions["portal"]
    try:
        upgrade(rt.engine)
        resp = app.test_client().get("/readyz")
        assert resp.status_code == 503
        body = resp.get_json()
        assert body["failed"] == ["index"]
        assert body["checks"] == {"database": "ok", "migrations": "ok", "index": "fail"}
    finally:
        rt.close()
