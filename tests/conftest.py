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


@pytest.fixture
def settings(tmp_path):
    return {
        "PORTAL_VAR_DIR": str(tmp_path / "var"),
        "PORTAL_TODAY": TODAY.isoformat(),
        "SEARCH_URL": f"whoosh://{tmp_path / 'index'}",
        "PORTAL_PROFILE": "hunan",
        "PORTAL_BASE_URL": "http://127.0.0.1:5000",
    }


@pytest.fixture
def app(settings):
    from portal import create_app
    from portal.migrate import upgrade

    app = create_app(settings)
    app.config["TESTING"] = True
    upgrade(app.extensions["portal"].engine)
    yield app
    app.extensions["portal"].engine.dispose()


@pytest.fixture
def client(app):
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
        if record_type in ("penalty", "inspection", "criminal", "court_refusal", "misconduct_points",
                           "serious_list", "blacklist", "joint_punishment"):
            kw.setdefault("severity", "general")
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
