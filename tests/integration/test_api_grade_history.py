"""The public API's grade history lists exactly the formal grades the public may see — the rule of
the grade in force (``services.indexing.grade_published``): under a rolling profile (湖南医保
第十六条 动态考评) the running year's formal result is in it from the day it became formal
(第十九条), and a 初评 not yet formal never is."""
from __future__ import annotations

from datetime import date

from portal.models import Grade
from portal.services import api_clients
from portal.services import grading_cycle as cycle_svc
from portal.services.records import add_record

from ..conftest import TODAY, context_on, profile_per_test
from .api_world import basic, bearer

PROFILES = {"test_rolling_history_lists_the_running_years_formal_grade": "hunan-mi"}

settings = profile_per_test(PROFILES)
_at = context_on


def _api(app, ctx, session):
    _, secret = api_clients.create_client(ctx, "pub.dept", name="湖南省市场监督管理局", purpose="公开信息比对",
                                          scopes=["records:read:public"])
    session.commit()
    api = app.test_client()
    resp = api.post("/api/v1/token", data={"grant_type": "client_credentials"}, headers=basic("pub.dept", secret))
    return api, bearer(resp.get_json()["access_token"])


def test_rolling_history_lists_the_running_years_formal_grade(app, rt, ctx, session, make_org):
    org = make_org(name="长沙市芙蓉区某药店", category="pharmacy", region_code="430102")
    session.add(Grade(subject_id=org.id, year=TODAY.year - 1, letter="A", score=100, explanation=[],
                      profile_id="hunan-mi", formal_on=date(TODAY.year - 1, 12, 1)))
    add_record(_at(rt, session, date(2026, 10, 2)), org, record_type="penalty", severity="general",
               title="串换药品", decided_on=date(2026, 10, 1), authority="长沙市医疗保障局")
    cycle_svc.run_cycle(_at(rt, session, date(2026, 10, 5)))
    session.commit()
    assert cycle_svc.run_cycle(_at(rt, session, date(2026, 10, 30)))["formal"] == 1  # window passed unused
    session.commit()
    # a newer dynamic result, still a 初评 inside its window on TODAY: not public
    add_record(_at(rt, session, date(2026, 11, 18)), org, record_type="penalty", severity="serious",
               title="虚构医药服务项目", decided_on=date(2026, 11, 17), publish_until=date(2029, 11, 16),
               authority="长沙市医疗保障局")
    assert cycle_svc.run_cycle(_at(rt, session, date(2026, 11, 19)))["generated"] == 1
    session.commit()
    pending = cycle_svc.subject_results(_at(rt, session, TODAY), org)
    rt.settings["PORTAL_TODAY"] = TODAY.isoformat()

    api, auth = _api(app, ctx, session)
    subject = api.get(f"/api/v1/subjects/{org.credit_code}", headers=auth).get_json()
    history = api.get(f"/api/v1/subjects/{org.credit_code}/grades", headers=auth).get_json()["grades"]
    assert subject["grade"] == {"letter": "B", "year": TODAY.year}  # the formal result in force
    assert history == [{"letter": "B", "year": TODAY.year}, {"letter": "A", "year": TODAY.year - 1}]
    assert [r["letter"] for r in pending] == ["C"]  # the 初评 (subject and staff only) is not listed


def test_yearly_history_never_lists_a_row_of_the_running_year(app, rt, ctx, session, make_org):
    """Yearly (湖南 第十八条): this year's result is determined next year; a row of the running year
    without a formal day (a direct write) is not a published grade."""
    org = make_org(name="长沙市芙蓉区某诊所", category="clinic", region_code="430102")
    session.add_all([Grade(subject_id=org.id, year=TODAY.year - 1, letter="B", score=80, explanation=[],
                           profile_id="hunan"),
                     Grade(subject_id=org.id, year=TODAY.year, letter="D", score=10, explanation=[],
                           profile_id="hunan")])
    session.commit()
    api, auth = _api(app, ctx, session)
    history = api.get(f"/api/v1/subjects/{org.credit_code}/grades", headers=auth).get_json()["grades"]
    assert history == [{"letter": "B", "year": TODAY.year - 1}]
