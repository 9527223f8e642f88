"""湖南 第十八条: "根据有关规定不参加本期评价的除外" — a subject excluded from a year is not
graded for it, with the reason recorded and listed."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, Grade
from portal.services.errors import ServiceError
from portal.services.grading import compute_grades, exclude_from_grading, grading_exclusions


def test_excluded_subject_not_graded_and_listed(ctx, session, make_org, make_record):
    taking_part = make_org(name="参评诊所", category="clinic")
    out = make_org(name="停业整顿诊所", category="clinic")
    for org in (taking_part, out):
        make_record(org, decided_on=date(2025, 6, 1), publish_until=date(2026, 5, 31))
    compute_grades(ctx, 2025)
    assert session.execute(select(Grade).where(Grade.subject_id == out.id)).scalar_one().letter
    with pytest.raises(ServiceError, match="依据"):
        exclude_from_grading(ctx, out, 2025, "  ")
    exclude_from_grading(ctx, out, 2025, "2025年全年停业，依规定不参加本期评价")
    assert session.execute(select(Grade).where(Grade.subject_id == out.id)).scalar_one_or_none() is None
    audit = session.execute(select(AuditEvent).where(AuditEvent.action == "grade.exclude")).scalar_one()
    assert audit.detail["withdrawn_grade"] and audit.detail["year"] == 2025
    compute_grades(ctx, 2025)  # a re-run does not grade it again
    graded = set(session.execute(select(Grade.subject_id).where(Grade.year == 2025)).scalars())
    assert taking_part.id in graded and out.id not in graded
    compute_grades(ctx, 2024)  # only that period
    assert out.id in set(session.execute(select(Grade.subject_id).where(Grade.year == 2024)).scalars())
    rows = grading_exclusions(ctx, 2025)
    assert [(s.name, r.reason) for r, s in rows] == [("停业整顿诊所", "2025年全年停业，依规定不参加本期评价")]
    with pytest.raises(ServiceError) as err:
        exclude_from_grading(ctx, out, 2025, "再次登记")
    assert err.value.status == 409
