"""Written authorisations (书面授权, 海南 第二十七条; 征信业管理条例 第十八条): the subject grants a
named third party a purpose, a scope and a period; the grantee logs in as itself and sees exactly
that scope until expiry or revocation; every use is audited and shown to the subject."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select, text

from portal import permissions
from portal.domain.identifiers import make_resident_id, make_uscc
from portal.models import AuditEvent, Authorisation
from portal.services.authorisations import grant_authorisation, revoke_authorisation
from portal.services.errors import ServiceError

from .subject_world import ALL_CANARIES, ORG_CANARIES, ORG_NAME, PUBLIC_TITLE, TODAY, build_world, identity, post

GRANTEE_ID = make_resident_id("430104", date(1988, 8, 8), 301)
BANK_USCC = make_uscc("91", "430100", "00000777")


@pytest.fixture
def world(rt, session):
    return build_world(rt, session)


def form(**kw):
    data = {"grantee_kind": "person", "grantee_name": "陈信贷", "grantee_code": GRANTEE_ID,
            "purpose": "银行贷款审批", "info_classes": ["basic", "positive", "dishonest", "serious"],
            "include_non_public": "1", "valid_from": TODAY.isoformat(),
            "valid_until": (TODAY + timedelta(days=90)).isoformat()}
    data.update(kw)
    return data


def grant_url(world):
    return f"/me/subjects/{world.org.public_id}/authorisations"


def test_grant_use_and_revoke_end_to_end(rt, client, login_as, world, session):
    login_as(client, world.ids["legal_rep"])
    resp = post(client, grant_url(world), form())
    assert resp.status_code == 303
    auth = session.execute(select(Authorisation).where(Authorisation.grantee_name == "陈信贷")).scalar_one()
    assert auth.grantee_masked == "4301**********" + GRANTEE_ID[-4:]
    assert auth.info_classes == ["basic", "positive", "dishonest", "serious"]
    assert auth.created_by.startswith("user:")
    grant_event = session.execute(select(AuditEvent).where(AuditEvent.action == "authorisation.grant",
                                                           AuditEvent.object_ref == f"authorisation:{auth.id}")
                                  ).scalar_one()
    assert grant_event.subject_id == world.org.id and grant_event.purpose == "银行贷款审批"

    # the grantee logs in with its own real-name identity
    grantee = identity(rt, "陈信贷", resident_id=GRANTEE_ID)
    login_as(client, grantee)
    me = BeautifulSoup(client.get("/me").data, "html.parser")
    assert ORG_NAME in me.select_one("table.list").get_text() and "银行贷款审批" in me.get_text()
    page = client.get(f"/me/subjects/{world.org.public_id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert all(c in body for c in ORG_CANARIES.values())
    assert "书面授权查看" in body and "银行贷款审批" in body

    # the subject sees the use, by whom and for what
    login_as(client, world.ids["legal_rep"])
    log = BeautifulSoup(client.get(f"/me/subjects/{world.org.public_id}/access-log").data, "html.parser")
    rows = [[td.get_text(" ", strip=True) for td in tr.select("td")] for tr in log.select("table.access-log tbody tr")]
    assert any("陈信贷" in r[1] and auth.grantee_masked in r[1] and "经书面授权" in r[2] and r[4] == "银行贷款审批"
               for r in rows), rows
    listing = BeautifulSoup(client.get(grant_url(world)).data, "html.parser")
    assert "1 次" in listing.select_one(f"#authorisation-{auth.id}").get_text()

    # revocation ends access at once
    assert post(client, f"{grant_url(world)}/{auth.id}/revoke", {"reason": "贷款已办结"}).status_code == 303
    login_as(client, grantee)
    refused = client.get(f"/me/subjects/{world.org.public_id}")
    assert refused.status_code == 403
    assert "撤销" in refused.get_data(as_text=True)
    assert [c for c in ALL_CANARIES if c in refused.get_data(as_text=True)] == []
    assert ORG_NAME not in BeautifulSoup(client.get("/me").data, "html.parser").get_text()
    session.expire_all()
    assert session.get(Authorisation, auth.id).revoked_reason == "贷款已办结"


def test_grantee_id_number_is_never_stored(client, login_as, world, rt):
    login_as(client, world.ids["legal_rep"])
    assert post(client, grant_url(world), form()).status_code == 303
    with rt.engine.connect() as conn:
        for table in ("authorisations", "audit_events"):
            dump = repr(conn.execute(text(f"SELECT * FROM {table}")).all())
            assert GRANTEE_ID not in dump, table


@pytest.mark.parametrize(("changes", "message"), [
    ({"grantee_code": GRANTEE_ID[:-1] + ("0" if GRANTEE_ID[-1] != "0" else "1")}, "校验位错误"),
    ({"grantee_kind": "org", "grantee_code": GRANTEE_ID}, "统一社会信用代码"),
    ({"valid_from": (TODAY - timedelta(days=1)).isoformat()}, "不能早于今天"),
    ({"valid_until": (TODAY + timedelta(days=400)).isoformat()}, "不能超过"),
    ({"valid_until": (TODAY - timedelta(days=1)).isoformat(), "valid_from": TODAY.isoformat()}, "不能早于生效日期"),
    ({"valid_until": "明天"}, "有效日期"),
    ({"info_classes": []}, "至少选择一类"),
    ({"info_classes": ["everything"]}, "未知的信息类别"),
    ({"purpose": " "}, "授权用途"),
    ({"grantee_name": ""}, "名称"),
], ids=["check-digit", "kind-mismatch", "past-start", "too-long", "end-before-start", "bad-date", "no-class",
        "unknown-class", "no-purpose", "no-name"])
def test_grant_is_validated(client, login_as, world, session, changes, message):
    login_as(client, world.ids["legal_rep"])
    resp = post(client, grant_url(world), form(**changes))
    assert resp.status_code == 400
    alert = BeautifulSoup(resp.data, "html.parser").select_one("[role=alert]").get_text()
    assert message in alert
    assert session.execute(select(Authorisation).where(Authorisation.grantee_name == "陈信贷")).first() is None


def test_cannot_authorise_itself(client, login_as, world):
    login_as(client, world.ids["subject_a"])
    resp = post(client, f"/me/subjects/{world.person.public_id}/authorisations",
                form(grantee_code=world.codes["person"]))
    assert resp.status_code == 400
    assert "自身" in resp.get_data(as_text=True)


def test_a_grantee_cannot_pass_access_on(client, login_as, world, session):
    login_as(client, world.ids["grantee_during"])
    page = BeautifulSoup(client.get(f"/me/subjects/{world.org.public_id}").data, "html.parser")
    assert not page.select('a[href$="/authorisations"]') and not page.select('a[href$="/access-log"]')
    assert post(client, grant_url(world), form()).status_code == 403
    assert client.get(grant_url(world)).status_code == 403
    assert session.execute(select(Authorisation).where(Authorisation.grantee_name == "陈信贷")).first() is None


def test_scope_limits_what_the_grantee_sees(rt, client, login_as, world, session):
    ctx = rt.context(session, "test")
    grant_authorisation(ctx, world.org, grantee_kind="person", grantee_code=GRANTEE_ID, grantee_name="陈信贷",
                        purpose="评优核查", info_classes=["positive", "dishonest"], include_non_public=False,
                        valid_from=TODAY, valid_until=TODAY)
    session.commit()
    login_as(client, identity(rt, "陈信贷", resident_id=GRANTEE_ID))
    html = BeautifulSoup(client.get(f"/me/subjects/{world.org.public_id}").data, "html.parser")
    titles = {t.get_text(" ", strip=True) for t in html.select(".record-title")}
    # public records of the granted classes only: no non-public, expired, repaired or old versions
    assert titles == {f"{PUBLIC_TITLE} 一般", "更正后的监督检查记录 一般", "年度表彰：优秀基层医疗机构"}
    assert "历史版本" not in html.get_text()
    assert "评分说明" not in html.get_text()  # the explanation needs the full scope
    assert [c for c in ALL_CANARIES if c in str(html)] == []


def test_scope_without_a_class_excludes_it(rt, world, session):
    ctx = rt.context(session, "test")
    grant_authorisation(ctx, world.org, grantee_kind="person", grantee_code=GRANTEE_ID, grantee_name="陈信贷",
                        purpose="核查表彰", info_classes=["positive"], valid_from=TODAY, valid_until=TODAY)
    who = identity(rt, "陈信贷", resident_id=GRANTEE_ID)
    broad = permissions.can_view_private(who, world.org, TODAY, session=session)
    assert broad.allowed and broad.info_classes == {"positive"}
    narrow = permissions.can_view_private(who, world.org, TODAY, {"dishonest"}, session=session)
    assert (narrow.allowed, narrow.status) == (False, 403)


def test_an_organisation_grantee_acts_through_its_legal_representative(rt, client, login_as, world, session):
    ctx = rt.context(session, "test")
    auth = grant_authorisation(ctx, world.person, grantee_kind="org", grantee_code=BANK_USCC,
                               grantee_name="某某银行长沙分行", purpose="个人信用贷款审查",
                               info_classes=["dishonest", "serious"], valid_from=TODAY, valid_until=TODAY)
    session.commit()
    assert auth.grantee_masked == BANK_USCC  # an organisation's code is public registration data
    banker = identity(rt, "银行行长", resident_id=make_resident_id("430105", date(1970, 2, 2), 5),
                      legal_rep_of=BANK_USCC)
    login_as(client, banker)
    resp = client.get(f"/me/subjects/{world.person.public_id}")
    assert resp.status_code == 200
    assert "CANARY-PERSON-A-SHARED" in resp.get_data(as_text=True)
    # a person who merely shares nothing with the bank gets nothing
    login_as(client, identity(rt, "路人", resident_id=make_resident_id("430105", date(1971, 2, 2), 7)))
    assert client.get(f"/me/subjects/{world.person.public_id}").status_code == 404


def test_validity_is_inclusive_and_ends(rt, world, session):
    """Valid from the first through the last day; the day after, refused with the reason."""
    ctx = rt.context(session, "test")
    auth = grant_authorisation(ctx, world.org, grantee_kind="person", grantee_code=GRANTEE_ID,
                               grantee_name="陈信贷", purpose="银行贷款审批", info_classes=["basic"],
                               valid_from=TODAY + timedelta(days=1), valid_until=TODAY + timedelta(days=3))
    who = identity(rt, "陈信贷", resident_id=GRANTEE_ID)
    states = {d: permissions.can_view_private(who, world.org, TODAY + timedelta(days=d), session=session)
              for d in range(0, 5)}
    assert [states[d].allowed for d in range(5)] == [False, True, True, True, False]
    assert "尚未生效" in states[0].reason_zh and "到期" in states[4].reason_zh
    assert {states[d].status for d in (0, 4)} == {403}
    assert states[2].authorisation_id == auth.id and states[2].via == "authorisation"
    assert [s.subject.id for s in permissions.subjects_for(who, session, TODAY + timedelta(days=2))] == [world.org.id]
    assert permissions.subjects_for(who, session, TODAY + timedelta(days=4)) == []


def test_revoke_twice_or_after_expiry_is_refused(rt, world, session):
    ctx = rt.context(session, "test")
    with pytest.raises(ServiceError, match="已撤销"):
        revoke_authorisation(ctx, world.auths["grantee_revoked"])
    with pytest.raises(ServiceError, match="已到期"):
        revoke_authorisation(ctx, world.auths["grantee_after"])


def test_revoke_of_another_subjects_authorisation_is_404(client, login_as, world):
    login_as(client, world.ids["subject_a"])
    other = world.auths["grantee_during"]  # granted by the organisation, not by this doctor
    resp = post(client, f"/me/subjects/{world.person.public_id}/authorisations/{other.id}/revoke")
    assert resp.status_code == 404
