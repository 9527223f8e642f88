"""A staff member learns outside the portal when an administrator resets their password or their
second factor or disables their account (海南 第五十一条; 湖南 第三十三条): an e-mail or SMS queued in
the same transaction through the notification outbox, sent by ``credit-portal notify send``,
carrying no secret (no password, no provisioning URI), and the audit event says whether it was
queued. The contact is set by an administrator on the account page or with the command line,
checked as an e-mail address or a mainland mobile number, with Chinese messages."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from sqlalchemy import func, select

from portal.models import AuditEvent, NoticeOutbox, Notification, NotifyContact, StaffUser
from portal.services import notify, staff_notify
from portal.services import staff_accounts as accounts
from portal.services import staff_passwords as passwords
from portal.services.errors import ServiceError

from .test_staff_auth import PASSWORD

EMAIL = "clerk.zhang@example.test"
PHONE = "13912345678"


def _as(ctx, caller):
    return ctx.__class__(**{**ctx.__dict__, "caller": caller, "actor": f"staff:{caller.username}"})


def _event(session, action):
    return session.execute(select(AuditEvent).where(AuditEvent.action == action)
                           .order_by(AuditEvent.id.desc())).scalars().first()


def _outbox(session):
    session.expire_all()
    return session.execute(select(NoticeOutbox).order_by(NoticeOutbox.id)).scalars().all()


@pytest.fixture
def people(session, make_staff):
    admin, clerk = make_staff("admin.one", "admin"), make_staff("dept.clerk", region_code="430100")
    session.commit()
    return {"admin": admin.user, "admin_login": admin.login, "clerk": clerk.user}


@pytest.mark.parametrize("bad", ["zhang@", "not a contact", "1391234567", "23912345678", "a@b.c" + "x" * 260])
def test_contact_is_checked_in_chinese_and_nothing_is_written(ctx, session, people, bad):
    with pytest.raises(ServiceError) as refused:
        staff_notify.set_contact(_as(ctx, people["admin"]), people["clerk"], bad)
    assert refused.value.message == staff_notify.BAD_CONTACT and refused.value.field == "contact"
    session.rollback()
    assert session.execute(select(func.count()).select_from(NotifyContact)).scalar() == 0


def test_only_an_admin_sets_a_contact(ctx, session, people):
    with pytest.raises(ServiceError) as refused:
        staff_notify.set_contact(_as(ctx, people["clerk"]), people["clerk"], EMAIL)
    assert refused.value.status == 403
    session.rollback()
    assert session.execute(select(func.count()).select_from(NotifyContact)).scalar() == 0


def test_password_reset_reaches_the_owner_by_email_without_the_password(settings, monkeypatch, rt, ctx, session,
                                                                        people, smtp_server):
    admin, clerk = people["admin"], people["clerk"]
    staff_notify.set_contact(_as(ctx, admin), clerk, f"  {EMAIL} ")
    session.commit()
    contact = session.execute(select(NotifyContact)).scalar_one()
    assert contact.iss == staff_notify.STAFF_ISS and contact.sub == str(clerk.id)
    assert EMAIL not in contact.email_enc and rt.protector.decrypt(contact.email_enc) == EMAIL
    assert _event(session, "staff.contact_changed").detail == {"username": "dept.clerk", "channel": "email"}

    creds = passwords.reset_password(_as(ctx, admin), clerk, confirmed=True)
    session.commit()
    [row] = _outbox(session)
    assert row.channel == "email" and row.state == "pending"
    note = session.get(Notification, row.notification_id)
    assert note.staff_id == clerk.id and note.subject_id is None
    assert note.text.startswith("您的账号密码已由管理员重置") and "如非本人知悉" in note.text
    assert _event(session, "staff.password_reset").detail["owner_notified"] == "email"

    for key, value in {**settings, "PORTAL_SMTP_HOST": "127.0.0.1",
                       "PORTAL_SMTP_PORT": str(smtp_server.server_address[1])}.items():
        monkeypatch.setenv(key, value)
    from portal.cli import main

    sent = CliRunner().invoke(main, ["notify", "send"])
    assert sent.exit_code == 0 and "已发送 1 条" in sent.output, sent.output
    [mail] = smtp_server.messages
    body = mail["message"].get_body().get_content()
    assert mail["to"] == [EMAIL] and "您的账号密码已由管理员重置" in body and "北京时间" in body
    assert mail["message"]["Subject"] == f"【{rt.profile.portal_name}】账号安全通知"
    whole = mail["message"].as_string() + body
    assert creds.password not in whole and PASSWORD not in whole and "otpauth" not in whole
    assert [r.state for r in _outbox(session)] == ["sent"]


def test_totp_reset_and_disable_reach_the_owner_by_sms_without_the_secret(rt, ctx, session, people,
                                                                          sms_gateway):
    admin, clerk = people["admin"], people["clerk"]
    staff_notify.set_contact(_as(ctx, admin), clerk, "+86 139-1234-5678")
    creds = accounts.reset_totp(_as(ctx, admin), clerk, confirmed=True)
    accounts.set_active(_as(ctx, admin), clerk, False)
    accounts.set_active(_as(ctx, admin), clerk, True)  # enabling again tells nobody
    session.commit()
    assert [r.channel for r in _outbox(session)] == ["sms", "sms"]
    assert _event(session, "staff.totp_reset").detail["owner_notified"] == "sms"
    assert _event(session, "staff.disable").detail["owner_notified"] == "sms"
    assert "owner_notified" not in _event(session, "staff.enable").detail
    gateway = notify.SmsGateway(url=f"http://127.0.0.1:{sms_gateway.server_address[1]}/send")
    counts = notify.send_pending(session, rt.protector, rt.settings, "门户", senders={"email": None, "sms": gateway})
    assert counts["sent"] == 2
    texts = [r["body"]["text"] for r in sms_gateway.received]
    assert {r["body"]["to"] for r in sms_gateway.received} == {PHONE}
    assert "动态验证码（身份验证器）已由管理员重置" in texts[0] and "账号已由管理员停用" in texts[1]
    secret = parse_qs(urlparse(creds.totp_uri).query)["secret"][0]
    for text in texts:
        assert secret not in text and "otpauth" not in text and "如非本人知悉" in text


def test_without_a_contact_only_the_inbox_and_the_audit_say_it(ctx, session, people):
    admin, clerk = people["admin"], people["clerk"]
    passwords.reset_password(_as(ctx, admin), clerk, confirmed=True)
    session.commit()
    assert _outbox(session) == []
    assert _event(session, "staff.password_reset").detail["owner_notified"] == ""
    # removing a contact cancels what is still queued
    staff_notify.set_contact(_as(ctx, admin), clerk, EMAIL)
    accounts.reset_totp(_as(ctx, admin), clerk, confirmed=True)
    staff_notify.set_contact(_as(ctx, admin), clerk, "")
    session.commit()
    assert [(r.state, r.last_error) for r in _outbox(session)] == [("skipped", "opted_out")]


def test_contact_on_the_account_page_and_the_command_line(client, ctx, session, people, monkeypatch, settings):
    clerk = people["clerk"]
    assert people["admin_login"](client).status_code == 302
    bad = client.post(f"/staff/accounts/{clerk.id}/contact", data={"contact": "zhang@@example"})
    assert bad.status_code == 400 and staff_notify.BAD_CONTACT in bad.get_data(as_text=True)
    assert session.execute(select(func.count()).select_from(NotifyContact)).scalar() == 0
    ok = client.post(f"/staff/accounts/{clerk.id}/contact", data={"contact": PHONE})
    assert ok.status_code == 303
    page = BeautifulSoup(client.get(f"/staff/accounts/{clerk.id}").get_data(as_text=True), "html.parser")
    shown = page.select_one("form.account-contact").get_text()
    assert PHONE not in shown and PHONE[:3] in shown and PHONE[-4:] in shown  # masked

    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    from portal.cli import main

    runner = CliRunner()
    refused = runner.invoke(main, ["staff", "set-contact", "dept.clerk", "12345"])
    assert refused.exit_code != 0 and staff_notify.BAD_CONTACT in refused.output
    done = runner.invoke(main, ["staff", "set-contact", "dept.clerk", EMAIL])
    assert done.exit_code == 0, done.output
    session.expire_all()
    contact = session.execute(select(NotifyContact)).scalar_one()
    assert contact.channel == "email" and contact.phone_enc == ""
    assert session.get(StaffUser, clerk.id).active
