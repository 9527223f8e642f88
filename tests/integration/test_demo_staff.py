"""``make run`` lets a newcomer try the staff side (issue 14): bootstrap creates a synthetic demo
account when no staff account exists and prints its username, password and TOTP URI once, with a
few plates whose scan URLs use PORTAL_BASE_URL. Never in production, never a second time."""
from __future__ import annotations

import re

import pyotp
from click.testing import CliRunner
from sqlalchemy import func, select

from portal.cli import main
from portal.models import AuditEvent, StaffUser
from portal.services import staff as staff_svc
from portal.services.demo_staff import ensure_demo_plates, ensure_demo_staff


def test_bootstrap_prints_a_working_demo_account_and_plates(settings, monkeypatch, session, rt, ctx):
    for k, v in settings.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("PORTAL_BASE_URL", "http://127.0.0.1:5123")
    first = CliRunner().invoke(main, ["bootstrap", "--subjects", "40"])
    assert first.exit_code == 0, first.output
    username = re.search(r"用户名：(\S+)", first.output)[1]
    password = re.search(r"密码：(\S+)", first.output)[1]
    uri = re.search(r"(otpauth://\S+)", first.output)[1]
    assert "http://127.0.0.1:5123/staff/login" in first.output
    plates = re.findall(r"演示身份牌 \S+：(\S+)", first.output)
    assert plates and all(u.lower().startswith("http://127.0.0.1:5123/p/") for u in plates)  # upper case: QR alphanumeric mode
    # the printed credentials log in
    user = staff_svc.authenticate(ctx, username, password, pyotp.parse_uri(uri).now())
    assert set(user.roles) == {"admin", "department"}
    assert password not in str(session.execute(select(AuditEvent.detail)).scalars().all())
    again = CliRunner().invoke(main, ["bootstrap", "--subjects", "40"])
    assert again.exit_code == 0 and "用户名" not in again.output and "演示身份牌" not in again.output
    assert session.execute(select(func.count()).select_from(StaffUser)).scalar_one() == 1


def test_nothing_in_production_or_when_staff_exists(ctx, session, make_org):
    make_org(name="演示诊所", category="clinic")
    assert ensure_demo_staff(ctx, "production") is None
    assert ensure_demo_plates(ctx, "production") == []
    assert session.execute(select(func.count()).select_from(StaffUser)).scalar_one() == 0
    staff_svc.create_staff(ctx, "real.one", "correct horse battery staple", ["operator"])
    assert ensure_demo_staff(ctx, "development") is None
    assert session.execute(select(StaffUser.username)).scalars().all() == ["real.one"]
