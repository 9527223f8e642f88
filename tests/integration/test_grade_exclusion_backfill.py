"""Exclusions stored before ``grading_exclusions.effective_on`` existed (migration 0028): under a
rolling profile (湖南医保 第十六条 动态考评) ``credit-portal grade run`` fills the day each took
effect — the Beijing-time day it was decided — once, audited, so an old exclusion of the running
year ends the grade in force like a new one instead of waiting for 1 January; a yearly profile
(湖南 第十八条) leaves NULL, which already means "when its year has ended"."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from portal.cli import main
from portal.models import AuditEvent, Grade, GradingExclusion, IndexJob
from portal.services import grading_cycle as cycle_svc
from portal.services import indexing
from portal.services.errors import ServiceError
from portal.services.exclusion_backfill import backfill_exclusion_effective

from ..conftest import TODAY

PROFILES = {"test_grade_run_fills_old_rolling_exclusions_once": "hunan-mi",
            "test_backfill_refuses_staff_who_may_not_run_the_cycle": "hunan-mi"}


@pytest.fixture
def settings(settings, request):
    return {**settings, "PORTAL_PROFILE": PROFILES.get(request.function.__name__, "hunan")}


def _old_world(ctx, session, make_org):
    """The formal dynamic result of last December (in force) and a pre-0028 exclusion of this year
    (effective_on NULL, decided on 1 October Beijing time = 30 September 17:00 UTC; the exclusion
    withdrew any grade of its own year), plus an exclusion of last year made this year."""
    org = make_org(name="长沙市开福区停业药店", category="pharmacy", region_code="430105")
    older = make_org(name="长沙市开福区另一药店", category="pharmacy", region_code="430105")
    session.add(Grade(subject_id=org.id, year=TODAY.year - 1, letter="A", score=99, explanation=[],
                      profile_id=ctx.profile.id, formal_on=date(TODAY.year - 1, 12, 1)))
    session.add_all([GradingExclusion(subject_id=org.id, year=TODAY.year, reason="停业整顿", created_by="staff:old",
                                      created_at=datetime(TODAY.year, 9, 30, 17, 0)),
                     GradingExclusion(subject_id=older.id, year=TODAY.year - 1, reason="停业", created_by="staff:old",
                                      created_at=datetime(TODAY.year, 2, 1, 2, 0))])
    session.commit()
    return org, older


def _backfills(session) -> list[AuditEvent]:
    session.expire_all()
    return list(session.execute(select(AuditEvent).where(AuditEvent.action == "grade.exclusion.backfill")).scalars())


def test_grade_run_fills_old_rolling_exclusions_once(settings, monkeypatch, ctx, session, make_org):
    org, older = _old_world(ctx, session, make_org)
    assert indexing.latest_grade(session, org.id, TODAY).letter == "A"  # the old row waits for 1 January
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    jobs = session.execute(select(func.count()).select_from(IndexJob).where(IndexJob.subject_id == org.id)).scalar_one()

    runner = CliRunner()
    first = runner.invoke(main, ["grade", "run"])
    assert first.exit_code == 0, first.output
    assert "补记不参加评价登记的生效日期 1 条" in first.output
    session.expire_all()
    rows = {r.subject_id: r for r in session.execute(select(GradingExclusion)).scalars()}
    assert rows[org.id].effective_on == date(TODAY.year, 10, 1)  # the Beijing-time day it was decided
    assert rows[older.id].effective_on is None  # a finished year's exclusion: in effect already
    assert indexing.latest_grade(session, org.id, TODAY) is None  # ends the grade in force now
    assert session.execute(select(func.count()).select_from(IndexJob)
                           .where(IndexJob.subject_id == org.id)).scalar_one() > jobs  # search follows
    (event,) = _backfills(session)
    assert event.actor == "cli:grade-run" and [r["subject_id"] for r in event.detail["rows"]] == [org.id]
    assert "停业整顿" not in str(event.detail)  # the reason stays where it was

    again = runner.invoke(main, ["grade", "run"])
    assert again.exit_code == 0 and "补记" not in again.output
    assert len(_backfills(session)) == 1  # idempotent


def test_backfill_refuses_staff_who_may_not_run_the_cycle(rt, ctx, session, make_org, make_staff):
    _old_world(ctx, session, make_org)
    reviewer = make_staff("reviewer.backfill", role="reviewer", region_code="430105").user
    session.commit()
    with pytest.raises(ServiceError) as refused:
        backfill_exclusion_effective(rt.context(session, "staff:reviewer.backfill", reviewer))
    assert refused.value.status == 403
    session.rollback()
    assert all(r.effective_on is None for r in session.execute(select(GradingExclusion)).scalars())


def test_yearly_profile_leaves_old_exclusions_alone(rt, ctx, session, make_org):
    org, _older = _old_world(ctx, session, make_org)
    assert backfill_exclusion_effective(ctx) == 0
    cycle_svc.run_cycle(ctx)
    session.commit()
    assert not _backfills(session)
    session.expire_all()
    assert all(r.effective_on is None for r in session.execute(select(GradingExclusion)).scalars())
    # 湖南 第十八条: this year's exclusion does not end a grade before the year has ended
    assert indexing.latest_grade(session, org.id, TODAY).letter == "A"
