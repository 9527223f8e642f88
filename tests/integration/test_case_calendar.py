"""A December 2026 receipt whose deadline falls in 2027, a year chinesecalendar 1.11 does not cover:
the Monday–Friday fallback is used (never a crash), staff see a warning on the case and in the
queue, an administrator enters the 2027 notice in the holiday table, the stored due date is
counted again as an explicit event the applicant is told about, and the warning goes once the
year is confirmed (DESIGN.md "Deadlines")."""
from __future__ import annotations

import dataclasses
import time
from datetime import date

import pyotp
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.models import AuditEvent, Case, CaseEvent, HolidayOverride, Notification
from portal.services import calendar as calendar_svc
from portal.services import cases
from portal.services import staff as staff_svc
from portal.services.errors import ServiceError

PASSWORD = "correct horse battery"
APPLICANT = cases.Applicant("https://idp.example.test", "sub-rep", "王法人", "legal_rep", "")


@pytest.fixture
def december(ctx, session, make_org, make_record):
    """An objection received Tuesday 2026-12-29: 3 WD by the fallback end on Friday 2027-01-01."""
    org = make_org(name="天心区跨年诊所", region_code="430103")
    rec = make_record(org, title="未按规定登记", decided_on=date(2026, 10, 9))
    dec = dataclasses.replace(ctx, today=date(2026, 12, 29))
    case = cases.file_objection(dec, org, rec, ground="fact_error", statement="登记信息有误", applicant=APPLICANT,
                                commitment=True, identity_confirmed=True)
    secrets = {}
    for name, roles in (("dept.cs", ["department"]), ("admin.sys", ["admin"])):
        _, uri = staff_svc.create_staff(ctx, name, PASSWORD, roles, display_name=name)
        secrets[name] = pyotp.parse_uri(uri).secret
    session.commit()
    return org, case, secrets


def login(client, name, secret, later=0):
    code = pyotp.TOTP(secret).at(time.time() + 30 * later)
    assert client.post("/staff/login", data={"username": name, "password": PASSWORD, "code": code}).status_code == 302


def test_fallback_warning_override_and_recalculation(client, session, december):
    org, case, secrets = december
    assert case.due_on == date(2027, 1, 1)  # New Year's Day counted as a working day by the fallback

    login(client, "dept.cs", secrets["dept.cs"])
    page = BeautifulSoup(client.get(f"/staff/cases/{case.case_no}").data, "html.parser")
    banner = page.select_one(".banner.calendar-fallback")
    assert banner and "2027年" in banner.get_text() and "周一至周五" in banner.get_text()
    assert page.select_one(".staff-nav a[href='/staff/calendar']") is None  # not an administrator
    row = BeautifulSoup(client.get("/staff/objections").data, "html.parser").select_one("tr.case-row")
    assert row.select_one(".tag.calendar-fallback")
    resp = client.get("/staff/calendar")
    assert resp.status_code == 403 and "系统管理员" in resp.get_data(as_text=True)
    assert client.post("/staff/calendar", data={"day": "2027-01-01", "kind": "holiday", "note": "x"}).status_code == 403
    client.post("/staff/logout")

    login(client, "admin.sys", secrets["admin.sys"])
    page = BeautifulSoup(client.get("/staff/calendar").data, "html.parser")
    assert page.select_one(".calendar-year[data-year='2026'] .covered")
    assert "2027年" in page.select_one(".calendar-year[data-year='2027'] .banner.warn").get_text()
    for bad, message in (({"day": "2027-13-01", "kind": "holiday", "note": "通知"}, "有效日期"),
                         ({"day": "2027-01-01", "kind": "", "note": "通知"}, "放假或调休"),
                         ({"day": "2027-01-01", "kind": "holiday", "note": " "}, "注明依据"),
                         ({"op": "review", "year": "abc", "note": "通知"}, "年份"),
                         ({"op": "review", "year": "2026", "note": "通知"}, "已由系统日历收录")):
        resp = client.post("/staff/calendar", data=bad)
        assert 400 <= resp.status_code < 500 and message in resp.get_data(as_text=True), bad
    assert session.execute(select(HolidayOverride)).first() is None
    resp = client.post("/staff/calendar", data={"day": "2027-01-01", "kind": "holiday",
                                                "note": "国务院办公厅关于2027年部分节假日安排的通知"})
    assert resp.status_code == 303
    session.expire_all()
    fresh = session.get(Case, case.id)
    assert fresh.due_on == date(2027, 1, 4)  # counted again: 12-30, 12-31, Monday 1-4
    ev = session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id.desc())) \
        .scalars().first()
    assert (ev.action, ev.role, ev.actor, ev.due_on) == ("recalculate", "system", "staff:admin.sys", date(2027, 1, 4))
    note = session.execute(select(Notification.text).where(Notification.subject_id == org.id)
                           .order_by(Notification.id.desc())).scalars().first()
    assert "办理期限改为 2027-01-04" in note
    actions = {a for (a,) in session.execute(select(AuditEvent.action))}
    assert {"calendar.override", "case.recalculate"} <= actions
    # still a warning until the whole year is confirmed
    page = BeautifulSoup(client.get(f"/staff/cases/{case.case_no}").data, "html.parser")
    assert page.select_one(".banner.calendar-fallback")
    resp = client.post("/staff/calendar", data={"op": "review", "year": "2027", "note": "国办发明电〔2026〕X号"})
    assert resp.status_code == 303
    page = BeautifulSoup(client.get(f"/staff/cases/{case.case_no}").data, "html.parser")
    assert page.select_one(".banner.calendar-fallback") is None
    assert page.select_one(".due").get_text().strip().startswith("2027-01-04")
    assert BeautifulSoup(client.get("/staff/calendar").data, "html.parser") \
        .select_one(".calendar-year[data-year='2027'] .reviewed")


def test_override_leaves_unaffected_cases_alone(ctx, session, december, make_org, make_record):
    org, case, _ = december
    other_org = make_org(name="早办诊所", region_code="430103")
    early = cases.file_objection(ctx, other_org, make_record(other_org, title="另一处罚", decided_on=date(2026, 10, 9)),
                                 ground="fact_error", statement="有误", applicant=APPLICANT, commitment=True,
                                 identity_confirmed=True)
    assert early.due_on == date(2026, 11, 25)
    moved = calendar_svc.set_holiday_override(dataclasses.replace(ctx, actor="staff:admin.sys"), date(2027, 1, 1),
                                              False, "2027年放假通知")
    assert [c.id for c in session.execute(select(Case).where(Case.due_on == date(2027, 1, 4))).scalars()] == [case.id]
    assert early.due_on == date(2026, 11, 25) and moved.day == date(2027, 1, 1)
    assert [e.action for e in early.events] == ["file"]


def test_cli_calendar(app, rt, session, december):
    from portal.cli import main

    org, case, _ = december
    env = {k: v for k, v in rt.settings.items() if v}
    runner = app.test_cli_runner()
    result = runner.invoke(main, ["calendar", "set", "2027-01-01", "--holiday", "--note", "2027年放假通知"], env=env)
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert session.get(Case, case.id).due_on == date(2027, 1, 4)
    result = runner.invoke(main, ["calendar", "review", "2027", "--note", "2027年放假通知"], env=env)
    assert result.exit_code == 0 and "2027" in result.output
    assert calendar_svc.reviewed_years(session) == [2027]
    bad = runner.invoke(main, ["calendar", "set", "2027-01-02", "--holiday", "--note", " "], env=env)
    assert bad.exit_code != 0 and "注明依据" in bad.output


def test_no_crash_far_outside_the_package(ctx, session, make_org, make_record):
    org = make_org(name="远年诊所")
    rec = make_record(org, title="处罚", decided_on=date(2026, 10, 9))
    far = dataclasses.replace(ctx, today=date(2031, 6, 3))
    case = cases.file_objection(far, org, rec, ground="fact_error", statement="有误", applicant=APPLICANT,
                                commitment=True, identity_confirmed=True)
    assert case.due_on == date(2031, 6, 6)
    assert "2031年" in cases.deadline_warning(case, calendar_svc.load_calendar(session))
    with pytest.raises(ServiceError, match="不能超过"):
        calendar_svc.set_holiday_override(ctx, date(2031, 6, 4), False, "长" * 101)


def test_applicant_sees_that_the_date_may_move(client, ctx, session, login_as, december):
    from portal.identity import ACR_FACE, Identity

    org, case, _ = december
    login_as(client, Identity(iss=APPLICANT.iss, sub=APPLICANT.sub, name=APPLICANT.name, acr=ACR_FACE,
                              amr=("face",), legal_rep_of=org.code_hash))
    url = f"/me/subjects/{org.public_id}/cases/{case.case_no}"
    note = BeautifulSoup(client.get(url).data, "html.parser").select_one(".due .calendar-note")
    assert note and "可能顺延" in note.get_text()
    calendar_svc.set_holiday_override(ctx, date(2027, 1, 1), False, "2027年放假通知")
    calendar_svc.mark_year_reviewed(ctx, 2027, "2027年放假通知")
    session.commit()
    assert BeautifulSoup(client.get(url).data, "html.parser").select_one(".due .calendar-note") is None
