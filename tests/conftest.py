"""Shared fixtures: an app on a temporary directory, factories that go through the services."""
from __future__ import annotations

import os
import shutil
from datetime import date
from itertools import count

import pytest

TODAY = date(2026, 11, 20)


def require_tool(path_or_name: str, why: str) -> str:
    """Skip with a reason on a laptop; fail under CI=true, where .ci/run installs everything."""
    found = shutil.which(path_or_name) or (os.path.exists(path_or_name) and path_or_name)
    if found:
        return found
    message = f"{why}: {path_or_name} not found"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI must install it in .ci/run)")
    pytest.skip(message)


DATABASES = ("sqlite", "postgresql")
#: Not in the default parametrisation: tests ask for it with
#: ``@pytest.mark.parametrize("settings", [..., SEARCH_ON_POSTGRES], indirect=True)``.
SEARCH_ON_POSTGRES = "postgresql+search"


def require_postgres() -> str:
    """The PostgreSQL server of the test run (TEST_DATABASE_URL, started by .ci/postgres.sh):
    skip with a reason on a laptop, fail under CI=true."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if url:
        return url
    message = "PostgreSQL variant: TEST_DATABASE_URL not set (eval \"$(.ci/postgres.sh)\" starts one)"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI must start it in .ci/run)")
    pytest.skip(message)


@pytest.fixture
def pg_schema_url():
    """A fresh, empty schema on the test server per test; its URL pins ``search_path`` to it.
    Dropped afterwards (after the app's engine is disposed)."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    base = make_url(require_postgres())
    schema = "t_" + uuid.uuid4().hex[:16]
    # no pool: each admin connection is closed when its block ends, so none is left for the garbage
    # collector to find open (a ResourceWarning, an error under filterwarnings=error, in a later test)
    admin = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text("SET lock_timeout = '10s'"))
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


#: The app-level tests run on the default backend (tantivy); ``TEST_SEARCH_BACKEND=whoosh`` runs
#: them on the other file search backend (``make test`` does that for the search and privacy tests).
SEARCH_BACKEND = os.environ.get("TEST_SEARCH_BACKEND", "tantivy")


def settings_values(tmp_path, *, profile: str = "hunan", today: date = TODAY) -> dict:
    """The settings of a test app on SQLite under ``tmp_path`` (the fixtures add the database)."""
    return {
        "PORTAL_VAR_DIR": str(tmp_path / "var"),
        "PORTAL_TODAY": today.isoformat(),
        "SEARCH_URL": f"{SEARCH_BACKEND}://{tmp_path / 'index'}",
        "PORTAL_PROFILE": profile,
        "PORTAL_BASE_URL": "http://127.0.0.1:5000",
        # Every test client is one address: limits high enough never to slow or flake a test
        # (tests/integration/test_rate_limits.py lowers them to see the 429).
        "PORTAL_RATELIMIT_SEARCH": "100000/minute",
        "PORTAL_RATELIMIT_LOGIN": "100000/minute",
    }


def profile_per_test(profiles: dict[str, str], default: str = "hunan"):
    """A ``settings`` fixture for a test module whose tests each run under one profile: the test
    function's name → the profile (``default`` otherwise). Assign it: ``settings = profile_per_test(…)``."""

    @pytest.fixture
    def settings(settings, request):
        return {**settings, "PORTAL_PROFILE": profiles.get(request.function.__name__, default)}

    return settings


def context_on(rt, session, day: date):
    """A service context of ``rt`` whose today is ``day`` (the runtime's clock moved there)."""
    rt.settings["PORTAL_TODAY"] = day.isoformat()
    return rt.context(session, "test")


def profile_settings(profiles, today: date):
    """A ``settings`` fixture for a test module: each of ``profiles`` on each database (ids like
    ``hainan-postgresql``), the public pages' day ``today``. Assign it: ``settings = profile_settings(…)``."""

    @pytest.fixture(params=[(db, p) for p in profiles for db in DATABASES], ids=lambda v: f"{v[1]}-{v[0]}")
    def settings(request, tmp_path):
        database, profile = request.param
        values = settings_values(tmp_path, profile=profile, today=today)
        if database == "postgresql":
            values["DATABASE_URL"] = request.getfixturevalue("pg_schema_url")
        return values

    return settings


@pytest.fixture(params=DATABASES)
def settings(request, tmp_path):
    """Every test that builds the app runs on SQLite and on PostgreSQL (DESIGN.md: a real
    server, tested in CI). SEARCH_ON_POSTGRES also puts the search index in that PostgreSQL
    schema (SEARCH_URL = DATABASE_URL: several web nodes share it)."""
    values = settings_values(tmp_path)
    if request.param in ("postgresql", SEARCH_ON_POSTGRES):
        values["DATABASE_URL"] = request.getfixturevalue("pg_schema_url")
    if request.param == SEARCH_ON_POSTGRES:
        values["SEARCH_URL"] = values["DATABASE_URL"]
    return values


@pytest.fixture
def app(settings):
    from portal import create_app
    from portal.db.migrate import upgrade

    app = create_app(settings)
    app.config["TESTING"] = True
    upgrade(app.extensions["portal"].engine)
    yield app
    app.extensions["portal.scan_counter"].flush()  # buffered scans: write them while the database exists
    app.extensions["portal"].close()


@pytest.fixture
def client(app):
    """A test client that sends the CSRF token on unsafe requests, as the pages do (see CsrfClient)."""
    app.test_client_class = CsrfClient
    return app.test_client()


@pytest.fixture
def rt(app):
    return app.extensions["portal"]


@pytest.fixture
def session(rt):
    s = rt.sessions()
    yield s
    s.close()


@pytest.fixture
def ctx(rt, session):
    return rt.context(session, "test")


_seq = count(1)


@pytest.fixture
def make_org(ctx):
    """Factory: an organisation with a valid synthetic USCC."""
    from portal.domain.identifiers import make_uscc
    from portal.services.subjects import register_subject

    def factory(name="测试市第一人民医院", category="hospital", region_code="430102", **kw):
        n = next(_seq)
        code = kw.pop("code", None) or make_uscc("12", region_code, f"{n:08d}")
        return register_subject(ctx, kind="org", name=name, code=code, category=category,
                                region_code=region_code, **kw)

    return factory


@pytest.fixture
def make_person(ctx):
    from portal.domain.identifiers import make_resident_id
    from portal.services.subjects import register_subject

    def factory(name="张三丰", category="doctor", region_code="430102", birth=date(1980, 5, 17), **kw):
        n = next(_seq)
        code = kw.pop("code", None) or make_resident_id(region_code, birth, n % 1000)
        return register_subject(ctx, kind="person", name=name, code=code, category=category,
                                region_code=region_code, **kw)

    return factory


@pytest.fixture
def make_record(ctx):
    from portal.services.records import add_record

    def factory(subject, record_type="penalty", title="未按规定公示收费标准", **kw):
        kw.setdefault("decided_on", date(2026, 6, 1))
        kw.setdefault("authority", "长沙市卫生健康委员会")
        if record_type in ("penalty", "inspection", "criminal", "court_refusal", "misconduct_points"):
            kw.setdefault("severity", "general")
        if record_type in ("serious_list", "blacklist", "joint_punishment"):
            kw.setdefault("severity", "serious")  # 严重失信信息 is always 严重 (domain.record_rules)
        return add_record(ctx, subject, record_type=record_type, title=title, **kw)

    return factory


@pytest.fixture
def reindex(rt, session):
    """Commit and drain the index queue, as the request cycle does."""
    from portal.services import indexing

    def run():
        session.commit()
        while indexing.drain(session, rt.backend, rt.today(), rt.profile):
            pass

    return run


@pytest.fixture
def login_as():
    """``login_as(client, identity)``: the client is logged in as ``identity`` (``None``: logged out).

    Stands in for the OIDC login (portal.web.auth), which may replace this body."""
    def do(client, identity):
        with client.session_transaction() as s:
            s.clear()
            if identity is not None:
                s["identity"] = identity.to_dict()

    return do


# --- login helpers (portal.web.auth, portal.devidp) --------------------------------------------

from flask.testing import FlaskClient  # noqa: E402


class CsrfClient(FlaskClient):
    """Adds ``X-CSRF-Token`` to POST/PUT/PATCH/DELETE, as ``base.html`` (htmx) and the forms do.

    ``client.post(url, csrf=False)`` sends the request without it (to test the check itself)."""

    def open(self, *args, csrf: bool = True, **kwargs):
        method = str(kwargs.get("method", "GET")).upper()
        if csrf and method not in ("GET", "HEAD", "OPTIONS", "TRACE"):
            from werkzeug.datastructures import Headers

            headers = Headers(kwargs.get("headers") or {})
            headers.setdefault("X-CSRF-Token", self.csrf_token())
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        import secrets

        from portal.web.csrf import COOKIE, token_for_seed

        cookie = self.get_cookie(COOKIE)
        if cookie is None:
            seed = secrets.token_urlsafe(32)
            self.set_cookie(COOKIE, seed)
        else:
            seed = cookie.value
        return token_for_seed(self.application.config["SECRET_KEY"], seed)


def local_path(url: str) -> str:
    """Path and query of an absolute URL: the test client keeps cookies per host, and the portal's
    PORTAL_BASE_URL host differs from the test client's ``localhost``."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture
def login_via_devidp():
    """``login_via_devidp(client, who, method="face", next="/me", acr=None)`` logs in through the
    REAL flow: /login → embedded development IdP page → callback. ``who`` is a role on the IdP
    page (``doctor``, ``legal_rep``, ``agent``, ``no_record``) or an identity key. Returns the
    callback's response (302 to ``next`` on success, 401 on refusal), not followed."""
    from bs4 import BeautifulSoup

    def do(client, who: str, method: str = "face", next: str = "/me", acr: str | None = None):
        query = {"next": next} | ({"acr": acr} if acr else {})
        start = client.get("/login", query_string=query)
        if start.status_code != 302:
            return start
        page = client.get(local_path(start.headers["Location"]))
        assert page.status_code == 200, page.get_data(as_text=True)
        soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
        form = soup.find("form", method="post")
        choice = form.find("input", attrs={"name": "who", "data-role": who}) or \
            form.find("input", attrs={"name": "who", "value": who})
        assert choice is not None, f"no demo identity {who!r} on the development IdP page"
        data = {"who": choice["value"], "method": method, "decision": "login",
                "csrf_token": form.find("input", attrs={"name": "csrf_token"})["value"]}
        back = client.post(form["action"], data=data, csrf=False) if isinstance(client, CsrfClient) \
            else client.post(form["action"], data=data)
        assert back.status_code == 302, back.get_data(as_text=True)
        return client.get(local_path(back.headers["Location"]))

    return do
