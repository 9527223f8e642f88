"""Staff login back-off (services.staff, domain.throttle): per address, per account, per pair;
one answer for real and unknown usernames; the owner is told. Times are injected (``now=``)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pyotp
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from portal.domain import throttle
from portal.models import AuditEvent, LoginThrottle, Notification
from portal.models.base import utcnow
from portal.services import staff as staff_svc
from portal.services.errors import ServiceError

PASSWORD = "correct horse battery"
NOW = datetime(2026, 11, 20, 2, 0, 0)
ATTACKER = "203.0.113.66"
OWNER = "198.51.100.20"


@pytest.fixture
def staff(ctx, session):
    user, uri = staff_svc.create_staff(ctx, "op.hunan", PASSWORD, ["operator"], display_name="平台 李工")
    session.commit()
    return user, pyotp.parse_uri(uri).secret


def attempt(ctx, username, password="wrong password!", *, at=NOW, client=ATTACKER, code="000000"):
    """(status, message with the numbers taken out) of one login attempt; ``None`` on success."""
    try:
        staff_svc.authenticate(ctx, username, password, code, now=at, client=client)
    except ServiceError as exc:
        return exc.status, re.sub(r"\d+", "N", exc.message)
    return None


def count(session, model, *where) -> int:
    return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def test_backoff_doubles_and_is_capped():
    pair = staff_svc.POLICIES["pair"]
    assert [throttle.backoff(n, pair).total_seconds() for n in range(3, 10)] == [0, 0, 1, 2, 4, 8, 16]
    assert throttle.backoff(40, pair) == pair.cap == timedelta(minutes=15)
    assert throttle.counted(7, NOW - timedelta(minutes=59), NOW) == 7
    assert throttle.counted(7, NOW - timedelta(minutes=61), NOW) == 0
    assert throttle.wait_text(timedelta(seconds=0.2)) == "1 秒" and throttle.wait_text(timedelta(seconds=61)) == "2 分钟"


def test_one_attacker_cannot_keep_the_owner_out(ctx, session, staff):
    """The attacker's address waits longer each time; the owner, from elsewhere, logs in."""
    user, secret = staff
    for _ in range(5):
        assert attempt(ctx, "op.hunan")[0] == 401
    waits = []
    at = NOW
    for _ in range(4):
        assert attempt(ctx, "op.hunan", at=at)[0] == 429  # refused unchecked while the wait runs
        session.flush()
        row = session.execute(select(LoginThrottle).where(LoginThrottle.key.like("pair:%"))).scalar_one()
        at = row.blocked_until  # the earliest moment the next attempt is checked
        assert attempt(ctx, "op.hunan", at=at)[0] == 401
        session.flush()
        waits.append((row.blocked_until - at).total_seconds())
    assert waits == [2, 4, 8, 16]
    good = at + timedelta(seconds=1)
    assert staff_svc.authenticate(ctx, "op.hunan", PASSWORD, pyotp.TOTP(secret).at(good), now=good, client=OWNER)


def test_locked_and_unknown_accounts_get_the_same_answers(ctx, session, staff):
    """The sequence of answers depends on the attempts only, never on whether the name exists."""
    real = [attempt(ctx, "op.hunan", client="192.0.2.1", at=NOW + timedelta(seconds=i // 2)) for i in range(14)]
    ghost = [attempt(ctx, "op.nobody", client="192.0.2.2", at=NOW + timedelta(seconds=i // 2)) for i in range(14)]
    assert real == ghost
    assert {status for status, _ in real} == {401, 429}
    assert (429, "登录尝试过于频繁，请 N 秒后再试") in real


def test_blocked_attempts_cost_no_hash_and_no_audit_row(ctx, session, staff):
    for _ in range(5):
        attempt(ctx, "op.hunan")
    failed = count(session, AuditEvent, AuditEvent.action == "staff.login_failed")
    for _ in range(30):
        assert attempt(ctx, "op.hunan")[0] == 429
    session.flush()
    assert count(session, AuditEvent, AuditEvent.action == "staff.login_failed") == failed
    refused = session.execute(select(LoginThrottle.refused).where(LoginThrottle.key.like("pair:%"))).scalar_one()
    assert refused == 30


def test_one_address_spraying_many_accounts_waits(ctx, session, staff):
    user, secret = staff
    for i in range(10):
        assert attempt(ctx, f"user.{i:02d}")[0] == 401  # ten names, ten free failures for the address
    assert attempt(ctx, "user.99")[0] == 429
    # the real owner elsewhere is not affected
    assert staff_svc.authenticate(ctx, "op.hunan", PASSWORD, pyotp.TOTP(secret).at(NOW), now=NOW, client=OWNER)


def test_many_addresses_against_one_account_wait_at_most_five_minutes(ctx, session, staff):
    for i in range(20):
        assert attempt(ctx, "op.hunan", client=f"10.9.0.{i}")[0] == 401
    assert attempt(ctx, "op.hunan", client=OWNER)[0] == 429  # distributed guessing slows everyone
    waits = []
    for i in range(20, 35):  # each new address tries as soon as the account's wait is over
        row = session.execute(select(LoginThrottle).where(LoginThrottle.key.like("account:%"))).scalar_one()
        assert attempt(ctx, "op.hunan", client=f"10.9.0.{i}", at=row.blocked_until)[0] == 401
        session.flush()
        waits.append(row.blocked_until - row.last_failure_at)
    assert max(waits) == timedelta(minutes=5) and waits[-1] == timedelta(minutes=5)


def test_nothing_identifying_is_stored_in_clear(ctx, session, staff):
    attempt(ctx, "op.hunan", client=ATTACKER)
    session.flush()
    keys = " ".join(session.execute(select(LoginThrottle.key)).scalars())
    assert "op.hunan" not in keys and ATTACKER not in keys
    assert {k.split(":")[0] for k in keys.split()} == {"account", "ip", "pair"}


def test_owner_is_notified_when_attacked_and_at_next_login(ctx, session, staff):
    user, secret = staff
    for i in range(6):
        attempt(ctx, "op.hunan", client=f"10.8.0.{i}")
    session.flush()
    notes = session.execute(select(Notification.text).where(Notification.staff_id == user.id)).scalars().all()
    assert len(notes) == 1 and "连续 5 次登录失败" in notes[0]
    assert count(session, AuditEvent, AuditEvent.action == "staff.login_owner_notified") == 1
    later = NOW + timedelta(minutes=2)
    staff_svc.authenticate(ctx, "op.hunan", PASSWORD, pyotp.TOTP(secret).at(later), now=later, client=OWNER)
    session.flush()
    notes = session.execute(select(Notification.text).where(Notification.staff_id == user.id)
                            .order_by(Notification.id)).scalars().all()
    assert len(notes) == 2 and "6 次失败的登录尝试" in notes[1]
    # a clean login adds nothing
    again = later + timedelta(minutes=1)
    staff_svc.authenticate(ctx, "op.hunan", PASSWORD, pyotp.TOTP(secret).at(again), now=again, client=OWNER)
    assert count(session, Notification, Notification.staff_id == user.id) == 2


def test_web_answers_alike_and_the_owner_sees_the_notice(client, ctx, session, staff):
    user, secret = staff
    # put both names well into back-off from the test client's address (127.0.0.1)
    now = utcnow()
    for name in ("op.hunan", "op.nobody"):
        for i in range(9):  # a minute apart: each attempt is checked, and the waits grow
            attempt(ctx, name, client="127.0.0.1", at=now + timedelta(minutes=i))
    session.commit()
    answers = []
    for name in ("op.hunan", "op.nobody"):
        response = client.post("/staff/login", data={"username": name, "password": "x" * 12, "code": "000000"})
        banner = BeautifulSoup(response.get_data(as_text=True), "html.parser").select_one(".banner.bad")
        answers.append((response.status_code, re.sub(r"\d+", "N", banner.get_text(strip=True))))
        assert int(response.headers["Retry-After"]) >= 1
    assert answers[0] == answers[1] and answers[0][0] == 429
    # the owner, from another address, logs in and finds the notice in the queue page
    owner = client.application.test_client()
    owner.environ_base["REMOTE_ADDR"] = OWNER
    response = owner.post("/staff/login",
                          data={"username": "op.hunan", "password": PASSWORD, "code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    page = owner.get("/staff/objections").get_data(as_text=True)
    assert "次失败的登录尝试" in page and "连续 5 次登录失败" in page


def test_parallel_failures_are_all_counted(rt, staff):
    """Eight failures at once on fresh keys (one address, one name): no primary-key clash, no
    lost count; the counter rows are locked in key order (no deadlock). The counting step is
    called directly so that the password hash does not spread the threads apart."""
    import threading

    if not rt.settings["DATABASE_URL"].startswith("postgresql"):
        pytest.skip("parallel writers are the PostgreSQL case; SQLite serialises the whole database")
    results, barrier = [], threading.Barrier(8)

    def one():
        session = rt.sessions()
        try:
            ctx = rt.context(session, "staff-login")
            keys = staff_svc._keys(ctx, "op.parallel", "192.0.2.77")
            barrier.wait(10)
            staff_svc._count_failure(ctx, keys, NOW)
            session.commit()
            results.append("ok")
        except Exception as exc:  # noqa: BLE001 - any error is the failure this test looks for
            results.append(repr(exc)[:200])
            session.rollback()
        finally:
            session.close()

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == ["ok"] * 8, results
    with rt.sessions() as s:
        rows = s.execute(select(LoginThrottle)).scalars().all()
        assert len(rows) == 3 and all(row.failures == 8 for row in rows), [(r.key[:8], r.failures) for r in rows]
