"""Staff passwords (issue 14): the owner changes their own with the current password and a fresh
TOTP code; an administrator (or the command line) resets one, shown once, and the owner must set
their own at the next login before anything else. Both verbs refuse everybody else, audit without
the password and end the account's other sessions; weak passwords are refused in Chinese. The
web account form takes a providing unit's channel (海南 第二十二条); staff pages load no chatbot."""
from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from portal.domain import passwords as pw
from portal.domain import permissions as rules
from portal.models import AuditEvent, StaffUser, WebSession
from portal.models.base import utcnow
from portal.services import staff as staff_svc
from portal.services import staff_passwords as passwords
from portal.services.errors import ServiceError

from .test_staff_auth import PASSWORD, _secret, web_login

NEW = "tea leaves on a rainy day"


def _as(ctx, caller):
    return ctx.__class__(**{**ctx.__dict__, "caller": caller, "actor": f"staff:{caller.username}"})


def _events(session, action):
    return list(session.execute(select(AuditEvent).where(AuditEvent.action == action)
                                .order_by(AuditEvent.id)).scalars())


def _next_code(secret):
    """The authenticator's next code: the one shown now may just have been used to log in."""
    return pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30))


def _page(resp):
    return BeautifulSoup(resp.get_data(as_text=True), "html.parser")


def _sessions_of(session, staff_id):
    session.expire_all()
    return sum(1 for row in session.execute(select(WebSession)).scalars() if (row.data or {}).get("staff_id") == staff_id)


@pytest.fixture
def people(ctx, session):
    admin, admin_uri = staff_svc.create_staff(ctx, "admin.one", PASSWORD, ["admin"])
    clerk, clerk_uri = staff_svc.create_staff(ctx, "dept.clerk", PASSWORD, ["department"], region_code="430100")
    session.commit()
    return {"admin": admin, "admin_secret": _secret(admin_uri), "clerk": clerk, "clerk_secret": _secret(clerk_uri)}


def _second_browser(app, staff_id):
    """Another browser already logged in as the account (a server-side session row)."""
    other = app.test_client()
    with other.session_transaction() as s:
        s["staff_id"] = staff_id
    assert other.get("/staff/objections").status_code == 200
    return other


def test_only_the_owner_changes_and_only_an_admin_resets(ctx, session, people):
    admin, clerk = people["admin"], people["clerk"]
    before = session.get(StaffUser, clerk.id).password_hash
    with pytest.raises(ServiceError) as refused:  # an administrator cannot "change" someone's password
        passwords.change_own_password(_as(ctx, admin), clerk, PASSWORD, pyotp.TOTP(people["clerk_secret"]).now(),
                                      NEW, NEW)
    assert refused.value.status == 403 and refused.value.message == passwords.OWN_ONLY
    with pytest.raises(ServiceError) as refused:  # nor does anyone but an administrator reset one
        passwords.reset_password(_as(ctx, clerk), admin, confirmed=True)
    assert refused.value.status == 403 and refused.value.message == rules.ACCOUNTS_ONLY
    with pytest.raises(ServiceError) as refused:  # the tick is checked inside the verb
        passwords.reset_password(_as(ctx, admin), clerk)
    assert refused.value.field == "confirm" and "勾选确认" in refused.value.message
    with pytest.raises(ServiceError) as refused:  # one's own: the 修改密码 page, with the current one
        passwords.reset_password(_as(ctx, admin), admin, confirmed=True)
    assert refused.value.status == 409
    session.rollback()
    session.expire_all()
    assert session.get(StaffUser, clerk.id).password_hash == before
    assert not session.get(StaffUser, clerk.id).must_change_password
    assert session.execute(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action.like("staff.password%"))).scalar_one() == 0


def test_the_username_is_no_password(ctx, session):
    user, uri = staff_svc.create_staff(ctx, "provider.wangwu", PASSWORD, ["provider"], authority="某医院")
    with pytest.raises(ServiceError) as refused:  # creating with it
        staff_svc.create_staff(ctx, "provider.lisi1", "Provider.Lisi1", ["provider"], authority="某医院")
    assert refused.value.message == pw.IS_USERNAME
    with pytest.raises(ServiceError) as refused:  # or changing to it
        passwords.change_own_password(_as(ctx, user), user, PASSWORD, pyotp.TOTP(_secret(uri)).now(),
                                      "Provider.Wangwu", "Provider.Wangwu")
    assert refused.value.message == pw.IS_USERNAME and refused.value.field == "new"
    assert staff_svc._hasher.verify(user.password_hash, PASSWORD)


def test_change_own_password_end_to_end(app, client, ctx, session, people):
    clerk = people["clerk"]
    web_login(client, "dept.clerk", people["clerk_secret"])
    other = _second_browser(app, clerk.id)
    assert _sessions_of(session, clerk.id) == 2
    code = _next_code(people["clerk_secret"])

    def post(**kw):
        data = {"current": PASSWORD, "code": code, "new": NEW, "repeat": NEW, **kw}
        return client.post("/staff/password", data=data)

    weak = post(new="dept.clerk", repeat="dept.clerk")
    assert weak.status_code == 400 and pw.TOO_SHORT in weak.get_data(as_text=True)
    assert post(new="password1234", repeat="password1234").status_code == 400
    mismatch = post(repeat=NEW + "!")
    assert mismatch.status_code == 400 and passwords.MISMATCH in mismatch.get_data(as_text=True)
    same = post(new=PASSWORD, repeat=PASSWORD)
    assert same.status_code == 400 and passwords.SAME in same.get_data(as_text=True)
    wrong = post(current="not my password")
    assert wrong.status_code == 403 and passwords.WRONG in wrong.get_data(as_text=True)
    # CSRF: without the token nothing happens
    assert client.post("/staff/password", data={"current": PASSWORD, "code": code, "new": NEW, "repeat": NEW},
                       csrf=False).status_code == 400
    session.expire_all()
    assert staff_svc._hasher.verify(session.get(StaffUser, clerk.id).password_hash, PASSWORD)
    done = post()
    assert done.status_code == 200 and _page(done).select_one(".password-changed") is not None
    # this browser carries on (under a new session id); the other one is logged out
    assert client.get("/staff/objections").status_code == 200
    ended = other.get("/staff/objections")
    assert ended.status_code == 302 and "/staff/login" in ended.headers["Location"]
    assert _sessions_of(session, clerk.id) == 1
    later = utcnow() + timedelta(seconds=60)
    with pytest.raises(ServiceError):
        staff_svc.authenticate(ctx, "dept.clerk", PASSWORD, pyotp.TOTP(people["clerk_secret"]).at(later), now=later)
    session.rollback()
    assert staff_svc.authenticate(ctx, "dept.clerk", NEW, pyotp.TOTP(people["clerk_secret"]).at(later), now=later)
    (event,) = _events(session, "staff.password_changed")
    assert event.actor == "staff:dept.clerk" and event.object_ref == f"staff:{clerk.id}"
    assert event.detail["sessions_ended"] == 2
    for e in _events(session, "staff.password_changed") + _events(session, "staff.password_change_refused"):
        assert NEW not in str(e.detail) and PASSWORD not in str(e.detail) and "not my password" not in str(e.detail)
    # the code used for the change is spent
    assert session.get(StaffUser, clerk.id).last_totp_step >= int(utcnow().timestamp()) // 30


def test_repeated_wrong_current_password_ends_the_sessions(app, client, session, people):
    clerk = people["clerk"]
    other = _second_browser(app, clerk.id)
    with client.session_transaction() as s:
        s["staff_id"] = clerk.id
    data = {"current": "guess", "code": "000000", "new": NEW, "repeat": NEW}
    for _ in range(passwords.MAX_WRONG - 1):
        assert client.post("/staff/password", data=data).status_code == 403
    last = client.post("/staff/password", data=data)
    assert last.status_code == 401 and passwords.TOO_MANY in last.get_data(as_text=True)
    assert _page(last).select_one("form.staff-login")["action"] == "/staff/login"  # not back to this page
    for browser in (client, other):
        resp = browser.get("/staff/objections")
        assert resp.status_code == 302 and "/staff/login" in resp.headers["Location"]
    session.expire_all()
    assert staff_svc._hasher.verify(session.get(StaffUser, clerk.id).password_hash, PASSWORD)
    assert len(_events(session, "staff.password_change_refused")) == passwords.MAX_WRONG


def test_admin_reset_forces_a_change_at_next_login(app, client, session, people):
    admin, clerk = people["admin"], people["clerk"]
    clerk_browser = _second_browser(app, clerk.id)
    web_login(client, "admin.one", people["admin_secret"])
    account = _page(client.get(f"/staff/accounts/{clerk.id}"))
    assert account.select_one("form.account-password") is not None
    assert _page(client.get(f"/staff/accounts/{admin.id}")).select_one("form.account-password") is None
    unticked = client.post(f"/staff/accounts/{clerk.id}/password", data={})
    assert unticked.status_code == 400 and "勾选确认" in unticked.get_data(as_text=True)
    assert client.post(f"/staff/accounts/{clerk.id}/password", data={"confirm": "yes"},
                       csrf=False).status_code == 400
    session.expire_all()
    assert not session.get(StaffUser, clerk.id).must_change_password
    reset = client.post(f"/staff/accounts/{clerk.id}/password", data={"confirm": "yes"})
    assert reset.status_code == 200 and reset.headers["Cache-Control"].startswith("no-store")
    shown = _page(reset)
    new_password = shown.select_one(".cred-password").get_text()
    assert len(new_password) >= pw.MIN_LENGTH and shown.select_one(".cred-totp-uri") is None
    assert new_password not in client.get(f"/staff/accounts/{clerk.id}").get_data(as_text=True)  # shown once
    session.expire_all()
    assert session.get(StaffUser, clerk.id).must_change_password
    (event,) = _events(session, "staff.password_reset")
    assert event.actor == "staff:admin.one" and event.object_ref == f"staff:{clerk.id}"
    assert event.detail == {"username": "dept.clerk", "sessions_ended": 1, "owner_notified": ""}  # no contact set
    assert new_password not in str(event.detail)
    # the clerk's running session ended
    ended = clerk_browser.get("/staff/objections")
    assert ended.status_code == 302 and "/staff/login" in ended.headers["Location"]
    # the old password no longer logs in; the new one leads to 修改密码 before anything else
    assert web_login(clerk_browser, "dept.clerk", people["clerk_secret"]).status_code == 401
    login = web_login(clerk_browser, "dept.clerk", people["clerk_secret"], password=new_password)
    assert login.status_code == 302 and login.headers["Location"].endswith("/staff/password")
    for path in ("/staff/objections", "/staff/repairs", "/staff/accounts", "/staff/plates", "/staff/draws"):
        forced = clerk_browser.get(path)
        assert forced.status_code == 303 and forced.headers["Location"].endswith("/staff/password"), path
    page = _page(clerk_browser.get("/staff/password"))
    assert page.select_one(".must-change") is not None and page.select_one("nav.staff-nav") is None
    done = clerk_browser.post("/staff/password", data={"current": new_password,
                                                       "code": _next_code(people["clerk_secret"]),
                                                       "new": NEW, "repeat": NEW})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert clerk_browser.get("/staff/objections").status_code == 200
    session.expire_all()
    assert not session.get(StaffUser, clerk.id).must_change_password
    assert "待本人改密码" not in client.get("/staff/accounts").get_data(as_text=True)


def test_web_created_accounts_must_change_their_generated_password(client, session, people):
    web_login(client, "admin.one", people["admin_secret"])
    made = _page(client.post("/staff/accounts", data={"username": "op.fresh", "roles": ["operator"]}))
    assert made.select_one(".cred-password") and made.select_one(".cred-totp-uri")
    session.expire_all()
    user = session.execute(select(StaffUser).where(StaffUser.username == "op.fresh")).scalar_one()
    assert user.must_change_password
    row = _page(client.get("/staff/accounts")).select_one("tr[data-username='op.fresh']")
    assert "待本人改密码" in row.get_text()


def test_command_line_reset_password(settings, monkeypatch, ctx, session, people):
    from click.testing import CliRunner

    from portal.cli import main

    for k, v in settings.items():
        monkeypatch.setenv(k, v)
    out = CliRunner().invoke(main, ["staff", "reset-password", "admin.one"])
    assert out.exit_code == 0, out.output
    new_password = out.output.strip().splitlines()[-1]
    assert len(new_password) >= pw.MIN_LENGTH and new_password not in (PASSWORD,)
    session.expire_all()
    admin = session.get(StaffUser, people["admin"].id)
    assert admin.must_change_password
    assert staff_svc.authenticate(ctx, "admin.one", new_password, pyotp.TOTP(people["admin_secret"]).now())
    session.commit()
    (event,) = _events(session, "staff.password_reset")
    assert event.actor == "cli" and new_password not in str(event.detail)
    missing = CliRunner().invoke(main, ["staff", "reset-password", "nobody.here"])
    assert missing.exit_code != 0 and "没有用户名为" in missing.output


def test_web_form_takes_the_provider_channel(client, session, people):
    web_login(client, "admin.one", people["admin_secret"])
    form = _page(client.get("/staff/accounts")).select_one("form.account-create")
    assert [o["value"] for o in form.select("select[name=channel] option")] == ["", "association", "third_party"]
    no_unit = client.post("/staff/accounts", data={"username": "assoc.one", "roles": ["provider"],
                                                   "channel": "association"})
    assert no_unit.status_code == 400 and "所属单位" in no_unit.get_data(as_text=True)
    not_provider = client.post("/staff/accounts", data={"username": "assoc.two", "roles": ["operator"],
                                                        "channel": "association"})
    assert not_provider.status_code == 400 and staff_svc.CHANNEL_PROVIDER_ONLY in not_provider.get_data(as_text=True)
    bogus = client.post("/staff/accounts", data={"username": "assoc.three", "roles": ["provider"],
                                                 "authority": "某协会", "channel": "<script>"})
    assert bogus.status_code == 400 and "报送渠道" in bogus.get_data(as_text=True)
    made = client.post("/staff/accounts", data={"username": "assoc.one", "roles": ["provider"],
                                                "authority": "湖南省医师协会", "channel": "association"})
    assert made.status_code == 200
    session.expire_all()
    user = session.execute(select(StaffUser).where(StaffUser.username == "assoc.one")).scalar_one()
    assert (user.roles, user.authority, user.channel) == (["provider"], "湖南省医师协会", "association")
    assert session.execute(select(StaffUser).where(StaffUser.username.in_(["assoc.two", "assoc.three"]))).first() is None
    listed = _page(client.get("/staff/accounts")).select_one("tr[data-username='assoc.one']").get_text()
    assert "湖南省医师协会（行业协会）" in listed
    page = _page(client.get(f"/staff/accounts/{user.id}"))
    assert page.select_one("form.account-access select[name=channel] option[selected]")["value"] == "association"
    changed = client.post(f"/staff/accounts/{user.id}/access", data={
        "roles": ["provider"], "authority": "某第三方信用服务机构", "channel": "third_party"})
    assert changed.status_code == 303
    session.expire_all()
    assert session.get(StaffUser, user.id).channel == "third_party"
    (event,) = _events(session, "staff.access_changed")
    assert (event.detail["before"]["channel"], event.detail["after"]["channel"]) == ("association", "third_party")
    dropped = client.post(f"/staff/accounts/{user.id}/access", data={"roles": ["operator"], "channel": "third_party"})
    assert dropped.status_code == 400 and staff_svc.CHANNEL_PROVIDER_ONLY in dropped.get_data(as_text=True)


def test_staff_pages_load_no_chatbot(client, people):
    home = client.get("/").get_data(as_text=True)
    assert "js/chat.js" in home and 'id="chat-launcher"' in home
    assert "js/chat.js" not in client.get("/staff/login").get_data(as_text=True)
    web_login(client, "admin.one", people["admin_secret"])
    for path in ("/staff/objections", "/staff/accounts", "/staff/password"):
        body = client.get(path).get_data(as_text=True)
        assert "js/chat.js" not in body and 'id="chat-launcher"' not in body, path
