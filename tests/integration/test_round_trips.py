"""Round trips to the database per public page render (issue #17: "cold page renders in ≤ 2
round trips").

On PostgreSQL every round trip psycopg makes is observed on the wire: libpq's protocol trace
(``pgconn.trace``) of every connection the portal's engine checks out during the request, where
each round trip ends with the server's ReadyForQuery; the trace also shows any transaction
command (BEGIN, COMMIT, ROLLBACK) psycopg sends, which SQLAlchemy's ``before_cursor_execute``
does not see. The statements are counted with ``before_cursor_execute`` too (both databases).

Measured, and recorded in README ("Round trips per page"): a cold facility or scan page is the
page cache's version check plus the page's one statement (``services.public_page_read``), both
outside a transaction on PostgreSQL: 2 round trips, no BEGIN, no ROLLBACK. A warm one (same
public data version and day) makes none. The figures do not grow with the number of records,
cases or grades (no query per row)."""
from __future__ import annotations

import tempfile
import threading
from datetime import date

import pytest
from sqlalchemy import event

from portal.models import Grade
from portal.services import cases as case_svc
from portal.services import plates as plate_svc
from tests.conftest import TODAY

APPLICANT = case_svc.Applicant("https://idp.example.test", "sub-rep", "王法人", "legal_rep", "")
COLD = 2  # the version check + the page's one statement
WARM = 0


class Wire:
    """libpq's trace of every connection checked out while ``watching``: the messages psycopg
    exchanged with the server, whoever sent them (SQLAlchemy, psycopg's own BEGIN / ROLLBACK)."""

    def __init__(self, engine):
        self.engine = engine
        self.file = tempfile.TemporaryFile(mode="w+")
        self.watching = False
        self.thread = threading.get_ident()
        event.listen(engine, "checkout", self._checkout)
        event.listen(engine, "checkin", self._checkin)

    def _checkout(self, dbapi_conn, record, proxy):
        if self.watching and threading.get_ident() == self.thread:  # the request's, not a flush thread's
            from psycopg import pq

            dbapi_conn.pgconn.trace(self.file.fileno())
            dbapi_conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
            record.info["traced"] = True

    def _checkin(self, dbapi_conn, record):
        if record.info.pop("traced", False) and dbapi_conn is not None:
            dbapi_conn.pgconn.untrace()

    def lines(self) -> list[str]:
        self.file.flush()
        self.file.seek(0)
        return self.file.read().splitlines()

    def clear(self) -> None:
        self.file.seek(0)
        self.file.truncate()

    def close(self) -> None:
        event.remove(self.engine, "checkout", self._checkout)
        event.remove(self.engine, "checkin", self._checkin)
        self.file.close()


@pytest.fixture
def wire(rt):
    w = Wire(rt.engine)
    yield w
    w.close()


@pytest.fixture
def clock(app):
    """The page cache's clock, moved by hand: ``due()`` makes the next request's version check
    due (a cold render pays for it; without it a render within a second of the last check would
    not), so the figures do not depend on how fast the machine is."""
    from portal.web.page_cache import CHECK_SECONDS

    cache = app.extensions["portal.page_cache"]
    now = [1000.0]
    cache.clock = lambda: now[0]

    def due():
        now[0] += CHECK_SECONDS

    return due


def _render(client, statements, wire, url: str) -> dict:
    """One request: its statements, its round trips (ReadyForQuery from the server) and the
    transaction commands sent on the wire."""
    statements.clear()
    wire.clear()
    wire.watching = True
    try:
        resp = client.get(url)
    finally:
        wire.watching = False
    assert resp.status_code == 200
    lines = wire.lines()
    sent = [line for line in lines if line.split("\t")[0] == "F"]
    commands = [line for line in sent if "\tQuery\t" in line]  # the simple protocol: BEGIN, ROLLBACK …
    return {"statements": len(statements),
            "round_trips": sum(1 for line in lines if line.split("\t")[0] == "B" and "\tReadyForQuery\t" in line),
            "transaction_commands": [line.split("\t")[-1] for line in commands
                                     if any(w in line.upper() for w in ("BEGIN", "COMMIT", "ROLLBACK"))]}


def _statements(client, statements, url: str) -> int:
    statements.clear()
    assert client.get(url).status_code == 200
    return len(statements)


def _pages(ctx, session, make_org, make_record, reindex):
    org = make_org(name="洞庭湖区康复医院", category="hospital", region_code="430602")
    make_record(org, title="未按规定公示收费标准")
    session.add(Grade(subject_id=org.id, year=TODAY.year - 1, letter="B", score=85, explanation=[], profile_id="hunan"))
    plate = plate_svc.issue_plate(ctx, org)
    reindex()
    return org, f"/facility/{org.public_id}", f"/p/{plate.token}"


def _more_rows(ctx, session, org, make_record, reindex):
    """More rows of every kind the pages list (records, an open case, grades)."""
    records = [make_record(org, title=f"第{n}次监督检查发现问题", record_type="penalty", decided_on=date(2026, 3, n + 1))
               for n in range(6)]
    session.add(Grade(subject_id=org.id, year=TODAY.year - 2, letter="A", score=95, explanation=[], profile_id="hunan"))
    case_svc.file_objection(ctx, org, records[0], ground="fact_error", statement="处罚事实认定有误",
                            applicant=APPLICANT, commitment=True, identity_confirmed=True)
    session.commit()
    reindex()  # a change: the next render is cold again


@pytest.mark.parametrize("settings", ["postgresql"], indirect=True)
def test_round_trips_per_cold_and_warm_render(app, client, ctx, session, make_org, make_record, reindex,
                                              statements, wire, clock):
    org, facility, scan = _pages(ctx, session, make_org, make_record, reindex)

    def cold_renders():
        out = {}
        for page, url in (("facility", facility), ("scan", scan)):
            clock()  # the version check is due: counted
            out[page] = _render(client, statements, wire, url)
        return out

    cold = cold_renders()
    for page, seen in cold.items():  # the version check + the page's statement, nothing else
        assert seen == {"statements": COLD, "round_trips": COLD, "transaction_commands": []}, (page, seen)
    warm = {"facility": _render(client, statements, wire, facility), "scan": _render(client, statements, wire, scan)}
    assert all(seen == {"statements": WARM, "round_trips": WARM, "transaction_commands": []}
               for seen in warm.values()), warm

    _more_rows(ctx, session, org, make_record, reindex)
    assert cold_renders() == cold  # the same figures with more rows


def test_statements_per_render(app, client, ctx, session, make_org, make_record, reindex, statements, clock):
    """The statements alone, on every database the suite runs (SQLite too): the version check and
    one statement per cold page, none warm, and no growth with rows."""
    org, facility, scan = _pages(ctx, session, make_org, make_record, reindex)

    def cold_renders():
        out = {}
        for page, url in (("facility", facility), ("scan", scan)):
            clock()
            out[page] = _statements(client, statements, url)
        return out

    cold = cold_renders()
    assert cold == {"facility": COLD, "scan": COLD}, cold
    read = statements[-1]  # the scan page's one statement: never the ID number or a grade's explanation
    assert "subjects.public_stamp" in read and "code_cipher" not in read and "explanation" not in read
    assert _statements(client, statements, facility) == WARM
    assert _statements(client, statements, scan) == WARM
    _more_rows(ctx, session, org, make_record, reindex)
    assert cold_renders() == cold
    page = client.get(facility).get_data(as_text=True)  # the rows did reach the page (one statement)
    assert "第5次监督检查发现问题" in page and case_svc.MARKERS[case_svc.OBJECTION] in page


@pytest.mark.parametrize("settings", ["postgresql"], indirect=True)
def test_wire_trace_sees_transaction_commands(rt):
    """The observer is real: a read inside an ordinary transaction shows psycopg's BEGIN and its
    ROLLBACK on the wire, where ``before_cursor_execute`` sees one statement."""
    w = Wire(rt.engine)
    try:
        w.watching = True
        with rt.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        w.watching = False
        text = "\n".join(w.lines()).upper()
        assert "BEGIN" in text and "ROLLBACK" in text, text
    finally:
        w.close()



def test_an_ungraded_subjects_page_costs_the_same(app, client, make_org, make_record, reindex, statements, clock):
    """No grade in force: why (an excluded period, 湖南 第十八条) is read in the same statement,
    not by extra queries."""
    org = make_org(name="岳麓区未评级诊所", category="clinic", region_code="430104")
    make_record(org, title="未按规定公示收费标准")
    reindex()
    clock()
    assert _statements(client, statements, f"/facility/{org.public_id}") == COLD


def _reads_of_subjects(statements) -> int:
    return sum(1 for s in statements if "FROM subjects" in s)


def test_chat_and_public_report_read_the_facility_in_the_pages_one_statement(app, client, rt, ctx, session, make_org,
                                                                             make_record, reindex, statements):
    """The chatbot's facility details and the public report read the facility page's one
    statement, no subject loaded before it (they did: the subject first, and the report its
    version and stamp in two more reads: a repeated report was 6 statements, a download by
    number 4). A download by number is that statement and the report's own: 2, and on
    PostgreSQL 2 round trips, no BEGIN / ROLLBACK, like a cold facility page."""
    from .test_chat import Chat

    _org, facility, _scan = _pages(ctx, session, make_org, make_record, reindex)
    statements.clear()
    assert "未按规定公示收费标准" in Chat(client).answer_text("洞庭湖区康复医院有什么处罚")
    assert _reads_of_subjects(statements) == 1
    resp = client.post(f"{facility}/report.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    statements.clear()
    again = client.post(f"{facility}/report.pdf")
    assert again.data == resp.data
    # the visitor's session (CSRF), the page's statement, the issued report of this version
    assert len(statements) == 3 and _reads_of_subjects(statements) == 1 and "web_sessions" in statements[0]
    plain = app.test_client()  # no session: a link to the report opened anywhere
    statements.clear()
    if rt.engine.dialect.name == "postgresql":
        wire = Wire(rt.engine)
        try:
            seen = _render(plain, statements, wire, resp.headers["Content-Location"])
        finally:
            wire.close()
        assert seen == {"statements": 2, "round_trips": 2, "transaction_commands": []}, seen
    else:
        assert _statements(plain, statements, resp.headers["Content-Location"]) == 2
    assert plain.get(resp.headers["Content-Location"]).data == resp.data
