"""The index follows the database even when writers overlap (DESIGN.md: one writer)."""
from __future__ import annotations

from portal.models import Subject
from portal.services import indexing
from portal.services.records import add_record
from search_index import SearchQuery


def commend(rt, session, subject_id, title):
    add_record(rt.context(session, "test"), session.get(Subject, subject_id), record_type="commendation",
               title=title, authority="长沙市卫生健康委员会", decided_on=rt.today())


def titles(rt, text):
    (hit,) = rt.backend.search(SearchQuery(text)).hits
    return hit.doc["titles"]


def test_changes_the_rebuild_may_have_missed_stay_queued(rt, session, make_org, reindex):
    """A change committed while a rebuild reads the database stays queued, so the next drain
    applies it to the new index. On PostgreSQL also a change whose transaction was open when
    the rebuild began (its job id is lower than jobs the rebuild saw)."""
    early, late = make_org(name="湘江口腔诊所", category="clinic"), make_org(name="岳麓区人民医院")
    reindex()
    postgres = rt.engine.dialect.name == "postgresql"
    open_tx, other = rt.sessions(), rt.sessions()
    if postgres:  # an id is handed out now; the commit comes during the rebuild
        commend(rt, open_tx, early.id, "年度优秀诊所表彰")
        open_tx.flush()
    commend(rt, other, late.id, "先进集体")
    other.commit()  # visible when the rebuild starts: covered by it
    fired = []

    def progress(n):
        if not fired:
            fired.append(n)
            if postgres:
                open_tx.commit()
            commend(rt, other, late.id, "抗疫先进")  # committed while the rebuild runs
            other.commit()

    indexing.rebuild(session, rt.backend, rt.today(), rt.profile, progress=progress)
    open_tx.close()
    other.close()
    assert fired
    assert indexing.pending_count(session) == (2 if postgres else 1)
    assert indexing.drain(session, rt.backend, rt.today(), rt.profile) == (2 if postgres else 1)
    assert {"先进集体", "抗疫先进"} <= set(titles(rt, "岳麓区人民医院"))
    if postgres:
        assert "年度优秀诊所表彰" in titles(rt, "湘江口腔")


def test_drain_with_nothing_pending_writes_nothing(rt, session, make_org, reindex):
    make_org(name="岳麓区人民医院")
    reindex()
    before = indexing.get_state(session, "index_updated_at")
    assert indexing.drain(session, rt.backend, rt.today(), rt.profile) == 0
    assert indexing.get_state(session, "index_updated_at") == before
