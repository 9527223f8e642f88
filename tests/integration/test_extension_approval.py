"""Extensions need a 负责人's approval (湖南 第二十八条 "情况复杂的，经本部门负责人批准，可以延长3个
工作日"; 海南 第四十条 "经信用信息提供单位负责人批准"): the handler alone cannot extend; the approver
proves consent with their own current code and is named in the case event, the audit log and
the applicant's notice."""
from __future__ import annotations

from datetime import date

import pyotp
import pytest
from sqlalchemy import select

from portal.models import AuditEvent, Notification
from portal.services import cases
from portal.services.errors import ServiceError
from portal.services.staff import create_staff

APPLICANT = cases.Applicant("https://idp.example.test", "sub-rep", "王法人")


def make_head(ctx, username="head.li", region_code="", roles=("head",)):
    user, uri = create_staff(ctx, username, "correct horse battery", list(roles), region_code=region_code,
                             display_name="李科长")
    return user, pyotp.parse_uri(uri)


def head_code(totp) -> str:
    return totp.now()


@pytest.fixture
def case(ctx, make_org, make_record):
    org = make_org(name="长沙市芙蓉区仁和诊所", category="clinic")
    rec = make_record(org, title="未按规定处置医疗废物", decided_on=date(2026, 10, 9))
    return cases.file_objection(ctx, org, rec, ground="fact_error", statement="记载有误", applicant=APPLICANT,
                                commitment=True, identity_confirmed=True)


def test_handler_alone_cannot_extend(ctx, session, case):
    assert case.due_on == date(2026, 11, 25)
    with pytest.raises(ServiceError, match="经负责人批准") as err:
        cases.extend_case(ctx, case, role="department", reason="情况复杂")
    assert err.value.field == "approver"
    assert case.due_on == date(2026, 11, 25) and not case.extended


def test_wrong_code_or_not_a_head_refused(ctx, session, case):
    head, totp = make_head(ctx)
    handler, htotp = make_head(ctx, "handler.wang", roles=("department",))
    with pytest.raises(ServiceError, match="不正确"):
        cases.extend_case(ctx, case, role="department", reason="情况复杂", approver=head.username,
                          approver_code="000000" if totp.now() != "000000" else "111111")
    with pytest.raises(ServiceError, match="不正确"):  # a department account is no 负责人
        cases.extend_case(ctx, case, role="department", reason="情况复杂", approver=handler.username,
                          approver_code=htotp.now())
    far, ftotp = make_head(ctx, "head.far", region_code="430200")  # 株洲: not the case's region
    with pytest.raises(ServiceError, match="不正确"):
        cases.extend_case(ctx, case, role="department", reason="情况复杂", approver=far.username,
                          approver_code=ftotp.now())
    assert not case.extended


def test_handler_cannot_approve_own_extension(rt, session, case):
    both, totp = make_head(rt.context(session, "test"), "dept.head", roles=("department", "head"))
    as_handler = rt.context(session, f"staff:{both.username}")
    with pytest.raises(ServiceError, match="承办人不能自行批准"):
        cases.extend_case(as_handler, case, role="department", reason="情况复杂", approver=both.username,
                          approver_code=totp.now())


def test_approved_extension_names_the_approver(ctx, session, case):
    head, totp = make_head(ctx)
    code = totp.now()
    cases.extend_case(ctx, case, role="department", reason="需调取病历，情况复杂", approver=head.username,
                      approver_code=code)
    assert case.extended and case.due_on == date(2026, 11, 30)
    ev = case.events[-1]
    assert ev.action == "extend" and "经负责人李科长批准" in ev.reason and ev.actor == "test"
    audit = session.execute(select(AuditEvent).where(AuditEvent.action == "case.extend_approved")).scalar_one()
    assert audit.actor == "staff:head.li" and audit.detail["handler"] == "test"
    notes = [n.text for n in session.execute(select(Notification).where(Notification.case_id == case.id)).scalars()]
    assert any("经负责人李科长批准" in t and "延期理由" in t for t in notes)


def test_code_is_single_use(ctx, session, case, make_org, make_record):
    head, totp = make_head(ctx)
    code = totp.now()
    cases.extend_case(ctx, case, role="department", reason="情况复杂", approver=head.username, approver_code=code)
    from portal.models import Subject

    subject = session.get(Subject, case.subject_id)
    other = cases.file_objection(ctx, subject, make_record(subject, title="另一处罚"), ground="expired",
                                 statement="s", applicant=APPLICANT, commitment=True, identity_confirmed=True)
    with pytest.raises(ServiceError, match="不正确"):
        cases.extend_case(ctx, other, role="department", reason="情况复杂", approver=head.username,
                          approver_code=code)
