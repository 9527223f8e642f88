"""Issue #13 on the facility page, record by record: the interim "评定后有新增失信信息" notice
(where the profile allows it) beside a grade that states its year and date; adverse tags that
differ by severity; an expired licence marked expired; "已可申请" once a repair may be applied
for; publication windows shown from the day publication began, so that the end date agrees
with the window stated (决定 2025-03-20, 公示自 2025-03-25 起 36 个月 → 2028-03-24)."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from bs4 import BeautifulSoup

from portal.models import Grade

CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "portal.css"


def _soup(resp):
    assert resp.status_code == 200
    return BeautifulSoup(resp.get_data(as_text=True), "html.parser")


def _graded(session, org, letter="A"):
    session.add(Grade(subject_id=org.id, year=2025, letter=letter, score=95, explanation=[], profile_id="hunan",
                      computed_at=datetime(2026, 1, 20, 2, 0)))  # 10:00 Beijing time


def test_interim_notice_after_the_grading_where_the_profile_allows(client, rt, session, make_org, make_record,
                                                                   reindex, monkeypatch):
    org = make_org(name="安湾儿童医院", category="hospital")
    make_record(org, title="评定前的处罚", severity="general", decided_on=date(2025, 12, 1))
    make_record(org, title="责令停业整顿三个月", severity="serious", decided_on=date(2026, 6, 1))
    _graded(session, org)
    reindex()
    card = _soup(client.get(f"/facility/{org.public_id}")).select_one(".grade-card")
    assert "2025 年度评定（2026-01-20）；此后新增的信息将在下一年度评定中体现" in card.select_one(".grade-note").get_text()
    assert "之后新增 1 条" in card.select_one(".grade-interim").get_text()
    assert card.select_one("details.grade-scale summary").get_text().startswith("等级说明")  # the scale, one tap
    # a unit with nothing new since the grading gets no notice
    calm = make_org(name="麓山口腔诊所", category="clinic")
    make_record(calm, title="评定前的处罚", severity="general", decided_on=date(2025, 12, 1))
    _graded(session, calm, "B")
    reindex()
    assert _soup(client.get(f"/facility/{calm.public_id}")).select_one(".grade-interim") is None
    # a profile that does not allow it shows none
    monkeypatch.setattr(rt, "profile", replace(rt.profile, display=replace(rt.profile.display, interim_notice=False)))
    assert _soup(client.get(f"/facility/{org.public_id}")).select_one(".grade-interim") is None


def test_adverse_tags_look_different_by_severity(client, make_org, make_record, reindex):
    org = make_org(name="芙蓉区德仁堂大药房", category="pharmacy")
    for severity in ("serious", "general", "minor"):
        make_record(org, title=f"处罚 {severity}", severity=severity, decided_on=date(2026, 10, 1))
    reindex()
    tags = {t.get_text(): t["class"] for t in _soup(client.get(f"/facility/{org.public_id}")).select(".record .tag")}
    assert tags == {"严重": ["tag", "sev-serious"], "一般": ["tag", "sev-general"], "轻微": ["tag", "sev-minor"]}
    css = CSS.read_text(encoding="utf-8")
    rules = {s: re.search(rf"\.tag\.sev-{s}\s*\{{([^}}]*)\}}", css).group(1) for s in ("serious", "general", "minor")}
    assert len(set(rules.values())) == 3  # three different looks


def test_expired_licence_is_marked_expired(client, make_org, reindex):
    org = make_org(name="过期诊所", category="clinic", licence_no="PDY12345643010217A1002",
                   licence_valid_until=date(2026, 3, 31))
    fresh = make_org(name="有效诊所", category="clinic", licence_no="PDY12345643010217A1003",
                     licence_valid_until=date(2028, 3, 31))
    reindex()
    soup = _soup(client.get(f"/facility/{org.public_id}"))
    assert soup.select_one(".facts .tag.bad").get_text() == "已过期"
    assert "许可证已过期（有效期至 2026-03-31）" in soup.select_one("#risk").get_text()
    assert _soup(client.get(f"/facility/{fresh.public_id}")).select_one(".facts .tag.bad") is None


def test_repair_date_says_already_open_once_passed_and_windows_count_from_publication(client, make_org, make_record,
                                                                                      reindex):
    org = make_org(name="星城仁爱医院", category="hospital")
    make_record(org, title="严重处罚", severity="serious", decided_on=date(2025, 3, 20),
                publish_from=date(2025, 3, 25))
    make_record(org, title="一般处罚", severity="general", decided_on=date(2026, 10, 1))
    reindex()
    records = {r.select_one(".record-title").get_text(" ", strip=True).split(" ")[0]: r.select_one(".record-window")
               .get_text(" ", strip=True) for r in _soup(client.get(f"/facility/{org.public_id}")).select(".record")}
    # 36 months from the first day of publication, inclusive: the end agrees with the window stated
    assert records["严重处罚"].startswith("公示期：2025-03-25 至 2028-03-24（自公示之日起算）")
    assert "信用修复：已可申请（自 2026-03-25 起）" in records["严重处罚"]  # 12 months passed (today 2026-11-20)
    assert "可申请信用修复：2027-01-01 起（最短公示期 3 个月）" in records["一般处罚"]
    assert "已可申请" not in records["一般处罚"]


def test_the_notice_step_names_the_page_where_the_notice_appears(client, rt):
    """Issue #13: the repair's notice step says where the notice really appears (this portal's
    信用修复公示 page), in the step and in the reviewer's action that leads to it."""
    step = next(s for s in rt.profile.repair.steps if s.id == "notice")
    page = _soup(client.get("/repair-notices")).h1.get_text(strip=True)
    assert f"“{page}”" in step.label
    review = next(s for s in rt.profile.repair.steps if s.id == "review")
    assert f"“{page}”" in next(t.label for t in review.transitions if t.to == "notice")
