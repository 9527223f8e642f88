"""Credit repair end to end (湖南 第二十九–三十一条): eligibility, review, public notice of at
least 5 working days, decision; then the record stops being published but stays in the
subject's own data (已修复), the grade is recomputed and every step is audited."""
from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.identity import ACR_FACE, Identity
from portal.models import AuditEvent, Case, CreditRecord, Grade
from portal.services import cases
from portal.services.errors import ServiceError
from portal.services.grading import compute_grades

APPLICANT = cases.Applicant("https://idp.example.test", "sub-rep", "王法人")
TITLE = "骗取医保基金列入严重失信名单"


@pytest.fixture
def world(ctx, make_org, make_record, reindex):
    org = make_org(name="长沙市芙蓉区仁和医院", category="hospital")
    rec = make_record(org, record_type="serious_list", title=TITLE, severity="serious", decided_on=date(2025, 6, 2),
                      publish_until=date(2027, 6, 1))
    compute_grades(ctx, 2025, [org.id])
    reindex()
    return org, rec


def _hits(client, q):
    soup = BeautifulSoup(client.get("/search", query_string={"q": q}).get_data(as_text=True), "html.parser")
    return [a.get_text() for a in soup.select(".hit-name")]


def _text(client, url):
    return BeautifulSoup(client.get(url).get_data(as_text=True), "html.parser").get_text()


def apply(ctx, org, rec, **kw):
    return cases.apply_repair(ctx, org, rec, **{**dict(statement="已全额退回并完成整改", applicant=APPLICANT,
                                                        commitment=True, identity_confirmed=True), **kw})


def test_full_repair(ctx, session, client, rt, reindex, login_as, world):
    org, rec = world
    grade_before = session.execute(select(Grade).where(Grade.subject_id == org.id)).scalar_one().letter
    # (no search before the repair: a Whoosh searcher left open across an update returns the
    # document twice, a search_index issue reported separately)
    assert TITLE in _text(client, "/lists/serious") and TITLE in _text(client, f"/facility/{org.public_id}")

    case = apply(ctx, org, rec)
    reindex()
    assert case.case_no == "XF-2026-000001" and case.state == "review"
    assert case.due_on == date(2026, 12, 4)  # 10 WD after Friday 2026-11-20
    assert "信用修复中" in _text(client, f"/facility/{org.public_id}")

    cases.advance_repair(ctx, case, "approve", role="department", reason="")
    # 湖南 第三十条（三）（四）: notice 11-23 .. 11-27 (5 WD); the decision from the day after it ended
    assert case.state == "notice" and case.earliest_on == date(2026, 11, 28)
    with pytest.raises(ServiceError, match="公示期不少于5个工作日"):
        cases.advance_repair(ctx, case, "no_objection", role="department")
    with pytest.raises(ServiceError, match="2026-11-28起方可作出决定"):  # day 5: the notice still runs
        cases.advance_repair(dataclasses.replace(ctx, today=date(2026, 11, 27)), case, "no_objection",
                             role="department")
    later = dataclasses.replace(ctx, today=date(2026, 11, 30))
    cases.advance_repair(later, case, "no_objection", role="department")
    reindex()

    assert case.state == "repaired" and case.closed_on == date(2026, 11, 30) and case.outcome == "repaired"
    record = session.get(CreditRecord, rec.id)
    assert record.status == "repaired" and record.is_current  # kept, not deleted (湖南 第三十一条)
    # gone from search, the facility page and the lists
    assert "长沙市芙蓉区仁和医院" not in _hits(client, "骗取医保基金")
    assert "长沙市芙蓉区仁和医院" in _hits(client, "仁和医院")
    page = _text(client, f"/facility/{org.public_id}")
    assert TITLE not in page and "信用修复中" not in page
    assert TITLE not in _text(client, "/lists/serious")
    # still in the subject's own data, with status 已修复
    login_as(client, Identity(iss=APPLICANT.iss, sub=APPLICANT.sub, name="王法人", acr=ACR_FACE, amr=("face",),
                              legal_rep_of=org.code_hash))
    own = _text(client, f"/me/subjects/{org.public_id}")
    assert TITLE in own and "已修复" in own
    # grade recomputed
    grade_after = session.execute(select(Grade).where(Grade.subject_id == org.id)).scalar_one().letter
    assert grade_after != grade_before
    actions = [a for (a,) in session.execute(select(AuditEvent.action).order_by(AuditEvent.id))]
    for wanted in ("case.file", "case.approve", "case.no_objection", "record.status", "grade.change"):
        assert wanted in actions
    assert [e.action for e in session.get(Case, case.id).events] == ["file", "approve", "no_objection"]


def test_objection_during_notice_goes_back(ctx, world):
    org, rec = world
    case = apply(ctx, org, rec)
    cases.advance_repair(ctx, case, "approve", role="department")
    cases.advance_repair(ctx, case, "objection", role="department", reason="公示期间收到举报")
    assert case.state == "review" and case.open


def test_refuse_with_reasons(ctx, session, world):
    org, rec = world
    case = apply(ctx, org, rec)
    with pytest.raises(ServiceError, match="理由"):
        cases.advance_repair(ctx, case, "refuse", role="department")
    cases.advance_repair(ctx, case, "refuse", role="department", reason="整改尚未完成")
    assert case.outcome == "refused" and session.get(CreditRecord, rec.id).status == "active"


def test_ineligible_is_refused_with_articles(ctx, session, make_org, make_record):
    org = make_org(name="新近处罚诊所")
    rec = make_record(org, title="处罚一", decided_on=date(2026, 10, 9))  # general: 3 months (editable default)
    with pytest.raises(ServiceError) as err:
        apply(ctx, org, rec)
    assert "2027-01-09" in err.value.message and "湖南 第二十九条（二）" in err.value.message
    assert session.execute(select(Case)).first() is None


def test_new_same_type_blocks(ctx, make_org, make_record):
    org = make_org(name="再犯诊所")
    old = make_record(org, title="处罚一", decided_on=date(2026, 1, 5))
    make_record(org, title="处罚二", decided_on=date(2026, 5, 5))
    with pytest.raises(ServiceError, match="第二十九条（三）"):
        apply(ctx, org, old)


def test_commitment_required_and_one_open_case(ctx, world):
    org, rec = world
    with pytest.raises(ServiceError, match="信用承诺"):
        apply(ctx, org, rec, commitment=False)
    apply(ctx, org, rec)
    with pytest.raises(ServiceError, match="正在办理"):
        apply(ctx, org, rec)


def test_repaired_record_cannot_be_repaired_again(ctx, world):
    org, rec = world
    case = apply(ctx, org, rec)
    cases.advance_repair(ctx, case, "approve", role="department")
    cases.advance_repair(dataclasses.replace(ctx, today=date(2026, 11, 30)), case, "no_objection", role="department")
    with pytest.raises(ServiceError, match="已完成信用修复"):
        apply(ctx, org, rec)


def test_repair_pages_and_public_notice(client, ctx, session, login_as, world):
    org, rec = world
    login_as(client, Identity(iss=APPLICANT.iss, sub=APPLICANT.sub, name="王法人", acr=ACR_FACE, amr=("face",),
                              legal_rep_of=org.code_hash))
    url = f"/me/subjects/{org.public_id}/records/{rec.lineage_id}/repair"
    page = BeautifulSoup(client.get(url).get_data(as_text=True), "html.parser")
    assert "修复不收取任何费用" in page.get_text() and page.select_one(".eligible")
    own = BeautifulSoup(client.get(f"/me/subjects/{org.public_id}").get_data(as_text=True), "html.parser")
    assert own.select_one(f"#record-{rec.lineage_id} .repair-verdict")["data-eligible"] == "yes"
    assert own.select_one(f"#record-{rec.lineage_id} a.apply-repair")["href"] == url  # on the record's own row
    resp = client.post(url, data={"statement": "已整改", "commitment": "yes", "identity": "yes"})
    assert resp.status_code == 302
    case = session.execute(select(Case)).scalar_one()
    assert BeautifulSoup(client.get("/repair-notices").get_data(as_text=True), "html.parser") \
        .select("table.repair-notices tr") == []
    cases.advance_repair(ctx, case, "approve", role="department")
    session.commit()
    table = BeautifulSoup(client.get("/repair-notices").get_data(as_text=True), "html.parser").select_one(
        "table.repair-notices")
    assert case.case_no in table.get_text() and "长沙市芙蓉区仁和医院" in table.get_text()
    assert "2026-11-27" in table.get_text()


def test_ineligible_explained_on_the_page(client, login_as, make_org, make_record, reindex):
    org = make_org(name="新近处罚诊所")
    rec = make_record(org, title="处罚一", decided_on=date(2026, 10, 9))
    reindex()
    login_as(client, Identity(iss=APPLICANT.iss, sub=APPLICANT.sub, name="王法人", acr=ACR_FACE, amr=("face",),
                              legal_rep_of=org.code_hash))
    page = BeautifulSoup(client.get(f"/me/subjects/{org.public_id}/records/{rec.lineage_id}/repair")
                         .get_data(as_text=True), "html.parser")
    text = page.get_text()
    assert page.select_one(".ineligible") and "2027-01-09" in text and "第二十九条（二）" in text
    assert page.select("form.case-form") == []
    # the subject's own page explains it per dishonesty record, with the article and the date
    own = BeautifulSoup(client.get(f"/me/subjects/{org.public_id}").get_data(as_text=True), "html.parser")
    verdict = own.select_one(f"#record-{rec.lineage_id} .repair-verdict")
    assert verdict["data-eligible"] == "no" and own.select_one(f"#record-{rec.lineage_id} a.apply-repair") is None
    assert "尚未达到最短公示期限" in verdict.get_text() and "湖南 第二十九条（二）" in verdict.get_text()
    assert "预计 2027-01-09 起可以申请" in verdict.get_text()


def test_public_notice_goes_through_the_privacy_boundary(client, ctx, session, make_org, make_person, make_record):
    """The 信用修复公示 is a public page: the record's public view (scrubbed, inside its window)
    and the subject's public view (never a minor), like every other public page."""
    def notice_for(subject, record):
        case = apply(ctx, subject, record)
        cases.advance_repair(ctx, case, "approve", role="department")
        return case

    org = make_org(name="望城区公示诊所")
    shown = notice_for(org, make_record(org, title="未按规定公示收费，投诉电话13812345678"))
    adult = make_person(name="欧阳公示", birth=date(1980, 1, 1))
    masked = notice_for(adult, make_record(adult, title="医师超范围执业"))
    minor = make_person(name="少年某", birth=date(2010, 5, 5))
    hidden_minor = notice_for(minor, make_record(minor, title="未成年人信息 CANARY-MINOR-77"))
    gone = make_org(name="期满诊所")
    expired = notice_for(gone, make_record(gone, title="已过公示期 CANARY-EXPIRED-88", decided_on=date(2025, 6, 1),
                                           publish_until=date(2025, 12, 1)))
    session.commit()
    html = BeautifulSoup(client.get("/repair-notices").get_data(as_text=True), "html.parser")
    rows = {tr.td.get_text(): [td.get_text() for td in tr.select("td")]
            for tr in html.select("table.repair-notices tbody tr")}
    assert set(rows) == {shown.case_no, masked.case_no}
    assert rows[shown.case_no][1] == "望城区公示诊所" and "138****5678" in rows[shown.case_no][2]
    assert rows[masked.case_no][1] == "欧***"
    body = html.get_text()
    for leaked in ("13812345678", "少年某", "CANARY-MINOR-77", "期满诊所", "CANARY-EXPIRED-88",
                   hidden_minor.case_no, expired.case_no, "欧阳公示"):
        assert leaked not in body, leaked
