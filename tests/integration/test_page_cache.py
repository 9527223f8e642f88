"""The page cache of the QR scan page and the facility page (portal.web.page_cache) and the
public data version behind it (portal.public_version): a cached page never outlives a change
(same process: the next request; another process: CHECK_SECONDS; the day; MAX_AGE_SECONDS for
writes behind the ORM's back), per-visitor parts are never shared, and conditional GETs get 304."""
from __future__ import annotations

import time
import weakref
from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import event, func, select, text

from portal import public_version
from portal.models import Grade, PlateScanDay, WebSession
from portal.services import plates as svc
from portal.services.records import set_record_status
from portal.services.subjects import register_subject
from portal.web.csrf import COOKIE
from portal.web.facility import scan_counter
from portal.web.page_cache import CHECK_SECONDS, MAX_AGE_SECONDS
from tests.conftest import TODAY

CANARY = "CANARY-PAGE-CACHE-3d9a"


@pytest.fixture
def clinic(make_org, make_record, session, reindex):
    org = make_org(name="银河口腔诊所", category="clinic", address="长沙市芙蓉区五一大道2号")
    make_record(org, title="公开处罚：未按规定消毒")
    make_record(org, title=f"不公开 {CANARY}", scope="shared")
    session.add(Grade(subject_id=org.id, year=TODAY.year - 1, letter="B", score=85, explanation=[], profile_id="hunan"))
    reindex()
    return org


@pytest.fixture
def plate(ctx, session, clinic):
    p = svc.issue_plate(ctx, clinic)
    session.commit()
    return p


@pytest.fixture
def cache(app):
    return app.extensions["portal.page_cache"]


@pytest.fixture
def clock(cache):
    """The cache's clock, moved by hand."""
    now = [1000.0]
    cache.clock = lambda: now[0]
    return now


@pytest.fixture
def elsewhere(monkeypatch):
    """Commits from here on count as made by another process: this one is not told about them
    and only learns of them through its periodic version check."""
    seen = public_version.local_commits()
    monkeypatch.setattr(public_version, "local_commits", lambda: seen)


def _soup(resp):
    return BeautifulSoup(resp.get_data(as_text=True), "html.parser")


def _banners(resp):
    return {el["id"] for el in _soup(resp).select(".banner[id]")}


def _scan(client, plate, **kw):
    resp = client.get(f"/p/{plate.token}", **kw)
    assert resp.status_code in (200, 304)
    return resp


def _renders(rt):
    """Count the page builds (the one query every build of the scan page runs)."""
    seen = []

    def listener(conn, cursor, statement, params, context, executemany):
        if "FROM plates JOIN subjects" in statement:
            seen.append(1)

    event.listen(rt.engine, "before_cursor_execute", listener)
    return seen


# --- the public data version -------------------------------------------------------------------

def _version(rt):
    with rt.engine.connect() as conn:
        return public_version.read(conn)


def test_version_changes_with_public_data_only(rt, ctx, session, clinic, plate):
    before = _version(rt)
    svc.record_scan(session, plate.id, TODAY)  # a scan is not public data
    session.commit()
    assert _version(rt) == before
    svc.revoke_plate(ctx, plate, "lost")
    session.rollback()  # nothing committed, nothing changed
    assert _version(rt) == before
    svc.revoke_plate(ctx, plate, "lost")
    session.commit()
    after_revoke = _version(rt)
    assert after_revoke != before
    session.execute(Grade.__table__.update().where(Grade.subject_id == clinic.id).values(letter="C"))  # Core, via the session
    session.commit()
    assert _version(rt) != after_revoke


# --- invalidation ------------------------------------------------------------------------------

def test_repeated_scans_are_served_from_the_cache(rt, client, plate):
    renders = _renders(rt)
    first = _scan(client, plate).get_data(as_text=True)
    for _ in range(3):
        assert _scan(client, plate).get_data(as_text=True) == first
    assert len(renders) == 1


def test_revoking_a_cached_plate_shows_the_banner_on_the_next_scan(client, ctx, session, plate):
    assert _banners(_scan(client, plate)) == {"banner-genuine"}
    svc.revoke_plate(ctx, plate, "lost")
    session.commit()
    assert _banners(_scan(client, plate)) == {"banner-revoked"}


def test_reissuing_a_cached_plate_links_to_the_new_one(client, ctx, session, plate):
    _scan(client, plate)
    new = svc.reissue_plate(ctx, plate, "damaged")
    session.commit()
    page = _soup(_scan(client, plate))
    assert page.select_one("#banner-current a")["href"] == f"/p/{new.token}"


@pytest.mark.parametrize("status, banner", [("closed", "banner-closed"), ("licence_revoked", "banner-licence-revoked")])
def test_closing_a_cached_unit_shows_the_banner(client, ctx, session, clinic, plate, status, banner):
    _scan(client, plate)
    register_subject(ctx, kind="org", name=clinic.name, code=clinic.credit_code, category=clinic.category,
                     region_code=clinic.region_code, status=status)
    session.commit()
    assert _banners(_scan(client, plate)) == {banner}


def test_records_and_grades_reach_both_cached_pages(client, ctx, session, clinic, plate, make_record):
    facility = f"/facility/{clinic.public_id}"
    assert "新增处罚：未公示收费标准" not in _scan(client, plate).get_data(as_text=True)
    client.get(facility)
    added = make_record(clinic, title="新增处罚：未公示收费标准")
    session.commit()
    assert "新增处罚：未公示收费标准" in _scan(client, plate).get_data(as_text=True)
    assert "新增处罚：未公示收费标准" in client.get(facility).get_data(as_text=True)

    set_record_status(ctx, added, "withdrawn", "认定部门撤销")
    session.commit()
    assert "新增处罚：未公示收费标准" not in _scan(client, plate).get_data(as_text=True)
    assert "新增处罚：未公示收费标准" not in client.get(facility).get_data(as_text=True)

    grade = session.execute(select(Grade).where(Grade.subject_id == clinic.id)).scalar_one()
    grade.letter = "C"  # as a re-grading does (services.grading.compute_grades)
    session.commit()
    assert _soup(_scan(client, plate)).select_one("#grade .grade").get_text(strip=True) == "C"
    assert "grade-C" in client.get(facility).get_data(as_text=True)


def test_a_change_to_one_subject_keeps_other_subjects_pages(rt, client, ctx, session, clinic, plate, make_org,
                                                            make_record):
    """A change scoped to one subject (its records, grades, plates, cases) re-renders that
    subject's page only; the other subjects' cached pages stay, checked by one stamp read."""
    other = make_org(name="星辰社区诊所", category="clinic")
    make_record(other, title="公开处罚：未按规定登记")
    session.commit()
    other_plate = svc.issue_plate(ctx, other)
    session.commit()
    _scan(client, plate)
    _scan(client, other_plate)
    renders = _renders(rt)
    version_before = _version(rt)
    make_record(clinic, title="新增处罚：超范围执业")  # scoped to the clinic
    session.commit()
    assert _version(rt) != version_before
    assert "新增处罚：超范围执业" in _scan(client, plate).get_data(as_text=True)
    assert len(renders) == 1  # the clinic's page was rebuilt
    assert "未按规定登记" in _scan(client, other_plate).get_data(as_text=True)
    assert len(renders) == 1  # the other one was not: still right
    with rt.engine.connect() as conn:
        assert public_version.subject_stamp(conn, clinic.id) == _version(rt)
        assert public_version.subject_stamp(conn, other.id) != _version(rt)


def test_a_change_to_one_subject_keeps_other_subjects_facility_pages(rt, client, ctx, session, clinic, make_org,
                                                                     make_record):
    """The facility page has the same per-subject scope as the scan page (issue #17): a change
    scoped to one subject rebuilds that subject's facility page only."""
    other = make_org(name="星辰社区诊所", category="clinic")
    make_record(other, title="公开处罚：未按规定登记")
    session.commit()
    builds = []

    def listener(conn, cursor, statement, params, context, executemany):
        if "WHERE subjects.public_id =" in statement:  # the facility page's one statement
            builds.append(params)

    event.listen(rt.engine, "before_cursor_execute", listener)
    try:
        def page(subject):
            resp = client.get(f"/facility/{subject.public_id}")
            assert resp.status_code == 200
            return resp.get_data(as_text=True)

        page(clinic), page(other)
        assert len(builds) == 2
        make_record(clinic, title="新增处罚：超范围执业")  # scoped to the clinic
        session.commit()
        assert "新增处罚：超范围执业" in page(clinic)
        assert len(builds) == 3  # the clinic's page was rebuilt
        assert "未按规定登记" in page(other)
        assert len(builds) == 3  # the other one was not: its stamp has not moved
        other.address = "长沙市芙蓉区五一大道9号"  # a subject row: global, every page again
        session.commit()
        assert "五一大道9号" in page(other)
        assert len(builds) == 4
    finally:
        event.remove(rt.engine, "before_cursor_execute", listener)


def test_a_change_to_a_subject_row_re_renders_every_page(rt, client, ctx, session, clinic, plate, make_org,
                                                         make_record):
    """A subject row's change is global (a name shows on its employees' pages), and so is a
    statement the ORM cannot attribute: every cached page is built again."""
    other = make_org(name="星辰社区诊所", category="clinic")
    make_record(other, title="公开处罚：未按规定登记")
    session.commit()
    other_plate = svc.issue_plate(ctx, other)
    session.commit()
    _scan(client, plate)
    _scan(client, other_plate)
    renders = _renders(rt)
    clinic.address = "长沙市芙蓉区五一大道8号"
    session.commit()
    _scan(client, other_plate)
    assert len(renders) == 1
    session.execute(Grade.__table__.update().where(Grade.subject_id == clinic.id).values(letter="C"))
    session.commit()
    _scan(client, other_plate)
    assert _soup(_scan(client, plate)).select_one("#grade .grade").get_text(strip=True) == "C"
    assert len(renders) == 3


def test_a_record_moved_to_another_subject_re_renders_both(rt, client, ctx, session, clinic, plate, make_org,
                                                           make_record):
    other = make_org(name="星辰社区诊所", category="clinic")
    moved = make_record(other, title="公开处罚：错录主体的处罚")
    session.commit()
    other_plate = svc.issue_plate(ctx, other)
    session.commit()
    assert "错录主体的处罚" in _scan(client, other_plate).get_data(as_text=True)
    _scan(client, plate)
    moved.subject_id = clinic.id
    session.commit()
    assert "错录主体的处罚" not in _scan(client, other_plate).get_data(as_text=True)
    assert "错录主体的处罚" in _scan(client, plate).get_data(as_text=True)


def test_a_change_in_another_process_shows_within_the_check_interval(client, session, clinic, plate, make_record,
                                                                    clock, elsewhere):
    _scan(client, plate)
    make_record(clinic, title="另一进程新增的处罚")
    session.commit()
    clock[0] += CHECK_SECONDS / 2
    assert "另一进程新增的处罚" not in _scan(client, plate).get_data(as_text=True)  # not told yet
    clock[0] += CHECK_SECONDS / 2
    assert "另一进程新增的处罚" in _scan(client, plate).get_data(as_text=True)  # bound: CHECK_SECONDS


def test_a_write_behind_the_orms_back_shows_within_the_max_age(rt, client, clinic, plate, clock):
    _scan(client, plate)
    with rt.engine.begin() as conn:  # raw SQL: invisible to the session events
        conn.execute(text("UPDATE grades SET letter = 'D' WHERE subject_id = :s"), {"s": clinic.id})
    clock[0] += MAX_AGE_SECONDS - 1
    assert _soup(_scan(client, plate)).select_one("#grade .grade").get_text(strip=True) == "B"
    clock[0] += 1
    assert _soup(_scan(client, plate)).select_one("#grade .grade").get_text(strip=True) == "D"


def test_a_new_day_ends_publication_windows_on_cached_pages(rt, client, session, clinic, plate, make_record):
    make_record(clinic, record_type="commendation", title="今日到期的表彰", decided_on=date(2026, 1, 5),
                publish_until=TODAY)
    session.commit()
    facility = f"/facility/{clinic.public_id}"
    assert "今日到期的表彰" in _scan(client, plate).get_data(as_text=True)
    assert "今日到期的表彰" in client.get(facility).get_data(as_text=True)
    rt.settings["PORTAL_TODAY"] = (TODAY + timedelta(days=1)).isoformat()  # midnight passes, nothing is written
    assert "今日到期的表彰" not in _scan(client, plate).get_data(as_text=True)
    assert "今日到期的表彰" not in client.get(facility).get_data(as_text=True)


def test_the_grade_in_force_changes_on_new_year(rt, ctx, session, client, clinic, plate):
    session.add(Grade(subject_id=clinic.id, year=TODAY.year, letter="A", score=95, explanation=[], profile_id="hunan"))
    session.commit()
    assert _soup(_scan(client, plate)).select_one("#grade .grade").get_text(strip=True) == "B"
    rt.settings["PORTAL_TODAY"] = date(TODAY.year + 1, 1, 1).isoformat()
    assert _soup(_scan(client, plate)).select_one("#grade .grade").get_text(strip=True) == "A"


# --- what is shared and what is not ------------------------------------------------------------

def test_cached_pages_show_nothing_non_public(client, clinic, plate):
    for _ in range(2):  # the miss and the hit
        assert CANARY not in _scan(client, plate).get_data(as_text=True)
        assert CANARY not in client.get(f"/facility/{clinic.public_id}").get_data(as_text=True)


def test_an_anonymous_scan_leaves_no_cookie_and_no_session(rt, session, client, plate):
    for _ in range(2):
        resp = _scan(client, plate)
        assert "Set-Cookie" not in resp.headers
    assert session.execute(select(func.count()).select_from(WebSession)).scalar_one() == 0


def test_each_visitor_gets_their_own_csrf_token_on_a_cached_facility_page(app, clinic):
    pages = []
    for _ in range(2):
        visitor = app.test_client()
        resp = visitor.get(f"/facility/{clinic.public_id}")
        assert resp.headers["Cache-Control"] == "private, no-cache"  # never stored by shared caches
        assert "Cookie" in resp.headers["Vary"]
        seed = visitor.get_cookie(COOKIE).value
        body = resp.get_data(as_text=True)
        sent = _soup(resp).body["hx-headers"]
        from portal.web.csrf import token_for_seed

        assert token_for_seed(app.config["SECRET_KEY"], seed) in sent
        assert "\x00" not in body  # no marker left over
        pages.append(body.replace(token_for_seed(app.config["SECRET_KEY"], seed), "TOKEN"))
    assert pages[0] == pages[1]  # otherwise the very same page


def test_a_logged_in_visitor_gets_the_live_page(app, client, clinic, login_as):
    from portal.identity import Identity

    anonymous = client.get(f"/facility/{clinic.public_id}").get_data(as_text=True)
    assert "退出登录" not in anonymous
    login_as(client, Identity(iss="https://idp.example", sub="u1", name="王五", acr="urn:health-credit:acr:face"))
    page = client.get(f"/facility/{clinic.public_id}")
    assert "退出登录" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "private, no-cache"
    login_as(client, None)
    assert "退出登录" not in client.get(f"/facility/{clinic.public_id}").get_data(as_text=True)


def test_forged_tokens_cost_no_query_at_all(rt, client, plate):
    seen = []
    listener = lambda *a: seen.append(a[2])  # noqa: E731
    event.listen(rt.engine, "before_cursor_execute", listener)
    try:
        assert client.get("/p/AAAAAAAAAAAAAAAA").status_code == 404
    finally:
        event.remove(rt.engine, "before_cursor_execute", listener)
    assert seen == []


# --- conditional GET ---------------------------------------------------------------------------

def test_scan_page_answers_a_conditional_get_with_304_and_counts_it(app, client, session, plate):
    first = _scan(client, plate)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"].startswith("no-cache")
    again = _scan(client, plate, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    assert _scan(client, plate, headers={"If-None-Match": '"something-else"'}).status_code == 200
    scan_counter(app).flush()
    assert svc.scan_counts(session) == {plate.id: 3}  # the 304 is a scan too


def test_every_worker_gives_the_same_etag(settings, app, client, plate):
    from portal import create_app

    other = create_app(settings)  # another worker process: its own cache and marker nonce
    try:
        theirs = other.test_client().get(f"/p/{plate.token}").headers["ETag"]
        mine = _scan(client, plate).headers["ETag"]
        assert theirs.split("-")[0] == mine.split("-")[0]  # the page part (the rest is the minute of the scan)
    finally:
        other.extensions["portal.scan_counter"].flush()
        other.extensions["portal"].engine.dispose()


def test_a_changed_page_gets_a_new_etag(client, ctx, session, plate):
    etag = _scan(client, plate).headers["ETag"]
    svc.revoke_plate(ctx, plate, "lost")
    session.commit()
    resp = _scan(client, plate, headers={"If-None-Match": etag})
    assert resp.status_code == 200 and resp.headers["ETag"] != etag
    assert "banner-revoked" in _banners(resp)


def test_facility_page_304_only_for_the_same_visitor(app, client, clinic):
    url = f"/facility/{clinic.public_id}"
    etag = client.get(url).headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    stranger = app.test_client()  # another CSRF seed: the page they would get differs
    assert stranger.get(url, headers={"If-None-Match": etag}).status_code == 200


# --- scans reach the table ---------------------------------------------------------------------

def test_buffered_scans_reach_the_table_exactly(app, rt, session, client, plate):
    counter = scan_counter(app)
    now = [50.0]
    counter.clock, counter.timer = (lambda: now[0]), False
    _scan(client, plate)
    assert counter.pending() == 1  # the request only counted it
    assert counter.write_due() == 1  # the first write of the period is due at once
    for _ in range(4):
        _scan(client, plate)
    assert counter.write_due() == 0 and counter.pending() == 4  # inside the period: they wait
    assert session.execute(select(PlateScanDay.count)).scalar_one() == 1
    now[0] += 1.0  # a second later the next scan makes all waiting ones due
    _scan(client, plate)
    assert counter.write_due() == 5 and counter.pending() == 0
    session.expire_all()
    assert session.execute(select(PlateScanDay.count)).scalar_one() == 6


def test_scans_are_written_every_flush_scans_and_at_exit(app, rt, session, plate, monkeypatch):
    other = svc.ScanCounter(rt.sessions, clock=lambda: 0.0, flush_scans=10, timer=False)  # a second worker
    mine = scan_counter(app)
    monkeypatch.setattr(svc, "_counters", weakref.WeakSet([other, mine]))  # not other tests' apps
    mine.clock, mine.timer = (lambda: 0.0), False
    other._last_write = mine._last_write = 0.0  # inside their write period: only the count rule writes
    for _ in range(25):
        other.add(plate.id, TODAY)
        mine.add(plate.id, TODAY)
        other.write_due()  # what each writer thread does when woken
        mine.write_due()
    assert other.pending() == 5 and mine.pending() == 25  # other wrote twice (10 + 10)
    svc._flush_at_exit()  # what atexit runs when a worker stops
    assert other.pending() == mine.pending() == 0
    assert svc.scan_counts(session) == {plate.id: 50}


def test_a_failed_write_keeps_the_scans_for_the_next_one(app, session, plate, monkeypatch):
    counter = scan_counter(app)
    counter.timer = False
    real = svc.record_scans
    monkeypatch.setattr(svc, "record_scans", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("db down")))
    counter.add(plate.id, TODAY)
    counter.add(plate.id, TODAY)
    assert counter.write_due() == 0  # the write failed ...
    assert counter.pending() == 2  # ... and kept both scans
    monkeypatch.setattr(svc, "record_scans", real)
    assert counter.flush() == 2
    assert svc.scan_counts(session) == {plate.id: 2}


def _wait_written(counter):
    deadline = time.monotonic() + 20
    while counter.pending() and time.monotonic() < deadline:
        time.sleep(0.05)
    counter.flush()  # returns only after the writer's write (if it is still running) has finished


def test_the_writer_thread_writes_every_scan(app, session, plate):
    counter = scan_counter(app)
    counter.flush_seconds = 0.2
    for _ in range(3):
        counter.add(plate.id, TODAY)  # the first is due at once, the other two are the burst's tail
    _wait_written(counter)
    assert svc.scan_counts(session) == {plate.id: 3}


def test_no_scan_request_writes_the_counts_itself(app, rt, client, session, plate):
    """The count is written by the writer thread: a request that had to write would wait for
    the database (a long import on SQLite held it for minutes) and stall the scan page."""
    import threading

    counter = scan_counter(app)
    counter.flush_seconds = 0.2
    writers = []

    def listener(conn, cursor, statement, *a):
        if "plate_scan_days" in statement and not statement.lstrip().upper().startswith("SELECT"):
            writers.append(threading.get_ident())

    event.listen(rt.engine, "before_cursor_execute", listener)
    try:
        for _ in range(5):
            _scan(client, plate)  # the test client runs each request on this thread
        _wait_written(counter)
    finally:
        event.remove(rt.engine, "before_cursor_execute", listener)
    assert svc.scan_counts(session) == {plate.id: 5}
    me = threading.get_ident()
    assert writers and me not in writers


def test_a_refused_write_is_retried_later_and_never_fails_the_page(app, client, session, plate, monkeypatch):
    counter = scan_counter(app)
    counter.flush_seconds = 0.1
    real, refusals = svc.record_scans, []

    def locked(*a, **k):
        if len(refusals) < 2:  # what SQLite answers when a writer holds the lock past the busy timeout
            refusals.append(1)
            raise RuntimeError("database is locked")
        return real(*a, **k)

    monkeypatch.setattr(svc, "record_scans", locked)
    for _ in range(3):
        assert client.get(f"/p/{plate.token}").status_code == 200
    deadline = time.monotonic() + 20
    while (counter.pending() or len(refusals) < 2) and time.monotonic() < deadline:
        time.sleep(0.05)
    counter.flush()
    assert len(refusals) == 2
    assert svc.scan_counts(session) == {plate.id: 3}


# --- the search marker (?from=search) changes nothing but a counter ------------------------------

def test_the_search_marker_keeps_page_cache_and_etag(app, client, session, clinic):
    from portal.models import SearchOpenDay
    from portal.web.public import search_open_counter

    counter = search_open_counter(app)
    counter.timer = False
    url = f"/facility/{clinic.public_id}"
    plain = client.get(url)
    marked = client.get(f"{url}?from=search")
    assert marked.status_code == 200 and marked.get_data() == plain.get_data()  # the very same page
    assert marked.headers["ETag"] == plain.headers["ETag"]
    assert marked.headers["Cache-Control"] == plain.headers["Cache-Control"] == "private, no-cache"
    assert "Cookie" in marked.headers["Vary"] and "from=search" not in marked.get_data(as_text=True)
    again = client.get(f"{url}?from=search", headers={"If-None-Match": plain.headers["ETag"]})
    assert again.status_code == 304  # the browser's copy of the plain page serves the marked link too
    assert app.test_client().get(f"{url}?from=search",
                                 headers={"If-None-Match": plain.headers["ETag"]}).status_code == 200  # another visitor
    assert counter.flush() == 3  # a 304 from a search result is an open from search too
    session.expire_all()
    assert session.execute(select(SearchOpenDay.subject_id, SearchOpenDay.count)).all() == [(clinic.id, 3)]
