"""The benchmark harness keeps working: every command on a 300-subject dataset (``--size XS``),
in a temporary BENCH_DATA directory. Figures are not checked here, only that each command runs
and prints its JSON line."""
from __future__ import annotations

import json

import pytest

from tests.conftest import require_tool


@pytest.fixture
def bench(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BENCH_DATA", str(tmp_path / "bench"))
    from bench.__main__ import main

    def run(*argv: str) -> dict:
        capsys.readouterr()
        main([*argv, "--size", "XS"])
        lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith('{"bench"')]
        assert len(lines) == 1
        return json.loads(lines[0])

    return run


def test_dataset_search_build_incremental(bench, tmp_path):
    data = bench("dataset")
    assert data["subjects"] == 300 and data["indexed_docs"] > 0
    search = bench("search", "--queries", "5")
    assert set(search["results"]) == {"2-char", "4-char", "full name", "credit code", "2-char + facets"}
    assert all(r["found"] == 5 for r in search["results"].values())
    build = bench("build", "--backends", "whoosh,tantivy")
    assert build["results"]["whoosh"]["docs"] == build["results"]["tantivy"]["docs"] == data["indexed_docs"]
    tantivy = bench("search", "--queries", "5", "--search-url", "tantivy")  # builds the dataset's own index
    assert tantivy["backend"].startswith("tantivy://") and all(r["found"] == 5 for r in tantivy["results"].values())
    agree = bench("agree", "--queries", "5", "--search-url", "tantivy")
    assert agree["searches"] > 0 and agree["differ"] == 0, agree["examples"]
    inc = bench("incremental", "--changes", "2")
    assert inc["results"]["commit_to_visible"]["n"] == 2
    assert (tmp_path / "bench" / "results.jsonl").exists()


def test_http(bench):
    require_tool("wrk", "python -m bench http drives gunicorn with wrk")
    out = bench("http", "--duration", "1", "--connections", "2")
    assert out["invalid"] == []
    assert out["results"]["facility page"]["requests"] > 0


def test_postgres_search_backend(bench, pg_schema_url):
    """``--search-url postgresql+psycopg://...``: search and incremental fill the store from the
    dataset first; ``build --backends postgresql`` builds beside it and drops its tables."""
    data = bench("dataset")
    build = bench("build", "--backends", "whoosh,postgresql", "--search-url", pg_schema_url)
    assert build["results"]["postgresql"]["docs"] == build["results"]["whoosh"]["docs"] == data["indexed_docs"]
    search = bench("search", "--queries", "5", "--search-url", pg_schema_url)
    assert search["index_filled"]["docs"] == data["indexed_docs"]
    assert all(r["found"] == 5 for r in search["results"].values())
    assert bench("search", "--queries", "5", "--search-url", pg_schema_url)["index_filled"] is None
    inc = bench("incremental", "--changes", "2", "--search-url", pg_schema_url)
    assert inc["results"]["commit_to_visible"]["n"] == 2


def test_pg_write_measures_an_existing_store(pg_schema_url, capsys):
    """``python -m bench.pg_write --search-url``: times unchanged / changed / single upserts of
    the store's own documents and leaves the store's answers as they were."""
    from bench.pg_write import main
    from bench.search_micro import make_docs
    from search_index import SearchQuery, open_backend

    url = pg_schema_url + ("&" if "?" in pg_schema_url else "?") + "term_stats_min=5"
    backend = open_backend(url)
    backend.rebuild(make_docs(60))
    before = backend.search(SearchQuery("医院"))
    main(["--search-url", url, "--batch", "5", "--batches", "3"])
    out = capsys.readouterr().out
    assert "60 documents" in out and "frequent terms" in out, out
    for label in ("upsert 5 unchanged documents", "upsert 5 changed documents", "upsert 1 changed document"):
        assert label in out, out
    after = backend.search(SearchQuery("医院"))
    assert (after.total, after.facets, [h.id for h in after.hits]) == (
        before.total, before.facets, [h.id for h in before.hits])
    backend.close()


def test_soak_and_import_stall(bench):
    """A few seconds of each (issue #12's figures come from real runs, see README Measured)."""
    soak = bench("soak", "--dev", "--minutes", "0.05", "--subjects", "120", "--connections", "2")
    assert soak["requests"] > 0 and soak["results"]["all"]["errors"] == 0, soak["error_examples"]
    require_tool("wrk", "python -m bench import_stall loads the scan page with wrk")
    stall = bench("import_stall", "--rows", "400", "--subjects", "120", "--duration", "1", "--connections", "2")
    assert stall["import_exit"] == 0 and stall["write_failures"] == 0, stall["error_examples"]


def test_soak_in_production_mode(bench):
    """The default soak: PORTAL_ENV=production behind gunicorn's TLS, logins through
    node-oidc-provider over https; every action answered as expected."""
    from pathlib import Path

    require_tool("node", "the production-mode soak logs in through node-oidc-provider")
    require_tool(str(Path(__file__).resolve().parents[1] / "oidc" / "node_modules" / "oidc-provider"),
                 "npm ci --prefix tests/oidc installs node-oidc-provider")
    soak = bench("soak", "--minutes", "0.1", "--subjects", "120", "--connections", "2")
    assert soak["mode"].startswith("production") and soak["results"]["all"]["errors"] == 0, soak["error_examples"]
    assert soak["results"]["login"]["n"] > 0 and soak["results"]["objection"]["n"] > 0


@pytest.fixture
def bench_database():
    """A database of its own on the test server (``python -m bench`` resets the public schema of
    the database it is given, and wants ``bench`` in its name); dropped afterwards."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    from tests.conftest import require_postgres

    base = make_url(require_postgres())
    name = "bench_smoke_" + uuid.uuid4().hex[:12]
    admin = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_two_nodes_both_layouts(bench, bench_database):
    """``nodes``: two gunicorn nodes on one PostgreSQL, each layout of issue #17; every search
    answered, every change found on node B, no follower left registered afterwards."""
    require_tool("wrk", "python -m bench nodes loads the scan page with wrk")
    out = bench("nodes", "--database-url", bench_database, "--queries", "3", "--changes", "2",
                "--duration", "1", "--connections", "2", "--workers", "1")
    assert out["invalid"] == []
    assert set(out["results"]) == {"postgres", "tantivy"}
    for layout in out["results"].values():
        assert {c: s["found"] for c, s in layout["search_on_b"].items()} == dict.fromkeys(
            ("2-char", "4-char", "full name", "credit code", "2-char + facets"), 3)
        assert layout["changes"]["commit_to_visible_on_b"]["n"] == 2
        assert layout["bare flask route"]["requests"] > 0
        assert layout["scan page on b"]["requests"] > 0 and layout["scan page on b, second pass"]["requests"] > 0
        assert all(len(w) == 1 for w in layout["worker_peak_rss_mb"].values())
        assert all(v > 0 for v in layout["follower_peak_rss_mb"].values())
    from sqlalchemy import create_engine, text

    engine = create_engine(bench_database)
    with engine.connect() as conn:  # the bench's followers unregistered: the log can be pruned
        assert conn.execute(text("SELECT count(*) FROM index_cursors")).scalar_one() == 0
    engine.dispose()
