"""The public search page on every search backend the portal deploys: Whoosh (on SQLite and on
PostgreSQL) and the PostgreSQL search backend beside the PostgreSQL database."""
from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from tests.conftest import DATABASES, SEARCH_ON_POSTGRES

pytestmark = pytest.mark.parametrize("settings", [*DATABASES, SEARCH_ON_POSTGRES], indirect=True)


@pytest.fixture
def facilities(make_org, make_record, reindex):
    a = make_org(name="长沙市第一人民医院", category="hospital", licence_no="PDY00012343010217A1001")
    b = make_org(name="德仁堂大药房（五一路店）", category="pharmacy", region_code="430103")
    c = make_org(name="南京市口腔诊所", category="clinic")
    make_record(b, title="销售过期药品", severity="general")
    reindex()
    return a, b, c


def _names(resp):
    soup = BeautifulSoup(resp.get_data(as_text=True), "html.parser")
    return [a.get_text() for a in soup.select(".hit-name")]


@pytest.mark.parametrize("query", ["民医", "人民医院", "长沙市第一人民医院", "第一"])
def test_partial_and_full_names(client, facilities, query):
    assert "长沙市第一人民医院" in _names(client.get("/search", query_string={"q": query}))


def test_credit_code_and_licence(client, facilities):
    a = facilities[0]
    assert _names(client.get("/search", query_string={"q": a.credit_code})) == ["长沙市第一人民医院"]
    assert _names(client.get("/search", query_string={"q": a.credit_code.lower()})) == ["长沙市第一人民医院"]
    assert _names(client.get("/search", query_string={"q": "PDY00012343010217A1001"})) == ["长沙市第一人民医院"]


def test_substring_precision(client, facilities):
    assert _names(client.get("/search", query_string={"q": "京市"})) == ["南京市口腔诊所"]
    assert _names(client.get("/search", query_string={"q": "大药房"})) == ["德仁堂大药房（五一路店）"]


def test_facets_filter(client, facilities):
    names = _names(client.get("/search", query_string={"category": "pharmacy"}))
    assert names == ["德仁堂大药房（五一路店）"]


def test_htmx_fragment(client, facilities):
    resp = client.get("/search", query_string={"q": "口腔"}, headers={"HX-Request": "true"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<html" not in body and 'id="results"' in body
    assert "HX-Request" in resp.headers.get("Vary", "")


def test_facility_page(client, facilities):
    b = facilities[1]
    soup = BeautifulSoup(client.get(f"/facility/{b.public_id}").get_data(as_text=True), "html.parser")
    assert soup.h1.get_text() == "德仁堂大药房（五一路店）"
    text = soup.get_text()
    assert "销售过期药品" in text and "公示期：" in text and "自公示之日起算" in text  # the window and its start (#13)
    assert "可申请信用修复" in text or "信用修复：已可申请" in text
    assert "数据更新时间" in text


def test_by_code_redirect(client, facilities):
    a = facilities[0]
    resp = client.get(f"/facility/by-code/{a.credit_code}")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(a.public_id)


HOSTILE = [
    "", "x" * 5000, "！？。，、；：", "'; DROP TABLE subjects; --", "name:医院 OR *", "<script>alert(1)</script>",
    '"unbalanced', "\\", "😀😀", "%E4%B8", "a" * 100 + "医院",
]


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries(client, facilities, q):
    resp = client.get("/search", query_string={"q": q})
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert "Traceback" not in body


@pytest.mark.parametrize("url,status", [
    ("/search?q=%FF%FE", 200), ("/search?q=医院&page=-1", 200), ("/search?q=医院&page=1000000000", 200),
    ("/search?q=医院&page=abc", 200), ("/search?category=<x>", 200), ("/facility/../../etc/passwd", 404),
    ("/facility/nonexistent", 404), ("/facility/%FF", 404), ("/facility/by-code/123", 404),
    ("/facility/by-code/91430100MA4L0000X0", 404), ("/lists/unknown", 404), ("/no/such/page", 404),
])
def test_bad_urls(client, facilities, url, status):
    resp = client.get(url)
    assert resp.status_code == status
    assert "Traceback" not in resp.get_data(as_text=True)
    if status == 404:
        assert "页面不存在" in resp.get_data(as_text=True) or "未找到" in resp.get_data(as_text=True)


# -- privacy and the index commands, on every backend ---------------------------------------------

CANARY = "金丝雀CANARY-9b7e"


@pytest.fixture
def with_canary(make_org, make_record, reindex):
    """A facility with one public record and one that is not public (shared with authorities)."""
    org = make_org(name="银河社区卫生服务中心", category="hospital")
    make_record(org, title="公开：未按规定公示收费标准")
    make_record(org, title=f"不公开 {CANARY} 内部通报", scope="shared")
    reindex()
    return org


def _cli(settings, *args):
    from click.testing import CliRunner

    from portal.cli import main

    result = CliRunner().invoke(main, list(args), env={k: str(v) for k, v in settings.items()})
    assert result.exit_code == 0, result.output
    return result.output


def test_backend_is_the_configured_one(rt, settings):
    scheme = settings["SEARCH_URL"].partition("://")[0]
    expected = {"postgresql+psycopg": "PostgresBackend", "whoosh": "WhooshBackend", "tantivy": "TantivyBackend"}
    assert type(rt.backend).__name__ == expected[scheme]


def test_non_public_title_is_never_found(client, with_canary, settings):
    parts = ("金丝雀", "CANARY-9b7e", "内部通报")
    for q in (CANARY, *parts, "不公开"):
        resp = client.get("/search", query_string={"q": q})
        assert resp.status_code == 200
        assert _names(resp) == [], q
        body = resp.get_data(as_text=True)  # the page repeats the query itself, nothing more
        assert not [p for p in parts if p not in q and p in body], q
    assert _names(client.get("/search", query_string={"q": "公示收费"})) == ["银河社区卫生服务中心"]
    # A rebuild from the database (as `credit-portal index rebuild` on another node) holds the line too.
    assert "索引已重建" in _cli(settings, "index", "rebuild")
    assert _names(client.get("/search", query_string={"q": "金丝雀"})) == []
    assert _names(client.get("/search", query_string={"q": "银河"})) == ["银河社区卫生服务中心"]


def test_index_commands_drain_and_rebuild(client, rt, session, make_org, settings):
    """The worker-mode path at scale: the web process only queues, `index drain` writes, every
    node's search sees it (the CLI is another process with its own backend)."""
    from portal.services import indexing

    make_org(name="星沙街道口腔门诊部", category="clinic")
    session.commit()
    assert _names(client.get("/search", query_string={"q": "星沙"})) == []
    assert indexing.pending_count(session) > 0
    assert "已处理" in _cli(settings, "index", "drain")
    assert indexing.pending_count(session) == 0
    assert _names(client.get("/search", query_string={"q": "星沙"})) == ["星沙街道口腔门诊部"]
    assert _names(client.get("/search", query_string={"q": "沙街"})) == ["星沙街道口腔门诊部"]
    status = _cli(settings, "index", "status")
    assert "索引文档数：1" in status and "待处理任务：0" in status
    generation = rt.backend.generation()
    _cli(settings, "index", "rebuild")
    assert rt.backend.generation() != generation
    assert _names(client.get("/search", query_string={"q": "口腔门诊"})) == ["星沙街道口腔门诊部"]
