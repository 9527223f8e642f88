"""The public progress look-up /progress (信用中国 修复进度查询): case number + the code from the
applicant's receipt, no login; labels and dates only, one answer for every wrong input."""
from __future__ import annotations

import io
from datetime import date

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.identity import ACR_FACE, Identity
from portal.models import Case, CaseEvent, Notification
from portal.services import cases, lookup_code, progress

from .pdf_tools import blank_pdf

STATEMENT_CANARY = "CANARY-PROGRESS-STATEMENT-61f0"
TITLE_CANARY = "CANARY-PROGRESS-TITLE-0b7d"
REASON_CANARY = "CANARY-PROGRESS-REASON-3c2a"
APPLICANT = cases.Applicant("https://idp.example.test", "sub-rep", "王法人")


@pytest.fixture
def world(make_org, make_record, reindex):
    org = make_org(name="长沙市雨花区康宁诊所", category="clinic")
    rec = make_record(org, title=f"超范围执业被处罚 {TITLE_CANARY}", decided_on=date(2026, 10, 9))
    reindex()
    return org, rec


def _file(ctx, org, rec):
    return cases.file_objection(ctx, org, rec, ground="fact_error", statement=f"执业范围有误 {STATEMENT_CANARY}",
                                applicant=APPLICANT, commitment=True, identity_confirmed=True)


def _ask(client, case_no, code):
    resp = client.post("/progress", data={"case_no": case_no, "code": code})
    return resp, BeautifulSoup(resp.get_data(as_text=True), "html.parser")


def _no_secrets(resp, *extra):
    body = resp.get_data(as_text=True)
    for canary in (STATEMENT_CANARY, TITLE_CANARY, REASON_CANARY, APPLICANT.name, "长沙市雨花区康宁诊所", *extra):
        assert canary not in body


def test_code_is_issued_hashed_and_answers_labels_only(ctx, session, client, world):
    org, rec = world
    case = _file(ctx, org, rec)
    code = case.lookup_code
    session.commit()
    assert len(lookup_code.normalise_code(code)) == lookup_code.CODE_LENGTH
    # only the hash is kept: the code is in no column of the case, its events or the inbox
    session.expire_all()
    stored = session.get(Case, case.id)
    assert stored.lookup_code_hash and len(stored.lookup_code_hash) == 64
    rows = [stored, *session.execute(select(CaseEvent)).scalars(), *session.execute(select(Notification)).scalars()]
    for row in rows:
        values = [getattr(row, c.key) for c in row.__table__.columns]
        assert not any(progress.normalise_code(code) in progress.normalise_code(str(v)) for v in values)

    resp, soup = _ask(client, case.case_no, code.lower().replace("-", " "))  # typed loosely
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"].startswith("no-store")
    result = soup.select_one(".progress-result")
    assert result.select_one(".kind").get_text() == "异议"
    assert result.select_one(".received").get_text() == "2026-11-20"
    assert result.select_one(".step").get_text() == cases.machine_for(ctx.profile, "objection").step(stored.state).label
    assert result.select_one(".due").get_text().strip().startswith(stored.due_on.isoformat())
    _no_secrets(resp)

    # decided: the outcome's label and the day, never the written reasons
    role = cases.machine_for(ctx.profile, "objection").step(stored.state).actor
    cases.act(ctx, stored, "reject", role=role, reason=f"证据不足 {REASON_CANARY}")
    session.commit()
    resp, soup = _ask(client, case.case_no, code)
    assert resp.status_code == 200
    step = cases.machine_for(ctx.profile, "objection").step(stored.state)
    assert step.label in soup.select_one(".step").get_text()
    _no_secrets(resp)


def test_wrong_number_and_wrong_code_get_one_answer(ctx, session, client, world, make_record):
    org, rec = world
    case = _file(ctx, org, rec)
    other = _file(ctx, org, make_record(org, title="另一处罚", decided_on=date(2026, 10, 9)))
    session.commit()
    wrong = [
        (case.case_no, "AAAAA-AAAAA"),                    # right number, wrong code
        ("YY-2026-999999", case.lookup_code),             # no such number
        (other.case_no, case.lookup_code),                # another case's number with this code
        (case.case_no, ""),                               # no code at all
        ("' OR '1'='1", case.lookup_code),                # hostile
        (case.case_no, case.lookup_code[:-1]),            # one character short
    ]
    bodies = set()
    for number, code in wrong:
        resp, soup = _ask(client, number, code)
        assert resp.status_code == 404
        assert soup.select_one(".not-found").get_text() == progress.NOT_FOUND
        assert soup.select_one(".progress-result") is None
        bodies.add(resp.get_data())
    assert len(bodies) == 1  # byte for byte: nothing tells which part was wrong
    # each code opens only its own case
    assert _ask(client, other.case_no, other.lookup_code)[0].status_code == 200


def test_form_page_and_csrf(client):
    page = client.get("/progress")
    assert page.status_code == 200
    form = BeautifulSoup(page.get_data(as_text=True), "html.parser").select_one("form.progress-lookup")
    assert form["method"] == "post" and form.select_one("input[name=csrf_token]")
    assert client.post("/progress", data={"case_no": "YY-2026-000001", "code": "x"}, csrf=False).status_code == 400


def test_receipt_shows_the_code_once(client, session, login_as, world):
    org, rec = world
    login_as(client, Identity(iss=APPLICANT.iss, sub=APPLICANT.sub, name=APPLICANT.name, acr=ACR_FACE,
                              amr=("face",), legal_rep_of=org.code_hash))
    link = f"/me/subjects/{org.public_id}/records/{rec.lineage_id}/objection"
    resp = client.post(link, data={"ground": "fact_error", "statement": "执业范围记载有误", "commitment": "yes",
                                   "identity": "yes", "evidence": (io.BytesIO(blank_pdf()), "决定书.pdf")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    first = BeautifulSoup(client.get(resp.headers["Location"]).get_data(as_text=True), "html.parser")
    code = first.select_one(".lookup-code .code").get_text()
    case = session.execute(select(Case)).scalar_one()
    assert case.lookup_code_hash == lookup_code.code_hash(case.case_no, code)
    again = BeautifulSoup(client.get(resp.headers["Location"]).get_data(as_text=True), "html.parser")
    assert again.select_one(".lookup-code") is None  # shown once, cannot be read back
    anonymous = client.application.test_client()
    answer, soup = _ask(anonymous, case.case_no, code)
    assert answer.status_code == 200 and soup.select_one(".kind").get_text() == "异议"


def test_lookup_is_rate_limited(settings):
    from portal import create_app
    from portal.db.migrate import upgrade
    from tests.conftest import CsrfClient

    app = create_app({**settings, "PORTAL_RATELIMIT_LOGIN": "3/minute"})
    app.config["TESTING"] = True
    app.test_client_class = CsrfClient
    upgrade(app.extensions["portal"].engine)
    try:
        client = app.test_client()
        codes = [client.post("/progress", data={"case_no": "YY-2026-000001", "code": f"C{i}"}).status_code
                 for i in range(4)]
        assert codes == [404, 404, 404, 429]
        assert client.get("/progress").status_code == 200  # the form itself stays reachable
    finally:
        app.extensions["portal"].close()


def test_clock_stop_shows_no_reason_and_withdrawal_its_label(ctx, session, client, world):
    org, rec = world
    case = _file(ctx, org, rec)
    code = case.lookup_code
    cases.stop_clock(ctx, case, role="department", reason="专家评审", first=date(2026, 11, 23))
    session.commit()
    resp, soup = _ask(client, case.case_no, code)
    assert resp.status_code == 200 and "中止计算" in soup.select_one(".due").get_text()
    _no_secrets(resp, "专家评审")  # why the clock stopped is the case's, not the public's
    cases.resume_clock(ctx, case, role="department", on=date(2026, 11, 26))
    cases.withdraw_case(ctx, case, APPLICANT, f"不再申请 {REASON_CANARY}")
    session.commit()
    resp, soup = _ask(client, case.case_no, code)
    assert soup.select_one(".outcome").get_text().startswith("申请人已撤回")
    _no_secrets(resp)
