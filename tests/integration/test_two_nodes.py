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

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from bench.import_stall import write_import_csv
from portal.crypto import new_master_key

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
VISIBLE_WITHIN = 2.0  # seconds: issue #17's "visible on the other node within 2 s"
START_WITHIN = 60.0  # generous: process start-up on a loaded CI machine, not a figure


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


QUERY = "导入测试诊所"  # the names' common part (the 8-digit tail is not a search term)


def _hits(base: str, name: str) -> int:
    """How many search hits on this node carry exactly this name."""
    status, body = _get(f"{base}/search?{urllib.parse.urlencode({'q': QUERY})}")
    assert status == 200, body[:300]
    return sum(1 for a in BeautifulSoup(body, "html.parser").select("li.hit a.hit-name")
               if a.get_text(strip=True) == name)


def _poll(check, within: float) -> bool:
    end = time.monotonic() + within
    while True:
        if check():
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(0.05)


def _name(seed: int, n: int = 0) -> str:
    return f"导入测试诊所{60_000_000 + seed * 1_000_000 + n}"  # bench.import_stall.write_import_csv


class Cluster:
    def __init__(self, tmp: Path, database_url: str, search: dict[str, str], mode: str):
        keys = {"PORTAL_SECRET_KEY": new_master_key(), "PORTAL_DATA_KEY": new_master_key()}
        self.tmp, self.procs = tmp, []
        self.env = {}
        for node in ("a", "b"):
            env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "SEARCH_URL", "DATABASE_URL"))}
            env.update(keys, PORTAL_VAR_DIR=str(tmp / node), DATABASE_URL=database_url, SEARCH_URL=search[node],
                       PORTAL_INDEX_MODE=mode, PORTAL_TODAY="2026-11-20",
                       PORTAL_RATELIMIT_SEARCH="1000000/minute", PORTAL_LOG_FORMAT="json")
            self.env[node] = env
        self.run("a", "db", "upgrade")
        self.base = {}

    def run(self, node: str, *args: str) -> str:
        done = subprocess.run([str(BIN / "credit-portal"), *args], env=self.env[node], cwd=self.tmp,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def start(self, node: str, *args: str) -> subprocess.Popen:
        log = (self.tmp / f"{node}-{len(self.procs)}.log").open("w")
        proc = subprocess.Popen(list(args), env=self.env[node], cwd=self.tmp, stdout=log, stderr=subprocess.STDOUT)
        proc.log = log  # closed in stop()
        self.procs.append(proc)
        return proc

    def serve(self, node: str) -> None:
        port = _port()
        self.start(node, str(BIN / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}", "portal:create_app()")
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return _get(base + "/readyz")[0] == 200
            except OSError:
                return False

        assert _poll(up, START_WITHIN), "gunicorn did not become ready"
        self.base[node] = base

    def follow(self, node: str, name: str, wait: bool = True) -> subprocess.Popen:
        """Start a follower; with ``wait``, until it is registered and has applied the log."""
        proc = self.start(node, str(BIN / "credit-portal"), "index", "follow", "--node", name, "--interval", "0.1")
        if wait:
            assert _poll(lambda: self.caught_up(name), START_WITHIN), self.run(node, "index", "nodes")
        return proc

    def caught_up(self, name: str) -> bool:
        line = next((x for x in self.run("a", "index", "nodes").splitlines() if x.startswith(f"{name}：")), "")
        return "待应用 0" in line

    def import_orgs(self, node: str, seed: int, rows: int = 2) -> None:
        path = self.tmp / f"import-{seed}.csv"
        write_import_csv(path, rows, seed=seed)
        self.run(node, "import", str(path))

    def stop(self, proc: subprocess.Popen, sig=signal.SIGTERM) -> None:
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(30)
        proc.log.close()

    def close(self) -> None:
        for proc in self.procs:
            self.stop(proc)


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
    assert _poll(lambda: _hits(c.base["b"], _name(1)) == 1, VISIBLE_WITHIN), \
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
    assert _poll(lambda: _hits(c.base["b"], _name(2)) == 1, VISIBLE_WITHIN), "not visible on node B within 2 s"
    assert _poll(lambda: _hits(c.base["a"], _name(2)) == 1, VISIBLE_WITHIN)

    c.stop(follower_b, signal.SIGKILL)
    for seed in (3, 4, 5):
        c.import_orgs("a", seed=seed)
    assert _poll(lambda: _hits(c.base["a"], _name(5)) == 1, VISIBLE_WITHIN)
    assert _hits(c.base["b"], _name(3)) == 0  # B's index has not moved without its follower
    c.follow("b", "node-b", wait=False)  # the same node again: its cursor, not a new rebuild
    expected = [_name(seed, n) for seed in (1, 2, 3, 4, 5) for n in (0,)]
    assert _poll(lambda: all(_hits(c.base["b"], name) == 1 for name in expected), START_WITHIN), \
        {name: _hits(c.base["b"], name) for name in expected}
    assert _poll(lambda: c.caught_up("node-b"), START_WITHIN), c.run("b", "index", "nodes")
