"""Per-client rate limits (portal.web.ratelimit): search, login, callback, staff login, chat.

The suite's settings raise every limit far out of reach (tests/conftest.py); these tests lower
them to a handful of requests and count. Fixed windows of a minute: a test runs well inside one
window, and each test has its own application (its own memory store)."""
from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from portal.runtime import ConfigError


@pytest.fixture
def make_app(settings):
    from portal import create_app
    from portal.db.migrate import upgrade
    from tests.conftest import CsrfClient

    apps = []

    def build(**overrides):
        app = create_app({**settings, **overrides})
        app.config["TESTING"] = True
        app.test_client_class = CsrfClient
        upgrade(app.extensions["portal"].engine)
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["portal"].close()


def _text(response) -> str:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser").get_text(" ", strip=True)


def test_search_is_limited_per_client_with_a_chinese_429(make_app):
    app = make_app(PORTAL_RATELIMIT_SEARCH="3/minute")
    client = app.test_client()
    codes = [client.get("/search", query_string={"q": f"医院{i}"}).status_code for i in range(3)]
    assert codes == [200, 200, 200]
    over = client.get("/search", query_string={"q": "医院"})
    assert over.status_code == 429
    assert "请求过于频繁" in _text(over)
    assert 1 <= int(over.headers["Retry-After"]) <= 60
    # the htmx fragment is limited too, and answered with a fragment in the results' place
    fragment = client.get("/search", query_string={"q": "医院"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 429 and int(fragment.headers["Retry-After"]) >= 1
    soup = BeautifulSoup(fragment.get_data(as_text=True), "html.parser")
    assert soup.find(id="results") is not None and soup.find("html") is None
    assert "请求过于频繁" in soup.get_text()
    # another client address has its own count; other pages are not limited
    other = app.test_client()
    assert other.get("/search", query_string={"q": "医院"}, environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert client.get("/").status_code == 200


def test_forwarded_for_is_ignored_without_trusted_proxies(make_app):
    """A client cannot escape its limit by naming another address (PORTAL_TRUSTED_PROXIES=0)."""
    client = make_app(PORTAL_RATELIMIT_SEARCH="2/minute").test_client()
    codes = [client.get("/search?q=a", headers={"X-Forwarded-For": f"10.0.0.{i}"}).status_code for i in range(3)]
    assert codes == [200, 200, 429]


def test_trusted_proxy_gives_the_real_client_address(make_app):
    """Behind one proxy, the address the proxy appended is the client's; what the client itself
    put in front of it is not believed."""
    client = make_app(PORTAL_RATELIMIT_SEARCH="2/minute", PORTAL_TRUSTED_PROXIES="1").test_client()
    alice = {"X-Forwarded-For": "203.0.113.7"}
    assert [client.get("/search?q=a", headers=alice).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/search?q=a", headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 200
    spoofed = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}  # alice forging a first hop
    assert client.get("/search?q=a", headers=spoofed).status_code == 429


def test_login_and_callback_are_limited(make_app):
    client = make_app(PORTAL_RATELIMIT_LOGIN="2/minute").test_client()
    assert [client.get("/login").status_code for _ in range(3)] == [302, 302, 429]
    assert [client.get("/auth/callback?state=x").status_code for _ in range(3)] == [401, 401, 429]


def test_staff_login_posts_are_limited_but_the_form_is_not(make_app):
    client = make_app(PORTAL_RATELIMIT_LOGIN="2/minute").test_client()
    data = {"username": "nobody.here", "password": "x" * 12, "code": "000000"}
    assert [client.post("/staff/login", data=data).status_code for _ in range(3)] == [401, 401, 429]
    assert client.get("/staff/login").status_code == 200


def test_chat_uses_the_shared_limiter_with_retry_after(make_app):
    client = make_app(PORTAL_CHAT_RATE_PER_MINUTE="2").test_client()
    codes = [client.post("/chat", data={"q": "你好"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    over = client.post("/chat", data={"q": "你好"}, headers={"HX-Request": "true"})
    assert over.status_code == 429 and int(over.headers["Retry-After"]) >= 1
    assert "提问过于频繁" in over.get_data(as_text=True)


@pytest.mark.parametrize("overrides, match", [
    ({"PORTAL_RATELIMIT_SEARCH": "lots"}, "PORTAL_RATELIMIT_SEARCH"),
    ({"PORTAL_RATELIMIT_LOGIN": "10 per fortnight"}, "PORTAL_RATELIMIT_LOGIN"),
    ({"PORTAL_TRUSTED_PROXIES": "-1"}, "PORTAL_TRUSTED_PROXIES"),
    ({"PORTAL_TRUSTED_PROXIES": "two"}, "PORTAL_TRUSTED_PROXIES"),
    ({"PORTAL_RATELIMIT_STORAGE": "carrier-pigeon://loft"}, "PORTAL_RATELIMIT_STORAGE"),
    ({"PORTAL_CHAT_RATE_PER_MINUTE": "0"}, "PORTAL_CHAT_RATE_PER_MINUTE"),
])
def test_bad_settings_refuse_to_start(settings, overrides, match):
    from portal import create_app

    with pytest.raises(ConfigError, match=match):
        create_app({**settings, **overrides})
