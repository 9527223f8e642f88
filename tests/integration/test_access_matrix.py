"""Who may see a subject's non-public information (海南 第二十七条; portal/permissions.py).

Every non-public URL and download against every kind of visitor: only the subject itself, the
organisation's legal representative and a grantee inside a valid, unrevoked authorisation get
200; everybody else gets 401 / 403 / 404 and no data. Canaries planted in non-public records
appear for the subject and nowhere public.
"""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import date

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.domain.identifiers import make_resident_id
from portal.identity import ACR_PASSWORD
from portal.models import AuditEvent, Authorisation

from ..conftest import DATABASES, require_postgres
from .subject_world import (
    ALL_CANARIES,
    GRADED_TITLE,
    ORG_CANARIES,
    ORG_NAME,
    OTHER_CANARY,
    OTHER_NAME,
    PERSON_CANARY,
    PERSON_NAME,
    PUBLIC_TITLE,
    TODAY,
    build_world,
    identity,
    post,
)

ACTORS = ["anonymous", "subject_a", "subject_b", "legal_rep", "grantee_before", "grantee_during",
          "grantee_after", "grantee_revoked"]
PAGES = {"show": "/me/subjects/{}", "report": "/me/subjects/{}/report.pdf",  # report: a POST (issues one)
         "access_log": "/me/subjects/{}/access-log", "authorisations": "/me/subjects/{}/authorisations"}
READ_PAGES = {"show", "report"}  # a grantee may read; only the subject manages


@contextmanager
def _database(kind: str):
    """The DATABASE_URL of one module: SQLite by default, or a fresh PostgreSQL schema."""
    if kind == "sqlite":
        yield None
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    base = make_url(require_postgres())
    schema = "t_" + uuid.uuid4().hex[:16]
    admin = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)  # nothing left open for the GC
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(scope="module", params=DATABASES)
def world_app(request, tmp_path_factory):
    """One app and one world per database for the whole matrix (building it per case is slow)."""
    from portal import create_app
    from portal.db.migrate import upgrade

    tmp = tmp_path_factory.mktemp("matrix")
    with _database(request.param) as url:
        settings = {"PORTAL_VAR_DIR": str(tmp / "var"), "PORTAL_TODAY": TODAY.isoformat(),
                    "SEARCH_URL": f"whoosh://{tmp / 'index'}", "PORTAL_PROFILE": "hunan",
                    "PORTAL_BASE_URL": "http://127.0.0.1:5000"}
        if url:
            settings["DATABASE_URL"] = url
        app = create_app(settings)
        app.config["TESTING"] = True
        rt = app.extensions["portal"]
        upgrade(rt.engine)
        session = rt.sessions()
        world = build_world(rt, session)
        from portal.services import indexing

        while indexing.drain(session, rt.backend, rt.today(), rt.profile):
            pass
        session.close()
        yield app, world
        rt.engine.dispose()


def expected(actor: str, target: str, page: str) -> int:
    """The access rule, written out independently of portal.permissions."""
    if actor == "anonymous":
        return 401
    if (actor, target) in {("subject_a", "person"), ("legal_rep", "org")}:
        return 200
    if actor.startswith("grantee_") and target == "org":  # every grantee holds an authorisation from the org
        if actor == "grantee_during" and page in READ_PAGES:
            return 200
        return 403
    return 404


def _target(world, target):
    return world.org if target == "org" else world.person


def _leaks(body: str, world, target: str) -> list[str]:
    """Data of the target that must not be in a refusal."""
    subject = _target(world, target)
    found = [c for c in ALL_CANARIES if c in body]
    if subject.name in body:
        found.append(subject.name)
    return found


def fetch(client, page: str, subject):
    """GET a page; the report is issued by a POST with the page's CSRF token."""
    url = PAGES[page].format(subject.public_id)
    return post(client, url) if page == "report" else client.get(url)


CASES = [(actor, target, page) for actor in ACTORS for target in ("org", "person") for page in PAGES]


@pytest.mark.parametrize(("actor", "target", "page"), CASES, ids=["-".join(c) for c in CASES])
def test_access_matrix(world_app, login_as, actor, target, page):
    app, world = world_app
    client = app.test_client()
    login_as(client, world.ids[actor])
    subject = _target(world, target)
    resp = fetch(client, page, subject)
    want = expected(actor, target, page)
    assert resp.status_code == want, resp.get_data(as_text=True)[:500]
    assert "no-store" in resp.headers.get("Cache-Control", "")
    if want != 200:
        body = resp.get_data(as_text=True)
        assert _leaks(body, world, target) == []
        assert resp.mimetype == "text/html"
        if want == 401:
            links = [a["href"] for a in BeautifulSoup(body, "html.parser").select("a[href]")]
            assert any(h.startswith("/login?") and "next=" in h for h in links)
        return
    if page == "report":
        assert resp.mimetype == "application/pdf"
        assert resp.data.startswith(b"%PDF")
        return
    html = BeautifulSoup(resp.get_data(as_text=True), "html.parser")
    assert subject.name in html.get_text()
    if page == "show":
        text = html.get_text()
        canaries = ORG_CANARIES.values() if target == "org" else [PERSON_CANARY]
        for canary in canaries:
            assert canary in text, canary  # the subject (and a full-scope grantee) sees non-public data
        assert OTHER_CANARY not in text
        nav = {a["href"] for a in html.select("nav.subject-nav a[href]")}
        manage = {PAGES["access_log"].format(subject.public_id), PAGES["authorisations"].format(subject.public_id)}
        if actor.startswith("grantee_"):
            assert not (manage & nav)  # the grantee is not shown links it may not follow
        else:
            assert manage <= nav


@pytest.mark.parametrize("actor", ACTORS)
def test_me_lists_only_my_subjects(world_app, login_as, actor):
    app, world = world_app
    client = app.test_client()
    login_as(client, world.ids[actor])
    resp = client.get("/me")
    if actor == "anonymous":
        assert resp.status_code == 401
        return
    assert resp.status_code == 200
    links = {a.get_text(strip=True) for a in BeautifulSoup(resp.data, "html.parser").select("table.list a")}
    want = {"subject_a": {PERSON_NAME}, "subject_b": {OTHER_NAME}, "legal_rep": {ORG_NAME},
            "grantee_during": {ORG_NAME}}.get(actor, set())
    assert links == want


GRANT_FORM = {"grantee_kind": "person", "grantee_name": "郑某", "grantee_code": make_resident_id("430103", date(1985, 6, 5), 115),
              "purpose": "测试用途", "info_classes": ["basic"], "valid_from": TODAY.isoformat(),
              "valid_until": TODAY.isoformat()}


@pytest.mark.parametrize("actor", ["anonymous", "subject_a", "subject_b", "grantee_during", "grantee_after",
                                   "grantee_revoked"])
def test_only_the_subject_may_grant_or_revoke(world_app, login_as, actor):
    app, world = world_app
    rt = app.extensions["portal"]
    client = app.test_client()
    login_as(client, world.ids[actor])
    want = expected(actor, "org", "authorisations")
    assert want != 200
    count = lambda s: len(s.execute(select(Authorisation)).scalars().all())  # noqa: E731
    with rt.sessions() as s:
        before = count(s)
    during = world.auths["grantee_during"]
    grant = post(client, f"/me/subjects/{world.org.public_id}/authorisations", GRANT_FORM)
    revoke = post(client, f"/me/subjects/{world.org.public_id}/authorisations/{during.id}/revoke")
    assert (grant.status_code, revoke.status_code) == (want, want)
    with rt.sessions() as s:
        assert count(s) == before
        assert s.get(Authorisation, during.id).revoked_at is None


def test_step_up_when_assurance_too_low(world_app, login_as):
    """A password login may not see non-public data: back to the login, asking for face check."""
    app, world = world_app
    rt = app.extensions["portal"]
    client = app.test_client()
    weak = identity(rt, PERSON_NAME, resident_id=world.codes["person"], acr=ACR_PASSWORD, sub="weak")
    login_as(client, weak)
    for page in PAGES:
        resp = fetch(client, page, world.person)
        assert resp.status_code == 302
        location = resp.headers["Location"]
        assert location.startswith("/login?") and "acr=face" in location and "next=" in location
    # unrelated subjects stay 404 without a detour through the login
    assert client.get(PAGES["show"].format(world.org.public_id)).status_code == 404


def test_unknown_subject_is_404_like_a_forbidden_one(world_app, login_as):
    app, world = world_app
    client = app.test_client()
    login_as(client, world.ids["subject_b"])
    missing = client.get("/me/subjects/AAAAAAAAAAAA")
    forbidden = client.get(f"/me/subjects/{world.org.public_id}")
    assert missing.status_code == forbidden.status_code == 404
    assert BeautifulSoup(missing.data, "html.parser").h1.text == BeautifulSoup(forbidden.data, "html.parser").h1.text


def test_every_private_read_is_logged(world_app, login_as):
    app, world = world_app
    rt = app.extensions["portal"]
    client = app.test_client()
    login_as(client, world.ids["grantee_during"])
    with rt.sessions() as s:
        last = s.execute(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)).scalar()
    assert client.get(PAGES["show"].format(world.org.public_id)).status_code == 200
    assert fetch(client, "report", world.org).status_code == 200
    client.get(PAGES["show"].format(world.person.public_id))  # refused: not logged as a view
    with rt.sessions() as s:
        events = s.execute(select(AuditEvent).where(AuditEvent.id > last)).scalars().all()
    views = [e for e in events if e.action == "private.view"]
    assert [(e.subject_id, e.detail["via"], e.detail["what"]) for e in views] == [
        (world.org.id, "authorisation", "page"), (world.org.id, "authorisation", "report")]
    assert all(e.purpose == "办理医疗机构贷款审批" for e in views)
    assert all(e.detail["authorisation_id"] == world.auths["grantee_during"].id for e in views)


def test_canaries_for_the_subject_and_nowhere_public(world_app, login_as):
    app, world = world_app
    client = app.test_client()
    public_urls = [f"/facility/{world.org.public_id}", f"/facility/{world.person.public_id}",
                   f"/facility/{world.other.public_id}", "/lists/red", "/lists/serious",
                   "/search?q=金星", "/search?q=CANARY", "/search?q=李时珍", "/search?category=clinic",
                   "/verify/report/XYBG20261120AAAAAAAA?t=x"]
    seen_public = False
    for url in public_urls:
        resp = client.get(url)
        body = resp.get_data(as_text=True)
        assert [c for c in ALL_CANARIES if c in body] == [], url
        assert "13812345678" not in body, url
        seen_public = seen_public or PUBLIC_TITLE in body
    assert seen_public  # the public record is on the public pages: the check above is not vacuous
    login_as(client, world.ids["legal_rep"])
    body = client.get(f"/me/subjects/{world.org.public_id}").get_data(as_text=True)
    for canary in ORG_CANARIES.values():
        assert canary in body
    # the subject sees its own record, not the identity of the patient in it (issue #14)
    assert "患者王某 138****5678" in body and "13812345678" not in body and "王小明" not in body
    assert PUBLIC_TITLE in body


def test_grade_is_explained_to_the_subject(world_app, login_as):
    """海南 第二十九条: which records moved the score, by how much, under which rule."""
    app, world = world_app
    client = app.test_client()
    login_as(client, world.ids["legal_rep"])
    html = BeautifulSoup(client.get(f"/me/subjects/{world.org.public_id}").data, "html.parser")
    rows = [[td.get_text(strip=True) for td in tr.select("td")] for tr in html.select("table.explanation tbody tr")]
    graded = [r for r in rows if r[0] == GRADED_TITLE]
    assert graded and int(graded[0][1]) < 0 and graded[0][2]
    assert rows[0][0] == "基础分"
    assert sum(int(r[1]) for r in rows if r[1]) == int(html.select_one(".grade-score")["data-score"])
    # the public page shows the letter, never the explanation (it names a non-public record)
    public = client.get(f"/facility/{world.org.public_id}").get_data(as_text=True)
    assert GRADED_TITLE not in public


# --- the government sharing API (issue 15): a client without records:read:shared never sees a
# non-public record; with it, 政务共享 records but never 申请查询, expired, repaired or old versions.

API_CLIENTS = {"api_public": ["records:read:public"],
               "api_shared": ["records:read:public", "records:read:shared"],
               "api_writer": ["records:read:public", "records:write", "feed:read"]}
NEVER_SHARED = ("on_request", "expired", "repaired", "old_version")


@pytest.fixture(scope="module")
def api_tokens(world_app):
    from .api_world import token

    app, world = world_app
    rt = app.extensions["portal"]
    from portal.services import api_clients

    secrets = {}
    with rt.sessions() as s:
        ctx = rt.context(s, "test")
        for client_id, scopes in API_CLIENTS.items():
            _, secrets[client_id.replace("_", ".")] = api_clients.create_client(
                ctx, client_id.replace("_", "."), name=f"部门 {client_id}", purpose=f"用途 {client_id}",
                scopes=scopes, authority="长沙市卫生健康委员会", rate_limit="100000/minute")
        s.commit()

    class _W:  # what api_world.token needs
        pass

    holder = _W()
    holder.secrets = secrets
    api = app.test_client()
    return {cid: token(api, holder, cid.replace("_", ".")) for cid in API_CLIENTS}


def api_expected(client: str, target: str, endpoint: str) -> tuple[int, list[str], bool]:
    """(status, canaries that must be in the body, whether the read is logged for the subject),
    written out independently of the API."""
    shared = {"org": [ORG_CANARIES["shared"]], "person": [PERSON_CANARY], "other": [OTHER_CANARY]}[target]
    if client == "api_shared":
        # every target holds a 政务共享 record; "other" (no public record) is not public at all
        return 200, shared if endpoint == "records" else [], endpoint == "records" or target == "other"
    if target == "other":  # a person with no public record is not public: not even its name by its number
        return 404, [], False
    return 200, [], False


API_ENDPOINTS = {"records": "/api/v1/subjects/{}/records", "subject": "/api/v1/subjects/{}",
                 "grades": "/api/v1/subjects/{}/grades"}
API_CASES = [(c, t, e) for c in API_CLIENTS for t in ("org", "person", "other") for e in API_ENDPOINTS]


@pytest.mark.parametrize(("client", "target", "endpoint"), API_CASES, ids=["-".join(c) for c in API_CASES])
def test_api_access_matrix(world_app, api_tokens, client, target, endpoint):
    app, world = world_app
    rt = app.extensions["portal"]
    code = world.codes[target]
    subject = {"org": world.org, "person": world.person, "other": world.other}[target]
    with rt.sessions() as s:
        last = s.execute(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)).scalar()
    resp = app.test_client().get(API_ENDPOINTS[endpoint].format(code),
                                 headers={"Authorization": f"Bearer {api_tokens[client]}"})
    status, must, logged = api_expected(client, target, endpoint)
    assert resp.status_code == status, resp.get_data(as_text=True)[:300]
    body = resp.get_data(as_text=True)
    for canary in must:
        assert canary in body
    forbidden = [c for c in ALL_CANARIES if c not in must]
    assert [c for c in forbidden if c in body] == []
    assert [ORG_CANARIES[k] for k in NEVER_SHARED if ORG_CANARIES[k] in body] == []
    if status != 200:
        assert subject.name not in body
    assert code not in body or target == "org"  # a person's ID number never leaves, masked or not
    with rt.sessions() as s:
        views = s.execute(select(AuditEvent).where(AuditEvent.id > last, AuditEvent.action == "private.view")
                          ).scalars().all()
    # a non-public read is in the subject's 谁查看了我的信息 with the client's purpose; no other read is
    assert [(e.subject_id, e.purpose, e.detail["via"]) for e in views] == (
        [(subject.id, "用途 api_shared", "api")] if logged else [])


@pytest.mark.parametrize("url", ["/api/v1/feed?limit=1000", "/api/v1/feed/snapshot?limit=1000"])
def test_api_feed_carries_no_canary(world_app, api_tokens, url):
    app, _world = world_app
    body = app.test_client().get(url,
                                 headers={"Authorization": f"Bearer {api_tokens['api_writer']}"})
    assert body.status_code == 200
    text = body.get_data(as_text=True)
    assert PUBLIC_TITLE in text  # not vacuous
    assert [c for c in ALL_CANARIES if c in text] == []


def test_api_read_shows_in_who_saw_my_information(world_app, api_tokens, login_as):
    """The legal representative sees the department and its purpose (用途) in 谁查看了我的信息."""
    app, world = world_app
    resp = app.test_client().get(f"/api/v1/subjects/{world.codes['org']}/records",
                                 headers={"Authorization": f"Bearer {api_tokens['api_shared']}"})
    assert resp.status_code == 200
    client = app.test_client()
    login_as(client, world.ids["legal_rep"])
    log = BeautifulSoup(client.get(PAGES["access_log"].format(world.org.public_id)).data, "html.parser")
    rows = [[td.get_text(" ", strip=True) for td in tr.select("td")] for tr in log.select("table.access-log tbody tr")]
    assert any("部门 api_shared" in r[1] and "政务共享接口" in r[2] and r[4] == "用途 api_shared" for r in rows), rows
