"""The government sharing API (issue 15; 海南 第二十五条, 湖南 第二十四条): three clients of
different scopes, the privacy boundary, idempotent writes through the record verbs, bad input
answered with a JSON error and nothing written, key rotation, rate limits, the CSRF boundary and
the signed feed resuming from a cursor."""
from __future__ import annotations

import json

import pytest
from cryptography.exceptions import InvalidSignature
from sqlalchemy import func, select

from portal.models import ApiToken, AuditEvent, CreditRecord
from portal.services import api_clients, api_feed
from portal.services.access_log import access_entries

from .api_world import (
    ONREQ_CANARY,
    PUBLIC_TITLE,
    PURPOSE,
    SHARED_CANARY,
    UNIT,
    basic,
    bearer,
    token,
)


def _code(resp) -> str:
    assert resp.mimetype == "application/json", resp.get_data(as_text=True)[:300]
    return resp.get_json()["error"]["code"]


def _records(session) -> int:
    session.expire_all()
    return session.execute(select(func.count()).select_from(CreditRecord)).scalar_one()


def _private_views(session, subject_id) -> list[AuditEvent]:
    session.expire_all()
    return list(session.execute(select(AuditEvent).where(AuditEvent.subject_id == subject_id,
                                                         AuditEvent.action == "private.view")).scalars())


def _new_record(code: str, **kw) -> dict:
    body = {"subject_code": code, "record_type": "penalty", "severity": "general", "title": "接口报送：超范围执业",
            "decided_on": "2026-10-09", "scope": "public", "doc_no": "长卫罚〔2026〕88号", "ordinary_procedure": True}
    body.update(kw)
    return body


def _post(api, url, tok, body, key="key-00000001", **headers):
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body, ensure_ascii=False)
    return api.post(url, data=raw, headers={**bearer(tok), "Idempotency-Key": key, **headers},
                    content_type=headers.pop("content_type", "application/json"))


# --- tokens ---------------------------------------------------------------------------------------

def test_token_by_client_credentials_and_its_refusals(api, api_world, session):
    ok = api.post("/api/v1/token", data={"grant_type": "client_credentials"},
                  headers=basic("share.cs", api_world.secrets["share.cs"]))
    body = ok.get_json()
    assert ok.status_code == 200 and body["token_type"].lower() == "bearer" and body["expires_in"] == 3600
    assert set(body["scope"].split()) == {"records:read:public", "records:read:shared"}
    assert "no-store" in ok.headers["Cache-Control"]
    stored = session.execute(select(ApiToken)).scalar_one()
    assert stored.token_hash != body["access_token"] and body["access_token"] not in stored.token_hash
    # client_secret_post works too, and a narrower scope gives a narrower token
    narrow = api.post("/api/v1/token", data={"grant_type": "client_credentials", "scope": "records:read:public",
                                             "client_id": "share.cs", "client_secret": api_world.secrets["share.cs"]})
    assert narrow.status_code == 200 and narrow.get_json()["scope"] == "records:read:public"
    wrong = api.post("/api/v1/token", data={"grant_type": "client_credentials"}, headers=basic("share.cs", "x" * 40))
    assert wrong.status_code == 401 and wrong.get_json()["code"] == "oauth_invalid_client"
    assert "密钥错误" in wrong.get_json()["message"]
    unknown = api.post("/api/v1/token", data={"grant_type": "client_credentials", "scope": "records:delete"},
                       headers=basic("share.cs", api_world.secrets["share.cs"]))
    assert unknown.status_code == 400 and unknown.get_json()["code"] == "oauth_invalid_scope"
    nobody = api.post("/api/v1/token", data={"grant_type": "client_credentials"}, headers=basic("nobody.x", "x" * 40))
    assert (nobody.status_code, nobody.get_json()["code"]) == (401, "oauth_invalid_client")  # like a wrong secret
    grant = api.post("/api/v1/token", data={"grant_type": "password"},
                     headers=basic("share.cs", api_world.secrets["share.cs"]))
    assert grant.status_code == 400 and grant.get_json()["code"].startswith("oauth_")


def test_no_token_or_a_bad_one_is_refused_in_json(api, api_world):
    org = api_world.org.credit_code
    for headers in ({}, bearer("not-a-token"), {"Authorization": "Basic abc"}):
        resp = api.get(f"/api/v1/subjects/{org}", headers=headers)
        assert resp.status_code == 401 and _code(resp) == "invalid_token"
        assert "令牌" in resp.get_json()["error"]["message"]
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")


# --- the privacy boundary, three clients ----------------------------------------------------------

def test_public_client_sees_public_views_only(api, api_world, session):
    tok = token(api, api_world, "pub.dept")
    resp = api.get(f"/api/v1/subjects/{api_world.org.credit_code}/records", headers=bearer(tok))
    body = resp.get_json()
    assert resp.status_code == 200 and body["access"] == "public"
    titles = [r["title"] for r in body["records"]]
    assert titles == [PUBLIC_TITLE]
    text = resp.get_data(as_text=True)
    assert SHARED_CANARY.split()[0] not in text and ONREQ_CANARY.split()[0] not in text
    assert _private_views(session, api_world.org.id) == []  # nothing non-public was read


def test_shared_client_sees_shared_records_and_the_subject_sees_who(api, api_world, session):
    tok = token(api, api_world, "share.cs")
    resp = api.get(f"/api/v1/subjects/{api_world.org.credit_code}/records", headers=bearer(tok))
    body = resp.get_json()
    assert resp.status_code == 200 and body["access"] == "shared"
    by_title = {r["title"]: r for r in body["records"]}
    assert set(by_title) == {PUBLIC_TITLE, SHARED_CANARY}  # 申请查询 is never shared through the API
    assert by_title[SHARED_CANARY]["public"] is False and by_title[PUBLIC_TITLE]["public"] is True
    assert ONREQ_CANARY.split()[0] not in resp.get_data(as_text=True)
    [event] = _private_views(session, api_world.org.id)
    assert event.actor == "api:share.cs" and event.purpose == PURPOSE and event.detail["via"] == "api"
    entries, total = access_entries(session, api_world.org.id)
    assert total == 1 and entries[0].viewer_name == "长沙市医疗保障局" and entries[0].purpose == PURPOSE


def test_narrow_token_of_a_shared_client_sees_public_only(api, api_world, session):
    tok = token(api, api_world, "share.cs", scope="records:read:public")
    resp = api.get(f"/api/v1/subjects/{api_world.org.credit_code}/records", headers=bearer(tok))
    assert resp.get_json()["access"] == "public" and SHARED_CANARY.split()[0] not in resp.get_data(as_text=True)


def test_writer_without_shared_scope_never_sees_shared(api, api_world):
    tok = token(api, api_world, "write.cs")
    resp = api.get(f"/api/v1/subjects/{api_world.org.credit_code}/records", headers=bearer(tok))
    assert resp.status_code == 200 and SHARED_CANARY.split()[0] not in resp.get_data(as_text=True)


def test_region_and_scope_refusals(api, api_world, session):
    share = token(api, api_world, "share.cs")
    far = api.get(f"/api/v1/subjects/{api_world.far.credit_code}/records", headers=bearer(share))
    assert far.status_code == 403 and _code(far) == "out_of_region"
    assert "行政区划" in far.get_json()["error"]["message"]
    # the whole-jurisdiction public client reads it
    pub = token(api, api_world, "pub.dept")
    assert api.get(f"/api/v1/subjects/{api_world.far.credit_code}", headers=bearer(pub)).status_code == 200
    before = _records(session)
    write = _post(api, "/api/v1/records", pub, _new_record(api_world.org.credit_code))
    assert write.status_code == 403 and _code(write) == "insufficient_scope"
    assert "records:write" in write.get_json()["error"]["message"]
    feed = api.get("/api/v1/feed", headers=bearer(share))
    assert feed.status_code == 403 and _code(feed) == "insufficient_scope"
    assert _records(session) == before


def test_reads_subject_grades_lists_and_unknowns(api, api_world):
    tok = token(api, api_world, "pub.dept")
    subject = api.get(f"/api/v1/subjects/{api_world.org.credit_code}", headers=bearer(tok)).get_json()
    assert subject["name"] == "长沙市某某医院" and subject["credit_code"] == api_world.org.credit_code
    grades = api.get(f"/api/v1/subjects/{api_world.org.credit_code}/grades", headers=bearer(tok))
    assert grades.status_code == 200 and grades.get_json()["grades"] == []
    lst = api.get("/api/v1/lists/serious?page=1", headers=bearer(tok))
    assert lst.status_code == 200 and lst.get_json()["total"] == 0
    cases = {"/api/v1/lists/nope": "unknown_list", "/api/v1/lists/red?page=0": "invalid_parameter",
             "/api/v1/lists/red?page=abc": "invalid_parameter", "/api/v1/subjects/123": "invalid_parameter",
             "/api/v1/subjects/91430100MA4L0000X0": "invalid_parameter", "/api/v1/nothing-here": "not_found"}
    for url, code in cases.items():
        resp = api.get(url, headers=bearer(tok))
        assert _code(resp) == code, url
        assert resp.status_code == (404 if code in ("unknown_list", "not_found") else 400), url
    from portal.domain.identifiers import make_uscc

    missing = api.get(f"/api/v1/subjects/{make_uscc('12', '430102', '99999999')}", headers=bearer(tok))
    assert missing.status_code == 404 and _code(missing) == "unknown_subject"
    wrong_method = api.delete(f"/api/v1/subjects/{api_world.org.credit_code}", headers=bearer(tok))
    assert wrong_method.status_code == 405 and _code(wrong_method) == "method_not_allowed"


# --- writes ---------------------------------------------------------------------------------------

def test_write_is_idempotent_and_goes_through_the_record_rules(api, api_world, session):
    tok = token(api, api_world, "write.cs")
    before = _records(session)
    body = _new_record(api_world.org.credit_code)
    first = _post(api, "/api/v1/records", tok, body, key="submit-0001")
    assert first.status_code == 201, first.get_data(as_text=True)
    record = first.get_json()["record"]
    assert record["authority"] == UNIT and record["public"] is True and record["version"] == 1
    again = _post(api, "/api/v1/records", tok, body, key="submit-0001")
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert _records(session) == before + 1  # the duplicate wrote nothing
    other = _post(api, "/api/v1/records", tok, {**body, "title": "另一条"}, key="submit-0001")
    assert other.status_code == 409 and _code(other) == "idempotency_key_reused"
    assert _records(session) == before + 1
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "record.add",
                                                     AuditEvent.actor == "api:write.cs")).scalar_one()
    assert event.object_ref == f"record:{record['id']}"


BAD_BODIES = [
    # (body changes, expected code, field)
    ({"title": 5}, "invalid_field", "title"),
    ({"decided_on": "2026/10/09"}, "invalid_field", "decided_on"),
    ({"record_type": "no_such_type"}, "invalid_field", "record_type"),
    ({"scope": "everyone"}, "invalid_field", "scope"),
    ({"ordinary_procedure": "是"}, "invalid_field", "ordinary_procedure"),
    ({"authority": "别的单位"}, "invalid_field", "authority"),  # the unit is the client's, never the body's
    ({"title": "x" * 301}, "invalid_field", "title"),
    ({"severity": None}, "validation_failed", "severity"),  # check_record: a penalty needs its severity
    ({"decided_on": "2027-01-01"}, "validation_failed", "decided_on"),  # after today
    ({"publish_from": "2026-10-09", "publish_until": "2030-10-09"}, "validation_failed", "publish_until"),
]


@pytest.mark.parametrize(("change", "code", "field"), BAD_BODIES, ids=[b[2] + "-" + b[1] for b in BAD_BODIES])
def test_bad_bodies_are_refused_and_nothing_is_written(api, api_world, session, change, code, field):
    tok = token(api, api_world, "write.cs")
    before, events = _records(session), session.execute(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "record.add")).scalar_one()
    resp = _post(api, "/api/v1/records", tok, _new_record(api_world.org.credit_code, **change))
    assert resp.status_code == 400, resp.get_data(as_text=True)
    err = resp.get_json()["error"]
    assert err["code"] == code and err["field"] == field and any("\u4e00" <= ch <= "\u9fff" for ch in err["message"])
    assert _records(session) == before
    assert session.execute(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "record.add")).scalar_one() == events


def test_malformed_requests(api, api_world, session):
    tok = token(api, api_world, "write.cs")
    before = _records(session)
    url = "/api/v1/records"
    body = _new_record(api_world.org.credit_code)
    cases = [
        (lambda: _post(api, url, tok, "{not json"), 400, "invalid_json"),
        (lambda: _post(api, url, tok, "[1, 2]"), 400, "invalid_field"),
        (lambda: _post(api, url, tok, b"\xff\xfe", key="key-bytes-01"), 400, "invalid_json"),
        (lambda: _post(api, url, tok, body, key=""), 400, "idempotency_key_required"),
        (lambda: _post(api, url, tok, body, key="short"), 400, "idempotency_key_required"),
        (lambda: _post(api, url, tok, body, content_type="text/plain"), 415, "unsupported_media_type"),
        (lambda: _post(api, url, tok, {**body, "content": "长" * 40_000}, key="key-huge-001"), 413, "body_too_large"),
        (lambda: _post(api, url, tok, {k: v for k, v in body.items() if k != "title"}, key="key-notitle"),
         400, "invalid_field"),
        (lambda: _post(api, url, tok, _new_record(api_world.far.credit_code), key="key-far-0001"), 403, "out_of_region"),
        (lambda: _post(api, url, tok, _new_record("91430102MA4L3C4X5Y"), key="key-badcode"), 400,
         "invalid_parameter"),
    ]
    for i, (call, status, code) in enumerate(cases):
        resp = call()
        assert (resp.status_code, _code(resp)) == (status, code), (i, resp.get_data(as_text=True)[:300])
    assert _records(session) == before


def test_new_subject_is_registered_with_its_record(api, api_world, session):
    from portal.domain.identifiers import make_uscc

    tok = token(api, api_world, "write.cs")
    code = make_uscc("12", "430104", "55550001")
    unknown = _post(api, "/api/v1/records", tok, _new_record(code), key="key-new-0001")
    assert unknown.status_code == 404 and _code(unknown) == "unknown_subject"
    partial = _post(api, "/api/v1/records", tok, _new_record(code, subject_name="岳麓区某诊所"), key="key-new-0002")
    assert partial.status_code == 400 and _code(partial) == "invalid_field"
    ok = _post(api, "/api/v1/records", tok, _new_record(code, subject_name="岳麓区某诊所", subject_kind="org",
                                                         category="clinic", region_code="430104"), key="key-new-0003")
    assert ok.status_code == 201, ok.get_data(as_text=True)
    far = _post(api, "/api/v1/records", tok, _new_record(make_uscc("12", "430202", "55550002"),
                                                          subject_name="株洲某诊所", subject_kind="org",
                                                          category="clinic", region_code="430202"), key="key-new-0004")
    assert far.status_code == 403 and _code(far) == "out_of_region"


def test_correction_and_withdrawal_keep_history(api, api_world, session):
    tok = token(api, api_world, "write.cs")
    lineage = api_world.public_record.lineage_id
    fixed = _post(api, f"/api/v1/records/{lineage}/corrections", tok,
                  {"reason": "文书号录入错误", "changes": {"doc_no": "长卫罚〔2026〕12号"}}, key="corr-000001")
    assert fixed.status_code == 201, fixed.get_data(as_text=True)
    assert fixed.get_json()["record"]["version"] == 2 and fixed.get_json()["record"]["doc_no"] == "长卫罚〔2026〕12号"
    no_reason = _post(api, f"/api/v1/records/{lineage}/withdrawal", tok, {"reason": "  "}, key="wd-00000001")
    assert no_reason.status_code == 400 and _code(no_reason) == "invalid_field"
    gone = _post(api, f"/api/v1/records/{lineage}/withdrawal", tok, {"reason": "复议撤销原处罚决定"}, key="wd-00000002")
    assert gone.status_code == 200 and gone.get_json()["record"]["status"] == "withdrawn"
    twice = _post(api, f"/api/v1/records/{lineage}/withdrawal", tok, {"reason": "再次撤销"}, key="wd-00000003")
    assert twice.status_code == 409 and _code(twice) == "conflict"
    session.expire_all()
    versions = session.execute(select(CreditRecord).where(CreditRecord.lineage_id == lineage)
                               .order_by(CreditRecord.version)).scalars().all()
    assert [(v.version, v.status) for v in versions] == [(1, "superseded"), (2, "withdrawn")]
    unknown = _post(api, "/api/v1/records/999999/withdrawal", tok, {"reason": "x"}, key="wd-00000004")
    assert unknown.status_code == 404 and _code(unknown) == "unknown_record"


def test_only_own_units_records_are_corrected(api, api_world, session, ctx, make_record):
    other = make_record(api_world.org, title="区卫健局的处罚", authority="芙蓉区卫生健康局")
    session.commit()
    tok = token(api, api_world, "write.cs")
    resp = _post(api, f"/api/v1/records/{other.lineage_id}/withdrawal", tok, {"reason": "越权撤销"})
    assert resp.status_code == 403 and _code(resp) == "not_your_record"
    session.expire_all()
    assert session.get(CreditRecord, other.id).status == "active"


# --- clients: rotation, disabling, limits ---------------------------------------------------------

def test_rotation_and_disabling_end_old_credentials(api, api_world, session, ctx):
    old_token = token(api, api_world, "pub.dept")
    client = api_clients.find_client(session, "pub.dept")
    new_secret = api_clients.rotate_secret(ctx, client)
    session.commit()
    url = f"/api/v1/subjects/{api_world.org.credit_code}"
    assert api.get(url, headers=bearer(old_token)).status_code == 401
    old = api.post("/api/v1/token", data={"grant_type": "client_credentials"},
                   headers=basic("pub.dept", api_world.secrets["pub.dept"]))
    assert old.status_code == 401
    api_world.secrets["pub.dept"] = new_secret
    fresh = token(api, api_world, "pub.dept")
    assert api.get(url, headers=bearer(fresh)).status_code == 200
    api_clients.disable_client(ctx, client, "合作终止")
    session.commit()
    assert api.get(url, headers=bearer(fresh)).status_code == 401
    assert api.post("/api/v1/token", data={"grant_type": "client_credentials"},
                    headers=basic("pub.dept", new_secret)).status_code == 401
    actions = set(session.execute(select(AuditEvent.action).where(
        AuditEvent.object_ref == "api_client:pub.dept")).scalars())
    assert {"api_client.create", "api_client.rotate", "api_client.disable"} <= actions


def test_per_client_rate_limit(api, api_world, session):
    client = api_clients.find_client(session, "pub.dept")
    client.rate_limit = "3/minute"
    session.commit()
    tok = token(api, api_world, "pub.dept")
    other = token(api, api_world, "share.cs")
    url = f"/api/v1/subjects/{api_world.org.credit_code}"
    assert [api.get(url, headers=bearer(tok)).status_code for _ in range(3)] == [200, 200, 200]
    over = api.get(url, headers=bearer(tok))
    assert over.status_code == 429 and _code(over) == "rate_limited" and int(over.headers["Retry-After"]) >= 1
    assert api.get(url, headers=bearer(other)).status_code == 200  # another client's own budget


def test_every_call_is_in_the_audit_log(api, api_world, session):
    tok = token(api, api_world, "pub.dept")
    api.get(f"/api/v1/subjects/{api_world.org.credit_code}", headers=bearer(tok))
    api.get("/api/v1/lists/nope", headers=bearer(tok))
    session.expire_all()
    calls = session.execute(select(AuditEvent).where(AuditEvent.action == "api.call",
                                                     AuditEvent.actor == "api:pub.dept")
                            .order_by(AuditEvent.id)).scalars().all()
    assert [(c.object_ref, c.detail["status"], c.detail["code"]) for c in calls] == [
        ("/api/v1/subjects/<code>", 200, ""), ("/api/v1/lists/<name>", 404, "unknown_list")]
    assert calls[0].purpose == "企业信用监管：公开信息比对"


# --- CSRF: not on the bearer API, still on the site ---------------------------------------------

def test_csrf_applies_to_the_site_but_not_to_the_bearer_api(api, api_world, session):
    tok = token(api, api_world, "write.cs")  # the token endpoint itself takes no CSRF token
    resp = _post(api, "/api/v1/records", tok, _new_record(api_world.org.credit_code), key="csrf-test-01")
    assert resp.status_code == 201
    site = api.post("/progress", data={"case_no": "X", "code": "Y"})
    assert site.status_code == 400 and "页面已过期" in site.get_data(as_text=True)
    # a cookie does not authenticate the API: without the bearer token it is refused
    refused = api.post("/api/v1/records", data=json.dumps(_new_record(api_world.org.credit_code)),
                       content_type="application/json", headers={"Idempotency-Key": "csrf-test-02"})
    assert refused.status_code == 401


# --- the document ---------------------------------------------------------------------------------

def test_openapi_document_and_page(api, api_world):
    doc = api.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.") and set(doc["components"]["securitySchemes"]["oauth2"]["flows"]
                                                   ["clientCredentials"]["scopes"]) >= {
        "records:read:public", "records:read:shared", "records:write"}
    operations = {op["operationId"] for item in doc["paths"].values() for op in item.values()}
    from bs4 import BeautifulSoup

    page = api.get("/api/v1/")
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    assert page.status_code == 200
    assert {tr["id"] for tr in soup.select("table.api-operations tr[id]")} == operations
    assert not soup.select("script[src^='http']")


# --- the feed -------------------------------------------------------------------------------------

def _pull(api, tok, cursor, limit):
    resp = api.get("/api/v1/feed", query_string={"cursor": cursor, "limit": limit}, headers=bearer(tok))
    assert resp.status_code == 200 and resp.mimetype == "application/x-ndjson"
    return resp.get_data()


def test_feed_is_signed_and_resumes_from_a_cursor(api, api_world, session, ctx, make_org, make_record, reindex):
    for i in range(4):
        make_record(make_org(name=f"长沙第{i}诊所", category="clinic"), title=f"公开处罚 {i}")
    reindex()
    tok = token(api, api_world, "write.cs")
    key = api.get("/api/v1/feed/key").get_data(as_text=True)
    assert key.startswith("-----BEGIN PUBLIC KEY-----")
    seen: dict[str, dict] = {}
    cursor, pages = 0, 0
    while True:
        lines, trailer = api_feed.verify_page(_pull(api, tok, cursor, 2), key)
        assert trailer["cursor"] == cursor and trailer["alg"] == "Ed25519"
        for line in lines:
            seen[line["public_id"]] = line
        pages += 1
        if not trailer["more"]:
            break
        assert trailer["next_cursor"] > cursor
        cursor = trailer["next_cursor"]
    assert pages >= 3
    # the writer is registered for 长沙 (430100): 株洲's subject is not in its feed
    assert api_world.org.public_id in seen and api_world.far.public_id not in seen and len(seen) == 5
    text = json.dumps(seen, ensure_ascii=False)
    assert SHARED_CANARY.split()[0] not in text and ONREQ_CANARY.split()[0] not in text
    assert [r["title"] for r in seen[api_world.org.public_id]["records"]] == [PUBLIC_TITLE]
    # nothing new: an empty signed page that keeps the cursor
    lines, trailer = api_feed.verify_page(_pull(api, tok, cursor, 2), key)
    assert lines == [] and trailer["next_cursor"] == cursor
    # a withdrawal is a change: the subject comes again, without the record
    _post(api, f"/api/v1/records/{api_world.public_record.lineage_id}/withdrawal", tok, {"reason": "撤销"},
          key="feed-wd-001")
    reindex()
    lines, trailer = api_feed.verify_page(_pull(api, tok, cursor, 100), key)
    assert [(line["public_id"], line["records"]) for line in lines] == [(api_world.org.public_id, [])]
    # a tampered page fails verification
    page = _pull(api, tok, 0, 100)
    assert "长沙第0诊所".encode() in page
    with pytest.raises(InvalidSignature):
        api_feed.verify_page(page.replace("长沙第0诊所".encode(), "长沙第9诊所".encode()), key)


def test_feed_follows_the_commit_ordered_log(api, api_world, session, make_record, reindex):
    """The cursor is the log's ``seq`` (commit order, ``services.index_log``): a committed change
    is in the feed whether or not the search index has taken it yet."""
    reindex()
    tok = token(api, api_world, "write.cs")
    key = api.get("/api/v1/feed/key").get_data(as_text=True)
    _, trailer = api_feed.verify_page(_pull(api, tok, 0, 1000), key)
    head = trailer["next_cursor"]
    make_record(api_world.org, title="尚未写入索引的处罚", authority=UNIT)
    session.commit()  # queued, not drained
    lines, trailer = api_feed.verify_page(_pull(api, tok, head, 1000), key)
    assert trailer["next_cursor"] > head and [line["public_id"] for line in lines] == [api_world.org.public_id]
    assert "尚未写入索引的处罚" in [r["title"] for r in lines[0]["records"]]
