"""A staff write refused because the account was disabled while the request ran
(``services.staff_guard``; 海南 第五十一条; 湖南 第三十三条), seen from the staff web UI: the session is
ended and the browser goes to the staff login page with the Chinese reason (``web.staff_ended``),
nothing of the write kept; a JSON caller keeps the 401. Before: the 401 error page, the dead
session left in place.

The administrator's disable runs in its own database session and commits between the request's
session check (``staff_desk.staff_account``) and its first write: a ``before_flush`` listener put
in front of the guard's stands in for that timing, the disable itself is the product's verb."""
from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from portal.models import AuditEvent, StaffUser
from portal.services import staff as staff_svc
from portal.services import staff_accounts as accounts
from portal.services.staff_guard import LOGIN_ENDED

from .test_staff_auth import PASSWORD, _secret, web_login


@pytest.fixture
def admins(ctx, session):
    boss, _ = staff_svc.create_staff(ctx, "admin.one", PASSWORD, ["admin"])
    second, uri = staff_svc.create_staff(ctx, "admin.two", PASSWORD, ["admin"])
    session.commit()
    return boss.id, second.id, _secret(uri)


def _disable_at_the_first_write(rt, boss_id: int, target_id: int):
    """Once, when the request first flushes a change (before the guard's re-check): the boss disables
    ``target_id`` in another session and commits. Returns the listener, to remove it."""
    fired = []

    def disable(session, _flush_context, _instances):
        if fired or not session.new:
            return
        fired.append(True)
        with rt.sessions() as other:
            boss = other.get(StaffUser, boss_id)
            accounts.set_active(rt.context(other, "staff:admin.one", caller=boss), other.get(StaffUser, target_id),
                                False)
            other.commit()

    event.listen(Session, "before_flush", disable, insert=True)
    return disable


def _actions(rt) -> list[str]:
    with rt.sessions() as s:
        return list(s.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


def _usernames(rt) -> set[str]:
    with rt.sessions() as s:
        return set(s.execute(select(StaffUser.username)).scalars())


@pytest.mark.parametrize("how", ["page", "json", "htmx"])
def test_a_write_refused_mid_request_ends_the_session(client, rt, session, admins, how):
    boss_id, second_id, secret = admins
    assert web_login(client, "admin.two", secret).status_code in (302, 303)
    assert client.get("/staff/accounts").status_code == 200
    before = _actions(rt)
    listener = _disable_at_the_first_write(rt, boss_id, second_id)
    try:
        resp = client.post("/staff/accounts", data={"username": "op.sneaky", "roles": ["operator"]},
                           headers={"page": {"Accept": "text/html"}, "json": {"Accept": "application/json"},
                                    "htmx": {"HX-Request": "true"}}[how])
    finally:
        event.remove(Session, "before_flush", listener)
    assert "op.sneaky" not in _usernames(rt)  # nothing of the write kept
    assert _actions(rt)[len(before):] == ["staff.disable"]  # the boss's disable only
    with client.session_transaction() as browser:
        assert "staff_id" not in browser  # the login is over in this browser too
    if how == "htmx":  # a fragment request: the whole page goes to the login
        assert resp.headers["HX-Redirect"].endswith("/staff/login?ended=1")
        return
    if how == "json":  # a JSON caller: the 401, as JSON
        assert resp.status_code == 401 and resp.mimetype == "application/json"
        error = resp.get_json()["error"]
        assert error["code"] == "login_ended" and "已停用或登录已失效" in error["message"]
        return
    # the staff web UI: to the login page with the reason (before: the 401 error page)
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/staff/login?ended=1")
    page = BeautifulSoup(client.get(resp.headers["Location"]).get_data(as_text=True), "html.parser")
    assert page.select_one("form.staff-login") is not None
    assert page.select_one("[role=alert]").get_text() == LOGIN_ENDED
    assert client.get("/staff/accounts").status_code in (302, 303)  # logged out


def test_a_plain_login_page_shows_no_reason(client):
    page = BeautifulSoup(client.get("/staff/login").get_data(as_text=True), "html.parser")
    assert page.select_one("[role=alert]") is None
    hostile = client.get("/staff/login", query_string={"ended": "<script>"}).get_data(as_text=True)
    assert LOGIN_ENDED not in hostile and "<script>" not in hostile
