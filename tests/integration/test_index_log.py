"""The index outbox as an ordered log with a cursor per search node (issue #17, layout 2):
jobs are numbered in commit order (also when PostgreSQL hands out ids in another order), each
node applies the log after its own cursor, a failure moves no cursor, and a job is pruned only
when every registered node has passed it."""
from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select

from portal.models import IndexJob, Subject
from portal.models.base import utcnow
from portal.services import index_log, indexing
from portal.services.records import add_record
from search_index import SearchQuery, open_backend


def commend(rt, session, subject_id, title):
    add_record(rt.context(session, "test"), session.get(Subject, subject_id), record_type="commendation",
               title=title, authority="长沙市卫生健康委员会", decided_on=rt.today())


def node_backend(tmp_path, name):
    return open_backend(f"tantivy://{tmp_path / name}")


def titles(backend, name):
    hits = backend.search(SearchQuery(name)).hits
    return set(hits[0].doc["titles"]) if hits else set()


def follow(rt, session, node, backend):
    total = 0
    while n := index_log.follow_once(session, node, backend, rt.today(), rt.profile):
        total += n
    return total


def test_jobs_are_numbered_in_commit_order(rt, session, make_org):
    """A transaction that took its job id first but commits last comes last in the log, so a
    cursor that passed the other one cannot skip it."""
    first, second = make_org(name="湘江口腔诊所", category="clinic"), make_org(name="岳麓区人民医院")
    session.commit()
    early, late = rt.sessions(), rt.sessions()
    if rt.engine.dialect.name == "postgresql":  # SQLite has one writer: this cannot interleave there
        commend(rt, early, first.id, "年度优秀诊所表彰")
        early.flush()  # its job id is handed out now
        commend(rt, late, second.id, "先进集体")
        late.commit()
        early.commit()
    else:
        commend(rt, late, second.id, "先进集体")
        late.commit()
        commend(rt, early, first.id, "年度优秀诊所表彰")
        early.commit()
    early.close()
    late.close()
    rows = session.execute(select(IndexJob.id, IndexJob.seq, IndexJob.subject_id)
                           .where(IndexJob.subject_id.in_([first.id, second.id]))
                           .order_by(IndexJob.seq)).all()
    assert all(r.seq is not None for r in rows)
    assert [r.subject_id for r in rows][-2:] == [second.id, first.id]  # commit order, not id order
    # Core bulk inserts (the import's publish) are numbered too
    session.execute(insert(IndexJob.__table__), [{"subject_id": first.id, "reason": "import", "created_at": utcnow()}])
    session.commit()
    assert session.execute(select(func.count()).select_from(IndexJob).where(IndexJob.seq.is_(None))).scalar_one() == 0
    # a rolled-back transaction leaves no number behind and does not disturb the next
    commend(rt, session, first.id, "撤回的表彰")
    session.rollback()
    assert session.execute(select(func.count()).select_from(IndexJob).where(IndexJob.seq.is_(None))).scalar_one() == 0


def test_each_node_follows_with_its_own_cursor_and_prune_waits_for_all(rt, session, make_org, tmp_path):
    org = make_org(name="岳麓区人民医院")
    session.commit()
    a, b = node_backend(tmp_path, "a"), node_backend(tmp_path, "b")
    for name, backend in (("node-a", a), ("node-b", b)):
        index_log.register(session, name)
        session.commit()
        indexing.rebuild_index_only(session, backend, rt.today(), rt.profile)
    commend(rt, session, org.id, "先进集体")
    session.commit()
    assert follow(rt, session, "node-a", a) == 1
    assert "先进集体" in titles(a, "岳麓区人民医院") and "先进集体" not in titles(b, "岳麓区人民医院")
    job = index_log.head(session)
    index_log.prune(session)  # older jobs both nodes passed may go; this one node-b still needs
    assert session.execute(select(func.count()).select_from(IndexJob).where(IndexJob.seq == job)).scalar_one() == 1
    assert {n["node"]: n["behind"] for n in index_log.nodes(session)} == {"node-a": 0, "node-b": 1}
    assert follow(rt, session, "node-b", b) == 1 and "先进集体" in titles(b, "岳麓区人民医院")
    commend(rt, session, org.id, "年度表彰")
    session.commit()
    assert follow(rt, session, "node-a", a) == 1 and follow(rt, session, "node-b", b) == 1
    assert index_log.prune(session) == 1  # ``job``; the newest job stays
    assert session.execute(select(func.count()).select_from(IndexJob).where(IndexJob.seq <= job)).scalar_one() == 0
    assert follow(rt, session, "node-a", a) == 0  # nothing again, nothing twice
    # a job after a prune is numbered above everything pruned (SQLite: max(id) + 1, so never an
    # emptied table), else every node's cursor would pass over it
    commend(rt, session, org.id, "再次表彰")
    session.commit()
    assert index_log.head(session) > job + 1 and follow(rt, session, "node-a", a) == 1
    a.close()
    b.close()


def test_a_failed_apply_moves_no_cursor(rt, session, make_org, tmp_path):
    org = make_org(name="岳麓区人民医院")
    session.commit()
    backend = node_backend(tmp_path, "a")
    index_log.register(session, "node-a")
    session.commit()
    indexing.rebuild_index_only(session, backend, rt.today(), rt.profile)
    commend(rt, session, org.id, "先进集体")
    session.commit()
    before = index_log.nodes(session)[0]["position"]

    class Broken:
        def upsert(self, docs):
            raise OSError("disk full")

        def delete(self, ids):
            raise OSError("disk full")

    with pytest.raises(OSError):
        index_log.follow_once(session, "node-a", Broken(), rt.today(), rt.profile)
    session.rollback()
    assert index_log.nodes(session)[0]["position"] == before
    assert follow(rt, session, "node-a", backend) == 1 and "先进集体" in titles(backend, "岳麓区人民医院")
    backend.close()


def test_an_unknown_node_is_refused(rt, session):
    with pytest.raises(LookupError):
        index_log.follow_once(session, "nobody", None, rt.today(), rt.profile)
