"""The service layer owns every rule-bearing read, every permission and every audit write
(issue 10): the staff queue filters by permission in the query and pages; the public lists count
with the rule that shows them; public pages get plain views; every POST route's verb refuses a
caller who may not, whoever calls it; the views hold no SQL."""
from __future__ import annotations

import ast
import dataclasses
import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from flask import template_rendered
from sqlalchemy import func, select

from portal.domain import permissions as rules
from portal.domain.identifiers import make_resident_id, make_uscc
from portal.models import AuditEvent, Case, Grade, Notification, StaffUser
from portal.models.base import Base
from portal.permissions import can_view_private, staff_case_filter
from portal.services import authorisations as auth_svc
from portal.services import cases, draws, holiday_table, my_desk, paper, provision, public_pages, reports, staff_desk
from portal.services import commitments as commitment_svc
from portal.services import grading_cycle as cycle_svc
from portal.services import lists as list_svc
from portal.services import plates as plate_svc
from portal.services import public_notices as notice_svc
from portal.services import staff as staff_svc
from portal.services import staff_accounts as accounts_svc
from portal.services import staff_notify as staff_notify_svc
from portal.services import staff_passwords as passwords_svc
from portal.services import warnings as warning_svc
from portal.services.errors import ServiceError

from .subject_world import TODAY, identity
from .test_staff_auth import PASSWORD, _secret, web_login

ROOT = Path(__file__).resolve().parents[2]
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _staff(ctx, username, roles, region="", authority=""):
    user, uri = staff_svc.create_staff(ctx, username, PASSWORD, roles, region_code=region, authority=authority)
    return user, _secret(uri)


# --- the staff queue: permission in the query, real paging ----------------------------------------

def _seed_cases(session, rt, org, rec, n: int, region: str, first_due: date, prefix: str) -> None:
    """Bulk insert through the session (not n filings): the queue only reads these rows."""
    first = cases.machine_for(rt.profile, cases.OBJECTION).steps[0].id
    session.add_all([Case(case_no=f"{prefix}-{i:06d}", kind=cases.OBJECTION, subject_id=org.id,
                          record_lineage_id=rec.lineage_id, record_id=rec.id, state=first, received_on=TODAY,
                          step_entered_on=TODAY, due_on=first_due + timedelta(days=i // 50), stops=[],
                          region_code=region, authority=rec.authority) for i in range(n)])


@pytest.fixture
def crowded(ctx, session, rt, make_org, make_record):
    """510 open objections in 株洲 that sort first, then 5 in 芙蓉区 that sort last."""
    zz = make_org(name="株洲某医院", region_code="430202")
    fr = make_org(name="芙蓉区某诊所", region_code="430102")
    _seed_cases(session, rt, zz, make_record(zz), 510, "430202", TODAY + timedelta(days=1), "YY-ZZ")
    _seed_cases(session, rt, fr, make_record(fr), 5, "430102", TODAY + timedelta(days=40), "YY-FR")
    session.commit()


def test_queue_shows_cases_that_sort_after_the_first_500(client, ctx, session, crowded):
    """The bug: the queue took 500 rows and then filtered by can_see, so a county's cases that
    sorted later never appeared. The permission is now part of the query."""
    _, secret = _staff(ctx, "dept.furong", ["department"], region="430102")
    session.commit()
    web_login(client, "dept.furong", secret)
    soup = BeautifulSoup(client.get("/staff/objections").get_data(as_text=True), "html.parser")
    assert [r.a.get_text() for r in soup.select("tr.case-row")] == [f"YY-FR-{i:06d}" for i in range(5)]
    assert soup.select("nav.pager") == []  # one page


def test_queue_pages_through_everything_the_user_may_see(client, ctx, session, crowded):
    _, secret = _staff(ctx, "op.all", ["operator"])
    session.commit()
    web_login(client, "op.all", secret)
    first = BeautifulSoup(client.get("/staff/objections").get_data(as_text=True), "html.parser")
    assert len(first.select("tr.case-row")) == staff_desk.PER_PAGE
    assert "共 515 件" in first.select_one("nav.pager").get_text() and "第 1 / 11 页" in first.get_text()
    last = BeautifulSoup(client.get("/staff/objections", query_string={"page": 11}).get_data(as_text=True),
                         "html.parser")
    assert [r.a.get_text() for r in last.select("tr.case-row")][-5:] == [f"YY-FR-{i:06d}" for i in range(5)]
    assert len(last.select("tr.case-row")) == 15
    # the filters survive paging
    nxt = first.select_one("nav.pager a[rel=next]")["href"]
    assert "page=2" in nxt
    filtered = client.get("/staff/objections", query_string={"q": "YY-FR", "status": "open"})
    assert len(BeautifulSoup(filtered.get_data(as_text=True), "html.parser").select("tr.case-row")) == 5


def test_sql_filter_agrees_with_the_rule(ctx, session, rt, crowded, make_org, make_record):
    """``staff_case_filter`` is the SQL form of ``domain.permissions.staff_can_see``."""
    unit = make_org(name="某卫生监督所辖诊所", region_code="430102")
    rec = make_record(unit, authority="芙蓉区卫生健康局")
    _seed_cases(session, rt, unit, rec, 3, "430102", TODAY, "YY-UN")
    accounts = [_staff(ctx, "a.all", ["operator"])[0], _staff(ctx, "a.city", ["department"], "430100")[0],
                _staff(ctx, "a.county", ["reviewer"], "430102")[0],
                _staff(ctx, "a.unit", ["provider"], "430102", "芙蓉区卫生健康局")[0],
                _staff(ctx, "a.nounit", ["provider"], "430102", "旧单位")[0],
                _staff(ctx, "a.mixed", ["provider", "operator"], "430200", "芙蓉区卫生健康局")[0]]
    accounts[4].authority = ""  # an old account without a unit sees nothing
    off = _staff(ctx, "a.off", ["operator"])[0]
    off.active = False
    session.commit()
    all_cases = session.execute(select(Case)).scalars().all()
    for user in [*accounts, off]:
        by_sql = set(session.execute(select(Case.id).where(staff_case_filter(user, Case))).scalars())
        by_rule = {c.id for c in all_cases if rules.staff_can_see(user, c)}
        assert by_sql == by_rule, user.username
    assert len({c.id for c in all_cases if rules.staff_can_see(accounts[3], c)}) == 3  # the unit's own


def test_notifications_read_is_an_audited_verb(client, ctx, session, objection_world):
    user, secret = objection_world["dept"]
    case = objection_world["case"]
    session.add_all([Notification(staff_id=user.id, case_id=case.id, text=f"通知 {i}") for i in range(3)])
    session.commit()
    web_login(client, user.username, secret)
    assert "通知 2" in client.get("/staff/objections").get_data(as_text=True)
    resp = client.post("/staff/notifications/read", data={"back": "/staff/repairs"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/staff/repairs")
    session.expire_all()
    assert session.execute(select(func.count()).select_from(Notification).where(
        Notification.staff_id == user.id, Notification.read_at.is_(None))).scalar_one() == 0
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "staff.notifications_read")).scalar_one()
    assert event.actor == f"staff:{user.username}" and event.detail == {"count": 3}


# --- public lists and pages -----------------------------------------------------------------------

def test_list_counts_only_what_public_view_shows(client, session, rt, make_org, make_person, make_record):
    """A serious-list record about what a person did at 17 passes the old SQL (public, active,
    in window) but public_view refuses it: the count must not include it."""
    org = make_org(name="某严重失信医院")
    make_record(org, record_type="serious_list", title="严重失信：欺诈骗保", decided_on=date(2026, 3, 1))
    young = make_person(name="赵少年", birth=date(2007, 1, 1))
    make_record(young, record_type="serious_list", title="MINOR-CANARY-3c1d", decided_on=date(2024, 6, 1))
    session.commit()
    html = client.get("/lists/serious").get_data(as_text=True)
    assert "共 1 条" in html and "严重失信：欺诈骗保" in html and "MINOR-CANARY-3c1d" not in html
    result = public_pages.public_list(session, "serious", TODAY, per_page=1, profile=rt.profile)
    assert result["total"] == 1 and result["pages"] == 1 and len(result["entries"]) == 1


NON_PUBLIC = "EXPLAINED-CANARY-6a0f 未公开的处罚"


@pytest.fixture
def graded_clinic(ctx, session, make_org, make_record):
    org = make_org(name="明月口腔诊所", category="clinic", address="长沙市芙蓉区八一路2号")
    make_record(org, title="公开处罚：未按规定公示价格", severity="general")
    hidden = make_record(org, title=NON_PUBLIC, scope="shared")
    session.add(Grade(subject_id=org.id, year=TODAY.year - 1, letter="C", score=62, profile_id="hunan",
                      explanation=[{"label": NON_PUBLIC, "delta": -20, "rule": "一般失信", "record_id": hidden.id}]))
    plate = plate_svc.issue_plate(ctx, org)
    session.commit()
    return org, plate


def _contexts(app):
    seen = []

    def grab(sender, template, context, **extra):
        seen.append((template.name, context))

    template_rendered.connect(grab, app)
    return seen, lambda: template_rendered.disconnect(grab, app)


def _orm_objects(value, path="") -> list[str]:
    if isinstance(value, Base):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _orm_objects(v, f"{path}.{k}")]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in _orm_objects(v, f"{path}[{i}]")]
    return []


def test_public_pages_get_views_not_the_grade_or_plate(app, client, graded_clinic):
    """The grade's explanation names a record that is not public: no public page may hold it,
    so the facility and scan pages receive plain views only."""
    org, plate = graded_clinic
    seen, stop = _contexts(app)
    try:
        pages = [client.get(f"/facility/{org.public_id}"), client.get(f"/p/{plate.token}")]
    finally:
        stop()
    for resp in pages:
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and "grade-C" in html and "EXPLAINED-CANARY-6a0f" not in html
    rendered = {name: ctx for name, ctx in seen}
    for name in ("public/facility.html", "facility/scan.html"):
        ctx = rendered[name]
        assert ctx["grade"] == {"letter": "C", "year": TODAY.year - 1}
        assert _orm_objects({k: v for k, v in ctx.items() if k not in ("g", "request", "session")}) == [], name
        assert "EXPLAINED-CANARY-6a0f" not in repr({k: ctx[k] for k in ("grade", "groups", "subject")})
    assert rendered["facility/scan.html"]["plate"] == {"id": plate.id, "plate_no": plate.plate_no,
                                                       "issued_on": plate.issued_on}


# --- every POST route's verb checks its caller ----------------------------------------------------

@pytest.fixture
def objection_world(ctx, session, rt, make_org, make_record):
    code = make_uscc("12", "430102", "00007777")
    org = make_org(name="芙蓉区康复诊所", region_code="430102", code=code, legal_rep="钱法人")
    rec = make_record(org, title="未按规定登记", decided_on=date(2026, 10, 9))
    dishonest = make_record(org, record_type="penalty", title="失信：虚假宣传", decided_on=date(2025, 1, 9))
    rep = identity(rt, "钱法人", resident_id=make_resident_id("430102", date(1970, 1, 1), 11), legal_rep_of=code,
                   sub="sub-rep")
    stranger = identity(rt, "路人甲", resident_id=make_resident_id("430102", date(1980, 1, 1), 22), sub="sub-x")
    case = cases.file_objection(ctx, org, rec, ground="fact_error", statement="登记有误",
                                applicant=cases.Applicant.of(rep, "legal_rep"), commitment=True, identity_confirmed=True)
    auth = auth_svc.grant_authorisation(ctx, org, grantee_kind="person", grantee_code=make_resident_id(
        "430102", date(1985, 5, 5), 33), grantee_name="孙受托", purpose="合作审查", info_classes=["dishonest"],
        valid_from=TODAY, valid_until=TODAY + timedelta(days=30))
    zz = make_org(name="株洲某药房", region_code="430202")
    world = {"org": org, "rec": rec, "dishonest": dishonest, "rep": rep, "stranger": stranger, "case": case,
             "auth": auth, "plate": plate_svc.issue_plate(ctx, org), "zz": zz,
             "dept": _staff(ctx, "dept.furong", ["department"], "430102"),
             "far": _staff(ctx, "dept.zhuzhou", ["department"], "430202")[0],
             "reviewer": _staff(ctx, "rev.furong", ["reviewer"], "430102")[0],
             "draft_by": _staff(ctx, "prov.furong", ["provider"], "430102", rec.authority)[0],
             "far_unit": _staff(ctx, "prov.zhuzhou", ["provider"], "430202", "株洲市卫生健康委员会")[0],
             "list_case": list_svc.propose_listing(ctx, org, "serious", "严重违法执业", basis="某条例"),
             "warning": _warning(session, org), "declaration": _declaration(session, org),
             "notice": notice_svc.draft_notice(ctx, "commendation", "表彰", "正文", [("subject", org.id, "")],
                                               region_code="430102")}
    drafter = ctx.__class__(**{**ctx.__dict__, "caller": world["draft_by"], "actor": "staff:prov.furong"})
    world["draft"] = provision.save_draft(drafter, {"title": "待审核", "region_code": "430102"})
    world["draft"].state = "submitted"
    session.commit()
    return world


def _warning(session, org):
    from portal.models import EarlyWarning

    row = EarlyWarning(key=f"test:{org.id}", rule="complaints", subject_id=org.id, region_code=org.region_code,
                       raised_on=TODAY, message="投诉较多")
    session.add(row)
    session.flush()
    return row


def _declaration(session, org):
    from portal.models import SelfDeclaration

    row = SelfDeclaration(subject_id=org.id, kind="licence", title="许可", content="内容", submitted_by="test",
                          submitted_on=TODAY)
    session.add(row)
    session.flush()
    return row


def _as(ctx, caller):
    return ctx.__class__(**{**ctx.__dict__, "caller": caller, "actor": "test:caller"})


def _refusals(w, ctx, tmp_path):
    """route → the verb it calls, called by someone who may not."""
    case, org, rep, stranger = w["case"], w["org"], w["rep"], w["stranger"]
    far, reviewer, dept = w["far"], w["reviewer"], w["dept"][0]
    applicant = cases.Applicant.of(rep, "legal_rep")
    out = io.BytesIO()
    from portal.services import api_clients, api_data  # the sharing API (issue 15)

    api_client, _ = api_clients.create_client(ctx, "boundary.pub", name="某部门", purpose="公开信息比对",
                                              scopes=["records:read:public"])
    reader = api_data.ApiCaller(api_client, ("records:read:public",))  # may read, may not write
    return {
        "/api/v1/records": lambda: api_data.add_record(_as(ctx, reader), {"subject_code": org.credit_code}),
        "/api/v1/records/<int:record_id>/corrections": lambda: api_data.correct_record(
            _as(ctx, reader), w["rec"].lineage_id, {"reason": "更正", "changes": {"title": "x"}}),
        "/api/v1/records/<int:record_id>/withdrawal": lambda: api_data.withdraw_record(
            _as(ctx, reader), w["rec"].lineage_id, {"reason": "撤销"}),
        "/staff/api-clients": lambda: api_clients.create_client(_as(ctx, dept), "boundary.x", name="x", purpose="x",
                                                                scopes=["records:read:public"]),
        "/staff/api-clients/<client_id>/rotate": lambda: api_clients.rotate_secret(_as(ctx, dept), api_client),
        "/staff/api-clients/<client_id>/disable": lambda: api_clients.disable_client(_as(ctx, far), api_client),
        "/staff/cases/<case_no>/act": lambda: cases.act(_as(ctx, far), case, "reject", role="department",
                                                        reason="不成立"),
        "/staff/cases/<case_no>/extend": lambda: cases.extend_case(_as(ctx, reviewer), case, role="department",
                                                                   reason="复杂"),
        "/staff/cases/<case_no>/materials": lambda: cases.request_materials(_as(ctx, rep), case, role="department",
                                                                            reason="补充"),
        "/staff/cases/<case_no>/clock": lambda: cases.stop_clock(_as(ctx, far), case, role="department",
                                                                 reason="鉴定"),
        "/staff/notifications/read": lambda: staff_desk.mark_notifications_read(_as(ctx, rep)),
        "/staff/plates/issue": lambda: plate_svc.issue_missing(_as(ctx, reviewer), [w["zz"]]),
        "/staff/plates/<plate_no>/revoke": lambda: plate_svc.revoke_plate(_as(ctx, far), w["plate"], "lost"),
        "/staff/plates/<plate_no>/reissue": lambda: plate_svc.reissue_plate(_as(ctx, far), w["plate"], "damaged"),
        "/staff/plates/batches": lambda: plate_svc.print_batch(_as(ctx, far), [w["plate"]], out,
                                                               fmt="pdf", size="A6", base_url="http://x"),
        "/staff/plates/reprint": lambda: plate_svc.print_batch(_as(ctx, far), [w["plate"]], out,
                                                               fmt="pdf", size="A6", base_url="http://x"),
        "/me/subjects/<public_id>/records/<int:lineage_id>/objection": lambda: cases.file_objection(
            _as(ctx, stranger), org, w["rec"], ground="fact_error", statement="x", applicant=applicant,
            commitment=True, identity_confirmed=True),
        "/me/subjects/<public_id>/records/<int:lineage_id>/repair": lambda: cases.apply_repair(
            _as(ctx, dept), org, w["dishonest"], statement="已整改", applicant=applicant, commitment=True,
            identity_confirmed=True),
        "/me/subjects/<public_id>/cases/<case_no>/supplement": lambda: cases.supplement_evidence(
            _as(ctx, stranger), case, applicant, [], var_dir=tmp_path),
        "/me/subjects/<public_id>/cases/<case_no>/withdraw": lambda: cases.withdraw_case(
            _as(ctx, dept), case, applicant),
        "/me/subjects/<public_id>/cases/<case_no>/act": lambda: cases.act(
            _as(ctx, stranger), case, "request_review", role="applicant"),
        "/me/subjects/<public_id>/authorisations": lambda: auth_svc.grant_authorisation(
            _as(ctx, stranger), org, grantee_kind="person", grantee_code=make_resident_id(
                "430102", date(1990, 2, 2), 44), grantee_name="周某", purpose="审查", info_classes=["dishonest"],
            valid_from=TODAY, valid_until=TODAY + timedelta(days=3)),
        "/me/subjects/<public_id>/authorisations/<int:auth_id>/revoke": lambda: auth_svc.revoke_authorisation(
            _as(ctx, stranger), w["auth"]),
        # a stranger asks for the representative's report, handing in the representative's decision
        "/me/subjects/<public_id>/report.pdf": lambda: reports.generate_report(
            _as(ctx, stranger), org, rep, can_view_private(rep, org, TODAY, session=ctx.session), "http://x"),
        "/staff/draws": lambda: draws.announce_draw(_as(ctx, far), org.category, org.region_code),
        "/staff/calendar": lambda: holiday_table.mark_year_reviewed(_as(ctx, dept), 2027, "国办发明电"),
        "/staff/paper": lambda: paper.register_paper_application(
            _as(ctx, stranger), org, w["rec"], kind="objection", received_on=TODAY, channel="paper",
            applicant_name="钱法人", statement="登记有误", scan=("申请书.pdf", b""), var_dir=tmp_path,
            role=cases.machine_for(ctx.profile, "objection").start_for(w["rec"]).actor, ground="fact_error"),
        "/me/notices/read": lambda: my_desk.mark_notices_read(_as(ctx, stranger)),
        "/staff/lists": lambda: list_svc.propose_listing(_as(ctx, far), org, "serious", "事由", basis="依据"),
        "/staff/lists/<case_no>/act": lambda: list_svc.notify_subject(_as(ctx, reviewer), w["list_case"],
                                                                      base_url="http://x"),
        "/me/subjects/<public_id>/lists/<case_no>/defence": lambda: list_svc.record_defence(
            _as(ctx, stranger), w["list_case"], "陈述"),
        "/staff/warnings/<warning_id>/close": lambda: warning_svc.close_warning(_as(ctx, far), w["warning"], "处理"),
        "/staff/complaints": lambda: warning_svc.register_complaint(_as(ctx, reviewer), org, TODAY, "投诉"),
        "/me/subjects/<public_id>/commitments": lambda: commitment_svc.sign_commitment(
            _as(ctx, stranger), org, "self_discipline", "守法", agreed=True),
        "/me/subjects/<public_id>/declarations": lambda: commitment_svc.submit_declaration(
            _as(ctx, dept), org, "licence", "许可", "内容", truthful=True),
        "/staff/commitments": lambda: commitment_svc.register_paper_commitment(
            _as(ctx, far), org, "self_discipline", "守法", signed_on=TODAY, signer="钱法人"),
        "/staff/declarations/<declaration_id>/check": lambda: commitment_svc.check_declaration(
            _as(ctx, far), w["declaration"], True, ""),
        # commendation / typical-case notices (issue 16): a reviewer is no 认定部门; another region may not publish
        "/staff/notices": lambda: notice_svc.draft_notice(_as(ctx, reviewer), "commendation", "表彰", "正文", []),
        "/staff/notices/<number>/act": lambda: notice_svc.publish_notice(_as(ctx, far), w["notice"]),
        "/me/notify": lambda: my_desk.set_notify_contact(_as(ctx, stranger), "email", "a@example.test"),
        "/staff/grading/run": lambda: cycle_svc.run_cycle(_as(ctx, reviewer)),
        "/staff/grading/results/<int:result_id>/decide": lambda: cycle_svc.decide_grade_objection(
            _as(ctx, far), _grade_result(ctx, org), "rejected", "理由"),
        "/me/subjects/<public_id>/grade-objection": lambda: cycle_svc.file_grade_objection(
            _as(ctx, stranger), _grade_result(ctx, org), "不服"),
        # the providers' workspace: a department account is no providing unit; a unit of another
        # region may not touch this one's records (services.provision)
        "/staff/provide/upload": lambda: provision.start_upload(_as(ctx, dept), "a.csv", b"x"),
        "/staff/provide/upload/<upload_id>/confirm": lambda: provision.confirm_upload(_as(ctx, reviewer), "0" * 32),
        "/staff/provide/records/new": lambda: provision.save_draft(_as(ctx, far), {"title": "x"}),
        "/staff/provide/drafts/<int:draft_id>": lambda: provision.save_draft(_as(ctx, stranger), {"title": "x"}, 1),
        "/staff/provide/drafts/<int:draft_id>/approve": lambda: provision.approve_draft(_as(ctx, w["draft_by"]),
                                                                                        w["draft"].id),
        "/staff/provide/drafts/<int:draft_id>/reject": lambda: provision.reject_draft(_as(ctx, w["far_unit"]),
                                                                                      w["draft"].id, "不对"),
        "/staff/provide/records/<int:lineage_id>/correct": lambda: provision.correct(
            _as(ctx, w["far_unit"]), w["rec"].lineage_id, {"title": "x"}, "更正"),
        "/staff/provide/records/<int:lineage_id>/withdraw": lambda: provision.withdraw(
            _as(ctx, dept), w["rec"].lineage_id, "撤回"),
        "/staff/accounts": lambda: accounts_svc.create_account(_as(ctx, dept), "op.sneaky", ["operator"]),
        "/staff/accounts/<int:staff_id>/access": lambda: accounts_svc.change_access(
            _as(ctx, dept), dept, ["department", "admin"]),
        "/staff/accounts/<int:staff_id>/active": lambda: accounts_svc.set_active(_as(ctx, dept), far, False),
        "/staff/accounts/<int:staff_id>/totp": lambda: accounts_svc.reset_totp(_as(ctx, rep), far, confirmed=True),
        "/staff/accounts/<int:staff_id>/password": lambda: passwords_svc.reset_password(_as(ctx, dept), far,
                                                                                          confirmed=True),
        "/staff/accounts/<int:staff_id>/contact": lambda: staff_notify_svc.set_contact(_as(ctx, dept), far,
                                                                                       "13912345678"),
        # 修改密码: only one's own (here a department account tries another's, with its password)
        "/staff/password": lambda: passwords_svc.change_own_password(_as(ctx, dept), far, "x" * 12, "000000",
                                                                       "y" * 13, "y" * 13),
    }


def _grade_result(ctx, org):
    """The org's preliminary result of the yearly cycle (the cycle is opened on first use)."""
    from portal.models import GradingResult

    cycle_svc.run_cycle(ctx)
    return ctx.session.execute(select(GradingResult).where(GradingResult.subject_id == org.id)).scalar_one()


# POST routes with no permission to check: logging in and out (and the development IdP, whose
# userinfo has its own bearer token), the public forms anyone may use (verify a report or a
# document, the chat, the progress look-up with a number and its code, an organisation's public
# report); the sharing API's OAuth token endpoint, where a client authenticates with its secret.
EXEMPT = {"/api/v1/token", "/staff/login", "/staff/logout", "/logout", "/dev-idp/authorize", "/dev-idp/token", "/dev-idp/userinfo",
          "/chat", "/verify/report/<report_no>", "/verify/document/<doc_no>",
          "/progress", "/facility/<public_id>/report.pdf"}


def test_every_post_route_verb_refuses_a_caller_who_may_not(app, ctx, session, objection_world, tmp_path):
    posts = {r.rule for r in app.url_map.iter_rules() if "POST" in r.methods}
    refusals = _refusals(objection_world, ctx, tmp_path)
    assert posts - EXEMPT == set(refusals), "a POST route without a refusal test (or a stale entry)"
    for route, call in refusals.items():
        with pytest.raises(ServiceError) as refused:
            call()
        assert refused.value.status in (401, 403, 404), route
        assert CHINESE.search(refused.value.message), route
        session.rollback()
    # and nothing was written by any of them
    session.expire_all()
    case = session.get(Case, objection_world["case"].id)
    assert case.open and case.materials_requested_on is None and case.stop_from is None
    assert objection_world["plate"].status == "active" and objection_world["auth"].revoked_at is None
    assert objection_world["list_case"].state == "proposed" and not objection_world["list_case"].defence
    assert objection_world["warning"].state == "open" and objection_world["declaration"].state == "submitted"
    assert objection_world["notice"].state == "draft"
    assert session.execute(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.actor == "test:caller")).scalar_one() == 0


def test_the_same_verbs_let_the_right_caller_act(ctx, session, objection_world):
    w = objection_world
    dept = w["dept"][0]
    cases.request_materials(_as(ctx, dept), w["case"], role="department", reason="补充登记证明")
    cases.withdraw_case(_as(ctx, w["rep"]), w["case"], cases.Applicant.of(w["rep"], "legal_rep"))
    plate_svc.revoke_plate(_as(ctx, dept), w["plate"], "lost")
    auth_svc.revoke_authorisation(_as(ctx, w["rep"]), w["auth"])
    assert w["case"].state == cases.WITHDRAWN and w["plate"].status == "revoked"


def test_staff_cannot_take_a_step_as_another_role(ctx, objection_world):
    """A department account may not pass itself off as the reviewer (the web computes the role;
    the verb checks it again)."""
    with pytest.raises(ServiceError) as refused:
        cases.act(_as(ctx, objection_world["dept"][0]), objection_world["case"], "reject", role="reviewer",
                  reason="x")
    assert refused.value.status == 403 and refused.value.message == rules.NOT_YOUR_STEP


# --- one verb for web and CLI ---------------------------------------------------------------------

def test_cli_batch_print_is_audited_like_the_web(settings, monkeypatch, app, session, objection_world, tmp_path):
    from click.testing import CliRunner

    from portal.cli import main

    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "plates.pdf"
    result = CliRunner().invoke(main, ["plates", "pdf", "--region", "430102", "-o", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    session.expire_all()
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "plate.print")).scalar_one()
    assert event.actor == "cli:plates" and event.detail["count"] == 1 and event.detail["region"] == "430102"


# --- the views hold no SQL ------------------------------------------------------------------------

# (file, line text) → why a view may touch the database itself. Empty today: every read is a
# named service read (services/staff_desk, case_reads, public_pages, subject_reads, plates).
ALLOWED: dict[tuple[str, str], str] = {}
DB_METHODS = {"execute", "scalars", "scalar", "scalar_one", "scalar_one_or_none", "query"}


def sql_in(source: str) -> list[tuple[int, str]]:
    """Lines of a view module that query the database: ``select(…)``, ``….execute/scalars/query(…)``,
    ``db().get(…)``, or an import of SQLAlchemy."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            if any(n.split(".")[0] == "sqlalchemy" for n in names):
                found.append((node.lineno, "import sqlalchemy"))
        elif isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id == "select":
                found.append((node.lineno, "select("))
            elif isinstance(f, ast.Attribute) and f.attr in DB_METHODS:
                found.append((node.lineno, f".{f.attr}("))
            elif (isinstance(f, ast.Attribute) and f.attr == "get" and isinstance(f.value, ast.Call)
                  and isinstance(f.value.func, ast.Name) and f.value.func.id == "db"):
                found.append((node.lineno, "db().get("))
    return found


def test_the_checker_finds_sql():
    source = ("from sqlalchemy import select\n"
              "def view():\n    rows = db().execute(select(Case)).scalars()\n    return db().get(Case, 1)\n")
    assert {what for _, what in sql_in(source)} == {"import sqlalchemy", "select(", ".execute(", ".scalars(",
                                                    "db().get("}


def test_no_sql_in_portal_web():
    offences = []
    for path in sorted((ROOT / "portal" / "web").glob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for lineno, what in sql_in(path.read_text(encoding="utf-8")):
            key = (path.name, lines[lineno - 1].strip())
            if key not in ALLOWED:
                offences.append(f"{path.name}:{lineno}: {what}  {key[1]}")
    assert offences == [], "views must call a named service read:\n" + "\n".join(offences)


def test_inactive_staff_is_no_caller(ctx, session, objection_world):
    """A deactivated account is refused by the rule itself, not only by the login."""
    user = objection_world["dept"][0]
    user.active = False
    session.flush()
    with pytest.raises(ServiceError):
        cases.request_materials(_as(ctx, user), objection_world["case"], role="department", reason="补充")
    assert session.get(StaffUser, user.id).active is False


def test_statistics_reads_refuse_who_may_not(ctx, session, objection_world):
    """The statistics routes (/staff/stats/…, GET only) call service reads that check the caller
    themselves: a citizen, a providing unit alone, or a department outside the region is refused
    whatever the route."""
    from portal.services import statistics

    w = objection_world
    provider = w["draft_by"]  # a providing unit alone (信息提供单位)
    period = statistics.period_for(ctx, year=TODAY.year)
    for caller, region in ((w["rep"], ""), (provider, ""), (w["far"], "430102"), (w["dept"][0], "430202")):
        with pytest.raises(ServiceError) as refused:
            statistics.dashboard(_as(ctx, caller), dataclasses.replace(period, region=region))
        assert refused.value.status == 403
        with pytest.raises(ServiceError):
            statistics.annual_summary(_as(ctx, caller), TODAY.year, region)
    # a whole-jurisdiction period asked by a county department covers its county only
    assert statistics.dashboard(_as(ctx, w["dept"][0]), period).period.region == "430102"
