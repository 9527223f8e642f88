"""Issue 14: every sentence of a generated document states a stored fact.

One test per document kind (objection application, objection result, repair application, repair
confirmation, credit report) reads the real PDF (pdftotext) and checks each factual sentence
against the case and the record: publication periods from the record's window clipped to the
decision day, the public notice only for the days the public 信用修复公示 page listed the case
(checked by fetching that page on each day), regulations by full name, never a profile key, and
no doubled punctuation anywhere.
"""
from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup

from portal.documents.citations import cite, regulation_name
from portal.services import case_documents as docs
from portal.services import cases

from . import test_case_documents as _documents
from .pdf_tools import flat, pdf_text
from .test_case_documents import BASE, STATEMENT, get_pdf, latest, objection, url

world = _documents.world  # the same fixture: a case world of the case-document tests

HUNAN = "《湖南省卫生健康信用信息管理办法（试行）》"
# Never in a document: profile keys, shorthand citations, doubled punctuation, empty values.
FORBIDDEN = ("。。", "，，", "；；", "hunan", "hainan", "jiangsu", "guangdong", "None", "评分表",
             "湖南第", "海南", "征求意见稿", "可编辑默认值")


def clean(text: str) -> str:
    for bad in FORBIDDEN:
        assert bad not in text, bad
    return text


def repair_case(ctx, w, record):
    return cases.apply_repair(ctx, w.org, record, statement="已全额退回并完成整改", applicant=w.applicant,
                              commitment=True, identity_confirmed=True)


def listed_on(client, rt, case_no: str, day: date) -> bool:
    """Does the public 信用修复公示 page list the case on ``day``?"""
    rt.settings["PORTAL_TODAY"] = day.isoformat()
    try:
        page = client.get("/repair-notices").get_data(as_text=True)
    finally:
        rt.settings["PORTAL_TODAY"] = "2026-11-20"
    return case_no in page


# --- citations (pure) ---------------------------------------------------------------------------

def test_citations_use_the_full_name_and_drop_borrowed_ones():
    doc = "《湖南省卫生健康信用信息管理办法（试行）》（湘卫发〔2025〕11号）"
    assert regulation_name(doc) == HUNAN
    assert cite("湖南 第二十八条", doc) == f"{HUNAN}第二十八条"
    assert cite("湖南 第四条（不得泄露个人隐私）；海南 第二十七条（实名认证）", doc) == f"{HUNAN}第四条（不得泄露个人隐私）"
    assert cite("海南 第四十一条", doc) == f"{HUNAN}未作具体规定，为本平台执行的做法"
    assert cite("湖南 第五条、第十七条（评定指标体系由省级制定；此处为可编辑默认值）", doc) == f"{HUNAN}第五条、第十七条"
    assert cite("国办发〔2025〕22号（一般：3个月至1年）；海南 第二十条", doc) == "国办发〔2025〕22号（一般：3个月至1年）"
    mi = "《湖南省医疗保障信用管理暂行办法》（征求意见稿）"
    assert cite("湖南医保 第二十五条第二款；湖南 第三十条", mi) == f"{mi}第二十五条第二款"
    hainan = "《海南省医疗卫生信用信息管理办法（试行）》（征求意见稿）"
    assert cite("海南 第二十七条", hainan) == f"{hainan}第二十七条"


# --- the objection application and result ---------------------------------------------------------

def test_objection_application_states_the_case_and_record(client, ctx, session, login_as, world, tmp_path):
    w = world
    case = objection(ctx, w)
    session.commit()
    login_as(client, w.rep)
    text = clean(flat(pdf_text(get_pdf(client, url(w, case, "objection_application")), tmp_path)))
    filing = docs.filing_event(ctx, case)
    rec = w.rec
    ground = ctx.profile.objection.ground(case.ground)
    for fact in (f"收到日期{case.received_on}", f"决定日期{rec.decided_on}", f"决定文书号{rec.doc_no}",
                 f"认定（提供）单位{rec.authority}", f"公示期{rec.publish_from}至{rec.publish_until or '长期'}",
                 f"异议情形{ground.label}（{HUNAN}", STATEMENT.replace(" ", ""), f"办理期限至{filing.due_on}",
                 f"依据：{HUNAN}"):
        assert fact in text, fact


def test_objection_result_states_the_decision(client, ctx, session, login_as, world, tmp_path):
    w = world
    case = objection(ctx, w)
    decided = dataclasses.replace(w.staff_ctx, today=date(2026, 11, 23))
    cases.decide_objection(decided, case, "reject", role="department", reason="经核查，处罚决定书记载的执业地点无误")
    session.commit()
    login_as(client, w.rep)
    text = clean(flat(pdf_text(get_pdf(client, url(w, case, "objection_result")), tmp_path)))
    event = docs.decision_event(ctx, case)
    machine = cases.machine_for(ctx.profile, case.kind)
    for fact in (f"收到日期{case.received_on}", f"处理结论{machine.step(event.to_state).label}",
                 "理由经核查，处罚决定书记载的执业地点无误", "信息处理情况该信用信息维持不变",
                 "经办人孙科长", "办理单位长沙市卫生健康委员会", f"处理日期{event.on}", "处理日期2026-11-23"):
        assert fact in text, fact


# --- the repair application and confirmation -------------------------------------------------------

@pytest.fixture
def serious(world, make_record):
    return make_record(world.org, record_type="serious_list", title="骗取医保基金列入严重失信名单", severity="serious",
                       decided_on=date(2025, 6, 2), publish_until=date(2027, 6, 1))


def test_repair_application_states_the_record(client, ctx, session, login_as, world, serious, tmp_path):
    w = world
    case = repair_case(ctx, w, serious)
    session.commit()
    login_as(client, w.rep)
    text = clean(flat(pdf_text(get_pdf(client, url(w, case, "repair_application")), tmp_path)))
    for fact in (f"申请日期{case.received_on}", f"决定日期{serious.decided_on}",
                 f"公示期{serious.publish_from}至{serious.publish_until}", "申请人说明已全额退回并完成整改",
                 f"信用修复不收取任何费用（{HUNAN}"):
        assert fact in text, fact


def test_repair_confirmation_states_the_notice_the_public_saw(client, rt, ctx, session, login_as, world, serious,
                                                               tmp_path):
    w = world
    case = repair_case(ctx, w, serious)
    cases.advance_repair(w.staff_ctx, case, "approve", role="department", reason="整改材料齐全")
    session.commit()
    entered = case.step_entered_on
    decided_on = date(2026, 11, 30)
    shown = [d for d in (entered + timedelta(days=i) for i in range((decided_on - entered).days))
             if listed_on(client, rt, case.case_no, d)]
    assert shown and shown[0] == entered  # the page listed it from the first day
    cases.advance_repair(dataclasses.replace(w.staff_ctx, today=decided_on), case, "no_objection", role="department")
    session.commit()
    assert not listed_on(client, rt, case.case_no, decided_on + timedelta(days=1))  # decided: off the page
    login_as(client, w.rep)
    text = clean(flat(pdf_text(get_pdf(client, url(w, case, "repair_decision")), tmp_path)))
    start, until = serious.publish_from, serious.publish_until
    for fact in (f"截至{decided_on}，该失信信息自{start}起已公示17个月又29天（公示期至{until}）",
                 f"自该失信信息认定之日（{serious.decided_on}）至{decided_on}，本平台未记录该主体新的同类失信信息",
                 f"该修复申请于{entered}至{decided_on}在本平台“信用修复公示”栏目公示",
                 f"（{HUNAN}第三十条（三）（四）：公示期不少于5个工作日）", "公示期间本平台未收到异议",
                 f"日期{decided_on}", "■予以修复□不予修复"):
        assert fact in text, fact


def test_repair_confirmation_never_claims_a_notice_nobody_saw(client, rt, ctx, session, login_as, world,
                                                               make_record, tmp_path):
    """The issue's case: publication ended 2026-06-22 (3 months), so a public notice would disclose
    a non-public record (湖南 第四条): no notice is held, the case says so (event, pages) and the
    decision is made at once; the letter states exactly that, never "已公示 8 个月" or "公示期间无异议"."""
    from .test_case_documents import web_login

    w = world
    ended = make_record(w.org, title="未按规定开展院感监测被处罚", decided_on=date(2026, 3, 23),
                        publish_until=date(2026, 6, 22))
    case = repair_case(ctx, w, ended)
    cases.advance_repair(w.staff_ctx, case, "approve", role="department", reason="整改材料齐全")
    session.commit()
    assert case.state == "notice" and case.earliest_on is None  # no notice period
    waived = [e for e in case.events if e.action == "notice_waived"]
    assert len(waived) == 1 and waived[0].on == date(2026, 11, 20)
    assert "该失信信息的公示期已于 2026-06-22 届满，修复公示将披露非公开信息，依湖南 第四条" in waived[0].reason
    assert not any(listed_on(client, rt, case.case_no, date(2026, 11, 20) + timedelta(days=i)) for i in range(10))
    # the staff page says what happened, and offers no "objection during the notice"
    web_login(client, "dept.cs", w.dept_secret)
    staff = BeautifulSoup(client.get(f"/staff/cases/{case.case_no}").get_data(as_text=True), "html.parser")
    assert "不予公示（该信息已不再公示），待作出信用修复决定" in staff.select_one(".case-state").get_text()
    assert "修复公示将披露非公开信息" in staff.get_text() and "公示期满" not in staff.select_one("dl").get_text()
    options = [label.get_text(" ", strip=True) for label in staff.select("form.case-actions label")
               if label.select_one("input[name=action]")]
    assert options == ["未经公示（依规不予公示），作出信用修复决定"]  # no "公示期满无异议", no objection
    timeline = staff.select_one("ol.timeline").get_text()
    assert "符合修复条件（依规不予公示）" in timeline and "“信用修复公示”页面公示" not in timeline
    # decided the same day: nothing to wait for
    cases.advance_repair(w.staff_ctx, case, "no_objection", role="department")
    session.commit()
    timeline = BeautifulSoup(client.get(f"/staff/cases/{case.case_no}").get_data(as_text=True),
                             "html.parser").select_one("ol.timeline").get_text()
    assert "未经公示（依规不予公示），作出信用修复决定" in timeline and "无异议" not in timeline
    client.post("/staff/logout")
    login_as(client, w.rep)
    own = BeautifulSoup(client.get(f"/me/subjects/{w.org.public_id}/cases/{case.case_no}").get_data(as_text=True),
                        "html.parser").select_one("ol.timeline").get_text()
    assert "不予公示：该失信信息的公示期已于 2026-06-22 届满，修复公示将披露非公开信息" in own
    assert "不予公示（该信息已不再公示），待作出信用修复决定" in own and "“信用修复公示”页面公示" not in own
    text = clean(flat(pdf_text(get_pdf(client, url(w, case, "repair_decision")), tmp_path)))
    assert f"该失信信息自{ended.publish_from}起公示，公示期已于2026-06-22届满（共公示3个月）" in text
    assert ("本案于2026-11-20审核通过时，该失信信息的公示期已于2026-06-22届满，修复公示将披露非公开信息，"
            f"依据{HUNAN}第四条，本案不予公示，未设公示期，于2026-11-20径行作出修复决定"
            f"（{HUNAN}第三十条（三）（四））") in text
    for wrong in ("8个月", "栏目公示，", "公示期间本平台未收到异议", "无异议", "公示期不少于"):
        assert wrong not in text, wrong


# --- the credit report --------------------------------------------------------------------------

def test_credit_report_cites_the_active_regulation(client, ctx, session, login_as, world, serious, tmp_path):
    from portal.services.grading import compute_grades

    w = world
    compute_grades(ctx, 2025)
    session.commit()
    login_as(client, w.rep)
    resp = client.post(f"/me/subjects/{w.org.public_id}/report.pdf")  # issued on POST (CsrfClient sends the token)
    assert resp.status_code == 200
    text = clean(flat(pdf_text(resp.data, tmp_path)))
    assert f"仅供信用主体本人使用（{HUNAN}第四条（不得泄露个人隐私））" in text
    assert f"依据{HUNAN}第五条、第十七条的信用评价规则（具体分值为本平台执行的默认标准）" in text
    for rec in (w.rec, serious):
        assert f"{rec.publish_from}至{rec.publish_until or '长期'}" in text


def test_every_profile_report_cites_only_its_own_regulation(tmp_path):
    """海南 第二十七条 was printed on every profile's report; now each cites its own article or says
    its regulation does not specify it."""
    from portal.profiles.loader import load_profile
    from portal.services.reports import _grade_basis

    for pid in ("hunan", "hunan-mi", "hainan", "jiangsu", "guangdong"):
        profile = load_profile(pid)
        basis = cite(profile.display.article_for("assurance_level_for_private"), profile.document)
        assert basis.startswith(regulation_name(profile.document)), (pid, basis)
        if pid != "hainan":
            assert "海南" not in basis and "海南" not in _grade_basis(profile, None)


def test_verify_page_soup_has_no_green_verdict_on_mismatch(client, ctx, session, login_as, world, tmp_path):
    import io

    w = world
    case = objection(ctx, w)
    session.commit()
    login_as(client, w.rep)
    get_pdf(client, url(w, case, "objection_application"))
    doc = latest(session, "objection_application")
    login_as(client, None)
    resp = client.post(f"/verify/document/{doc.doc_no}", data={"t": doc.verify_token,
                                                                "file": (io.BytesIO(b"%PDF-1.4 forged"), "x.pdf")},
                       content_type="multipart/form-data")
    html = BeautifulSoup(resp.data, "html.parser")
    banners = html.select(".banner")
    assert len(banners) == 1 and "bad" in banners[0]["class"] and "真实有效" not in html.get_text()


@pytest.mark.parametrize("pid", ["hunan", "hunan-mi", "hainan", "jiangsu", "guangdong"])
def test_every_profile_documents_cite_their_own_regulation(pid, tmp_path):
    """The applications and the credit report under each profile: the regulation by its full name,
    no profile key, no other place's draft (海南 第四十一条 / 第二十七条 were printed under every
    profile), no doubled punctuation."""
    from portal import create_app
    from portal.db.migrate import upgrade
    from portal.domain.identifiers import make_uscc
    from portal.permissions import Decision, Via
    from portal.services.records import add_record
    from portal.services.reports import generate_report
    from portal.services.subjects import register_subject

    from .subject_world import identity

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
                         decided_on=date(2026, 3, 2), authority="某市卫生健康委员会")
        applicant = cases.Applicant("https://idp", "sub-feng", "冯法人", "legal_rep", "")
        obj = cases.file_objection(ctx, org, rec, ground="fact_error", statement="数量记载有误", applicant=applicant,
                                   commitment=True, identity_confirmed=True)
        texts = [flat(pdf_text(docs.case_document(ctx, obj, "objection_application", base_url=BASE).pdf, tmp_path))]
        rep = cases.apply_repair(ctx, org, rec, statement="已退回并整改", applicant=applicant, commitment=True,
                                 identity_confirmed=True)
        texts.append(flat(pdf_text(docs.case_document(ctx, rep, "repair_application", base_url=BASE).pdf, tmp_path)))
        who = identity(rt, "冯法人")
        decision = Decision(True, "", via=Via.LEGAL_REP, purpose="本人查询")
        _, pdf = generate_report(ctx, org, who, decision, BASE)
        texts.append(flat(pdf_text(pdf, tmp_path)))
        name = regulation_name(rt.profile.document)
        for text in texts:
            assert name in text
            for bad in ("。。", "，，", "hunan", "hainan", "jiangsu", "guangdong", "None", "可编辑默认值", "评分表"):
                assert bad not in text, bad
            if pid != "hainan":
                assert "海南" not in text
            if not rt.profile.document_draft:
                assert "征求意见稿" not in text
    finally:
        session.close()
        rt.engine.dispose()
