"""信用修复公示 on the profiles with a notice step (湖南 第三十条（三）; 海南 第四十二条（四）; 广东 by
reference): a repair of a public record is listed on /repair-notices for its whole notice and gone
after the decision, which is allowed only from day 6; a repair of a record whose publication
window has ended gets no notice at all (listing it would disclose non-public information: 湖南
第四条; 海南 第五条), says so in an event, on the pages and in the letter, and is decided at once.
The record's canary title never reaches a public page."""
from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.documents.citations import regulation_name
from portal.identity import ACR_FACE, Identity
from portal.models import Notification
from portal.services import cases
from portal.services.errors import ServiceError
from portal.services.repair_notice import WAIVED_LABEL

from ..conftest import DATABASES, SEARCH_BACKEND, TODAY
from .pdf_tools import flat, pdf_text

PROFILES = ("hunan", "hainan", "guangdong")
APPLICANT = cases.Applicant("https://idp.example.test", "sub-rep", "王法人")
# profile -> the department's actions from filing to the notice step
ROUTES = {"hunan": ("approve",), "guangdong": ("approve",), "hainan": ("accept", "approve")}
# profile -> the privacy article the waiver cites (the profile's own regulation)
PRIVACY = {"hunan": "第四条", "hainan": "第五条", "guangdong": "四（七）"}
CANARY = "CANARY-EXPIRED-4711 未按规定开展院感监测"
PAGE = "本平台“信用修复公示”页面"


@pytest.fixture(params=[(db, p) for p in PROFILES for db in DATABASES], ids=lambda v: f"{v[1]}-{v[0]}")
def settings(request, tmp_path):
    database, profile = request.param
    values = {"PORTAL_VAR_DIR": str(tmp_path / "var"), "PORTAL_TODAY": TODAY.isoformat(),
              "SEARCH_URL": f"{SEARCH_BACKEND}://{tmp_path / 'index'}", "PORTAL_PROFILE": profile,
              "PORTAL_BASE_URL": "http://127.0.0.1:5000",
              "PORTAL_RATELIMIT_SEARCH": "100000/minute", "PORTAL_RATELIMIT_LOGIN": "100000/minute"}
    if database in ("postgresql",):
        values["DATABASE_URL"] = request.getfixturevalue("pg_schema_url")
    return values


@pytest.fixture
def org(ctx, make_org):
    region = next(r.code for r in ctx.profile.regions if not r.code.endswith("00"))
    return make_org(name="示范区仁和医院", category="hospital", region_code=region)


def to_notice(ctx, org, record):
    case = cases.apply_repair(ctx, org, record, statement="已全额退回并完成整改", applicant=APPLICANT,
                              commitment=True, identity_confirmed=True)
    for action in ROUTES[ctx.profile.id]:
        cases.advance_repair(ctx, case, action, role="department", reason="整改材料齐全")
    return case


def listed_on(client, rt, case_no: str, day: date) -> bool:
    rt.settings["PORTAL_TODAY"] = day.isoformat()
    try:
        page = client.get("/repair-notices")
        assert page.status_code == 200
        return case_no in page.get_data(as_text=True)
    finally:
        rt.settings["PORTAL_TODAY"] = TODAY.isoformat()


def test_a_public_record_is_listed_for_its_whole_notice(client, rt, ctx, session, org, make_record):
    rec = make_record(org, title="未按规定公示收费标准", decided_on=date(2026, 3, 9))
    case = to_notice(ctx, org, rec)
    session.commit()
    step = cases.machine_for(ctx.profile, cases.REPAIR).step("notice")
    assert PAGE in step.label  # the label names the page where the notice really appears
    html = BeautifulSoup(client.get("/repair-notices").get_data(as_text=True), "html.parser")
    assert html.h1.get_text() == "信用修复公示"
    # entered Friday 2026-11-20: 5 working days 11-23 .. 11-27, the decision from 11-28 (day 6)
    assert case.state == "notice" and case.earliest_on == date(2026, 11, 28)
    assert [e.action for e in case.events if e.action == "notice_waived"] == []
    for day in (date(2026, 11, 20), date(2026, 11, 23), date(2026, 11, 25), date(2026, 11, 27), date(2026, 11, 29)):
        assert listed_on(client, rt, case.case_no, day), day
    with pytest.raises(ServiceError, match="2026-11-28起方可作出决定"):
        cases.advance_repair(dataclasses.replace(ctx, today=date(2026, 11, 27)), case, "no_objection",
                             role="department")
    cases.advance_repair(dataclasses.replace(ctx, today=date(2026, 11, 30)), case, "no_objection", role="department")
    session.commit()
    assert case.state == "repaired"
    for day in (date(2026, 11, 30), date(2026, 12, 1)):
        assert not listed_on(client, rt, case.case_no, day), day


def _public_pages(client, org) -> str:
    text = ""
    for url in ("/repair-notices", "/", f"/facility/{org.public_id}", "/lists/serious"):
        resp = client.get(url)
        assert resp.status_code == 200, url
        text += resp.get_data(as_text=True)
    for q in ("CANARY-EXPIRED-4711", "院感监测", org.name):
        text += client.get("/search", query_string={"q": q}).get_data(as_text=True)
    return text


def test_an_expired_record_gets_no_pretend_notice(client, rt, ctx, session, org, make_record, reindex, login_as,
                                                 tmp_path):
    rec = make_record(org, title=CANARY, decided_on=date(2025, 9, 1), publish_until=date(2026, 6, 22))
    case = to_notice(ctx, org, rec)
    reindex()
    # no notice period: the decision may be made at once, an objection "during the notice" may not
    assert case.state == "notice" and case.earliest_on is None
    waived = [e for e in case.events if e.action == "notice_waived"]
    assert len(waived) == 1 and waived[0].on == TODAY and waived[0].role == "system"
    assert "该失信信息的公示期已于 2026-06-22 届满，修复公示将披露非公开信息" in waived[0].reason
    assert PRIVACY[ctx.profile.id] in waived[0].reason
    told = session.execute(select(Notification.text).where(Notification.case_id == case.id)
                           .order_by(Notification.id.desc())).scalars().first()
    assert told.startswith(f"您的信用修复申请（{case.case_no}）：{WAIVED_LABEL}。理由：整改材料齐全。说明：该失信信息的公示期")
    with pytest.raises(ServiceError, match="不予公示"):
        cases.advance_repair(ctx, case, "objection", role="department", reason="公示期间收到举报")
    assert not any(listed_on(client, rt, case.case_no, TODAY + timedelta(days=i)) for i in range(10))
    # the applicant's page and the public progress look-up say what happened
    login_as(client, Identity(iss=APPLICANT.iss, sub=APPLICANT.sub, name="王法人", acr=ACR_FACE, amr=("face",),
                              legal_rep_of=org.code_hash))
    own = BeautifulSoup(client.get(f"/me/subjects/{org.public_id}/cases/{case.case_no}").get_data(as_text=True),
                        "html.parser")
    assert own.select_one(".case-state").get_text() == WAIVED_LABEL
    assert "修复公示将披露非公开信息" in own.select_one("ol.timeline").get_text()
    login_as(client, None)
    assert CANARY not in _public_pages(client, org) and case.case_no not in _public_pages(client, org)
    cases.advance_repair(ctx, case, "no_objection", role="department")  # the same day
    reindex()
    assert case.state == "repaired" and case.closed_on == TODAY
    assert CANARY not in _public_pages(client, org)
    login_as(client, Identity(iss=APPLICANT.iss, sub=APPLICANT.sub, name="王法人", acr=ACR_FACE, amr=("face",),
                              legal_rep_of=org.code_hash))
    resp = client.get(f"/me/subjects/{org.public_id}/cases/{case.case_no}/documents/repair_decision.pdf")
    assert resp.status_code == 200
    text = flat(pdf_text(resp.data, tmp_path))
    name = regulation_name(ctx.profile.document)
    assert (f"本案于{TODAY}审核通过时，该失信信息的公示期已于2026-06-22届满，修复公示将披露非公开信息，"
            f"依据{name}{PRIVACY[ctx.profile.id]}") in text
    assert f"本案不予公示，未设公示期，于{TODAY}径行作出修复决定" in text
    for wrong in ("栏目公示，", "公示期间本平台未收到异议", "无异议", "公示期不少于"):
        assert wrong not in text, wrong
