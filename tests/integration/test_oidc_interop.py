"""Interoperability: the portal's login against an independent, certified OpenID Provider,
node-oidc-provider (tests/oidc, pinned with a lockfile, installed by ``.ci/run``).

The provider runs on a free 127.0.0.1 port; the browser side is driven with ``requests`` (the
provider) and Flask's test client (the portal). Skipped with a reason on a laptop without node or
``npm ci --prefix tests/oidc``; a failure under ``CI=true``."""
from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlencode, urljoin, urlsplit, urlunsplit

import pytest
import requests
from bs4 import BeautifulSoup
from sqlalchemy import select

from bench.prod_stack import read_ready_line
from portal.auth.oidc import PortalOAuthApp
from portal.domain.identifiers import make_resident_id, make_uscc
from portal.identity import ACR_FACE, ACR_PASSWORD, SESSION_KEY
from portal.models import AuditEvent, LoginBinding
from tests.conftest import local_path, require_tool

OIDC_DIR = Path(__file__).resolve().parents[1] / "oidc"
CLIENT_ID = "health-credit-portal"
CLIENT_SECRET = "interop-secret-0123456789-abcdefghij"
BASE_URL = "http://127.0.0.1:5000"

DOCTOR_NUMBER = make_resident_id("430102", date(1980, 5, 17), 901)
REP_NUMBER = make_resident_id("430104", date(1972, 3, 9), 903)
HOSPITAL_USCC = make_uscc("12", "430102", "70000001")
ACCOUNTS = {
    "doctor-1": {"name": "李医生", "id_number": DOCTOR_NUMBER},
    "rep-1": {"name": "王院长", "id_number": REP_NUMBER, "legal_rep_of": HOSPITAL_USCC,
              "org_role": "legal_representative"},
    "clerk-1": {"name": "周职员", "id_number": make_resident_id("430104", date(1990, 1, 2), 905),
                "legal_rep_of": HOSPITAL_USCC, "org_role": "staff"},
}


@dataclass
class Provider:
    issuer: str
    process: subprocess.Popen


def _node_available() -> str:
    node = require_tool("node", "node-oidc-provider interoperability tests need Node.js")
    if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        message = "tests/oidc/node_modules missing: run `npm ci --prefix tests/oidc`"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (.ci/run must install it)")
        pytest.skip(message)
    return node


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    node = _node_available()
    config = {
        "client": {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                   "redirect_uris": [f"{BASE_URL}/auth/callback"],
                   "post_logout_redirect_uris": [f"{BASE_URL}/logged-out"]},
        "accounts": ACCOUNTS,
        "acr_values": [ACR_PASSWORD, ACR_FACE],
    }
    log = (tmp_path_factory.mktemp("oidc") / "provider.log").open("w")
    process = subprocess.Popen([node, "provider.mjs"], cwd=OIDC_DIR, stdout=subprocess.PIPE, stderr=log,
                               env={**os.environ, "OIDC_TEST_CONFIG": json.dumps(config)}, text=True)
    ready = read_ready_line(process)  # the bench's production soak starts it the same way
    if "issuer" not in ready:
        process.kill()
        process.wait(10)
        process.stdout.close()
        log.close()
        pytest.fail("node-oidc-provider did not start: " + Path(log.name).read_text()[-2000:])
    yield Provider(ready["issuer"], process)
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
    process.stdout.close()
    log.close()


@pytest.fixture
def interop_settings(settings, provider):
    return {**settings, "PORTAL_BASE_URL": BASE_URL, "PORTAL_OIDC_ISSUER": provider.issuer,
            "PORTAL_OIDC_CLIENT_ID": CLIENT_ID, "PORTAL_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "PORTAL_OIDC_SCOPES": "openid profile realname"}


@pytest.fixture
def app(interop_settings):
    from portal import create_app
    from portal.db.migrate import upgrade

    app = create_app(interop_settings)
    app.config["TESTING"] = True
    upgrade(app.extensions["portal"].engine)
    yield app
    app.extensions["portal"].engine.dispose()


@pytest.fixture
def world(make_person, make_org, make_record, session):
    doctor = make_person(name="李医生", code=DOCTOR_NUMBER)
    make_record(doctor, title="医师超范围执业", scope="on_request")
    hospital = make_org(name="测试市第一人民医院", category="hospital", code=HOSPITAL_USCC, legal_rep="王院长")
    make_record(hospital, title="未按规定公示收费标准", scope="shared")
    session.commit()
    return {"doctor": doctor, "hospital": hospital}


def provider_login(client, provider, account: str, acr: str, *, abort: bool = False, **query) -> str:
    """Portal /login → provider's authorization endpoint → login form → back; returns the
    callback URL the provider sends the browser to (not yet visited)."""
    start = client.get("/login", query_string={"next": "/me", **query})
    assert start.status_code == 302, start.get_data(as_text=True)
    authorize = start.headers["Location"]
    assert authorize.startswith(provider.issuer)
    browser = requests.Session()
    step = browser.get(authorize, allow_redirects=False, timeout=10)
    assert step.status_code in (302, 303), step.text
    interaction = urljoin(provider.issuer, step.headers["Location"])
    assert browser.get(interaction, timeout=10).status_code == 200
    action = "abort" if abort else "login"
    step = browser.post(f"{interaction}/{action}", data={"account": account, "acr": acr}, allow_redirects=False,
                        timeout=10)
    assert step.status_code in (302, 303), step.text
    step = browser.get(urljoin(provider.issuer, step.headers["Location"]), allow_redirects=False, timeout=10)
    assert step.status_code in (302, 303), step.text
    callback = step.headers["Location"]
    assert callback.startswith(f"{BASE_URL}/auth/callback"), callback
    return callback


def identity_of(client) -> dict:
    with client.session_transaction() as s:
        return dict(s.get(SESSION_KEY) or {})


def last_failure(session) -> str:
    session.expire_all()
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "auth.failed")
                            .order_by(AuditEvent.id.desc())).scalars().first()
    return event.detail["reason"] if event else ""


def assert_refused(response, session, reason_prefix: str, status: int = 401):
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    text = BeautifulSoup(response.get_data(as_text=True), "html.parser").get_text()
    assert "系统繁忙" not in text
    assert last_failure(session).startswith(reason_prefix), last_failure(session)


def test_person_login(client, provider, world, session):
    callback = provider_login(client, provider, "doctor-1", ACR_FACE)
    assert parse_qs(urlsplit(callback).query)["iss"] == [provider.issuer]  # RFC 9207 from a real OP
    response = client.get(local_path(callback))
    assert response.status_code == 302 and response.headers["Location"] == "/me"
    who = identity_of(client)
    assert who["iss"] == provider.issuer and who["sub"] == "doctor-1"
    assert who["acr"] == ACR_FACE and who["name"] == "李医生"
    assert who["person_hash"] == world["doctor"].code_hash and who["legal_rep_of"] is None
    assert "李医生" in client.get("/me").get_data(as_text=True)
    binding = session.execute(select(LoginBinding)).scalar_one()
    assert (binding.iss, binding.sub, binding.subject_id) == (provider.issuer, "doctor-1", world["doctor"].id)


def test_legal_representative_login(client, provider, world):
    response = client.get(local_path(provider_login(client, provider, "rep-1", ACR_FACE)))
    assert response.status_code == 302
    who = identity_of(client)
    assert who["legal_rep_of"] == world["hospital"].code_hash
    assert "测试市第一人民医院" in client.get("/me").get_data(as_text=True)


def test_organisation_claim_without_the_legal_rep_role_is_ignored(client, provider, world, session):
    assert client.get(local_path(provider_login(client, provider, "clerk-1", ACR_FACE))).status_code == 302
    assert identity_of(client)["legal_rep_of"] is None
    session.expire_all()
    login = session.execute(select(AuditEvent).where(AuditEvent.action == "auth.login")).scalars().one()
    assert login.detail["notes"] == ["org_without_legal_rep_role"]


def test_too_low_acr_is_refused(client, provider, world, session):
    response = client.get(local_path(provider_login(client, provider, "doctor-1", ACR_PASSWORD)))
    assert_refused(response, session, "acr_too_low")
    assert identity_of(client) == {}


def test_replayed_callback_is_refused(client, provider, world, session, app):
    callback = provider_login(client, provider, "doctor-1", ACR_FACE)
    assert client.get(local_path(callback)).status_code == 302
    assert_refused(client.get(local_path(callback)), session, "state_mismatch")
    stranger = app.test_client()
    assert_refused(stranger.get(local_path(callback)), session, "state_mismatch")
    assert identity_of(stranger) == {}


def test_replayed_code_is_refused_by_the_provider(client, provider, world, session, monkeypatch):
    """Even with a fresh state, a code that was already exchanged is worthless (invalid_grant)."""
    first = provider_login(client, provider, "doctor-1", ACR_FACE)
    code = parse_qs(urlsplit(first).query)["code"][0]
    assert client.get(local_path(first)).status_code == 302
    client.post("/logout")
    second = provider_login(client, provider, "doctor-1", ACR_FACE)
    parts = urlsplit(second)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | {"code": code}
    replay = urlunsplit(parts._replace(query=urlencode(query)))
    assert_refused(client.get(local_path(replay)), session, "token_error:invalid_grant")


def test_authorization_response_naming_another_issuer_is_refused(client, provider, world, session):
    callback = provider_login(client, provider, "doctor-1", ACR_FACE)
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | {"iss": "https://idp.evil.example"}
    response = client.get(local_path(urlunsplit(parts._replace(query=urlencode(query)))))
    assert_refused(response, session, "iss_parameter_mismatch")


def test_provider_claiming_another_issuer_is_refused(settings, interop_settings, provider):
    """The configured issuer differs from the one the discovery document states (here: a trailing
    slash): OIDC Discovery §4.3 says to refuse, before the user is sent anywhere."""
    from portal import create_app
    from portal.db.migrate import upgrade

    app = create_app({**interop_settings, "PORTAL_OIDC_ISSUER": provider.issuer + "/"})
    upgrade(app.extensions["portal"].engine)
    response = app.test_client().get("/login")
    assert response.status_code == 401 and "发行者标识" in response.get_data(as_text=True)
    with app.extensions["portal"].sessions() as s:
        reason = s.execute(select(AuditEvent.detail).where(AuditEvent.action == "auth.failed")).scalar_one()["reason"]
    assert reason == "discovery_issuer_mismatch"
    app.extensions["portal"].engine.dispose()


def test_tampered_id_token_is_refused(client, provider, world, session, monkeypatch):
    original = PortalOAuthApp.fetch_access_token

    def tampered(self, *args, **kwargs):
        token = original(self, *args, **kwargs)
        header, payload, signature = token["id_token"].split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["id_number"] = REP_NUMBER  # become someone else
        body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        token["id_token"] = f"{header}.{body}.{signature}"
        return token

    monkeypatch.setattr(PortalOAuthApp, "fetch_access_token", tampered)
    response = client.get(local_path(provider_login(client, provider, "doctor-1", ACR_FACE)))
    assert_refused(response, session, "id_token_invalid:BadSignatureError")
    assert identity_of(client) == {}


def test_cancelled_login(client, provider, world, session):
    response = client.get(local_path(provider_login(client, provider, "doctor-1", ACR_FACE, abort=True)))
    assert_refused(response, session, "idp_error:access_denied")


def test_rp_initiated_logout_goes_to_the_provider(client, provider, world, session):
    assert client.get(local_path(provider_login(client, provider, "doctor-1", ACR_FACE))).status_code == 302
    response = client.post("/logout")
    target = urlsplit(response.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{provider.issuer}/session/end"
    params = parse_qs(target.query)
    assert params["post_logout_redirect_uri"] == [f"{BASE_URL}/logged-out"] and params["client_id"] == [CLIENT_ID]
    assert "id_token_hint" not in params  # never the ID token in a URL
    # the provider accepts the request (shows its logout confirmation, not an error)
    end = requests.get(response.headers["Location"], allow_redirects=False, timeout=10)
    assert end.status_code == 200 and "error" not in end.text.lower()[:2000]
    assert client.get("/me").status_code == 401


JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def test_no_url_carries_the_id_number_or_an_id_token(client, provider, world, monkeypatch):
    """The personal claims come from the provider's UserInfo endpoint; the ID token holds none,
    and no URL of the login → logout flow (browser history, access logs) holds the number or a JWT."""
    tokens = []
    original = PortalOAuthApp.fetch_access_token

    def capture(self, *args, **kwargs):
        token = original(self, *args, **kwargs)
        tokens.append(token)
        return token

    monkeypatch.setattr(PortalOAuthApp, "fetch_access_token", capture)
    callback = provider_login(client, provider, "rep-1", ACR_FACE)
    done = client.get(local_path(callback))
    assert done.status_code == 302 and identity_of(client)["legal_rep_of"] == world["hospital"].code_hash
    logout = client.post("/logout")
    end = requests.get(logout.headers["Location"], allow_redirects=False, timeout=10)
    assert end.status_code == 200
    for url in (callback, done.headers["Location"], logout.headers["Location"]):
        assert REP_NUMBER not in unquote(url) and not JWT.search(unquote(url)), url
    payload = tokens[0]["id_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert not {"id_number", "legal_rep_of", "org_role", "name"} & set(claims), claims
