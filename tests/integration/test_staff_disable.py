"""A disabled staff account can do nothing more (海南 第五十一条; 湖南 第三十三条): its web sessions are
deleted when it is disabled, so the very next request with its cookie, GET or POST, is sent to the
login page and writes nothing, and enabling the account again does not revive an old cookie. The
work a staff member started in the background (a provider's upload check, a plate batch) re-checks
the account in its own session and is refused once it is disabled. No API or command line path acts
as a staff member: API clients are their own accounts, the command line acts as ``cli``."""
from __future__ import annotations

import logging

from sqlalchemy import select

from portal.models import AuditEvent, ProviderUpload, StaffUser, WebSession
from portal.services import provision
from portal.services import staff_accounts as accounts

from .test_provider_workspace import UNIT, _csv, _row
from .test_staff_auth import PASSWORD


def _as(ctx, caller):
    return ctx.__class__(**{**ctx.__dict__, "caller": caller, "actor": f"staff:{caller.username}"})


def _sessions_of(session, staff_id):
    session.expire_all()
    return sum(1 for row in session.execute(select(WebSession)).scalars() if (row.data or {}).get("staff_id") == staff_id)


def _to_login(resp) -> bool:
    return resp.status_code in (302, 303) and "/staff/login" in resp.headers["Location"]


def test_the_next_get_and_post_after_disable_are_refused_and_nothing_is_written(app, client, ctx, session,
                                                                               make_staff):
    boss, second = make_staff("admin.one", "admin"), make_staff("admin.two", "admin")
    session.commit()
    assert second.login(client).status_code == 302
    assert client.get("/staff/accounts").status_code == 200  # a running session
    assert _sessions_of(session, second.user.id) == 1
    accounts.set_active(_as(ctx, boss.user), second.user, False)
    session.commit()
    assert _sessions_of(session, second.user.id) == 0  # deleted at once, not at the next request
    [event] = session.execute(select(AuditEvent).where(AuditEvent.action == "staff.disable")).scalars()
    assert event.detail["sessions_ended"] == 1
    after_disable = event.id

    # a POST that would create an account, right after the disable, with the same cookie
    refused = client.post("/staff/accounts", data={"username": "op.sneaky", "roles": "operator"})
    assert _to_login(refused)
    assert session.execute(select(StaffUser).where(StaffUser.username == "op.sneaky")).first() is None
    # a POST of the account's own password change, and a GET
    before = session.get(StaffUser, second.user.id).password_hash
    refused = client.post("/staff/password", data={"current": PASSWORD, "code": "000000",
                                                   "new": "tea leaves on a rainy day", "repeat": "tea leaves on a rainy day"})
    assert _to_login(refused)
    session.expire_all()
    assert session.get(StaffUser, second.user.id).password_hash == before
    assert _to_login(client.get("/staff/accounts")) and _to_login(client.get("/staff/objections"))
    assert session.execute(select(AuditEvent).where(AuditEvent.actor == "staff:admin.two",
                                                    AuditEvent.id > after_disable)).first() is None


def test_enabling_again_does_not_revive_an_old_cookie(app, client, ctx, session, make_staff):
    boss, clerk = make_staff("admin.one", "admin"), make_staff("dept.clerk", region_code="430100")
    session.commit()
    assert clerk.login(client).status_code == 302
    assert client.get("/staff/objections").status_code == 200
    accounts.set_active(_as(ctx, boss.user), clerk.user, False)
    session.commit()
    accounts.set_active(_as(ctx, boss.user), session.get(StaffUser, clerk.user.id), True)
    session.commit()
    # the cookie from before the disable is gone for good: the owner logs in again
    assert _to_login(client.get("/staff/objections"))
    assert _to_login(client.post("/staff/password", data={"current": PASSWORD}))


def test_a_background_upload_check_is_refused_once_the_provider_is_disabled(app, ctx, session, make_staff, caplog):
    from portal.web.provider import _in_background

    boss = make_staff("admin.one", "admin")
    prov = make_staff("prov.a", "provider", region_code="430102", authority=UNIT)
    session.commit()
    upload = provision.start_upload(_as(ctx, prov.user), "a.csv", _csv([_row()]))
    upload.state = "checking"  # as the web view leaves it when it starts the background check
    session.commit()
    accounts.set_active(_as(ctx, boss.user), prov.user, False)
    session.commit()
    with caplog.at_level(logging.ERROR, logger="portal.web.provider"):
        _in_background(app, prov.user.id, upload.id, provision.check_upload)
    session.expire_all()
    row = session.get(ProviderUpload, upload.id)
    assert row.state == "invalid" and not (row.report or {}).get("preview")  # nothing checked for the account
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []  # a refusal, not a crash
