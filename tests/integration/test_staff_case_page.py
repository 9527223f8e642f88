"""The staff case page (issue 14): image and PDF evidence preview inline (framed only by the
portal's own pages, and able to load nothing), one distinct button per kind of step, and no
citizen login or chatbot on staff pages."""
from __future__ import annotations

from datetime import date

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from portal.models import AuditEvent
from portal.services import cases
from portal.services import staff as staff_svc
from portal.services.evidence import add_evidence

from .test_evidence_uploads import PDF, png
from .test_staff_auth import APPLICANT, PASSWORD, _secret, web_login


@pytest.fixture
def case_with_evidence(ctx, session, rt, make_org, make_record):
    org = make_org(name="芙蓉区证据诊所", region_code="430102")
    case = cases.file_objection(ctx, org, make_record(org, decided_on=date(2026, 10, 9)), ground="fact_error",
                                statement="登记有误", applicant=APPLICANT, commitment=True, identity_confirmed=True)
    var_dir = rt.settings["PORTAL_VAR_DIR"]
    image = add_evidence(ctx, case, "现场照片.png", png((60, 40)), var_dir=var_dir, uploaded_by="applicant")
    pdf = add_evidence(ctx, case, "处罚决定书.pdf", PDF, var_dir=var_dir, uploaded_by="applicant")
    _, uri = staff_svc.create_staff(ctx, "dept.fr", PASSWORD, ["department"], region_code="430102")
    session.commit()
    return case, image, pdf, _secret(uri)


def test_evidence_previews_inline_and_downloads_stay_downloads(client, session, case_with_evidence):
    case, image, pdf, secret = case_with_evidence
    web_login(client, "dept.fr", secret)
    page = BeautifulSoup(client.get(f"/staff/cases/{case.case_no}").get_data(as_text=True), "html.parser")
    previews = page.select("details.evidence-preview")
    assert [p["data-mime"] for p in previews] == ["image/png", "application/pdf"]
    img, frame = previews[0].select_one("img"), previews[1].select_one("iframe")
    assert img["src"].endswith(f"/evidence/{image.id}?view=inline") and img["alt"]
    assert frame["src"].endswith(f"/evidence/{pdf.id}?view=inline") and frame["title"]
    evidence_reads = select(func.count()).select_from(AuditEvent).where(
        AuditEvent.actor == "staff:dept.fr", AuditEvent.object_ref.contains(":evidence:"))
    reads = session.execute(evidence_reads).scalar_one()
    for ev, mime, body in ((image, "image/png", None), (pdf, "application/pdf", PDF)):
        shown = client.get(f"/staff/cases/{case.case_no}/evidence/{ev.id}?view=inline")
        assert shown.status_code == 200 and shown.mimetype == mime
        assert shown.headers["Content-Disposition"].startswith("inline")
        assert "frame-ancestors 'self'" in shown.headers["Content-Security-Policy"]
        assert "default-src 'none'" in shown.headers["Content-Security-Policy"]
        assert shown.headers["X-Frame-Options"] == "SAMEORIGIN"
        if body is not None:
            assert shown.get_data() == body
        download = client.get(f"/staff/cases/{case.case_no}/evidence/{ev.id}")
        assert download.headers["Content-Disposition"].startswith("attachment")
        assert download.headers["X-Frame-Options"] == "DENY"
    # every preview is a logged read like a download
    assert session.execute(evidence_reads).scalar_one() == reads + 4


def test_one_distinct_button_per_kind_of_step_and_no_citizen_parts(client, case_with_evidence):
    case, _, _, secret = case_with_evidence
    web_login(client, "dept.fr", secret)
    page = BeautifulSoup(client.get(f"/staff/cases/{case.case_no}").get_data(as_text=True), "html.parser")
    buttons = {b.get_text(strip=True): (b.find_parent("form")["action"], b.get("class"))
               for b in page.select("main button[type=submit]") if b.find_parent("form", class_="inline-form") is None}
    assert buttons["提交处理结果"][0].endswith("/act") and buttons["提交处理结果"][1] == ["btn-decide"]
    assert buttons["要求补正材料"][0].endswith("/materials") and buttons["要求补正材料"][1] == ["btn-materials"]
    labels = [lab for lab in buttons if lab in ("提交处理结果", "申请延期", "要求补正材料", "中止计时")]
    assert len(labels) == len(set(labels)) >= 2  # no two steps share a label
    for path in (f"/staff/cases/{case.case_no}", "/staff/objections", "/staff/objections/in-time"):
        html = BeautifulSoup(client.get(path).get_data(as_text=True), "html.parser")
        header = html.select_one("header.site-header").get_text()
        assert "登录" not in header and "我的" not in header, path
        assert html.select_one("#chat-launcher, .chat-launcher, [data-chat]") is None, path
