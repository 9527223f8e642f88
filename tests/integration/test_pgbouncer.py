"""The portal behind pgbouncer in ``pool_mode = transaction`` (issue #17, ``portal.db.pooler``).

A real pgbouncer in front of the test server: migrations run over a direct connection, then the
app (database and PostgreSQL search index both through the pooler, ``?pgbouncer=1``) serves
search, the facility page and the scan page, files an objection and drains the index. The
pooler's ``app`` pool hands out its three server connections round robin, so a client's next
transaction usually lands on another one: without ``prepare_threshold=None`` the flows fail
(psycopg prepares a statement after 5 runs: "prepared statement _pg3_0 requires 14 parameters",
checked by hand). The control test shows that this pooler really breaks named prepared statements.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path

import psycopg
import pytest
from bs4 import BeautifulSoup
from sqlalchemy.engine import make_url

from tests.conftest import TODAY, require_tool

from .test_objection_flow import APPLICANT


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def bouncer(pg_schema_url):
    """``(pooled URL of the test schema, URL of a one-connection control pool)``."""
    binary = require_tool(shutil.which("pgbouncer") or "/usr/sbin/pgbouncer",
                          "pgbouncer test (apt-get install pgbouncer)")
    direct = make_url(pg_schema_url)
    schema = direct.query["options"].split("=", 1)[1]
    port = _port()
    workdir = Path(tempfile.mkdtemp(prefix="portal-pgbouncer-"))
    workdir.chmod(0o755)  # pgbouncer drops root for the postgres user, who must read the config
    server = f"host={direct.host} port={direct.port} dbname={direct.database} user={direct.username}"
    (workdir / "users.txt").write_text(f'"{direct.username}" ""\n')
    (workdir / "pgbouncer.ini").write_text(f"""[databases]
app = {server} pool_size=3 connect_query='SET search_path TO {schema}'
control = {server} pool_size=1

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {workdir / "users.txt"}
pool_mode = transaction
server_round_robin = 1
max_client_conn = 100
""")
    for f in workdir.iterdir():
        f.chmod(0o644)
    args = [binary] + (["-u", "postgres"] if os.getuid() == 0 else []) + [str(workdir / "pgbouncer.ini")]
    log = (workdir / "log.txt").open("w+b")  # closed below
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"pgbouncer did not start: {log.read().decode()[-2000:]}")
                time.sleep(0.05)
        base = direct.difference_update_query(["options"]).set(host="127.0.0.1", port=port)
        yield (base.set(database="app").update_query_dict({"pgbouncer": "1"}).render_as_string(False),
               base.set(database="control").render_as_string(False))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)


def test_named_prepared_statements_break_in_transaction_mode(bouncer):
    """The control: two clients of the one-connection pool, each preparing its first statement
    (psycopg names it ``_pg3_0``), collide on the shared server connection."""
    _, control = bouncer
    conninfo = make_url(control).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(conninfo, autocommit=True, prepare_threshold=0) as a, \
            psycopg.connect(conninfo, autocommit=True, prepare_threshold=0) as b:
        assert a.execute("SELECT 1").fetchone() == (1,)
        with pytest.raises(psycopg.errors.DuplicatePreparedStatement):
            b.execute("SELECT 2")


def test_main_flows_through_pgbouncer_transaction_mode(bouncer, pg_schema_url, tmp_path):
    from portal import create_app
    from portal.db import make_engine
    from portal.db.migrate import upgrade
    from portal.domain.identifiers import make_uscc
    from portal.services import cases, indexing
    from portal.services import plates as plate_svc
    from portal.services.records import add_record
    from portal.services.subjects import register_subject

    pooled, _ = bouncer
    direct_engine = make_engine(pg_schema_url)  # migrations: a direct connection (DDL, one session)
    upgrade(direct_engine)
    direct_engine.dispose()

    app = create_app({
        "PORTAL_VAR_DIR": str(tmp_path / "var"), "PORTAL_TODAY": TODAY.isoformat(), "PORTAL_PROFILE": "hunan",
        "PORTAL_BASE_URL": "http://127.0.0.1:5000", "PORTAL_RATELIMIT_SEARCH": "100000/minute",
        "DATABASE_URL": pooled, "SEARCH_URL": pooled,
    })
    app.config["TESTING"] = True
    rt = app.extensions["portal"]
    try:
        assert rt.engine.url.port == make_url(pooled).port  # really through the pooler
        session = rt.sessions()
        ctx = rt.context(session, "test")

        def drain():
            session.commit()
            while indexing.drain(session, rt.backend, rt.today(), rt.profile):
                pass

        orgs = [register_subject(ctx, kind="org", name=f"星沙第{n}口腔诊所", code=make_uscc("12", "430121", f"{n:08d}"),
                                 category="clinic", region_code="430121") for n in range(1, 4)]
        record = add_record(ctx, orgs[0], record_type="penalty", title="未按规定消毒被处罚", severity="general",
                            decided_on=date(2026, 6, 1), authority="长沙县卫生健康局")
        plate = plate_svc.issue_plate(ctx, orgs[0])
        drain()

        client = app.test_client()
        for _ in range(8):  # past psycopg's prepare threshold (5) on every statement of a search
            for q in ("口腔", "星沙第1口腔诊所", "沙"):
                resp = client.get("/search", query_string={"q": q})
                assert resp.status_code == 200
        names = [a.get_text(strip=True) for a in
                 BeautifulSoup(client.get("/search?q=口腔").get_data(as_text=True), "html.parser")
                 .select("li.hit a.hit-name")]
        assert sorted(names) == sorted(o.name for o in orgs)

        for _ in range(7):
            page = client.get(f"/facility/{orgs[0].public_id}")
            assert page.status_code == 200 and "未按规定消毒被处罚" in page.get_data(as_text=True)
            scan = client.get(f"/p/{plate.token}")
            assert scan.status_code == 200 and orgs[0].name in scan.get_data(as_text=True)

        case = cases.file_objection(ctx, orgs[0], record, ground="fact_error", statement="处罚决定书记载有误",
                                    applicant=APPLICANT, commitment=True, identity_confirmed=True)
        drain()
        assert case.case_no and indexing.pending_count(session) == 0
        page = BeautifulSoup(client.get(f"/facility/{orgs[0].public_id}").get_data(as_text=True), "html.parser")
        assert [t.get_text() for t in page.select(".tag.case")] == ["异议处理中"]
        session.close()
    finally:
        app.extensions["portal.scan_counter"].flush()
        rt.close()
