"""A subject page's "数据更新时间" is when that subject's public data last changed (its own scoped
changes, or a change not scoped to any subject), not the last change anywhere (issue #17's
left-overs): the page cache keeps a subject's page across another subject's change, so a time
that followed every change made the cached copy and a fresh render of the same data disagree.
The site footer elsewhere keeps the last change anywhere."""
from __future__ import annotations

import re

from sqlalchemy import text

from portal import public_version
from portal.services import plates as plate_svc

OLD_UTC = "2026-01-02T03:04:05"
OLD_SHOWN = "2026-01-02 11:04"  # Beijing time


def _times(client, url: str) -> tuple[str, str]:
    """(the footer's 数据更新时间, the risk summary's) of a page; "" where the page has none (the
    scan page has no site footer, the home page no risk summary)."""
    resp = client.get(url)
    assert resp.status_code == 200, url
    page = resp.get_data(as_text=True)
    _, _, footer = page.partition('class="site-footer"')
    shown = re.search(r"数据更新时间：(\d{4}-\d\d-\d\d \d\d:\d\d|—)", footer)
    risk = re.search(r'class="risk-time">数据更新时间：(\d{4}-\d\d-\d\d \d\d:\d\d)', page)
    return shown.group(1) if shown else "", risk.group(1) if risk else ""


def _backdate(rt) -> None:
    """Every time stored so far set to ``OLD_UTC`` (on a bare connection: no version change),
    so that a later change's time differs from it whatever the machine's speed."""
    with rt.engine.begin() as conn:
        for key in (public_version.KEY_AT, public_version.KEY_GLOBAL_AT):
            conn.execute(text("UPDATE portal_state SET value = :v WHERE key = :k"), {"v": OLD_UTC, "k": key})
        conn.execute(text("UPDATE subjects SET public_changed_at = NULL"))


def test_a_page_kept_across_another_subjects_change_keeps_the_right_time(app, client, rt, ctx, session, make_org,
                                                                          make_record, reindex):
    cache = app.extensions["portal.page_cache"]
    mine = make_org(name="岳麓区第一诊所", category="clinic", region_code="430104")
    make_record(mine, title="未按规定公示收费标准")
    plate = plate_svc.issue_plate(ctx, mine)
    other = make_org(name="天心区第二诊所", category="clinic", region_code="430103")
    reindex()
    _backdate(rt)
    pages = (f"/facility/{mine.public_id}", f"/p/{plate.token}")
    before = [(OLD_SHOWN, OLD_SHOWN), ("", OLD_SHOWN)]  # the facility page, the scan page (no footer)
    assert [_times(client, url) for url in pages] == before  # built and cached
    # another subject's own change: scoped to it (its stamp), the global version stays
    make_record(other, title="天心区第二诊所的公开处罚")
    session.commit()
    assert len(cache) >= 2
    kept = [_times(client, url) for url in pages]
    cache.clear()
    fresh = [_times(client, url) for url in pages]
    assert kept == fresh == before  # the same data, the same time, cached or not
    # the other subject's page and the site's footer show the new change
    assert _times(client, f"/facility/{other.public_id}")[0] not in (OLD_SHOWN, "—")
    assert _times(client, "/")[0] not in (OLD_SHOWN, "—")
    # this subject's own change moves its time
    make_record(mine, title="岳麓区第一诊所的新处罚")
    session.commit()
    mine_now = _times(client, pages[0])
    assert mine_now[0] != OLD_SHOWN and mine_now[0] == mine_now[1]
    # a change not scoped to a subject (a subject's row: its name shows on its staff's pages) moves every page
    _backdate(rt)
    cache.clear()
    assert _times(client, pages[0]) == (OLD_SHOWN, OLD_SHOWN)
    other.name = "天心区第二诊所（更名）"
    session.commit()
    assert _times(client, pages[0])[0] != OLD_SHOWN


def test_before_any_versioned_change_the_index_time_is_shown(client, rt, session, make_org, make_record, reindex):
    org = make_org(name="开福区第三诊所", category="clinic", region_code="430105")
    make_record(org, title="未按规定公示收费标准")
    reindex()
    with rt.engine.begin() as conn:
        conn.execute(text("DELETE FROM portal_state WHERE key IN (:a, :g)"),
                     {"a": public_version.KEY_AT, "g": public_version.KEY_GLOBAL_AT})
        conn.execute(text("UPDATE subjects SET public_changed_at = NULL"))
        conn.execute(text("UPDATE portal_state SET value = :v WHERE key = 'index_updated_at'"), {"v": OLD_UTC})
    app_cache = client.application.extensions["portal.page_cache"]
    app_cache.clear()
    assert _times(client, f"/facility/{org.public_id}")[0] == OLD_SHOWN
    assert _times(client, "/")[0] == OLD_SHOWN
