"""Search as a citizen reads it (issue #13): page numbers past the end, hits that flag the serious
list and D grades, a region facet that reaches every county. On every deployed search backend."""
from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from tests.conftest import DATABASES, SEARCH_ON_POSTGRES, TODAY

pytestmark = pytest.mark.parametrize("settings", [*DATABASES, SEARCH_ON_POSTGRES], indirect=True)


def _soup(resp):
    assert resp.status_code == 200
    return BeautifulSoup(resp.get_data(as_text=True), "html.parser")


@pytest.fixture
def counties(rt, make_org, reindex):
    """One clinic in each of the first 15 counties of the profile (more than the 12 shown)."""
    codes = [r.code for r in rt.profile.regions if not r.code.endswith("00")][:15]
    for i, code in enumerate(codes):
        make_org(name=f"便民诊所{i:02d}", category="clinic", region_code=code)
    reindex()
    return codes


def test_page_past_the_last_gives_the_last_page_and_says_so(client, counties):
    soup = _soup(client.get("/search", query_string={"q": "便民诊所", "page": "99"}))
    text = soup.get_text()
    assert len(soup.select(".hit-name")) == 15  # the one and last page, not an empty page
    assert "99/" not in text.replace(" ", "") and "99 /" not in text
    assert "没有第 99 页" in soup.select_one(".page-clamped").get_text()
    # an in-range page says nothing of the sort
    assert _soup(client.get("/search", query_string={"q": "便民诊所"})).select_one(".page-clamped") is None


def test_region_facet_reaches_every_county(client, rt, counties):
    soup = _soup(client.get("/search", query_string={"q": "便民诊所"}))
    facet = next(d for d in soup.select(".facet") if d.strong.get_text() == "地区：")
    names = [a.get_text().split(" (")[0] for a in facet.select("a.chip")]
    assert sorted(names) == sorted(rt.profile.region(c).name for c in counties)
    more = facet.select_one("details.facet-more")
    assert more is not None and "更多" in more.summary.get_text()
    assert len(more.select("a.chip")) == 3


def test_hits_flag_the_serious_list_and_d_grades(client, session, make_org, make_record, reindex):
    from portal.models import Grade

    listed = make_org(name="芙蓉区失信大药房", category="pharmacy")
    make_record(listed, record_type="blacklist", title="列入失信黑名单", severity="serious")
    graded = make_org(name="芙蓉区差评诊所", category="clinic")
    session.add(Grade(subject_id=graded.id, year=TODAY.year - 1, letter="D", score=40, explanation=[],
                      profile_id="hunan"))
    make_org(name="芙蓉区平安诊所", category="clinic")
    reindex()
    soup = _soup(client.get("/search", query_string={"q": "芙蓉区"}))
    hits = {h.select_one(".hit-name").get_text(): h for h in soup.select(".hit")}
    assert "失信黑名单" in hits["芙蓉区失信大药房"].select_one(".risk-item[data-kind=list]").get_text()
    assert hits["芙蓉区差评诊所"].select_one(".grade-flag").get_text().startswith(f"{TODAY.year - 1} 年度信用等级 D")
    assert hits["芙蓉区平安诊所"].select_one(".grade-flag") is None
    assert hits["芙蓉区平安诊所"].select_one(".risk-item[data-kind=list]") is None


LICENCES = [
    ("湘DA7390008", "pharmacy", "德仁堂大药房（湘江店）"),  # 药品经营许可证 (drug retail)
    ("湘芙卫公证字〔2025〕第0001号", "hotel", "芙蓉区悦来宾馆"),  # 卫生许可证 (public places)
    ("PDY00004243010217A1002", "clinic", "芙蓉区仁心诊所"),  # 医疗机构执业许可证 登记号
]


@pytest.mark.parametrize(("licence", "category", "name"), LICENCES)
def test_every_licence_format_is_findable(client, make_org, reindex, licence, category, name):
    org = make_org(name=name, category=category, licence_no=licence)
    make_org(name="芙蓉区另一家单位", category=category, licence_no="湘DA7390009" if category == "pharmacy" else None)
    reindex()
    for q in (licence, licence.lower(), licence.replace("〔", "(").replace("〕", ")"), org.credit_code[:8],
              org.credit_code[:12]):
        names = [a.get_text() for a in _soup(client.get("/search", query_string={"q": q})).select(".hit-name")]
        assert name in names, q
        if q in (licence, licence.lower()):
            assert names == [name], q


def test_default_order_puts_the_riskier_unit_first_among_equal_matches(client, session, make_org, make_record,
                                                                       reindex):
    """Best match first; among equal matches the unit on the serious list, then the D grade, then
    the rest (issue #13), not the character-code order of the names."""
    from portal.models import Grade

    make_org(name="甲安康诊所", category="clinic")
    graded = make_org(name="乙安康诊所", category="clinic")
    session.add(Grade(subject_id=graded.id, year=TODAY.year - 1, letter="D", score=40, explanation=[],
                      profile_id="hunan"))
    listed = make_org(name="丙安康诊所", category="clinic")
    make_record(listed, record_type="blacklist", title="列入失信黑名单", severity="serious")
    make_org(name="安康诊所", category="clinic")  # the exact name stays first
    reindex()
    soup = _soup(client.get("/search", query_string={"q": "安康诊所"}))
    assert [a.get_text() for a in soup.select(".hit-name")] == ["安康诊所", "丙安康诊所", "乙安康诊所", "甲安康诊所"]
    order = soup.select_one(".sort-order")
    assert order.select_one("[aria-current]").get_text() == "最相关"


def test_sort_by_region(client, rt, counties):
    soup = _soup(client.get("/search", query_string={"q": "便民诊所"}))
    link = next(a for a in soup.select(".sort-order a") if a.get_text() == "按地区")
    soup = _soup(client.get(link["href"]))
    assert soup.select_one(".sort-order [aria-current]").get_text() == "按地区"
    shown = [h.select_one(".hit-meta").get_text().split(" · ")[1] for h in soup.select(".hit")]
    assert shown == [rt.profile.region(c).name for c in sorted(counties)]
    assert soup.select_one("input[name=sort]")["value"] == "region"  # a new query keeps the order
    # an unknown order is the default one, never an error
    assert client.get("/search", query_string={"q": "便民诊所", "sort": "<x>"}).status_code == 200
