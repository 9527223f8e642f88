"""Credit reports: Chinese text in an embedded CJK font, a report number, the requester, and a QR
code that decodes to a public page saying whether a copy is genuine."""
from __future__ import annotations

import hashlib
import io
import subprocess
from datetime import date
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.domain.identifiers import make_resident_id
from portal.models import Report
from portal.services.authorisations import grant_authorisation

from ..conftest import require_tool
from .pdf_tools import pdf_text, qr_codes
from .subject_world import (
    ALL_CANARIES,
    GRADED_TITLE,
    ORG_CANARIES,
    ORG_NAME,
    PERSON_NAME,
    PUBLIC_TITLE,
    TODAY,
    build_world,
    identity,
)
from .subject_world import post as csrf_post
from .verify_page import match_verdict


@pytest.fixture
def world(rt, session):
    return build_world(rt, session)


def download(client, login_as, who, subject):
    login_as(client, who)
    resp = client.post(f"/me/subjects/{subject.public_id}/report.pdf")  # CsrfClient sends the token
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == "application/pdf"
    assert "attachment" in resp.headers["Content-Disposition"]
    return resp.data


def test_report_has_chinese_text_number_requester_and_everything(client, login_as, world, session, tmp_path):
    pdf = download(client, login_as, world.ids["legal_rep"], world.org)
    text = pdf_text(pdf, tmp_path)
    report = session.execute(select(Report).order_by(Report.id.desc())).scalars().first()
    assert "信用报告" in text
    assert ORG_NAME in text
    assert report.report_no in text
    assert "赵法人" in text and "法定代表人" in text  # the requester and how they may ask
    assert PUBLIC_TITLE in text
    assert "评分规则" in text and GRADED_TITLE in text  # the grade with its explanation
    for canary in ORG_CANARIES.values():  # the subject's report holds its non-public records too
        assert canary in text.replace("\n", ""), canary
    assert "生成时间" in text
    assert report.sha256 == hashlib.sha256(pdf).hexdigest()
    assert report.via == "legal_rep" and report.requester_name == "赵法人"


def test_cjk_font_is_embedded(client, login_as, world, tmp_path):
    pdf = download(client, login_as, world.ids["legal_rep"], world.org)
    tool = require_tool("pdffonts", "PDF font listing (poppler-utils)")
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run([tool, str(path)], check=True, capture_output=True).stdout.decode()
    require_tool("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "CJK font (fonts-wqy-zenhei)")
    rows = [line for line in listing.splitlines() if "WenQuanYi" in line or "PortalCJK" in line]
    assert rows and all(" yes " in row for row in rows), listing  # embedded, not left to the reader


def test_person_report_shows_masked_id_only(client, login_as, world, tmp_path):
    pdf = download(client, login_as, world.ids["subject_a"], world.person)
    text = pdf_text(pdf, tmp_path)
    assert PERSON_NAME in text
    assert world.person.code_masked in text
    assert world.codes["person"] not in text


def test_qr_decodes_to_the_verify_page_which_says_genuine(client, login_as, world, session, tmp_path):
    pdf = download(client, login_as, world.ids["legal_rep"], world.org)
    report = session.execute(select(Report).order_by(Report.id.desc())).scalars().first()
    codes = qr_codes(pdf, tmp_path)
    url = f"http://127.0.0.1:5000/verify/report/{report.report_no}?t={report.verify_token}"
    assert codes == [url]
    assert url in pdf_text(pdf, tmp_path).replace("\n", "").replace(" ", "")

    login_as(client, None)  # anyone, not logged in
    parts = urlsplit(url)
    resp = client.get(f"{parts.path}?{parts.query}")
    assert resp.status_code == 200
    html = BeautifulSoup(resp.data, "html.parser")
    assert html.select_one("#verdict")["data-genuine"] == "yes"
    facts = html.select_one("dl.facts").get_text()
    assert report.report_no in facts and ORG_NAME in facts and report.sha256 in facts
    body = resp.get_data(as_text=True)
    assert PUBLIC_TITLE not in body  # only number, name, time and hash: no content
    assert [c for c in ALL_CANARIES if c in body] == []
    assert "赵法人" not in body


def test_verify_page_says_not_genuine(client, login_as, world, session):
    download(client, login_as, world.ids["legal_rep"], world.org)
    report = session.execute(select(Report).order_by(Report.id.desc())).scalars().first()
    login_as(client, None)
    for url in (f"/verify/report/{report.report_no}?t=wrong-token",  # a guessed number is not enough
                f"/verify/report/{report.report_no}",
                "/verify/report/XYBG20261120ZZZZZZZZ?t=" + report.verify_token):
        resp = client.get(url)
        assert resp.status_code == 404
        html = BeautifulSoup(resp.data, "html.parser")
        assert html.select_one("#verdict")["data-genuine"] == "no"
        assert ORG_NAME not in resp.get_data(as_text=True)


def test_uploaded_copy_is_compared_with_the_stored_hash(client, login_as, world, session):
    pdf = download(client, login_as, world.ids["legal_rep"], world.org)
    report = session.execute(select(Report).order_by(Report.id.desc())).scalars().first()
    login_as(client, None)
    url = f"/verify/report/{report.report_no}"

    def check(data: bytes) -> str:
        resp = csrf_post(client, url, {"t": report.verify_token, "file": (io.BytesIO(data), "report.pdf")},
                         content_type="multipart/form-data")
        assert resp.status_code == 200
        return match_verdict(resp)

    assert check(pdf) == "yes"
    assert check(pdf.replace(ORG_NAME.encode("utf-16-be"), b"X" * 12)[:-10] + b"tampered!!") == "no"


def test_person_name_masked_on_verify_page(client, login_as, world, session):
    download(client, login_as, world.ids["subject_a"], world.person)
    report = session.execute(select(Report).order_by(Report.id.desc())).scalars().first()
    body = client.get(f"/verify/report/{report.report_no}?t={report.verify_token}").get_data(as_text=True)
    assert "李*珍" in body and PERSON_NAME not in body


def test_grantee_report_is_limited_to_the_authorised_scope(rt, client, login_as, world, session, tmp_path):
    ctx = rt.context(session, "test")
    code = make_resident_id("430103", date(1990, 1, 1), 201)
    grant_authorisation(ctx, world.org, grantee_kind="person", grantee_code=code, grantee_name="冯窄授权",
                        purpose="评选表彰核查", info_classes=["positive"], include_non_public=False,
                        valid_from=TODAY, valid_until=TODAY)
    session.commit()
    pdf = download(client, login_as, identity(rt, "冯窄授权", resident_id=code), world.org)
    text = pdf_text(pdf, tmp_path)
    assert "年度表彰" in text
    assert PUBLIC_TITLE not in text  # dishonesty is outside the scope
    assert [c for c in ALL_CANARIES if c in text.replace("\n", "")] == []
    assert "评选表彰核查" in text and "经书面授权" in text
    assert "评分规则" not in text  # the grade explanation needs the full scope


def test_report_download_is_in_the_access_log(client, login_as, world):
    download(client, login_as, world.ids["grantee_during"], world.org)
    login_as(client, world.ids["legal_rep"])
    html = BeautifulSoup(client.get(f"/me/subjects/{world.org.public_id}/access-log").data, "html.parser")
    rows = [[td.get_text(" ", strip=True) for td in tr.select("td")] for tr in html.select("table.access-log tbody tr")]
    assert any("孙有效" in r[1] and "经书面授权" in r[2] and r[3] == "下载信用报告" and r[4] == "办理医疗机构贷款审批"
               for r in rows), rows


def _issued(session) -> tuple[int, int]:
    from portal.models import AuditEvent

    session.expire_all()
    reports = session.execute(select(Report.id)).scalars().all()
    views = session.execute(select(AuditEvent.id).where(AuditEvent.action == "private.view")).scalars().all()
    return len(reports), len(views)


def test_a_get_issues_no_report(client, login_as, world, session):
    """A GET (a link, a prefetch, a cross-site top-level navigation) creates no report and no
    access-log row: it leads to the subject page, whose button POSTs."""
    login_as(client, world.ids["legal_rep"])
    before = _issued(session)
    url = f"/me/subjects/{world.org.public_id}/report.pdf"
    resp = client.get(url)
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/me/subjects/{world.org.public_id}")
    assert _issued(session) == before
    page = BeautifulSoup(client.get(resp.headers["Location"]).data, "html.parser")
    form = page.select_one("form.report-form")
    assert form["method"] == "post" and form["action"] == url
    assert form.select_one("input[name=csrf_token]")["value"]
    assert _issued(session)[0] == before[0]  # viewing the page is logged, but issues no report


def test_a_report_needs_the_csrf_token(client, login_as, world, session):
    login_as(client, world.ids["legal_rep"])
    before = _issued(session)
    resp = client.post(f"/me/subjects/{world.org.public_id}/report.pdf", csrf=False)
    assert resp.status_code == 400 and resp.mimetype == "text/html"
    assert _issued(session) == before
    download(client, login_as, world.ids["legal_rep"], world.org)
    reports, views = _issued(session)
    assert (reports, views) == (before[0] + 1, before[1] + 1)


def test_an_issued_report_downloads_again_by_number_to_its_requester_only(client, login_as, world, session, rt):
    """The issued PDF is kept (encrypted: it holds non-public information) and served again by
    its number: the same bytes, one access-log row per download, never a new report."""
    login_as(client, world.ids["legal_rep"])
    resp = client.post(f"/me/subjects/{world.org.public_id}/report.pdf")
    assert resp.status_code == 200
    first, again_url = resp.data, resp.headers["Content-Location"]
    report = session.execute(select(Report).order_by(Report.id.desc())).scalars().first()
    assert again_url == f"/me/subjects/{world.org.public_id}/reports/{report.report_no}.pdf"
    assert first not in (report.pdf or b"") and b"%PDF" not in report.pdf  # not kept in clear
    before = _issued(session)
    resp = client.get(again_url)
    assert resp.status_code == 200 and resp.mimetype == "application/pdf" and resp.data == first
    assert resp.headers["Cache-Control"] == "no-store"
    after = _issued(session)
    assert after == (before[0], before[1] + 1)  # no new report; one access event
    # the subject's access log says what happened
    html = BeautifulSoup(client.get(f"/me/subjects/{world.org.public_id}/access-log").data, "html.parser")
    assert "再次下载已出具的信用报告" in html.get_text()
    # someone else who may see the subject (a grantee) gets no one else's report, like an unknown number
    login_as(client, world.ids["grantee_during"])
    other = client.get(again_url)
    unknown = client.get(f"/me/subjects/{world.org.public_id}/reports/XYBG20261120ZZZZZZZZ.pdf")
    assert other.status_code == unknown.status_code == 404
    assert other.mimetype == "text/html" and b"%PDF" not in other.data
    # the wrong subject's address does not serve it either, even to its requester
    login_as(client, world.ids["legal_rep"])
    assert client.get(f"/me/subjects/{world.person.public_id}/reports/{report.report_no}.pdf").status_code in (403, 404)
    # without login: the login page, nothing else
    login_as(client, None)
    anonymous = client.get(again_url)
    assert anonymous.status_code == 401 and b"%PDF" not in anonymous.data
    assert _issued(session) == (after[0], after[1] + 1)  # only the requester's own download was logged


def test_a_report_issued_before_files_were_kept_says_so(client, login_as, world, session):
    login_as(client, world.ids["legal_rep"])
    assert client.post(f"/me/subjects/{world.org.public_id}/report.pdf").status_code == 200
    report = session.execute(select(Report).order_by(Report.id.desc())).scalars().first()
    report.pdf = None
    session.commit()
    resp = client.get(f"/me/subjects/{world.org.public_id}/reports/{report.report_no}.pdf")
    assert resp.status_code == 410 and "重新出具" in resp.get_data(as_text=True)
