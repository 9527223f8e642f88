"""Requests for more material (补正材料): staff ask as an explicit case event, the applicant is
told in the inbox and uploads on the case page; hostile files are refused with nothing stored;
only the applicant, only while asked, only while the case is open (湖南 第二十七条; 湖南医保
第二十五条（二）)."""
from __future__ import annotations

import io
import time
from datetime import date
from pathlib import Path

import pyotp
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from portal.identity import ACR_FACE, Identity
from portal.models import AuditEvent, Case, CaseEvent, Evidence, Notification
from portal.services import cases
from portal.services import staff as staff_svc
from portal.services.errors import ServiceError

from .pdf_tools import blank_pdf

PASSWORD = "correct horse battery"
APPLICANT = cases.Applicant("https://idp.example.test", "sub-rep", "王法人", "legal_rep", ACR_FACE)
PDF = blank_pdf()


@pytest.fixture
def world(ctx, session, make_org, make_record):
    org = make_org(name="岳麓区补正测试诊所", region_code="430104")
    rec = make_record(org, title="未按规定登记", decided_on=date(2026, 10, 9))
    case = cases.file_objection(ctx, org, rec, ground="fact_error", statement="登记信息有误", applicant=APPLICANT,
                                commitment=True, identity_confirmed=True)
    user, uri = staff_svc.create_staff(ctx, "dept.cs", PASSWORD, ["department"], region_code="430100",
                                       display_name="周科员")
    session.commit()
    return org, case, pyotp.parse_uri(uri).secret


def rep(org) -> Identity:
    return Identity(iss=APPLICANT.iss, sub=APPLICANT.sub, name=APPLICANT.name, acr=ACR_FACE, amr=("face",),
                    legal_rep_of=org.code_hash)


def staff_login(client, secret, later: int = 0):
    """``later``: the n-th next TOTP step (a code is accepted once; the portal allows one step of drift)."""
    code = pyotp.TOTP(secret).at(time.time() + 30 * later)
    resp = client.post("/staff/login", data={"username": "dept.cs", "password": PASSWORD, "code": code})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]


def stored(rt) -> list[str]:
    folder = Path(rt.settings["PORTAL_VAR_DIR"]) / "evidence"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_request_and_supplement_on_the_web(client, session, rt, login_as, world):
    org, case, secret = world
    due = case.due_on
    staff_login(client, secret)
    page = BeautifulSoup(client.get(f"/staff/cases/{case.case_no}").data, "html.parser")
    assert page.select_one("form.case-materials")
    resp = client.post(f"/staff/cases/{case.case_no}/materials", data={"reason": ""})
    assert resp.status_code == 400 and "需要补正的材料" in resp.get_data(as_text=True)
    resp = client.post(f"/staff/cases/{case.case_no}/materials", data={"reason": "请补充营业执照副本和登记证明"})
    assert resp.status_code == 302
    session.expire_all()
    fresh = session.get(Case, case.id)
    assert fresh.materials_requested_on == date(2026, 11, 20) and fresh.due_on == due  # the clock keeps running
    queue = BeautifulSoup(client.get("/staff/objections").data, "html.parser")
    assert queue.select_one("tr.case-row .tag.materials").get_text() == "待补正材料"
    inbox = session.execute(select(Notification.text).where(Notification.subject_id == org.id)
                            .order_by(Notification.id.desc())).scalars().first()
    assert "需要补正材料：请补充营业执照副本和登记证明" in inbox and due.isoformat() in inbox
    client.post("/staff/logout")

    login_as(client, rep(org))
    url = f"/me/subjects/{org.public_id}/cases/{case.case_no}"
    page = BeautifulSoup(client.get(url).data, "html.parser")
    assert "请补充营业执照副本和登记证明" in page.select_one(".materials-request").get_text()
    form = page.select_one("form.supplement")
    assert form["action"] == url + "/supplement" and form.select_one("input[type=file][name=evidence]")
    own = BeautifulSoup(client.get(f"/me/subjects/{org.public_id}").data, "html.parser")
    assert "需要补正材料" in own.select_one("ul.notifications").get_text()

    # a hostile file among good ones: refused, nothing stored, the request stays open
    resp = client.post(url + "/supplement", data={"evidence": [(io.BytesIO(PDF), "执照.pdf"),
                                                               (io.BytesIO(b"MZ\x90\x00" * 64), "证明.pdf")]},
                       content_type="multipart/form-data")
    assert resp.status_code == 415 and "只能上传" in resp.get_data(as_text=True)
    assert stored(rt) == [] and session.execute(select(func.count()).select_from(Evidence)).scalar_one() == 0
    resp = client.post(url + "/supplement", data={}, content_type="multipart/form-data")
    assert resp.status_code == 400 and "请选择要上传的补充材料" in resp.get_data(as_text=True)

    resp = client.post(url + "/supplement", data={"evidence": [(io.BytesIO(PDF), "执照.pdf"), (io.BytesIO(PDF), "证明.pdf")],
                                                  "note": "已补齐"}, content_type="multipart/form-data")
    assert resp.status_code == 303
    session.expire_all()
    fresh = session.get(Case, case.id)
    assert fresh.materials_requested_on is None and fresh.materials_request == ""
    rows = session.execute(select(Evidence).where(Evidence.case_id == case.id)).scalars().all()
    assert [(e.original_name, e.stage) for e in rows] == [("执照.pdf", "supplement"), ("证明.pdf", "supplement")]
    assert len(stored(rt)) == 2
    events = [(e.action, e.role) for e in session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                                          .order_by(CaseEvent.id)).scalars()]
    assert events == [("file", "applicant"), ("request_materials", "department"), ("supplement", "applicant")]
    audit = [a for (a,) in session.execute(select(AuditEvent.action).order_by(AuditEvent.id))]
    assert {"case.request_materials", "case.supplement"} <= set(audit) and audit.count("case.evidence") == 2
    page = BeautifulSoup(client.get(url).data, "html.parser")
    assert page.select("form.supplement") == []
    assert [li.get_text(" ", strip=True) for li in page.select("ul.evidence li")] == ["执照.pdf 补正材料", "证明.pdf 补正材料"]
    timeline = page.select_one("ol.timeline").get_text()
    assert "要求补正材料：请补充营业执照副本和登记证明" in timeline and "申请人补正材料" in timeline
    # the applicant may download its own files; the response is the file
    link = page.select_one("ul.evidence a")["href"]
    got = client.get(link)
    assert got.status_code == 200 and got.data == PDF and got.headers["Cache-Control"] == "no-store"

    # the staff member who asked is told
    login_as(client, None)
    staff_login(client, secret, later=1)
    queue = BeautifulSoup(client.get("/staff/objections").data, "html.parser")
    assert "申请人已补正材料 2 份" in queue.select_one(".staff-notifications").get_text()
    assert queue.select("tr.case-row .tag.materials") == []
    client.post("/staff/notifications/read", data={"back": "/staff/objections"})
    assert BeautifulSoup(client.get("/staff/objections").data, "html.parser").select(".staff-notifications") == []


def test_supplement_refusals(ctx, session, rt, world):
    org, case, _ = world
    var = rt.settings["PORTAL_VAR_DIR"]
    with pytest.raises(ServiceError, match="没有需要补正的材料") as err:
        cases.supplement_evidence(ctx, case, APPLICANT, [("a.pdf", PDF)], var_dir=var)
    assert err.value.status == 409
    with pytest.raises(ServiceError, match="不由您办理"):
        cases.request_materials(ctx, case, role="operator", reason="补充")
    cases.request_materials(ctx, case, role="department", reason="补充登记证明")
    other = cases.Applicant(APPLICANT.iss, "sub-someone-else", "另一人")
    with pytest.raises(ServiceError, match="只有申请人本人") as err:
        cases.supplement_evidence(ctx, case, other, [("a.pdf", PDF)], var_dir=var)
    assert err.value.status == 403
    with pytest.raises(ServiceError, match="最多上传"):
        cases.supplement_evidence(ctx, case, APPLICANT, [(f"{i}.pdf", PDF) for i in range(11)], var_dir=var)
    from portal.services import evidence

    monkey = pytest.MonkeyPatch()
    monkey.setattr(evidence, "MAX_CASE_FILES", 1)
    try:
        with pytest.raises(ServiceError, match="还可上传 1 个"):
            cases.supplement_evidence(ctx, case, APPLICANT, [("a.pdf", PDF), ("b.pdf", PDF)], var_dir=var)
    finally:
        monkey.undo()
    with pytest.raises(ServiceError, match="500 字"):
        cases.supplement_evidence(ctx, case, APPLICANT, [("a.pdf", PDF)], var_dir=var, note="长" * 501)
    assert stored(rt) == []
    cases.decide_objection(ctx, case, "reject", role="department", reason="登记无误")
    cases.decide_objection(ctx, case, "accept", role="applicant")
    assert case.materials_requested_on is None  # the request lapses when the case ends
    with pytest.raises(ServiceError, match="已办结") as err:
        cases.supplement_evidence(ctx, case, APPLICANT, [("a.pdf", PDF)], var_dir=var)
    assert err.value.status == 409
    with pytest.raises(ServiceError):
        cases.request_materials(ctx, case, role="department", reason="再补充")


def test_another_legal_rep_cannot_supplement_on_the_web(client, session, login_as, world):
    """A second legal representative of the same organisation sees the case but is not its applicant."""
    org, case, _ = world
    cases.request_materials(cases_ctx(session, client), case, role="department", reason="补充登记证明")
    session.commit()
    login_as(client, Identity(iss=APPLICANT.iss, sub="sub-new-rep", name="新法人", acr=ACR_FACE, amr=("face",),
                              legal_rep_of=org.code_hash))
    url = f"/me/subjects/{org.public_id}/cases/{case.case_no}"
    assert BeautifulSoup(client.get(url).data, "html.parser").select("form.supplement") == []
    resp = client.post(url + "/supplement", data={"evidence": (io.BytesIO(PDF), "a.pdf")},
                       content_type="multipart/form-data")
    assert resp.status_code == 403 and "只有申请人本人" in resp.get_data(as_text=True)
    assert session.execute(select(func.count()).select_from(Evidence)).scalar_one() == 0


def cases_ctx(session, client):
    return client.application.extensions["portal"].context(session, "staff:dept.cs")
