"""Exclusions stored before ``grading_exclusions.effective_on`` existed (migration 0028) get the
day they took effect, so an old exclusion of a rolling profile's running year ends the grade in
force the way a new one does (湖南医保 第十六条 动态考评; ``domain.grading_cycle.exclusion_effective_on``)
instead of waiting for 1 January. Run by every ``credit-portal grade run`` (before ``run_cycle``): idempotent,
a row once filled is never touched again, and under a yearly profile nothing is filled (湖南 第十八条:
an exclusion ends an older grade when its year has ended, which NULL already means)."""
from __future__ import annotations

from sqlalchemy import select

from ..domain.grading_cycle import backfilled_effective_on
from ..models import GradingExclusion
from .audit import record_event
from .context import ServiceContext
from .grading_cycle import require_runner
from .indexing import enqueue


def backfill_exclusion_effective(ctx: ServiceContext) -> int:
    """Fill ``effective_on`` of old rows it applies to; one audit event ``grade.exclusion.backfill``
    listing them; the subjects' search documents follow (their grade in force may end). Who may:
    as for running the cycle (``grading_cycle.require_runner``)."""
    require_runner(ctx)
    period = ctx.profile.grading.period
    filled: list[dict] = []
    for row in ctx.session.execute(select(GradingExclusion).where(GradingExclusion.effective_on.is_(None))
                                   .order_by(GradingExclusion.id)).scalars():
        on = backfilled_effective_on(period, row.year, row.created_at)
        if on is None:
            continue
        row.effective_on = on
        enqueue(ctx.session, row.subject_id, "grade")
        filled.append({"exclusion": row.id, "subject_id": row.subject_id, "year": row.year,
                       "effective_on": on.isoformat()})
    if filled:
        ctx.session.flush()
        record_event(ctx.session, ctx.actor, "grade.exclusion.backfill", detail={
            "rows": filled, "profile": ctx.profile.id,
            "article": ctx.profile.grading.article, "why": "effective_on missing (stored before migration 0028)"})
    return len(filled)
