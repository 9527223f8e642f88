"""海南 第十五条第三款 as a real case: an objection against a finding of serious dishonesty is
decided by the 认定部门 within 15 (calendar) days; a last day on a holiday moves on."""
from __future__ import annotations

from datetime import date

import pytest

from portal.models import CreditRecord
from portal.services import cases

APPLICANT = cases.Applicant("https://idp.example.test", "sub-rep", "符法人")


@pytest.fixture
def settings(settings):
    return {**settings, "PORTAL_PROFILE": "hainan"}


def test_serious_list_objection_case(ctx, session, make_org, make_record):
    org = make_org(name="海口市美兰区康华诊所", category="clinic", region_code="460108")
    listed = make_record(org, record_type="serious_list", title="列入严重失信主体名单", decided_on=date(2026, 9, 1),
                         authority="海口市卫生健康委员会")
    case = cases.file_objection(ctx, org, listed, ground="serious_list", statement="不符合列入条件",
                                applicant=APPLICANT, commitment=True, identity_confirmed=True)
    assert case.state == "serious_decide" and case.received_on == date(2026, 11, 20)
    assert case.due_on == date(2026, 12, 7)  # 11-20 + 15 days = Sat 12-05 → Mon 12-07 (民法典 第二百零三条)
    cases.decide_objection(ctx, case, "delete", role="department", reason="不符合严重失信主体名单认定标准")
    assert not case.open and case.outcome == "deleted"
    assert session.get(CreditRecord, listed.id).status == "deleted"  # kept on file, not published

    penalty = make_record(org, title="未按规定消毒", decided_on=date(2026, 9, 1), authority="海口市卫生健康委员会")
    usual = cases.file_objection(ctx, org, penalty, ground="fact_error", statement="有误", applicant=APPLICANT,
                                 commitment=True, identity_confirmed=True)
    assert usual.state == "triage"  # 海南 第三十八条: the platform operator triages other objections



def test_case_page_schedule_shows_the_15_day_step(client, ctx, session, make_org, make_record, login_as):
    """The applicant's page lists the steps this case can pass through: for a serious-list
    objection the 15-day decision (海南 第十五条第三款), not the operator's triage of others."""
    from bs4 import BeautifulSoup

    from tests.integration.test_objection_flow import _rep

    org = make_org(name="三亚市吉阳区安心诊所", category="clinic", region_code="460204")
    listed = make_record(org, record_type="serious_list", title="列入严重失信主体名单", decided_on=date(2026, 9, 1),
                         authority="三亚市卫生健康委员会")
    case = cases.file_objection(ctx, org, listed, ground="serious_list", statement="不符合列入条件",
                                applicant=APPLICANT, commitment=True, identity_confirmed=True)
    session.commit()
    login_as(client, _rep(org))
    page = BeautifulSoup(client.get(f"/me/subjects/{org.public_id}/cases/{case.case_no}").get_data(as_text=True),
                         "html.parser")
    steps = [li.get_text() for li in page.select("ol.schedule li")]
    assert len(steps) == 1 and "15 日内" in steps[0] and "当前环节，期限 2026-12-07" in steps[0], steps
