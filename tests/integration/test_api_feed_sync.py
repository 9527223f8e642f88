"""A feed consumer never misses a change silently (issue #15's feed, the data-out path of #17):
the log is pruned once the search nodes passed it, and consumers are not nodes, so a cursor
below the prune watermark gets 410 ``cursor_expired``; the full snapshot (``/api/v1/feed/snapshot``,
signed like the feed, paged by subject) gives the whole public state and the cursor to go on from.
The consumer's whole story runs on both databases and ends with its copy equal to the public
state, every page verified with ``verify_page``."""
from __future__ import annotations

import json
from datetime import date

import pytest
from cryptography.exceptions import InvalidSignature
from sqlalchemy import select

from portal.domain.api_access import covers_region
from portal.domain.disclosure import public_subject, public_view
from portal.models import AuditEvent, CreditRecord, Grade, IndexJob, State, Subject
from portal.services import api_feed, index_log
from portal.services.indexing import latest_grade
from portal.services.public_pages import grade_view
from search_index import open_backend
from tests.conftest import TODAY

from .api_world import ONREQ_CANARY, SHARED_CANARY, UNIT, bearer, token

CANARIES = (SHARED_CANARY.split()[0], ONREQ_CANARY.split()[0], "PERSON-CANARY-5d2c")


def _error(resp, status: int) -> str:
    assert resp.status_code == status and resp.mimetype == "application/json", resp.get_data(as_text=True)[:300]
    error = resp.get_json()["error"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])  # a Chinese message
    return error["code"]


def _feed(api, tok, cursor=0, limit=1000):
    return api.get("/api/v1/feed", query_string={"cursor": cursor, "limit": limit}, headers=bearer(tok))


def _snapshot(api, tok, **params):
    return api.get("/api/v1/feed/snapshot", query_string=params, headers=bearer(tok))


def _prune_by_a_node(rt, session, tmp_path) -> int:
    """A search node registers, follows the log to its head and prunes what it passed (as
    ``credit-portal index follow`` does); returns the watermark."""
    backend = open_backend(f"tantivy://{tmp_path / 'node-a'}")
    if session.get(index_log.IndexCursor, "node-a") is None:
        index_log.register(session, "node-a", position=0)
        session.commit()
    while index_log.follow_once(session, "node-a", backend, rt.today(), rt.profile):
        pass
    index_log.prune(session)
    backend.close()
    return index_log.pruned_through(session)


def _full_sync(api, tok, feed_key, limit=2) -> tuple[dict[str, dict], int]:
    """A consumer's snapshot: every page verified, the cursor carried from the first page."""
    copy: dict[str, dict] = {}
    params: dict = {"limit": limit}
    cursor = None
    while True:
        resp = _snapshot(api, tok, **params)
        assert resp.status_code == 200 and resp.mimetype == "application/x-ndjson", resp.get_data(as_text=True)
        lines, trailer = api_feed.verify_page(resp.get_data(), feed_key)
        assert trailer["snapshot"] is True and trailer["lines"] == len(lines)
        cursor = trailer["cursor"] if cursor is None else cursor
        assert trailer["cursor"] == cursor  # the head read before the first page, carried through
        for line in lines:
            copy[line["public_id"]] = line
        if not trailer["more"]:
            return copy, cursor
        params = {"limit": limit, "after": trailer["next_after"], "cursor": cursor}


def _follow(api, tok, feed_key, copy: dict[str, dict], cursor: int):
    """The feed after ``cursor`` applied to ``copy``; returns the new cursor, or the refusal."""
    while True:
        resp = _feed(api, tok, cursor, 2)
        if resp.status_code != 200:
            return resp
        lines, trailer = api_feed.verify_page(resp.get_data(), feed_key)
        for line in lines:
            if line["subject"] is None:
                copy.pop(line["public_id"], None)
            else:
                copy[line["public_id"]] = line
        cursor = trailer["next_cursor"]
        if not trailer["more"]:
            return cursor


def _public_state(rt, session, region: str) -> dict[str, dict]:
    """What the public may see now of every subject of the region (the expected copy)."""
    session.expire_all()
    ctx = rt.context(session, "test")
    out = {}
    for subject in session.execute(select(Subject).order_by(Subject.id)).scalars():
        state = api_feed.subject_state(ctx, subject) if covers_region(region, subject.region_code) else None
        if state is not None:
            out[subject.public_id] = json.loads(json.dumps(state, ensure_ascii=False))
    return out


def _strip(copy: dict[str, dict]) -> dict[str, dict]:
    return {pid: {k: v for k, v in line.items() if k not in ("type", "seq", "public_id")} for pid, line in copy.items()}


def test_prune_keeps_a_watermark_in_its_own_transaction(rt, session, make_org):
    """The watermark is the highest seq deleted, written with the deletion, never lowered, and
    not public data (the public version, which retires cached pages, does not move)."""
    make_org(name="岳麓区人民医院")
    make_org(name="湘江口腔诊所", category="clinic")
    session.commit()
    assert index_log.pruned_through(session) == 0
    top = index_log.head(session)
    index_log.register(session, "node-a", position=top - 1)
    session.commit()
    version = session.execute(select(State.value).where(State.key == "public_version")).scalar_one_or_none()
    assert index_log.prune(session) >= 1
    assert index_log.pruned_through(session) == top - 1
    assert session.execute(select(State.value).where(State.key == "public_version")).scalar_one_or_none() == version
    # a node behind the others' prune cannot lower it, and nothing deleted leaves it alone
    index_log.register(session, "node-b", position=0)
    session.commit()
    assert index_log.prune(session) == 0 and index_log.pruned_through(session) == top - 1
    index_log.forget(session, "node-b")
    session.execute(index_log.IndexCursor.__table__.update().values(position=top))
    session.commit()
    # the newest job stays (on SQLite an emptied table would number the next job 1 again)
    assert index_log.prune(session) == 0 and index_log.pruned_through(session) == top - 1
    make_org(name="株洲市某某药房", region_code="430202", category="pharmacy")
    session.commit()
    assert index_log.head(session) > top
    session.execute(index_log.IndexCursor.__table__.update().values(position=index_log.head(session)))
    session.commit()
    assert index_log.prune(session) == 1 and index_log.pruned_through(session) == top
    assert session.execute(select(IndexJob.seq).where(IndexJob.seq <= top)).first() is None


def test_a_cursor_below_the_pruned_log_gets_410_not_a_page_with_a_gap(api, api_world, rt, session, feed_key, make_org,
                                                                      make_record, tmp_path):
    tok = token(api, api_world, "write.cs")
    _, trailer = api_feed.verify_page(_feed(api, tok, 0).get_data(), feed_key)
    cursor = trailer["next_cursor"]
    gone = make_org(name="长沙第一诊所", category="clinic")
    make_record(gone, title="已被清理的变更")
    session.commit()
    watermark = _prune_by_a_node(rt, session, tmp_path)
    assert watermark > cursor
    kept = make_org(name="长沙第二诊所", category="clinic")
    make_record(kept, title="仍在日志中的变更")
    session.commit()
    # before: a 200 page holding only 长沙第二诊所, 长沙第一诊所's change silently skipped
    for stale in (cursor, 0, watermark - 1):
        resp = _feed(api, tok, stale)
        assert _error(resp, 410) == "cursor_expired"
        assert "/api/v1/feed/snapshot" in resp.get_json()["error"]["message"]
    lines, _ = api_feed.verify_page(_feed(api, tok, watermark).get_data(), feed_key)
    # at the watermark nothing was lost (the newest job before the prune is always kept)
    assert [line["public_id"] for line in lines] == [gone.public_id, kept.public_id]
    session.expire_all()
    calls = session.execute(select(AuditEvent).where(AuditEvent.action == "api.call",
                                                     AuditEvent.actor == "api:write.cs")
                            .order_by(AuditEvent.id)).scalars().all()
    assert [(c.object_ref, c.detail["status"], c.detail["code"]) for c in calls][-2:] == [
        ("/api/v1/feed", 410, "cursor_expired"), ("/api/v1/feed", 200, "")]


def test_snapshot_is_the_public_state_of_the_region_signed_and_paged(api, api_world, rt, session, feed_key, make_org,
                                                                     make_person, make_record):
    for i in range(3):
        make_record(make_org(name=f"长沙第{i}诊所", category="clinic"), title=f"公开处罚 {i}")
    hidden = make_person(name="李四", region_code="430102")
    make_record(hidden, title="PERSON-CANARY-5d2c 政务共享", scope="shared", authority=UNIT)
    session.commit()
    tok = token(api, api_world, "write.cs")
    copy, cursor = _full_sync(api, tok, feed_key, limit=2)
    assert cursor == index_log.head(session)
    assert _strip(copy) == _public_state(rt, session, "430100")
    # region-bound: 株洲 is not in 长沙's snapshot; a person with nothing public has no line
    assert api_world.org.public_id in copy and api_world.far.public_id not in copy and hidden.public_id not in copy
    text = json.dumps(copy, ensure_ascii=False)
    assert not any(canary in text for canary in CANARIES)
    # a tampered page fails verification
    page = _snapshot(api, tok, limit=1000).get_data()
    with pytest.raises(InvalidSignature):
        api_feed.verify_page(page.replace("长沙第0诊所".encode(), "长沙第9诊所".encode()), feed_key)


def test_snapshot_cursor_is_the_head_before_the_first_page(api, api_world, rt, session, feed_key, make_org,
                                                           make_record):
    """A change made while the snapshot is paged is in the feed from the snapshot's cursor, even
    for a subject whose page was already taken."""
    orgs = [make_org(name=f"长沙第{i}诊所", category="clinic") for i in range(3)]
    session.commit()
    tok = token(api, api_world, "write.cs")
    first = _snapshot(api, tok, limit=1)
    _, trailer = api_feed.verify_page(first.get_data(), feed_key)
    head = index_log.head(session)
    assert trailer["cursor"] == head and trailer["more"]
    make_record(orgs[0], title="快照期间的新处罚")  # its page may be behind the snapshot already
    session.commit()
    rest = _snapshot(api, tok, limit=1000, after=trailer["next_after"], cursor=trailer["cursor"])
    _, last = api_feed.verify_page(rest.get_data(), feed_key)
    assert last["cursor"] == head and not last["more"]
    lines, _ = api_feed.verify_page(_feed(api, tok, last["cursor"]).get_data(), feed_key)
    assert [line["public_id"] for line in lines] == [orgs[0].public_id]
    assert "快照期间的新处罚" in [r["title"] for r in lines[0]["records"]]


@pytest.mark.parametrize("params,field", [
    ({"after": "-1"}, "after"), ({"after": "abc"}, "after"), ({"after": str(2**31)}, "after"),
    ({"after": "9" * 40}, "after"), ({"after": "9" * 5000}, "after"), ({"limit": "0"}, "limit"),
    ({"limit": "1e3"}, "limit"), ({"cursor": "-5"}, "cursor"), ({"cursor": "9" * 40}, "cursor"),
    ({"cursor": str(2**63)}, "cursor"), ({"cursor": ""}, "cursor"),
    # a control character is refused under the name the client sent, not cleaned into another
    # refusal ("1\x00" became "1", a next page without a cursor, answered as ``cursor``)
    ({"after": "1\x00"}, "after"), ({"after": "\x001"}, "after"), ({"cursor": "0\x00", "after": "1"}, "cursor"),
    ({"limit": "5\x07"}, "limit"),
    ({"after": "3"}, "cursor"),  # a next page without the first page's cursor
    ({"cursor": "999999"}, "cursor"),  # above the log's head: not a cursor this server gave
])
def test_snapshot_refuses_hostile_parameters_in_chinese(api, api_world, params, field):
    tok = token(api, api_world, "write.cs")
    resp = _snapshot(api, tok, **params)
    assert _error(resp, 400) == "invalid_parameter"
    assert resp.get_json()["error"]["field"] == field
    assert field in resp.get_json()["error"]["message"]


@pytest.mark.parametrize("params,field", [
    ({"cursor": "7\x00"}, "cursor"), ({"cursor": str(2**63)}, "cursor"), ({"cursor": "9" * 5000}, "cursor"),
    ({"limit": "\x1f2"}, "limit"),
])
def test_feed_refuses_hostile_parameters_under_their_own_name(api, api_world, params, field):
    resp = _feed(api, token(api, api_world, "write.cs"), **params)
    assert _error(resp, 400) == "invalid_parameter"
    assert resp.get_json()["error"]["field"] == field


def test_cursors_take_the_whole_64_bit_log(api, api_world, session, feed_key, make_org):
    """``IndexJob.seq`` is a BIGINT: a long-lived log passes 2**31, and its cursors still page
    (both the feed and the snapshot's carried cursor were capped at 2**31-1: a 400)."""
    clinic = make_org(name="长沙第一诊所", category="clinic")
    session.commit()
    big = 2**31 + 7  # the log's newest job, numbered past the 32-bit range
    session.execute(IndexJob.__table__.update().where(IndexJob.seq == index_log.head(session)).values(seq=big))
    session.commit()
    tok = token(api, api_world, "write.cs")
    lines, trailer = api_feed.verify_page(_feed(api, tok, 2**31).get_data(), feed_key)
    assert [line["public_id"] for line in lines] == [clinic.public_id] and trailer["next_cursor"] == big
    first = _snapshot(api, tok, limit=1)
    _, trailer = api_feed.verify_page(first.get_data(), feed_key)
    assert trailer["cursor"] == big and trailer["more"]
    rest = _snapshot(api, tok, limit=1000, after=trailer["next_after"], cursor=big)
    _, last = api_feed.verify_page(rest.get_data(), feed_key)
    assert last["cursor"] == big and not last["more"]
    # the head is a cursor (nothing after it); the top of the range is no cursor this log gave, one more
    # is not an integer of the range
    lines, trailer = api_feed.verify_page(_feed(api, tok, big).get_data(), feed_key)
    assert lines == [] and trailer["next_cursor"] == big and not trailer["more"]
    assert _error(_feed(api, tok, api_feed.SEQ_MAX), 400) == "invalid_parameter"
    assert _error(_feed(api, tok, api_feed.SEQ_MAX + 1), 400) == "invalid_parameter"


def test_feed_refuses_a_cursor_above_the_head_like_the_snapshot(api, api_world, session, feed_key, make_org):
    """``cursor=N`` above the log's head is no cursor this server handed out (every next_cursor is a
    seq the log held, and the head never goes down). Before: an empty page with ``next_cursor`` N, so
    a consumer with a corrupt cursor believed it was up to date and skipped every change up to N;
    the snapshot already refused it with 400."""
    make_org(name="长沙第一诊所", category="clinic")
    session.commit()
    tok = token(api, api_world, "write.cs")
    top = index_log.head(session)
    lines, trailer = api_feed.verify_page(_feed(api, tok, top).get_data(), feed_key)
    assert lines == [] and trailer["next_cursor"] == top  # the head itself: up to date, nothing new
    for cursor in (top + 1, 999999):
        resp = _feed(api, tok, cursor)
        assert _error(resp, 400) == "invalid_parameter"
        error = resp.get_json()["error"]
        assert error["field"] == "cursor" and "cursor" in error["message"] and "当前位置" in error["message"]
        assert _error(_snapshot(api, tok, cursor=cursor), 400) == "invalid_parameter"  # the same answer
    # documented: the OpenAPI description of the feed's cursor says when it is refused
    spec = api.get("/api/v1/openapi.json").get_json()["paths"]["/feed"]["get"]
    cursor_doc = next(p for p in spec["parameters"] if p["name"] == "cursor")
    assert "不得大于增量数据当前位置" in cursor_doc["description"] and "400" in spec["summary"]


def test_snapshot_needs_the_feed_scope(api, api_world):
    for client_id in ("pub.dept", "share.cs"):
        resp = _snapshot(api, token(api, api_world, client_id))
        assert _error(resp, 403) == "insufficient_scope"
    assert _error(api.get("/api/v1/feed/snapshot"), 401) == "invalid_token"


def test_a_snapshot_whose_cursor_was_pruned_meanwhile_is_410(api, api_world, rt, session, feed_key, make_org,
                                                            make_record, tmp_path):
    make_org(name="长沙第一诊所", category="clinic")
    session.commit()
    tok = token(api, api_world, "write.cs")
    _, trailer = api_feed.verify_page(_snapshot(api, tok, limit=1).get_data(), feed_key)
    make_record(api_world.org, title="快照期间的变更", authority=UNIT)
    session.commit()
    make_record(api_world.org, title="快照期间的又一变更", authority=UNIT)
    session.commit()
    assert _prune_by_a_node(rt, session, tmp_path) > trailer["cursor"]
    resp = _snapshot(api, tok, limit=1, after=trailer["next_after"], cursor=trailer["cursor"])
    assert _error(resp, 410) == "cursor_expired"


def test_consumer_resyncs_after_the_log_was_pruned_past_its_cursor(api, api_world, rt, session, feed_key, make_org,
                                                                   make_person, make_record, tmp_path):
    """Snapshot, then the feed; changes; the nodes prune past the consumer's cursor; 410;
    snapshot again, feed again: the consumer's copy is the public state, nothing non-public."""
    clinics = [make_org(name=f"长沙第{i}诊所", category="clinic") for i in range(3)]
    for org in clinics:
        make_record(org, title=f"公开处罚：{org.name}")
    session.commit()
    _prune_by_a_node(rt, session, tmp_path)  # the nodes are live from the start
    tok = token(api, api_world, "write.cs")
    copy, cursor = _full_sync(api, tok, feed_key)
    cursor = _follow(api, tok, feed_key, copy, cursor)
    assert isinstance(cursor, int) and _strip(copy) == _public_state(rt, session, "430100")
    # changes: a new subject, a withdrawal (through the API), a non-public record, a correction
    newcomer = make_org(name="长沙新开诊所", category="clinic")
    make_record(newcomer, title="新开诊所的公开处罚")
    make_record(clinics[1], title="PERSON-CANARY-5d2c 政务共享线索", scope="shared", authority=UNIT)
    session.commit()
    resp = api.post(f"/api/v1/records/{api_world.public_record.lineage_id}/withdrawal",
                    data=json.dumps({"reason": "经复核撤销公示"}, ensure_ascii=False), content_type="application/json",
                    headers={**bearer(tok), "Idempotency-Key": "sync-wd-0001"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert _prune_by_a_node(rt, session, tmp_path) > cursor
    stale = _feed(api, tok, cursor)
    assert _error(stale, 410) == "cursor_expired"
    # the consumer follows the message: a full snapshot replaces its copy, then the feed
    copy, cursor = _full_sync(api, tok, feed_key)
    make_record(clinics[2], title="重新同步之后的处罚")
    session.commit()
    cursor = _follow(api, tok, feed_key, copy, cursor)
    assert isinstance(cursor, int), cursor.get_data(as_text=True)
    expected = _public_state(rt, session, "430100")
    assert _strip(copy) == expected
    assert newcomer.public_id in copy and api_world.far.public_id not in copy
    assert "重新同步之后的处罚" in [r["title"] for r in copy[clinics[2].public_id]["records"]]
    assert api_world.public_record.title not in [r["title"] for r in copy[api_world.org.public_id]["records"]]
    text = json.dumps(copy, ensure_ascii=False)
    assert not any(canary in text for canary in CANARIES)


def test_recent_jobs_stay_for_the_feed_consumers(api, api_world, rt, session, feed_key, make_org, make_record):
    """``PORTAL_FEED_KEEP_HOURS``: the nodes' prune leaves the jobs of that window, so a consumer
    that pulls within it resumes instead of resyncing; older ones go (and then 410)."""
    from datetime import timedelta

    import click

    from portal.cli.index import _feed_keep_after
    from portal.models.base import utcnow

    tok = token(api, api_world, "write.cs")
    _, trailer = api_feed.verify_page(_feed(api, tok, 0).get_data(), feed_key)
    cursor = trailer["next_cursor"]
    orgs = [make_org(name=f"长沙第{i}诊所", category="clinic") for i in range(2)]
    for org in orgs:
        make_record(org, title="窗口内的变更")
    session.commit()
    index_log.register(session, "node-a")  # at the head: it has passed every job
    session.commit()
    assert index_log.prune(session, _feed_keep_after(rt)) == 0 and index_log.pruned_through(session) == 0
    lines, _ = api_feed.verify_page(_feed(api, tok, cursor).get_data(), feed_key)
    assert {line["public_id"] for line in lines} == {o.public_id for o in orgs}
    assert index_log.prune(session, utcnow() + timedelta(minutes=1)) > 0  # all of them older than the window
    assert _error(_feed(api, tok, cursor), 410) == "cursor_expired"
    for bad in ("-1", "abc", "9" * 12, "１２"):
        with pytest.raises(click.ClickException, match="PORTAL_FEED_KEEP_HOURS"):
            _feed_keep_after(type("Rt", (), {"settings": {"PORTAL_FEED_KEEP_HOURS": bad}})())


def _one_by_one(ctx, subject) -> dict | None:
    """The public state of one subject read the plain way (a records query, ``latest_grade``):
    the oracle the batched pages are compared with."""
    view = public_subject(subject, ctx.today)
    if view is None:
        return None
    records = [v for r in ctx.session.execute(select(CreditRecord).where(
        CreditRecord.subject_id == subject.id, CreditRecord.is_current.is_(True)).order_by(CreditRecord.id)).scalars()
        if (v := public_view(r, ctx.today, subject.birth_on, profile=ctx.profile)) is not None]
    if subject.kind == "person" and not records:
        return None
    return json.loads(json.dumps(api_feed._jsonable({"subject": view, "records": records,
                                                     "grade": grade_view(latest_grade(ctx.session, subject.id,
                                                                                      ctx.today))}),
                                 ensure_ascii=False))


def test_a_page_costs_the_same_statements_whatever_its_size(api, api_world, rt, ctx, session, feed_key, make_org,
                                                            make_person, make_record, statements):
    """Snapshot and feed pages read their subjects' records and grades in a fixed number of
    statements (they ran two per subject: 10 subjects, 20 more statements), with the same
    lines a subject-by-subject read gives and nothing non-public."""
    subjects = []
    for i in range(110):
        org = make_org(name=f"长沙第{i}诊所", category="clinic")
        make_record(org, title=f"公开处罚 {i}")
        if i % 3 == 0:
            make_record(org, title=f"PERSON-CANARY-5d2c 共享 {i}", scope="shared", authority=UNIT)
        if i % 4 == 0:
            session.add(Grade(subject_id=org.id, year=TODAY.year - 1, letter="A" if i % 8 else "C", score=90,
                              explanation=[], profile_id="hunan"))
        subjects.append(org)
    doctor = make_person(name="王医生", region_code="430102")
    make_record(doctor, title="医师公开处罚", decided_on=date(2026, 6, 1))
    hidden = make_person(name="李四", region_code="430102")
    make_record(hidden, title="PERSON-CANARY-5d2c 政务共享", scope="shared", authority=UNIT)
    session.commit()
    tok = token(api, api_world, "write.cs")

    def cost(fetch, n) -> tuple[int, list[dict]]:
        statements.clear()
        resp = fetch(n)
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
        lines, _ = api_feed.verify_page(resp.get_data(), feed_key)
        return len(statements), lines

    for name, fetch in (("snapshot", lambda n: _snapshot(api, tok, limit=n)),
                        ("feed", lambda n: _feed(api, tok, 0, n))):
        small, small_lines = cost(fetch, 10)
        large, large_lines = cost(fetch, 100)
        assert len(large_lines) >= 5 * len(small_lines) > 0, name
        assert small == large, (name, small, large)
    # the lines are those of a subject-by-subject read
    _, lines = cost(lambda n: _snapshot(api, tok, limit=n), 1000)
    session.expire_all()
    ctx = rt.context(session, "test")
    expected = {s.public_id: state for s in session.execute(select(Subject).order_by(Subject.id)).scalars()
                if covers_region("430100", s.region_code) and (state := _one_by_one(ctx, s)) is not None}
    assert _strip({line["public_id"]: line for line in lines}) == expected
    assert doctor.public_id in expected and hidden.public_id not in expected
    assert sum(1 for line in lines if line["grade"]) >= 20
    assert not any(canary in json.dumps(lines, ensure_ascii=False) for canary in CANARIES)
