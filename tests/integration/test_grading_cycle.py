"""The grading cycle through its whole life (issue 16 "Grading cycle"; issue 11 §3 湖南医保 第十六、
十九条): preliminary result (初评) → objection window → objection decided → formal result, on two
profiles: hunan-mi (rolling, 湖南医保 第十六条 动态考评) with the window across 春节 2027, and
guangdong (yearly, 阳山 四（三）: generated on 1-20, published by 1-25) with a subject excluded from
the period (湖南 第十八条). Public pages (facility, QR scan, search, public report PDF, chatbot,
summary table) show a grade only once it is formal; every step is in the audit chain."""
from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

import pytest
from bs4 import BeautifulSoup
from openpyxl import load_workbook
from sqlalchemy import select

from portal.domain import grading_cycle as rules
from portal.domain.workdays import WorkCalendar
from portal.models import AuditEvent, Grade, GradingResult
from portal.profiles import load_profile
from portal.services import grading_cycle as svc
from portal.services import plates as plate_svc
from portal.services import staff as staff_svc
from portal.services.audit import verify_chain
from portal.services.errors import ServiceError
from portal.services.grading import exclude_from_grading
from portal.services.records import add_record

from .pdf_tools import flat, pdf_text
from .test_chat import Chat
from .test_objection_flow import _rep
from .test_staff_auth import PASSWORD, _secret, web_login

CANARY = "PRELIM-CANARY-3c9e"  # the title of a non-public record that moves the preliminary grade


def _at(rt, session, day: date, actor: str = "test"):
    """Move "today" (PORTAL_TODAY) and return a context for that day."""
    rt.settings["PORTAL_TODAY"] = day.isoformat()
    return rt.context(session, actor)


def _drain(rt, session):
    from portal.services import indexing

    session.commit()
    while indexing.drain(session, rt.backend, rt.today(), rt.profile):
        pass


def _public_letter(client, org) -> str | None:
    page = BeautifulSoup(client.get(f"/facility/{org.public_id}").get_data(as_text=True), "html.parser")
    big = page.select_one(".grade-card .grade.big")
    return big.get_text(strip=True) if big else None


def _scan_letter(client, plate) -> str | None:
    page = BeautifulSoup(client.get(f"/p/{plate.token}").get_data(as_text=True), "html.parser")
    span = page.select_one("#grade .grade")
    return span.get_text(strip=True) if span else None


def _search_letter(client, name: str) -> str | None:
    page = BeautifulSoup(client.get("/search", query_string={"q": name}).get_data(as_text=True), "html.parser")
    span = page.select_one(".grade")
    return span.get_text(strip=True) if span else None


def _summary_counts(client, year: int) -> dict[str, str]:
    page = BeautifulSoup(client.get("/grades/summary", query_string={"year": year}).get_data(as_text=True),
                         "html.parser")
    return {th["class"][0].removeprefix("total-"): th.get_text() for th in page.select("tfoot th[class^=total-]")}


def _actions(session) -> list[str]:
    return [a for a in session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars()
            if a.startswith("grade.")]


# --- hunan-mi: rolling, the window across 春节 2027 ------------------------------------------------

PROFILES = {"test_yearly_cycle_with_exclusion_and_summary": "guangdong"}  # the others: hunan-mi


@pytest.fixture
def settings(settings, request):
    return {**settings, "PORTAL_PROFILE": PROFILES.get(request.function.__name__, "hunan-mi")}


def test_rolling_cycle_across_spring_festival(rt, session, client, login_as, make_org, make_record, tmp_path):
    org = make_org(name="长沙市开福区惠民药店", category="pharmacy", region_code="430105")
    dept, uri = staff_svc.create_staff(rt.context(session, "test"), "dept.cs", PASSWORD, ["department"],
                                       region_code="430100")
    plate = plate_svc.issue_plate(rt.context(session, "test"), org)
    session.commit()

    # 1. First run: no formal grade yet → preliminary A; its window passes unused → formal A.
    ctx = _at(rt, session, date(2026, 12, 1))
    assert svc.run_cycle(ctx) == {"generated": 1, "formal": 0, "cycle": "rolling:2026-12-01"}
    assert svc.run_cycle(ctx)["generated"] == 0  # idempotent
    session.commit()
    ctx = _at(rt, session, date(2026, 12, 9))
    assert svc.run_cycle(ctx)["formal"] == 1
    _drain(rt, session)
    assert _public_letter(client, org) == "A"

    # 2. A non-public 一般失信 record in January 2027: the dynamic result falls to B (90).
    add_record(_at(rt, session, date(2027, 1, 26)), org, record_type="penalty", severity="general",
               title=f"串换药品 {CANARY}", decided_on=date(2027, 1, 25), scope="shared", authority="长沙市医疗保障局")
    session.commit()
    ctx = _at(rt, session, date(2027, 2, 1))  # a Monday, before 除夕 (2027-02-05)
    out = svc.run_cycle(ctx)
    assert out["generated"] == 1
    result = session.execute(select(GradingResult).where(GradingResult.status == rules.PRELIMINARY)).scalar_one()
    assert (result.letter, result.score) == ("B", 90)
    # 5 working days from Monday 2027-02-01: Tue–Thu, then 除夕–初三 (02-05..02-08) are statutory
    # holidays (the 2027 notice is not entered yet: provisional), then Tue 02-09, Wed 02-10.
    assert result.objection_until == date(2027, 2, 10)
    cycle = svc.cycles(ctx)[0]
    assert cycle["provisional"] is True and cycle["objection_until"] == date(2027, 2, 10)
    _drain(rt, session)

    # 3. While preliminary: every public surface shows the formal A, never B nor the canary.
    assert _public_letter(client, org) == "A"
    assert _scan_letter(client, plate) == "A"
    assert _search_letter(client, org.name) == "A"
    report = flat(pdf_text(client.post(f"/facility/{org.public_id}/report.pdf").data, tmp_path))
    assert "A守信" in report and "B基本守信" not in report and CANARY not in report
    chat = Chat(client).answer_text(f"{org.name}是什么等级")
    assert "A" in chat and "基本守信" not in chat and CANARY not in chat
    assert _summary_counts(client, 2027) == {"A": "1", "B": "0", "C": "0", "D": "0"}  # the formal grade in force
    for url in (f"/facility/{org.public_id}", f"/p/{plate.token}", "/grades/summary"):
        body = client.get(url).get_data(as_text=True)
        assert CANARY not in body and "初评" not in body.replace("初评结果和异议处理中的结果不在表内", ""), url

    # 4. The subject sees its preliminary result with the explanation and objects (day 7 of the window).
    ctx = _at(rt, session, date(2027, 2, 9))
    login_as(client, _rep(org))
    page = BeautifulSoup(client.get(f"/me/subjects/{org.public_id}").get_data(as_text=True), "html.parser")
    box = page.select_one(f"#grade-result-{result.id}")
    assert box.select_one(".result-score").get_text() == "90"
    assert CANARY in box.select_one(".result-explanation").get_text()
    assert box.select_one(".objection-until").get_text() == "2027-02-10"
    resp = client.post(f"/me/subjects/{org.public_id}/grade-objection", data={"result": result.id, "statement": ""})
    assert resp.status_code == 400 and "理由" in resp.get_data(as_text=True)
    resp = client.post(f"/me/subjects/{org.public_id}/grade-objection",
                       data={"result": result.id, "statement": "该处理决定已被撤销，请核实"})
    assert resp.status_code == 303
    session.expire_all()
    assert result.status == rules.OBJECTED and result.objection_due_on == date(2027, 2, 12)  # 3 WD (第十七条)
    login_as(client, None)

    # 5. After the window, the objected result stays preliminary: nothing public changes.
    ctx = _at(rt, session, date(2027, 2, 11))
    assert svc.run_cycle(ctx)["formal"] == 0
    _drain(rt, session)
    assert _public_letter(client, org) == "A"

    # 6. The department rejects the objection with reasons → formal B, now public.
    assert web_login(client, "dept.cs", _secret(uri)).status_code in (302, 303)
    page = BeautifulSoup(client.get(f"/staff/grading/{result.cycle_id}").get_data(as_text=True), "html.parser")
    assert page.select_one(f"#result-{result.id}") is not None
    resp = client.post(f"/staff/grading/results/{result.id}/decide",
                       data={"outcome": "rejected", "reason": "经核查，处理决定有效"})
    assert resp.status_code == 303
    session.expire_all()
    assert result.status == rules.FORMAL and result.formal_on == date(2027, 2, 11)
    grade = session.execute(select(Grade).where(Grade.subject_id == org.id, Grade.year == 2027)).scalar_one()
    assert (grade.letter, grade.formal_on) == ("B", date(2027, 2, 11))
    client.post("/staff/logout")
    _drain(rt, session)
    assert _public_letter(client, org) == "B" and _scan_letter(client, plate) == "B"
    assert _search_letter(client, org.name) == "B"
    assert _summary_counts(client, 2027) == {"A": "0", "B": "1", "C": "0", "D": "0"}
    assert CANARY not in client.get(f"/facility/{org.public_id}").get_data(as_text=True)

    # 7. Idempotent again; the plate hook lists the change; every step is in the audit chain.
    assert svc.run_cycle(_at(rt, session, date(2027, 2, 11))) == {"generated": 0, "formal": 0, "cycle": None}
    assert [(c["from"], c["to"]) for c in svc.formal_changes(ctx, result.cycle_id)] == [("A", "B")]
    assert _actions(session) == ["grade.cycle.open", "grade.formal", "grade.cycle.open", "grade.objection.file",
                                 "grade.objection.decide", "grade.formal"]
    session.commit()
    assert verify_chain(session) == []


# --- guangdong: yearly, 1-20 / 1-25, an excluded subject ------------------------------------------

def test_yearly_cycle_with_exclusion_and_summary(rt, session, client, make_org, make_record):
    clinic = make_org(name="阳山县城南诊所", category="clinic", region_code="441823")
    clean = make_org(name="阳山县城北诊所", category="clinic", region_code="441823")
    closed = make_org(name="阳山县停业诊所", category="clinic", region_code="441823")
    make_record(clinic, title="未按规定公示收费标准", decided_on=date(2026, 5, 6), authority="阳山县卫生健康局")
    dept, uri = staff_svc.create_staff(rt.context(session, "test"), "dept.ys", PASSWORD, ["department"],
                                       region_code="441823")
    ctx = _at(rt, session, date(2027, 1, 5))
    exclude_from_grading(ctx, closed, 2026, "2026年全年停业，依规定不参加本期评价")
    session.commit()

    assert svc.run_cycle(_at(rt, session, date(2027, 1, 19)))["generated"] == 0  # before 1-20
    ctx = _at(rt, session, date(2027, 1, 20))
    out = svc.run_cycle(ctx)
    assert out == {"generated": 2, "formal": 0, "cycle": "2026"}
    cycle = svc.cycles(ctx)[0]
    # 2 working days from Wednesday 1-20 → Friday 1-22; formal on the next run, before 1-25.
    assert (cycle["objection_until"], cycle["publish_by"]) == (date(2027, 1, 22), date(2027, 1, 25))
    letters = dict(session.execute(select(GradingResult.subject_id, GradingResult.letter)).all())
    assert closed.id not in letters and letters[clinic.id] != letters[clean.id]
    session.commit()
    _drain(rt, session)
    assert _public_letter(client, clinic) is None  # preliminary: not public
    assert "暂无正式评价结果" in client.get("/grades/summary?year=2026").get_data(as_text=True)

    ctx = _at(rt, session, date(2027, 1, 22))
    assert svc.run_cycle(ctx)["formal"] == 0  # the last day of the window
    ctx = _at(rt, session, date(2027, 1, 23))
    assert svc.run_cycle(ctx)["formal"] == 2
    assert svc.run_cycle(ctx)["formal"] == 0  # idempotent
    session.commit()
    _drain(rt, session)
    assert _public_letter(client, clinic) == letters[clinic.id]

    page = BeautifulSoup(client.get("/grades/summary?year=2026").get_data(as_text=True), "html.parser")
    row = page.select_one("table.grade-summary tbody tr")
    assert [td.get_text(strip=True) for td in row.select("td")][:2] == ["阳山县", "诊所、门诊部"]
    assert page.select_one("tfoot .total").get_text() == "2"
    resp = client.get("/grades/summary.xlsx?year=2026")
    sheet = load_workbook(io.BytesIO(resp.data)).active
    header = [c.value for c in sheet[2]]
    total = [c.value for c in sheet[sheet.max_row]]
    assert header[-1] == "合计" and total[-1] == 2
    assert total[header.index(f"{letters[clinic.id]}级")] == 1
    assert client.get("/grades/summary?year=20x6").status_code == 400

    # staff cycle page: state, excluded subject with reason, changed grades
    assert web_login(client, "dept.ys", _secret(uri)).status_code in (302, 303)
    page = BeautifulSoup(client.get(f"/staff/grading/{cycle['id']}").get_data(as_text=True), "html.parser")
    assert "已形成正式结果" in page.select_one(".cycle-state").get_text()
    assert [td.get_text() for td in page.select("table.grading-excluded td")][:2] == [
        "阳山县停业诊所", "2026年全年停业，依规定不参加本期评价"]
    assert len(page.select("table.grading-changes tbody tr")) == 2  # no grade before → both new
    listing = BeautifulSoup(client.get("/staff/grading").get_data(as_text=True), "html.parser")
    assert "已形成正式结果" in listing.select_one(f"#cycle-{cycle['id']} .cycle-state").get_text()
    assert "2027 年度：2028-01-20 生成初评结果" in listing.select_one(".next-schedule").get_text()
    assert client.post("/staff/grading/run").status_code == 303
    actions = _actions(session)
    assert actions == ["grade.exclude", "grade.cycle.open", "grade.formal"]
    session.commit()
    assert verify_chain(session) == []


# --- refusals and the pure schedule -------------------------------------------------------------

def test_objection_refusals(rt, session, make_org, login_as):
    org = make_org(name="长沙市天心区某药店", category="pharmacy", region_code="430103")
    other = make_org(name="株洲市某药店", category="pharmacy", region_code="430202")
    ctx = _at(rt, session, date(2027, 3, 1))
    svc.run_cycle(ctx)
    result = session.execute(select(GradingResult).where(GradingResult.subject_id == org.id)).scalar_one()
    stranger = replace(ctx, caller=_rep(other))
    with pytest.raises(ServiceError) as refused:
        svc.file_grade_objection(stranger, result, "不服")
    assert refused.value.status in (403, 404)  # a stranger is not told the subject exists
    far, _ = staff_svc.create_staff(ctx, "dept.zz", PASSWORD, ["department"], region_code="430200")
    mine = replace(ctx, caller=_rep(org))
    svc.file_grade_objection(mine, result, "不服")
    with pytest.raises(ServiceError) as again:
        svc.file_grade_objection(mine, result, "再次")
    assert again.value.status == 409
    with pytest.raises(ServiceError) as wrong_region:
        svc.decide_grade_objection(replace(ctx, caller=far), result, "rejected", "理由")
    assert wrong_region.value.status == 403
    with pytest.raises(ServiceError):
        svc.run_cycle(replace(ctx, caller=_rep(org)))
    reviewer, _ = staff_svc.create_staff(ctx, "rev.cs", PASSWORD, ["reviewer"], region_code="430100")
    with pytest.raises(ServiceError) as not_staff_of_grading:
        svc.cycles(replace(ctx, caller=reviewer))  # the staff cycle page is for those who grade
    assert not_staff_of_grading.value.status == 403
    late = _at(rt, session, date(2027, 3, 20))
    other_result = session.execute(select(GradingResult).where(GradingResult.subject_id == other.id)).scalar_one()
    with pytest.raises(ServiceError, match="届满"):
        svc.file_grade_objection(replace(late, caller=_rep(other)), other_result, "晚了")


def test_yearly_schedule_is_pure_and_counts_holidays():
    hunan = load_profile("hunan")
    cal = WorkCalendar()
    s = rules.yearly_schedule(hunan, 2026, cal)
    assert (s.generate_on, s.objection_until, s.publish_by, s.late) == (
        date(2027, 1, 20), date(2027, 1, 27), date(2027, 1, 31), False)
    assert s.provisional  # 2027 not confirmed yet
    assert rules.yearly_year_due(hunan, date(2027, 1, 19)) is None
    assert rules.yearly_year_due(hunan, date(2027, 1, 20)) == 2026
    assert rules.yearly_year_due(load_profile("hunan-mi"), date(2027, 1, 20)) is None
    late = rules.yearly_schedule(hunan, 2026, cal, generated_on=date(2027, 2, 3))  # a late run: full window
    assert late.objection_until == date(2027, 2, 12) and late.late  # 除夕–初三 skipped
    assert rules.mmdd_on("02-29", 2027) == date(2027, 2, 28)


def test_cli_grade_run_is_idempotent(settings, monkeypatch, rt, session, make_org, tmp_path):
    """``credit-portal grade run`` for the scheduler; history loads only with ``--load-historical``."""
    from click.testing import CliRunner

    from portal.cli import main

    for key, value in {**settings, "PORTAL_TODAY": "2027-03-01"}.items():
        monkeypatch.setenv(key, value)
    make_org(name="长沙市岳麓区某药店", category="pharmacy", region_code="430104")
    session.commit()
    runner = CliRunner()
    first = runner.invoke(main, ["grade", "run"])
    assert first.exit_code == 0, first.output
    assert "新生成初评结果 1 个，周期 rolling:2027-03-01；形成正式结果 0 个" in first.output
    again = runner.invoke(main, ["grade", "run"])
    assert "新生成初评结果 0 个；形成正式结果 0 个" in again.output
    listed = runner.invoke(main, ["grade", "cycles"])
    assert "rolling:2027-03-01" in listed.output and "异议期至 2027-03-08" in listed.output
    out = tmp_path / "s.xlsx"
    assert runner.invoke(main, ["grade", "summary", "--year", "2027", "-o", str(out)]).exit_code == 0
    assert out.read_bytes()[:2] == b"PK"
    legacy = runner.invoke(main, ["grade", "--load-historical", "--year", "2025"])
    assert legacy.exit_code == 0 and "已迁移 2025 年度历史信用等级" in legacy.output


def test_rolling_supersede_and_upheld_objection(rt, session, make_org):
    """湖南医保 第十六条: a newer dynamic result replaces a pending preliminary one (new window);
    an upheld objection recomputes from the corrected records and that result becomes formal."""
    from portal.services.records import set_record_status

    org = make_org(name="长沙市雨花区某药店", category="pharmacy", region_code="430111")
    dept, _ = staff_svc.create_staff(rt.context(session, "test"), "dept.yh", PASSWORD, ["department"],
                                     region_code="430100")
    first = add_record(_at(rt, session, date(2027, 3, 1)), org, record_type="penalty", severity="general",
                       title="第一次违规", decided_on=date(2027, 2, 26), authority="长沙市医疗保障局")
    svc.run_cycle(_at(rt, session, date(2027, 3, 1)))
    old = session.execute(select(GradingResult).where(GradingResult.subject_id == org.id)).scalar_one()
    assert (old.letter, old.score, old.previous_letter) == ("B", 90, "")
    add_record(_at(rt, session, date(2027, 3, 3)), org, record_type="penalty", severity="general",
               title="第二次违规", decided_on=date(2027, 3, 2), authority="长沙市医疗保障局")
    ctx = _at(rt, session, date(2027, 3, 3))
    assert svc.run_cycle(ctx)["generated"] == 1
    session.expire_all()
    new = session.execute(select(GradingResult).where(GradingResult.subject_id == org.id,
                                                      GradingResult.status == rules.PRELIMINARY)).scalar_one()
    assert old.status == rules.SUPERSEDED and (new.score, new.objection_until) == (80, date(2027, 3, 10))
    svc.file_grade_objection(replace(ctx, caller=_rep(org)), new, "第一次违规的处罚已被复议撤销")
    set_record_status(ctx, first, "withdrawn", "行政复议撤销原处罚决定")  # the record itself is corrected
    decided = svc.decide_grade_objection(replace(ctx, caller=dept), new, "upheld", "原处罚已撤销，重新评价")
    assert (decided.status, decided.letter, decided.score) == (rules.FORMAL, "B", 90)
    grade = session.execute(select(Grade).where(Grade.subject_id == org.id)).scalar_one()
    assert (grade.letter, grade.score, grade.formal_on) == ("B", 90, date(2027, 3, 3))
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "grade.objection.decide")).scalar_one()
    assert event.detail["outcome"] == "upheld" and event.detail["reason"] == "原处罚已撤销，重新评价"
    assert svc.run_cycle(_at(rt, session, date(2027, 3, 4)))["generated"] == 0  # in force equals today's result


def test_excluded_during_the_window_never_becomes_formal(rt, session, make_org):
    """湖南 第十八条: a subject taken out of the period while its preliminary result is pending gets
    no formal grade for it; the withdrawn preliminary letter is kept in the audit event."""
    org = make_org(name="长沙市望城某药店", category="pharmacy", region_code="430105")
    ctx = _at(rt, session, date(2027, 3, 1))
    svc.run_cycle(ctx)
    exclude_from_grading(ctx, org, 2027, "2027年停业整顿，依规定不参加本期评价")
    result = session.execute(select(GradingResult).where(GradingResult.subject_id == org.id)).scalar_one()
    assert result.status == rules.SUPERSEDED
    assert svc.run_cycle(_at(rt, session, date(2027, 3, 20))) == {"generated": 0, "formal": 0, "cycle": None}
    assert session.execute(select(Grade).where(Grade.subject_id == org.id)).scalar_one_or_none() is None
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "grade.exclude")).scalar_one()
    assert event.detail["withdrawn_preliminary"] == ["A"]
