"""/metrics (issue 17, Operations): who may read it, what it counts, and that no path, query or
person becomes a label."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from portal import metrics
from portal.models import AuditHead, IndexJob


def scrape(client, **kw) -> dict[tuple[str, tuple], float]:
    resp = client.get("/metrics", **kw)
    assert resp.status_code == 200, resp.status_code
    assert resp.headers["Content-Type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(resp.get_data(as_text=True)):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def sample(values, name, **labels) -> float:
    return values.get((name, tuple(sorted(labels.items()))), 0.0)


def test_request_latency_by_url_rule_and_search_latency_by_backend(app, client, make_person, reindex):
    person = make_person(name="李秘密")
    reindex()
    rt = app.extensions["portal"]
    backend = metrics.backend_label(rt.backend)
    before = scrape(client)
    secret_query = person.public_id if hasattr(person, "public_id") else "李秘密"
    assert client.get("/search", query_string={"q": "430102198005170013 李秘密"}).status_code == 200
    assert client.get("/p/NOT-A-REAL-TOKEN-ABCDEFGH").status_code == 404
    text = client.get("/metrics").get_data(as_text=True)
    after = scrape(client)
    key = dict(route="/search", method="GET", status="200")
    assert sample(after, "portal_request_duration_seconds_count", **key) == \
        sample(before, "portal_request_duration_seconds_count", **key) + 1
    assert sample(after, "portal_search_duration_seconds_count", backend=backend) == \
        sample(before, "portal_search_duration_seconds_count", backend=backend) + 1
    assert backend in {"tantivy", "whoosh", "postgres", "memory"}
    assert 'route="/p/<token>"' in text
    for leaked in ("430102198005170013", "李秘密", "NOT-A-REAL-TOKEN", secret_query):
        assert leaked not in text


def test_index_lag_and_audit_head_from_the_database(app, client, session, make_org, reindex):
    make_org(name="长沙市指标医院")
    reindex()
    values = scrape(client)
    assert values[("portal_index_lag_seconds", ())] == 0.0
    assert values[("portal_metrics_database_up", ())] == 1.0
    head = session.execute(select(AuditHead.last_id, AuditHead.seq)).one()
    assert head[0] > 0
    assert values[("portal_audit_chain_head_id", ())] == head[0]
    assert values[("portal_audit_chain_length", ())] == head[1]

    old = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=10)
    session.add(IndexJob(subject_id=1, reason="test", created_at=old))
    session.commit()
    values = scrape(client)
    assert values[("portal_index_lag_seconds", ())] >= 600
    assert values[("portal_index_jobs_pending", ())] == 1


def test_scan_buffer_gauge(app, client, ctx, session, make_org):
    from portal.services.plates import ScanCounter, issue_plate
    from portal.web.facility import COUNTER

    plate = issue_plate(ctx, make_org(name="长沙市扫码医院"))
    session.commit()
    counter = ScanCounter(app.extensions["portal"].sessions, clock=lambda: 0.0, timer=False)
    app.extensions[COUNTER] = counter
    for _ in range(3):  # buffered: no request writes scan counts (the writer thread does, or write_due)
        counter.add(plate.id, ctx.today)
    assert counter.pending() == 3
    assert scrape(client)[("portal_scan_buffer", ())] == 3.0


def test_search_open_buffer_gauge(app, client, make_org, session):
    """The "top searched facilities" buffer (services.search_opens) is watched like the scan buffer:
    opens from a search result wait in memory until the writer flushes them."""
    from portal.web.public import search_open_counter

    org = make_org(name="长沙市搜索指标医院")
    session.commit()
    counter = search_open_counter(app)
    counter.timer = False  # nothing flushes behind the test's back
    assert scrape(client)[("portal_search_open_buffer", ())] == 0.0
    for _ in range(2):
        assert client.get(f"/facility/{org.public_id}?from=search").status_code == 200
    assert client.get(f"/facility/{org.public_id}").status_code == 200  # not from a search: not counted
    assert counter.pending() == 2
    assert scrape(client)[("portal_search_open_buffer", ())] == 2.0
    assert counter.flush() == 2
    assert scrape(client)[("portal_search_open_buffer", ())] == 0.0
    # under gunicorn every worker holds its own buffer: the scrape adds up the live ones, as for scans
    assert metrics.SEARCH_OPEN_BUFFER._multiprocess_mode == metrics.SCAN_BUFFER._multiprocess_mode == "livesum"


@pytest.mark.parametrize("headers,addr,expected", [
    ({}, "10.1.2.3", 404),                                    # not in the allow list
    ({"X-Forwarded-For": "203.0.113.9"}, "127.0.0.1", 404),    # through a proxy without ProxyFix
    ({"Authorization": "Bearer wrong"}, "10.1.2.3", 404),
    ({"Authorization": "Bearer t0ken-for-prometheus"}, "10.1.2.3", 200),
    ({}, "::1", 200),
])
def test_who_may_scrape(settings, headers, addr, expected):
    from portal import create_app
    from portal.db.migrate import upgrade

    app = create_app({**settings, "PORTAL_METRICS_TOKEN": "t0ken-for-prometheus"})
    try:
        upgrade(app.extensions["portal"].engine)
        resp = app.test_client().get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": addr})
        assert resp.status_code == expected
        if expected == 404:
            assert "portal_" not in resp.get_data(as_text=True)
    finally:
        app.extensions["portal"].close()


def test_allow_list_can_name_a_network(settings):
    from portal import create_app
    from portal.runtime import ConfigError

    app = create_app({**settings, "PORTAL_METRICS_ALLOW": "10.0.0.0/8, 127.0.0.1"})
    try:
        assert app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 200
        assert app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "11.0.0.1"}).status_code == 404
    finally:
        app.extensions["portal"].close()
    with pytest.raises(ConfigError):
        create_app({**settings, "PORTAL_METRICS_ALLOW": "not-an-address"})


def test_multiprocess_mode_adds_up_the_workers(tmp_path):
    """PROMETHEUS_MULTIPROC_DIR (gunicorn): two worker processes each serve a request; a scrape
    in a third process counts both."""
    import os
    import subprocess
    import sys

    mp = tmp_path / "prom"
    mp.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(mp), "PORTAL_VAR_DIR": str(tmp_path / "var"),
           "SEARCH_URL": f"tantivy://{tmp_path / 'index'}", "PORTAL_TODAY": "2026-11-20",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}"}
    env.pop("PORTAL_METRICS_TOKEN", None)
    script = (
        "import sys\n"
        "from portal import create_app\n"
        "from portal.db.migrate import upgrade\n"
        "app = create_app(); upgrade(app.extensions['portal'].engine)\n"
        "c = app.test_client()\n"
        "print(c.get(sys.argv[1]).get_data(as_text=True))\n"
        "app.extensions['portal'].close()\n")
    for _ in range(2):
        subprocess.run([sys.executable, "-c", script, "/healthz"], env=env, check=True, capture_output=True)
    out = subprocess.run([sys.executable, "-c", script, "/metrics"], env=env, check=True,
                         capture_output=True, text=True).stdout
    values = {}
    for family in text_string_to_metric_families(out):
        for s in family.samples:
            values[(s.name, tuple(sorted(s.labels.items())))] = s.value
    assert sample(values, "portal_request_duration_seconds_count",
                  route="/healthz", method="GET", status="200") == 2
    assert ("portal_audit_chain_head_id", ()) in values


def test_follower_nodes_lag_per_node(client, session, make_org, reindex):
    """Each registered follower node (``index follow``): the jobs after its cursor."""
    from portal.services import index_log

    make_org(name="长沙市指标医院")
    reindex()
    index_log.register(session, "node-a")
    index_log.register(session, "node-b", position=0)
    session.commit()
    values = scrape(client)
    assert sample(values, "portal_index_node_jobs_behind", node="node-a") == 0
    jobs = len(session.execute(select(IndexJob.id)).scalars().all())
    assert jobs > 0 and sample(values, "portal_index_node_jobs_behind", node="node-b") == jobs
