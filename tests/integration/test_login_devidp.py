"""Login through the embedded development identity provider: the real OIDC flow in-process.

Every failure path must be a Chinese 401/400/503 page plus an ``auth.failed`` audit event, never a
500; sessions are rotated at login, time out, and end at logout (RP-initiated)."""
from __future__ import annotations

import base64
import json
import re
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlencode, urlsplit, urlunsplit

import pytest
import requests
from bs4 import BeautifulSoup
from joserfc.jwk import RSAKey
from sqlalchemy import select

from portal.auth.oidc import PortalOAuthApp
from portal.identity import ACR_FACE, ACR_PASSWORD, SESSION_KEY
from portal.models import AuditEvent, LoginBinding, WebSession
from portal.models.base import utcnow
from tests.conftest import local_path


@pytest.fixture
def world(make_person, make_org, make_record, session, ctx):
    """A doctor and a hospital (with its legal representative) that have non-public records."""
    doctor = make_person(name="李医生")
    make_record(doctor, title="医师超范围执业", scope="on_request")
    hospital = make_org(name="测试市第一人民医院", category="hospital", legal_rep="王院长")
    make_record(hospital, title="未按规定公示收费标准", scope="shared")
    session.commit()
    return {"doctor": doctor, "hospital": hospital, "doctor_number": ctx.protector.decrypt(doctor.code_cipher)}


def oidc(app):
    return app.extensions["portal.oidc"]


def devidp(app):
    return app.extensions["portal.devidp"]


def events(session, action):
    session.expire_all()
    return session.execute(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
                           ).scalars().all()


def identity_of(client):
    with client.session_transaction() as s:
        return dict(s.get(SESSION_KEY) or {})


def page_text(response) -> str:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser").get_text(" ", strip=True)


def start_and_pick(client, who="doctor", method="face", **query):
    """Drive /login and the IdP page; return the callback URL (not yet visited)."""
    start = client.get("/login", query_string={"next": "/me", **query})
    assert start.status_code == 302
    page = client.get(local_path(start.headers["Location"]))
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    form = soup.find("form", method="post")
    key = form.find("input", attrs={"name": "who", "data-role": who})["value"]
    back = client.post(form["action"], data={"who": key, "method": method, "decision": "login"})
    assert back.status_code == 302
    return back.headers["Location"]


def with_query(url: str, **changes) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    for k, v in changes.items():
        if v is None:
            query.pop(k, None)
        else:
            query[k] = v
    return local_path(urlunsplit(parts._replace(query=urlencode(query))))


def assert_refused(response, session, reason_prefix, status=401):
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert "系统繁忙" not in page_text(response)
    failures = events(session, "auth.failed")
    assert failures and failures[-1].detail["reason"].startswith(reason_prefix), [f.detail for f in failures]


# --- successful logins --------------------------------------------------------------------------

def test_doctor_logs_in_and_sees_own_subject(client, world, session, login_via_devidp):
    response = login_via_devidp(client, "doctor", "face")
    assert response.status_code == 302 and response.headers["Location"] == "/me"
    who = identity_of(client)
    assert who["acr"] == ACR_FACE and who["amr"] == ["face"]
    assert who["person_hash"] == world["doctor"].code_hash and who["legal_rep_of"] is None
    assert world["doctor_number"] not in json.dumps(who)  # hashes only, never the number
    me = client.get("/me")
    assert me.status_code == 200 and "李医生" in page_text(me)
    login = events(session, "auth.login")[-1]
    assert login.subject_id == world["doctor"].id and login.detail["matched"] == "person"
    assert login.actor == f"user:{who['sub']}"
    binding = session.execute(select(LoginBinding)).scalar_one()
    assert (binding.iss, binding.sub) == (devidp(client.application).issuer, who["sub"])
    assert binding.subject_id == world["doctor"].id and binding.login_count == 1


def test_legal_representative_is_mapped_to_the_hospital(client, world, login_via_devidp):
    assert login_via_devidp(client, "legal_rep", "face").status_code == 302
    who = identity_of(client)
    assert who["name"] == "王院长"
    assert who["legal_rep_of"] == world["hospital"].code_hash
    assert who["person_hash"] and who["person_hash"] != world["doctor"].code_hash
    assert "测试市第一人民医院" in page_text(client.get("/me"))


@pytest.mark.parametrize("role", ["agent", "no_record"])
def test_people_without_a_record_log_in_without_a_subject(client, world, session, login_via_devidp, role):
    assert login_via_devidp(client, role, "face").status_code == 302
    who = identity_of(client)
    assert who["person_hash"] and who["legal_rep_of"] is None
    assert events(session, "auth.login")[-1].detail["matched"] == "none"
    body = page_text(client.get("/me"))
    assert "李医生" not in body and "测试市第一人民医院" not in body


def test_idp_page_masks_stored_numbers(client, world):
    start = client.get("/login")
    page = client.get(local_path(start.headers["Location"]))
    body = page.get_data(as_text=True)
    assert world["doctor_number"] not in body
    assert world["doctor"].code_masked in body
    roles = {i["data-role"] for i in BeautifulSoup(body, "html.parser").find_all("input", attrs={"name": "who"})}
    assert roles == {"doctor", "legal_rep", "agent", "no_record"}


def test_session_id_is_rotated_at_login_and_old_id_is_dead(client, world, session):
    callback = start_and_pick(client)
    before = client.get_cookie("portal_session").value
    assert client.get(local_path(callback)).status_code == 302
    after = client.get_cookie("portal_session").value
    assert after != before
    fixated = client.application.test_client()
    fixated.set_cookie("portal_session", before)
    with fixated.session_transaction() as s:
        assert SESSION_KEY not in s


def test_login_redirects_straight_back_when_level_suffices(client, world, login_via_devidp):
    login_via_devidp(client, "doctor", "face")
    again = client.get("/login", query_string={"next": "/me/anything", "acr": "face"})
    assert again.status_code == 302 and again.headers["Location"] == "/me/anything"


@pytest.mark.parametrize("evil", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"])
def test_next_must_be_a_local_path(client, world, login_via_devidp, evil):
    response = login_via_devidp(client, "doctor", "face", next=evil)
    assert response.status_code == 302 and response.headers["Location"] == "/me"


# --- assurance ------------------------------------------------------------------------------------

def test_requests_the_level_as_an_essential_acr_claim(client, world):
    start = client.get("/login")
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    claims = json.loads(query["claims"][0])
    assert claims["id_token"]["acr"] == {"essential": True, "values": [ACR_FACE]}
    assert query["acr_values"] == [ACR_FACE]
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["nonce"][0] and query["state"][0]


def test_password_login_refused_when_face_is_required(client, world, session, login_via_devidp):
    response = login_via_devidp(client, "doctor", "password")
    assert_refused(response, session, "acr_too_low")
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert "人脸识别实名核验" in soup.get_text()
    retry = soup.find("a", string=lambda s: s and "重新登录" in s)["href"]
    assert parse_qs(urlsplit(retry).query)["acr"] == ["face"]
    assert identity_of(client) == {}
    assert client.get("/me").status_code == 401


def test_step_up_from_password_to_face(client, world, login_via_devidp):
    assert login_via_devidp(client, "doctor", "password", acr="password").status_code == 302
    assert identity_of(client)["acr"] == ACR_PASSWORD
    detail = client.get(f"/me/subjects/{world['doctor'].public_id}")
    assert detail.status_code == 302 and "acr=face" in detail.headers["Location"]  # the step-up
    step_up = client.get(detail.headers["Location"])
    assert step_up.status_code == 302
    assert parse_qs(urlsplit(step_up.headers["Location"]).query)["prompt"] == ["login"]
    assert login_via_devidp(client, "doctor", "face", acr="face",
                            next=f"/me/subjects/{world['doctor'].public_id}").status_code == 302
    assert identity_of(client)["acr"] == ACR_FACE
    assert client.get(f"/me/subjects/{world['doctor'].public_id}").status_code == 200


def test_unknown_level_is_a_400(client, world):
    assert client.get("/login?acr=retina").status_code == 400


# --- refused callbacks ----------------------------------------------------------------------------

def test_replayed_callback_is_refused(client, world, session, app):
    callback = start_and_pick(client)
    assert client.get(local_path(callback)).status_code == 302
    assert_refused(client.get(local_path(callback)), session, "state_mismatch")
    other = app.test_client()
    assert_refused(other.get(local_path(callback)), session, "state_mismatch")
    with other.session_transaction() as s:
        assert SESSION_KEY not in s


def test_forged_state_is_refused(client, world, session):
    callback = start_and_pick(client)
    assert_refused(client.get(with_query(callback, state="forged")), session, "state_mismatch")
    assert_refused(client.get("/auth/callback"), session, "state_mismatch")


def test_cancel_at_the_idp(client, world, session):
    start = client.get("/login")
    page = client.get(local_path(start.headers["Location"]))
    form = BeautifulSoup(page.get_data(as_text=True), "html.parser").find("form", method="post")
    back = client.post(form["action"], data={"decision": "cancel"})
    response = client.get(local_path(back.headers["Location"]))
    assert_refused(response, session, "idp_error:access_denied")
    assert "取消" in page_text(response)


def test_authorization_response_from_another_issuer_is_refused(client, world, session):
    callback = start_and_pick(client)
    assert parse_qs(urlsplit(callback).query)["iss"] == [devidp(client.application).issuer]
    assert_refused(client.get(with_query(callback, iss="https://evil.example/idp")), session,
                   "iss_parameter_mismatch")


def test_missing_iss_parameter_is_refused_when_announced(client, world, session):
    callback = start_and_pick(client)
    assert_refused(client.get(with_query(callback, iss=None)), session, "iss_parameter_missing")


def test_id_token_from_the_wrong_issuer_is_refused(client, world, session, app, monkeypatch):
    callback = start_and_pick(client)
    # A provider that signs with the trusted key but names another issuer (and sends no iss parameter).
    monkeypatch.setattr(devidp(app), "issuer", "https://evil.example/idp")
    oidc(app).app.server_metadata["authorization_response_iss_parameter_supported"] = False
    response = client.get(with_query(callback, iss=None))
    assert_refused(response, session, "id_token_invalid:InvalidClaimError:iss")


def test_expired_id_token_is_refused(client, world, session, app, monkeypatch):
    monkeypatch.setattr(devidp(app), "id_token_ttl", -600)
    callback = start_and_pick(client)
    assert_refused(client.get(local_path(callback)), session, "id_token_invalid:ExpiredTokenError")


def _tamper(id_token: str, **claims) -> str:
    header, payload, signature = id_token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(claims)
    body = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return f"{header}.{body}.{signature}"


def test_tampered_id_token_is_refused_after_one_jwks_refresh(client, world, session, app, monkeypatch):
    original = PortalOAuthApp.fetch_access_token
    fetches = []

    def tampered(self, *args, **kwargs):
        token = original(self, *args, **kwargs)
        token["id_token"] = _tamper(token["id_token"], acr=ACR_FACE, id_number="110101199003070011")
        return token

    original_jwks = PortalOAuthApp.fetch_jwk_set

    def counting(self, force=False):
        fetches.append(force)
        return original_jwks(self, force)

    monkeypatch.setattr(PortalOAuthApp, "fetch_access_token", tampered)
    monkeypatch.setattr(PortalOAuthApp, "fetch_jwk_set", counting)
    callback = start_and_pick(client)
    assert_refused(client.get(local_path(callback)), session, "id_token_invalid:BadSignatureError")
    assert fetches == [False, True]  # the cached set, then exactly one refresh
    assert identity_of(client) == {}


def test_rotated_provider_key_is_picked_up(client, world, app, monkeypatch, login_via_devidp):
    login_via_devidp(client, "doctor", "face")  # the client now caches the JWKS
    client.post("/logout")
    idp = devidp(app)
    new_key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256", "kid": idp.key.kid}, private=True)
    monkeypatch.setattr(idp, "key", new_key)  # same kid, new key: Authlib alone would not refetch
    assert login_via_devidp(client, "doctor", "face").status_code == 302
    assert identity_of(client)["person_hash"] == world["doctor"].code_hash


def test_wrong_nonce_is_refused(client, world, session):
    callback = start_and_pick(client)
    with client.session_transaction() as s:
        key = next(k for k in s if k.startswith("_state_portal_"))
        s[key] = {**s[key], "data": {**s[key]["data"], "nonce": "not-the-nonce"}}
    assert_refused(client.get(local_path(callback)), session, "id_token_invalid:InvalidClaimError:nonce")


def test_wrong_pkce_verifier_is_refused_by_the_idp(client, world, session):
    callback = start_and_pick(client)
    with client.session_transaction() as s:
        key = next(k for k in s if k.startswith("_state_portal_"))
        s[key] = {**s[key], "data": {**s[key]["data"], "code_verifier": "x" * 50}}
    assert_refused(client.get(local_path(callback)), session, "token_error:invalid_grant")


def test_idp_requires_pkce(client, world, app):
    idp = devidp(app)
    query = {"response_type": "code", "client_id": idp.client_id, "redirect_uri": idp.client.redirect_uris[0],
             "scope": "openid", "state": "s", "nonce": "n"}
    response = client.get("/dev-idp/authorize", query_string=query)
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query)["error"] == ["invalid_request"]
    query["redirect_uri"] = "https://evil.example/cb"  # never redirected to an unregistered address
    assert client.get("/dev-idp/authorize", query_string=query).status_code == 400


def test_network_error_during_token_exchange(client, world, session, monkeypatch):
    def down(self, *args, **kwargs):
        raise requests.ConnectionError("refused")

    callback = start_and_pick(client)
    monkeypatch.setattr(PortalOAuthApp, "fetch_access_token", down)
    response = client.get(local_path(callback))
    assert_refused(response, session, "network_error")
    assert "暂时无法访问" in page_text(response)


def test_unreachable_external_issuer(settings, session):
    from portal import create_app
    from portal.db.migrate import upgrade

    app = create_app({**settings, "PORTAL_OIDC_ISSUER": "http://127.0.0.1:9", "PORTAL_OIDC_CLIENT_ID": "portal",
                      "PORTAL_OIDC_CLIENT_SECRET": "secret", "PORTAL_OIDC_TIMEOUT": "2"})
    upgrade(app.extensions["portal"].engine)
    assert "portal.devidp" not in app.extensions
    assert app.test_client().get("/dev-idp/jwks").status_code == 404
    response = app.test_client().get("/login")
    assert response.status_code == 503 and "暂时无法访问" in page_text(response)
    with app.extensions["portal"].sessions() as s:
        failed = s.execute(select(AuditEvent).where(AuditEvent.action == "auth.failed")).scalars().all()
        assert failed[-1].detail["reason"].startswith("discovery_failed")
    app.extensions["portal"].engine.dispose()


def test_binding_keeps_the_first_identity_number(client, world, session, app, login_via_devidp):
    login_via_devidp(client, "doctor", "face")
    binding = session.execute(select(LoginBinding)).scalar_one()
    binding.person_hash = app.extensions["portal"].protector.lookup_hash("110101199003070011")
    session.commit()
    client.post("/logout")
    response = login_via_devidp(client, "doctor", "face")
    assert_refused(response, session, "binding_mismatch")
    assert identity_of(client) == {}


# --- sessions and logout --------------------------------------------------------------------------

def _age_session(session, **delta):
    session.expire_all()
    row = session.execute(select(WebSession)).scalar_one()
    for field, value in delta.items():
        setattr(row, field, getattr(row, field) - value)
    session.commit()


def test_idle_timeout(client, world, session, login_via_devidp):
    login_via_devidp(client, "doctor", "face")
    assert client.get("/me").status_code == 200
    _age_session(session, last_seen_at=timedelta(minutes=16))
    response = client.get("/me")
    assert response.status_code == 401
    assert client.get_cookie("portal_session") is None
    assert session.execute(select(WebSession)).first() is None


def test_absolute_timeout(client, world, session, login_via_devidp):
    login_via_devidp(client, "doctor", "face")
    _age_session(session, created_at=timedelta(hours=8, minutes=1))
    assert client.get("/me").status_code == 401


def test_activity_keeps_the_session_alive(client, world, session, login_via_devidp):
    login_via_devidp(client, "doctor", "face")
    _age_session(session, last_seen_at=timedelta(minutes=10), created_at=timedelta(minutes=10))
    assert client.get("/me").status_code == 200
    session.expire_all()
    assert utcnow() - session.execute(select(WebSession)).scalar_one().last_seen_at < timedelta(minutes=1)


def test_rp_initiated_logout(client, world, session, app, login_via_devidp):
    login_via_devidp(client, "doctor", "face")
    login_sub = identity_of(client)["sub"]
    confirm = client.get("/logout")
    assert confirm.status_code == 200 and "退出登录" in page_text(confirm)
    response = client.post("/logout")
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/dev-idp/logout"
    params = parse_qs(target.query)
    assert params["post_logout_redirect_uri"] == [devidp(app).client.post_logout_redirect_uris[0]]
    assert params["client_id"] == [devidp(app).client_id] and params["logout_hint"][0]
    assert "id_token_hint" not in params  # the ID token never travels through the browser
    back = client.get(local_path(response.headers["Location"]))
    assert back.status_code == 302 and urlsplit(back.headers["Location"]).path == "/logged-out"
    assert "安全退出" in page_text(client.get("/logged-out"))
    assert client.get("/me").status_code == 401
    assert session.execute(select(WebSession)).first() is None
    assert events(session, "auth.logout")[-1].actor == f"user:{login_sub}"


def test_logout_needs_the_csrf_token(client, world, login_via_devidp):
    login_via_devidp(client, "doctor", "face")
    assert client.post("/logout", csrf=False).status_code == 400
    assert client.post("/logout", headers={"X-CSRF-Token": "0" * 64}, csrf=False).status_code == 400
    assert identity_of(client)


def test_audit_chain_stays_valid(client, world, session, login_via_devidp):
    from portal.services.audit import verify_chain

    login_via_devidp(client, "doctor", "password")  # auth.failed
    login_via_devidp(client, "doctor", "face")  # auth.login
    client.post("/logout")  # auth.logout
    session.expire_all()
    assert verify_chain(session) == []
    assert [e.action for e in session.execute(select(AuditEvent).where(AuditEvent.action.like("auth.%"))
                                              .order_by(AuditEvent.id)).scalars()] == \
        ["auth.failed", "auth.login", "auth.logout"]


def test_production_refuses_the_development_idp(settings):
    from portal import create_app
    from portal.crypto import new_master_key
    from portal.runtime import ConfigError

    production = {**settings, "PORTAL_ENV": "production", "PORTAL_SECRET_KEY": new_master_key(),
                  "PORTAL_DATA_KEY": new_master_key(), "PORTAL_BASE_URL": "https://xyxx.wjw.example.gov.cn"}
    with pytest.raises(ConfigError, match="PORTAL_OIDC_ISSUER"):
        create_app(production)
    with pytest.raises(ConfigError, match="https"):
        create_app({**production, "PORTAL_OIDC_ISSUER": "http://idp.example", "PORTAL_OIDC_CLIENT_ID": "c",
                    "PORTAL_OIDC_CLIENT_SECRET": "s"})


def test_development_idp_only_on_a_loopback_address_unless_asked_for(settings):
    """A development deployment reachable from outside must not offer "log in as anyone"."""
    from portal import create_app
    from portal.runtime import ConfigError

    public = {**settings, "PORTAL_BASE_URL": "https://xyxx.wjw.example.gov.cn"}
    with pytest.raises(ConfigError, match="PORTAL_DEV_IDP=on"):
        create_app(public)
    with pytest.raises(ConfigError, match="auto 或 on"):
        create_app({**settings, "PORTAL_DEV_IDP": "yes"})
    apps = [create_app({**public, "PORTAL_DEV_IDP": "on"})]
    apps += [create_app({**settings, "PORTAL_BASE_URL": url})
             for url in ("http://localhost:8123", "http://127.0.0.1:5000", "http://[::1]:5000")]
    for app in apps:
        assert app.test_client().get("/dev-idp/.well-known/openid-configuration").status_code == 200
        app.extensions["portal"].close()


# --- no personal data in URLs or in the ID token ---------------------------------------------------

JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def _follow(client, response, seen: list[str]):
    """Follow redirects by hand, keeping every Location the browser is sent to."""
    while response.status_code in (301, 302, 303, 307, 308):
        seen.append(response.headers["Location"])
        response = client.get(local_path(response.headers["Location"]))
    return response


@pytest.mark.parametrize("who", ["doctor", "legal_rep"])
def test_no_url_carries_the_id_number_or_an_id_token(client, world, app, who, monkeypatch):
    """Browser history and access logs see every URL: across the whole login → logout flow none
    may contain the identity number (plain or URL-encoded) or an ID token (a JWT)."""
    tokens = []
    original = PortalOAuthApp.fetch_access_token

    def capture(self, *args, **kwargs):
        token = original(self, *args, **kwargs)
        tokens.append(token)
        return token

    monkeypatch.setattr(PortalOAuthApp, "fetch_access_token", capture)
    seen: list[str] = []
    start = client.get("/login", query_string={"next": "/me"})
    seen.append(start.headers["Location"])
    page = client.get(local_path(start.headers["Location"]))
    form = BeautifulSoup(page.get_data(as_text=True), "html.parser").find("form", method="post")
    key = form.find("input", attrs={"name": "who", "data-role": who})["value"]
    back = client.post(form["action"], data={"who": key, "method": "face", "decision": "login"})
    assert _follow(client, back, seen).status_code == 200  # /me
    number = next(p.synthetic_number for p in _dev_people(app) if p.role == who) if who != "doctor" \
        else world["doctor_number"]
    me = identity_of(client)
    assert me["person_hash"] == app.extensions["portal"].protector.lookup_hash(number)  # the login matched
    assert _follow(client, client.post("/logout"), seen).status_code == 200  # /logged-out
    assert any("/dev-idp/logout" in url for url in seen) and any("/auth/callback" in url for url in seen)
    for url in seen:
        assert number not in url and number not in unquote(url), url
        assert not JWT.search(url) and not JWT.search(unquote(url)), url
    # the ID token itself carries no personal claim: they came from UserInfo over the back channel
    (token,) = tokens
    payload = token["id_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert not {"id_number", "name", "legal_rep_of", "org_role"} & set(claims), claims
    assert number not in json.dumps(claims) and claims["sub"] == me["sub"] and claims["sub"] != key


def _dev_people(app):
    from portal.devidp.identities import demo_identities

    rt = app.extensions["portal"]
    with rt.sessions() as s:
        return demo_identities(s, rt.protector)


def test_subject_is_pairwise_and_stable(client, world, app, login_via_devidp):
    login_via_devidp(client, "doctor", "face")
    first = identity_of(client)["sub"]
    client.post("/logout")
    login_via_devidp(client, "doctor", "face")
    assert identity_of(client)["sub"] == first and first.startswith("pw-")
    assert world["doctor"].public_id not in first


def test_userinfo_needs_a_live_access_token(client, world, app):
    assert client.get("/dev-idp/userinfo").status_code == 401
    response = client.get("/dev-idp/userinfo", headers={"Authorization": "Bearer forged"})
    assert response.status_code == 401 and "invalid_token" in response.headers["WWW-Authenticate"]
    assert "userinfo_endpoint" in client.get("/dev-idp/.well-known/openid-configuration").get_json()


def test_logout_from_another_client_is_refused_by_the_idp(client, world):
    assert client.get("/dev-idp/logout", query_string={"client_id": "someone-else"}).status_code == 400


@pytest.mark.parametrize("field, value", [("response_type", "cod\u00e9"), ("redirect_uri", "http://127.0.0.1:5000/\u00e9"),
                                          ("state", "\u72b6\u6001"), ("scope", "openid \u4e2a\u4eba")])
def test_idp_refuses_non_ascii_parameters_with_a_400(client, world, app, field, value):
    idp = devidp(app)
    query = {"response_type": "code", "client_id": idp.client_id, "redirect_uri": idp.client.redirect_uris[0],
             "scope": "openid", "state": "s", "nonce": "n", "code_challenge": "x" * 43,
             "code_challenge_method": "S256", field: value}
    response = client.get("/dev-idp/authorize", query_string=query)
    assert response.status_code == 400 and "ASCII" in page_text(response)
