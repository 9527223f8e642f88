"""Every profile's objection and repair machine, walked step by step on fixed days.

Due dates are hand-counted from the State Council's 2026 notice as chinesecalendar 1.11 records
it: 春节 2月15日–23日 off, 2月14日（六）and 2月28日（六）worked; 中秋 9月25日 off; 国庆 10月1日–7日
off, 9月20日（日）and 10月10日（六）worked. 2027 is not in the package: its statutory holidays are
computed (2027-01-01 元旦 is off), the dates are 暂定 until the year is confirmed; the staff override
table wins. The day of receipt is day zero and not counted (民法典 第二百零一条); a step entered on
day X counts from the day after X.

Sources of the limits: 湖南 第二十八条、第三十条; 湖南医保 第十七条、第二十五条; 海南 第三十八–四十条、
第四十二条; 阳山 四（六）（七）and 淮安 三（六）with 湖南's numbers as editable defaults.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date

import pytest

from portal.domain import cases
from portal.domain.cases import CaseError
from portal.domain.workdays import WorkCalendar, fallback_warning
from portal.profiles import load_profile

D = date
CAL = WorkCalendar()
PROFILES = ("hunan", "hunan-mi", "hainan", "guangdong", "jiangsu")


@pytest.fixture(scope="module")
def profiles():
    return {p: load_profile(p) for p in PROFILES}


def machine(profiles, pid, kind):
    return getattr(profiles[pid], kind)


# (action, role, day, step reached, its due date, its first decision day)
S = tuple
SCENARIOS = {
    # --- 湖南 第二十八条: 3 WD (+3), 鉴定 etc. not counted; rejected → the applicant may ask for review
    "hunan-objection-upheld-before-national-day": ("hunan", "objection", D(2026, 9, 30), D(2026, 10, 10), [
        S(("uphold", "department", D(2026, 10, 9), "upheld", None, None)),
    ]),
    "hunan-objection-rejected-reviewed-kept": ("hunan", "objection", D(2026, 9, 30), D(2026, 10, 10), [
        S(("reject", "department", D(2026, 10, 9), "rejected", D(2026, 10, 29), None)),  # review window 15 WD
        S(("request_review", "applicant", D(2026, 10, 12), "review", D(2026, 10, 15), None)),
        S(("reject", "reviewer", D(2026, 10, 15), "closed", None, None)),
    ]),
    "hunan-objection-review-upheld": ("hunan", "objection", D(2026, 2, 13), D(2026, 2, 25), [
        S(("reject", "department", D(2026, 2, 24), "rejected", D(2026, 3, 16), None)),
        S(("request_review", "applicant", D(2026, 2, 26), "review", D(2026, 3, 2), None)),  # 2-27, 2-28 worked, 3-2
        S(("uphold", "reviewer", D(2026, 3, 2), "upheld", None, None)),
    ]),
    # --- 湖南 第三十条: review 10 WD, public notice ≥ 5 WD, then the decision
    "hunan-repair-repaired": ("hunan", "repair", D(2026, 9, 30), D(2026, 10, 20), [
        # 10-19..10-23 is the notice (湖南 第三十条（三）); decision from the day after, Sat 10-24
        S(("approve", "department", D(2026, 10, 16), "notice", None, D(2026, 10, 24))),
        S(("no_objection", "department", D(2026, 10, 26), "repaired", None, None)),
    ]),
    "hunan-repair-objection-in-notice-then-refused": ("hunan", "repair", D(2026, 2, 13), D(2026, 3, 5), [
        S(("approve", "department", D(2026, 3, 2), "notice", None, D(2026, 3, 10))),
        S(("objection", "department", D(2026, 3, 4), "review", D(2026, 3, 18), None)),
        S(("refuse", "department", D(2026, 3, 18), "refused", None, None)),
    ]),
    # --- 湖南医保 第十七条: 3 WD; 5 WD from receipt when other units help verify
    "hunan-mi-objection-corrected": ("hunan-mi", "objection", D(2026, 2, 13), D(2026, 2, 25), [
        S(("uphold", "department", D(2026, 2, 25), "corrected", None, None)),
    ]),
    "hunan-mi-objection-rejected": ("hunan-mi", "objection", D(2026, 9, 30), D(2026, 10, 10), [
        S(("reject", "department", D(2026, 10, 8), "rejected", None, None)),
    ]),
    # --- 湖南医保 第二十五条: 10 WD (complex 30), 公示 5 WD
    "hunan-mi-repair-repaired": ("hunan-mi", "repair", D(2026, 2, 13), D(2026, 3, 5), [
        # "公示期限为5个工作日" 3-3..3-9; "公示期满无异议的" the decision on 3-10, also its due day
        S(("approve", "department", D(2026, 3, 2), "notice", D(2026, 3, 10), D(2026, 3, 10))),
        S(("no_objection", "department", D(2026, 3, 10), "repaired", None, None)),
    ]),
    "hunan-mi-repair-refused": ("hunan-mi", "repair", D(2026, 9, 30), D(2026, 10, 20), [
        S(("refuse", "department", D(2026, 10, 20), "refused", None, None)),
    ]),
    # --- 海南 第三十八–四十条: triage 3 (forward within 2), accept 3, investigate 7 (+7), review 2
    "hainan-objection-operator-corrects": ("hainan", "objection", D(2026, 9, 30), D(2026, 10, 10), [
        S(("correct", "operator", D(2026, 10, 8), "corrected", None, None)),
    ]),
    "hainan-objection-provider-refuses": ("hainan", "objection", D(2026, 9, 30), D(2026, 10, 10), [
        S(("forward", "operator", D(2026, 10, 9), "accept", D(2026, 10, 13), None)),
        S(("refuse", "provider", D(2026, 10, 12), "refused", None, None)),
    ]),
    "hainan-objection-kept": ("hainan", "objection", D(2026, 9, 30), D(2026, 10, 10), [
        S(("forward", "operator", D(2026, 10, 9), "accept", D(2026, 10, 13), None)),
        S(("accept", "provider", D(2026, 10, 13), "investigate", D(2026, 10, 22), None)),
        S(("decide", "provider", D(2026, 10, 22), "review", D(2026, 10, 26), None)),
        S(("keep", "operator", D(2026, 10, 26), "kept", None, None)),
    ]),
    "hainan-objection-modified": ("hainan", "objection", D(2026, 2, 13), D(2026, 2, 25), [
        S(("forward", "operator", D(2026, 2, 14), "accept", D(2026, 2, 26), None)),  # worked Saturday
        S(("accept", "provider", D(2026, 2, 24), "investigate", D(2026, 3, 4), None)),  # 2-28 worked is the 4th
        S(("decide", "provider", D(2026, 3, 4), "review", D(2026, 3, 6), None)),
        S(("modify", "operator", D(2026, 3, 6), "modified", None, None)),
    ]),
    "hainan-objection-deleted": ("hainan", "objection", D(2026, 4, 30), D(2026, 5, 8), [
        S(("forward", "operator", D(2026, 5, 7), "accept", D(2026, 5, 11), None)),  # 5-8, 5-9 worked, 5-11
        S(("accept", "provider", D(2026, 5, 11), "investigate", D(2026, 5, 20), None)),
        S(("decide", "provider", D(2026, 5, 15), "review", D(2026, 5, 19), None)),
        S(("delete", "operator", D(2026, 5, 18), "deleted", None, None)),
    ]),
    # --- 海南 第四十二条: accept, verify, 公示 ≥ 5 WD, repair
    "hainan-repair-repaired": ("hainan", "repair", D(2026, 2, 13), D(2026, 2, 25), [
        S(("accept", "department", D(2026, 2, 24), "verify", D(2026, 3, 9), None)),
        S(("approve", "department", D(2026, 3, 6), "notice", None, D(2026, 3, 14))),
        S(("no_objection", "department", D(2026, 3, 16), "repaired", None, None)),
    ]),
    "hainan-repair-refused-at-acceptance": ("hainan", "repair", D(2026, 9, 30), D(2026, 10, 10), [
        S(("refuse", "department", D(2026, 10, 9), "refused", None, None)),
    ]),
    "hainan-repair-objection-then-refused": ("hainan", "repair", D(2026, 9, 30), D(2026, 10, 10), [
        S(("accept", "department", D(2026, 10, 8), "verify", D(2026, 10, 21), None)),  # 10-10 worked
        S(("approve", "department", D(2026, 10, 12), "notice", None, D(2026, 10, 20))),
        S(("objection", "department", D(2026, 10, 14), "verify", D(2026, 10, 28), None)),
        S(("refuse", "department", D(2026, 10, 28), "refused", None, None)),
    ]),
    # --- 阳山 四（七）/（六）with 湖南's limits as editable defaults
    "guangdong-objection-upheld": ("guangdong", "objection", D(2026, 2, 13), D(2026, 2, 25), [
        S(("uphold", "department", D(2026, 2, 14), "upheld", None, None)),
    ]),
    "guangdong-objection-review-upheld": ("guangdong", "objection", D(2026, 2, 13), D(2026, 2, 25), [
        S(("reject", "department", D(2026, 2, 25), "rejected", D(2026, 3, 17), None)),
        S(("request_review", "applicant", D(2026, 2, 26), "review", D(2026, 3, 2), None)),  # 2-27, 2-28, 3-2
        S(("uphold", "reviewer", D(2026, 3, 2), "upheld", None, None)),
    ]),
    "guangdong-objection-accepted-by-applicant": ("guangdong", "objection", D(2026, 9, 30), D(2026, 10, 10), [
        S(("reject", "department", D(2026, 10, 10), "rejected", D(2026, 10, 30), None)),
        S(("accept", "applicant", D(2026, 10, 12), "closed", None, None)),
    ]),
    "guangdong-repair-repaired": ("guangdong", "repair", D(2026, 9, 30), D(2026, 10, 20), [
        S(("approve", "department", D(2026, 10, 20), "notice", None, D(2026, 10, 28))),
        S(("no_objection", "department", D(2026, 10, 28), "repaired", None, None)),
    ]),
    "guangdong-repair-refused": ("guangdong", "repair", D(2026, 2, 13), D(2026, 3, 5), [
        S(("refuse", "department", D(2026, 2, 28), "refused", None, None)),
    ]),
    # --- 淮安 三（六）with 湖南's limits as editable defaults
    "jiangsu-objection-upheld": ("jiangsu", "objection", D(2026, 9, 30), D(2026, 10, 10), [
        S(("uphold", "department", D(2026, 10, 10), "upheld", None, None)),
    ]),
    "jiangsu-objection-review-kept": ("jiangsu", "objection", D(2026, 9, 14), D(2026, 9, 17), [
        S(("reject", "department", D(2026, 9, 17), "rejected", D(2026, 10, 14), None)),
        S(("request_review", "applicant", D(2026, 9, 18), "review", D(2026, 9, 22), None)),  # Sun 9-20 worked
        S(("reject", "reviewer", D(2026, 9, 22), "closed", None, None)),
    ]),
    "jiangsu-repair-repaired": ("jiangsu", "repair", D(2026, 2, 13), D(2026, 3, 5), [
        S(("approve", "department", D(2026, 3, 5), "notice", None, D(2026, 3, 13))),
        S(("no_objection", "department", D(2026, 3, 13), "repaired", None, None)),
    ]),
    "jiangsu-repair-refused": ("jiangsu", "repair", D(2026, 9, 30), D(2026, 10, 20), [
        S(("refuse", "department", D(2026, 10, 19), "refused", None, None)),
    ]),
}


def walk(m, received, steps, calendar=CAL):
    state = cases.start_case(m, received, calendar)
    seen = [state]
    for action, role, on, step, due, earliest in steps:
        assert action in cases.allowed_actions(m, state, role), (state.step, action, role)
        state = cases.apply(m, state, action, on, calendar, role=role)
        assert (state.step, state.due_on, state.earliest_on) == (step, due, earliest), (action, on)
        seen.append(state)
    return seen


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario(profiles, name):
    pid, kind, received, first_due, steps = SCENARIOS[name]
    m = machine(profiles, pid, kind)
    start = cases.start_case(m, received, CAL)
    assert (start.step, start.due_on) == (m.start.id, first_due)
    states = walk(m, received, steps)
    last = states[-1]
    assert last.terminal and last.closed_on == steps[-1][2]
    assert cases.allowed_actions(m, last) == ()
    with pytest.raises(CaseError, match="已办结"):
        cases.apply(m, last, m.steps[0].actions[0], steps[-1][2], CAL)
    for state in states[1:-1]:  # every open step on the way counted through covered years only
        span = cases.counted_span(state)
        assert span is None or CAL.uncovered_years(*span) == []


def test_every_terminal_step_is_reached_by_a_scenario(profiles):
    """The table above walks each machine to every one of its outcomes."""
    reached = defaultdict(set)
    for pid, kind, _, _, steps in SCENARIOS.values():
        reached[(pid, kind)].add(steps[-1][3])
    for pid in PROFILES:
        for kind in ("objection", "repair"):
            m = machine(profiles, pid, kind)
            assert reached[(pid, kind)] == {s.id for s in m.steps if s.terminal}, (pid, kind)


@pytest.mark.parametrize("pid", PROFILES)
@pytest.mark.parametrize("kind", ["objection", "repair"])
def test_machine_shape(profiles, pid, kind):
    """Every step is reachable, every open step has an actor and can still end the case."""
    m = machine(profiles, pid, kind)
    ids = {s.id for s in m.steps}
    edges = {s.id: {t.to for t in s.transitions} for s in m.steps}
    assert all(to <= ids for to in edges.values())
    sl = getattr(m, "serious_list", None)  # 海南 第十五条第三款: a second entry step
    seen, todo = set(), [m.start.id] + ([sl.start] if sl is not None and sl.start else [])
    while todo:
        step = todo.pop()
        if step not in seen:
            seen.add(step)
            todo += edges[step]
    assert seen == ids
    terminals = {s.id for s in m.steps if s.terminal}
    for s in m.steps:
        if s.terminal:
            assert not s.transitions and s.workdays is None
            continue
        assert s.actor in ("applicant", "operator", "provider", "reviewer", "department"), s.id
        reach, todo = set(), [s.id]
        while todo:
            x = todo.pop()
            if x not in reach:
                reach.add(x)
                todo += edges[x]
        assert reach & terminals, s.id


# --- refusals -----------------------------------------------------------------------------------

# (profile, kind, received, path before, action, role, day, message)
REFUSALS = [
    # the step's actor only (海南: the provider accepts, the operator triages)
    ("hunan", "objection", D(2026, 9, 30), [], "uphold", "operator", D(2026, 10, 9), "应由认定部门办理"),
    ("hunan", "objection", D(2026, 9, 30), [], "uphold", "applicant", D(2026, 10, 9), "应由认定部门办理"),
    ("hainan", "objection", D(2026, 9, 30), [("forward", "operator", D(2026, 10, 9))],
     "accept", "operator", D(2026, 10, 9), "应由信息提供单位办理"),
    ("hunan", "objection", D(2026, 9, 30), [("reject", "department", D(2026, 10, 9))],
     "request_review", "department", D(2026, 10, 9), "应由申请人办理"),
    ("hunan", "objection", D(2026, 9, 30), [("reject", "department", D(2026, 10, 9)),
                                            ("request_review", "applicant", D(2026, 10, 12))],
     "uphold", "department", D(2026, 10, 13), "应由复核部门办理"),
    # actions of another step or machine
    ("hunan-mi", "objection", D(2026, 2, 13), [], "request_review", "department", D(2026, 2, 24), "不能执行"),
    ("jiangsu", "repair", D(2026, 2, 13), [], "no_objection", "department", D(2026, 2, 24), "不能执行"),
    ("hainan", "repair", D(2026, 2, 13), [], "approve", "department", D(2026, 2, 24), "不能执行"),
    # backdating before the step began
    ("guangdong", "objection", D(2026, 9, 30), [], "uphold", "department", D(2026, 9, 29), "早于"),
    ("hainan", "objection", D(2026, 9, 30), [("forward", "operator", D(2026, 10, 9))],
     "accept", "provider", D(2026, 10, 8), "早于"),
    # the public notice lasts at least 5 working days (湖南 第三十条（三）; 海南 第四十二条（四）)
    ("hunan", "repair", D(2026, 9, 30), [("approve", "department", D(2026, 10, 16))],
     "no_objection", "department", D(2026, 10, 22), "公示期不少于5个工作日"),
    ("hainan", "repair", D(2026, 2, 13), [("accept", "department", D(2026, 2, 24)),
                                          ("approve", "department", D(2026, 3, 6))],
     "no_objection", "department", D(2026, 3, 13), "2026-03-14起方可作出决定"),  # 3-13: day 5 of the notice
    ("hunan-mi", "repair", D(2026, 2, 13), [("approve", "department", D(2026, 2, 27))],
     "no_objection", "department", D(2026, 3, 5), "公示期不少于5个工作日"),  # 2-28 worked: 5th day 3-5, earliest 3-6
    ("guangdong", "repair", D(2026, 9, 30), [("approve", "department", D(2026, 9, 30))],
     "no_objection", "department", D(2026, 10, 13), "公示期不少于5个工作日"),  # 10-10 worked: 5th day 10-13
]


@pytest.mark.parametrize("pid,kind,received,path,action,role,on,match", REFUSALS)
def test_refusal(profiles, pid, kind, received, path, action, role, on, match):
    m = machine(profiles, pid, kind)
    state = cases.start_case(m, received, CAL)
    for a, r, d in path:
        state = cases.apply(m, state, a, d, CAL, role=r)
    with pytest.raises(CaseError, match=match):
        cases.apply(m, state, action, on, CAL, role=role)


@pytest.mark.parametrize("pid,kind,received,due,extended", [
    ("hunan", "objection", D(2026, 9, 30), D(2026, 10, 10), D(2026, 10, 14)),
    ("hunan", "objection", D(2026, 2, 13), D(2026, 2, 25), D(2026, 2, 28)),
    ("hunan-mi", "objection", D(2026, 2, 13), D(2026, 2, 25), D(2026, 2, 27)),  # 5 WD from receipt
    ("hunan-mi", "objection", D(2026, 9, 30), D(2026, 10, 10), D(2026, 10, 13)),
    ("hunan-mi", "repair", D(2026, 2, 13), D(2026, 3, 5), D(2026, 4, 2)),  # complex: 30 WD
    ("guangdong", "objection", D(2026, 9, 30), D(2026, 10, 10), D(2026, 10, 14)),
    ("jiangsu", "objection", D(2026, 2, 13), D(2026, 2, 25), D(2026, 2, 28)),
    ("hainan", "objection", D(2026, 9, 30), D(2026, 10, 10), None),  # triage: no extension
    ("hunan", "repair", D(2026, 9, 30), D(2026, 10, 20), None),
    ("guangdong", "repair", D(2026, 9, 30), D(2026, 10, 20), None),
    ("jiangsu", "repair", D(2026, 9, 30), D(2026, 10, 20), None),
    ("hainan", "repair", D(2026, 9, 30), D(2026, 10, 10), None),
])
def test_extension_once_with_reason_before_due(profiles, pid, kind, received, due, extended):
    m = machine(profiles, pid, kind)
    state = cases.start_case(m, received, CAL)
    assert state.due_on == due
    if extended is None:
        with pytest.raises(CaseError, match="不能延期"):
            cases.extend(m, state, received, CAL, "情况复杂")
        return
    with pytest.raises(CaseError, match="理由"):
        cases.extend(m, state, received, CAL, " ")
    with pytest.raises(CaseError, match="期限已过"):
        cases.extend(m, state, D.fromordinal(due.toordinal() + 1), CAL, "情况复杂")
    longer = cases.extend(m, state, due, CAL, "需要其他单位协助核查")  # the due day itself is in time
    assert longer.due_on == extended and longer.extended
    with pytest.raises(CaseError, match="已延期一次"):
        cases.extend(m, longer, due, CAL, "再延")


def test_hainan_investigation_extension_and_forward_limit(profiles):
    """海南 第三十八条第二款: forwarded within 2 WD; 第四十条第二款: +7 WD once."""
    m = machine(profiles, "hainan", "objection")
    state = cases.start_case(m, D(2026, 9, 30), CAL)
    assert cases.action_due(m, state, "forward", CAL) == D(2026, 10, 9)
    assert cases.action_due(m, state, "correct", CAL) == D(2026, 10, 10)
    *_, investigating = walk(m, D(2026, 9, 30), SCENARIOS["hainan-objection-kept"][4][:2])
    assert cases.extend(m, investigating, D(2026, 10, 22), CAL, "情况复杂").due_on == D(2026, 11, 2)


@pytest.mark.parametrize("pid", ["hunan", "guangdong", "jiangsu"])
def test_clock_stops_across_spring_festival(profiles, pid):
    """湖南 第二十八条第二款: 检验、检测、鉴定、专家评审 time is not counted; the review step of
    guangdong / jiangsu has no stops (their defaults copy only the first step's)."""
    m = machine(profiles, pid, "objection")
    state = cases.start_case(m, D(2026, 2, 13), CAL)
    stopped = cases.with_stop(m, state, D(2026, 2, 24), D(2026, 2, 26), "鉴定", CAL)
    assert stopped.due_on == D(2026, 2, 28)  # 2-14 worked (1), 2-24..2-26 stopped, 2-27 (2), 2-28 worked (3)
    with pytest.raises(CaseError, match="中止事由"):
        cases.stop_clock(m, state, D(2026, 2, 24), "等待材料")
    rejected = cases.apply(m, state, "reject", D(2026, 2, 24), CAL, role="department")
    review = cases.apply(m, rejected, "request_review", D(2026, 2, 24), CAL, role="applicant")
    if pid == "hunan":
        assert cases.stop_clock(m, review, D(2026, 2, 25), "专家评审").due_on is None
    else:
        with pytest.raises(CaseError, match="不能中止"):
            cases.stop_clock(m, review, D(2026, 2, 25), "专家评审")


def test_no_clock_stops_where_the_document_has_none(profiles):
    for pid, kind in (("hunan-mi", "objection"), ("hainan", "objection"), ("hunan", "repair"), ("hainan", "repair")):
        m = machine(profiles, pid, kind)
        with pytest.raises(CaseError, match="不能中止"):
            cases.stop_clock(m, cases.start_case(m, D(2026, 2, 13), CAL), D(2026, 2, 24), "鉴定")


# --- December 2026 receipts whose deadlines run into 2027 ---------------------------------------

# 2027 is not in chinesecalendar: its statutory holidays are computed (元旦 2027-01-01 is a holiday,
# 《全国年节及纪念日放假办法》第二条), the make-up swaps are unknown until the notice is entered, so the
# dates are 暂定. A notice that added, say, Monday 2027-01-04 as a holiday moves them again.
EXTRA_2027 = {D(2027, 1, 4): False}  # a hypothetical notice day entered by staff

# (profile, kind, received, due, due if 2027-01-04 were also off)
INTO_2027 = [
    ("hunan", "objection", D(2026, 12, 29), D(2027, 1, 4), D(2027, 1, 5)),  # the fallback gave 2027-01-01
    ("guangdong", "objection", D(2026, 12, 30), D(2027, 1, 5), D(2027, 1, 6)),
    ("jiangsu", "objection", D(2026, 12, 31), D(2027, 1, 6), D(2027, 1, 7)),
    ("hunan-mi", "objection", D(2026, 12, 28), D(2026, 12, 31), D(2026, 12, 31)),  # ends in 2026: final
    ("hainan", "objection", D(2026, 12, 30), D(2027, 1, 5), D(2027, 1, 6)),
    ("hunan", "repair", D(2026, 12, 21), D(2027, 1, 5), D(2027, 1, 6)),
    ("guangdong", "repair", D(2026, 12, 24), D(2027, 1, 8), D(2027, 1, 11)),
    ("jiangsu", "repair", D(2026, 12, 18), D(2027, 1, 4), D(2027, 1, 5)),
    ("hunan-mi", "repair", D(2026, 12, 17), D(2026, 12, 31), D(2026, 12, 31)),
    ("hainan", "repair", D(2026, 12, 29), D(2027, 1, 4), D(2027, 1, 5)),
]


@pytest.mark.parametrize("pid,kind,received,due,moved_due", INTO_2027)
def test_december_receipts_skip_new_year_and_are_provisional(profiles, pid, kind, received, due, moved_due):
    m = machine(profiles, pid, kind)
    state = cases.start_case(m, received, CAL)  # never raises
    assert state.due_on == due
    years = CAL.uncovered_years(*cases.counted_span(state))
    warning = fallback_warning(years)
    if due.year == 2027:
        assert years == [2027] and "2027年" in warning and "暂定" in warning
    else:
        assert years == [] and warning == ""
    fixed = WorkCalendar(overrides=EXTRA_2027)
    assert cases.start_case(m, received, fixed).due_on == moved_due
    assert cases.recompute(m, state, fixed).due_on == moved_due  # a stored date counted again
    reviewed = WorkCalendar(overrides=EXTRA_2027, reviewed_years=[2027])
    assert reviewed.uncovered_years(*cases.counted_span(state)) == []


def test_hainan_forward_limit_into_2027(profiles):
    m = machine(profiles, "hainan", "objection")
    state = cases.start_case(m, D(2026, 12, 30), CAL)
    assert cases.action_due(m, state, "forward", CAL) == D(2027, 1, 4)  # 12-31, (元旦 1-1 off), 1-4
    assert cases.action_due(m, state, "forward", WorkCalendar(overrides=EXTRA_2027)) == D(2027, 1, 5)


def test_notice_into_2027_and_recompute_keeps_the_step(profiles):
    """A 公示 that straddles New Year: the first decision day moves with the override; the entry
    day, extension and stops stay."""
    m = machine(profiles, "hunan-mi", "repair")
    review = cases.start_case(m, D(2026, 12, 28), CAL)
    notice = cases.apply(m, review, "approve", D(2026, 12, 29), CAL)
    # notice 12-30, 12-31, (1-1 元旦), 1-4, 1-5, 1-6; decision from 1-7 (湖南医保 第二十五条: 公示期满)
    assert (notice.due_on, notice.earliest_on) == (D(2027, 1, 7), D(2027, 1, 7))
    again = cases.recompute(m, notice, WorkCalendar(overrides=EXTRA_2027))
    assert (again.step, again.entered_on, again.due_on, again.earliest_on) == \
        ("notice", D(2026, 12, 29), D(2027, 1, 8), D(2027, 1, 8))
    with pytest.raises(CaseError, match="2027-01-08起"):
        cases.apply(m, again, "no_objection", D(2027, 1, 7), WorkCalendar(overrides=EXTRA_2027))


def test_recompute_keeps_extension_and_stops(profiles):
    m = machine(profiles, "hunan", "objection")
    state = cases.start_case(m, D(2026, 12, 24), CAL)
    state = cases.with_stop(m, state, D(2026, 12, 25), D(2026, 12, 25), "检测", CAL)
    state = cases.extend(m, state, D(2026, 12, 28), CAL, "情况复杂")
    # 12-28 (1), 12-29, 12-30, 12-31, (1-1 元旦), 1-4 (5), 1-5 (6)
    assert state.due_on == D(2027, 1, 5)
    again = cases.recompute(m, state, WorkCalendar(overrides=EXTRA_2027))
    assert again.due_on == D(2027, 1, 6) and again.extended and again.stops == state.stops
    stopped = cases.stop_clock(m, state, D(2026, 12, 30), "鉴定")
    assert cases.recompute(m, stopped, WorkCalendar(overrides=EXTRA_2027)).due_on is None


@pytest.mark.parametrize("pid,article", [
    ("hunan", "湖南 第三十条（三）（四）: 公示期不少于5个工作日；公示期满无异议的，作出信用修复决定"),
    ("hunan-mi", "湖南医保 第二十五条: 公示期限为5个工作日…公示期满无异议的，按程序信用修复"),
])
def test_repair_decision_only_after_the_notice_has_ended(profiles, pid, article):
    """Issue #11 §3: the notice entered on Monday 2026-03-02 runs 3-3 .. 3-9 (5 working days); the
    decision is refused on 3-9 (day 5, the notice still runs) and allowed on 3-10 (day 6)."""
    m = machine(profiles, pid, "repair")
    state = cases.start_case(m, D(2026, 2, 27), CAL)
    if state.step != "review":
        state = cases.apply(m, state, "accept", D(2026, 2, 27), CAL)
    notice = cases.apply(m, state, "approve", D(2026, 3, 2), CAL)
    assert notice.step == "notice" and notice.earliest_on == D(2026, 3, 10), article
    with pytest.raises(CaseError, match="2026-03-10起方可作出决定"):
        cases.apply(m, notice, "no_objection", D(2026, 3, 9), CAL)
    assert cases.apply(m, notice, "no_objection", D(2026, 3, 10), CAL).step == "repaired"
    assert notice.due_on is None or notice.due_on >= notice.earliest_on  # never overdue before it may close
