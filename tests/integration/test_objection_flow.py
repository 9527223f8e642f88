"""Objections end to end through the services (湖南 第二十六–二十八条)."""
from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.models import AuditEvent, Case, CaseEvent, CreditRecord, IndexJob, Notification
from portal.services import cases, indexing
from portal.services.errors import ServiceError

from .pdf_tools import blank_pdf

APPLICANT = cases.Applicant("https://idp.example.test", "sub-rep", "王法人")


@pytest.fixture
def world(make_org, make_record, reindex):
    org = make_org(name="长沙市雨花区康宁诊所", category="clinic")
    rec = make_record(org, title="超范围执业被处罚", decided_on=date(2026, 10, 9))
    reindex()
    return org, rec


def file(ctx, org, rec, **kw):
    args = dict(ground="fact_error", statement="处罚决定书记载的执业范围有误", applicant=APPLICANT, commitment=True,
                identity_confirmed=True)
    return cases.file_objection(ctx, org, rec, **{**args, **kw})


def _markers(client, org):
    soup = BeautifulSoup(client.get(f"/facility/{org.public_id}").get_data(as_text=True), "html.parser")
    return [t.get_text() for t in soup.select(".tag.case")]


def test_file_sets_due_date_number_and_marker(ctx, session, client, world, make_record):
    org, rec = world
    case = file(ctx, org, rec)
    session.commit()
    assert case.case_no == "YY-2026-000001"
    assert case.state == "verify" and case.received_on == date(2026, 11, 20)
    assert case.due_on == date(2026, 11, 25)  # Friday receipt + 3 WD: Mon, Tue, Wed
    assert [e.action for e in case.events] == ["file"]
    assert session.execute(select(Notification).where(Notification.subject_id == org.id)).scalar_one()
    assert session.execute(select(AuditEvent).where(AuditEvent.action == "case.file")).scalar_one()
    assert _markers(client, org) == ["异议处理中"]
    with pytest.raises(ServiceError, match="正在办理"):
        file(ctx, org, rec)
    assert cases.file_objection(ctx, org, make_record(org, title="另一处罚"), ground="expired", statement="s",
                                applicant=APPLICANT, commitment=True, identity_confirmed=True).case_no == "YY-2026-000002"


@pytest.mark.parametrize("kw,field", [
    ({"ground": "nonsense"}, "ground"),
    ({"statement": "   "}, "statement"),
    ({"commitment": False}, "commitment"),
])
def test_file_validation(ctx, world, kw, field):
    org, rec = world
    with pytest.raises(ServiceError) as err:
        file(ctx, org, rec, **kw)
    assert err.value.field == field


def test_other_subjects_record_refused(ctx, make_org, world):
    org, rec = world
    other = make_org(name="别家诊所")
    with pytest.raises(ServiceError) as err:
        file(ctx, other, rec)
    assert err.value.status == 404


def test_uphold_with_correction_creates_new_version(ctx, session, client, world):
    org, rec = world
    case = file(ctx, org, rec)
    with pytest.raises(ServiceError, match="理由"):
        cases.decide_objection(ctx, case, "uphold", role="department")
    with pytest.raises(ServiceError, match="更正内容"):
        cases.decide_objection(ctx, case, "uphold", role="department", reason="执业范围记载错误")
    with pytest.raises(ServiceError, match="应由"):
        cases.decide_objection(ctx, case, "uphold", role="operator", reason="r", effect="withdrawn")
    cases.decide_objection(ctx, case, "uphold", role="department", reason="执业范围记载错误",
                           changes={"title": "未按规定公示执业范围"})
    session.commit()
    assert case.state == "upheld" and case.closed_on == date(2026, 11, 20) and case.outcome == "upheld"
    versions = session.execute(select(CreditRecord).where(CreditRecord.lineage_id == rec.lineage_id)
                               .order_by(CreditRecord.version)).scalars().all()
    assert [(v.version, v.status, v.is_current) for v in versions] == [(1, "superseded", False), (2, "active", True)]
    assert "YY-2026-000001" in versions[1].change_reason
    assert _markers(client, org) == []
    actions = {a for (a,) in session.execute(select(AuditEvent.action))}
    assert {"case.file", "case.uphold", "record.correct"} <= actions


def test_uphold_withdraws_from_publication(ctx, session, world):
    org, rec = world
    case = file(ctx, org, rec)
    cases.decide_objection(ctx, case, "uphold", role="department", reason="已超过公示期", effect="withdrawn")
    assert session.get(CreditRecord, rec.id).status == "withdrawn"


def test_reject_review_and_applicant_steps(ctx, session, world):
    org, rec = world
    case = file(ctx, org, rec)
    cases.decide_objection(ctx, case, "reject", role="department", reason="经核查，处罚决定书记载无误")
    assert case.state == "rejected" and case.open and case.due_on == date(2026, 12, 11)  # review window (湖南 第二十八条第三款)
    cases.decide_objection(ctx, case, "request_review", role="applicant", reason="执业范围另有批准文件")
    assert case.state == "review" and case.due_on == date(2026, 11, 25)
    cases.decide_objection(ctx, case, "reject", role="reviewer", reason="复核维持")
    assert case.state == "closed" and not case.open
    assert session.get(CreditRecord, rec.id).status == "active"
    assert [e.action for e in session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                              .order_by(CaseEvent.id)).scalars()] == \
        ["file", "reject", "request_review", "reject"]


def test_extension_and_clock_stop_events(ctx, session, world):
    org, rec = world
    case = file(ctx, org, rec)
    with pytest.raises(ServiceError, match="不由您办理"):
        cases.extend_case(ctx, case, role="operator", reason="复杂")
    from tests.integration.test_extension_approval import head_code, make_head

    head, totp = make_head(ctx)
    cases.extend_case(ctx, case, role="department", reason="需调取病历，情况复杂", approver=head.username,
                      approver_code=head_code(totp))
    assert case.due_on == date(2026, 11, 30) and case.extended
    with pytest.raises(ServiceError, match="已延期一次"):
        cases.extend_case(ctx, case, role="department", reason="再延")
    cases.stop_clock(ctx, case, role="department", reason="专家评审", first=date(2026, 11, 23))
    assert case.due_on is None
    cases.resume_clock(ctx, case, role="department", on=date(2026, 11, 26))
    assert case.stops == [["2026-11-23", "2026-11-25"]]
    assert case.due_on == date(2026, 12, 3)  # 6 WD after 11-20, skipping 11-23..11-25
    ev = case.events[-1]
    assert (ev.action, ev.stop_from, ev.stop_until) == ("resume_clock", date(2026, 11, 23), date(2026, 11, 25))
    texts = [n.text for n in session.execute(select(Notification).where(Notification.case_id == case.id)).scalars()]
    assert any("延期理由" in t for t in texts)


def test_withdraw_by_applicant_only(ctx, world):
    org, rec = world
    case = file(ctx, org, rec)
    with pytest.raises(ServiceError):
        cases.withdraw_case(ctx, case, cases.Applicant("https://idp.example.test", "someone-else", "X"))
    cases.withdraw_case(ctx, case, APPLICANT, "已与卫健委沟通")
    assert case.state == "withdrawn" and not case.open
    with pytest.raises(ServiceError, match="已办结"):
        cases.decide_objection(ctx, case, "reject", role="department", reason="r")


def test_index_failure_keeps_job_and_case(ctx, session, rt, world, monkeypatch):
    """The index writer is separate: a failing backend leaves the job queued, the case decided."""
    org, rec = world
    case = file(ctx, org, rec)
    cases.decide_objection(ctx, case, "uphold", role="department", reason="应撤销公示", effect="withdrawn")
    session.commit()

    def boom(docs):
        raise RuntimeError("index down")

    monkeypatch.setattr(rt.backend, "upsert", boom)
    with pytest.raises(RuntimeError):
        indexing.drain(session, rt.backend, rt.today(), rt.profile)
    pending = session.execute(select(IndexJob).where(IndexJob.done_at.is_(None))).scalars().all()
    assert pending and all(j.attempts == 1 and "index down" in j.error for j in pending)
    fresh = session.get(Case, case.id)
    assert fresh.state == "upheld" and session.get(CreditRecord, rec.id).status == "withdrawn"
    monkeypatch.undo()
    assert indexing.drain(session, rt.backend, rt.today(), rt.profile) >= 1
    assert indexing.pending_count(session) == 0


def test_hainan_chain(tmp_path):
    """海南 第三十八–四十条 through the services: forward, accept, investigate, delete."""
    from portal import create_app
    from portal.db.migrate import upgrade
    from portal.domain.identifiers import make_uscc
    from portal.services.records import add_record
    from portal.services.subjects import register_subject

    app = create_app({"PORTAL_VAR_DIR": str(tmp_path / "var"), "PORTAL_TODAY": "2026-04-30",
                      "SEARCH_URL": "memory://", "PORTAL_PROFILE": "hainan"})
    rt = app.extensions["portal"]
    upgrade(rt.engine)
    session = rt.sessions()
    try:
        ctx = rt.context(session, "test")
        region = rt.profile.leaf_regions()[0].code
        org = register_subject(ctx, kind="org", name="海口市某诊所", code=make_uscc("12", region, "00000077"),
                               category="clinic", region_code=region)
        rec = add_record(ctx, org, record_type="penalty", severity="general", title="处罚",
                         decided_on=date(2026, 3, 2))
        case = file(ctx, org, rec)
        assert case.due_on == date(2026, 5, 8)
        cases.decide_objection(ctx, case, "forward", role="operator")
        assert (case.state, case.due_on) == ("accept", date(2026, 5, 8))  # forwarded the same day
        cases.decide_objection(ctx, case, "accept", role="provider")
        cases.decide_objection(ctx, case, "decide", role="provider")
        cases.decide_objection(ctx, case, "delete", role="operator", reason="信息来源有误，删除公示")
        assert case.outcome == "deleted" and session.get(CreditRecord, rec.id).status == "deleted"
    finally:
        session.close()
        rt.engine.dispose()


# --- the subject's pages -------------------------------------------------------------------------

def _rep(org):
    from portal.identity import ACR_FACE, Identity

    return Identity(iss=APPLICANT.iss, sub=APPLICANT.sub, name=APPLICANT.name, acr=ACR_FACE, amr=("face",),
                    legal_rep_of=org.code_hash)


def test_subject_files_objection_on_the_web(client, session, login_as, world, rt):
    import io
    from pathlib import Path

    from portal.identity import ACR_FACE

    org, rec = world
    login_as(client, _rep(org))
    page = BeautifulSoup(client.get(f"/me/subjects/{org.public_id}").get_data(as_text=True), "html.parser")
    link = page.select_one("a.file-objection")["href"]
    form = BeautifulSoup(client.get(link).get_data(as_text=True), "html.parser")
    assert {i["value"] for i in form.select("input[name=ground]")} == {g.code for g in rt.profile.objection.grounds}
    assert form.select_one("input[name=commitment]")
    pdf = blank_pdf()
    # the identity block shows who files, from the real-name login (湖南 第二十七条（三）)
    assert "王法人" in form.select_one("fieldset.identity-confirm").get_text()
    assert form.select_one("input[name=identity]").has_attr("required")
    # without the commitment, or without confirming the identity: refused, nothing stored
    for data, message in (({"identity": "yes"}, "真实性承诺"), ({"commitment": "yes"}, "确认申请人身份")):
        resp = client.post(link, data={"ground": "fact_error", "statement": "有误", **data,
                                       "evidence": (io.BytesIO(pdf), "决定书.pdf")}, content_type="multipart/form-data")
        assert resp.status_code == 400 and message in resp.get_data(as_text=True)
        assert session.execute(select(Case)).first() is None
    # a renamed executable among the files: refused, nothing stored
    resp = client.post(link, data={"ground": "fact_error", "statement": "有误", "commitment": "yes",
                                   "evidence": [(io.BytesIO(pdf), "a.pdf"), (io.BytesIO(b"MZ\x90\x00" * 10), "b.pdf")]},
                       content_type="multipart/form-data")
    assert resp.status_code == 415 and session.execute(select(Case)).first() is None
    assert not (Path(rt.settings["PORTAL_VAR_DIR"]) / "evidence").exists() or \
        not any((Path(rt.settings["PORTAL_VAR_DIR"]) / "evidence").iterdir())
    resp = client.post(link, data={"ground": "fact_error", "statement": "执业范围记载有误", "commitment": "yes",
                                   "identity": "yes", "evidence": (io.BytesIO(pdf), "决定书.pdf")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    filed = session.execute(select(Case)).scalar_one()
    assert (filed.applicant_via, filed.applicant_acr) == ("legal_rep", ACR_FACE)
    show = BeautifulSoup(client.get(resp.headers["Location"]).get_data(as_text=True), "html.parser")
    assert "YY-2026-000001" in show.h1.get_text()
    assert show.select_one(".due").get_text().strip().startswith("2026-11-25")
    steps = [li.get_text() for li in show.select("ol.schedule li")]  # every step's limit, the current one dated
    assert len(steps) == 3 and "3 个工作日内" in steps[0] and "当前环节，期限 2026-11-25" in steps[0]
    assert "申请人可申请复核：15 个工作日内" in steps[1]  # the review window (湖南 第二十八条第三款)
    assert "上一级卫生健康行政部门复核" in steps[2] and "当前环节" not in steps[2]
    own = BeautifulSoup(client.get(f"/me/subjects/{org.public_id}").get_data(as_text=True), "html.parser")
    assert "YY-2026-000001" in own.select_one("ul.notifications").get_text()
    assert "异议办理中" in own.select_one(f"#record-{rec.lineage_id} .record-actions").get_text()
    assert "决定书.pdf" in show.get_text()
    assert "异议处理中" in BeautifulSoup(client.get(f"/facility/{org.public_id}").get_data(as_text=True),
                                     "html.parser").get_text()
    # withdraw
    client.post(resp.headers["Location"] + "/withdraw", data={"reason": "", "confirm": "yes"})
    session.expire_all()
    assert session.execute(select(Case.state)).scalar() == "withdrawn"


def test_applicant_requests_review_on_the_web(client, ctx, session, login_as, world):
    org, rec = world
    case = file(ctx, org, rec)
    cases.decide_objection(ctx, case, "reject", role="department", reason="经核查无误")
    session.commit()
    login_as(client, _rep(org))
    url = f"/me/subjects/{org.public_id}/cases/{case.case_no}"
    page = BeautifulSoup(client.get(url).get_data(as_text=True), "html.parser")
    assert "经核查无误" in page.get_text()
    assert {i["value"] for i in page.select("input[name=action]")} == {"request_review", "accept"}
    assert client.post(url + "/act", data={"action": "request_review", "reason": "另有批准文件"}).status_code == 302
    session.expire_all()
    assert session.get(Case, case.id).state == "review"


def test_other_people_cannot_file(client, session, login_as, world, make_org):
    from portal.identity import ACR_FACE, Identity

    org, rec = world
    stranger = Identity(iss=APPLICANT.iss, sub="sub-x", name="路人", acr=ACR_FACE, amr=("face",),
                        legal_rep_of=make_org(name="别家").code_hash)
    session.commit()
    login_as(client, stranger)
    url = f"/me/subjects/{org.public_id}/records/{rec.lineage_id}/objection"
    assert client.get(url).status_code == 404
    assert client.post(url, data={"ground": "fact_error", "statement": "x", "commitment": "yes"}).status_code == 404
    login_as(client, None)
    assert client.get(url).status_code == 401


def test_no_markers_when_the_profile_hides_them(ctx, session, world):
    org, rec = world
    case = file(ctx, org, rec)
    assert cases.case_markers(session, ctx.profile, org.id) == {rec.lineage_id: "异议处理中"}
    hidden = dataclasses.replace(ctx.profile, display=dataclasses.replace(ctx.profile.display, case_markers=False))
    assert cases.case_markers(session, hidden, org.id) == {}
    cases.withdraw_case(ctx, case, APPLICANT)
    assert cases.case_markers(session, ctx.profile, org.id) == {}


def test_simultaneous_filings_get_distinct_numbers(ctx, session, world, make_record, monkeypatch):
    """Two workers reading the same maximum: the unique number constraint makes the second retry."""
    org, rec = world
    first = file(ctx, org, rec)
    real = cases._next_case_no
    calls = []

    def stale(c, kind):
        calls.append(kind)
        return first.case_no if len(calls) == 1 else real(c, kind)  # the first read is stale

    monkeypatch.setattr(cases, "_next_case_no", stale)
    second = file(ctx, org, make_record(org, title="另一处罚"))
    assert (first.case_no, second.case_no) == ("YY-2026-000001", "YY-2026-000002") and len(calls) == 2
    session.commit()
    assert [e.action for e in second.events] == ["file"]
