"""湖南医保 第十六条 (动态考评, 实时查询) and 第十九条 (初评 before the formal result): under a profile
with ``grading.period = "rolling"`` the subject sees a live preliminary grade over the last
``rolling_months``; the public keeps seeing the stored formal grade."""
from __future__ import annotations

from datetime import date

import pytest
from bs4 import BeautifulSoup

from portal.services.grading import rolling_preview

from .test_objection_flow import _rep


@pytest.fixture
def settings(settings):
    return {**settings, "PORTAL_PROFILE": "hunan-mi"}


def test_rolling_preview_counts_the_last_twelve_months(rt, ctx, session, make_org, make_record, client, login_as):
    org = make_org(name="长沙市开福区惠民药店", category="pharmacy")
    make_record(org, title="串换药品被处理", decided_on=date(2026, 3, 2))        # inside 2025-11-21..2026-11-20
    make_record(org, title="早前违规被处理", decided_on=date(2025, 10, 8))      # before the rolling window
    session.commit()
    preview = rolling_preview(ctx, org.id)
    assert (preview.period_start, preview.period_end) == (date(2025, 11, 21), date(2026, 11, 20))
    counted = [e.title for e in preview.explanation if e.kind == "record"]
    assert counted == ["串换药品被处理"]
    assert preview.score < rt.profile.scoring.base
    login_as(client, _rep(org))
    page = BeautifulSoup(client.get(f"/me/subjects/{org.public_id}").get_data(as_text=True), "html.parser")
    box = page.select_one(".rolling-preview")
    assert box is not None and "初评" in box.get_text() and "湖南医保 第十九条" in box.get_text()
    assert box.select_one(".preview-score").get_text() == str(preview.score)
    assert "串换药品被处理" in box.select_one(".preview-explanation").get_text()
    public = client.get(f"/facility/{org.public_id}").get_data(as_text=True)
    assert "动态评价" not in public and "初评" not in public  # the subject's own page only


def test_yearly_profile_has_no_rolling_preview(ctx, make_org):
    """湖南 第十八条: the hunan profile grades yearly; nothing reads as a dynamic result there."""
    from dataclasses import replace

    from portal.profiles import load_profile

    assert rolling_preview(replace(ctx, profile=load_profile("hunan")), make_org(name="某诊所", category="clinic").id) is None
