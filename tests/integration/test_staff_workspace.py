"""The staff side as a working day sees it (issue 14): a nav that reaches every staff area the
account may use (plates were unreachable), roles in Chinese, a confirmation before a final decision
and before 作废 / 补发, and no citizen chatbot, 我的 or citizen 登录 on staff pages."""
from __future__ import annotations

from datetime import date

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.models import Case, Plate
from portal.services import cases
from portal.services import plates as plate_svc
from portal.services import staff as staff_svc
from portal.services.errors import ServiceError

from .test_staff_auth import APPLICANT, PASSWORD, _secret, web_login


def _soup(resp):
    return BeautifulSoup(resp.get_data(as_text=True), "html.parser")


@pytest.fixture
def world(ctx, session, make_org, make_record):
    org = make_org(name="芙蓉区康复诊所", region_code="430102")
    rec = make_record(org, title="未按规定登记", decided_on=date(2026, 10, 9))
    case = cases.file_objection(ctx, org, rec, ground="fact_error", statement="登记信息有误", applicant=APPLICANT,
                                commitment=True, identity_confirmed=True)
    plate = plate_svc.issue_plate(ctx, org)
    _, uri = staff_svc.create_staff(ctx, "dept.changsha", PASSWORD, ["department", "head"], region_code="430100",
                                    display_name="张科长")
    _, admin_uri = staff_svc.create_staff(ctx, "admin.one", PASSWORD, ["admin"], display_name="系统管理员甲")
    session.commit()
    return {"case": case, "plate": plate, "secret": _secret(uri), "admin": _secret(admin_uri)}


def test_nav_reaches_every_area_with_chinese_roles_and_no_citizen_parts(client, world):
    web_login(client, "dept.changsha", world["secret"])
    for url in ("/staff/objections", "/staff/repairs", "/staff/paper", "/staff/plates", "/staff/draws",
                f"/staff/cases/{world['case'].case_no}", f"/staff/plates/{world['plate'].plate_no}"):
        page = _soup(client.get(url))
        nav = page.select_one("nav.staff-nav")
        assert nav is not None, url
        hrefs = {a["href"] for a in nav.select("a")}
        assert {"/staff/objections", "/staff/repairs", "/staff/paper", "/staff/plates", "/staff/draws"} <= hrefs, url
        assert "/staff/calendar" not in hrefs  # administrators only
        assert nav.select_one(".staff-who").get_text() == "张科长（认定部门、负责人）"
        header = page.select_one("header.site-header").get_text()
        assert "登录" not in header and "我的" not in header, url
        assert page.select_one("#chat-launcher") is None, url
    client.post("/staff/logout")
    page = _soup(client.get("/staff/login"))
    assert "登录" not in page.select_one("header.site-header").get_text() and page.select_one("#chat-launcher") is None
    web_login(client, "admin.one", world["admin"])
    nav = _soup(client.get("/staff/calendar")).select_one("nav.staff-nav")
    assert "/staff/calendar" in {a["href"] for a in nav.select("a")} and "（系统管理员）" in nav.get_text()
    assert "/staff/plates" not in {a["href"] for a in nav.select("a")}  # an admin issues no plates
    # the public side keeps its chatbot
    assert _soup(client.get("/")).select_one("#chat-launcher") is not None


def test_final_decision_needs_confirmation(client, ctx, session, world):
    case = world["case"]
    with pytest.raises(ServiceError, match="确认作出该决定") as err:
        cases.act(ctx, case, "reject", role="department", reason="经核查无误", confirmed=False)
    assert err.value.field == "confirm" and case.state == "verify"
    session.rollback()
    web_login(client, "dept.changsha", world["secret"])
    url = f"/staff/cases/{case.case_no}"
    assert _soup(client.get(url)).select_one("form.case-actions input[name=confirm]")["type"] == "checkbox"
    resp = client.post(url + "/act", data={"action": "reject", "reason": "经核查无误"})
    assert resp.status_code == 400 and "确认作出该决定" in resp.get_data(as_text=True)
    session.expire_all()
    assert session.get(Case, case.id).state == "verify"
    assert client.post(url + "/act", data={"action": "reject", "reason": "经核查无误", "confirm": "yes"}).status_code == 302
    session.expire_all()
    assert session.get(Case, case.id).state == "rejected"


def test_revoke_and_reissue_need_confirmation(client, session, world):
    plate = world["plate"]
    web_login(client, "dept.changsha", world["secret"])
    url = f"/staff/plates/{plate.plate_no}"
    page = _soup(client.get(url))
    for action in ("revoke", "reissue"):
        box = page.select_one(f"form.plate-{action} input[name=confirm]")
        assert box["type"] == "checkbox" and box.has_attr("required"), action
    resp = client.post(url + "/revoke", data={"reason": "lost", "note": "遗失"})
    assert "error=" in resp.headers["Location"]
    assert "请勾选确认" in _soup(client.get(resp.headers["Location"])).get_text()
    session.expire_all()
    assert session.get(Plate, plate.id).status == "active"
    assert session.execute(select(Plate)).scalars().all() == [session.get(Plate, plate.id)]
    resp = client.post(url + "/reissue", data={"reason": "lost"})
    assert "error=" in resp.headers["Location"] and len(session.execute(select(Plate)).scalars().all()) == 1
    client.post(url + "/revoke", data={"reason": "lost", "note": "遗失", "confirm": "yes"})
    session.expire_all()
    assert session.get(Plate, plate.id).status != "active"
