"""A December 2026 receipt whose deadline runs into 2027, a year chinesecalendar 1.11 does not
cover: the statutory holidays of 《全国年节及纪念日放假办法》 are computed (2027-01-01 元旦 is not a
working day), the date is provisional (暂定) on the staff pages, the applicant's case page, the
subject's view, the application document and the chatbot; an administrator pastes the State
Council's notice (preview, then confirm) or enters days one by one; open cases are counted again
as explicit events; "mark year reviewed" refuses a year whose statutory holidays are missing and
absurd years (issue #11 §1, issue #12)."""
from __future__ import annotations

import dataclasses
import time
from datetime import date

import pyotp
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.domain.holiday_notice import parse_notice
from portal.models import AuditEvent, Case, CaseEvent, HolidayOverride, Notification
from portal.services import calendar as calendar_svc
from portal.services import cases, holiday_table
from portal.services import staff as staff_svc
from portal.services.case_documents import objection_application_content
from portal.services.errors import ServiceError
from tests.integration.test_chat import Chat

PASSWORD = "correct horse battery"
APPLICANT = cases.Applicant("https://idp.example.test", "sub-rep", "王法人", "legal_rep", "")

# A notice for 2027 in the State Council's wording, written for this test (not the real one): every
# statutory day of 2027 off, the Spring Festival extended to 2-12 with Saturday 2-20 worked, etc.
NOTICE_2027 = """国务院办公厅关于2027年部分节假日安排的通知
各省、自治区、直辖市人民政府，国务院各部委、各直属机构：
　　经国务院批准，现将2027年元旦、春节、清明节、劳动节、端午节、中秋节和国庆节放假调休日期的具体安排通知如下。
　　一、元旦：1月1日（周五）至3日（周日）放假，共3天。
　　二、春节：2月5日（农历除夕、周五）至12日（周五）放假调休，共8天。2月20日（周六）上班。
　　三、清明节：4月3日（周六）至5日（周一）放假，共3天。
　　四、劳动节：5月1日（周六）至5日（周三）放假调休，共5天。4月25日（周日）、5月8日（周六）上班。
　　五、端午节：6月9日（周三）放假1天。
　　六、中秋节：9月15日（周三）放假1天。
　　七、国庆节：10月1日（周五）至7日（周四）放假调休，共7天。9月26日（周日）、10月9日（周六）上班。
　　节假日期间，各地区、各部门要妥善安排好值班和安全、保卫等工作。
国务院办公厅
"""


@pytest.fixture
def december(ctx, session, make_org, make_record):
    """An objection received Tuesday 2026-12-29 (3 WD: 12-30, 12-31, 元旦 off, 1-4) and one received
    Wednesday 2027-02-03 (3 WD: 2-4, 春节 2-5..2-8 off, 2-9, 2-10 — until the notice extends it)."""
    org = make_org(name="天心区跨年诊所", region_code="430103")
    rec = make_record(org, title="未按规定登记", decided_on=date(2026, 10, 9))
    dec = dataclasses.replace(ctx, today=date(2026, 12, 29))
    case = cases.file_objection(dec, org, rec, ground="fact_error", statement="登记信息有误", applicant=APPLICANT,
                                commitment=True, identity_confirmed=True)
    other = make_org(name="春节前诊所", region_code="430103")
    feb = dataclasses.replace(ctx, today=date(2027, 2, 3))
    spring = cases.file_objection(feb, other, make_record(other, title="处罚", decided_on=date(2026, 10, 9)),
                                  ground="fact_error", statement="有误", applicant=APPLICANT, commitment=True,
                                  identity_confirmed=True)
    secrets = {}
    for name, roles in (("dept.cs", ["department"]), ("admin.sys", ["admin"])):
        _, uri = staff_svc.create_staff(ctx, name, PASSWORD, roles, display_name=name)
        secrets[name] = pyotp.parse_uri(uri).secret
    session.commit()
    return org, case, spring, secrets


def login(client, name, secret, later=0):
    code = pyotp.TOTP(secret).at(time.time() + 30 * later)
    assert client.post("/staff/login", data={"username": name, "password": PASSWORD, "code": code}).status_code == 302


def test_provisional_dates_notice_import_and_recalculation(client, session, december):
    org, case, spring, secrets = december
    assert case.due_on == date(2027, 1, 4)  # the old fallback gave 2027-01-01, New Year's Day
    assert spring.due_on == date(2027, 2, 10)  # 除夕 .. 初三 computed

    login(client, "dept.cs", secrets["dept.cs"])
    page = BeautifulSoup(client.get(f"/staff/cases/{case.case_no}").data, "html.parser")
    banner = page.select_one(".banner.calendar-fallback")
    assert banner and "2027年" in banner.get_text() and "暂定" in banner.get_text()
    assert page.select_one(".due .provisional").get_text() == "暂定"
    assert page.select_one(".staff-nav a[href='/staff/calendar']") is None  # not an administrator
    row = BeautifulSoup(client.get("/staff/objections").data, "html.parser").select_one("tr.case-row")
    assert "暂定" in row.select_one(".tag.calendar-fallback").get_text()
    resp = client.get("/staff/calendar")
    assert resp.status_code == 403 and "系统管理员" in resp.get_data(as_text=True)
    assert client.post("/staff/calendar", data={"op": "notice_import", "notice": NOTICE_2027}).status_code == 403
    client.post("/staff/logout")

    login(client, "admin.sys", secrets["admin.sys"])
    page = BeautifulSoup(client.get("/staff/calendar").data, "html.parser")
    assert page.select_one(".calendar-year[data-year='2026'] .covered")
    year = page.select_one(".calendar-year[data-year='2027']")
    assert "暂定" in year.select_one(".banner.warn").get_text()
    assert len(year.select(".statutory li.missing")) == 13
    for bad, message in (({"day": "2027-13-01", "kind": "holiday", "note": "通知"}, "有效日期"),
                         ({"day": "2027-01-01", "kind": "", "note": "通知"}, "放假或调休"),
                         ({"day": "2027-01-01", "kind": "holiday", "note": " "}, "注明依据"),
                         ({"op": "review", "year": "abc", "note": "通知"}, "年份"),
                         ({"op": "review", "year": "-100000000000000000000", "note": "通知"}, "年份"),
                         ({"op": "review", "year": "2026", "note": "通知"}, "已由系统日历收录"),
                         ({"op": "review", "year": "2027", "note": "通知"}, "尚未全部录入"),
                         ({"op": "notice_preview", "notice": NOTICE_2027.replace("共8天", "共9天")}, "第5行无法识别"),
                         ({"op": "notice_import", "notice": "随便写点\n一、元旦：1月1日放假。"}, "请填写年份")):
        resp = client.post("/staff/calendar", data=bad)
        text = resp.get_data(as_text=True)
        assert 400 <= resp.status_code < 500 and message in text, (bad, resp.status_code)
        assert BeautifulSoup(text, "html.parser").select_one(".banner.bad")
    assert session.execute(select(HolidayOverride)).first() is None  # nothing half-written

    # preview: the parsed table to confirm, nothing written yet
    resp = client.post("/staff/calendar", data={"op": "notice_preview", "notice": NOTICE_2027})
    assert resp.status_code == 200
    preview = BeautifulSoup(resp.data, "html.parser").select_one(".notice-preview[data-year='2027']")
    cells = [[td.get_text() for td in tr.select("td")] for tr in preview.select(".notice-table tbody tr")]
    assert ["2027-02-05", "星期五", "放假", "春节"] in cells and ["2027-02-20", "星期六", "调休上班", "春节"] in cells
    assert len(cells) == 3 + 8 + 1 + 3 + 5 + 2 + 1 + 1 + 7 + 2
    assert session.execute(select(HolidayOverride)).first() is None
    confirm = preview.select_one("form.notice-confirm")
    data = {el["name"]: (el.get("value") if el.name == "input" else el.get_text())
            for el in confirm.select("input[name], textarea[name]")}
    assert data["op"] == "notice_import"
    resp = client.post("/staff/calendar", data=data)
    assert resp.status_code == 303
    session.expire_all()
    assert session.get(HolidayOverride, date(2027, 2, 20)).is_workday is True
    assert calendar_svc.reviewed_years(session) == [2027]
    fresh = session.get(Case, spring.id)
    assert fresh.due_on == date(2027, 2, 16)  # 2-4, (2-5..2-12 off), 2-15, 2-16
    ev = session.execute(select(CaseEvent).where(CaseEvent.case_id == spring.id).order_by(CaseEvent.id.desc())) \
        .scalars().first()
    assert (ev.action, ev.role, ev.actor, ev.due_on) == ("recalculate", "system", "staff:admin.sys", date(2027, 2, 16))
    note = session.execute(select(Notification.text).where(Notification.case_id == spring.id)
                           .order_by(Notification.id.desc())).scalars().first()
    assert "2027-02-16" in note
    assert session.get(Case, case.id).due_on == date(2027, 1, 4)
    confirmed = [e for e in session.get(Case, case.id).events if e.action == "recalculate"]
    assert confirmed and "2027年放假安排已确认" in confirmed[-1].reason
    actions = {a for (a,) in session.execute(select(AuditEvent.action))}
    assert {"calendar.override", "calendar.import_notice", "calendar.reviewed", "case.recalculate"} <= actions
    page = BeautifulSoup(client.get(f"/staff/cases/{case.case_no}").data, "html.parser")
    assert page.select_one(".banner.calendar-fallback") is None and page.select_one(".due .provisional") is None
    assert page.select_one(".due").get_text().strip().startswith("2027-01-04")
    assert BeautifulSoup(client.get("/staff/calendar").data, "html.parser") \
        .select_one(".calendar-year[data-year='2027'] .reviewed")


def test_override_leaves_unaffected_cases_alone(ctx, session, december, make_org, make_record):
    org, case, spring, _ = december
    other_org = make_org(name="早办诊所", region_code="430103")
    early = cases.file_objection(ctx, other_org, make_record(other_org, title="另一处罚", decided_on=date(2026, 10, 9)),
                                 ground="fact_error", statement="有误", applicant=APPLICANT, commitment=True,
                                 identity_confirmed=True)
    assert early.due_on == date(2026, 11, 25)
    moved = holiday_table.set_holiday_override(dataclasses.replace(ctx, actor="staff:admin.sys"), date(2027, 1, 4),
                                              False, "假设的放假安排")
    assert [c.id for c in session.execute(select(Case).where(Case.due_on == date(2027, 1, 5))).scalars()] == [case.id]
    assert early.due_on == date(2026, 11, 25) and moved.day == date(2027, 1, 4)
    assert [e.action for e in early.events] == ["file"]


def test_review_refuses_missing_statutory_days_and_absurd_years(ctx, session):
    """issue #11: "Mark year reviewed" refuses a year whose statutory holidays are not all
    entered (《全国年节及纪念日放假办法》第二条); issue #12: any integer used to be accepted."""
    for year in (-10**20, 1999, 2101, 10**20):
        with pytest.raises(ServiceError, match="2000–2100"):
            holiday_table.mark_year_reviewed(ctx, year, "通知")
    with pytest.raises(ServiceError, match="1月1日（元旦）.*2月5日（春节（除夕））") as err:
        holiday_table.mark_year_reviewed(ctx, 2027, "通知")
    assert err.value.status == 409
    for day in list(calendar_svc.missing_statutory_days(session, 2027))[:-1]:
        holiday_table.set_holiday_override(ctx, day, False, "通知")
    with pytest.raises(ServiceError, match="10月3日（国庆节）"):  # one still missing
        holiday_table.mark_year_reviewed(ctx, 2027, "通知")
    holiday_table.set_holiday_override(ctx, date(2027, 10, 3), True, "录错了")  # a workday is not a holiday
    with pytest.raises(ServiceError, match="10月3日"):
        holiday_table.mark_year_reviewed(ctx, 2027, "通知")
    holiday_table.set_holiday_override(ctx, date(2027, 10, 3), False, "通知")
    assert holiday_table.mark_year_reviewed(ctx, 2027, "通知") == [2027]


def test_cli_calendar(app, rt, session, december, tmp_path):
    from portal.cli import main

    org, case, spring, _ = december
    env = {k: v for k, v in rt.settings.items() if v}
    runner = app.test_cli_runner()
    result = runner.invoke(main, ["calendar", "set", "2027-01-04", "--holiday", "--note", "假设的放假安排"], env=env)
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert session.get(Case, case.id).due_on == date(2027, 1, 5)
    for year, message in (("2028", "尚未全部录入"), ("-100000000000000000000", "2000–2100")):
        bad = runner.invoke(main, ["calendar", "review", "--note", "通知", "--", year], env=env)
        assert bad.exit_code != 0 and message in bad.output, bad.output
    bad = runner.invoke(main, ["calendar", "set", "2027-01-02", "--holiday", "--note", " "], env=env)
    assert bad.exit_code != 0 and "注明依据" in bad.output

    notice = tmp_path / "notice.txt"
    notice.write_text(NOTICE_2027.replace("共8天", "共9天"), encoding="utf-8")
    bad = runner.invoke(main, ["calendar", "import-notice", str(notice), "--yes"], env=env)
    assert bad.exit_code != 0 and "第5行无法识别" in bad.output
    notice.write_text(NOTICE_2027, encoding="utf-8")
    declined = runner.invoke(main, ["calendar", "import-notice", str(notice)], env=env, input="n\n")
    assert declined.exit_code != 0 and "2027-02-20  星期六  调休上班  春节" in declined.output
    assert calendar_svc.reviewed_years(session) == []
    result = runner.invoke(main, ["calendar", "import-notice", str(notice), "--yes"], env=env)
    assert result.exit_code == 0, result.output
    assert "共 放假 28 天，调休上班 5 天" in result.output and "已录入并确认 2027 年" in result.output
    session.expire_all()
    assert calendar_svc.reviewed_years(session) == [2027]
    assert session.get(Case, spring.id).due_on == date(2027, 2, 16)


def test_applicant_sees_provisional_everywhere(client, ctx, session, login_as, december):
    from portal.identity import ACR_FACE, Identity

    org, case, spring, _ = december
    login_as(client, Identity(iss=APPLICANT.iss, sub=APPLICANT.sub, name=APPLICANT.name, acr=ACR_FACE,
                              amr=("face",), legal_rep_of=org.code_hash))
    url = f"/me/subjects/{org.public_id}/cases/{case.case_no}"
    page = BeautifulSoup(client.get(url).data, "html.parser")
    assert page.select_one(".due .provisional").get_text() == "暂定"
    assert "暂定" in page.select_one(".due .calendar-note").get_text()
    subject_page = BeautifulSoup(client.get(f"/me/subjects/{org.public_id}").data, "html.parser")
    assert "（暂定）" in subject_page.select_one(".case-list").get_text()
    rows = dict(row for s in objection_application_content(ctx, case).sections for row in s.rows)
    assert "暂定" in rows["首个办理环节"]
    filed = session.execute(select(Notification.text).where(Notification.case_id == case.id)
                            .order_by(Notification.id)).scalars().first()
    assert "2027-01-04（暂定" in filed

    holiday_table.import_notice(ctx, parse_notice(NOTICE_2027))
    session.commit()
    page = BeautifulSoup(client.get(url).data, "html.parser")
    assert page.select_one(".due .calendar-note") is None and page.select_one(".due .provisional") is None
    subject_page = BeautifulSoup(client.get(f"/me/subjects/{org.public_id}").data, "html.parser")
    assert "暂定" not in subject_page.select_one(".case-list").get_text()
    rows = dict(row for s in objection_application_content(ctx, case).sections for row in s.rows)
    assert "暂定" not in rows["首个办理环节"]


def test_chatbot_deadline_answer_is_provisional(client, ctx, session):
    """The chatbot counts with the same function and calendar as the cases (民法典 第二百零一条)."""
    text = Chat(client).answer_text("我2026年12月29日交的异议什么时候出结果？")
    assert "最迟2027年1月4日" in text and "暂定" in text
    text = Chat(client).answer_text("我2026年11月2日交的异议什么时候出结果？")
    assert "暂定" not in text
