"""The subject's own page (issue 14): a summary first (grade and score, records per class, open
cases), records grouped by class in collapsible sections with 提出异议 / 申请信用修复 on each
record's own row; the access log filterable by who looked, with the staff member's unit; every
table cell on the subject pages keeps its label for the stacked phone layout."""
from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from portal.services import cases
from portal.services import staff as staff_svc
from portal.services.access_log import log_staff_view

from .subject_world import GRADED_TITLE, ORG_NAME, PUBLIC_TITLE, build_world


@pytest.fixture
def world(rt, session):
    return build_world(rt, session)


def _page(client, url):
    resp = client.get(url)
    assert resp.status_code == 200, url
    return BeautifulSoup(resp.get_data(as_text=True), "html.parser")


def test_summary_first_then_groups_with_actions_on_each_row(ctx, session, client, login_as, world):
    org = world.org
    rec = next(r for r in org_records(session, org) if r.title == PUBLIC_TITLE and r.is_current)
    case = cases.file_objection(ctx, org, rec, ground="fact_error", statement="文号有误",
                                applicant=cases.Applicant.of(world.ids["legal_rep"], "legal_rep"), commitment=True,
                                identity_confirmed=True)
    session.commit()
    login_as(client, world.ids["legal_rep"])
    page = _page(client, f"/me/subjects/{org.public_id}")
    cards = page.select("main section.card")
    assert "summary" in cards[1]["class"]  # right after the subject's header card
    summary = cards[1]
    assert summary.select_one(".grade").get_text() == page.select_one(".grade-card .grade").get_text()
    assert summary.select_one(".summary-score").get_text() == page.select_one(".grade-score")["data-score"]
    counts = {li["class"][0]: li.get_text() for li in summary.select(".class-counts li")}
    groups = page.select("details.record-group")
    assert [g["id"] for g in groups] == ["class-" + k.removeprefix("count-") for k in counts]
    for g in groups:  # the summary's count is the number of records in the group
        n = len(g.select("li.record"))
        assert counts["count-" + g["id"].removeprefix("class-")].endswith(f" {n} 条")
        assert {li["class"][1] for li in g.select("li.record")} == {"record-" + g["id"].removeprefix("class-")}
    assert groups[0].has_attr("open") and groups[0]["id"] == "class-dishonest"
    assert not page.select_one("#class-basic").has_attr("open")  # collapsed, one tap away
    assert case.case_no in summary.select_one(".open-cases").get_text()
    # the actions sit on the record's own row: the one with the open case links to it, others offer 提出异议
    own = page.select_one(f"#record-{rec.lineage_id} .record-actions")
    assert case.case_no in own.get_text() and own.select_one("a.file-objection") is None
    graded = next(li for li in page.select("li.record") if GRADED_TITLE in li.select_one(".record-title").get_text())
    link = graded.select_one(".record-actions a.file-objection")["href"]
    assert link.endswith(f"/records/{graded['id'].removeprefix('record-')}/objection")
    # the pure rules refuse repair for this one: no button, the reason with its article and a link to the conditions
    verdict = graded.select_one(".repair-verdict")
    assert verdict["data-eligible"] == "no" and graded.select_one("a.apply-repair") is None
    assert "第" in verdict.get_text() and verdict.select_one("a")["href"].endswith("/repair")
    assert page.select("table.case-links") == []  # no second list matched by title
    # a third party with an authorisation sees the records, without the subject's actions or cases
    login_as(client, world.ids["grantee_during"])
    page = _page(client, f"/me/subjects/{org.public_id}")
    assert page.select(".record-actions") == [] and page.select_one(".open-cases") is None
    assert page.select("details.record-group")


def org_records(session, org):
    from portal.services.subject_reads import subject_records

    return subject_records(session, org)


def test_access_log_filters_by_who_and_names_the_staff_unit(ctx, session, client, login_as, world, rt):
    org = world.org
    user, _ = staff_svc.create_staff(ctx, "dept.furong", "Pa55word-long-enough!", ["department"],
                                     region_code="430102", display_name="张科员")
    provider, _ = staff_svc.create_staff(ctx, "prov.cdc", "Pa55word-long-enough!", ["provider"],
                                         authority="长沙市疾病预防控制中心", display_name="李专员")
    log_staff_view(ctx, user.username, user.display_name, org.id, "办理异议", what="case")
    log_staff_view(ctx, provider.username, provider.display_name, org.id, "核实信息", what="case")
    session.commit()
    login_as(client, world.ids["grantee_during"])
    _page(client, f"/me/subjects/{org.public_id}")  # a third party's view, logged
    login_as(client, world.ids["legal_rep"])
    _page(client, f"/me/subjects/{org.public_id}")

    def rows(who=None):
        url = f"/me/subjects/{org.public_id}/access-log" + (f"?who={who}" if who else "")
        page = _page(client, url)
        return [{td["data-label"]: td.get_text(" ", strip=True) for td in tr.select("td")}
                for tr in page.select("table.access-log tbody tr")]

    everything = rows()
    links = _page(client, f"/me/subjects/{org.public_id}/access-log").select(".access-filter a")
    assert [a.get_text() for a in links] == ["全部", "本人或法定代表人", "监管工作人员", "经授权的第三方"]
    assert [a["href"].partition("?")[2] for a in links] == ["", "who=mine", "who=staff", "who=third"]
    staff = rows("staff")
    assert {r["查看人"] for r in staff} == {"张科员", "李专员"}
    units = {r["查看人"]: r["查看人单位"] for r in staff}
    assert units["李专员"] == "长沙市疾病预防控制中心"
    region = rt.profile.region("430102").name
    assert units["张科员"] == f"{rt.profile.authority}（{region}）"
    third = rows("third")
    assert third and all("经书面授权" in r["身份"] and r["查看人"].startswith("孙有效") for r in third)
    mine = rows("mine")
    assert mine and all(r["身份"] == "法定代表人" and r["查看人单位"] == "—" for r in mine)
    assert len(everything) >= len(staff) + len(third) + 1
    assert rows("nonsense") and _page(client, f"/me/subjects/{org.public_id}/access-log?who=nonsense").select_one(
        ".access-filter a.current").get_text() == "全部"


def test_every_table_cell_on_subject_pages_keeps_its_label(client, login_as, world):
    """Phones stack table rows as label/value pairs (CSS ``td::before { content: attr(data-label) }``):
    every cell needs the label of its column."""
    org = world.org
    login_as(client, world.ids["legal_rep"])
    _page(client, f"/me/subjects/{org.public_id}")  # an access-log row to show
    checked = 0
    for url in ("/me", f"/me/subjects/{org.public_id}", f"/me/subjects/{org.public_id}/access-log",
                f"/me/subjects/{org.public_id}/authorisations", "/repair-notices"):
        page = _page(client, url)
        for table in page.select("table.list"):
            heads = [th.get_text(strip=True) for th in table.select("thead th")]
            for tr in table.select("tbody tr"):
                cells = tr.select("td")
                assert len(cells) == len(heads), url
                for head, td in zip(heads, cells, strict=True):
                    assert head and td.get("data-label") == head, (url, head, td.get("data-label"))
                    checked += 1
    assert checked > 20 and ORG_NAME in _page(client, "/me").get_text()
