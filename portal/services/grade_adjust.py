"""The grade after a decided credit repair (湖南 第三十一条（三） "按规定调整信用等级").

What "按规定" means differs per document, so the profile says it (``repair.grade_adjustment``,
``domain.grading_cycle.repair_grade_mode``):

- direct (湖南 第三十一条（三）; jiangsu and guangdong follow it as editable defaults): the repair
  decision is itself a decided procedure with a public notice of at least five working days and
  no objection (湖南 第三十条（三）（四）), so the stored formal grades are recomputed at once —
  except a year a pending preliminary result (初评) or an objection is about: that one is the
  cycle's (a pending 初评 is reissued with the repaired record and a fresh window, an objection is
  left to its decision, which then applies the repair to the grade it makes formal);
- cycle (湖南医保 第十六、十九条; 第二十五条第三款 gives the repair no grade effect of its own): the
  dynamic result after the repair is a new preliminary result with its objection window, formal
  only after it — the formal grade is not touched;
- none (海南 第四十二条（五） lists no grade effect): the formal grades stay; the next period grades
  the repaired record. A pending 初评 is still reissued: it is not a result yet, and the cycle
  computes from the records as they stand.

Every surface reads the result through ``services.indexing.grade_in_force``; the grades table
changes only here, in ``services.grading_cycle`` and in the migration/demo loaders."""
from __future__ import annotations

from sqlalchemy import select

from ..domain import grading_cycle as rules
from ..models import Grade, GradingResult
from .audit import record_event
from .context import ServiceContext
from .grading import compute_grades
from .grading_cycle import open_grade_years, reissue_for_subject


def adjust_after_repair(ctx: ServiceContext, subject_id: int, why: str = "") -> dict:
    """Apply the profile's grade effect of a decided repair; audited as ``grade.repair_adjust``."""
    mode = rules.repair_grade_mode(ctx.profile)
    out = reissue_for_subject(ctx, subject_id)  # results not formal yet follow the records (all modes)
    adjusted: list[int] = []
    held = sorted(set(out["held"]) | open_grade_years(ctx, subject_id))
    for result in ctx.session.execute(select(GradingResult).where(GradingResult.subject_id == subject_id,
                                                                  GradingResult.status == rules.OBJECTED)).scalars():
        result.repair_held_on = ctx.today  # the decision applies this repair (grading_cycle.decide_grade_objection)
    if mode == rules.DIRECT:
        years = ctx.session.execute(select(Grade.year).where(Grade.subject_id == subject_id).distinct()).scalars().all()
        for year in sorted(set(years) - set(held)):
            if compute_grades(ctx, year, [subject_id], overwrite_formal=True):
                adjusted.append(year)
    record_event(ctx.session, ctx.actor, "grade.repair_adjust", subject_id=subject_id,
                 detail={"mode": mode, "article": ctx.profile.repair.article_for("grade_adjustment"),
                         "adjusted_years": adjusted, "held_years": held, "preliminary_issued": out["issued"],
                         "why": why})
    return {"mode": mode, "adjusted": adjusted, "held": held, "issued": out["issued"]}
