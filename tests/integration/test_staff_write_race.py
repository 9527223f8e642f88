"""A staff request that passed its session check before an administrator disabled the account
(or before its login was ended) cannot still finish its write (海南 第五十一条; 湖南 第三十三条):
every write of a staff caller re-checks the account and the login inside its own transaction
(``services.staff_guard``, attached by ``ServiceContext``), so it is refused with nothing kept; a
disable that comes while such a write is in progress waits for it on the account's row lock."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, text

from portal.models import AuditEvent, StaffUser, WebSession
from portal.services import staff_accounts as accounts
from portal.services.errors import ServiceError
from portal.services.staff_desk import staff_account
from portal.services.staff_guard import ENDED


def _request_of(rt, staff_id: int, web_session: str = ""):
    """A staff request in its own database session, past its session check (``staff_account``)."""
    s = rt.sessions()
    user = staff_account(s, staff_id)
    assert user is not None
    return s, rt.context(s, f"staff:{user.username}", caller=user, web_session=web_session)


def _usernames(rt) -> set[str]:
    with rt.sessions() as s:
        return set(s.execute(select(StaffUser.username)).scalars())


def test_a_write_after_the_disable_committed_is_refused(rt, session, make_staff):
    boss, second = make_staff("admin.one", "admin"), make_staff("admin.two", "admin")
    session.commit()
    s, ctx = _request_of(rt, second.user.id)
    try:
        # meanwhile, in another session: the boss disables admin.two
        accounts.set_active(rt.context(session, "staff:admin.one", caller=boss.user), second.user, False)
        session.commit()
        with pytest.raises(ServiceError) as refused:
            accounts.create_account(ctx, "op.sneaky", ["operator"])
            s.flush()
        assert refused.value.message == ENDED and refused.value.status == 401
        s.rollback()
    finally:
        s.close()
    assert "op.sneaky" not in _usernames(rt)


def test_a_write_after_the_login_ended_is_refused(rt, session, make_staff):
    boss = make_staff("admin.one", "admin")
    session.add(WebSession(id="f" * 64, data={"staff_id": None}))
    session.commit()
    login = session.get(WebSession, "f" * 64)
    login.data = {"staff_id": boss.user.id}
    session.commit()
    s, ctx = _request_of(rt, boss.user.id, web_session="f" * 64)
    try:
        accounts.create_account(ctx, "op.first", ["operator"])  # the login exists: allowed
        s.commit()
        session.delete(session.get(WebSession, "f" * 64))  # logged out / ended elsewhere
        session.commit()
        with pytest.raises(ServiceError):
            accounts.create_account(ctx, "op.second", ["operator"])
            s.flush()
        s.rollback()
    finally:
        s.close()
    assert {"op.first"} <= _usernames(rt) and "op.second" not in _usernames(rt)


def _waiting_on_a_lock(rt, pid: int) -> bool:
    with rt.engine.connect() as conn:
        return conn.execute(text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"),
                            {"pid": pid}).scalar() == "Lock"


def test_a_disable_waits_for_the_write_in_progress(rt, session, make_staff):
    """Two sessions on PostgreSQL: admin.two's write has passed its re-check (its account row is
    locked); the boss's disable in another thread waits until that write commits, then goes
    through — so the write is ordered before the disable, never interleaved with it."""
    if rt.engine.dialect.name != "postgresql":  # the postgresql variant runs it (require_postgres)
        pytest.skip("row locks: the PostgreSQL variant of this test; SQLite has one writer at a time")
    boss, second = make_staff("admin.one", "admin"), make_staff("admin.two", "admin")
    session.commit()
    s, ctx = _request_of(rt, second.user.id)
    other = rt.sessions()
    pid = other.execute(text("SELECT pg_backend_pid()")).scalar()
    errors: list[BaseException] = []

    def disable() -> None:
        try:
            target = other.get(StaffUser, second.user.id)
            admin = other.get(StaffUser, boss.user.id)
            accounts.set_active(rt.context(other, "staff:admin.one", caller=admin), target, False)
            other.commit()
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)

    try:
        accounts.create_account(ctx, "op.in_time", ["operator"])
        s.flush()  # the re-check ran and holds the account's row
        worker = threading.Thread(target=disable)
        worker.start()
        for _ in range(1000):  # until the disable blocks on the row (or, without the lock, has finished)
            if not worker.is_alive() or _waiting_on_a_lock(rt, pid):
                break
            time.sleep(0.01)
        assert worker.is_alive() and _waiting_on_a_lock(rt, pid)
        s.commit()
        worker.join(60)
        assert not worker.is_alive() and not errors
    finally:
        s.close()
        other.close()
    session.expire_all()
    assert "op.in_time" in _usernames(rt) and session.get(StaffUser, second.user.id).active is False
    order = [e.action for e in session.execute(select(AuditEvent).where(
        AuditEvent.action.in_(("staff.create", "staff.disable"))).order_by(AuditEvent.id)).scalars()]
    assert order[-2:] == ["staff.create", "staff.disable"]
