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
