"""Yearly grading (湖南 第十七–十八条; 海南 第二十九–三十条): the pure rule in
``portal.domain.grading`` applied to every subject, stored with its explanation."""
from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass

from sqlalchemy import select

from ..domain.grading import grade_subject
from ..models import CreditRecord, Grade, Subject
from ..models.base import utcnow
from .audit import record_event
from .context import ServiceContext
from .indexing import enqueue

BATCH = 2000


def _explain(result) -> list[dict]:
    """The explanation as JSON-safe dicts (dates become ISO strings)."""
    rows = [asdict(e) if is_dataclass(e) else dict(e) for e in result.explanation]
    return json.loads(json.dumps(rows, ensure_ascii=False, default=str))


def compute_grades(ctx: ServiceContext, year: int, subject_ids: list[int] | None = None) -> int:
    """Grade every subject (or the given ones) for ``year``; re-grading replaces that year's row
    and the change is audited."""
    session = ctx.session
    ids = subject_ids if subject_ids is not None else list(session.execute(select(Subject.id).order_by(Subject.id)).scalars())
    count = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        records: dict[int, list[CreditRecord]] = {sid: [] for sid in chunk}
        for r in session.execute(select(CreditRecord).where(CreditRecord.subject_id.in_(chunk),
                                                            CreditRecord.is_current.is_(True))).scalars():
            records[r.subject_id].append(r)
        existing = {g.subject_id: g for g in session.execute(
            select(Grade).where(Grade.subject_id.in_(chunk), Grade.year == year)).scalars()}
        for sid in chunk:
            result = grade_subject(records[sid], ctx.profile, year)
            explanation = _explain(result)
            grade = existing.get(sid)
            if grade is None:
                session.add(Grade(subject_id=sid, year=year, letter=result.letter, score=result.score,
                                  explanation=explanation, profile_id=ctx.profile.id))
            elif (grade.letter, grade.score) != (result.letter, result.score):
                record_event(session, ctx.actor, "grade.change", subject_id=sid, object_ref=f"grade:{grade.id}",
                             detail={"year": year, "from": grade.letter, "to": result.letter})
                grade.letter, grade.score, grade.explanation = result.letter, result.score, explanation
                grade.computed_at = utcnow()
            else:
                continue
            enqueue(session, sid, "grade")
            count += 1
        session.flush()
    record_event(session, ctx.actor, "grade.run", detail={"year": year, "graded": count, "profile": ctx.profile.id})
    return count
