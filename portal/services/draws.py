"""双随机、一公开 draws by credit grade: announce (publish the seed's SHA-256), run (fix the
population, reveal the seed, draw units and inspectors), record inspection results, publish.

阳山 四（四）: "将信用分级评价结果与全县卫生健康'双随机、一公开'检查对象名录库对接…按照 A 级 5%、B 级 20%、
C 级 50%、D 和 E 级 100% 的随机监督抽查比例，开展现场检查"; 湖南 第二十条（二）、第二十一条（二）、
第二十三条; 海南 第三十二条; 湖南医保 第二十条. The algorithm is the pure function in
``portal.domain.draw``; this module only gathers its inputs and stores and audits its output.

Seed: commit-then-reveal. ``announce_draw`` generates the seed and publishes only its SHA-256,
before the population exists; ``run_draw`` fixes the population (organisations of the category
in the region, status active, with the formal grade in force on the day of the draw — the same
rule as the public pages — or ``未评级``) and publishes it with the seed, so that anyone can check sha256(seed) and re-run
the function. Limitation: the seed is stored in the database between the two steps (readable by
a database administrator, not by any page); the population changes in that interval are all in
the audit chain.

Subjects without a formal grade (a new unit, or one not taking part in the period, 湖南 第十八条)
form their own stratum ``未评级`` at the profile's ``inspection.ungraded_percent``.

Only organisations are drawn and published, by name and 统一社会信用代码 (public registration
information); inspectors are persons and never appear on a public page; findings are staff-only
text, the public sees the outcome label.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..domain import draw as algo
from ..domain.vocab import CATEGORIES, SubjectKind
from ..domain.workdays import add_workdays
from ..models import Draw, DrawConflict, DrawInspector, DrawItem, StaffUser, Subject
from ..models.base import utcnow
from .audit import record_event
from .calendar import load_calendar
from .context import ServiceContext
from .errors import ServiceError
from .indexing import grades_in_force
from .records import add_record
from .staff import ADMIN, in_region

ANNOUNCED, DRAWN = "announced", "drawn"
STATUS_LABELS = {ANNOUNCED: "已公布种子承诺，待抽取", DRAWN: "已抽取"}
#: Inspection outcomes (the public sees the label, never the staff's finding text).
OUTCOMES = {
    "compliant": "未发现问题",
    "rectify": "发现问题，责令整改",
    "penalty": "发现违法行为，依法查处",
    "unreachable": "无法检查（停业、查无下落等）",
}
RUNNER_ROLES = {"department", ADMIN}
FINDING_LIMIT = 2000
REASON_LIMIT = 500


def _check_runner(user: StaffUser | None, region_code: str) -> None:
    """Staff who may announce and run a draw: a department or admin account covering the region.
    ``None`` is the command line (the operator of the server)."""
    if user is None:
        return
    if not isinstance(user, StaffUser):  # a logged-in person (ctx.caller), never a draw's organiser
        raise ServiceError("无权组织该地区的“双随机”抽查", "region", 403)
    if not user.active or not RUNNER_ROLES & set(user.roles) or not in_region(user, region_code):
        raise ServiceError("无权组织该地区的“双随机”抽查", "region", 403)


def _check_filter(ctx: ServiceContext, category: str, region_code: str) -> None:
    if CATEGORIES.get(category, (None, None))[1] != SubjectKind.ORG:
        raise ServiceError("请选择一个机构类别（“双随机”抽查对象为机构）", "category")
    if region_code not in {r.code for r in ctx.profile.regions}:
        raise ServiceError("请选择本辖区内的地区", "region")


def _region_codes(ctx: ServiceContext, region_code: str) -> list[str]:
    """The region and, for a city, its counties (GB/T 2260)."""
    return [r.code for r in ctx.profile.regions if r.code == region_code or r.parent == region_code]


def _next_number(ctx: ServiceContext) -> str:
    year = ctx.today.year
    n = ctx.session.execute(select(func.count(Draw.id)).where(Draw.number.like(f"CJ{year}-%"))).scalar_one()
    return f"CJ{year}-{n + 1:04d}"


def announce_draw(ctx: ServiceContext, category: str, region_code: str, user: StaffUser | None = None) -> Draw:
    """Commit to a fresh seed for a draw of ``category`` in ``region_code``: the seed's SHA-256 is
    published now, the seed at the draw. One pending draw per population."""
    category, region_code = (category or "").strip(), (region_code or "").strip()
    _check_filter(ctx, category, region_code)
    _check_runner(user if user is not None else ctx.caller, region_code)
    pending = ctx.session.execute(select(Draw.number).where(Draw.category == category, Draw.region_code == region_code,
                                                            Draw.status == ANNOUNCED)).scalar_one_or_none()
    if pending:
        raise ServiceError(f"该类别和地区已有待抽取的抽查 {pending}", "region", 409)
    seed = algo.new_seed()
    row = Draw(number=_next_number(ctx), category=category, region_code=region_code, status=ANNOUNCED,
               algorithm=algo.ALGORITHM, seed_sha256=algo.commitment(seed), seed=seed, profile_id=ctx.profile.id,
               ratios={}, population=[], counts=[], announced_by=ctx.actor, drawn_by="")
    ctx.session.add(row)
    try:
        with ctx.session.begin_nested():
            ctx.session.flush()
    except IntegrityError:
        raise ServiceError("抽查编号冲突，请重试", "number", 409) from None
    record_event(ctx.session, ctx.actor, "draw.announce", object_ref=f"draw:{row.number}",
                 detail={"category": category, "region": region_code, "seed_sha256": row.seed_sha256,
                         "algorithm": row.algorithm})
    return row


def percent_by_stratum(profile) -> dict[str, int]:
    """The profile's ratio per grade (阳山 四（四）等), plus the ungraded stratum."""
    ratios = {r.grade: r.percent for r in profile.inspection.ratios}
    ratios[algo.UNGRADED] = profile.inspection.ungraded_percent
    return ratios


def population(ctx: ServiceContext, category: str, region_code: str) -> list[list[str]]:
    """[[code, name, stratum], ...]: active organisations with a credit code, each with the formal
    grade in force today — the one its public page shows (``services.indexing.grades_in_force``:
    last year's yearly grade, or a rolling grade from the day it became formal, 湖南医保 第十六、
    十九、二十条) — or 未评级. A preliminary result (初评) never counts: it is not in ``grades``."""
    rows = ctx.session.execute(
        select(Subject.id, Subject.credit_code, Subject.name)
        .where(Subject.kind == SubjectKind.ORG, Subject.category == category, Subject.status == "active",
               Subject.region_code.in_(_region_codes(ctx, region_code)), Subject.credit_code.is_not(None))
        .order_by(Subject.credit_code)).all()
    grades = grades_in_force(ctx.session, [sid for sid, _, _ in rows], ctx.today)
    letters = {g.letter for g in ctx.profile.grades}
    out = []
    for sid, code, name in rows:
        letter = grades[sid].letter if sid in grades else None
        out.append([code, name, letter if letter in letters else algo.UNGRADED])
    return out


def run_draw(ctx: ServiceContext, category: str, region_code: str, user: StaffUser | None = None) -> Draw:
    """Run the announced draw for this population: fix the population, reveal the seed, draw the
    units per grade stratum and two inspectors per unit with 回避, publish."""
    category, region_code = (category or "").strip(), (region_code or "").strip()
    _check_filter(ctx, category, region_code)
    _check_runner(user if user is not None else ctx.caller, region_code)
    session = ctx.session
    row = session.execute(select(Draw).where(Draw.category == category, Draw.region_code == region_code,
                                             Draw.status == ANNOUNCED).with_for_update()).scalar_one_or_none()
    if row is None:
        raise ServiceError("请先公布种子承诺（announce），再抽取：种子须在对象名录确定之前承诺", "region", 409)
    pop = population(ctx, category, region_code)
    if not pop:
        raise ServiceError("该类别和地区没有可抽查的机构", "category", 409)
    percent = percent_by_stratum(ctx.profile)
    order = algo.stratum_order(g.letter for g in ctx.profile.grades)
    result = algo.draw(row.seed, {code: stratum for code, _, stratum in pop}, percent, order)
    by_code = dict(session.execute(select(Subject.credit_code, Subject.id)
                                   .where(Subject.credit_code.in_([c for c, _ in result.drawn]))).all())
    names = {code: name for code, name, _ in pop}
    assignment = algo.assign_inspectors(row.seed, [c for c, _ in result.drawn], _pool(ctx),
                                        _conflicts(ctx, {c: by_code[c] for c, _ in result.drawn}))
    for rank, (code, stratum) in enumerate(result.drawn, 1):
        session.add(DrawItem(draw_id=row.id, subject_id=by_code[code], code=code, name=names[code], stratum=stratum,
                             rank=rank, inspectors=[int(i) for i in assignment[code]], outcome="", finding=""))
    row.status, row.population = DRAWN, pop
    row.ratios = {"grades_as_of": ctx.today.isoformat(), "percent": percent}
    row.counts = [{"stratum": s.name, "percent": s.percent, "population": s.population, "drawn": len(s.drawn)}
                  for s in result.strata]
    row.drawn_at, row.drawn_on, row.drawn_by = utcnow(), ctx.today, ctx.actor
    row.publish_results_by = add_workdays(ctx.today, ctx.profile.inspection.publish_workdays,
                                          load_calendar(session, ctx.profile))
    session.flush()
    short = [c for c, ids in assignment.items() if len(ids) < algo.INSPECTORS_PER_UNIT]
    record_event(session, ctx.actor, "draw.run", object_ref=f"draw:{row.number}",
                 detail={"seed": row.seed, "seed_sha256": row.seed_sha256, "algorithm": row.algorithm,
                         "grades_as_of": ctx.today.isoformat(), "counts": row.counts, "drawn": [c for c, _ in result.drawn],
                         "units_short_of_inspectors": short})
    return row


def _pool(ctx: ServiceContext) -> list[str]:
    return [str(i) for i in ctx.session.execute(
        select(DrawInspector.staff_user_id).join(StaffUser, StaffUser.id == DrawInspector.staff_user_id)
        .where(DrawInspector.active.is_(True), StaffUser.active.is_(True))).scalars()]


def _conflicts(ctx: ServiceContext, subject_ids: dict[str, int]) -> dict[str, set[str]]:
    """code -> inspectors excluded for it (回避): by the subject itself or by its region."""
    regions = dict(ctx.session.execute(select(Subject.id, Subject.region_code)
                                       .where(Subject.id.in_(list(subject_ids.values())))).all())
    rows = ctx.session.execute(select(DrawConflict)).scalars().all()
    out: dict[str, set[str]] = {}
    for code, sid in subject_ids.items():
        out[code] = {str(c.staff_user_id) for c in rows
                     if c.subject_id == sid or (c.region_code and c.region_code == regions.get(sid))}
    return out


def add_inspector(ctx: ServiceContext, staff: StaffUser) -> DrawInspector:
    """Put a staff account into the inspector pool (执法检查人员名录库)."""
    row = ctx.session.execute(select(DrawInspector).where(DrawInspector.staff_user_id == staff.id)).scalar_one_or_none()
    if row is None:
        row = DrawInspector(staff_user_id=staff.id, active=True)
        ctx.session.add(row)
    elif row.active:
        raise ServiceError("该工作人员已在检查人员名录库中", "username", 409)
    row.active = True
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "draw.inspector_add", object_ref=f"staff:{staff.username}")
    return row


def add_conflict(ctx: ServiceContext, staff: StaffUser, reason: str, *, subject: Subject | None = None,
                 region_code: str = "") -> DrawConflict:
    """回避: ``staff`` is never drawn for ``subject`` or for units in ``region_code``."""
    reason = (reason or "").strip()
    if not reason or len(reason) > REASON_LIMIT:
        raise ServiceError(f"请说明回避理由（不超过 {REASON_LIMIT} 字）", "reason")
    if (subject is None) == (not region_code):
        raise ServiceError("回避须指定一个机构或一个地区", "subject")
    if region_code and region_code not in {r.code for r in ctx.profile.regions}:
        raise ServiceError("请选择本辖区内的地区", "region")
    row = DrawConflict(staff_user_id=staff.id, subject_id=subject.id if subject else None,
                       region_code=region_code or "", reason=reason)
    ctx.session.add(row)
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "draw.conflict_add", subject_id=subject.id if subject else None,
                 object_ref=f"staff:{staff.username}", detail={"region": region_code, "reason": reason})
    return row


def record_inspection(ctx: ServiceContext, item: DrawItem, outcome: str, finding: str, *,
                      inspected_on: date | None = None, user: StaffUser | None = None,
                      new_record: dict | None = None) -> DrawItem:
    """The result of inspecting a drawn unit. ``new_record`` (fields of
    ``portal.services.records.add_record``) files the credit record the inspection produced —
    through the record verb, with its own checks and audit event — and links it."""
    draw = ctx.session.get(Draw, item.draw_id)
    user = user if user is not None else ctx.caller  # the web passes who asks as ctx.caller
    if user is not None and not isinstance(user, StaffUser):  # a logged-in person
        raise ServiceError("检查结果由抽中的检查人员或组织抽查的部门录入", "outcome", 403)
    if user is not None and not _is_inspector(item, user):
        _check_runner(user, draw.region_code)  # the assigned inspectors, or the organising department
    if outcome not in OUTCOMES:
        raise ServiceError("请选择检查结果", "outcome")
    finding = (finding or "").strip()
    if len(finding) > FINDING_LIMIT:
        raise ServiceError(f"检查情况不能超过 {FINDING_LIMIT} 字", "finding")
    if outcome != "compliant" and not finding:
        raise ServiceError("发现问题或无法检查的，请填写检查情况", "finding")
    if item.outcome:
        raise ServiceError("该机构的检查结果已登记", "outcome", 409)
    inspected_on = inspected_on or ctx.today
    if draw.drawn_on is None or not draw.drawn_on <= inspected_on <= ctx.today:
        raise ServiceError("检查日期须在抽取之日和今天之间", "inspected_on")
    if new_record is not None:
        if outcome not in RECORD_OUTCOMES:
            raise ServiceError("未发现问题的检查不产生信用记录", "outcome")
        subject = ctx.session.get(Subject, item.subject_id)
        record = add_record(ctx, subject, **new_record)
        item.record_id = record.id
    item.outcome, item.finding, item.inspected_on = outcome, finding, inspected_on
    item.published_on = ctx.today  # the public page shows it from now on; late if after the deadline
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "draw.inspect", subject_id=item.subject_id,
                 object_ref=f"draw:{draw.number}", detail={"code": item.code, "outcome": outcome,
                                                           "record_id": item.record_id,
                                                           "published_on": ctx.today.isoformat(),
                                                           "late": ctx.today > draw.publish_results_by})
    return item


#: Outcomes after which the inspection may feed a credit record (a problem was found).
RECORD_OUTCOMES = ("rectify", "penalty")


def link_inspection_record(ctx: ServiceContext, item: DrawItem, record_id: str, *,
                           user: StaffUser | None = None) -> DrawItem:
    """Link the credit record an inspection led to — typically the penalty decided later under the
    普通程序 (湖南 第十四条) — to the drawn unit: the feedback of 双随机 into the credit records
    (湖南 第二十三条; 海南 第三十二条). The record must be the unit's own, current, decided on or after
    the inspection; one record per inspected unit."""
    from ..models import CreditRecord

    draw = ctx.session.get(Draw, item.draw_id)
    user = user if user is not None else ctx.caller
    if user is not None and not isinstance(user, StaffUser):
        raise ServiceError("检查结果由抽中的检查人员或组织抽查的部门录入", "record", 403)
    if user is not None and not _is_inspector(item, user):
        _check_runner(user, draw.region_code)
    if item.outcome not in RECORD_OUTCOMES:
        raise ServiceError("只有发现问题的检查结果可以关联信用记录，请先登记检查结果", "record", 409)
    if item.record_id is not None:
        raise ServiceError("该机构的检查结果已关联信用记录", "record", 409)
    text = (record_id or "").strip().lstrip("#")
    record = None
    if text.isascii() and text.isdigit() and len(text) < 10:
        record = ctx.session.get(CreditRecord, int(text))
    if record is None or record.subject_id != item.subject_id:
        raise ServiceError("未找到该机构的这条信用记录", "record", 404)
    if not record.is_current:
        raise ServiceError("请关联该信用记录的现行版本", "record", 409)
    if item.inspected_on is not None and record.decided_on < item.inspected_on:
        raise ServiceError("关联的信用记录须在检查之日或之后作出", "record", 409)
    item.record_id = record.id
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "draw.link_record", subject_id=item.subject_id,
                 object_ref=f"draw:{draw.number}", detail={"code": item.code, "record_id": record.id})
    return item


def _is_inspector(item: DrawItem, user: StaffUser) -> bool:
    return user.active and user.id in (item.inspectors or [])


# --- reading ------------------------------------------------------------------------------------

def public_draws(ctx: ServiceContext) -> list[Draw]:
    """Every draw, newest first (announced ones show only their commitment)."""
    return list(ctx.session.execute(select(Draw).order_by(Draw.id.desc())).scalars())


def draw_by_number(ctx: ServiceContext, number: str) -> Draw | None:
    number = (number or "").strip()
    if not number or len(number) > 20:
        return None
    return ctx.session.execute(select(Draw).where(Draw.number == number)).scalar_one_or_none()


def item_by_id(ctx: ServiceContext, item_id: str) -> DrawItem | None:
    """A drawn unit by the id a staff form sent (digits only), else ``None``."""
    if not (item_id.isascii() and item_id.isdigit() and len(item_id) < 10):
        return None
    return ctx.session.get(DrawItem, int(item_id))


def draw_of(ctx: ServiceContext, item: DrawItem) -> Draw:
    return ctx.session.get(Draw, item.draw_id)


def items(ctx: ServiceContext, draw: Draw) -> list[DrawItem]:
    return list(ctx.session.execute(select(DrawItem).where(DrawItem.draw_id == draw.id).order_by(DrawItem.rank)).scalars())


def public_view(ctx: ServiceContext, draw: Draw) -> dict:
    """What the public page shows: the filter, the commitment, and once drawn the seed, the
    population (organisations: code, name, stratum), the counts and the drawn units with their
    outcome labels. No inspector, no finding text, no record content."""
    view = {"number": draw.number, "category": draw.category, "region_code": draw.region_code,
            "status": draw.status, "status_label": STATUS_LABELS.get(draw.status, draw.status),
            "algorithm": draw.algorithm, "seed_sha256": draw.seed_sha256, "announced_at": draw.announced_at}
    if draw.status != DRAWN:
        return view
    view |= {"seed": draw.seed, "population": draw.population, "counts": draw.counts,
             "grade_year": (draw.ratios or {}).get("grade_year"),  # draws run before grades_as_of
             "grades_as_of": (draw.ratios or {}).get("grades_as_of"), "drawn_on": draw.drawn_on,
             "publish_results_by": draw.publish_results_by,
             "items": [{"rank": i.rank, "code": i.code, "name": i.name, "stratum": i.stratum,
                        "outcome": OUTCOMES.get(i.outcome, ""), "inspected_on": i.inspected_on,
                        "published_on": i.published_on,
                        "overdue": not i.outcome and ctx.today > draw.publish_results_by,
                        "late": bool(i.published_on and i.published_on > draw.publish_results_by)}
                       for i in items(ctx, draw)]}
    return view


def verify(draw_view: dict) -> bool:
    """Re-run the pure function from a published draw (what a citizen's script does)."""
    if algo.commitment(draw_view["seed"]) != draw_view["seed_sha256"]:
        return False
    percent = {c["stratum"]: c["percent"] for c in draw_view["counts"]}
    result = algo.draw(draw_view["seed"], {code: s for code, _, s in draw_view["population"]}, percent,
                       [c["stratum"] for c in draw_view["counts"]])
    return [c for c, _ in result.drawn] == [i["code"] for i in draw_view["items"]]
