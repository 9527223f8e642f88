"""A decided credit repair and the grade (湖南 第三十一条（三） "按规定调整信用等级"), per profile
(``repair.grade_adjustment``): hunan adjusts the formal grade directly (the repair decision passed
its own public notice, 第三十条（三）（四）) but never a year a pending 初评 or objection is about;
hunan-mi issues a new preliminary result with its window (湖南医保 第十六、十九条) and leaves the
formal grade alone; hainan lists no grade effect (海南 第四十二条（五））."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.domain import grading_cycle as rules
from portal.models import AuditEvent, Grade, GradingResult
from portal.services import grading_cycle as cycle_svc
from portal.services import indexing
from portal.services.cases import regrade
from portal.services.records import add_record, set_record_status

from ..conftest import context_on, profile_per_test

PROFILES = {"test_rolling_repair_goes_through_a_preliminary_result": "hunan-mi",
            "test_hainan_repair_leaves_the_formal_grade": "hainan",
            "test_hainan_objection_rejected_after_a_repair_keeps_the_letter": "hainan",
            "test_rolling_objection_rejected_after_a_repair_issues_the_repaired_result": "hunan-mi"}

settings = profile_per_test(PROFILES)
_at = context_on


def _letter(session, subject_id: int, year: int) -> str | None:
    session.expire_all()
    return session.execute(select(Grade.letter).where(Grade.subject_id == subject_id, Grade.year == year)).scalar()


def _audit(session) -> dict:
    return session.execute(select(AuditEvent).where(AuditEvent.action == "grade.repair_adjust")).scalars().all()[-1].detail


def test_rolling_repair_goes_through_a_preliminary_result(rt, session, make_org):
    org = make_org(name="长沙市雨花区某药店", category="pharmacy", region_code="430111")
    record = add_record(_at(rt, session, date(2027, 3, 1)), org, record_type="penalty", severity="general",
                        title="串换药品", decided_on=date(2027, 2, 26), authority="长沙市医疗保障局")
    cycle_svc.run_cycle(_at(rt, session, date(2027, 3, 1)))
    session.commit()
    assert cycle_svc.run_cycle(_at(rt, session, date(2027, 3, 10)))["formal"] == 1
    session.commit()
    formal = _letter(session, org.id, 2027)
    assert formal == "B"

    ctx = _at(rt, session, date(2027, 4, 1))
    set_record_status(ctx, record, "repaired", "信用修复 XF-1")
    regrade(ctx, org.id)
    session.commit()
    assert _letter(session, org.id, 2027) == "B"  # the formal grade is not rewritten
    assert indexing.latest_grade(session, org.id, ctx.today).letter == "B"  # public: still the formal B
    pending = session.execute(select(GradingResult).where(GradingResult.subject_id == org.id,
                                                          GradingResult.status == rules.PRELIMINARY)).scalar_one()
    assert pending.letter == "A" and pending.objection_until > ctx.today
    assert _audit(session)["mode"] == "cycle" and _audit(session)["preliminary_issued"] == 1
    # the window passes unused: the repaired result becomes formal through the cycle (第十九条)
    cycle_svc.run_cycle(_at(rt, session, date(2027, 4, 20)))
    session.commit()
    assert _letter(session, org.id, 2027) == "A"




def _yearly_world(rt, session, make_org):
    """hunan: a formal 2025 grade loaded before the cycle, a serious 2025/2026 record, and the 2026
    cycle's preliminary results generated on 2027-01-20."""
    org = make_org(name="长沙市开福区某诊所", category="clinic", region_code="430105")
    ctx = _at(rt, session, date(2026, 6, 2))
    record = add_record(ctx, org, record_type="penalty", severity="serious", title="出租承包科室",
                        decided_on=date(2026, 6, 1), publish_until=date(2029, 5, 31))
    session.add(Grade(subject_id=org.id, year=2025, letter="A", score=100, explanation=[], profile_id="hunan"))
    session.commit()
    cycle_svc.run_cycle(_at(rt, session, date(2027, 1, 20)))
    session.commit()
    result = session.execute(select(GradingResult).where(GradingResult.subject_id == org.id)).scalar_one()
    assert result.status == rules.PRELIMINARY and result.letter != "A"
    return org, record, result


def test_yearly_direct_adjustment_reissues_a_pending_preliminary_result(rt, session, make_org):
    org, record, result = _yearly_world(rt, session, make_org)
    before = result.letter
    ctx = _at(rt, session, date(2027, 1, 22))
    set_record_status(ctx, record, "repaired", "信用修复 XF-2")
    regrade(ctx, org.id)
    session.commit()
    assert _letter(session, org.id, 2026) is None  # never written around the window (第十九条)
    session.expire_all()
    fresh = session.get(GradingResult, result.id)
    assert fresh.status == rules.PRELIMINARY and fresh.letter != before
    assert fresh.objection_until > ctx.today and fresh.objection_until > date(2027, 1, 27)  # a new window
    reissue = session.execute(select(AuditEvent).where(AuditEvent.action == "grade.preliminary.reissue")).scalar_one()
    assert reissue.detail["from"] == before and reissue.detail["to"] == fresh.letter
    assert _letter(session, org.id, 2025) == "A"  # the formal 2025 grade, recomputed: no record in 2025
    detail = _audit(session)
    assert detail["mode"] == "direct" and detail["held_years"] == [2026] and "第三十一条" in detail["article"]


def test_yearly_direct_adjustment_never_touches_a_grade_under_objection(rt, session, make_org):
    org, record, result = _yearly_world(rt, session, make_org)
    result.status = rules.OBJECTED  # the subject objected within the window (file_grade_objection)
    session.commit()
    ctx = _at(rt, session, date(2027, 1, 22))
    set_record_status(ctx, record, "repaired", "信用修复 XF-3")
    regrade(ctx, org.id)
    session.commit()
    session.expire_all()
    assert session.get(GradingResult, result.id).status == rules.OBJECTED  # left to the decision
    assert _letter(session, org.id, 2026) is None
    assert _audit(session)["held_years"] == [2026]


def test_hainan_repair_leaves_the_formal_grade(rt, session, make_org):
    org = make_org(name="海口市某诊所", category="clinic", region_code="460105")
    ctx = _at(rt, session, date(2026, 6, 2))
    record = add_record(ctx, org, record_type="penalty", severity="serious", title="出租承包科室",
                        decided_on=date(2025, 6, 1), publish_until=date(2028, 5, 31))
    session.add(Grade(subject_id=org.id, year=2025, letter="D", score=40, explanation=[], profile_id="hainan",
                      formal_on=date(2026, 1, 28)))
    session.commit()
    set_record_status(ctx, record, "repaired", "信用修复 XF-4")
    regrade(ctx, org.id)
    session.commit()
    assert _letter(session, org.id, 2025) == "D"  # 第四十二条（五）: no grade effect; the next period
    assert _audit(session)["mode"] == "none"


def _reject(rt, session, result, day: date):
    session.expire_all()
    result = session.get(GradingResult, result.id)
    cycle_svc.decide_grade_objection(_at(rt, session, day), result, "rejected", "初评所依据的处罚事实清楚")
    session.commit()
    return result


def test_yearly_objection_rejected_after_a_repair_gets_the_repaired_grade(rt, session, make_org):
    """湖南 第三十一条（三）: the repair adjusts the grade directly. A repair decided while the 2026
    初评 was under objection is held for the decision (the grade is the cycle's, 第十八条); when
    the objection is rejected the letter from before the repair becomes formal — and the repair is
    then applied to it, not lost."""
    org, record, result = _yearly_world(rt, session, make_org)
    before = result.letter
    result.status, result.objection_filed_on = rules.OBJECTED, date(2027, 1, 21)
    session.commit()
    ctx = _at(rt, session, date(2027, 1, 22))
    set_record_status(ctx, record, "repaired", "信用修复 XF-5")
    regrade(ctx, org.id)
    session.commit()
    assert _letter(session, org.id, 2026) is None  # held for the decision
    decided = _reject(rt, session, result, date(2027, 1, 25))
    assert decided.status == rules.FORMAL and decided.letter == before  # the decision as taken
    assert _letter(session, org.id, 2026) == "A" != before  # the repaired record no longer counts
    assert indexing.latest_grade(session, org.id, date(2027, 1, 25)).letter == "A"
    assert _audit(session)["adjusted_years"] == [2026]


def test_hainan_objection_rejected_after_a_repair_keeps_the_letter(rt, session, make_org):
    """海南 第四十二条（五） lists no grade effect of a repair: the rejected 初评 stays the formal grade."""
    org = make_org(name="海口市某门诊部", category="clinic", region_code="460105")
    record = add_record(_at(rt, session, date(2026, 6, 2)), org, record_type="penalty", severity="serious",
                        title="出租承包科室", decided_on=date(2026, 6, 1), publish_until=date(2029, 5, 31))
    session.commit()
    cycle_svc.run_cycle(_at(rt, session, date(2027, 1, 20)))
    result = session.execute(select(GradingResult).where(GradingResult.subject_id == org.id)).scalar_one()
    before = result.letter
    result.status = rules.OBJECTED
    session.commit()
    ctx = _at(rt, session, date(2027, 1, 22))
    set_record_status(ctx, record, "repaired", "信用修复 XF-6")
    regrade(ctx, org.id)
    session.commit()
    _reject(rt, session, result, date(2027, 1, 25))
    assert _letter(session, org.id, 2026) == before != "A"
    assert _audit(session)["mode"] == "none"


def test_rolling_objection_rejected_after_a_repair_issues_the_repaired_result(rt, session, make_org):
    """湖南医保 第十六、十九条: the dynamic result after a repair is a new 初评 with its window. A
    repair decided while the 初评 was under objection is held; rejecting the objection makes the
    pre-repair letter formal and issues the repaired result as a new 初评 at once."""
    org = make_org(name="长沙市雨花区另一药店", category="pharmacy", region_code="430111")
    record = add_record(_at(rt, session, date(2027, 3, 1)), org, record_type="penalty", severity="general",
                        title="串换药品", decided_on=date(2027, 2, 26), authority="长沙市医疗保障局")
    cycle_svc.run_cycle(_at(rt, session, date(2027, 3, 1)))
    result = session.execute(select(GradingResult).where(GradingResult.subject_id == org.id)).scalar_one()
    assert result.letter == "B"
    result.status = rules.OBJECTED
    session.commit()
    ctx = _at(rt, session, date(2027, 3, 4))
    set_record_status(ctx, record, "repaired", "信用修复 XF-7")
    regrade(ctx, org.id)
    session.commit()
    assert not session.execute(select(GradingResult).where(GradingResult.status == rules.PRELIMINARY)).first()
    _reject(rt, session, result, date(2027, 3, 5))
    assert _letter(session, org.id, 2027) == "B"  # the decision: the 初评 becomes formal as it is
    pending = session.execute(select(GradingResult).where(GradingResult.subject_id == org.id,
                                                          GradingResult.status == rules.PRELIMINARY)).scalar_one()
    assert pending.letter == "A" and pending.objection_until > date(2027, 3, 5)
    cycle_svc.run_cycle(_at(rt, session, date(2027, 3, 20)))  # its window passes unused
    session.commit()
    assert _letter(session, org.id, 2027) == "A"
