"""Commendation and typical-case notices through their whole life on two profiles (issue 16;
阳山 四（五）; 淮安 三（五）): draft → publish (by a second person where the profile says:
hainan) → the public pages /notices and the home page's link → withdraw with a reason. Only public
records and subjects are linked: a non-public one is refused at publish time, and a record that
later stops being public drops out of the public page (the canary never shows). Every step checks
the caller and is in the audit chain."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.domain.vocab import RecordStatus, Scope
from portal.models import AuditEvent, Grade, PublicNotice
from portal.services import public_notices as svc
from portal.services.audit import verify_chain
from portal.services.errors import ServiceError
from portal.services.records import set_record_status

from ..conftest import profile_settings

TODAY = date(2026, 12, 1)
REGION = {"hainan": "460105", "guangdong": "441823"}
OTHER = {"hainan": "460202", "guangdong": "441802"}
CANARY = "CANARY-NOTICE-PRIVATE-5c1e 内部核查"


settings = profile_settings(("hainan", "guangdong"), TODAY)


def _as(ctx, user):
    return replace(ctx, caller=user, actor=f"staff:{user.username}", today=TODAY)


def _soup(resp):
    return BeautifulSoup(resp.get_data(as_text=True), "html.parser")


def test_notice_whole_life(client, ctx, session, make_org, make_record, make_staff):
    pid = ctx.profile.id
    region = REGION[pid]
    best = ctx.profile.grades[0].letter
    good = make_org(name="守信示范医院", region_code=region)
    plain = make_org(name="普通诊所", category="clinic", region_code=region)
    bad = make_org(name="典型失信诊所", category="clinic", region_code=region)
    session.add_all([Grade(subject_id=good.id, year=2025, letter=best, score=95, explanation=[], profile_id=pid),
                     Grade(subject_id=plain.id, year=2025, letter="B", score=80, explanation=[], profile_id=pid)])
    penalty = make_record(bad, title="超范围执业", decided_on=date(2026, 11, 2), doc_no="罚字〔2026〕1号")
    hidden = make_record(bad, title=CANARY, decided_on=date(2026, 11, 3), scope=Scope.SHARED)
    author = make_staff("dept.author", region_code=region).user
    second_account = make_staff("dept.second", region_code=region)
    second = second_account.user
    far = make_staff("dept.far", region_code=OTHER[pid]).user
    operator = make_staff("op.notices", "operator", region_code=region).user
    session.commit()

    # A-grade commendation from the formal grades of 2025 (阳山 四（五）).
    links = svc.top_grade_subjects(_as(ctx, author), 2025)
    assert [ref for _, ref, _ in links] == [good.id] and links[0][2] == f"2025 年度 {best} 级"
    with pytest.raises(ServiceError) as err:
        svc.draft_notice(_as(ctx, operator), "commendation", "表彰", "正文", links)
    assert err.value.status == 403
    with pytest.raises(ServiceError) as err:  # a typical case names penalty records, not bare subjects
        svc.draft_notice(_as(ctx, author), "typical_case", "案例", "正文", links)
    assert err.value.field == "records"
    praise = svc.draft_notice(_as(ctx, author), "commendation", "2025 年度守信单位表彰",
                              "以下单位评为 A 级。投诉人张三峰（联系电话13812345678）表示满意。", links)
    case = svc.draft_notice(_as(ctx, author), "typical_case", "失信典型案例通报", "曝光失信典型案例。",
                            svc.parse_links(_as(ctx, author), "typical_case", f"{penalty.lineage_id},{hidden.lineage_id}", ""))
    session.commit()
    assert client.get(f"/notices/{praise.number}").status_code == 404  # a draft is not public

    # Publishing: the author may not where the profile asks for a second person; another region may not.
    with pytest.raises(ServiceError) as err:
        svc.publish_notice(_as(ctx, far), praise)
    assert err.value.status == 403
    session.rollback()
    if ctx.profile.lists.notice_second_person:
        with pytest.raises(ServiceError) as err:
            svc.publish_notice(_as(ctx, author), praise)
        assert err.value.status == 409 and "另一名工作人员" in err.value.message
        session.rollback()
        publisher = second
    else:
        publisher = author
    svc.publish_notice(_as(ctx, publisher), praise)
    session.commit()
    with pytest.raises(ServiceError) as err:  # the non-public record is refused at publish time
        svc.publish_notice(_as(ctx, second), session.get(PublicNotice, case.id))
    assert err.value.status == 409 and "不是公开信息" in err.value.message
    session.rollback()
    assert session.get(PublicNotice, case.id).state == "draft"  # nothing half-written
    case = session.get(PublicNotice, case.id)
    svc.edit_notice(_as(ctx, author), case, case.title, case.body,
                    svc.parse_links(_as(ctx, author), "typical_case", str(penalty.lineage_id), ""))
    svc.publish_notice(_as(ctx, second), case)
    session.commit()

    # The public pages: the list, each notice, the home page's link.
    home = _soup(client.get("/"))
    assert home.find(id="recent-notices")["href"] == "/notices"
    index = client.get("/notices").get_data(as_text=True)
    assert praise.title in index and case.title in index
    page = _soup(client.get(f"/notices/{praise.number}"))
    # staff-typed text is masked like record text: no third party's name or phone on the public page
    assert "13812345678" not in str(page) and "张三峰" not in str(page) and "以下单位评为 A 级" in str(page)
    assert [a.get_text() for a in page.select("#links a")] == [good.name]
    typical = client.get(f"/notices/{case.number}").get_data(as_text=True)
    assert "超范围执业" in typical and bad.name in typical and CANARY not in typical

    # The penalty record stops being public (repaired): it drops out of the public notice page.
    set_record_status(replace(ctx, today=TODAY), penalty, RecordStatus.REPAIRED, "信用修复")
    session.commit()
    typical = client.get(f"/notices/{case.number}").get_data(as_text=True)
    assert "超范围执业" not in typical and bad.name not in typical and CANARY not in typical
    assert _soup(client.get(f"/notices/{case.number}")).select("#links .link") == []

    # Withdraw through the staff page, with a reason: the public page is gone, staff keep the reason.
    assert second_account.login(client).status_code == 302
    assert client.post(f"/staff/notices/{praise.number}/act", data={"op": "withdraw", "reason": ""}).status_code == 400
    assert client.post(f"/staff/notices/{praise.number}/act", data={"op": "publish"}).status_code == 409
    assert client.post(f"/staff/notices/{praise.number}/act",
                       data={"op": "withdraw", "reason": "表彰对象发生失信行为"}).status_code == 302
    assert client.get(f"/notices/{praise.number}").status_code == 404
    assert praise.title not in client.get("/notices").get_data(as_text=True)
    staff_page = client.get(f"/staff/notices/{praise.number}").get_data(as_text=True)
    assert "表彰对象发生失信行为" in staff_page

    actions = session.execute(select(AuditEvent.action).where(AuditEvent.action.like("public_notice.%"))
                              .order_by(AuditEvent.id)).scalars().all()
    assert actions == ["public_notice.draft", "public_notice.draft", "public_notice.publish", "public_notice.edit",
                       "public_notice.publish", "public_notice.withdraw"]
    assert verify_chain(session) == []


def test_notice_pages_refuse_hostile_input(client, ctx, session, make_staff):
    region = REGION[ctx.profile.id]
    dept = make_staff("dept.pages", region_code=region)
    session.commit()
    assert client.get("/staff/notices").status_code in (302, 401, 403)  # not logged in
    assert dept.login(client).status_code == 302
    assert client.get("/staff/notices").status_code == 200
    for data, status in (({"kind": "nope", "title": "t", "body": "b"}, 400),
                         ({"kind": "commendation", "title": "", "body": "b"}, 400),
                         ({"kind": "commendation", "title": "t", "body": "b", "records": "abc"}, 400),
                         ({"kind": "commendation", "title": "t", "body": "b", "records": "999999"}, 404),
                         ({"kind": "commendation", "title": "t", "body": "b", "top_grade_year": "20x5"}, 400)):
        resp = client.post("/staff/notices", data=data)
        assert resp.status_code == status, (data, resp.status_code)
        assert _soup(resp).find(id="error") is not None
    assert session.execute(select(PublicNotice)).first() is None
    made = client.post("/staff/notices", data={"kind": "commendation", "title": "空表彰", "body": "正文"})
    assert made.status_code == 302
    number = session.execute(select(PublicNotice.number)).scalar_one()
    refused = client.post(f"/staff/notices/{number}/act", data={"op": "publish"})
    assert refused.status_code == 409  # no link, nothing to publish
    assert client.post(f"/staff/notices/{number}/act", data={"op": "bogus"}).status_code == 400
    assert client.post("/staff/notices/GS-0000-9999/act", data={"op": "publish"}).status_code == 404
    assert client.get("/notices/GS-0000-9999").status_code == 404
