"""Parallel filings get distinct case numbers and no error, on SQLite and PostgreSQL (issue 12):
the number is the maximum plus one, and the unique constraint makes a loser retry in a savepoint."""
from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlalchemy import select

from portal.identity import ACR_FACE, Identity
from portal.models import Case, CreditRecord, Subject
from portal.services import cases
from portal.services.audit import verify_chain

from .pdf_tools import blank_pdf
from .test_audit_concurrency import WRITERS, _parallel

APPLICANT = cases.Applicant("https://idp.example.test", "sub-rep", "王法人")


@pytest.fixture
def org_with_records(make_org, make_record, reindex):
    org = make_org(name="长沙市雨花区康宁诊所", category="clinic")
    records = [make_record(org, title=f"第{n}项处罚", decided_on=date(2026, 10, 9)) for n in range(2 * WRITERS)]
    reindex()
    return org, records


def _numbers(session) -> list[str]:
    session.expire_all()
    return sorted(session.execute(select(Case.case_no)).scalars())


def test_parallel_filings_through_the_service(rt, session, org_with_records):
    org, records = org_with_records

    def work(i: int) -> None:
        with rt.sessions() as s:
            ctx = rt.context(s, f"test:filer{i}")
            subject = s.get(Subject, org.id)
            for record_id in (records[2 * i].id, records[2 * i + 1].id):
                cases.file_objection(ctx, subject, s.get(CreditRecord, record_id), ground="fact_error",
                                     statement="处罚决定书记载有误", applicant=APPLICANT, commitment=True,
                                     identity_confirmed=True)
                s.commit()

    _parallel(WRITERS, work)
    assert _numbers(session) == [f"YY-2026-{n:06d}" for n in range(1, 2 * WRITERS + 1)]
    assert verify_chain(session) == []


def test_parallel_filings_over_http(app, session, login_as, org_with_records):
    """Eight people's representatives file at the same moment, each its own browser (client)."""
    org, records = org_with_records
    identity = Identity(iss=APPLICANT.iss, sub=APPLICANT.sub, name=APPLICANT.name, acr=ACR_FACE, amr=("face",),
                        legal_rep_of=org.code_hash)
    pdf = blank_pdf()  # a real PDF: uploads are parsed and checked for active content
    statuses: list[int] = []

    def work(i: int) -> None:
        from tests.conftest import CsrfClient

        app.test_client_class = CsrfClient
        client = app.test_client()
        login_as(client, identity)
        url = f"/me/subjects/{org.public_id}/records/{records[i].lineage_id}/objection"
        resp = client.post(url, data={"ground": "fact_error", "statement": "执业范围记载有误", "commitment": "yes",
                                      "identity": "yes", "evidence": (io.BytesIO(pdf), f"决定书{i}.pdf")},
                           content_type="multipart/form-data")
        statuses.append(resp.status_code)
        assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
        assert re.search(r"/cases/", resp.headers["Location"])

    _parallel(WRITERS, work)
    assert statuses == [302] * WRITERS
    assert _numbers(session) == [f"YY-2026-{n:06d}" for n in range(1, WRITERS + 1)]
    assert verify_chain(session) == []
