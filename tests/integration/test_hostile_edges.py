"""Hardened edges (issue 12): hostile input answered in words with the right status, never a 500;
the security headers; an ID number typed into the search is never echoed. The fuzz suite
(test_fuzz_routes.py) covers every route at random; these pin each finding down by name."""
from __future__ import annotations

import base64
import hashlib
import re
from datetime import date

import pytest
from bs4 import BeautifulSoup

from portal.domain.identifiers import make_resident_id, mask_resident_id

CONTROL_MESSAGE = "不允许的控制字符"


@pytest.mark.parametrize("url", ["/verify/report/XYBG2026%00", "/verify/document/a%00b", "/facility/abc%00",
                                 "/me/subjects/x%1b", "/facility/by-code/%C2%85"])
def test_control_characters_in_the_path_are_refused(client, url):
    """NUL reached PostgreSQL and failed there (a 500); now every route refuses it first."""
    resp = client.get(url)
    assert resp.status_code == 400, url
    assert CONTROL_MESSAGE in resp.get_data(as_text=True)


def test_control_characters_in_a_cookie_are_refused(client):
    client.set_cookie("session", "abc\x00def")
    assert client.get("/").status_code == 400


def test_control_characters_in_query_and_form_are_removed(client, make_org, reindex, session):
    """Removed once for every route, so the views answer as for the clean text: the search
    gives the same page, the staff login and the report check refuse in their own words."""
    make_org(name="金星口腔诊所", category="clinic")
    reindex()
    clean = client.get("/search", query_string={"q": "金星口腔"})
    resp = client.get("/search", query_string={"q": "金星\x00口腔\x01"})
    assert resp.status_code == 200 and resp.data == clean.data
    assert client.get("/search?%00=x&page=1%00").status_code == 200
    resp = client.post("/staff/login", data={"username": "admin\x00", "password": "x\x1b", "code": "1\x00"})
    assert resp.status_code in (400, 401, 403) and CONTROL_MESSAGE not in resp.get_data(as_text=True)
    assert "staff/login" in resp.request.path and "<form" in resp.get_data(as_text=True)  # the login page again
    resp = client.post("/verify/report/XYBG20261120AAAAAAAA", data={"t": "a\x00\r\n\tb"})
    assert resp.status_code == 404  # not genuine, answered normally


def test_invalid_utf8_in_the_raw_query_is_not_a_500(client):
    """A client that does not percent-encode sends raw bytes; Werkzeug decoded them strictly."""
    for raw in (b"q=\xff\xfe", b"q=\xc3\x28", b"page=\xed\xa0\x80", b"\x80"):
        resp = client.get("/search", environ_overrides={"QUERY_STRING": raw.decode("latin-1")})
        assert resp.status_code == 200, raw


@pytest.mark.parametrize("url", [
    "/staff/cases/X/evidence/{n}",
    "/me/subjects/X/cases/Y/evidence/{n}",
    "/me/subjects/X/records/{n}/objection",
    "/me/subjects/X/records/{n}/repair",
])
def test_path_integers_beyond_the_id_columns_are_not_found(client, login_as, url):
    for n in (2**31, 2**63, 10**30, "9" * 5000):
        resp = client.get(url.format(n=n))
        assert resp.status_code in (302, 401, 404), (url, resp.status_code)  # login first, or no such page
        assert resp.status_code != 500


def test_bounded_int_converter():
    from werkzeug.routing import ValidationError

    from portal.web.hygiene import BoundedIntConverter

    conv = BoundedIntConverter(None)
    assert conv.to_python(str(2**31 - 1)) == 2**31 - 1  # INTEGER id columns (PostgreSQL: 32 bits)
    for n in (2**31, 2**63):
        with pytest.raises(ValidationError):
            conv.to_python(str(n))
    assert re.fullmatch(conv.regex, "١٢") is None  # only ASCII digits form a path integer


def test_revoke_with_a_huge_id_is_not_found(client, login_as, make_org, session):
    """The one POST route with an <int:> (subject.revoke): 404, not OverflowError."""
    org = make_org()
    session.commit()
    resp = client.post(f"/me/subjects/{org.public_id}/authorisations/{2**64}/revoke")
    assert resp.status_code == 404


@pytest.mark.parametrize("token", ["é" * 64, "ÿ", "中文".encode().decode("latin-1")])
def test_a_non_ascii_csrf_token_is_refused_not_a_500(client, token):
    resp = client.post("/staff/login", data={"username": "a"}, headers={"X-CSRF-Token": token}, csrf=False)
    assert resp.status_code == 400 and "页面已过期" in resp.get_data(as_text=True)
    resp = client.post("/staff/login", data={"username": "a", "csrf_token": token}, csrf=False)
    assert resp.status_code == 400


@pytest.mark.parametrize("query", [
    "response_type=cod%C3%A9&client_id=credit-portal&redirect_uri=http%3A%2F%2F%C3%A9",
    "response_type=%E4%BD%A0&client_id=credit-portal&redirect_uri=%E4%BD%A0",
    "response_type=code&client_id=%E4%BD%A0",
])
def test_dev_idp_refuses_non_ascii_oauth_parameters(client, query):
    resp = client.get(f"/dev-idp/authorize?{query}")
    assert resp.status_code == 400
    assert "开发身份提供方拒绝了该认证请求" in resp.get_data(as_text=True)


# --- headers ------------------------------------------------------------------------------

def _policy(resp) -> dict[str, str]:
    header = resp.headers["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in header.split(";")) if part}


def test_strict_content_security_policy(client):
    policy = _policy(client.get("/"))
    assert policy["script-src"] == "script-src 'self'"
    assert "unsafe-inline" not in " ".join(policy.values()) and "unsafe-eval" not in " ".join(policy.values())
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert policy["object-src"] == "object-src 'none'" and policy["base-uri"] == "base-uri 'none'"
    # every response carries it, errors included
    assert "Content-Security-Policy" in client.get("/no-such-page").headers


def test_no_inline_script_or_style_in_the_templates():
    """What the policy forbids is not in the templates: no inline <script>, no event-handler or
    style attributes, no hx-on (htmx would eval it), no inline <style> but the hashed one."""
    from portal.config import ROOT

    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for script in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in script, (path, script)
        assert not re.search(r"\son[a-z]+\s*=", text), path
        assert not re.search(r"\sstyle\s*=", text), path
        assert "hx-on" not in text, path
        assert not re.search(r"<style>(?!\{\{ inline_style\()", text), path


def test_the_scan_page_inline_style_is_allowed_by_its_hash(client):
    resp = client.get("/p/not-a-real-token")  # the not-genuine page shares the scan page's layout
    body = resp.get_data(as_text=True)
    style = re.search(r"<style>(.*?)</style>", body, re.S)
    assert style, body[:500]
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"'sha256-{digest}'" in _policy(resp)["style-src"]


def test_production_requires_https_and_sends_hsts(settings):
    from portal import create_app
    from portal.crypto import new_master_key
    from portal.runtime import ConfigError

    production = {**settings, "PORTAL_ENV": "production", "PORTAL_SECRET_KEY": new_master_key(),
                  "PORTAL_DATA_KEY": new_master_key(), "PORTAL_OIDC_ISSUER": "https://idp.example.gov.cn",
                  "PORTAL_OIDC_CLIENT_ID": "c", "PORTAL_OIDC_CLIENT_SECRET": "s"}
    with pytest.raises(ConfigError, match="https"):
        create_app({**production, "PORTAL_BASE_URL": "http://xyxx.wjw.example.gov.cn"})
    app = create_app({**production, "PORTAL_BASE_URL": "https://xyxx.wjw.example.gov.cn"})
    try:
        assert app.config["SESSION_COOKIE_SECURE"] is True
        resp = app.test_client().get("/healthz")
        assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        app.extensions["portal"].close()


def test_no_hsts_in_development(client):
    assert "Strict-Transport-Security" not in client.get("/healthz").headers


# --- an ID number typed into the search ---------------------------------------------------

def test_a_typed_id_number_is_not_echoed(client, make_org, reindex):
    number = make_resident_id("430102", date(1980, 5, 17), 123)
    masked = mask_resident_id(number)
    resp = client.get("/search", query_string={"q": number})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert number not in body
    html = BeautifulSoup(body, "html.parser")
    assert masked in html.title.get_text()
    assert html.select_one("input#q")["value"] == masked
    assert masked in html.select_one("#results").get_text()  # the no-result notice
    # htmx: the fragment neither echoes it nor lets the number into the browser history
    resp = client.get("/search", query_string={"q": f"查 {number}"}, headers={"HX-Request": "true"})
    assert number not in resp.get_data(as_text=True)
    assert resp.headers["HX-Push-Url"] == "false"
    # an ordinary query is echoed and pushed as before
    resp = client.get("/search", query_string={"q": "金星口腔"}, headers={"HX-Request": "true"})
    assert "HX-Push-Url" not in resp.headers and "金星口腔" in resp.get_data(as_text=True)
    # next to a name the number is not echoed either (nor in facet and page links, which carry
    # the masked text; the index holds no full ID number, so such a query finds nothing today)
    make_org(name="金星口腔诊所", category="clinic")
    make_org(name="金星口腔医院", category="hospital")
    reindex()
    resp = client.get("/search", query_string={"q": "金星口腔"})
    assert BeautifulSoup(resp.data, "html.parser").select("a.chip")  # facets are shown for this query
    for q in (f"金星口腔 {number}", f"金星口腔{number}"):
        resp = client.get("/search", query_string={"q": q})
        assert number not in resp.get_data(as_text=True)
