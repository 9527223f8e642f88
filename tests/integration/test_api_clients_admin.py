"""Registering, rotating and disabling sharing-API clients (issue 15): the administrators' page
and ``credit-portal api-client``, on the same verbs; secrets are shown once and stored hashed."""
from __future__ import annotations

import re

from bs4 import BeautifulSoup
from click.testing import CliRunner
from sqlalchemy import select

from portal.models import ApiClient, AuditEvent
from portal.services import staff as staff_svc

from .test_staff_auth import PASSWORD, _secret, web_login

SECRET = re.compile(r"client_secret=([A-Za-z0-9_-]{20,})")


def _login(client, ctx, session, username, roles):
    _, uri = staff_svc.create_staff(ctx, username, PASSWORD, roles)
    session.commit()
    assert web_login(client, username, _secret(uri)).status_code in (302, 303)


def _token_status(app, client_id, secret) -> int:
    """200, or 401 for a refused client (RFC 6749 5.2 lets client_secret_post answer 400: counted as 401
    when the code says the client was refused)."""
    resp = app.test_client().post("/api/v1/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                         "client_secret": secret})
    if resp.status_code == 400 and resp.get_json()["code"] == "oauth_invalid_client":
        return 401
    return resp.status_code


def test_admin_page_registers_rotates_and_disables(app, client, ctx, session):
    _login(client, ctx, session, "admin.api", ["admin"])
    page = BeautifulSoup(client.get("/staff/api-clients").data, "html.parser")
    assert page.select_one("form.api-client-form") is not None
    assert page.select_one("nav.staff-nav a[href='/staff/api-clients']") is not None
    form = {"client_id": "ybj.cs", "name": "长沙市医疗保障局", "purpose": "医保基金监管", "region_code": "430100",
            "scope": ["records:read:public", "records:read:shared"], "rate_limit": "60/minute"}
    created = client.post("/staff/api-clients", data=form)
    assert created.status_code == 200
    secret = SECRET.search(created.get_data(as_text=True)).group(1)
    session.expire_all()
    row = session.execute(select(ApiClient).where(ApiClient.client_id == "ybj.cs")).scalar_one()
    assert row.secret_hash.startswith("$argon2") and secret not in row.secret_hash
    assert row.scope_list == ["records:read:public", "records:read:shared"] and row.region_code == "430100"
    assert _token_status(app, "ybj.cs", secret) == 200
    # shown once: the list page does not carry it
    assert secret not in client.get("/staff/api-clients").get_data(as_text=True)
    # a bad registration: the form again with the message, nothing stored
    bad = client.post("/staff/api-clients", data={**form, "client_id": "ybj.other", "scope": ["records:delete"]})
    assert bad.status_code == 422 and "权限范围" in bad.get_data(as_text=True)
    assert session.execute(select(ApiClient).where(ApiClient.client_id == "ybj.other")).first() is None
    rotated = client.post("/staff/api-clients/ybj.cs/rotate")
    new_secret = SECRET.search(rotated.get_data(as_text=True)).group(1)
    assert new_secret != secret
    assert _token_status(app, "ybj.cs", secret) == 401 and _token_status(app, "ybj.cs", new_secret) == 200
    assert client.post("/staff/api-clients/ybj.cs/disable", data={"reason": "合作终止"}).status_code == 303
    assert _token_status(app, "ybj.cs", new_secret) == 401
    assert client.post("/staff/api-clients/nobody/rotate").status_code == 404
    events = session.execute(select(AuditEvent.action).where(AuditEvent.actor == "staff:admin.api")).scalars().all()
    assert {"api_client.create", "api_client.rotate", "api_client.disable"} <= set(events)


def test_page_and_verbs_refuse_non_admins(client, ctx, session):
    _login(client, ctx, session, "dept.api", ["department"])
    assert client.get("/staff/api-clients").status_code == 403
    resp = client.post("/staff/api-clients", data={"client_id": "x.dept", "name": "x", "purpose": "x",
                                                   "scope": ["records:read:public"]})
    assert resp.status_code == 403
    assert session.execute(select(ApiClient)).first() is None
    nav = BeautifulSoup(client.get("/staff/objections").data, "html.parser")
    assert nav.select_one("nav.staff-nav a[href='/staff/api-clients']") is None


def test_cli_create_rotate_disable(app, settings, monkeypatch, session):
    from portal.cli import main

    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    created = runner.invoke(main, ["api-client", "create", "sjj.hn", "--name", "湖南省市场监督管理局",
                                   "--purpose", "企业信用监管", "--scope", "records:read:public"])
    assert created.exit_code == 0, created.output
    secret = SECRET.search(created.output).group(1)
    assert _token_status(app, "sjj.hn", secret) == 200
    refused = runner.invoke(main, ["api-client", "create", "w.hn", "--name", "x", "--purpose", "x",
                                   "--scope", "records:write"])
    assert refused.exit_code != 0 and "--authority" in refused.output
    bad = runner.invoke(main, ["api-client", "create", "r.hn", "--name", "x", "--purpose", "x",
                               "--scope", "records:read:public", "--region", "999999"])
    assert bad.exit_code != 0 and "区划代码" in bad.output
    rotated = runner.invoke(main, ["api-client", "rotate", "sjj.hn"])
    assert rotated.exit_code == 0 and _token_status(app, "sjj.hn", secret) == 401
    listed = runner.invoke(main, ["api-client", "list"])
    assert "sjj.hn\t有效" in listed.output
    assert runner.invoke(main, ["api-client", "disable", "sjj.hn", "--reason", "测试"]).exit_code == 0
    assert "sjj.hn\t已停用" in runner.invoke(main, ["api-client", "list"]).output
    missing = runner.invoke(main, ["api-client", "rotate", "nobody"])
    assert missing.exit_code != 0 and "没有客户端" in missing.output
