"""Staff accounts: argon2 + TOTP login, lockout, queues scoped by role and region, case actions."""
from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

import pyotp
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.models import AuditEvent, Case, CreditRecord, StaffUser
from portal.profiles import load_profile
from portal.services import cases
from portal.services import staff as staff_svc
from portal.services.audit_rollup import failure_total, flush_closed
from portal.services.errors import ServiceError

from .pdf_tools import blank_pdf

PASSWORD = "correct horse battery"
APPLICANT = cases.Applicant("https://idp.example.test", "sub-rep", "王法人")
NOW = datetime(2026, 11, 20, 2, 0, 0)


def _secret(uri: str) -> str:
    return pyotp.parse_uri(uri).secret


@pytest.fixture
def staff(ctx, session):
    user, uri = staff_svc.create_staff(ctx, "dept.changsha", PASSWORD, ["department"], region_code="430100",
                                       display_name="长沙市卫健委 张科长")
    session.commit()
    return user, _secret(uri)


def test_create_validates(ctx, staff):
    assert staff[0].password_hash.startswith("$argon2")
    assert _secret(staff_svc.create_staff(ctx, "op.one", PASSWORD, ["operator"])[1])
    assert staff[1] not in staff[0].totp_secret  # stored encrypted
    for kw, field in [(dict(username="Bad Name"), "username"), (dict(password="short"), "password"),
                      (dict(roles=["applicant"]), "roles"), (dict(roles=[]), "roles"),
                      (dict(username="dept.changsha"), "username"), (dict(region_code="999999"), "region_code")]:
        args = {"username": "x.user", "password": PASSWORD, "roles": ["department"], **kw}
        region = args.pop("region_code", "")
        with pytest.raises(ServiceError) as err:
            staff_svc.create_staff(ctx, args["username"], args["password"], args["roles"], region_code=region)
        assert err.value.field == field


def test_authenticate_and_replay(ctx, staff):
    user, secret = staff
    code = pyotp.TOTP(secret).at(NOW)
    assert staff_svc.authenticate(ctx, "dept.changsha", PASSWORD, code, now=NOW).id == user.id
    with pytest.raises(ServiceError):  # the same code twice
        staff_svc.authenticate(ctx, "dept.changsha", PASSWORD, code, now=NOW)
    later = NOW + timedelta(seconds=60)
    assert staff_svc.authenticate(ctx, "DEPT.changsha ", PASSWORD, pyotp.TOTP(secret).at(later), now=later)


def test_back_off_after_five_failures_from_one_address(ctx, session, staff):
    """The old 15-minute account lock is gone (anyone could lock anyone out): one address
    guessing one account waits 1 s, 2 s, 4 s … after its fifth failure; see
    test_staff_login_throttle.py for the rest."""
    user, secret = staff
    for _ in range(5):
        with pytest.raises(ServiceError, match="错误"):
            staff_svc.authenticate(ctx, "dept.changsha", "wrong password!", pyotp.TOTP(secret).at(NOW), now=NOW,
                                   client="198.51.100.9")
    with pytest.raises(ServiceError, match="过于频繁") as err:  # even the right password and code
        staff_svc.authenticate(ctx, "dept.changsha", PASSWORD, pyotp.TOTP(secret).at(NOW), now=NOW,
                               client="198.51.100.9")
    assert err.value.status == 429
    after = NOW + timedelta(seconds=2)
    assert staff_svc.authenticate(ctx, "dept.changsha", PASSWORD, pyotp.TOTP(secret).at(after), now=after,
                                  client="198.51.100.9")
    assert user.failed_logins == 0 and user.locked_until is None
    actions = [a for (a,) in session.execute(select(AuditEvent.action))]
    # the first failure is an event; the other four are counted and summarised once their minute
    # is over (portal.services.audit_rollup)
    assert actions.count("staff.login_failed") == 1 and "staff.login" in actions
    flush_closed(session, before=after + timedelta(minutes=1))
    assert failure_total(session, "staff.login_failed") == 5


def test_wrong_totp_and_unknown_user(ctx, staff):
    with pytest.raises(ServiceError, match="错误"):
        staff_svc.authenticate(ctx, "dept.changsha", PASSWORD, "000000", now=NOW)
    with pytest.raises(ServiceError, match="错误"):
        staff_svc.authenticate(ctx, "nobody", PASSWORD, "000000", now=NOW)
    assert staff[0].failed_logins == 1


def web_login(client, username, secret, password=PASSWORD):
    code = pyotp.TOTP(secret).now()
    return client.post("/staff/login", data={"username": username, "password": password, "code": code})


@pytest.fixture
def objection(ctx, session, make_org, make_record):
    org = make_org(name="芙蓉区康复诊所", region_code="430102")
    rec = make_record(org, title="未按规定登记", decided_on=date(2026, 10, 9))
    case = cases.file_objection(ctx, org, rec, ground="fact_error", statement="登记信息有误", applicant=APPLICANT,
                                commitment=True, identity_confirmed=True)
    session.commit()
    return case


def test_web_login_queue_and_decide(client, session, staff, objection, ctx):
    user, secret = staff
    assert client.get("/staff/objections").status_code == 302
    bad = client.post("/staff/login", data={"username": "dept.changsha", "password": "nope", "code": "123456"})
    assert bad.status_code == 401 and "错误" in bad.get_data(as_text=True)
    assert session.execute(select(StaffUser.failed_logins)).scalar() == 1  # persisted
    assert web_login(client, "dept.changsha", secret).status_code == 302
    soup = BeautifulSoup(client.get("/staff/objections").get_data(as_text=True), "html.parser")
    rows = soup.select("tr.case-row")
    assert [r.a.get_text() for r in rows] == [objection.case_no]
    assert "2026-11-25" in rows[0].get_text() and "待我办理" in rows[0].get_text()
    page = BeautifulSoup(client.get(f"/staff/cases/{objection.case_no}").get_data(as_text=True), "html.parser")
    assert {i["value"] for i in page.select("form.case-actions input[name=action]")} == {"uphold", "reject"}
    assert page.select("form.case-extend") and page.select("form.case-clock")
    # rejecting without a reason is refused and shown
    resp = client.post(f"/staff/cases/{objection.case_no}/act", data={"action": "reject", "reason": ""})
    assert resp.status_code == 400 and "理由" in resp.get_data(as_text=True)
    resp = client.post(f"/staff/cases/{objection.case_no}/act",
                       data={"action": "uphold", "reason": "登记信息有误，撤销公示", "effect": "withdrawn",
                             "confirm": "yes"})
    assert resp.status_code == 302
    session.expire_all()
    case = session.get(Case, objection.id)
    assert case.state == "upheld" and session.execute(select(CreditRecord.status).where(
        CreditRecord.lineage_id == case.record_lineage_id, CreditRecord.is_current.is_(True))).scalar() == "withdrawn"
    assert client.post(f"/staff/cases/{objection.case_no}/act", data={"action": "reject", "reason": "x"}).status_code == 403


def test_overdue_highlight(client, session, staff, objection):
    objection.due_on = date(2026, 11, 19)
    session.commit()
    web_login(client, "dept.changsha", staff[1])
    soup = BeautifulSoup(client.get("/staff/objections", query_string={"due": "overdue"}).get_data(as_text=True),
                         "html.parser")
    row = soup.select_one("tr.case-row")
    assert "overdue" in row["class"] and "已超期" in row.get_text()


def test_scoping_by_region_and_role(ctx, client, session, objection):
    _, uri_other = staff_svc.create_staff(ctx, "dept.zhuzhou", PASSWORD, ["department"], region_code="430200")
    _, uri_op = staff_svc.create_staff(ctx, "op.province", PASSWORD, ["operator"])
    session.commit()
    web_login(client, "dept.zhuzhou", _secret(uri_other))
    assert client.get("/staff/objections").status_code == 200
    assert BeautifulSoup(client.get("/staff/objections").get_data(as_text=True), "html.parser").select("tr.case-row") == []
    assert client.get(f"/staff/cases/{objection.case_no}").status_code == 404
    client.post("/staff/logout")
    web_login(client, "op.province", _secret(uri_op))
    page = BeautifulSoup(client.get(f"/staff/cases/{objection.case_no}").get_data(as_text=True), "html.parser")
    assert page.select("form.case-actions") == []  # sees it, but the step is the department's
    assert client.post(f"/staff/cases/{objection.case_no}/act",
                       data={"action": "reject", "reason": "x"}).status_code == 403


def test_provider_scoped_to_authority(ctx, session, objection):
    a, _ = staff_svc.create_staff(ctx, "prov.a", PASSWORD, ["provider"], authority="长沙市卫生健康委员会")
    b, _ = staff_svc.create_staff(ctx, "prov.b", PASSWORD, ["provider"], authority="株洲市卫生健康委员会")
    assert staff_svc.can_see(a, objection) and not staff_svc.can_see(b, objection)


def test_csrf_required(client, staff):
    resp = client.post("/staff/login", data={"username": "dept.changsha", "password": PASSWORD, "code": "1"},
                       csrf=False)
    assert resp.status_code in (400, 403)


def test_cli_create(app, rt, session):
    from portal.cli import main

    runner = app.test_cli_runner()
    result = runner.invoke(main, ["staff", "create", "cli.user", "--role", "reviewer", "--region", "430100",
                                  "--password", PASSWORD], env={k: v for k, v in rt.settings.items() if v})
    assert result.exit_code == 0, result.output
    assert "otpauth://" in result.output
    user = session.execute(select(StaffUser).where(StaffUser.username == "cli.user")).scalar_one()
    assert user.roles == ["reviewer"] and user.region_code == "430100"


def test_due_soon_highlight(client, session, staff, objection):
    objection.due_on = date(2026, 11, 23)  # Friday today, due Monday: 1 working day left
    session.commit()
    web_login(client, "dept.changsha", staff[1])
    soup = BeautifulSoup(client.get("/staff/objections", query_string={"due": "soon"}).get_data(as_text=True),
                         "html.parser")
    row = soup.select_one("tr.case-row")
    assert "due-soon" in row["class"] and "即将到期" in row.get_text()
    assert BeautifulSoup(client.get("/staff/objections", query_string={"due": "overdue"}).get_data(as_text=True),
                         "html.parser").select("tr.case-row") == []


def test_evidence_download_for_staff_only(client, ctx, session, staff, objection, rt, login_as):
    from portal.services.evidence import add_evidence

    row = add_evidence(ctx, objection, "决定书.pdf", blank_pdf(), var_dir=rt.settings["PORTAL_VAR_DIR"],
                       uploaded_by="x")
    session.commit()
    url = f"/staff/cases/{objection.case_no}/evidence/{row.id}"
    assert client.get(url).status_code == 302  # to the staff login
    web_login(client, "dept.changsha", staff[1])
    resp = client.get(url)
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF") and "attachment" in resp.headers["Content-Disposition"]
    assert client.get(f"/staff/cases/{objection.case_no}/evidence/{row.id + 1}").status_code == 404


def test_provider_needs_a_unit_and_acts_only_on_its_records(ctx, session, objection):
    """海南 第三十八条: the providing unit handles objections to the information it provided."""
    with pytest.raises(ServiceError, match="所属单位") as err:
        staff_svc.create_staff(ctx, "prov.none", PASSWORD, ["provider"])
    assert err.value.field == "authority"
    mixed, _ = staff_svc.create_staff(ctx, "mixed.zz", PASSWORD, ["operator", "provider"],
                                      authority="株洲市卫生健康委员会")
    own, _ = staff_svc.create_staff(ctx, "prov.cs", PASSWORD, ["provider"], authority="长沙市卫生健康委员会")
    provider_step = Case(kind="objection", state="accept", region_code=objection.region_code,  # a provider's step
                         authority=objection.authority, closed_on=None)
    hainan = dataclasses.replace(ctx.profile, objection=load_profile("hainan").objection)
    assert staff_svc.acting_role(own, provider_step, hainan) == "provider"
    assert staff_svc.can_see(mixed, objection)  # as operator, it sees the case
    assert staff_svc.acting_role(mixed, provider_step, hainan) is None  # but not as another unit's provider
    unitless = StaffUser(username="legacy", roles=["provider"], authority="", region_code="", active=True)
    assert not staff_svc.can_see(unitless, objection)  # an old account without a unit sees nothing


def test_admin_role(ctx, objection):
    admin, _ = staff_svc.create_staff(ctx, "admin.one", PASSWORD, ["admin"])
    assert staff_svc.is_admin(admin) and staff_svc.acting_role(admin, objection, ctx.profile) is None
