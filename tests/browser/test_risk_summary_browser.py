"""Issue #13 "What the page says first": on a phone (390×844) the current-risk summary is in the
first screen of the facility page, the scan page and the search hits, for a blacklisted unit
with a good grade, a D-grade unit and a unit whose licence was revoked."""
from __future__ import annotations

from datetime import date

import pytest

from portal.models import Grade
from portal.services import plates as svc

LONG_ADDRESS = "长沙市芙蓉区五一大道1号金星大厦B座12楼1201-1205室（地铁2号线芙蓉广场站C出口往东200米）"


@pytest.fixture
def units(ctx, session, make_org, make_record, reindex):
    def unit(name, letter, **kw):
        org = make_org(name=name, category="pharmacy", address=LONG_ADDRESS, legal_rep="赵法人",
                       licence_no="湘DA7390008", licence_valid_until=date(2028, 12, 31), **kw)
        for i in range(4):  # older, harmless records: the risk must not sink below them
            make_record(org, record_type="commendation", title=f"年度诚信经营示范单位 {i}", severity=None)
        session.add(Grade(subject_id=org.id, year=2025, letter=letter, score=95 if letter == "A" else 40,
                          explanation=[], profile_id="hunan"))
        return org

    blacklisted = unit("芙蓉区德仁堂大药房", "A")
    make_record(blacklisted, record_type="blacklist", title="销售假药列入失信黑名单", severity="serious",
                decided_on=date(2026, 4, 2), publish_until=date(2029, 4, 1))
    d_grade = unit("天心区百草堂药店", "D")
    make_record(d_grade, title="责令停业整顿三个月", severity="serious", decided_on=date(2026, 9, 1))
    make_record(d_grade, title="未按规定储存药品", severity="general", decided_on=date(2026, 8, 1))
    revoked = unit("岳麓区康宁药店", "A", status="licence_revoked")
    plates = {org.name: svc.issue_plate(ctx, org) for org in (blacklisted, d_grade)}
    reindex()
    return {"blacklisted": (blacklisted, "失信黑名单"), "d_grade": (d_grade, "严重 1 条、一般 1 条"),
            "revoked": (revoked, "许可已被吊销")}, plates


def _above_the_fold(page, selector: str, text: str) -> None:
    risk = page.locator(selector).first
    assert text in risk.inner_text()
    box = risk.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 844, box  # wholly in the first screen
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.browser
@pytest.mark.parametrize("which", ["blacklisted", "d_grade", "revoked"])
def test_facility_page_says_the_risk_first(live_server, phone, units, which):
    org, text = units[0][which]
    phone.goto(f"{live_server}/facility/{org.public_id}")
    _above_the_fold(phone, "#risk", text)
    # the risk comes before the grade, whatever the grade
    assert phone.locator("#risk").bounding_box()["y"] < phone.locator(".grade-card").bounding_box()["y"]
    assert "数据更新时间" in phone.locator("#risk").inner_text()
    assert "此后新增的信息将在下一年度评定中体现" in phone.locator(".grade-card").inner_text()


@pytest.mark.browser
@pytest.mark.parametrize("which", ["blacklisted", "d_grade"])
def test_scan_page_says_the_risk_first(live_server, phone, units, which):
    found, plates = units
    org, text = found[which]
    phone.goto(f"{live_server}/p/{plates[org.name].token}")
    _above_the_fold(phone, "#risk", text)
    assert phone.locator("#risk").bounding_box()["y"] < phone.locator("#grade").bounding_box()["y"]


@pytest.mark.browser
def test_scan_page_of_a_revoked_unit(live_server, phone, ctx, session, units):
    """A plate issued before the revocation: the banner and the summary both in the first screen."""
    found, _ = units
    org, text = found["revoked"]
    org.status = "active"
    plate = svc.issue_plate(ctx, org)
    org.status = "licence_revoked"
    session.commit()
    phone.goto(f"{live_server}/p/{plate.token}")
    _above_the_fold(phone, "#risk", text)
    assert phone.locator("#banner-licence-revoked").is_visible()


@pytest.mark.browser
def test_every_hit_says_the_risk(live_server, phone, units):
    phone.goto(f"{live_server}/search?q=药")
    phone.wait_for_selector(".hit")
    hits = {h.locator(".hit-name").inner_text(): h for h in phone.locator(".hit").all()}
    for org, text in units[0].values():
        risk = hits[org.name].locator(".risk")
        assert text in risk.inner_text() and "risk-bad" in risk.get_attribute("class")
