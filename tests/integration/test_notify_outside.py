"""Notices reach the applicant outside the portal (issue 14): e-mail by default through a real SMTP
conversation with a local debugging server, SMS through the configured HTTP gateway (a local HTTP
server receives it); each notice once; the opt-out on /me respected; the message carries no
personal data beyond the case number (never a name, an ID number or the notice's text).
Also the inbox itself: opening a notice marks it read, the header shows the unread count."""
from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from sqlalchemy import select

from portal.domain.identifiers import make_resident_id, make_uscc
from portal.models import AuditEvent, NoticeOutbox, Notification, NotifyContact
from portal.services import cases, my_desk, notify
from portal.services.errors import ServiceError

from .subject_world import identity

REQUEST = "请补充执业许可证副本"
REP_ID = make_resident_id("430102", date(1970, 1, 1), 11)
EMAIL = "qian.faren@example.test"
PHONE = "13912345678"


@pytest.fixture
def world(ctx, session, rt, make_org, make_record):
    code = make_uscc("12", "430102", "00006666")
    org = make_org(name="芙蓉区安康诊所", region_code="430102", code=code, legal_rep="钱法人")
    rec = make_record(org, title="未按规定登记", decided_on=date(2026, 10, 9))
    rep = identity(rt, "钱法人", resident_id=REP_ID, legal_rep_of=code, sub="sub-rep")
    stranger = identity(rt, "路人甲", resident_id=make_resident_id("430102", date(1980, 1, 1), 22), sub="sub-x")
    session.commit()
    return {"org": org, "rec": rec, "rep": rep, "stranger": stranger}


def _as(ctx, who):
    return dataclasses.replace(ctx, caller=who, actor=f"person:{who.sub}")


def _file(ctx, w):
    return cases.file_objection(ctx, w["org"], w["rec"], ground="fact_error", statement="登记有误",
                                applicant=cases.Applicant.of(w["rep"], "legal_rep"), commitment=True,
                                identity_confirmed=True)


def _outbox(session):
    session.expire_all()
    return session.execute(select(NoticeOutbox).order_by(NoticeOutbox.id)).scalars().all()


def _no_personal_data(text: str) -> None:
    for leak in ("钱法人", REP_ID, REP_ID[-6:], REQUEST, "安康诊所", "未按规定登记"):
        assert leak not in text, leak


def test_email_by_default_each_notice_once_through_the_cli(settings, monkeypatch, rt, ctx, session, world,
                                                           smtp_server):
    w = world
    my_desk.set_notify_contact(_as(ctx, w["rep"]), "email", EMAIL)
    case = _file(ctx, w)
    cases.request_materials(ctx, case, role="department", reason=REQUEST)
    session.commit()
    subject_notes = session.execute(select(Notification.id).where(Notification.subject_id == w["org"].id)).all()
    rows = _outbox(session)
    assert len(rows) == len(subject_notes) >= 2 and {r.channel for r in rows} == {"email"}
    # the address is stored encrypted, and the audit event of the choice names the channel only
    contact = session.execute(select(NotifyContact)).scalar_one()
    assert EMAIL not in contact.email_enc and rt.protector.decrypt(contact.email_enc) == EMAIL
    [event] = session.execute(select(AuditEvent).where(AuditEvent.action == "subject.notify_contact")).scalars()
    assert event.detail == {"channel": "email"}

    for key, value in {**settings, "PORTAL_SMTP_HOST": "127.0.0.1",
                       "PORTAL_SMTP_PORT": str(smtp_server.server_address[1]),
                       "PORTAL_MAIL_FROM": "noreply@portal.example.test"}.items():
        monkeypatch.setenv(key, value)
    from portal.cli import main

    runner = CliRunner()
    first = runner.invoke(main, ["notify", "send"])
    assert first.exit_code == 0, first.output
    assert f"已发送 {len(rows)} 条" in first.output
    again = runner.invoke(main, ["notify", "send"])  # the scheduler runs it again: nothing twice
    assert again.exit_code == 0 and "已发送 0 条" in again.output
    assert len(smtp_server.messages) == len(rows)
    for sent in smtp_server.messages:
        assert sent["to"] == [EMAIL] and sent["from"] == "<noreply@portal.example.test>"
        msg = sent["message"]
        body = msg.get_body().get_content()
        assert case.case_no in body and "http://127.0.0.1:5000/me" in body
        assert msg["Subject"] == f"【{rt.profile.portal_name}】办理通知"
        _no_personal_data(msg.as_string() + body)
    assert {r.state for r in _outbox(session)} == {"sent"} and all(r.sent_at for r in _outbox(session))


def test_opt_out_is_respected(rt, ctx, session, world, smtp_server):
    w = world
    rep = _as(ctx, w["rep"])
    my_desk.set_notify_contact(rep, "email", EMAIL)
    case = _file(ctx, w)
    session.commit()
    queued = _outbox(session)
    assert queued and {r.state for r in queued} == {"pending"}
    # opting out cancels what is queued, and nothing new is queued
    my_desk.set_notify_contact(rep, "none")
    cases.request_materials(ctx, case, role="department", reason=REQUEST)
    session.commit()
    assert [r.state for r in _outbox(session)] == ["skipped"] * len(queued)
    smtp = notify.SmtpSender(host="127.0.0.1", port=smtp_server.server_address[1])
    counts = notify.send_pending(session, rt.protector, rt.settings, "门户", senders={"email": smtp, "sms": None})
    assert counts["sent"] == 0 and smtp_server.messages == []
    # back to e-mail (the stored address is kept): only the notices from now on
    my_desk.set_notify_contact(rep, "email")
    cases.notify(ctx, case, "办理提醒")
    # opting out after queueing, before the sender runs: skipped by the sender too
    session.commit()
    contact = session.execute(select(NotifyContact)).scalar_one()
    contact.channel = "none"  # as if changed between queueing and sending, bypassing the verb
    session.commit()
    counts = notify.send_pending(session, rt.protector, rt.settings, "门户", senders={"email": smtp, "sms": None})
    assert counts == {"sent": 0, "skipped": 1, "failed": 0, "waiting": 0} and smtp_server.messages == []


def test_sms_through_the_configured_gateway(rt, ctx, session, world, sms_gateway):
    w = world
    my_desk.set_notify_contact(_as(ctx, w["rep"]), "sms", phone="139 1234 5678")
    case = _file(ctx, w)
    session.commit()
    settings = {**rt.settings, "PORTAL_SMS_URL": f"http://127.0.0.1:{sms_gateway.server_address[1]}/send",
                "PORTAL_SMS_TOKEN": "gw-token"}
    counts = notify.send_pending(session, rt.protector, settings, rt.profile.portal_name)
    assert counts["sent"] == len(_outbox(session)) >= 1
    assert notify.send_pending(session, rt.protector, settings, rt.profile.portal_name)["sent"] == 0
    assert len(sms_gateway.received) == counts["sent"]
    for got in sms_gateway.received:
        assert got["auth"] == "Bearer gw-token" and got["body"]["to"] == PHONE
        assert case.case_no in got["body"]["text"]
        _no_personal_data(got["body"]["text"])


def test_unconfigured_channel_waits_and_a_failing_server_is_retried(rt, ctx, session, world):
    w = world
    my_desk.set_notify_contact(_as(ctx, w["rep"]), "email", EMAIL)
    _file(ctx, w)
    session.commit()
    n = len(_outbox(session))
    assert notify.send_pending(session, rt.protector, {**rt.settings, "PORTAL_SMTP_HOST": ""}, "门户")["waiting"] == n
    dead = notify.SmtpSender(host="127.0.0.1", port=1, timeout=2)  # nothing listens: refused
    for _ in range(notify.MAX_ATTEMPTS):
        notify.send_pending(session, rt.protector, rt.settings, "门户", senders={"email": dead, "sms": None})
    rows = _outbox(session)
    assert {r.state for r in rows} == {"failed"} and {r.attempts for r in rows} == {notify.MAX_ATTEMPTS}
    assert all(r.last_error and EMAIL not in r.last_error for r in rows)


def test_contact_choice_is_checked(ctx, world):
    w = world
    rep = _as(ctx, w["rep"])
    for args, field in ((("email", "not-an-address"), "email"), (("sms", "", "12345"), "phone"),
                        (("email",), "email"), (("fax", EMAIL), "channel")):
        with pytest.raises(ServiceError) as err:
            my_desk.set_notify_contact(rep, *args)
        assert err.value.status == 400 and err.value.field == field
    for caller in (w["stranger"], None):  # no subject of their own, or no login at all
        with pytest.raises(ServiceError) as err:
            my_desk.set_notify_contact(dataclasses.replace(ctx, caller=caller), "email", EMAIL)
        assert err.value.status == 403


def test_me_form_and_inbox_read_state(client, ctx, session, login_as, world):
    w = world
    case = _file(ctx, w)
    cases.request_materials(ctx, case, role="department", reason=REQUEST)
    session.commit()
    login_as(client, w["rep"])
    page = BeautifulSoup(client.get("/me").get_data(as_text=True), "html.parser")
    assert page.select_one("header a.nav-me .unread-badge").get_text() == "2"
    assert page.select_one("#notify input[name=channel][value=email]").has_attr("checked")  # the default
    bad = client.post("/me/notify", data={"channel": "email", "email": "x@"})
    assert bad.status_code == 400 and "请填写有效的电子邮箱地址" in bad.get_data(as_text=True)
    assert client.post("/me/notify", data={"channel": "email", "email": EMAIL}).status_code == 303
    page = BeautifulSoup(client.get("/me").get_data(as_text=True), "html.parser")
    assert EMAIL not in str(page) and "q***@example.test" in page.select_one("#notify").get_text()
    # opening a notice marks it read and leads to its case
    first = page.select_one("ul.notices li.unread")
    opened = client.get(first.select_one("a")["href"])
    assert opened.status_code == 303 and opened.headers["Location"].endswith(f"/cases/{case.case_no}")
    page = BeautifulSoup(client.get("/me").get_data(as_text=True), "html.parser")
    assert page.select_one(f"li[data-notice='{first['data-notice']}']")["class"] == ["read"]
    assert page.select_one("header a.nav-me .unread-badge").get_text() == "1"
    assert client.get("/me/notices/99999999").status_code == 404
    assert client.get("/me/notices/2147483648").status_code == 404  # beyond the id column: no 500
    assert client.post("/me/notices/read", data={"id": "99999999999"}).status_code == 404
    header = BeautifulSoup(client.get("/search").get_data(as_text=True), "html.parser").select_one("header")
    assert header.select_one("a.nav-me .unread-badge").get_text() == "1"  # on every page
    login_as(client, w["stranger"])  # someone else's notice: not found, not marked
    assert client.get(first.select_one("a")["href"]).status_code == 404
    assert client.post("/me/notify", data={"channel": "none"}).status_code == 403


def test_a_row_claimed_by_another_sender_is_not_sent_twice(rt, ctx, session, world, smtp_server):
    """Two senders (two timers, two nodes): the claim is a committed conditional UPDATE, so the
    second one skips a row the first has taken; a claim left by a sender that died frees itself
    after ``CLAIM_TIMEOUT``."""
    from datetime import timedelta

    from portal.models.base import utcnow

    w = world
    my_desk.set_notify_contact(_as(ctx, w["rep"]), "email", EMAIL)
    cases.notify(ctx, _file(ctx, w), "办理提醒")
    session.commit()
    rows = _outbox(session)
    assert len(rows) >= 2
    other = rt.sessions()  # the other sender's own connection
    try:
        assert notify._claim(other, rows[0].id, utcnow())
        assert not notify._claim(other, rows[0].id, utcnow())  # taken: a second claim gets nothing
    finally:
        other.close()
    smtp = notify.SmtpSender(host="127.0.0.1", port=smtp_server.server_address[1])
    senders = {"email": smtp, "sms": None}
    counts = notify.send_pending(session, rt.protector, rt.settings, "门户", senders=senders)
    assert counts["sent"] == len(rows) - 1 and len(smtp_server.messages) == len(rows) - 1
    assert _outbox(session)[0].state == "pending"
    # the other sender died after claiming: after the timeout the row is sent, once
    row = _outbox(session)[0]
    row.claimed_at = utcnow() - notify.CLAIM_TIMEOUT - timedelta(seconds=1)
    session.commit()
    assert notify.send_pending(session, rt.protector, rt.settings, "门户", senders=senders)["sent"] == 1
    assert notify.send_pending(session, rt.protector, rt.settings, "门户", senders=senders)["sent"] == 0
    assert len(smtp_server.messages) == len(rows)


def test_a_list_procedure_notice_reaches_the_legal_representative_outside(rt, ctx, session, world, smtp_server):
    """A 告知 of a list procedure (issue 16, 海南 第十八条) is not about a case: it goes through the
    same outbox as case notices (``notify.tell_subject``), to the login that chose its channel while
    managing the organisation, and the message carries nothing of the proposal."""
    from portal.domain import lists as list_rules
    from portal.services import lists
    from portal.services import staff as staff_svc

    w = world
    my_desk.set_notify_contact(_as(ctx, w["rep"]), "email", EMAIL)
    dept, _ = staff_svc.create_staff(ctx, "dept.notify", "x" * 16 + "Aa1!", ["department"], region_code="430102",
                                     display_name="认定科")
    officer = dataclasses.replace(ctx, caller=dept, actor="staff:dept.notify")
    case = lists.propose_listing(officer, w["org"], list_rules.SERIOUS, "CANARY-OUTBOX-REASON 内部笔录",
                                 basis="《医疗机构管理条例》第某条")
    session.commit()
    assert _outbox(session) == []  # a proposal is staff-only: nothing leaves the portal
    lists.notify_subject(officer, case, base_url="http://127.0.0.1:5000")
    session.commit()
    [note] = session.execute(select(Notification).where(Notification.subject_id == w["org"].id)).scalars()
    assert case.case_no in note.text
    [row] = _outbox(session)
    assert row.notification_id == note.id and row.channel == "email" and row.state == "pending"
    contact = session.get(NotifyContact, row.contact_id)
    assert (contact.iss, contact.sub) == (w["rep"].iss, w["rep"].sub)

    smtp = notify.SmtpSender(host="127.0.0.1", port=smtp_server.server_address[1])
    counts = notify.send_pending(session, rt.protector, rt.settings, "门户", senders={"email": smtp, "sms": None})
    assert counts["sent"] == 1 and [m["to"] for m in smtp_server.messages] == [[EMAIL]]
    text = smtp_server.messages[0]["message"].as_string() + smtp_server.messages[0]["message"].get_body().get_content()
    _no_personal_data(text)
    assert "CANARY-OUTBOX-REASON" not in text and "名单" not in text
