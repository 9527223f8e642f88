"""Two web nodes on one PostgreSQL (issue #17), in both search layouts, with real gunicorn
processes and real ``credit-portal`` commands:

1. search in PostgreSQL (``SEARCH_URL`` = the database): both nodes read the same index, which one
   ``index follow`` process writes;
2. a tantivy index per node, each fed by its own ``credit-portal index follow --node …``.

A change committed through node A (its ``credit-portal import``, with node A's configuration:
no web route writes searchable data without a staff login) is found by a search on node B
within 2 s. In layout 2, node B's follower is killed (SIGKILL) while more changes arrive and is
started again: it catches up, each imported organisation is found exactly once, and its cursor
reaches the log's head. Polls have deadlines; nothing else is timed.
"""
from __future__ import annotations

import signal
import urllib.parse
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from bench import cluster as cluster_mod
from bench.cluster import START_WITHIN, http_get, poll
from portal.crypto import new_master_key

VISIBLE_WITHIN = 2.0  # seconds: issue #17's "visible on the other node within 2 s"
QUERY = "导入测试诊所"  # the names' common part (the 8-digit tail is not a search term)


def _hits(base: str, name: str) -> int:
    """How many search hits on this node carry exactly this name."""
    status, body = http_get(f"{base}/search?{urllib.parse.urlencode({'q': QUERY})}")
    assert status == 200, body[:300]
    return sum(1 for a in BeautifulSoup(body, "html.parser").select("li.hit a.hit-name")
               if a.get_text(strip=True) == name)


def _name(seed: int, n: int = 0) -> str:
    return f"导入测试诊所{60_000_000 + seed * 1_000_000 + n}"  # bench.import_stall.write_import_csv


class Cluster(cluster_mod.Cluster):
    """Nodes a and b on one database, fresh keys, the database migrated by node a."""

    def __init__(self, tmp: Path, database_url: str, search: dict[str, str], mode: str):
        keys = {"PORTAL_SECRET_KEY": new_master_key(), "PORTAL_DATA_KEY": new_master_key()}
        super().__init__(tmp, {node: cluster_mod.node_env(
            **keys, PORTAL_VAR_DIR=str(tmp / node), DATABASE_URL=database_url, SEARCH_URL=search[node],
            PORTAL_INDEX_MODE=mode, PORTAL_TODAY="2026-11-20", PORTAL_RATELIMIT_SEARCH="1000000/minute",
            PORTAL_LOG_FORMAT="json") for node in ("a", "b")})
        self.run("a", "db", "upgrade")


@pytest.fixture
def cluster(tmp_path, pg_schema_url):
    made = []

    def make(search: dict[str, str], mode: str) -> Cluster:
        c = Cluster(tmp_path, pg_schema_url, search, mode)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def test_postgres_search_layout(cluster, pg_schema_url):
    """Layout 1: one index in PostgreSQL for every node, written by one follower."""
    c = cluster({"a": pg_schema_url, "b": pg_schema_url}, "worker")
    c.run("a", "index", "rebuild")
    c.serve("a")
    c.serve("b")
    c.follow("a", "postgres-search")
    c.import_orgs("a", seed=1)
    assert poll(lambda: _hits(c.base["b"], _name(1)) == 1, VISIBLE_WITHIN), \
        ("not visible on node B within 2 s", c.run("a", "index", "nodes"), c.run("a", "index", "status"))
    assert _hits(c.base["a"], _name(1)) == 1


def test_tantivy_per_node_with_followers(cluster, tmp_path):
    """Layout 2: each node its own tantivy index and follower; B's follower killed and
    restarted catches up with nothing lost or twice."""
    c = cluster({"a": f"tantivy://{tmp_path / 'a' / 'index'}", "b": f"tantivy://{tmp_path / 'b' / 'index'}"},
                "worker")
    c.import_orgs("a", seed=1)  # before any node: the followers' first rebuild covers it
    c.serve("a")
    c.serve("b")
    c.follow("a", "node-a")
    follower_b = c.follow("b", "node-b")
    assert _hits(c.base["b"], _name(1)) == 1  # node B's first index build covered it

    c.import_orgs("a", seed=2)
    assert poll(lambda: _hits(c.base["b"], _name(2)) == 1, VISIBLE_WITHIN), "not visible on node B within 2 s"
    assert poll(lambda: _hits(c.base["a"], _name(2)) == 1, VISIBLE_WITHIN)

    c.stop(follower_b, signal.SIGKILL)
    for seed in (3, 4, 5):
        c.import_orgs("a", seed=seed)
    assert poll(lambda: _hits(c.base["a"], _name(5)) == 1, VISIBLE_WITHIN)
    assert _hits(c.base["b"], _name(3)) == 0  # B's index has not moved without its follower
    c.follow("b", "node-b", wait=False)  # the same node again: its cursor, not a new rebuild
    expected = [_name(seed, n) for seed in (1, 2, 3, 4, 5) for n in (0,)]
    assert poll(lambda: all(_hits(c.base["b"], name) == 1 for name in expected), START_WITHIN), \
        {name: _hits(c.base["b"], name) for name in expected}
    assert poll(lambda: c.caught_up("node-b"), START_WITHIN), c.run("b", "index", "nodes")
