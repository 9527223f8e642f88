"""``credit-portal index create`` (issue #17): creates the PostgreSQL search tables at deploy
time, is idempotent (a second run, or one after a rebuild, changes nothing) and puts back tables
that were dropped; a file backend needs nothing."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from portal.cli import main
from tests.conftest import SEARCH_ON_POSTGRES


def _invoke(*args):
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _tables(rt) -> set[str]:
    with rt.engine.connect() as conn:
        return {r[0] for r in conn.execute(text(
            "SELECT c.relname FROM pg_class c WHERE c.relname LIKE 'search\\_%' "
            "AND c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'"))}


@pytest.mark.parametrize("settings", [SEARCH_ON_POSTGRES], indirect=True)
def test_create_is_idempotent_and_keeps_the_index(app, rt, settings, monkeypatch, make_org, session):
    for k, v in settings.items():
        monkeypatch.setenv(k, v)
    assert _tables(rt) == set()
    assert "已创建搜索索引表" in _invoke("index", "create")
    assert _tables(rt) == {"search_state", "search_entries", "search_docs", "search_terms", "search_phrases"}
    assert "已存在，未作改动（文档数：0）" in _invoke("index", "create")

    make_org(name="韶山市人民医院", category="hospital", region_code="430382")
    session.commit()
    assert "索引已重建：1" in _invoke("index", "rebuild")
    assert "已存在，未作改动（文档数：1）" in _invoke("index", "create")

    with rt.engine.begin() as conn:  # tables dropped by hand; the state row stays
        conn.execute(text("DROP TABLE search_entries, search_docs"))
    rt.backend.close()
    assert "已创建搜索索引表" in _invoke("index", "create")
    assert _tables(rt) == {"search_state", "search_entries", "search_docs", "search_terms", "search_phrases"}
    assert "文档数：0" in _invoke("index", "create")


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_file_backend_needs_no_create(app, settings, monkeypatch):
    for k, v in settings.items():
        monkeypatch.setenv(k, v)
    assert "无需预先创建" in _invoke("index", "create")


@pytest.mark.parametrize("settings", [SEARCH_ON_POSTGRES], indirect=True)
def test_a_store_of_another_schema_version_says_rebuild(app, rt, settings, monkeypatch):
    """A store built by an older version (schema 3: no facet tokens, no phrases) is refused with
    the way out, by ``index create`` and ``index status`` alike; ``index rebuild`` fixes it."""
    for k, v in settings.items():
        monkeypatch.setenv(k, v)
    _invoke("index", "create")
    with rt.engine.begin() as conn:
        conn.execute(text("UPDATE search_state SET version = 3"))
    rt.backend.close()
    for command in ("create", "status"):
        result = CliRunner().invoke(main, ["index", command])
        assert result.exit_code == 1 and "credit-portal index rebuild" in result.output, result.output
        assert "schema version 3" in result.output and "Traceback" not in result.output, result.output
    assert "索引已重建：0" in _invoke("index", "rebuild")
    assert "索引文档数：0" in _invoke("index", "status")
