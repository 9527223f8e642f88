"""湖南 第十八条 "评价周期为一年，于每年定期确定上一年度信用评定结果，根据有关规定不参加本期评价的
除外": a grade is the result of one yearly period; a subject excluded from a later, finished period
has no grade in force — not its older one. One rule (``services.indexing.grade_in_force``) for the
facility page, the QR page, the search document, the chatbot and the 双随机 strata; the public sees
that it was not evaluated that year, never the exclusion's reason (free text typed by staff)."""
from __future__ import annotations

from datetime import date

import pytest
from bs4 import BeautifulSoup

from portal.domain import draw as algo
from portal.models import Grade, IndexJob
from portal.services import draws as draw_svc
from portal.services import indexing
from portal.services import plates as plate_svc
from portal.services.grading import exclude_from_grading, grade_absence

from ..conftest import TODAY
from .test_chat import Chat

REASON = "EXCL-CANARY-7d1 立案调查中"  # a non-public reason: must never reach a public surface
PROFILES = {"test_rolling_exclusion_of_the_running_year_takes_effect_when_decided": "hunan-mi"}


@pytest.fixture
def settings(settings, request):
    return {**settings, "PORTAL_PROFILE": PROFILES.get(request.function.__name__, "hunan")}


def _grade_section(html: str, selector: str) -> str:
    section = BeautifulSoup(html, "html.parser").select_one(selector)
    return section.get_text(" ", strip=True) if section else ""


def test_exclusion_ends_the_older_grade_everywhere(rt, ctx, session, client, make_org):
    last, older = TODAY.year - 1, TODAY.year - 2
    org = make_org(name="长沙市岳麓区停业诊所", category="clinic", region_code="430104")
    kept = make_org(name="长沙市岳麓区参评诊所", category="clinic", region_code="430104")
    for subject in (org, kept):
        session.add(Grade(subject_id=subject.id, year=older, letter="A", score=99, explanation=[],
                          profile_id=ctx.profile.id))
    plate = plate_svc.issue_plate(ctx, org)
    session.commit()
    assert indexing.latest_grade(session, org.id, TODAY).letter == "A"  # before: the older grade stands

    exclude_from_grading(ctx, org, last, REASON)
    session.commit()
    assert indexing.latest_grade(session, org.id, TODAY) is None
    assert set(indexing.grades_in_force(session, [org.id, kept.id], TODAY)) == {kept.id}
    assert indexing.latest_grade(session, kept.id, TODAY).letter == "A"  # only the excluded subject

    while indexing.drain(session, rt.backend, rt.today(), rt.profile):
        pass
    docs = indexing.build_documents(session, [org.id], TODAY, rt.profile)
    assert docs[org.id]["grade"] == "" and docs[org.id]["grade_year"] is None

    note = f"{last} 年度未参加信用评价"
    facility = client.get(f"/facility/{org.public_id}").get_data(as_text=True)
    grade_card = _grade_section(facility, ".grade-card")
    assert note in grade_card and "湖南 第十八条" in grade_card and "A" not in grade_card.replace("A级", "")
    scan = client.get(f"/p/{plate.token}").get_data(as_text=True)
    assert note in _grade_section(scan, "#grade") and not BeautifulSoup(scan, "html.parser").select("#grade .grade")
    chat = Chat(client).answer_text(f"{org.name}是什么等级")
    assert note in chat and "暂无公示的评定结果" not in chat  # the page's sentence, not a vaguer one
    for body in (facility, scan, chat, client.get("/search", query_string={"q": org.name}).get_data(as_text=True)):
        assert "EXCL-CANARY" not in body and "立案调查" not in body

    population = {row[0]: row[2] for row in draw_svc.population(ctx, "clinic", "430104")}
    assert population[org.credit_code] == algo.UNGRADED and population[kept.credit_code] == "A"


def test_exclusion_of_the_running_year_keeps_last_years_grade(ctx, session, make_org):
    """The running year's result is determined next year (湖南 第十八条): excluding a subject from it
    now does not end last year's grade; on 1 January it does, and the daily expire re-indexes it."""
    org = make_org(name="长沙市天心区某门诊部", category="clinic", region_code="430103")
    session.add(Grade(subject_id=org.id, year=TODAY.year - 1, letter="B", score=88, explanation=[],
                      profile_id=ctx.profile.id))
    session.flush()
    exclude_from_grading(ctx, org, TODAY.year, "本年度停业")
    session.commit()
    assert indexing.latest_grade(session, org.id, TODAY).letter == "B"
    assert grade_absence(session, org.id, TODAY, ctx.profile) is None
    new_year = date(TODAY.year + 1, 1, 2)
    assert indexing.latest_grade(session, org.id, new_year) is None
    assert "未参加信用评价" in grade_absence(session, org.id, new_year, ctx.profile)["text"]
    indexing.set_state(session, "expire_checked_on", TODAY.isoformat())
    session.query(IndexJob).delete()
    session.commit()
    indexing.expire(session, new_year)
    assert org.id in {j.subject_id for j in session.query(IndexJob).all()}


def test_never_graded_subject_has_no_absence_note(ctx, session, make_org):
    org = make_org(name="长沙市新设诊所", category="clinic", region_code="430102")
    session.commit()
    assert grade_absence(session, org.id, TODAY, ctx.profile) is None


def test_rolling_exclusion_of_the_running_year_takes_effect_when_decided(rt, ctx, session, client, make_org):
    """湖南医保 第十六条 "信用评价实行动态考评": the grade in force is today's result, so a subject
    taken out of the running period has none from the day that is decided — not from 1 January —
    on the facility and QR pages, in search, the API, the chatbot and the 双随机 strata alike (the
    document has no exclusion rule of its own; the one rule is ``indexing.grade_in_force``)."""
    assert ctx.profile.grading.period == "rolling"
    org = make_org(name="长沙市雨花区停业药店", category="pharmacy", region_code="430111")
    kept = make_org(name="长沙市雨花区营业药店", category="pharmacy", region_code="430111")
    for subject in (org, kept):  # formal dynamic results of this year (第十九条), in force since March
        session.add(Grade(subject_id=subject.id, year=TODAY.year, letter="A", score=99, explanation=[],
                          profile_id=ctx.profile.id, formal_on=date(TODAY.year, 3, 1)))
    plate = plate_svc.issue_plate(ctx, org)
    session.commit()
    assert indexing.latest_grade(session, org.id, TODAY).letter == "A"

    exclude_from_grading(ctx, org, TODAY.year, REASON)
    session.commit()
    assert indexing.latest_grade(session, org.id, TODAY) is None  # at once, not on 1 January
    assert set(indexing.grades_in_force(session, [org.id, kept.id], TODAY)) == {kept.id}
    assert grade_absence(session, org.id, TODAY, ctx.profile)["year"] == TODAY.year

    while indexing.drain(session, rt.backend, rt.today(), rt.profile):
        pass
    assert indexing.build_documents(session, [org.id], TODAY, rt.profile)[org.id]["grade"] == ""
    note = f"{TODAY.year} 年度未参加信用评价"
    facility = client.get(f"/facility/{org.public_id}").get_data(as_text=True)
    assert note in _grade_section(facility, ".grade-card")
    scan = client.get(f"/p/{plate.token}").get_data(as_text=True)
    assert note in _grade_section(scan, "#grade") and not BeautifulSoup(scan, "html.parser").select("#grade .grade")
    chat = Chat(client).answer_text(f"{org.name}是什么等级")
    assert note in chat
    for body in (facility, scan, chat, client.get("/search", query_string={"q": org.name}).get_data(as_text=True)):
        assert "EXCL-CANARY" not in body and "立案调查" not in body
    population = {row[0]: row[2] for row in draw_svc.population(ctx, "pharmacy", "430111")}
    assert population[org.credit_code] == algo.UNGRADED and population[kept.credit_code] == "A"


def test_yearly_exclusion_has_no_effective_day_of_its_own(ctx, session, make_org):
    """Under 湖南 (yearly) the exclusion of the running year waits for the year's end (第十八条)."""
    org = make_org(name="长沙市天心区另一门诊部", category="clinic", region_code="430103")
    row = exclude_from_grading(ctx, org, TODAY.year, "本年度停业")
    assert row.effective_on is None


def test_api_states_the_same_absence_as_the_page(app, ctx, session, client, make_org):
    """The public API's subject answer and its grade history state a grade, so they also state why
    there is none: the facility page's sentence from the stored exclusion year, never the reason."""
    from portal.services import api_clients

    from .api_world import basic, bearer

    org = make_org(name="长沙市岳麓区另一停业诊所", category="clinic", region_code="430104")
    session.add(Grade(subject_id=org.id, year=TODAY.year - 2, letter="A", score=99, explanation=[],
                      profile_id=ctx.profile.id))
    _, secret = api_clients.create_client(ctx, "pub.dept", name="湖南省市场监督管理局", purpose="公开信息比对",
                                          scopes=["records:read:public"])
    exclude_from_grading(ctx, org, TODAY.year - 1, REASON)
    session.commit()
    api = app.test_client()
    resp = api.post("/api/v1/token", data={"grant_type": "client_credentials"}, headers=basic("pub.dept", secret))
    auth = bearer(resp.get_json()["access_token"])
    expected = grade_absence(session, org.id, TODAY, ctx.profile)
    assert expected["year"] == TODAY.year - 1
    facility = _grade_section(client.get(f"/facility/{org.public_id}").get_data(as_text=True), ".grade-card")
    assert expected["text"] in facility
    subject = api.get(f"/api/v1/subjects/{org.credit_code}", headers=auth).get_json()
    assert subject["grade"] is None and subject["grade_absence"] == expected
    records = api.get(f"/api/v1/subjects/{org.credit_code}/records", headers=auth).get_json()
    assert records["subject"]["grade_absence"] == expected
    grades = api.get(f"/api/v1/subjects/{org.credit_code}/grades", headers=auth)
    assert grades.get_json()["grade_absence"] == expected
    for body in (subject, records, grades.get_json()):
        assert "EXCL-CANARY" not in str(body) and "立案调查" not in str(body)
    kept = make_org(name="长沙市岳麓区照常诊所", category="clinic", region_code="430104")
    session.commit()
    assert api.get(f"/api/v1/subjects/{kept.credit_code}", headers=auth).get_json()["grade_absence"] is None
