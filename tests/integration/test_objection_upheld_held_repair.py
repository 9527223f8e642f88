"""异议成立 on a 初评 while a credit repair was decided: the decision re-evaluates the period the
初评 was about with the held repair undone, and the repair then has only its profile's grade effect
(``domain.held_repair``): hainan none (海南 第四十二条（五））, hunan-mi a new 初评 (湖南医保 第十六、
十九条), hunan direct (湖南 第三十一条（三））."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.domain import grading_cycle as rules
from portal.domain import held_repair
from portal.models import AuditEvent, Grade, GradingResult
from portal.services import grading_cycle as cycle_svc
from portal.services import indexing
from portal.services.cases import regrade
from portal.services.records import add_record, set_record_status

from ..conftest import context_on, profile_per_test

PROFILES = {"test_hainan_upheld_objection_does_not_apply_the_repair": "hainan",
            "test_rolling_upheld_objection_issues_the_repaired_result_as_a_new_preliminary": "hunan-mi"}

settings = profile_per_test(PROFILES)
_at = context_on


def _letter(session, subject_id: int, year: int) -> str | None:
    session.expire_all()
    return session.execute(select(Grade.letter).where(Grade.subject_id == subject_id, Grade.year == year)).scalar()


def _last(session, action: str) -> dict | None:
    rows = session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars().all()
    return rows[-1].detail if rows else None


def _object_and_repair(rt, session, result, record, subject_id, filed: date, repaired: date):
    ctx = _at(rt, session, filed)
    cycle_svc.file_grade_objection(ctx, session.get(GradingResult, result.id), "处罚信息有误")
    session.commit()
    ctx = _at(rt, session, repaired)
    set_record_status(ctx, record, "repaired", "信用修复 XF-9")
    regrade(ctx, subject_id)
    session.commit()


def _uphold(rt, session, result_id: int, day: date) -> GradingResult:
    session.expire_all()
    result = session.get(GradingResult, result_id)
    cycle_svc.decide_grade_objection(_at(rt, session, day), result, "upheld", "部分处罚信息已更正")
    session.commit()
    session.expire_all()
    return session.get(GradingResult, result_id)


def test_hainan_upheld_objection_does_not_apply_the_repair(rt, session, make_org):
    """海南 第四十二条（五）: a repair has no grade effect. 异议成立 recomputes the 2026 evaluation with
    the corrected records (the wrong record is withdrawn), and the serious record repaired while the
    objection was pending still counts for it: the letter is not the repaired one."""
    org = make_org(name="海口市美兰区某门诊部", category="clinic", region_code="460108")
    ctx = _at(rt, session, date(2026, 6, 2))
    serious = add_record(ctx, org, record_type="penalty", severity="serious", title="出租承包科室",
                         decided_on=date(2026, 6, 1), publish_until=date(2029, 5, 31))
    wrong = add_record(ctx, org, record_type="penalty", severity="general", title="未按规定公示价格",
                       decided_on=date(2026, 6, 1), publish_until=date(2027, 5, 31))
    session.commit()
    cycle_svc.run_cycle(_at(rt, session, date(2027, 1, 20)))
    session.commit()
    result = session.execute(select(GradingResult).where(GradingResult.subject_id == org.id)).scalar_one()
    before_letter, before_score = result.letter, result.score
    assert before_letter != "A"
    _object_and_repair(rt, session, result, serious, org.id, date(2027, 1, 21), date(2027, 1, 22))
    # the objection showed the general record wrong: it is withdrawn (record objection, 海南 第三十九条)
    set_record_status(_at(rt, session, date(2027, 1, 25)), wrong, "withdrawn", "异议成立：信息有误")
    session.commit()

    decided = _uphold(rt, session, result.id, date(2027, 1, 26))
    assert decided.status == rules.FORMAL
    assert decided.score > before_score  # the correction counts (异议成立 recomputes) ...
    assert decided.letter == before_letter  # ... the repair does not (no grade effect)
    assert _letter(session, org.id, 2026) == before_letter
    assert indexing.latest_grade(session, org.id, date(2027, 1, 26)).letter == before_letter
    assert _last(session, "grade.objection.decide")["repair_undone"] == [serious.lineage_id]
    counted = held_repair.counted_record_ids(decided.explanation)
    assert serious.id in counted and wrong.id not in counted  # explainable (海南 第二十九条)


def test_rolling_upheld_objection_issues_the_repaired_result_as_a_new_preliminary(rt, session, make_org):
    """湖南医保 第十六、十九条: the upheld result is the dynamic result as of its period; the repair
    decided meanwhile comes as a new 初评 with its own window, formal only after it."""
    org = make_org(name="长沙市岳麓区某药店", category="pharmacy", region_code="430104")
    record = add_record(_at(rt, session, date(2027, 3, 1)), org, record_type="penalty", severity="general",
                        title="串换药品", decided_on=date(2027, 2, 26), authority="长沙市医疗保障局")
    cycle_svc.run_cycle(_at(rt, session, date(2027, 3, 1)))
    session.commit()
    result = session.execute(select(GradingResult).where(GradingResult.subject_id == org.id)).scalar_one()
    assert result.letter == "B"
    _object_and_repair(rt, session, result, record, org.id, date(2027, 3, 2), date(2027, 3, 3))

    decided = _uphold(rt, session, result.id, date(2027, 3, 4))
    assert decided.status == rules.FORMAL and decided.letter == "B"
    assert _letter(session, org.id, 2027) == "B"  # not the repaired A without its window
    pending = session.execute(select(GradingResult).where(GradingResult.subject_id == org.id,
                                                          GradingResult.status == rules.PRELIMINARY)).scalar_one()
    assert pending.letter == "A" and pending.objection_until > date(2027, 3, 4)
    cycle_svc.run_cycle(_at(rt, session, date(2027, 3, 20)))  # its window passes unused
    session.commit()
    assert _letter(session, org.id, 2027) == "A"


def test_hunan_upheld_objection_applies_the_repair_directly(rt, session, make_org):
    """湖南 第三十一条（三）: the repair adjusts the grade directly, so after 异议成立 the formal 2026
    grade is the repaired one — through the audited repair adjustment, as on a rejection."""
    org = make_org(name="长沙市天心区某诊所", category="clinic", region_code="430103")
    record = add_record(_at(rt, session, date(2026, 6, 2)), org, record_type="penalty", severity="serious",
                        title="出租承包科室", decided_on=date(2026, 6, 1), publish_until=date(2029, 5, 31))
    session.commit()
    cycle_svc.run_cycle(_at(rt, session, date(2027, 1, 20)))
    session.commit()
    result = session.execute(select(GradingResult).where(GradingResult.subject_id == org.id)).scalar_one()
    before = result.letter
    assert before != "A"
    _object_and_repair(rt, session, result, record, org.id, date(2027, 1, 21), date(2027, 1, 22))

    decided = _uphold(rt, session, result.id, date(2027, 1, 25))
    assert decided.letter == before  # the evaluation as it was, the repair undone ...
    assert _letter(session, org.id, 2026) == "A"  # ... then applied directly
    assert _last(session, "grade.repair_adjust")["adjusted_years"] == [2026]
    assert _last(session, "grade.objection.decide")["repair_held_on"] == "2027-01-22"
