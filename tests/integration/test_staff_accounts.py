"""Staff account management in the web (issue 14): administrators create accounts, disable and
enable them, reset the TOTP second factor and change roles, unit and region; every verb refuses a
non-administrator and writes its audit event; the last administrator cannot be removed."""
from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.domain import permissions as rules
from portal.models import AuditEvent, StaffUser
from portal.models.base import utcnow
from portal.services import staff as staff_svc
from portal.services import staff_accounts as accounts
from portal.services.errors import ServiceError

from .test_staff_auth import PASSWORD, _secret, web_login


def _as(ctx, caller):
    return ctx.__class__(**{**ctx.__dict__, "caller": caller, "actor": f"staff:{caller.username}"})


def _events(session, action):
    return list(session.execute(select(AuditEvent).where(AuditEvent.action == action)
                                .order_by(AuditEvent.id)).scalars())


@pytest.fixture
def people(ctx, session):
    admin, admin_uri = staff_svc.create_staff(ctx, "admin.one", PASSWORD, ["admin"])
    clerk, clerk_uri = staff_svc.create_staff(ctx, "dept.clerk", PASSWORD, ["department"], region_code="430100")
    session.commit()
    return {"admin": admin, "admin_secret": _secret(admin_uri), "clerk": clerk, "clerk_secret": _secret(clerk_uri)}


def test_each_verb_refuses_a_non_admin_and_writes_nothing(ctx, session, people):
    clerk, target = people["clerk"], people["admin"]
    c = _as(ctx, clerk)
    calls = {
        "list": lambda: accounts.list_accounts(c),
        "create": lambda: accounts.create_account(c, "new.one", ["operator"]),
        "create (CLI verb)": lambda: staff_svc.create_staff(c, "new.two", PASSWORD, ["operator"]),
        "disable": lambda: accounts.set_active(c, target, False),
        "totp": lambda: accounts.reset_totp(c, target, confirmed=True),
        "access": lambda: accounts.change_access(c, clerk, ["department", "admin"]),
    }
    before = target.totp_secret
    for name, call in calls.items():
        with pytest.raises(ServiceError) as refused:
            call()
        assert refused.value.status == 403 and refused.value.message == rules.ACCOUNTS_ONLY, name
        session.rollback()
    session.expire_all()
    assert session.get(StaffUser, target.id).active and session.get(StaffUser, target.id).totp_secret == before
    assert session.get(StaffUser, clerk.id).roles == ["department"]
    assert session.execute(select(StaffUser).where(StaffUser.username.in_(["new.one", "new.two"]))).first() is None
    assert session.execute(select(AuditEvent).where(AuditEvent.actor == "staff:dept.clerk")).first() is None


def test_create_shows_credentials_once_that_log_in(ctx, session, people):
    creds = accounts.create_account(_as(ctx, people["admin"]), "rev.new", ["reviewer"], region_code="430100",
                                    display_name="复核 李四")
    session.commit()
    user = session.execute(select(StaffUser).where(StaffUser.username == "rev.new")).scalar_one()
    assert user.roles == ["reviewer"] and user.region_code == "430100" and creds.password not in user.password_hash
    code = pyotp.TOTP(_secret(creds.totp_uri)).now()
    assert staff_svc.authenticate(ctx, "rev.new", creds.password, code).id == user.id
    (event,) = _events(session, "staff.create")[-1:]
    assert event.actor == "staff:admin.one" and event.object_ref == f"staff:{user.id}"
    assert event.detail["roles"] == ["reviewer"] and creds.password not in str(event.detail)


def test_disable_ends_login_and_enable_restores(client, ctx, session, people):
    admin, clerk = people["admin"], people["clerk"]
    web_login(client, "dept.clerk", people["clerk_secret"])
    assert client.get("/staff/objections").status_code == 200
    accounts.set_active(_as(ctx, admin), clerk, False)
    session.commit()
    ended = client.get("/staff/objections")  # the running session ends at its next request
    assert ended.status_code == 302 and "/staff/login" in ended.headers["Location"]
    later = utcnow() + timedelta(seconds=30)  # the web login used this step's code
    code = pyotp.TOTP(people["clerk_secret"]).at(later)
    with pytest.raises(ServiceError):
        staff_svc.authenticate(ctx, "dept.clerk", PASSWORD, code, now=later)
    session.rollback()
    accounts.set_active(_as(ctx, admin), session.get(StaffUser, clerk.id), True)
    session.commit()
    assert staff_svc.authenticate(ctx, "dept.clerk", PASSWORD, code, now=later)
    assert [(e.actor, e.object_ref) for e in _events(session, "staff.disable")] == [("staff:admin.one",
                                                                                     f"staff:{clerk.id}")]
    assert len(_events(session, "staff.enable")) == 1


def test_reset_totp_needs_confirmation_and_replaces_the_factor(ctx, session, people):
    admin, clerk = people["admin"], people["clerk"]
    with pytest.raises(ServiceError) as refused:
        accounts.reset_totp(_as(ctx, admin), clerk)
    assert refused.value.field == "confirm"
    creds = accounts.reset_totp(_as(ctx, admin), clerk, confirmed=True)
    session.commit()
    new_secret = _secret(creds.totp_uri)
    assert new_secret != people["clerk_secret"] and creds.password == ""
    with pytest.raises(ServiceError):  # the old authenticator no longer works
        staff_svc.authenticate(ctx, "dept.clerk", PASSWORD, pyotp.TOTP(people["clerk_secret"]).now())
    session.rollback()
    assert staff_svc.authenticate(ctx, "dept.clerk", PASSWORD, pyotp.TOTP(new_secret).now())
    (event,) = _events(session, "staff.totp_reset")
    assert event.actor == "staff:admin.one" and new_secret not in str(event.detail)


def test_change_roles_unit_region_is_audited_with_before_and_after(ctx, session, people):
    admin, clerk = people["admin"], people["clerk"]
    with pytest.raises(ServiceError) as refused:  # a providing unit needs its unit
        accounts.change_access(_as(ctx, admin), clerk, ["provider"])
    assert refused.value.field == "authority"
    with pytest.raises(ServiceError) as refused:
        accounts.change_access(_as(ctx, admin), clerk, ["department"], region_code="999999")
    assert refused.value.field == "region_code"
    accounts.change_access(_as(ctx, admin), clerk, ["provider", "reviewer"], authority="芙蓉区卫生健康局",
                           region_code="430102")
    session.commit()
    assert (clerk.roles, clerk.authority, clerk.region_code) == (["provider", "reviewer"], "芙蓉区卫生健康局", "430102")
    (event,) = _events(session, "staff.access_changed")
    assert event.detail["before"]["roles"] == ["department"] and event.detail["before"]["region"] == "430100"
    assert event.detail["after"] == {"roles": ["provider", "reviewer"], "authority": "芙蓉区卫生健康局",
                                     "region": "430102", "name": clerk.display_name, "channel": ""}


def test_the_last_admin_stays(ctx, session, people):
    admin, clerk = people["admin"], people["clerk"]
    c = _as(ctx, admin)
    with pytest.raises(ServiceError) as refused:  # their own last admin role
        accounts.change_access(c, admin, ["department"])
    assert refused.value.message == rules.LAST_ADMIN and refused.value.status == 409
    with pytest.raises(ServiceError) as refused:  # nor their own account
        accounts.set_active(c, admin, False)
    assert refused.value.message == rules.NOT_YOURSELF
    session.rollback()
    assert session.get(StaffUser, admin.id).roles == ["admin"]
    # with a second administrator, the first may give up the role
    accounts.change_access(c, clerk, ["department", "admin"], region_code="430100")
    accounts.change_access(c, admin, ["department"])
    session.commit()
    assert session.get(StaffUser, admin.id).roles == ["department"]
    # and the second, now the only one, cannot be disabled by anybody (the CLI included)
    cli = ctx.__class__(**{**ctx.__dict__, "caller": None, "actor": "cli"})
    with pytest.raises(ServiceError) as refused:
        accounts.set_active(cli, clerk, False)
    assert refused.value.message == rules.LAST_ADMIN


def _form(page):
    return BeautifulSoup(page.get_data(as_text=True), "html.parser")


def test_web_pages_admin_only_with_csrf_and_chinese_labels(client, session, people):
    web_login(client, "dept.clerk", people["clerk_secret"])
    assert client.get("/staff/accounts").status_code == 403
    assert client.post("/staff/accounts", data={"username": "x.y", "roles": "operator"}).status_code == 403
    client.post("/staff/logout")
    web_login(client, "admin.one", people["admin_secret"])
    page = _form(client.get("/staff/accounts"))
    assert {r["data-username"] for r in page.select("tr.account-row")} == {"admin.one", "dept.clerk"}
    assert "认定部门" in page.select_one("tr[data-username='dept.clerk']").get_text()
    labels = [lab.get_text(strip=True) for lab in page.select("form.account-create fieldset.roles label")]
    assert "复核部门" in labels and "系统管理员" in labels and not any(re.fullmatch(r"[a-z]+", x) for x in labels)
    assert page.select_one("nav.staff-nav a[href='/staff/accounts']") is not None
    # CSRF: the same form without its token is refused
    token = page.select_one("form.account-create input[name=csrf_token]")["value"]
    bare = client.post("/staff/accounts", data={"username": "op.web", "roles": ["operator"]}, csrf=False)
    assert bare.status_code == 400
    assert session.execute(select(StaffUser).where(StaffUser.username == "op.web")).first() is None
    made = client.post("/staff/accounts", csrf=False, data={"csrf_token": token, "username": "op.web", "roles": ["operator"],
                                                "region_code": ""})
    assert made.status_code == 200 and made.headers["Cache-Control"].startswith("no-store")
    shown = _form(made)
    uri = shown.select_one(".cred-totp-uri").get_text()
    assert uri.startswith("otpauth://totp/") and shown.select_one("img.cred-qr")["src"].startswith("data:image/png")
    password = shown.select_one(".cred-password").get_text()
    # shown once: the list page does not show it again
    assert password not in client.get("/staff/accounts").get_data(as_text=True)
    clerk_id = people["clerk"].id
    resp = client.post(f"/staff/accounts/{clerk_id}/active", data={"csrf_token": token, "active": "0"})
    assert resp.status_code == 303
    session.expire_all()
    assert session.get(StaffUser, clerk_id).active is False
    refused = client.post(f"/staff/accounts/{people['admin'].id}/access", data={"csrf_token": token,
                                                                                "roles": ["department"]})
    assert refused.status_code == 409 and rules.LAST_ADMIN in refused.get_data(as_text=True)
    assert client.get("/staff/accounts/999999").status_code == 404
    account = _form(client.get(f"/staff/accounts/{clerk_id}"))
    assert account.select_one(".account-state").get_text() == "已停用"
    unticked = client.post(f"/staff/accounts/{clerk_id}/totp", data={})
    assert unticked.status_code == 400 and "勾选确认" in unticked.get_data(as_text=True)
    reset = _form(client.post(f"/staff/accounts/{clerk_id}/totp", data={"confirm": "yes"}))
    new_uri = reset.select_one(".cred-totp-uri").get_text()
    assert _secret(new_uri) != people["clerk_secret"] and reset.select_one(".cred-password") is None
    assert [e.actor for e in _events(session, "staff.totp_reset")] == ["staff:admin.one"]
    # with a second (enabled) administrator, giving up one's own role leaves the pages it no longer may see
    assert client.post(f"/staff/accounts/{clerk_id}/active", data={"active": "1"}).status_code == 303
    assert client.post(f"/staff/accounts/{clerk_id}/access", data={"roles": ["admin"]}).status_code == 303
    gone = client.post(f"/staff/accounts/{people['admin'].id}/access", data={"roles": ["department"]})
    assert gone.status_code == 303 and gone.headers["Location"].endswith("/staff/objections")
    assert client.get("/staff/accounts").status_code == 403
    assert client.post(f"/staff/accounts/{clerk_id}/active", data={"csrf_token": token, "active": "x"}).status_code == 400


def test_the_command_line_uses_the_same_verbs(settings, monkeypatch, ctx, session, people):
    """An operator recovers a locked-out administrator from the command line (the same verbs,
    audited as ``cli``); the last-admin rule holds there too."""
    from click.testing import CliRunner

    from portal.cli import main

    for k, v in settings.items():
        monkeypatch.setenv(k, v)
    run = CliRunner().invoke
    out = run(main, ["staff", "reset-totp", "admin.one"])
    assert out.exit_code == 0, out.output
    uri = re.search(r"(otpauth://\S+)", out.output)[1]
    assert _secret(uri) != people["admin_secret"]
    session.expire_all()  # written by the command's own session
    assert staff_svc.authenticate(ctx, "admin.one", PASSWORD, pyotp.TOTP(_secret(uri)).now())
    session.commit()
    refused = run(main, ["staff", "disable", "admin.one"])
    assert refused.exit_code != 0 and rules.LAST_ADMIN in refused.output
    assert run(main, ["staff", "disable", "dept.clerk"]).exit_code == 0
    listed = run(main, ["staff", "list"]).output
    assert re.search(r"dept\.clerk\t已停用\t认定部门", listed) and re.search(r"admin\.one\t启用\t系统管理员", listed)
    assert run(main, ["staff", "set-roles", "nobody.here", "--role", "operator"]).exit_code != 0
    session.expire_all()
    assert [e.actor for e in _events(session, "staff.totp_reset")] == ["cli"]
    assert [e.actor for e in _events(session, "staff.disable")] == ["cli"]
