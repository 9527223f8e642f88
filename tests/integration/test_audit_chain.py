"""The audit trail is append-only and hash-chained (海南 第五十一条; 湖南 第三十三条): altering or
removing one event is detected by ``credit-portal audit verify``; the ORM refuses to change one."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, text, update

from portal.db import AppendOnlyViolation
from portal.models import AuditEvent
from portal.services.audit import verify_chain

from .subject_world import build_world


@pytest.fixture
def world(rt, session, client, login_as):
    world = build_world(rt, session)
    # reads through the web add private.view events to the chain
    login_as(client, world.ids["legal_rep"])
    assert client.get(f"/me/subjects/{world.org.public_id}").status_code == 200
    login_as(client, world.ids["grantee_during"])
    assert client.get(f"/me/subjects/{world.org.public_id}").status_code == 200
    return world


def _ids(session) -> list[int]:
    return list(session.execute(select(AuditEvent.id).order_by(AuditEvent.id)).scalars())


def _cli_verify(settings, monkeypatch) -> tuple[int, str]:
    """``credit-portal audit verify`` on the test database; its engine is disposed afterwards."""
    from portal import cli

    made = []
    original = cli._runtime

    def tracked():
        made.append(original())
        return made[-1]

    monkeypatch.setattr(cli, "_runtime", tracked)
    try:
        result = CliRunner().invoke(cli.main, ["audit", "verify"], env={k: str(v) for k, v in settings.items()})
    finally:
        for rt in made:
            rt.engine.dispose()
    return result.exit_code, result.output


def test_intact_chain_verifies(world, session, settings, monkeypatch):
    assert len(_ids(session)) > 10
    actions = set(session.execute(select(AuditEvent.action)).scalars())
    assert {"record.add", "record.correct", "authorisation.grant", "authorisation.revoke", "private.view"} <= actions
    assert verify_chain(session) == []
    code, output = _cli_verify(settings, monkeypatch)
    assert code == 0 and "审计日志完整" in output


@pytest.mark.parametrize("column,value", [("purpose", "'改过的用途'"), ("actor", "'someone-else'"),
                                          ("detail", "'{}'"), ("subject_id", "NULL")])
def test_altered_event_is_detected(world, session, rt, settings, monkeypatch, column, value):
    victim = [e for e in session.execute(select(AuditEvent).where(AuditEvent.action == "private.view")).scalars()][0]
    with rt.engine.begin() as conn:  # raw SQL: what someone with database access could do
        conn.execute(text(f"UPDATE audit_events SET {column} = {value} WHERE id = :id"), {"id": victim.id})
    session.expire_all()
    problems = verify_chain(session)
    assert [p.event_id for p in problems] == [victim.id]
    assert "修改" in problems[0].message
    code, output = _cli_verify(settings, monkeypatch)
    assert code == 1 and f"事件 {victim.id}" in output


def test_rehashed_event_breaks_the_next_link(world, session, rt):
    """Altering an event *and* recomputing its own hash still breaks the link from the next one."""
    ids = _ids(session)
    victim_id = ids[len(ids) // 2]
    victim = session.get(AuditEvent, victim_id)
    session.expunge(victim)
    victim.purpose = "伪造"
    forged = victim.compute_hash()
    with rt.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET purpose = '伪造', hash = :h WHERE id = :id"),
                     {"h": forged, "id": victim_id})
    session.expire_all()
    problems = verify_chain(session)
    assert [p.event_id for p in problems] == [ids[ids.index(victim_id) + 1]]


def test_removed_event_is_detected(world, session, rt, settings, monkeypatch):
    ids = _ids(session)
    victim_id = ids[len(ids) // 2]
    with rt.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": victim_id})
    session.expire_all()
    problems = verify_chain(session)
    assert [p.event_id for p in problems] == [ids[ids.index(victim_id) + 1]]
    assert "缺失" in problems[0].message
    code, _ = _cli_verify(settings, monkeypatch)
    assert code == 1


def test_orm_refuses_update_and_delete(world, session):
    event = session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().first()
    event.purpose = "changed"
    with pytest.raises(AppendOnlyViolation):
        session.flush()
    session.rollback()
    session.delete(session.get(AuditEvent, event.id))
    with pytest.raises(AppendOnlyViolation):
        session.flush()
    session.rollback()
    with pytest.raises(AppendOnlyViolation):
        session.execute(update(AuditEvent).where(AuditEvent.id == event.id).values(purpose="bulk"))
    session.rollback()
    with pytest.raises(AppendOnlyViolation):
        session.execute(delete(AuditEvent).where(AuditEvent.id == event.id))
    session.rollback()
    assert verify_chain(session) == []


def test_no_code_path_writes_audit_rows_except_appending():
    """Static check of the package: nothing issues UPDATE / DELETE against the audit table."""
    root = Path(__file__).resolve().parents[2] / "portal"
    pattern = re.compile(r"(update|delete)\(\s*AuditEvent|(UPDATE|DELETE\s+FROM)\s+audit_events", re.IGNORECASE)
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if "migrations" not in p.parts and pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
