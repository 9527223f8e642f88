"""Separation of duties (回避, issue 14) on every profile: the staff member who decided an objection
may not decide its 复核 (湖南 第二十八条第三款; 海南 第四十条第三款: the review is another's check),
whatever roles their account holds, nor approve their own extension (湖南 第二十八条 "经本部门负责人
批准"). Refused inside the verbs (``permissions.require_case_role``), so no page or command can skip it."""
from __future__ import annotations

import dataclasses
from datetime import date

import pyotp
import pytest

from portal.permissions import staff_role
from portal.services import cases
from portal.services import staff as staff_svc
from portal.services.errors import ServiceError

from ..conftest import DATABASES, SEARCH_BACKEND, TODAY

PASSWORD = "correct horse battery staple 42"
PROFILES = ("guangdong", "hainan", "hunan", "hunan-mi", "jiangsu")
AUTHORITY = "长沙市卫生健康委员会"
APPLICANT = cases.Applicant("https://idp.example.test", "sub-rep", "王法人")
# profile -> (the decider's roles, the steps up to the decision: (role, action), the review role)
ROUTES = {
    "hunan": (["department", "reviewer"], [("department", "reject")], "reviewer"),
    "jiangsu": (["department", "reviewer"], [("department", "reject")], "reviewer"),
    "guangdong": (["department", "reviewer"], [("department", "reject")], "reviewer"),
    "hainan": (["provider", "operator"], [("operator", "forward"), ("provider", "accept"), ("provider", "decide")],
               "operator"),
}


@pytest.fixture(params=[(db, p) for p in PROFILES for db in DATABASES], ids=lambda v: f"{v[1]}-{v[0]}")
def settings(request, tmp_path):
    database, profile = request.param
    values = {"PORTAL_VAR_DIR": str(tmp_path / "var"), "PORTAL_TODAY": TODAY.isoformat(),
              "SEARCH_URL": f"{SEARCH_BACKEND}://{tmp_path / 'index'}", "PORTAL_PROFILE": profile,
              "PORTAL_BASE_URL": "http://127.0.0.1:5000"}
    if database == "postgresql":
        values["DATABASE_URL"] = request.getfixturevalue("pg_schema_url")
    return values


def _staff(ctx, name, roles):
    user, uri = staff_svc.create_staff(ctx, name, PASSWORD, roles, authority=AUTHORITY, display_name=name)
    ctx.session.flush()
    return user, pyotp.parse_uri(uri)


def _as(ctx, user):
    return dataclasses.replace(ctx, actor=f"staff:{user.username}", caller=user)


@pytest.fixture
def case(ctx, make_org, make_record):
    region = next(r.code for r in ctx.profile.regions if not r.code.endswith("00"))
    org = make_org(name="仁和诊所", category="clinic", region_code=region)
    rec = make_record(org, title="未按规定处置医疗废物", decided_on=date(2026, 10, 9), authority=AUTHORITY)
    return cases.file_objection(ctx, org, rec, ground=ctx.profile.objection.grounds[0].code, statement="记载有误",
                                applicant=APPLICANT, commitment=True, identity_confirmed=True)


def _decide_until_review(ctx, case, decider):
    _, steps, _ = ROUTES[ctx.profile.id]
    for role, action in steps:
        cases.act(_as(ctx, decider), case, action, role=role, reason="经核查，原记录无误")
    if case.state != "review":  # the applicant asks for the 复核
        cases.act(ctx, case, "request_review", role="applicant", reason="对处理决定不服")
    assert case.state == "review"


def test_decider_may_not_review_own_decision(ctx, session, case):
    if ctx.profile.id not in ROUTES:
        # 湖南医保 第十七条第二款: the department's decision ends the objection; there is no 复核 step
        # whose handler could be the decider, so nothing to stand aside from.
        assert all(s.id != "review" for s in ctx.profile.objection.steps)
        assert all(t.to in {s.id for s in ctx.profile.objection.steps if s.terminal}
                   for t in ctx.profile.objection.steps[0].transitions)
        return
    roles, _, review_role = ROUTES[ctx.profile.id]
    decider, _ = _staff(ctx, "decider.wang", roles)
    other, _ = _staff(ctx, "reviewer.li", [review_role])
    _decide_until_review(ctx, case, decider)
    assert staff_role(decider, case, ctx.profile) is None  # the queue offers no buttons
    assert staff_role(other, case, ctx.profile) == review_role
    action = ctx.profile.objection.step("review").transitions[-1].action
    with pytest.raises(ServiceError, match="回避") as err:
        cases.act(_as(ctx, decider), case, action, role=review_role, reason="维持")
    assert err.value.status == 403 and case.state == "review"
    cases.act(_as(ctx, other), case, action, role=review_role, reason="复核维持原处理决定")
    assert not case.open


def test_handler_may_not_approve_own_extension(ctx, session, case):
    if ctx.profile.id == "hainan":  # the step with an extension is the provider's investigation
        intake, _ = _staff(ctx, "intake.qian", ["operator", "provider"])
        for role, action in ROUTES["hainan"][1][:2]:
            cases.act(_as(ctx, intake), case, action, role=role)
    step = ctx.profile.objection.step(case.state)
    handler, totp = _staff(ctx, "handler.zhao", [step.actor, "head"])
    if not step.extension_approval:
        # No approval needed where the profile's text asks none (湖南医保 第十七条第二款: the
        # extension is the department's own); the handler extends alone, once.
        assert ctx.profile.id == "hunan-mi"
        cases.extend_case(_as(ctx, handler), case, role=step.actor, reason="需其他单位协助核查")
        assert case.extended
        return
    with pytest.raises(ServiceError, match="不能自行批准"):
        cases.extend_case(_as(ctx, handler), case, role=step.actor, reason="情况复杂",
                          approver=handler.username, approver_code=totp.now())
    assert not case.extended
    head, htotp = _staff(ctx, "head.sun", ["head"])
    cases.extend_case(_as(ctx, handler), case, role=step.actor, reason="情况复杂", approver=head.username,
                      approver_code=htotp.now())
    assert case.extended
