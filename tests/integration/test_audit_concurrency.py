"""The audit chain stays one chain under parallel writers (issue 12: it forked), on SQLite and
PostgreSQL; repeated failures write bounded rows and every one is still accounted for."""
from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent
from portal.services.audit import record_event, verify_chain
from portal.services.audit_rollup import failure_total, flush_closed, record_repeated

WRITERS = 8


def _parallel(n: int, work) -> None:
    """Run ``work(i)`` in ``n`` threads started together; re-raise the first error."""
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            work(i)
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def _assert_one_chain(session, expected_events: int) -> None:
    session.expire_all()
    prevs = list(session.execute(select(AuditEvent.prev_hash)).scalars())
    assert len(prevs) == expected_events
    forks = [h for h, n in Counter(prevs).items() if n > 1]
    assert forks == []
    assert verify_chain(session) == []


def test_parallel_sessions_append_one_chain(rt, session):
    per_writer = 25

    def work(i: int) -> None:
        with rt.sessions() as s:
            for n in range(per_writer):
                s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()  # a read first, as requests do
                record_event(s, f"test:writer{i}", "test.parallel", detail={"writer": i, "n": n})
                s.commit()

    _parallel(WRITERS, work)
    _assert_one_chain(session, WRITERS * per_writer)


def test_parallel_transactions_with_several_events_each(rt, session):
    """A transaction may append several events; another writer's events never land between them."""
    def work(i: int) -> None:
        with rt.sessions() as s:
            for n in range(10):
                for part in range(3):
                    record_event(s, f"test:writer{i}", "test.batch", detail={"txn": n, "part": part})
                s.commit()

    _parallel(WRITERS, work)
    _assert_one_chain(session, WRITERS * 30)
    rows = session.execute(select(AuditEvent.actor, AuditEvent.detail).order_by(AuditEvent.id)).all()
    for k in range(0, len(rows), 3):  # each transaction's three events are adjacent
        assert len({(a, d["txn"]) for a, d in rows[k:k + 3]}) == 1


def test_parallel_failed_callbacks_over_http(app, session):
    """200 failed OIDC callbacks from 8 threads (each its own client, every request from its own
    address so none is aggregated away): 200 events, one chain."""
    per_writer = 25

    def work(i: int) -> None:
        client = app.test_client()
        for n in range(per_writer):
            response = client.get("/auth/callback", query_string={"state": f"forged{n}", "code": "x"},
                                  environ_base={"REMOTE_ADDR": f"10.0.{i}.{n}"})
            assert response.status_code in (400, 401), response.status_code

    _parallel(WRITERS, work)
    _assert_one_chain(session, WRITERS * per_writer)
    assert session.execute(select(func.count()).where(AuditEvent.action == "auth.failed")).scalar_one() == 200


def test_repeated_failed_callbacks_write_bounded_rows(app, session):
    """200 failures from one address, 8 at a time: the first is an event with its reason, the
    rest are counted; once the minute is summarised the chain accounts for all 200."""
    def work(i: int) -> None:
        client = app.test_client()
        for _n in range(25):
            response = client.get("/auth/callback", query_string={"state": "forged", "code": "x"},
                                  environ_base={"REMOTE_ADDR": "203.0.113.9"})
            assert response.status_code in (400, 401), response.status_code

    _parallel(WRITERS, work)
    first = session.execute(select(AuditEvent).where(AuditEvent.action == "auth.failed")).scalars().all()
    assert 1 <= len(first) <= 3  # one per minute the 200 requests touched
    assert first[0].detail["reason"] == "state_mismatch"
    flush_closed(session, before=datetime.max)
    session.commit()
    assert failure_total(session, "auth.failed") == 200
    rows = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    assert rows <= 6
    assert verify_chain(session) == []


def test_failures_aggregate_per_source_and_minute(rt, session):
    t0 = datetime(2026, 11, 20, 8, 0, 5)
    for n in range(80):  # 55 in the minute 08:00, 25 in 08:01
        record_repeated(session, "anonymous", "auth.failed", source="198.51.100.1|state_mismatch",
                        detail={"reason": "state_mismatch"}, now=t0 + timedelta(seconds=n))
    record_repeated(session, "anonymous", "auth.failed", source="198.51.100.2|state_mismatch",
                    detail={"reason": "state_mismatch"}, now=t0 + timedelta(seconds=80))
    session.commit()
    rows = session.execute(select(AuditEvent.action, AuditEvent.detail).order_by(AuditEvent.id)).all()
    # the first failure of 08:01 closes 08:00: its 54 repeats become one summary event first
    assert [a for a, _ in rows] == ["auth.failed", "auth.failed.repeated", "auth.failed", "auth.failed"]
    assert rows[1].detail["more"] == 54 and rows[1].detail["window"] == "2026-11-20T08:00"
    assert rows[0].detail["window"] == "2026-11-20T08:00" and rows[2].detail["window"] == "2026-11-20T08:01"
    assert flush_closed(session, before=datetime(2026, 11, 20, 8, 2)) == 1  # 08:01: 24 repeats; 1 alone: none
    session.commit()
    assert failure_total(session, "auth.failed") == 81
    assert verify_chain(session) == []


def test_events_of_a_rolled_back_savepoint_are_dropped(rt, session):
    with session.begin_nested():
        record_event(session, "test", "kept.before")
    nested = session.begin_nested()
    record_event(session, "test", "dropped")
    nested.rollback()
    record_event(session, "test", "kept.after")
    session.commit()
    session.rollback()
    record_event(session, "test", "dropped.with.transaction")
    session.rollback()
    actions = list(session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars())
    assert actions == ["kept.before", "kept.after"]
    assert verify_chain(session) == []


def test_reading_the_audit_table_sees_the_transactions_own_events(rt, session):
    record_event(session, "test", "mine")
    assert session.execute(select(func.count()).where(AuditEvent.action == "mine")).scalar_one() == 1
    record_event(session, "test", "mine")
    session.commit()
    assert session.execute(select(func.count()).where(AuditEvent.action == "mine")).scalar_one() == 2
    assert verify_chain(session) == []


@pytest.mark.parametrize("settings", ["postgresql"], indirect=True)
def test_an_open_transaction_does_not_hold_up_other_audit_events(rt, session):
    """The head is locked at commit only: a long transaction that already recorded an event (a
    batch issuing plates, say) does not make every other request's event wait for it."""
    from sqlalchemy import text

    record_event(session, "test:long", "long.running")  # open, not committed
    with rt.sessions() as other:
        other.execute(text("SET lock_timeout = '5s'"))  # waiting on the long one would fail here
        record_event(other, "test:short", "short")
        other.commit()
    session.commit()
    actors = list(session.execute(select(AuditEvent.actor).order_by(AuditEvent.id)).scalars())
    assert actors == ["test:short", "test:long"]  # chain order is commit order
    assert verify_chain(session) == []


def test_failed_staff_logins_with_made_up_names_share_one_counter(ctx, session):
    """Anyone can vary the user name: unknown names must not buy a row each."""
    from portal.services import staff as staff_svc
    from portal.services.errors import ServiceError

    now = datetime(2026, 11, 20, 9, 0, 1)
    for n in range(20):
        with pytest.raises(ServiceError):
            staff_svc.authenticate(ctx, f"nobody{n}", "guess", "000000", now=now + timedelta(seconds=n))
    session.commit()
    events = session.execute(select(AuditEvent).where(AuditEvent.action == "staff.login_failed")).scalars().all()
    assert len(events) == 1 and events[0].detail["username"] == "nobody0"
    flush_closed(session, before=now + timedelta(minutes=1))
    session.commit()
    assert failure_total(session, "staff.login_failed") == 20
