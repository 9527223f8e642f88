"""The red and serious-dishonesty lists as citizens use them (issue #13): filters by city, county
and category, a CSV download Excel opens, labelled fields on phones, pages past the end."""
from __future__ import annotations

import csv
import io

import pytest
from bs4 import BeautifulSoup


@pytest.fixture
def listed(make_org, make_person, make_record, reindex):
    def put(name, region, category="hospital"):
        org = make_org(name=name, region_code=region, category=category)
        make_record(org, record_type="serious_list", title=f"{name}列入严重失信主体名单", severity="serious")
        return org

    out = {
        "furong": put("芙蓉区甲医院", "430102"),
        "tianxin": put("天心区乙药房", "430103", "pharmacy"),
        "zhuzhou": put("荷塘区丙医院", "430202"),
        "formula": put("=HYPERLINK(\"x\")诊所", "430102", "clinic"),
    }
    reindex()
    return out


def _names(resp) -> list[str]:
    assert resp.status_code == 200
    soup = BeautifulSoup(resp.get_data(as_text=True), "html.parser")
    return sorted(a.get_text() for a in soup.select("table.list td[data-label=主体名称] a"))


def test_filters_by_city_county_and_category(client, listed):
    assert len(_names(client.get("/lists/serious"))) == 4
    assert _names(client.get("/lists/serious?city=430200")) == ["荷塘区丙医院"]
    assert _names(client.get("/lists/serious?city=430100&category=hospital")) == ["芙蓉区甲医院"]
    assert _names(client.get("/lists/serious?county=430103")) == ["天心区乙药房"]
    # a county outside the chosen city is dropped, not an empty page; unknown values are ignored
    assert _names(client.get("/lists/serious?city=430200&county=430103")) == ["荷塘区丙医院"]
    assert len(_names(client.get("/lists/serious?city=<script>&category=x' OR 1=1"))) == 4
    assert _names(client.get("/lists/red?city=430100")) == []


def test_search_within_a_list(client, listed):
    assert _names(client.get("/lists/serious", query_string={"q": "乙药"})) == ["天心区乙药房"]
    assert _names(client.get("/lists/serious", query_string={"q": " 医院 ", "city": "430200"})) == ["荷塘区丙医院"]
    assert _names(client.get("/lists/serious", query_string={"q": "%"})) == []  # a wildcard is a character
    assert _names(client.get("/lists/serious", query_string={"q": "x" * 500 + "\x00"})) == []
    csv_body = client.get("/lists/serious.csv", query_string={"q": "乙药"}).get_data().decode("utf-8-sig")
    assert "天心区乙药房" in csv_body and "芙蓉区甲医院" not in csv_body


def test_every_field_is_labelled_for_phones(client, listed):
    soup = BeautifulSoup(client.get("/lists/serious").get_data(as_text=True), "html.parser")
    for row in soup.select("table.list tbody tr"):
        labels = [td.get("data-label") for td in row.select("td")]
        assert labels == ["主体名称", "类别", "事由", "认定部门", "决定日期", "公示截止"]


def test_csv_download_opens_in_excel(client, listed):
    resp = client.get("/lists/serious.csv?city=430100")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    body = resp.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8 Chinese
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][0] == "主体名称" and rows[0][-1] == "公示截止"
    names = sorted(r[0] for r in rows[1:])
    assert names == ["'=HYPERLINK(\"x\")诊所", "天心区乙药房", "芙蓉区甲医院"]  # a formula stays text
    assert all(r[1] for r in rows[1:])  # the credit code column is filled
    assert client.get("/lists/nope.csv").status_code == 404


def test_page_past_the_last_shows_the_last_page(client, listed):
    soup = BeautifulSoup(client.get("/lists/serious?page=99").get_data(as_text=True), "html.parser")
    assert len(soup.select("table.list tbody tr")) == 4
    assert "没有第 99 页" in soup.select_one(".page-clamped").get_text()
