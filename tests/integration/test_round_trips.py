"""Statements per public page render on PostgreSQL (issue #17: "cold page renders in ≤ 2 round
trips"). Counted with SQLAlchemy's ``before_cursor_execute`` on the portal's engine (psycopg
also sends BEGIN before the first and ROLLBACK after the last, not counted here).

Measured, and recorded in README ("Round trips per page"): a cold facility page runs 7 SQL
statements, a cold scan page 5; a warm one (page cache, same public data version and day) none.
The target of 2 needs the page's reads folded into one statement (services.public_pages), which
is not done: this test pins today's figures so that they only go down, and checks that they do
not grow with the number of records, cases or grades (no query per row)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event

from portal.models import Grade
from portal.services import plates as plate_svc
from tests.conftest import TODAY

COLD_FACILITY = 7
COLD_SCAN = 5


@pytest.fixture
def statements(rt):
    seen: list[str] = []

    def listener(conn, cursor, statement, params, context, executemany):
        seen.append(statement)

    event.listen(rt.engine, "before_cursor_execute", listener)
    yield seen
    event.remove(rt.engine, "before_cursor_execute", listener)


def _count(client, statements, url: str) -> int:
    statements.clear()
    resp = client.get(url)
    assert resp.status_code == 200
    return len(statements)


@pytest.mark.parametrize("settings", ["postgresql"], indirect=True)
def test_statements_per_cold_and_warm_render(app, client, ctx, session, make_org, make_record, reindex, statements):
    org = make_org(name="洞庭湖区康复医院", category="hospital", region_code="430602")
    make_record(org, title="未按规定公示收费标准")
    session.add(Grade(subject_id=org.id, year=TODAY.year - 1, letter="B", score=85, explanation=[], profile_id="hunan"))
    plate = plate_svc.issue_plate(ctx, org)
    reindex()
    facility, scan = f"/facility/{org.public_id}", f"/p/{plate.token}"

    cold = {"facility": _count(client, statements, facility), "scan": _count(client, statements, scan)}
    assert cold["facility"] <= COLD_FACILITY and cold["scan"] <= COLD_SCAN, cold
    assert _count(client, statements, facility) == 0  # warm: the page cache, no statement
    assert _count(client, statements, scan) == 0

    for n in range(6):  # more rows of every kind the pages list: the count stays the same
        make_record(org, title=f"第{n}次监督检查发现问题", record_type="penalty", decided_on=date(2026, 3, n + 1))
    session.add(Grade(subject_id=org.id, year=TODAY.year - 2, letter="A", score=95, explanation=[], profile_id="hunan"))
    reindex()  # a change: the next render is cold again
    again = {"facility": _count(client, statements, facility), "scan": _count(client, statements, scan)}
    assert again == cold
