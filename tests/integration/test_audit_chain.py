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


def _cli(settings, monkeypatch, *args: str) -> tuple[int, str]:
    """``credit-portal audit …`` on the test database; its engine is disposed afterwards."""
    from portal.cli import audit as audit_cli
    from portal.cli import main

    made = []
    original = audit_cli.load_runtime

    def tracked():
        made.append(original())
        return made[-1]

    monkeypatch.setattr(audit_cli, "load_runtime", tracked)
    try:
        result = CliRunner().invoke(main, ["audit", *args], env={k: str(v) for k, v in settings.items()})
    finally:
        for rt in made:
            rt.engine.dispose()
    return result.exit_code, result.output


def _cli_verify(settings, monkeypatch) -> tuple[int, str]:
    return _cli(settings, monkeypatch, "verify")


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
    """Even with the key, altering an event *and* recomputing its own hash still breaks the link
    from the next one."""
    ids = _ids(session)
    victim_id = ids[len(ids) // 2]
    victim = session.get(AuditEvent, victim_id)
    session.expunge(victim)
    victim.purpose = "伪造"
    forged = victim.compute_hash(session.info["audit_key"])
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
    assert problems[0].event_id == ids[ids.index(victim_id) + 1] and "缺失" in problems[0].message
    assert [p.message for p in problems[1:]] == ["链头记录与最新事件不一致（最新事件被删除或链头被改动）"]  # the count
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


# --- keyed chain and signed checkpoints (issue 12) ----------------------------------------------

def _rewrite_from(rt, session, start_id: int, *, version: int, edit: dict) -> None:
    """What someone with database write access but without the audit key can do: edit the event
    ``start_id``, recompute every following hash by the unkeyed SHA-256 rule (optionally marking
    the rewritten events as old unkeyed ones), and move the chain head to the new last hash."""
    import hashlib

    rows = session.execute(select(AuditEvent).where(AuditEvent.id >= start_id).order_by(AuditEvent.id)).scalars().all()
    prev = session.execute(select(AuditEvent.hash).where(AuditEvent.id < start_id)
                           .order_by(AuditEvent.id.desc()).limit(1)).scalar() or "0" * 64
    new = []
    for event in rows:
        session.expunge(event)
        if event.id == start_id:
            for column, value in edit.items():
                setattr(event, column, value)
        event.prev_hash = prev
        event.hash = prev = hashlib.sha256(event.payload().encode()).hexdigest()
        new.append({"id": event.id, "prev": event.prev_hash, "h": event.hash, "v": version,
                    **{f"e_{k}": v for k, v in edit.items()}})
    sets = ", ".join(f"{k} = CASE WHEN id = :start THEN :e_{k} ELSE {k} END" for k in edit)
    with rt.engine.begin() as conn:
        for row in new:
            conn.execute(text(f"UPDATE audit_events SET prev_hash = :prev, hash = :h, chain_version = :v, {sets} "
                              "WHERE id = :id"), {**row, "start": start_id})
        conn.execute(text("UPDATE audit_head SET hash = :h"), {"h": prev})
    session.expire_all()


@pytest.mark.parametrize("version", [1, 0], ids=["keyed-marker", "legacy-marker"])
def test_edit_and_rehash_with_the_unkeyed_rule_is_caught(world, session, rt, settings, monkeypatch, version):
    assert _cli(settings, monkeypatch, "checkpoint")[0] == 0
    ids = _ids(session)
    victim_id = ids[len(ids) // 2]
    _rewrite_from(rt, session, victim_id, version=version, edit={"purpose": "伪造的用途"})
    problems = verify_chain(session)
    assert problems and problems[0].event_id == victim_id
    code, output = _cli_verify(settings, monkeypatch)
    assert code == 1 and f"事件 {victim_id}" in output and "完整" not in output


def test_rewriting_the_whole_chain_as_old_events_is_caught_by_the_checkpoint(world, session, rt, settings,
                                                                           monkeypatch):
    """Marking every event as written before the key existed would make the unkeyed rule apply:
    the signed checkpoint fixes which events may be unkeyed, and the head's hash."""
    code, output = _cli(settings, monkeypatch, "checkpoint")
    assert code == 0 and "已写入检查点" in output
    first = _ids(session)[0]
    _rewrite_from(rt, session, first, version=0, edit={"actor": "someone-else"})
    assert verify_chain(session) == []  # without the anchor, the forgery is self-consistent
    code, output = _cli_verify(settings, monkeypatch)
    assert code == 1 and "降级" in output and "检查点" in output


@pytest.mark.parametrize("fix_head", [True, False], ids=["head-moved", "head-left"])
def test_deleting_the_newest_events_is_caught(world, session, rt, settings, monkeypatch, fix_head):
    assert _cli(settings, monkeypatch, "checkpoint")[0] == 0
    ids = _ids(session)
    keep = ids[-4]
    with rt.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id > :id"), {"id": keep})
        if fix_head:  # covering the tracks in the database too
            h = conn.execute(text("SELECT hash FROM audit_events WHERE id = :id"), {"id": keep}).scalar_one()
            conn.execute(text("UPDATE audit_head SET last_id = :id, hash = :h, seq = seq - 3"), {"id": keep, "h": h})
    session.expire_all()
    assert verify_chain(session) == [] or not fix_head  # the chain alone cannot see it
    code, output = _cli_verify(settings, monkeypatch)
    assert code == 1 and f"事件 {ids[-1]}" in output and "最新事件被删除" in output


def test_untouched_log_with_checkpoints_is_complete(world, session, rt, settings, monkeypatch, client, login_as):
    path = Path(rt.settings["PORTAL_AUDIT_CHECKPOINT_FILE"])
    daily = path.read_text().splitlines()  # the web process's checkpoint of the day (first write)
    assert len(daily) == 1 and '"day":"2026-11-20"' in daily[0]
    for _round in range(3):
        assert _cli(settings, monkeypatch, "checkpoint")[0] == 0
        login_as(client, world.ids["legal_rep"])  # more events after each checkpoint
        assert client.get(f"/me/subjects/{world.org.public_id}").status_code == 200
    assert len(path.read_text().splitlines()) == 4  # no second daily one the same day
    code, output = _cli_verify(settings, monkeypatch)
    assert code == 0 and "审计日志完整" in output and "4 个检查点" in output


def test_the_web_process_writes_one_checkpoint_per_day(app, rt, client):
    from portal.services.audit_anchor import DailyCheckpoints

    path = Path(rt.settings["PORTAL_AUDIT_CHECKPOINT_FILE"])
    assert not path.exists()
    assert client.get("/").status_code == 200
    assert not path.exists()  # a request that wrote nothing did not move the head
    for n in range(3):  # failed logins: each commits its audit trail
        assert client.get("/auth/callback", query_string={"state": f"x{n}", "code": "y"}).status_code == 401
    assert len(path.read_text().splitlines()) == 1
    restarted = DailyCheckpoints(path)  # a new process the same day: the file already has today's
    assert restarted.run(rt.sessions, "2026-11-20") is False
    assert restarted.run(rt.sessions, "2026-11-21") is True  # the next day
    assert restarted.run(rt.sessions, "2026-11-21") is False
    assert len(path.read_text().splitlines()) == 2


def test_forged_checkpoint_line_is_reported(world, session, rt, settings, monkeypatch):
    import json

    assert _cli(settings, monkeypatch, "checkpoint")[0] == 0
    path = Path(rt.settings["PORTAL_AUDIT_CHECKPOINT_FILE"])
    *earlier, last = path.read_text().splitlines()
    line = json.loads(last)
    line["event_id"] -= 1  # pretend the head was earlier, to hide a truncation
    path.write_text("\n".join([*earlier, json.dumps(line)]) + "\n")
    code, output = _cli_verify(settings, monkeypatch)
    assert code == 1 and "签名无效" in output


def test_a_checkpoint_signed_with_another_key_does_not_count(world, session, rt, settings, monkeypatch):
    import base64

    assert _cli(settings, monkeypatch, "checkpoint")[0] == 0
    other = base64.b64encode(b"k" * 32).decode()
    code, output = _cli(settings | {"PORTAL_AUDIT_KEY": other}, monkeypatch, "verify")
    assert code == 1 and "签名无效" in output and "事件内容被修改" in output


def test_events_written_before_the_key_still_verify(settings, tmp_path, monkeypatch):
    """A database whose events predate the keyed chain: migrated, the old events verify by the
    unkeyed rule, new ones are keyed, and editing an old one is still caught."""
    import hashlib
    from datetime import datetime

    import sqlalchemy as sa

    from portal.config import load_settings
    from portal.db.migrate import upgrade
    from portal.runtime import Runtime
    from portal.services.audit import record_event

    rt = Runtime.from_settings(load_settings(settings))
    try:
        upgrade(rt.engine, "0006_case_documents")
        old = sa.table("audit_events", sa.column("at"), sa.column("actor"), sa.column("action"),
                       sa.column("subject_id"), sa.column("object_ref"), sa.column("purpose"),
                       sa.column("detail", sa.JSON), sa.column("prev_hash"), sa.column("hash"))
        prev = "0" * 64
        with rt.engine.begin() as conn:
            for n in range(5):
                event = AuditEvent(at=datetime(2026, 1, 1, 8, n), actor="cli:import", action="import",
                                   subject_id=None, object_ref=f"file:{n}.csv", purpose="", detail={"rows": n},
                                   prev_hash=prev, chain_version=0)
                event.hash = prev = hashlib.sha256(event.payload().encode()).hexdigest()  # the old rule
                conn.execute(old.insert().values(at=event.at, actor=event.actor, action=event.action,
                                                 subject_id=None, object_ref=event.object_ref, purpose="",
                                                 detail=event.detail, prev_hash=event.prev_hash, hash=event.hash))
        upgrade(rt.engine)
        with rt.sessions() as session:
            for n in range(3):
                record_event(session, "test", "after.upgrade", detail={"n": n})
            session.commit()
            versions = list(session.execute(select(AuditEvent.chain_version).order_by(AuditEvent.id)).scalars())
            assert versions == [0] * 5 + [1] * 3
            assert verify_chain(session) == []
        code, output = _cli(settings, monkeypatch, "checkpoint")
        assert code == 0
        assert _cli_verify(settings, monkeypatch) == (0, "审计日志完整（已核对 1 个检查点）\n")
        with rt.engine.begin() as conn:
            conn.execute(text("UPDATE audit_events SET object_ref = 'file:other.csv' WHERE id = 2"))
        with rt.sessions() as session:
            assert [p.event_id for p in verify_chain(session)] == [2]
    finally:
        rt.engine.dispose()


def test_verify_without_checkpoints_says_what_it_cannot_see(world, rt, settings, monkeypatch):
    Path(rt.settings["PORTAL_AUDIT_CHECKPOINT_FILE"]).unlink()  # never written, or removed
    code, output = _cli_verify(settings, monkeypatch)
    assert code == 0 and "审计日志完整（已核对 0 个检查点）" in output and "没有可核对的检查点" in output
