"""The bulk loader (bench datasets, first load of a province) stores exactly what the service
verbs store: same identity columns, same records, same grades, same search documents."""
from __future__ import annotations

from sqlalchemy import func, select

from portal.models import CreditRecord, Grade, Subject
from portal.services import indexing
from portal.services.bulk_load import bulk_load_demo
from portal.services.demo import load_demo
from portal.services.subjects import register_subject
from search_index import SearchQuery

N, SEED = 150, 3


def _documents(rt, session) -> dict[str, dict]:
    return {d["id"]: d for d in indexing.iter_documents(session, rt.today(), rt.profile)}


def test_bulk_load_matches_the_service_verbs(rt, ctx, session, tmp_path):
    from portal.db.migrate import upgrade
    from portal.runtime import Runtime

    counts = bulk_load_demo(ctx, N, SEED)
    session.commit()
    assert counts["subjects"] == N and counts["records"] > N
    assert session.execute(select(func.count()).select_from(Subject)).scalar_one() == N
    assert session.execute(select(func.count()).select_from(CreditRecord)
                           .where(CreditRecord.lineage_id != CreditRecord.id)).scalar_one() == 0
    assert session.execute(select(func.count(func.distinct(Grade.year)))).scalar_one() == 2

    # the same seed through load_demo (register_subject / add_record), same keys, own SQLite file
    other = Runtime.from_settings({**rt.settings, "DATABASE_URL": f"sqlite:///{tmp_path / 'verbs.sqlite3'}",
                                   "SEARCH_URL": "memory://"})
    upgrade(other.engine)
    try:
        with other.sessions() as s2:
            load_demo(other.context(s2, "test"), N, SEED)
            s2.commit()
            expected = _documents(other, s2)
    finally:
        other.engine.dispose()
    assert _documents(rt, session) == expected


def test_bulk_loaded_data_takes_further_writes_and_is_searchable(rt, ctx, session, make_record):
    bulk_load_demo(ctx, 40, SEED, grade=False)
    session.commit()
    assert indexing.rebuild(session, rt.backend, rt.today(), rt.profile) > 0
    subject = session.execute(select(Subject).where(Subject.kind == "org").order_by(Subject.id)).scalars().first()
    # registering the same code again finds the bulk-loaded row (same lookup hash)
    again = register_subject(ctx, kind="org", name=subject.name, code=subject.credit_code,
                             category=subject.category, region_code=subject.region_code)
    assert again.id == subject.id
    # ids continue after the loaded ones (PostgreSQL sequences were moved on)
    record = make_record(subject, title="批量导入之后新增的处罚")
    assert record.id > session.execute(select(func.min(CreditRecord.id))).scalar_one()
    session.commit()
    while indexing.drain(session, rt.backend, rt.today(), rt.profile):
        pass
    hits = rt.backend.search(SearchQuery(subject.name)).hits
    assert subject.public_id in [h.id for h in hits]
