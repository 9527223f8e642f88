"""The privacy boundary (DESIGN.md): canaries planted in records the public may not see never
reach a search result, a facility page or a list; a person's full ID number never appears."""
from __future__ import annotations

from datetime import date

import pytest

from portal.services.records import set_record_status

CANARIES = {
    "shared": "CANARY-SHARED-7f3a",
    "on_request": "CANARY-ONREQ-91bc",
    "expired": "CANARY-EXPIRED-4d2e",
    "future": "CANARY-FUTURE-aa10",
    "repaired": "CANARY-REPAIRED-5e61",
    "withdrawn": "CANARY-WITHDRAWN-0c9d",
}


@pytest.fixture
def planted(make_org, make_person, make_record, ctx, reindex):
    org = make_org(name="金星口腔诊所", category="clinic", address="长沙市芙蓉区五一大道1号")
    make_record(org, title="公开处罚：未按规定消毒", severity="general")
    make_record(org, title=f"不公开 {CANARIES['shared']}", scope="shared")
    make_record(org, title=f"申请查询 {CANARIES['on_request']}", scope="on_request", content="患者王小明 13812345678")
    make_record(org, title=f"已过期 {CANARIES['expired']}", decided_on=date(2024, 1, 10),
                publish_until=date(2024, 12, 31))
    make_record(org, title=f"未开始 {CANARIES['future']}", publish_from=date(2026, 12, 1),
                publish_until=date(2027, 6, 1))
    repaired = make_record(org, title=f"已修复 {CANARIES['repaired']}")
    set_record_status(ctx, repaired, "repaired", "信用修复决定")
    withdrawn = make_record(org, title=f"已撤销 {CANARIES['withdrawn']}")
    set_record_status(ctx, withdrawn, "withdrawn", "异议成立")
    doctor = make_person(name="李医生", employer_id=org.id)
    make_record(doctor, title="医师超范围执业", severity="minor", decided_on=date(2026, 10, 8),
                publish_until=date(2026, 12, 31))
    full_id = ctx.protector.decrypt(doctor.code_cipher)
    reindex()
    return org, doctor, full_id


def _pages(client, org, doctor):
    urls = [f"/facility/{org.public_id}", f"/facility/{doctor.public_id}", "/lists/red", "/lists/serious",
            "/search?q=金星", "/search?q=口腔", "/search?q=CANARY", "/search?q=李医生", "/search?q=超范围",
            "/search?category=clinic"]
    return {u: client.get(u) for u in urls}


def test_canaries_never_public(client, planted):
    org, doctor, full_id = planted
    pages = _pages(client, org, doctor)
    for url, resp in pages.items():
        assert resp.status_code == 200, url
        body = resp.get_data(as_text=True)
        for canary in CANARIES.values():
            assert canary not in body, (url, canary)
        assert full_id not in body, url
        assert "13812345678" not in body
    # the public record is there, so the checks above are not vacuous
    assert "公开处罚：未按规定消毒" in pages[f"/facility/{org.public_id}"].get_data(as_text=True)
    from bs4 import BeautifulSoup

    hits = BeautifulSoup(pages["/search?q=金星"].get_data(as_text=True), "html.parser").select(".hit-name")
    assert [h.get_text() for h in hits] == ["金星口腔诊所"]


def test_index_documents_hold_only_public_text(rt, planted):
    org, doctor, full_id = planted
    from search_index import SearchQuery

    results = rt.backend.search(SearchQuery(text="", filters={"category": "clinic"}, page=1, per_page=50))
    blob = repr([h.doc for h in results.hits])
    assert "金星口腔诊所" in blob
    for canary in CANARIES.values():
        assert canary not in blob
    assert full_id not in blob


def test_person_shows_masked_id_only(client, planted):
    org, doctor, full_id = planted
    body = client.get(f"/facility/{doctor.public_id}").get_data(as_text=True)
    assert doctor.code_masked in body
    assert full_id[6:14] not in body  # the birth date part is masked


def test_minor_never_published(make_person, make_record, client, reindex):
    child = make_person(name="王小宝", birth=date(2012, 3, 4))
    make_record(child, record_type="commendation", title="少年志愿者表彰")
    reindex()
    assert client.get(f"/facility/{child.public_id}").status_code == 404
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(client.get("/search?q=王小宝").get_data(as_text=True), "html.parser")
    assert soup.select(".hit") == []


def test_preliminary_grade_never_public(rt, session, client, make_org, make_record):
    """Issue 16: a preliminary result (初评, 湖南医保 第十九条) is shown to the subject and staff only.
    Until the window passes it is not in the index, the facility page, search or the summary table
    (the chatbot, QR page and report PDF: tests/integration/test_grading_cycle.py); then the formal
    letter is — and its explanation (which names non-public records) never is."""
    from bs4 import BeautifulSoup
    from sqlalchemy import select

    from portal.models import GradingResult
    from portal.services import grading_cycle, indexing
    from search_index import SearchQuery

    canary = "CANARY-PRELIM-EXPLAIN-77d1"
    org = make_org(name="木星口腔诊所", category="clinic")
    make_record(org, title=f"不公开 {canary}", scope="shared", decided_on=date(2026, 6, 1))

    def at(day):
        rt.settings["PORTAL_TODAY"] = day.isoformat()
        session.commit()
        while indexing.drain(session, rt.backend, rt.today(), rt.profile):
            pass
        return rt.context(session, "test")

    grading_cycle.run_cycle(at(date(2027, 1, 20)))  # hunan: 2026's preliminary results
    prelim = session.execute(select(GradingResult).where(GradingResult.subject_id == org.id)).scalar_one()
    assert canary in repr(prelim.explanation) and prelim.letter != "A"  # a real, lowered preliminary grade

    def public_surfaces():
        pages = [client.get(u).get_data(as_text=True) for u in
                 (f"/facility/{org.public_id}", "/search?q=木星", "/grades/summary?year=2026")]
        docs = rt.backend.search(SearchQuery(text="木星", filters={}, page=1, per_page=5)).hits
        return pages, [h.doc for h in docs]

    at(date(2027, 1, 21))
    pages, docs = public_surfaces()
    facility = BeautifulSoup(pages[0], "html.parser")
    assert facility.select_one(".grade-card .grade.big") is None and "尚未评定信用等级" in pages[0]
    assert [d["grade"] for d in docs] == [""]
    assert "暂无正式评价结果" in pages[2]
    for body in pages:
        assert canary not in body
    grading_cycle.run_cycle(at(date(2027, 2, 1)))  # the window has passed: formal
    at(date(2027, 2, 1))
    pages, docs = public_surfaces()
    assert BeautifulSoup(pages[0], "html.parser").select_one(".grade-card .grade.big").get_text() == prelim.letter
    assert [d["grade"] for d in docs] == [prelim.letter]  # once, on every backend (no stale copy)
    for body in pages:
        assert canary not in body
    assert canary not in repr(docs)
