"""The PDFs of a case (湖南医保 附件1–4; 湖南 第二十八条; 阳山 四（六）): the application at once,
the objection result once decided, the repair confirmation notice once decided; each with the
case number, a document number and a QR code to a public verify page that shows no content.
Served to the subject / legal representative and to staff who may see the case; everybody else
gets 401 / 403 / 404 and no data; every download is in the access log."""
from __future__ import annotations

import dataclasses
import io
from datetime import date
from urllib.parse import urlsplit

import pyotp
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from portal.documents.content import subject_rows
from portal.domain.identifiers import make_resident_id
from portal.models import AuditEvent, CaseDocument
from portal.services import case_documents as docs
from portal.services import cases
from portal.services import staff as staff_svc
from portal.services.authorisations import grant_authorisation
from portal.services.document_issue import issue_once
from portal.services.errors import ServiceError
from portal.services.verifiable import sha256

from .pdf_tools import blank_pdf, flat, pdf_text, qr_codes
from .subject_world import identity
from .verify_page import match_verdict

PASSWORD = "correct horse battery"
ORG = "长沙市开福区仁心诊所"
REP = "钱法人"
STATEMENT = "处罚决定书记载的执业地点有误 CANARY-STATEMENT-5a1c"
TITLE = "未按规定公示收费标准被处罚"
PDF = blank_pdf()
BASE = "http://127.0.0.1:5000"


@dataclasses.dataclass
class World:
    org: object
    rec: object
    rep_code: str
    rep: object  # Identity
    applicant: cases.Applicant
    dept: object  # StaffUser
    dept_secret: str
    staff_ctx: object
    var_dir: str


@pytest.fixture
def world(rt, ctx, session, make_org, make_record, reindex):
    from portal.domain.identifiers import make_uscc

    code = make_uscc("12", "430105", "00004242")
    org = make_org(name=ORG, category="clinic", region_code="430105", code=code, legal_rep=REP)
    rec = make_record(org, title=TITLE, decided_on=date(2026, 3, 9), doc_no="长卫罚〔2026〕31号")
    rep_code = make_resident_id("430105", date(1972, 2, 2), 301)
    rep = identity(rt, REP, resident_id=rep_code, legal_rep_of=code, sub="sub-qian")
    user, uri = staff_svc.create_staff(ctx, "dept.cs", PASSWORD, ["department"], region_code="430100",
                                       display_name="孙科长", authority="长沙市卫生健康委员会")
    reindex()
    return World(org, rec, rep_code, rep, cases.Applicant.of(rep, "legal_rep"), user, pyotp.parse_uri(uri).secret,
                 dataclasses.replace(ctx, actor="staff:dept.cs"), rt.settings["PORTAL_VAR_DIR"])


def objection(ctx, w):
    case = cases.file_objection(ctx, w.org, w.rec, ground="fact_error", statement=STATEMENT, applicant=w.applicant,
                                commitment=True, identity_confirmed=True)
    cases.add_evidence(ctx, case, "处罚决定书.pdf", PDF, var_dir=w.var_dir, uploaded_by=w.applicant.actor)
    return case


def url(w, case, kind):
    return f"/me/subjects/{w.org.public_id}/cases/{case.case_no}/documents/{kind}.pdf"


def get_pdf(client, path):
    resp = client.get(path)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:400]
    assert resp.mimetype == "application/pdf" and "attachment" in resp.headers["Content-Disposition"]
    assert resp.headers["Cache-Control"] == "no-store"
    return resp.data


def latest(session, kind):
    return session.execute(select(CaseDocument).where(CaseDocument.kind == kind)
                           .order_by(CaseDocument.id.desc())).scalars().first()


def web_login(client, username, secret):
    return client.post("/staff/login", data={"username": username, "password": PASSWORD,
                                             "code": pyotp.TOTP(secret).now()})


# --- the objection application ------------------------------------------------------------------

def test_objection_application_pdf(client, ctx, session, login_as, world, tmp_path):
    w = world
    case = objection(ctx, w)
    session.commit()
    login_as(client, w.rep)
    page = BeautifulSoup(client.get(f"/me/subjects/{w.org.public_id}/cases/{case.case_no}").data, "html.parser")
    links = {a["data-kind"]: a["href"] for a in page.select("ul.documents a.document")}
    assert list(links) == ["objection_application"]  # the result comes after a decision
    assert page.select_one(".document-pending")["data-kind"] == "objection_result"
    pdf = get_pdf(client, links["objection_application"])
    text = flat(pdf_text(pdf, tmp_path))
    doc = latest(session, "objection_application")
    for wanted in ("信用信息异议申请书", case.case_no, doc.doc_no, ORG, w.org.credit_code, REP, "法定代表人",
                   "人脸识别实名认证", TITLE, "长卫罚〔2026〕31号", STATEMENT.replace(" ", ""),
                   "信息与事实不符，存在关键信息记载错误或者遗漏", "处罚决定书.pdf", "2026-11-20", "2026-11-25",
                   "《湖南省卫生健康信用信息管理办法（试行）》第二十八条第一、二款", "真实、准确、完整"):
        assert wanted in text, wanted
    assert doc.sha256 == sha256(pdf) and doc.case_id == case.id
    # the same document on every download: number, bytes and hash
    assert get_pdf(client, links["objection_application"]) == pdf
    assert session.execute(select(func.count()).select_from(CaseDocument)).scalar_one() == 1


def test_qr_leads_to_a_verify_page_without_content(client, ctx, session, login_as, world, tmp_path):
    w = world
    case = objection(ctx, w)
    session.commit()
    login_as(client, w.rep)
    pdf = get_pdf(client, url(w, case, "objection_application"))
    doc = latest(session, "objection_application")
    expected = f"{BASE}/verify/document/{doc.doc_no}?t={doc.verify_token}"
    assert qr_codes(pdf, tmp_path) == [expected]
    assert expected in flat(pdf_text(pdf, tmp_path))

    login_as(client, None)  # anyone
    parts = urlsplit(expected)
    resp = client.get(f"{parts.path}?{parts.query}")
    assert resp.status_code == 200 and resp.headers["X-Robots-Tag"] == "noindex"
    html = BeautifulSoup(resp.data, "html.parser")
    assert html.select_one("#verdict")["data-genuine"] == "yes"
    facts = {dt.get_text(): dd.get_text() for dt, dd in zip(html.select("dl.facts dt"), html.select("dl.facts dd"), strict=False)}
    assert facts == {"编号": doc.doc_no, "文书类别": "异议申请书", "出具日期": "2026-11-20", "信用主体": ORG,
                     "文件 SHA-256": doc.sha256}
    body = resp.get_data(as_text=True)
    for secret in (STATEMENT, TITLE, case.case_no, REP, "处罚决定书.pdf"):
        assert secret not in body, secret

    def compare(data: bytes) -> str:
        resp = client.post(parts.path, data={"t": doc.verify_token, "file": (io.BytesIO(data), "x.pdf")},
                           content_type="multipart/form-data")
        assert resp.status_code == 200
        return match_verdict(resp)

    assert compare(pdf) == "yes"
    assert compare(pdf[:-20] + b"tampered-document!!!") == "no"
    for bad in (f"{parts.path}?t=wrong", parts.path, f"/verify/document/YYSQ20261120ZZZZZZZZ?t={doc.verify_token}",
                "/verify/document/" + "X" * 300):
        resp = client.get(bad)
        assert resp.status_code == 404
        assert BeautifulSoup(resp.data, "html.parser").select_one("#verdict")["data-genuine"] == "no"
        assert ORG not in resp.get_data(as_text=True)


def test_person_subject_shows_masked_id_and_no_name_on_verify(client, rt, ctx, session, login_as, make_person,
                                                             make_record, tmp_path):
    code = make_resident_id("430102", date(1983, 8, 8), 777)
    doctor = make_person(name="欧阳修远", code=code)
    rec = make_record(doctor, title="医师超范围执业", decided_on=date(2026, 2, 2))
    me = identity(rt, "欧阳修远", resident_id=code, sub="sub-ouyang")
    case = cases.file_objection(ctx, doctor, rec, ground="fact_error", statement="执业范围记载有误",
                                applicant=cases.Applicant.of(me, "self"), commitment=True, identity_confirmed=True)
    session.commit()
    login_as(client, me)
    pdf = get_pdf(client, f"/me/subjects/{doctor.public_id}/cases/{case.case_no}/documents/objection_application.pdf")
    text = flat(pdf_text(pdf, tmp_path))
    assert doctor.code_masked in text and code not in text and "（本人）" in text
    doc = latest(session, "objection_application")
    login_as(client, None)
    body = client.get(f"/verify/document/{doc.doc_no}?t={doc.verify_token}").get_data(as_text=True)
    assert "欧阳修远" not in body and "欧*" not in body and code not in body and doctor.code_masked not in body
    assert "自然人（不显示姓名）" in body


# --- the objection result -----------------------------------------------------------------------

def test_objection_result_after_each_decision(client, ctx, session, login_as, world, tmp_path):
    """湖南 第二十八条: rejected with written reasons, the applicant may ask for review; the review
    result is a second document, the first one stays genuine."""
    w = world
    case = objection(ctx, w)
    session.commit()
    login_as(client, w.rep)
    resp = client.get(url(w, case, "objection_result"))
    assert resp.status_code == 404 and "作出处理决定后出具" in resp.get_data(as_text=True)
    assert client.get(url(w, case, "repair_decision")).status_code == 404  # not a document of objections
    assert client.get(url(w, case, "nonsense")).status_code == 404

    cases.decide_objection(w.staff_ctx, case, "reject", role="department", reason="经核查，处罚决定书记载的执业地点无误")
    session.commit()
    first = flat(pdf_text(get_pdf(client, url(w, case, "objection_result")), tmp_path))
    doc1 = latest(session, "objection_result")
    for wanted in ("信用信息异议处理结果告知书", case.case_no, doc1.doc_no, "异议不成立，申请人可申请复核",
                   "经核查，处罚决定书记载的执业地点无误", "该信用信息维持不变", "向上一级卫生健康行政部门提出复核",
                   "孙科长", "长沙市卫生健康委员会", "《湖南省卫生健康信用信息管理办法（试行）》第二十八条"):
        assert wanted in first, wanted

    cases.decide_objection(ctx, case, "request_review", role="applicant", reason="执业地点记载有误")
    cases.decide_objection(w.staff_ctx, case, "uphold", role="reviewer", reason="复核认为地点记载错误",
                           changes={"title": "未按规定公示收费标准被处罚（地点已更正）"})
    session.commit()
    second = flat(pdf_text(get_pdf(client, url(w, case, "objection_result")), tmp_path))
    doc2 = latest(session, "objection_result")
    assert doc2.doc_no != doc1.doc_no and doc2.event_id > doc1.event_id
    assert "复核认为地点记载错误" in second and "已更正" in second and "（地点已更正）" in second
    assert "本异议申请已办结" in second
    login_as(client, None)
    for d in (doc1, doc2):
        assert client.get(f"/verify/document/{d.doc_no}?t={d.verify_token}").status_code == 200


# --- the repair documents -----------------------------------------------------------------------

@pytest.fixture
def serious(ctx, world, make_record):
    return make_record(world.org, record_type="serious_list", title="骗取医保基金列入严重失信名单", severity="serious",
                       decided_on=date(2025, 6, 2), publish_until=date(2027, 6, 1))


def repair(ctx, w, record):
    return cases.apply_repair(ctx, w.org, record, statement="已全额退回并完成整改", applicant=w.applicant,
                              commitment=True, identity_confirmed=True)


def test_repair_application_and_confirmation_notice(client, ctx, session, login_as, world, serious, tmp_path):
    w = world
    case = repair(ctx, w, serious)
    session.commit()
    login_as(client, w.rep)
    application = flat(pdf_text(get_pdf(client, url(w, case, "repair_application")), tmp_path))
    for wanted in ("信用修复申请书", case.case_no, ORG, w.org.credit_code, "骗取医保基金列入严重失信名单",
                   "达到最短公示期限", "符合（系统按信用记录核对）", "已全额退回并完成整改", "信用修复不收取任何费用",
                   "2026-12-04"):
        assert wanted in application, wanted
    assert client.get(url(w, case, "repair_decision")).status_code == 404

    cases.advance_repair(w.staff_ctx, case, "approve", role="department", reason="整改材料齐全")
    assert client.get(url(w, case, "repair_decision")).status_code == 404  # 公示 first, then the decision
    # 湖南 第三十条（四）: the decision after the notice 11-23..11-27 has ended
    cases.advance_repair(dataclasses.replace(w.staff_ctx, today=date(2026, 11, 30)), case, "no_objection",
                         role="department")
    session.commit()
    notice = flat(pdf_text(get_pdf(client, url(w, case, "repair_decision")), tmp_path))
    doc = latest(session, "repair_decision")
    # 附件4: 编号, subject, code, legal representative, the item, findings, 予以修复, handler, date
    for wanted in ("信用修复确认通知书", "编号", doc.doc_no, case.case_no, ORG, w.org.credit_code, REP,
                   "骗取医保基金列入严重失信名单", "修复条件认定情况", "自2025-06-02起已公示17个月又29天（公示期至2027-06-01）", "2026-11-20至2026-11-30在本平台“信用修复公示”栏目公示", "公示期间本平台未收到异议",
                   "■予以修复□不予修复", "孙科长", "2026-11-30", "停止披露相关失信信息"):
        assert wanted in notice, wanted


def test_refused_repair_notice(client, ctx, session, login_as, world, serious, tmp_path):
    w = world
    case = repair(ctx, w, serious)
    cases.advance_repair(w.staff_ctx, case, "refuse", role="department", reason="退赔尚未完成")
    session.commit()
    login_as(client, w.rep)
    notice = flat(pdf_text(get_pdf(client, url(w, case, "repair_decision")), tmp_path))
    assert "□予以修复■不予修复" in notice and "退赔尚未完成" in notice and "修复效果" not in notice


def test_hunan_mi_uses_the_form_names(tmp_path):
    """湖南医保 附件1–4 name the forms; 阳山 四（六）the 广东 notice; others use ours."""
    from portal.profiles import load_profile

    names = {p: {k: docs.title_for(load_profile(p), k) for k in docs.KINDS}
             for p in ("hunan", "hunan-mi", "hainan", "guangdong", "jiangsu")}
    assert names["hunan-mi"] == {
        "objection_application": "湖南省医疗保障信用异议信息处理申请表",
        "objection_result": "湖南省医疗保障信用异议信息处理结果反馈单",
        "repair_application": "湖南省医疗保障信用修复申请表",
        "repair_decision": "湖南省医疗保障信用修复确认通知书"}
    assert names["guangdong"]["repair_decision"] == "广东省医疗卫生信用修复确认通知书"
    assert names["hunan"] == {"objection_application": "信用信息异议申请书", "objection_result": "信用信息异议处理结果告知书",
                              "repair_application": "信用修复申请书", "repair_decision": "信用修复确认通知书"}
    assert names["hainan"]["repair_application"] == "信用修复申请书"


# --- who may download ---------------------------------------------------------------------------

def test_who_may_download(client, rt, ctx, session, login_as, world, make_org):
    w = world
    case = objection(ctx, w)
    cases.decide_objection(w.staff_ctx, case, "reject", role="department", reason="记载无误")
    grantee_code = make_resident_id("430103", date(1990, 9, 9), 555)
    grant_authorisation(ctx, w.org, grantee_kind="person", grantee_code=grantee_code, grantee_name="李授权",
                        purpose="贷款审批", info_classes=["basic", "positive", "dishonest", "serious"],
                        valid_from=date(2026, 11, 20), valid_until=date(2026, 12, 31))
    other = make_org(name="别家诊所", region_code="430105")
    _, uri_far = staff_svc.create_staff(ctx, "dept.zz", PASSWORD, ["department"], region_code="430200")
    session.commit()
    paths = [url(w, case, k) for k in ("objection_application", "objection_result")]
    paths.append(f"/me/subjects/{w.org.public_id}/cases/{case.case_no}")
    paths.append(f"/me/subjects/{w.org.public_id}/cases/{case.case_no}/evidence/{case.evidence[0].id}")
    visitors = {
        "anonymous": (None, 401),
        "stranger": (identity(rt, "路人甲", resident_id=make_resident_id("430102", date(1991, 1, 1), 11)), 404),
        "legal_rep_of_another_org": (identity(rt, "别家法人", legal_rep_of=other.credit_code), 404),
        "grantee": (identity(rt, "李授权", resident_id=grantee_code), 403),
        "password_only_rep": (dataclasses.replace(w.rep, acr="urn:health-credit:acr:password", amr=("pwd",)), 302),
    }
    for name, (who, status) in visitors.items():
        login_as(client, who)
        for path in paths:
            resp = client.get(path)
            assert resp.status_code == status, (name, path, resp.status_code)
            body = resp.get_data(as_text=True)
            assert resp.mimetype != "application/pdf"
            assert STATEMENT not in body and TITLE not in body, (name, path)
            # the case number may appear only in the return address the visitor typed (login link, redirect)
            if status != 302:
                assert case.case_no not in BeautifulSoup(body, "html.parser").get_text(), (name, path)
    # staff: not logged in → login; another region → 404; the handling department → the PDF
    login_as(client, None)
    staff_path = f"/staff/cases/{case.case_no}/documents/objection_result.pdf"
    assert client.get(staff_path).status_code == 302
    web_login(client, "dept.zz", pyotp.parse_uri(uri_far).secret)
    resp = client.get(staff_path)
    assert resp.status_code == 404 and STATEMENT not in resp.get_data(as_text=True)
    client.post("/staff/logout")
    web_login(client, "dept.cs", w.dept_secret)
    page = BeautifulSoup(client.get(f"/staff/cases/{case.case_no}").data, "html.parser")
    assert {a["data-kind"] for a in page.select("ul.documents a.document")} == {"objection_application",
                                                                                 "objection_result"}
    assert get_pdf(client, staff_path).startswith(b"%PDF")
    assert client.get(f"/staff/cases/{case.case_no}/documents/repair_decision.pdf").status_code == 404


def test_downloads_are_in_the_access_log(client, ctx, session, login_as, world):
    w = world
    case = objection(ctx, w)
    session.commit()
    web_login(client, "dept.cs", w.dept_secret)
    assert client.get(f"/staff/cases/{case.case_no}").status_code == 200
    get_pdf(client, f"/staff/cases/{case.case_no}/documents/objection_application.pdf")
    client.post("/staff/logout")
    login_as(client, w.rep)
    get_pdf(client, url(w, case, "objection_application"))
    events = session.execute(select(AuditEvent).where(AuditEvent.action == "private.view",
                                                      AuditEvent.subject_id == w.org.id)
                             .order_by(AuditEvent.id)).scalars().all()
    downloads = [(e.actor, e.detail["via"]) for e in events if e.detail.get("what") == "case_document"]
    assert downloads == [("staff:dept.cs", "staff"), (f"user:{w.rep.sub}", "legal_rep")]
    doc = latest(session, "objection_application")
    assert all(e.object_ref == f"document:{doc.doc_no}" for e in events if e.detail.get("what") == "case_document")
    html = BeautifulSoup(client.get(f"/me/subjects/{w.org.public_id}/access-log").data, "html.parser")
    rows = [[td.get_text(" ", strip=True) for td in tr.select("td")] for tr in html.select("table.access-log tbody tr")]
    assert any(r[1] == "孙科长" and r[2] == "监管工作人员" and r[3] == "下载异议/信用修复文书" for r in rows), rows
    assert any(r[1] == REP and r[2] == "法定代表人" and r[3] == "下载异议/信用修复文书" for r in rows), rows
    assert any(r[1] == "孙科长" and r[3] == "查看异议/信用修复申请" for r in rows), rows  # the case page itself
    issued = session.execute(select(AuditEvent).where(AuditEvent.action == "case.document")).scalars().all()
    assert len(issued) == 1  # issued once, downloaded twice


def test_service_refuses_unknown_and_premature(ctx, world):
    w = world
    case = objection(ctx, w)
    for kind, match in (("repair_decision", "没有这种文书"), ("objection_result", "尚未出具"), ("x", "没有这种文书")):
        with pytest.raises(ServiceError, match=match) as err:
            docs.case_document(ctx, case, kind, base_url=BASE)
        assert err.value.status == 404


def test_cli_writes_the_document(app, rt, ctx, session, world, tmp_path):
    from portal.cli import main

    w = world
    case = objection(ctx, w)
    session.commit()
    target = tmp_path / "out.pdf"
    result = app.test_cli_runner().invoke(main, ["cases", "document", case.case_no, "objection_application",
                                                 "--output", str(target)],
                                          env={k: v for k, v in rt.settings.items() if v})
    assert result.exit_code == 0, result.output
    doc = latest(session, "objection_application")
    assert target.read_bytes() == doc.pdf and doc.doc_no in result.output
    bad = app.test_cli_runner().invoke(main, ["cases", "document", case.case_no, "objection_result",
                                              "--output", str(tmp_path / "x.pdf")],
                                       env={k: v for k, v in rt.settings.items() if v})
    assert bad.exit_code != 0 and "尚未出具" in bad.output
    logged = session.execute(select(AuditEvent).where(AuditEvent.action == "private.view",
                                                      AuditEvent.actor == "staff:cli")).scalars().all()
    assert [e.detail["what"] for e in logged] == ["case_document"]


@pytest.mark.parametrize("pid", ["hunan-mi", "hainan"])
def test_other_profiles_render_their_documents(pid, tmp_path):
    """湖南医保: the 附件 names and a 5-WD 公示 step with its own limit; 海南: forward / accept /
    investigate are no decisions, the operator's final review is."""
    from portal import create_app
    from portal.db.migrate import upgrade
    from portal.domain.identifiers import make_uscc
    from portal.services.records import add_record
    from portal.services.subjects import register_subject

    app = create_app({"PORTAL_VAR_DIR": str(tmp_path / "var"), "PORTAL_TODAY": "2026-11-20",
                      "SEARCH_URL": "memory://", "PORTAL_PROFILE": pid})
    rt = app.extensions["portal"]
    upgrade(rt.engine)
    session = rt.sessions()
    try:
        ctx = rt.context(session, "test")
        region = rt.profile.leaf_regions()[0].code
        org = register_subject(ctx, kind="org", name="某某大药房", code=make_uscc("91", region, "00000088"),
                               category="pharmacy", region_code=region, legal_rep="冯法人")
        rec = add_record(ctx, org, record_type="penalty", severity="general", title="串换药品被处理",
                         decided_on=date(2026, 3, 2), authority="某市医疗保障局")
        applicant = cases.Applicant("https://idp", "sub-feng", "冯法人", "legal_rep", "")
        obj = cases.file_objection(ctx, org, rec, ground="fact_error", statement="数量记载有误", applicant=applicant,
                                   commitment=True, identity_confirmed=True)
        if pid == "hainan":
            for action, role in (("forward", "operator"), ("accept", "provider"), ("decide", "provider")):
                cases.decide_objection(ctx, obj, action, role=role, reason="")
                with pytest.raises(ServiceError, match="尚未出具"):
                    docs.case_document(ctx, obj, "objection_result", base_url=BASE)
            cases.decide_objection(ctx, obj, "keep", role="operator", reason="经复核，原信息无误")
        else:
            cases.decide_objection(ctx, obj, "reject", role="department", reason="经核查无误")
        result = flat(pdf_text(docs.case_document(ctx, obj, "objection_result", base_url=BASE).pdf, tmp_path))
        assert ("湖南省医疗保障信用异议信息处理结果反馈单" if pid == "hunan-mi" else "信用信息异议处理结果告知书") in result
        assert ("经复核，原信息无误" if pid == "hainan" else "经核查无误") in result and "本异议申请已办结" in result
        rep = cases.apply_repair(ctx, org, rec, statement="已退回并整改", applicant=applicant, commitment=True,
                                 identity_confirmed=True)
        if pid == "hainan":
            cases.advance_repair(ctx, rep, "accept", role="department")
        cases.advance_repair(ctx, rep, "approve", role="department")
        later = dataclasses.replace(ctx, today=date(2026, 11, 30))  # the notice ended on 11-27
        cases.advance_repair(later, rep, "no_objection", role="department")
        notice = flat(pdf_text(docs.case_document(later, rep, "repair_decision", base_url=BASE).pdf, tmp_path))
        title = "湖南省医疗保障信用修复确认通知书" if pid == "hunan-mi" else "信用修复确认通知书"
        for wanted in (title, "某某大药房", "冯法人", "串换药品被处理", "■予以修复□不予修复"):
            assert wanted in notice, wanted
        effect = "撤销对信用主体失信记录的公示，但不撤销失信记录" if pid == "hunan-mi" else "移出严重失信主体名单"
        assert effect in notice
        # issue 14: the regulation by its full name, no profile key, no other place's draft, no "。。"
        application = flat(pdf_text(docs.case_document(later, rep, "repair_application", base_url=BASE).pdf, tmp_path))
        for text in (result, notice, application):
            assert rt.profile.document.split("》")[0] + "》" in text
            for bad in ("。。", "，，", "hunan", "hainan", "jiangsu", "guangdong", "None"):
                assert bad not in text, bad
            if pid != "hainan":
                assert "海南" not in text
    finally:
        session.close()
        rt.engine.dispose()


# --- the issuing helper shared with the list procedure documents (services.document_issue) ---------
# One (case, kind, event) is drawn once, numbered and hashed; later calls return the stored bytes;
# the party block (documents.content.subject_rows) and the verification header are one drawing.

def test_issue_once_draws_once_and_every_later_call_returns_the_stored_bytes(ctx, session, world, tmp_path):
    case = objection(ctx, world)
    session.commit()
    event = docs.filing_event(ctx, case)
    drawn = []

    def content():
        drawn.append(1)
        return docs.objection_application_content(ctx, case)

    kw = dict(prefix=docs.PREFIX[docs.OBJECTION_APPLICATION], case_id=case.id, kind=docs.OBJECTION_APPLICATION,
              event_id=event.id, content=content, base_url=BASE)
    first, new = issue_once(ctx, CaseDocument, **kw)
    session.commit()
    again, new_again = issue_once(ctx, CaseDocument, **kw)
    assert (new, new_again) == (True, False) and drawn == [1]
    assert again.id == first.id and again.pdf == first.pdf and first.sha256 == sha256(first.pdf)
    # the case documents' own verb hands out the same stored row
    assert docs.case_document(ctx, case, docs.OBJECTION_APPLICATION, base_url=BASE).id == first.id
    text = flat(pdf_text(first.pdf, tmp_path))
    for label, value in subject_rows(world.org):
        assert flat(label) in text and flat(value) in text
    assert ORG in text and first.doc_no in text and "扫描二维码或访问核验网址可核验本文书真伪" in text
