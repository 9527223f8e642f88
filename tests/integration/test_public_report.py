"""Public credit reports of organisations (公共信用信息报告, #13): anyone, no login, the public
facility page's data only, numbered with a QR code to /verify/report, one report per public data
version and day."""
from __future__ import annotations

import dataclasses
import hashlib
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from portal.models import Report
from portal.services.public_report import NO_PERSON_REPORT, public_report
from portal.services.records import add_record

from .pdf_tools import flat, pdf_text, qr_codes
from .subject_world import ALL_CANARIES, GRADED_TITLE, ORG_NAME, PUBLIC_TITLE, build_world


@pytest.fixture
def world(rt, session):
    return build_world(rt, session)


def _report(client, subject):
    resp = client.post(f"/facility/{subject.public_id}/report.pdf")  # CsrfClient sends the token
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == "application/pdf" and "attachment" in resp.headers["Content-Disposition"]
    return resp.data


def _public_rows(session):
    return session.execute(select(func.count()).select_from(Report).where(Report.via == "public")).scalar_one()


def test_report_holds_public_information_only(client, world, session, tmp_path):
    pdf = _report(client, world.org)
    text = flat(pdf_text(pdf, tmp_path))
    report = session.execute(select(Report).where(Report.via == "public")).scalar_one()
    assert "公共信用信息报告" in text and ORG_NAME in text and report.report_no in text
    assert flat(PUBLIC_TITLE) in text and "年度表彰" in text and "执业许可证校验合格" in text
    assert world.org.credit_code in text
    assert "《湖南省卫生健康信用信息管理办法（试行）》第四条" in text  # the regulation by its full name
    assert [c for c in ALL_CANARIES if c in text] == []  # not shared, on-request, expired, repaired, old
    assert flat(GRADED_TITLE) not in text  # its window is over: not public any more
    assert "13812345678" not in text and "王小明" not in text
    assert report.sha256 == hashlib.sha256(pdf).hexdigest() and report.requested_by == "public"


def test_same_public_data_same_report(client, rt, world, session):
    first = _report(client, world.org)
    again = _report(client, world.org)
    assert again == first and _public_rows(session) == 1  # the same numbered report, no new row
    # a change to public data: a new report with a new number
    ctx = rt.context(session, "test")
    add_record(ctx, world.org, record_type="commendation", title="新增表彰：先进集体", decided_on=date(2026, 11, 1))
    session.commit()
    changed = _report(client, world.org)
    assert changed != first and _public_rows(session) == 2
    numbers = set(session.execute(select(Report.report_no).where(Report.via == "public")).scalars())
    assert len(numbers) == 2
    # the next day (a publication window may end at midnight without any write): a new report
    session.expire_all()
    tomorrow = dataclasses.replace(rt.context(session, "test"), today=rt.today() + timedelta(days=1))
    later = public_report(tomorrow, world.org.public_id, "http://127.0.0.1:5000")
    assert later.report_no not in numbers


def test_an_issued_public_report_downloads_by_number_while_current(client, rt, world, session):
    """Anyone may download a public report by its number (GET: no new row, no audit row), but only
    while the public data it shows is today's; after a change it answers 410 (a repaired or
    withdrawn record must not travel on in an old copy, 湖南 第三十一条)."""
    from portal.models import AuditEvent

    resp = client.post(f"/facility/{world.org.public_id}/report.pdf")
    url = resp.headers["Content-Location"]
    report = session.execute(select(Report).where(Report.via == "public")).scalar_one()
    assert url == f"/facility/{world.org.public_id}/reports/{report.report_no}.pdf"
    events = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    again = client.get(url)
    assert again.status_code == 200 and again.data == resp.data and again.mimetype == "application/pdf"
    session.expire_all()
    assert _public_rows(session) == 1
    assert session.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == events
    # wrong organisation, unknown number: 404
    assert client.get(f"/facility/{world.other.public_id}/reports/{report.report_no}.pdf").status_code == 404
    assert client.get(f"/facility/{world.org.public_id}/reports/XYBG20261120ZZZZZZZZ.pdf").status_code == 404
    ctx = rt.context(session, "test")
    # a change about another subject leaves this organisation's report current
    add_record(ctx, world.other, record_type="commendation", title="他人的表彰", decided_on=date(2026, 11, 1))
    session.commit()
    assert client.get(url).status_code == 200
    assert client.post(f"/facility/{world.org.public_id}/report.pdf").data == resp.data  # the same report
    add_record(ctx, world.org, record_type="commendation", title="新增表彰：先进集体", decided_on=date(2026, 11, 1))
    session.commit()
    gone = client.get(url)
    assert gone.status_code == 410 and b"%PDF" not in gone.data and "重新生成" in gone.get_data(as_text=True)


def test_a_subjects_own_report_is_not_public_by_number(client, login_as, world, session):
    login_as(client, world.ids["legal_rep"])
    assert client.post(f"/me/subjects/{world.org.public_id}/report.pdf").status_code == 200
    own = session.execute(select(Report).where(Report.via != "public")).scalars().first()
    login_as(client, None)
    resp = client.get(f"/facility/{world.org.public_id}/reports/{own.report_no}.pdf")
    assert resp.status_code == 404 and b"%PDF" not in resp.data


def test_qr_leads_to_a_verify_page_that_says_genuine(client, world, session, tmp_path):
    pdf = _report(client, world.org)
    report = session.execute(select(Report).where(Report.via == "public")).scalar_one()
    url = f"http://127.0.0.1:5000/verify/report/{report.report_no}?t={report.verify_token}"
    assert qr_codes(pdf, tmp_path) == [url]
    parts = urlsplit(url)
    resp = client.get(f"{parts.path}?{parts.query}")
    assert resp.status_code == 200
    html = BeautifulSoup(resp.data, "html.parser")
    assert html.select_one("#verdict")["data-genuine"] == "yes"
    facts = html.select_one("dl.facts").get_text()
    assert report.report_no in facts and ORG_NAME in facts and report.sha256 in facts


def test_persons_get_no_public_report(client, world, session):
    resp = client.post(f"/facility/{world.person.public_id}/report.pdf")
    assert resp.status_code == 404 and NO_PERSON_REPORT in resp.get_data(as_text=True)
    assert client.post("/facility/nosuchsubject/report.pdf").status_code == 404
    assert _public_rows(session) == 0


def test_facility_page_offers_the_report_by_post_with_csrf(client, world, session):
    page = BeautifulSoup(client.get(f"/facility/{world.org.public_id}").get_data(as_text=True), "html.parser")
    form = page.select_one("form.public-report")
    assert form["method"] == "post" and form["action"] == f"/facility/{world.org.public_id}/report.pdf"
    assert form.select_one("input[name=csrf_token]")["value"]
    person = client.get(f"/facility/{world.person.public_id}")
    if person.status_code == 200:
        assert BeautifulSoup(person.data, "html.parser").select_one("form.public-report") is None
    assert client.post(f"/facility/{world.org.public_id}/report.pdf", csrf=False).status_code == 400
    assert client.get(f"/facility/{world.org.public_id}/report.pdf").status_code == 405
    assert _public_rows(session) == 0
