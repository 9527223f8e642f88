"""Failures during a decision made on the staff pages (DESIGN.md "The index follows the database").

- The index write raising after the commit: the decision stands, the job stays queued with its
  error, and a later drain brings the index up to date.
- Anything raising inside the decision's transaction: nothing of it is kept (case, record,
  grade, timeline, audit, index jobs), and the page says so in Chinese.
"""
from __future__ import annotations

import dataclasses
import time
from datetime import date

import pyotp
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from portal.models import AuditEvent, Case, CaseEvent, CreditRecord, Grade, IndexJob
from portal.services import cases, indexing
from portal.services import staff as staff_svc
from portal.services.grading import compute_grades

PASSWORD = "correct horse battery"
APPLICANT = cases.Applicant("https://idp.example.test", "sub-rep", "王法人", "legal_rep", "")
ORG = "雨花区断电测试医院"
TITLE = "骗取医保基金列入严重失信名单"


@pytest.fixture
def in_notice(ctx, session, make_org, make_record, reindex):
    """A repair whose 5-WD public notice ended on 2026-11-19 (approved 11-12), decided on 11-20, the
    first day after it (湖南 第三十条（四）)."""
    org = make_org(name=ORG, category="hospital")
    rec = make_record(org, record_type="serious_list", title=TITLE, severity="serious", decided_on=date(2025, 6, 2),
                      publish_until=date(2027, 6, 1))
    compute_grades(ctx, 2025, [org.id])
    earlier = dataclasses.replace(ctx, today=date(2026, 11, 12))
    case = cases.apply_repair(earlier, org, rec, statement="已整改", applicant=APPLICANT, commitment=True,
                              identity_confirmed=True)
    cases.advance_repair(earlier, case, "approve", role="department")
    _, uri = staff_svc.create_staff(ctx, "dept.cs", PASSWORD, ["department"])
    reindex()
    assert case.earliest_on == date(2026, 11, 20)
    return org, rec, case, pyotp.parse_uri(uri).secret


def login(client, secret):
    code = pyotp.TOTP(secret).at(time.time())
    assert client.post("/staff/login", data={"username": "dept.cs", "password": PASSWORD, "code": code}).status_code == 302


def hits(client, q):
    soup = BeautifulSoup(client.get("/search", query_string={"q": q}).get_data(as_text=True), "html.parser")
    return [a.get_text() for a in soup.select(".hit-name")]


def counts(session):
    return {model.__name__: session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (CaseEvent, AuditEvent, IndexJob, Grade, CreditRecord)}


def test_index_down_after_the_commit(client, session, rt, monkeypatch, in_notice):
    org, rec, case, secret = in_notice
    login(client, secret)

    def down(docs):
        raise RuntimeError("index down")

    monkeypatch.setattr(rt.backend, "upsert", down)
    resp = client.post(f"/staff/cases/{case.case_no}/act", data={"action": "no_objection", "reason": "", "confirm": "yes"})
    assert resp.status_code == 302  # the decision is committed before the index is written
    session.expire_all()
    assert session.get(Case, case.id).state == "repaired"
    assert session.get(CreditRecord, rec.id).status == "repaired"
    pending = session.execute(select(IndexJob).where(IndexJob.done_at.is_(None))).scalars().all()
    assert pending and all("index down" in j.error and j.attempts >= 1 for j in pending)
    monkeypatch.undo()
    while indexing.drain(session, rt.backend, rt.today(), rt.profile):
        pass
    assert indexing.pending_count(session) == 0
    assert ORG not in hits(client, "骗取医保基金")


def test_failure_inside_the_decision_keeps_nothing(client, session, rt, monkeypatch, in_notice):
    org, rec, case, secret = in_notice
    before = counts(session)
    login(client, secret)
    before_login = counts(session)  # the login itself is audited

    def broken(ctx, subject_id):
        raise RuntimeError("grading table unreadable")

    monkeypatch.setattr(cases, "regrade", broken)
    resp = client.post(f"/staff/cases/{case.case_no}/act", data={"action": "no_objection", "reason": "", "confirm": "yes"})
    assert resp.status_code == 500 and "系统暂时无法处理" in resp.get_data(as_text=True)
    session.expire_all()
    fresh = session.get(Case, case.id)
    assert (fresh.state, fresh.closed_on, fresh.outcome) == ("notice", None, "")
    assert session.get(CreditRecord, rec.id).status == "active"
    assert counts(session) == before_login and before_login["IndexJob"] == before["IndexJob"]
    assert ORG in hits(client, "骗取医保基金")  # still published: nothing changed
    monkeypatch.undo()
    resp = client.post(f"/staff/cases/{case.case_no}/act", data={"action": "no_objection", "reason": "", "confirm": "yes"})
    assert resp.status_code == 302
    session.expire_all()
    assert session.get(Case, case.id).state == "repaired"
