"""The applicant's own steps on the case page (issue 14): the 复核 request says why, within a
bound, and the page shows until when it can be asked (湖南 第二十八条第三款); 撤回申请 asks for
confirmation in the form and is not offered once the objection is decided."""
from __future__ import annotations

from datetime import date

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.models import Case
from portal.services import cases
from portal.services.errors import ServiceError

from .test_objection_flow import APPLICANT, _rep, file


@pytest.fixture
def world(make_org, make_record, reindex):
    org = make_org(name="长沙市雨花区康宁诊所", category="clinic")
    rec = make_record(org, title="超范围执业被处罚", decided_on=date(2026, 10, 9))
    reindex()
    return org, rec


def _page(client, url):
    return BeautifulSoup(client.get(url).get_data(as_text=True), "html.parser")


def test_review_request_needs_a_bounded_reason(ctx, world):
    org, rec = world
    case = file(ctx, org, rec)
    cases.decide_objection(ctx, case, "reject", role="department", reason="经核查无误")
    for reason, wanted in (("", "请填写申请复核的理由"), ("   ", "请填写申请复核的理由"),
                           ("理" * (cases.REVIEW_REASON_LIMIT + 1), f"不能超过 {cases.REVIEW_REASON_LIMIT} 字")):
        with pytest.raises(ServiceError, match=wanted) as err:
            cases.act(ctx, case, "request_review", role="applicant", reason=reason)
        assert err.value.field == "reason" and case.state == "rejected"
    cases.act(ctx, case, "request_review", role="applicant", reason="理" * cases.REVIEW_REASON_LIMIT)
    assert case.state == "review" and case.events[-1].reason == "理" * cases.REVIEW_REASON_LIMIT


def test_review_form_shows_deadline_and_keeps_the_case_on_refusal(client, ctx, session, login_as, world):
    org, rec = world
    case = file(ctx, org, rec)
    cases.decide_objection(ctx, case, "reject", role="department", reason="经核查无误")
    session.commit()
    login_as(client, _rep(org))
    url = f"/me/subjects/{org.public_id}/cases/{case.case_no}"
    page = _page(client, url)
    form = page.select_one("form.applicant-action[data-action=request_review]")
    assert "2026-12-11" in form.select_one(".review-due").get_text()  # 15 working days (湖南 第二十八条第三款)
    area = form.select_one("textarea[name=reason]")
    assert area.has_attr("required") and area["maxlength"] == str(cases.REVIEW_REASON_LIMIT)
    assert page.select_one("form.withdraw") is None  # decided: accept it or ask for review, no withdrawal
    resp = client.post(url + "/act", data={"action": "request_review", "reason": ""})
    assert resp.status_code == 400 and "请填写申请复核的理由" in resp.get_data(as_text=True)
    session.expire_all()
    assert session.get(Case, case.id).state == "rejected"
    assert client.post(url + "/withdraw", data={"confirm": "yes"}).status_code == 409
    session.expire_all()
    assert session.get(Case, case.id).state == "rejected"


def test_withdraw_asks_for_confirmation(client, ctx, session, login_as, world):
    org, rec = world
    case = file(ctx, org, rec)
    session.commit()
    login_as(client, _rep(org))
    url = f"/me/subjects/{org.public_id}/cases/{case.case_no}"
    box = _page(client, url).select_one("form.withdraw input[name=confirm]")
    assert box["type"] == "checkbox" and box.has_attr("required")
    resp = client.post(url + "/withdraw", data={"reason": "已沟通"})
    assert resp.status_code == 400 and "请勾选确认撤回" in resp.get_data(as_text=True)
    session.expire_all()
    assert session.execute(select(Case.state)).scalar() == "verify"
    assert client.post(url + "/withdraw", data={"reason": "已沟通", "confirm": "yes"}).status_code == 302
    session.expire_all()
    assert session.execute(select(Case.state)).scalar() == "withdrawn"
    assert _page(client, url).select_one("form.withdraw") is None


def test_withdraw_refused_after_decision_in_the_verb(ctx, world):
    org, rec = world
    case = file(ctx, org, rec)
    cases.decide_objection(ctx, case, "reject", role="department", reason="经核查无误")
    assert not cases.may_withdraw(ctx.profile, case)
    with pytest.raises(ServiceError, match="已作出处理决定") as err:
        cases.withdraw_case(ctx, case, APPLICANT, "不想办了")
    assert err.value.status == 409 and case.open
    assert case.due_on == date(2026, 12, 11)
