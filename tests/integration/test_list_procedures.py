"""List procedures through their whole life on two profiles (issue 16), with deadlines across
春节 2027 (02-05 … 02-08 not working days: 《全国年节及纪念日放假办法》, computed, domain.statutory).

Serious list (海南 第十五、十八条; 湖南医保 第十八条): propose → 事先告知 with its document → defence
window (no decision before it ends) → decision with its verifiable document → public listing → report
to the province (湖南医保 第十八条第三款: 5 个工作日) → exit after repair. Red list (淮安 三（一）):
criteria, notice, decision, listing, removal when a dishonesty record arrives. Escalation
(海南 第十四条) as a proposal. Public pages show only published entries; nothing of the proposal
(canaries in the reason and the defence) reaches a public page; every step is in the audit chain.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select

from portal.domain import lists as rules
from portal.models import AuditEvent, CreditRecord, Grade, ListCase
from portal.services import lists as svc
from portal.services.audit import verify_chain
from portal.services.errors import ServiceError

from ..conftest import profile_settings

PUBLIC_TODAY = date(2027, 2, 26)  # the public pages' day (PORTAL_TODAY)
REGION = {"hainan": "460105", "hunan-mi": "430102"}
OTHER = {"hainan": "460202", "hunan-mi": "430103"}
CANARY_REASON = "CANARY-LIST-REASON-7f3a 内部核查笔录"
CANARY_DEFENCE = "CANARY-LIST-DEFENCE-91bd 陈述申辩内容"


settings = profile_settings(("hainan", "hunan-mi"), PUBLIC_TODAY)


def on(ctx, day: date, caller=None):
    """The same session and profile on another day, acting as ``caller``."""
    return replace(ctx, today=day, caller=caller)


def _public_text(client, subject) -> str:
    """The public pages that could show the subject: both lists, the red-list notices, its own page."""
    pages = [client.get("/lists/serious"), client.get("/lists/red"), client.get("/lists/red/notices"),
             client.get(f"/facility/{subject.public_id}")]
    assert [p.status_code for p in pages] == [200] * 4 and subject.name in pages[-1].get_data(as_text=True)
    return "\n".join(p.get_data(as_text=True) for p in pages)


def test_serious_list_whole_life(client, rt, ctx, session, make_org, make_staff):
    pid = ctx.profile.id
    region = REGION[pid]
    org = make_org(name="失信测试诊所", category="clinic", region_code=region)
    dept = make_staff("dept.lists", region_code=region, display_name="认定科").user
    far = make_staff("dept.far", region_code=OTHER[pid], display_name="邻区").user
    session.commit()

    # Propose on Friday 2027-01-29: 告知 due 5 working days later, across 春节 (02-05 … 02-08).
    with pytest.raises(ServiceError) as err:
        svc.propose_listing(on(ctx, date(2027, 1, 29), far), org, rules.SERIOUS, CANARY_REASON, basis="某条")
    assert err.value.status == 403
    with pytest.raises(ServiceError) as err:
        svc.propose_listing(on(ctx, date(2027, 1, 29), dept), org, rules.SERIOUS, CANARY_REASON, basis="")
    assert err.value.field == "basis"  # 海南 第十八条: 事由 and 依据
    case = svc.propose_listing(on(ctx, date(2027, 1, 29), dept), org, rules.SERIOUS, CANARY_REASON,
                               basis="《医疗机构管理条例》第某条", public_summary="因严重违法执业，列入严重失信主体名单。")
    session.commit()
    assert case.state == rules.PROPOSED and case.due_on == date(2027, 2, 9)  # not 02-05: 春节
    with pytest.raises(ServiceError) as err:
        svc.propose_listing(on(ctx, date(2027, 1, 29), dept), org, rules.SERIOUS, "再提一次", basis="x")
    assert err.value.status == 409

    # 事先告知 on Thursday 02-04: defence until 5 working days later = 02-15; decision due 10 WD after.
    notice = svc.notify_subject(on(ctx, date(2027, 2, 4), dept), case, base_url="http://127.0.0.1:5000")
    session.commit()
    assert case.state == rules.NOTIFIED and case.earliest_on == date(2027, 2, 15)
    assert case.due_on == date(2027, 3, 1)
    assert notice.pdf.startswith(b"%PDF") and notice.doc_no.startswith("MDGZ20270204")
    with pytest.raises(ServiceError) as err:  # the right to be heard: not before the window ends
        svc.decide_listing(on(ctx, date(2027, 2, 10), dept), case, "", base_url="http://127.0.0.1:5000")
    assert err.value.status == 409 and "2027-02-15" in err.value.message
    hearing = ctx.profile.lists.hearing  # 湖南医保 第十八条: 必要时可以组织听证; 海南: not in the profile
    svc.record_defence(on(ctx, date(2027, 2, 10), dept), case, CANARY_DEFENCE, hearing=hearing)
    session.commit()

    # Nothing of the procedure is public before the listing.
    serious_page = client.get("/lists/serious").get_data(as_text=True)
    assert org.name not in serious_page
    for secret in (CANARY_REASON, CANARY_DEFENCE):
        assert secret not in _public_text(client, org)
        assert secret not in client.get("/search", query_string={"q": "失信测试诊所"}).get_data(as_text=True)

    # The decision, with its document, once the defence is on file; report due 5 WD later.
    decision = svc.decide_listing(on(ctx, date(2027, 2, 16), dept), case, "经核实，陈述申辩理由不成立",
                                  base_url="http://127.0.0.1:5000")
    session.commit()
    assert case.state == rules.DECIDED and case.decided_on == date(2027, 2, 16)
    assert case.due_on == date(2027, 2, 23) and case.report_due_on == date(2027, 2, 23)
    text = client.get(f"/verify/document/{decision.doc_no}", query_string={"t": decision.verify_token})
    assert text.status_code == 200 and "列入名单认定决定书" in text.get_data(as_text=True)
    assert CANARY_REASON not in text.get_data(as_text=True)
    assert client.get(f"/verify/document/{decision.doc_no}", query_string={"t": "wrong"}).status_code == 404
    assert org.name not in client.get("/lists/serious").get_data(as_text=True)  # decided is not yet published

    # Public listing: the record the public list reads, with the decision's number.
    record = svc.publish_listing(on(ctx, date(2027, 2, 18), dept), case)
    session.commit()
    assert case.state == rules.LISTED and record.doc_no == decision.doc_no
    assert record.record_type == "serious_list" and record.publish_from == date(2027, 2, 18)
    page = client.get("/lists/serious").get_data(as_text=True)
    assert org.name in page
    assert decision.doc_no in client.get("/lists/serious.csv").get_data().decode("utf-8-sig")  # 文书号
    for secret in (CANARY_REASON, CANARY_DEFENCE):
        assert secret not in _public_text(client, org)

    # Report to the province: due 02-23; on 02-24 it is late, and the timeline says so.
    assert svc.case_view(on(ctx, date(2027, 2, 24), dept), case)["report_overdue"]
    svc.report_to_province(on(ctx, date(2027, 2, 24), dept), case, "已报送省级部门")
    session.commit()
    with pytest.raises(ServiceError):
        svc.report_to_province(on(ctx, date(2027, 2, 25), dept), case)
    view = svc.case_view(on(ctx, date(2027, 2, 25), dept), case)
    assert not view["report_overdue"] and "（逾期）" in view["events"][-1]["note"]

    # Exit: not on expiry before the listing ends; after a repair the record stops being published.
    with pytest.raises(ServiceError) as err:
        svc.exit_listing(on(ctx, date(2027, 2, 25), dept), case, "expiry")
    assert err.value.status == 409
    svc.exit_listing(on(ctx, date(2027, 2, 25), dept), case, "repair", "信用修复决定已生效")
    session.commit()
    assert case.state == rules.EXITED and session.get(CreditRecord, record.id).status == "repaired"
    assert org.name not in client.get("/lists/serious").get_data(as_text=True)

    # Every step in the audit chain, in order; the chain verifies.
    actions = list(session.execute(select(AuditEvent.action).where(AuditEvent.object_ref == f"list:{case.case_no}")
                                   .order_by(AuditEvent.id)).scalars())
    assert actions == ["list.propose", "list.notify", "list.defence", "list.decide", "list.publish", "list.report",
                       "list.exit"]
    docs = list(session.execute(select(AuditEvent.object_ref).where(AuditEvent.action == "list.document")
                                .order_by(AuditEvent.id)).scalars())
    assert docs == [f"document:{notice.doc_no}", f"document:{decision.doc_no}"]
    assert verify_chain(session) == []


def test_red_list_and_escalation_whole_life(client, rt, ctx, session, make_org, make_record, make_staff):
    pid = ctx.profile.id
    region = REGION[pid]
    good = make_org(name="守信示范医院", category="hospital", region_code=region)
    plain = make_org(name="普通医院", category="hospital", region_code=region)
    for subject, letter in ((good, "A"), (plain, "B")):
        session.add(Grade(subject_id=subject.id, year=2026, letter=letter, score=99, explanation=[],
                          profile_id=pid))
    dept = make_staff("dept.red", region_code=region).user
    session.commit()
    day = on(ctx, date(2027, 1, 29), dept)

    with pytest.raises(ServiceError) as err:  # criteria from the profile: grade A or better
        svc.propose_listing(day, plain, rules.RED, "连续守信")
    assert err.value.status == 409 and "A" in err.value.message
    case = svc.propose_listing(day, good, rules.RED, CANARY_REASON)
    session.commit()
    assert good.name not in client.get("/lists/red/notices").get_data(as_text=True)  # proposed: not yet public
    svc.start_red_notice(day, case)
    session.commit()
    notices = client.get("/lists/red/notices").get_data(as_text=True)
    assert good.name in notices and case.case_no in notices and "2027-02-09" in notices
    assert CANARY_REASON not in notices
    assert case.state == rules.NOTICE and case.earliest_on == date(2027, 2, 9)  # notice: 5 WD across 春节
    with pytest.raises(ServiceError) as err:
        svc.decide_listing(on(ctx, date(2027, 2, 8), dept), case, "", base_url="http://127.0.0.1:5000")
    assert err.value.status == 409
    svc.decide_listing(on(ctx, date(2027, 2, 10), dept), case, "公示无异议", base_url="http://127.0.0.1:5000")
    record = svc.publish_listing(on(ctx, date(2027, 2, 11), dept), case)
    session.commit()
    assert record.record_type == "redlist" and good.name in client.get("/lists/red").get_data(as_text=True)
    assert good.name not in client.get("/lists/red/notices").get_data(as_text=True)  # the notice is over

    # A new dishonesty record takes the subject off the red list at once, with the reason.
    penalty = make_record(good, "penalty", title="未按规定开展院感监测", decided_on=date(2027, 2, 20))
    session.commit()
    assert case.state == rules.REMOVED and session.get(CreditRecord, record.id).status == "withdrawn"
    assert good.name not in client.get("/lists/red").get_data(as_text=True)
    removal = session.execute(select(AuditEvent).where(AuditEvent.object_ref == f"list:{case.case_no}",
                                                       AuditEvent.action == "list.remove")).scalar_one()
    assert removal.detail["from"] == rules.LISTED and removal.detail["to"] == rules.REMOVED
    timeline = svc.case_view(on(ctx, date(2027, 2, 20), dept), case)["events"]
    assert f"record:{penalty.lineage_id}" in timeline[-1]["note"]

    # Escalation (海南 第十四条): a proposal, never a silent change; idempotent.
    repeat = make_org(name="屡犯诊所", category="clinic", region_code=region)
    for month in (3, 6, 9):
        make_record(repeat, "penalty", title="未按规定公示收费标准", decided_on=date(2026, month, 10))
    session.commit()
    first = svc.sweep(on(ctx, date(2027, 1, 29)))
    again = svc.sweep(on(ctx, date(2027, 1, 30)))
    session.commit()
    escalated = session.execute(select(ListCase).where(ListCase.subject_id == repeat.id)).scalars().all()
    if ctx.profile.lists.escalate_count:
        assert first["escalations"] == 1 and again["escalations"] == 0
        assert [(c.kind, c.origin, c.state) for c in escalated] == [(rules.SERIOUS, "escalation", rules.PROPOSED)]
        records = session.execute(select(CreditRecord).where(CreditRecord.subject_id == repeat.id)).scalars().all()
        assert {r.severity for r in records} == {"general"}  # the records themselves are unchanged
    else:
        assert escalated == [] and first["escalations"] == 0
    assert repeat.name not in client.get("/lists/serious").get_data(as_text=True)
    assert verify_chain(session) == []


def test_serious_list_through_the_pages(app, client, rt, ctx, session, make_org, login_as, make_staff):
    """The same procedure through the staff pages and the subject's /me page: the subject states its
    defence online after real-name login; strangers and other regions are refused; nothing half-written."""
    from portal.domain.identifiers import make_resident_id
    from portal.models import Notification

    from .subject_world import identity

    pid = ctx.profile.id
    org = make_org(name="网页流程诊所", category="clinic", region_code=REGION[pid], legal_rep="钱法人")
    dept = make_staff("dept.web", region_code=REGION[pid])
    far = make_staff("dept.webfar", region_code=OTHER[pid])
    session.commit()
    login = dept.login(client)
    assert login.status_code == 302, login.get_data(as_text=True)[-3000:]
    assert client.get("/staff/lists").status_code == 200

    bad = client.post("/staff/lists", data={"kind": "serious", "code": "不存在", "reason": "x", "basis": "y"})
    assert bad.status_code == 404 and "未找到该信用主体" in bad.get_data(as_text=True)
    refused = client.post("/staff/lists", data={"kind": "red", "code": org.credit_code, "reason": "守信"})
    assert refused.status_code == 409 and "不符合守信红名单条件" in refused.get_data(as_text=True)
    made = client.post("/staff/lists", data={"kind": "serious", "code": org.credit_code, "reason": CANARY_REASON,
                                             "basis": "《某条例》第某条"})
    assert made.status_code == 302
    case = session.execute(select(ListCase).where(ListCase.subject_id == org.id)).scalar_one()
    assert client.post(f"/staff/lists/{case.case_no}/act", data={"op": "nonsense"}).status_code == 400
    assert client.post(f"/staff/lists/{case.case_no}/act", data={"op": "publish"}).status_code == 409
    subject_client = app.test_client()
    rep = identity(rt, "钱法人", resident_id=make_resident_id("430102", date(1970, 1, 1), 11),
                   legal_rep_of=org.credit_code, sub="sub-rep-lists")
    login_as(subject_client, rep)  # a proposal not yet told is the department's working paper
    assert subject_client.get(f"/me/subjects/{org.public_id}/lists/{case.case_no}").status_code == 404
    assert case.case_no not in subject_client.get(f"/me/subjects/{org.public_id}/lists").get_data(as_text=True)
    assert client.post(f"/staff/lists/{case.case_no}/act", data={"op": "notify"}).status_code == 302
    session.expire_all()
    assert session.get(ListCase, case.id).state == rules.NOTIFIED
    inbox = session.execute(select(Notification.text).where(Notification.subject_id == org.id)).scalars().all()
    assert len(inbox) == 1 and case.case_no in inbox[0]

    stranger = identity(rt, "路人甲", resident_id=make_resident_id("430102", date(1980, 1, 1), 22), sub="sub-x")
    page = f"/me/subjects/{org.public_id}/lists/{case.case_no}"
    login_as(subject_client, rep)
    index = subject_client.get(f"/me/subjects/{org.public_id}/lists").get_data(as_text=True)
    assert case.case_no in index
    login_as(subject_client, stranger)
    assert subject_client.get(page).status_code in (403, 404)  # not the stranger's subject
    login_as(subject_client, rep)
    shown = subject_client.get(page)
    assert shown.status_code == 200 and 'id="defence"' in shown.get_data(as_text=True)
    assert subject_client.post(page + "/defence", data={"statement": CANARY_DEFENCE}).status_code == 302
    assert subject_client.post(page + "/defence", data={"statement": "再次"}).status_code == 409
    session.expire_all()
    assert session.get(ListCase, case.id).defence == CANARY_DEFENCE
    defence_event = session.execute(select(AuditEvent).where(AuditEvent.action == "list.defence")).scalar_one()
    assert defence_event.actor == "user:sub-rep-lists"  # the subject itself, after real-name login

    # With the defence on file the decision may be made before the window ends; the documents download.
    assert client.post(f"/staff/lists/{case.case_no}/act", data={"op": "decide", "note": "理由不成立"}).status_code == 302
    session.expire_all()
    docs = svc.case_view(on(ctx, PUBLIC_TODAY), session.get(ListCase, case.id))["documents"]
    assert [d["kind"] for d in docs] == ["notice_letter", "decision"]
    pdf = client.get(f"/staff/lists/{case.case_no}/documents/{docs[1]['doc_no']}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert subject_client.get(f"{page}/documents/{docs[0]['doc_no']}.pdf").data.startswith(b"%PDF")
    assert org.name not in client.get("/lists/serious").get_data(as_text=True)
    assert client.post(f"/staff/lists/{case.case_no}/act", data={"op": "publish"}).status_code == 302
    assert org.name in client.get("/lists/serious").get_data(as_text=True)
    for secret in (CANARY_REASON, CANARY_DEFENCE):
        assert secret not in _public_text(client, org)

    # Another region's department sees nothing and may do nothing.
    other = app.test_client()  # a CsrfClient too (the client fixture set the class)
    far.login(other)
    assert other.get(f"/staff/lists/{case.case_no}").status_code == 403
    assert other.post(f"/staff/lists/{case.case_no}/act", data={"op": "report"}).status_code == 403
    assert case.case_no not in other.get("/staff/lists").get_data(as_text=True)
    session.expire_all()
    assert session.get(ListCase, case.id).reported_on is None


def test_lists_run_exits_on_expiry_and_is_idempotent(settings, ctx, session, make_org):
    """``credit-portal lists run`` on the day the listing ends: the entry leaves the list (the
    record's window ended with it); a second run changes nothing."""
    from click.testing import CliRunner

    from portal.cli import main

    org = make_org(name="到期诊所", category="clinic", region_code=REGION[ctx.profile.id])
    day = on(ctx, date(2027, 1, 29))
    case = svc.propose_listing(day, org, rules.SERIOUS, "事由", basis="依据")
    svc.notify_subject(day, case, base_url="http://x")
    svc.record_defence(on(ctx, date(2027, 2, 1)), case, "无异议，放弃听证")
    svc.decide_listing(on(ctx, date(2027, 2, 1)), case, "", base_url="http://x")
    svc.publish_listing(on(ctx, date(2027, 2, 2)), case)
    session.commit()
    months = ctx.profile.lists.listing_months
    assert case.listed_until == date(2027 + months // 12, 2, 2)
    env = {k: str(v) for k, v in settings.items()} | {"PORTAL_TODAY": case.listed_until.isoformat()}
    first = CliRunner().invoke(main, ["lists", "run"], env=env)
    second = CliRunner().invoke(main, ["lists", "run"], env=env)
    assert first.exit_code == 0 and "移出名单 1 条" in first.output, first.output
    assert second.exit_code == 0 and "移出名单 0 条" in second.output
    session.expire_all()
    closed = session.get(ListCase, case.id)
    assert closed.state == rules.EXITED and closed.outcome_reason == "expiry"
    exits = session.execute(select(AuditEvent.actor).where(AuditEvent.action == "list.exit")).scalars().all()
    assert exits == ["cli:lists"]
