"""湖南 第二十八条第三款: after a rejected objection the applicant may ask for a review; when the
review window passes unused the case closes by itself and the public "异议处理中" marker goes."""
from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from bs4 import BeautifulSoup

from portal.models import Case
from portal.services import cases
from portal.services.case_sweep import sweep_case, sweep_lapsed
from portal.services.errors import ServiceError

APPLICANT = cases.Applicant("https://idp.example.test", "sub-rep", "王法人")


@pytest.fixture
def rejected(ctx, session, make_org, make_record, reindex):
    org = make_org(name="长沙市雨花区安康诊所", category="clinic")
    rec = make_record(org, title="未按规定公示价格", decided_on=date(2026, 10, 9))
    case = cases.file_objection(ctx, org, rec, ground="fact_error", statement="记载有误", applicant=APPLICANT,
                                commitment=True, identity_confirmed=True)
    cases.decide_objection(ctx, case, "reject", role="department", reason="经核查，处罚事实清楚")
    reindex()
    return org, case


def test_review_window_set_on_rejection(rejected):
    org, case = rejected
    assert case.state == "rejected" and case.open
    assert case.due_on == date(2026, 12, 11)  # 2026-11-20 + 15 working days (editable default)


def test_unused_window_closes_case_and_marker_goes(ctx, session, rt, client, rejected):
    org, case = rejected
    markers = lambda today=None: cases.case_markers(session, rt.profile, org.id, today)  # noqa: E731
    assert markers() == {case.record_lineage_id: "异议处理中"}
    facility = BeautifulSoup(client.get(f"/facility/{org.public_id}").get_data(as_text=True), "html.parser")
    assert [t.get_text() for t in facility.select(".tag.case")] == ["异议处理中"]

    last_day = dataclasses.replace(ctx, today=date(2026, 12, 11))
    assert sweep_lapsed(last_day) == [] and case.open  # the window's last day is still inside it
    assert markers(date(2026, 12, 11)) != {}
    assert markers(date(2026, 12, 12)) == {}  # lazily: gone before the sweep runs

    later = dataclasses.replace(ctx, today=date(2026, 12, 14))
    assert sweep_lapsed(later) == [case]
    session.commit()
    assert not case.open and case.state == "closed" and case.outcome == "closed"
    assert case.closed_on == date(2026, 12, 12)  # the day after the window's last day
    assert "湖南 第二十八条第三款" in case.outcome_reason
    last = case.events[-1]
    assert (last.role, last.action, last.from_state, last.to_state) == ("system", "accept", "rejected", "closed")
    assert markers() == {}
    assert sweep_lapsed(later) == []  # idempotent


def test_late_review_request_refused(ctx, session, rejected):
    org, case = rejected
    late = dataclasses.replace(ctx, today=date(2026, 12, 14))
    with pytest.raises(ServiceError, match="期限已于 2026-12-11 届满"):
        cases.act(late, case, "request_review", role="applicant")
    in_time = dataclasses.replace(ctx, today=date(2026, 12, 11))
    cases.act(in_time, case, "request_review", role="applicant", reason="对处理结果不服")
    assert case.state == "review"
    assert not sweep_case(late, case)  # the review step waits for the reviewer, it does not lapse


def test_cli_sweep(app, rt, session, rejected, monkeypatch):
    from click.testing import CliRunner

    from portal.cli import main

    org, case = rejected
    session.commit()
    monkeypatch.setenv("PORTAL_TODAY", "2026-12-14")
    for key, value in rt.settings.items():
        if key.startswith(("PORTAL_", "DATABASE_", "SEARCH_")) and key != "PORTAL_TODAY":
            monkeypatch.setenv(key, value)
    result = CliRunner().invoke(main, ["cases", "sweep"])
    assert result.exit_code == 0, result.output
    assert case.case_no in result.output and "自动办结的案件：1" in result.output
    session.expire_all()
    assert session.get(Case, case.id).closed_on == date(2026, 12, 12)
