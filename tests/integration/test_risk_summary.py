"""Issue #13 "What the page says first", server side: the facility page, the scan page and the
search hits open with the current-risk summary computed from public views only, and 数据更新时间
is when this subject's public data last changed, not the request: since branch feedfix a subject
page's time is its own change (``subjects.public_changed_at``) or the last change scoped to no
subject (``KEY_GLOBAL_AT``), the later of the two (``public_version.subject_changed_at``, shown
through ``data_time_value``); another subject's change does not move it."""
from __future__ import annotations

from datetime import date

from bs4 import BeautifulSoup
from sqlalchemy import select

from portal import public_version
from portal.models import State
from portal.services import plates as plate_svc
from portal.services.verifiable import china_time


def _soup(resp):
    assert resp.status_code == 200
    return BeautifulSoup(resp.get_data(as_text=True), "html.parser")


def test_summary_from_public_views_and_the_data_time(client, session, ctx, make_org, make_record, reindex):
    org = make_org(name="安湾儿童医院", category="hospital", licence_valid_until=date(2028, 1, 1))
    make_record(org, title="责令停业整顿三个月", severity="serious")
    make_record(org, record_type="blacklist", title="不公开的黑名单 CANARY-RISK-1", severity="serious",
                scope="shared")
    plate = plate_svc.issue_plate(ctx, org)
    reindex()
    session.refresh(org)
    global_at = public_version.parse_changed_at(session.execute(select(State.value).where(
        State.key == public_version.KEY_GLOBAL_AT)).scalar_one_or_none())
    stored = china_time(public_version.subject_changed_at(global_at, org.public_changed_at))
    for url in (f"/facility/{org.public_id}", f"/p/{plate.token}"):
        risk = _soup(client.get(url)).select_one("#risk")
        items = [li.get_text() for li in risk.select(".risk-item")]
        assert items == ["公示期内行政处罚等失信信息：严重 1 条"], url  # the shared blacklist moves nothing
        assert "risk-bad" in risk["class"]
        assert risk.select_one(".risk-time").get_text().startswith(f"数据更新时间：{stored:%Y-%m-%d %H:%M}")
    hit = _soup(client.get("/search?q=安湾")).select_one(".hit .risk")
    assert [li.get_text() for li in hit.select(".risk-item")] == ["公示期内行政处罚等失信信息：严重 1 条"]


def test_a_clean_unit_says_so(client, make_org, make_record, reindex):
    org = make_org(name="麓山口腔诊所", category="clinic")
    make_record(org, record_type="commendation", title="年度表彰", severity=None)
    reindex()
    risk = _soup(client.get(f"/facility/{org.public_id}")).select_one("#risk")
    assert "risk-ok" in risk["class"] and "公示期内无行政处罚和失信信息" in risk.get_text()
