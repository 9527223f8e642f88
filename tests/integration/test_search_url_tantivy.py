"""The portal on ``SEARCH_URL=tantivy://...``: search pages, the index CLI, another process's view.

The rest of the integration suite runs on tantivy too (the default); ``TEST_SEARCH_BACKEND=whoosh`` runs it on Whoosh."""
from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from search_index import SearchQuery, open_backend
from search_index.tantivy_backend import TantivyBackend


@pytest.fixture
def settings(settings, tmp_path):
    return {**settings, "SEARCH_URL": f"tantivy://{tmp_path / 'tantivy-index'}"}


@pytest.fixture
def facilities(make_org, make_record, reindex):
    a = make_org(name="长沙市第一人民医院", category="hospital", licence_no="PDY00012343010217A1001")
    b = make_org(name="德仁堂大药房（五一路店）", category="pharmacy", region_code="430103")
    make_record(b, title="销售过期药品", severity="general")
    reindex()
    return a, b


def _names(resp) -> list[str]:
    assert resp.status_code == 200
    soup = BeautifulSoup(resp.get_data(as_text=True), "html.parser")
    return [a.get_text() for a in soup.select(".hit-name")]


def test_the_app_searches_through_tantivy(rt, client, facilities):
    assert isinstance(rt.backend, TantivyBackend)
    a, _ = facilities
    assert _names(client.get("/search", query_string={"q": "民医"})) == ["长沙市第一人民医院"]
    assert _names(client.get("/search", query_string={"q": a.credit_code.lower()})) == ["长沙市第一人民医院"]
    assert _names(client.get("/search", query_string={"q": "过期药品"})) == ["德仁堂大药房（五一路店）"]
    assert _names(client.get("/search", query_string={"category": "pharmacy"})) == ["德仁堂大药房（五一路店）"]
    assert _names(client.get("/search", query_string={"q": "name:x OR *"})) == []


def test_cli_rebuild_and_another_process_view(rt, settings, facilities, make_org, session, monkeypatch):
    from click.testing import CliRunner

    from portal.cli import main

    for k, v in settings.items():
        monkeypatch.setenv(k, v)
    make_org(name="湘雅医院", category="hospital")
    session.commit()  # queued, not drained: the rebuild picks it up from the database
    result = CliRunner().invoke(main, ["index", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "索引已重建：3" in result.output
    other = open_backend(settings["SEARCH_URL"])  # what another worker process opens
    try:
        assert [h.doc["name"] for h in other.search(SearchQuery("湘雅")).hits] == ["湘雅医院"]
        assert other.count() == rt.backend.count() == 3
    finally:
        other.close()
    result = CliRunner().invoke(main, ["index", "status"])
    assert result.exit_code == 0 and "索引文档数：3" in result.output, result.output


def test_index_status_reports_an_index_built_with_older_analysis_rules(rt, settings, facilities):
    """An index built before the analysis rules changed (no ANALYSIS record: version 1) is named
    by `index status` until `index rebuild`, so the operator learns a rebuild is due."""
    from pathlib import Path

    from click.testing import CliRunner

    from portal.cli import main
    from search_index.analysis import ANALYSIS_VERSION
    from search_index.storage import ANALYSIS_FILE

    env = {k: str(v) for k, v in settings.items()}
    root = Path(settings["SEARCH_URL"].removeprefix("tantivy://"))
    status = CliRunner().invoke(main, ["index", "status"], env=env)
    assert status.exit_code == 0 and "注意" not in status.output, status.output
    (root / (root / "CURRENT").read_text().strip() / ANALYSIS_FILE).unlink()
    status = CliRunner().invoke(main, ["index", "status"], env=env)
    assert status.exit_code == 0, status.output
    assert f"按第 1 版检索规则建立（当前为第 {ANALYSIS_VERSION} 版）" in status.output
    assert "请运行 credit-portal index rebuild" in status.output and "索引文档数：2" in status.output
    assert CliRunner().invoke(main, ["index", "rebuild"], env=env).exit_code == 0
    status = CliRunner().invoke(main, ["index", "status"], env=env)
    assert status.exit_code == 0 and "注意" not in status.output, status.output
