"""``/me`` as the subject's dashboard (issue 14): my subjects, open cases with their next step and
due date, notices with read/unread state, a 补正材料 request first; a "我的" link on every page for a
logged-in person. Notices are the subject's own: a third party holding an authorisation sees none,
and marking read is an audited verb whose audit event carries no personal data."""
from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.domain.identifiers import make_resident_id, make_uscc
from portal.models import AuditEvent, Notification
from portal.services import authorisations as auth_svc
from portal.services import cases, my_desk
from portal.services.errors import ServiceError

from .subject_world import TODAY, identity

REQUEST = "请补充执业许可证副本"


@pytest.fixture
def desk_world(ctx, session, rt, make_org, make_record):
    code = make_uscc("12", "430102", "00008888")
    org = make_org(name="芙蓉区安康诊所", region_code="430102", code=code, legal_rep="钱法人")
    rec = make_record(org, title="未按规定登记", decided_on=date(2026, 10, 9))
    rep = identity(rt, "钱法人", resident_id=make_resident_id("430102", date(1970, 1, 1), 11), legal_rep_of=code,
                   sub="sub-rep")
    grantee_id = make_resident_id("430102", date(1985, 5, 5), 33)
    grantee = identity(rt, "孙受托", resident_id=grantee_id, sub="sub-grantee")
    case = cases.file_objection(ctx, org, rec, ground="fact_error", statement="登记有误",
                                applicant=cases.Applicant.of(rep, "legal_rep"), commitment=True, identity_confirmed=True)
    cases.request_materials(ctx, case, role="department", reason=REQUEST)
    auth_svc.grant_authorisation(ctx, org, grantee_kind="person", grantee_code=grantee_id, grantee_name="孙受托",
                                 purpose="合作审查", info_classes=["dishonest"], valid_from=TODAY,
                                 valid_until=TODAY + timedelta(days=30))
    session.commit()
    return {"org": org, "case": case, "rep": rep, "grantee": grantee}


def _as(ctx, who):
    return dataclasses.replace(ctx, caller=who, actor=f"person:{who.sub}")


def test_dashboard_lists_case_next_step_and_notices(ctx, desk_world):
    w = desk_world
    desk = my_desk.dashboard(_as(ctx, w["rep"]), w["rep"])
    [case] = desk["cases"]
    assert case["case_no"] == w["case"].case_no and case["due_on"] == date(2026, 11, 25)
    assert case["next"] == f"待您补正材料：{REQUEST}"
    assert [m["case_no"] for m in desk["materials"]] == [w["case"].case_no]
    assert desk["unread"] == 2 and all(n["unread"] for n in desk["notices"])
    assert REQUEST in desk["notices"][0]["text"]  # newest first
    # a third party with an authorisation reads records, not the subject's case notices
    assert my_desk.dashboard(_as(ctx, w["grantee"]), w["grantee"]) == {"materials": [], "cases": [], "notices": [],
                                                                       "unread": 0, "manages": False}


def test_mark_read_is_an_audited_verb_without_personal_data(ctx, session, desk_world):
    w = desk_world
    first = my_desk.dashboard(_as(ctx, w["rep"]), w["rep"])["notices"][0]["id"]
    assert my_desk.mark_notices_read(_as(ctx, w["rep"]), first) == 1
    desk = my_desk.dashboard(_as(ctx, w["rep"]), w["rep"])
    assert desk["unread"] == 1 and [n["unread"] for n in desk["notices"]] == [False, True]
    for who in (w["grantee"], None):
        with pytest.raises(ServiceError) as err:
            my_desk.mark_notices_read(_as(ctx, w["grantee"]) if who else ctx, None)
        assert err.value.status in (403, 404)
    assert my_desk.mark_notices_read(_as(ctx, w["rep"])) == 1
    session.commit()
    assert session.execute(select(Notification).where(Notification.read_at.is_(None))).first() is None
    events = session.execute(select(AuditEvent).where(AuditEvent.action == "subject.notices_read")).scalars().all()
    assert [e.detail for e in events] == [{"count": 1}, {"count": 1}]
    for e in events:
        blob = f"{e.actor} {e.object_ref} {e.detail}"
        assert "钱法人" not in blob and REQUEST not in blob and "安康诊所" not in blob


def test_me_page_first_shows_the_materials_request(client, session, login_as, desk_world):
    w = desk_world
    login_as(client, w["rep"])
    page = BeautifulSoup(client.get("/me").get_data(as_text=True), "html.parser")
    main = page.select_one("main")
    first_card = main.select_one(".materials-request, section.card")
    assert "materials-request" in first_card["class"] and REQUEST in first_card.get_text()
    assert page.select_one(".unread-count").get_text() == "2 条未读"
    [item] = page.select("ul.my-cases li")
    assert "下一步：待您补正材料" in item.get_text() and "2026-11-25" in item.get_text()
    note_id = page.select_one("ul.notices li.unread")["data-notice"]
    assert client.post("/me/notices/read", data={"id": note_id}).status_code == 303
    page = BeautifulSoup(client.get("/me").get_data(as_text=True), "html.parser")
    assert page.select_one(f"ul.notices li[data-notice='{note_id}']")["class"] == ["read"]
    assert client.post("/me/notices/read", data={"id": "x1"}).status_code == 404
    assert client.post("/me/notices/read", data={"id": "999999"}).status_code == 404
    # the 我的 link is in the header of every page for a logged-in person, and only then
    for url in ("/", "/search", f"/me/subjects/{w['org'].public_id}"):
        assert BeautifulSoup(client.get(url).get_data(as_text=True), "html.parser").select_one(
            "header a.nav-me")["href"] == "/me", url
    login_as(client, None)
    assert BeautifulSoup(client.get("/").get_data(as_text=True), "html.parser").select_one("a.nav-me") is None
    assert client.post("/me/notices/read", data={}).status_code == 401
