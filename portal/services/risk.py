"""The current-risk summary of a public page (issue #13 "What the page says first"): the pure
rule (``domain.risk``) plus what only the database knows: when the grade was made and when the
public data last changed (``public_version.changed_at``), not the time of the request."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from .. import public_version
from ..domain.risk import grade_note, interim_notice, risk_summary
from .verifiable import china_time

_READ = object()


def public_risk(session: Session | None, subject_view: dict, public_views: list[dict], grade, today: date,
                profile=None, *, changed=_READ) -> dict:
    """``subject_view`` / ``public_views``: public views only (``domain.disclosure``). Under a
    rolling profile the note gives the day the grade became formal (``grades.formal_on``).
    ``changed``: when the public data last changed, if the caller read it already (the public
    page's one statement); otherwise read here (``public_version.changed_at``)."""
    summary = risk_summary(subject_view, public_views, today)
    rolling = profile is not None and profile.grading.period == "rolling"
    if grade is None:
        graded_on = None
        summary["grade_note"] = ""
    elif rolling:
        graded_on = grade.formal_on
        summary["grade_note"] = grade_note(grade.year, grade.formal_on, rolling_article=profile.grading.article)
    else:
        graded_on = china_time(grade.computed_at).date() if grade.computed_at else None
        summary["grade_note"] = grade_note(grade.year, graded_on)
    allowed = getattr(getattr(profile, "display", None), "interim_notice", False)
    summary["interim"] = interim_notice(public_views, graded_on, grade.year) \
        if allowed and grade is not None and not rolling else ""
    if changed is _READ:
        changed = public_version.changed_at(session.connection())
    summary["data_time"] = f"{china_time(changed):%Y-%m-%d %H:%M}" if changed else ""
    return summary
