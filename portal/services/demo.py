"""Load a synthetic province (``credit-portal demo``) through the ordinary service verbs."""
from __future__ import annotations

from collections.abc import Callable

from ..demo.generator import iter_subjects
from .audit import record_event
from .context import ServiceContext
from .grading import compute_grades
from .records import add_record
from .subjects import register_subject


def load_demo(ctx: ServiceContext, n_subjects: int, seed: int,
              progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Generate and store ``n_subjects`` subjects with records, then grade the last two years."""
    profile = ctx.profile
    regions = []  # where subjects are registered: counties, districts, 省直辖 cities
    for r in profile.leaf_regions():
        parent = profile.region(r.parent)
        regions.append((r.code, r.name, parent.name if parent else r.name))
    ids: dict[str, int] = {}
    pending_employers: list[tuple[object, str]] = []
    n_records = 0
    for subject, records in iter_subjects(regions, n_subjects, seed, ctx.today, profile.authority):
        employer_key = subject.get("employer_key")
        stored = register_subject(
            ctx, kind=subject["kind"], name=subject["name"], code=subject["code"], category=subject["category"],
            region_code=subject["region_code"], address=subject.get("address", ""), phone=subject.get("phone", ""),
            licence_no=subject.get("licence_no", ""), licence_valid_until=subject.get("licence_valid_until"),
            legal_rep=subject.get("legal_rep", ""), status=subject.get("status", "active"),
            employer_id=ids.get(employer_key) if employer_key else None, source_key=subject["key"],
            audit=False)
        ids[subject["key"]] = stored.id
        if employer_key and employer_key not in ids:
            pending_employers.append((stored, employer_key))
        for r in records:
            add_record(ctx, stored, record_type=r["record_type"], info_class=r["info_class"], severity=r.get("severity"),
                       title=r["title"], content=r.get("content", ""), doc_no=r.get("doc_no", ""),
                       authority=r.get("authority", ""), decided_on=r["decided_on"], scope=r["scope"],
                       publish_from=r.get("publish_from"), publish_until=r.get("publish_until"),
                       status=r.get("status", "active"), audit=False,
                       ordinary_procedure=r.get("ordinary_procedure"))
            n_records += 1
        if progress:
            progress(1)
    for stored, key in pending_employers:
        stored.employer_id = ids.get(key)
    ctx.session.flush()
    grades = 0
    for year in (ctx.today.year - 2, ctx.today.year - 1):
        grades += compute_grades(ctx, year)
    record_event(ctx.session, ctx.actor, "demo.load", detail={"subjects": len(ids), "records": n_records,
                                                              "seed": seed})
    return {"subjects": len(ids), "records": n_records, "grades": grades}
