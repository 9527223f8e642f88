"""The chatbot on the grading cycle (issue 16 "Grading cycle"; issue 11 §4): when results come out,
the 初评 and its objection window, objecting to a grade. The dates are the cycle's own
(``portal.domain.grading_cycle``) from the active profile; the citations are the active
jurisdiction's own regulation; a grade objection is not answered as a record objection."""
from __future__ import annotations

from datetime import date

import pytest

from portal.chatbot import Chatbot, Context, Env
from portal.chatbot.deadline import fmt
from portal.domain import grading_cycle as rules
from portal.domain.workdays import WorkCalendar
from portal.profiles import load_profile

from .test_chatbot_eval import FakeFacilities

YEARLY = ("hunan", "guangdong", "hainan", "jiangsu")


def _ask(profile_id: str, q: str, today: date):
    bot = Chatbot(load_profile(profile_id))
    answer, _ = bot.answer(q, Context(), Env(today=today, calendar=WorkCalendar(), facilities=FakeFacilities([])))
    return answer


def _own_only(profile_id: str, answer) -> None:
    own = load_profile(profile_id).document_short
    assert answer.citations
    assert all(c.doc_id in (None, profile_id) or own in c.doc for c in answer.citations), \
        [c.label for c in answer.citations]


@pytest.mark.parametrize("profile_id", YEARLY)
@pytest.mark.parametrize("today", [date(2026, 11, 20), date(2027, 1, 21), date(2027, 3, 1)])
def test_when_results_come_out_is_this_cycles_dates(profile_id, today):
    profile = load_profile(profile_id)
    answer = _ask(profile_id, "评级结果什么时候出", today)
    assert answer.intent == "grade"
    cal = WorkCalendar()
    sched = rules.yearly_schedule(profile, today.year - 1, cal)
    if today > (sched.publish_by or sched.objection_until):
        sched = rules.yearly_schedule(profile, today.year, cal)
    assert f"{sched.year}年度" in answer.text
    assert fmt(sched.generate_on) in answer.text and fmt(sched.objection_until) in answer.text
    assert fmt(sched.publish_by) in answer.text
    assert f"异议期{profile.grading.objection_workdays}个工作日" in answer.text
    assert ("已于" in answer.text) == (today >= sched.generate_on)
    _own_only(profile_id, answer)


def test_guangdong_window_is_its_two_days_between_1_20_and_1_25():
    """阳山 四（三）: generated 1-20, published before 1-25; the profile's window is 2 working days."""
    answer = _ask("guangdong", "对初评结果不服怎么办", date(2027, 1, 21))
    assert answer.intent == "grade"
    assert "2个工作日" in answer.text and "2027年1月22日" in answer.text and "2027年1月25日" in answer.text
    assert {c.article for c in answer.citations} >= {"四（三）"}
    _own_only("guangdong", answer)
    # not the record objection procedure's answer
    assert "可以提出异议的情形" not in answer.text


def test_rolling_window_skips_spring_festival_2027():
    """湖南医保 第十九条: a result generated on 2027-02-01 (Mon): 5 working days skip 除夕 (2-05, Fri) and
    初三 (2-08, Mon): the last day is 2027-02-10."""
    answer = _ask("hunan-mi", "对信用评价结果有异议怎么办", date(2027, 2, 1))
    assert answer.intent == "grade"
    assert rules.objection_until(date(2027, 2, 1), load_profile("hunan-mi"), WorkCalendar()) == date(2027, 2, 10)
    assert "2027年2月10日" in answer.text and "动态考评" in answer.text
    assert "第十九条" in {c.article for c in answer.citations}
    _own_only("hunan-mi", answer)


def test_window_of_a_given_generation_day():
    answer = _ask("hunan-mi", "我2027年2月3日收到初评结果，异议期到哪天", date(2027, 2, 4))
    assert answer.intent == "deadline"
    # 2-04, 2-09, 2-10, 2-11, 2-12 (2-05 and 2-08 are 春节; 2-06/2-07 the weekend)
    assert "最迟2027年2月12日" in answer.text and "5个工作日" in answer.text
    _own_only("hunan-mi", answer)


@pytest.mark.parametrize("profile_id", (*YEARLY, "hunan-mi"))
def test_preliminary_is_said_to_be_non_public(profile_id):
    answer = _ask(profile_id, "初评结果会公示吗", date(2026, 11, 20))
    assert answer.intent == "grade" and "初评结果不对外公示" in answer.text
    _own_only(profile_id, answer)


def test_a_record_objection_stays_a_record_objection():
    assert _ask("hunan", "对处罚记录有异议怎么办", date(2026, 11, 20)).intent == "objection"
    assert _ask("hunan", "我3月2日交的异议什么时候出结果", date(2026, 11, 20)).intent == "deadline"
    assert "异议申请" in _ask("hunan", "我3月2日交的异议什么时候出结果", date(2026, 11, 20)).text
