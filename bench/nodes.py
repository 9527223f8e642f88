"""``python -m bench nodes --size M --database-url postgresql+psycopg://…`` — two web nodes on one
PostgreSQL, in both search layouts of issue #17 (README "Two search layouts across machines"):

1. ``postgres``: SEARCH_URL = a PostgreSQL search store in the dataset's database, read by both
   nodes, written by one ``credit-portal index follow --node search`` process;
2. ``tantivy``: a tantivy index per node, each fed by its own ``credit-portal index follow --node <n>``.

Both nodes are gunicorn (``--workers`` sync workers, ``--preload``) on 127.0.0.1, on different
ports, with the dataset's settings and ``PORTAL_INDEX_MODE=worker`` (no request writes an index).
Per layout it measures

* search latency per query class (the classes and sampling of ``bench search``), one client
  over HTTP against node B (``/search?q=…``, the full page);
* the QR scan page on node B under wrk, and a bare Flask route (bench/bare_app.py) served by the
  same gunicorn settings, measured just before it (the machine's ceiling at that moment);
* commit → visible: a subject renamed through the service verb ``register_subject`` with node A's
  configuration (the database node A writes to; no web route writes searchable data without a
  staff login), then node B's ``/search`` polled every 10 ms until the new name finds it. The
  clock starts after COMMIT returned. Names are put back afterwards;
* peak RSS (VmHWM) of every gunicorn worker of both nodes and of each follower.

Seeding the indexes: a follower that is not registered builds its index from the database on its
first start (``index follow``), which at M takes minutes per node and is not a figure asked for
here. The harness instead fills the PostgreSQL store / builds one tantivy index from the
database once (cached with the dataset, with the log position read *before* the build), copies it
to each node and registers each node's cursor at that position: the follower then applies every
job after it (applying a job twice changes nothing), so no change can be missed.
"""
from __future__ import annotations

import json
import random
import shutil
import sqlite3
import tempfile
import time
import urllib.parse
from pathlib import Path

from . import datasets
from .cluster import Cluster, http_get, hwm_mb, node_env, poll, workers
from .load import wrk
from .stats import emit, summary_ms, table

LAYOUTS = ("postgres", "tantivy")
RARE = "龘靐齉爩麤龗灪籲厵鱻"
SEARCH_PREFIX = "bench_nodes_"  # the PostgreSQL search store's tables, beside the portal's
VISIBLE_WITHIN = 60.0  # a bound on one change, not a figure
ROOT = Path(__file__).resolve().parent.parent


def _pg_search_url(size: str) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(datasets.DATABASE_URL).update_query_dict({"table_prefix": SEARCH_PREFIX})
    return url.render_as_string(hide_password=False)


def _head(size: str) -> int:
    from portal.services import index_log

    rt = datasets.runtime(size)
    with rt.sessions() as s:
        top = index_log.head(s)
    rt.engine.dispose()
    return top


def _seed_tantivy(size: str) -> tuple[Path, int, dict | None]:
    """One tantivy index of the dataset built from its database (cached under ``var/``) and the
    log position read before that build: ``(directory, position, build timing or None)``."""
    from portal.services import indexing
    from search_index import open_backend

    target = datasets.root(size) / "var" / "index-tantivy-nodes"
    marker = target.with_suffix(".json")
    if marker.exists() and target.exists():
        return target, json.loads(marker.read_text())["position"], None
    shutil.rmtree(target, ignore_errors=True)
    position = _head(size)
    backend = open_backend(f"tantivy://{target}")
    rt = datasets.runtime(size)
    t0 = time.perf_counter()
    with rt.sessions() as s:
        n = indexing.rebuild_index_only(s, backend, rt.today(), rt.profile)
    backend.close()
    rt.engine.dispose()
    marker.write_text(json.dumps({"position": position}))
    return target, position, {"docs": n, "s": round(time.perf_counter() - t0, 1)}


def _seed_postgres(size: str) -> tuple[str, int, dict | None]:
    """The PostgreSQL search store filled from the database (when its count differs) and the
    log position read before that: ``(SEARCH_URL, position, fill timing or None)``. When the
    store is already filled, the position is the last run's (kept in a marker file)."""
    url = _pg_search_url(size)
    marker = datasets.root(size) / "var" / "search-postgres-nodes.json"
    position = _head(size)
    rt = datasets.runtime(size, search_url=url)
    create = getattr(rt.backend, "create", None)
    if create is not None:
        create()
    filled = datasets.fill_search_index(rt, size)
    rt.close()
    if filled is None and marker.exists():
        position = json.loads(marker.read_text())["position"]
    marker.write_text(json.dumps({"position": position}))
    return url, position, filled


def _register(size: str, names: list[str], position: int) -> None:
    from portal.services import index_log

    rt = datasets.runtime(size)
    with rt.sessions() as s:
        for name in names:
            index_log.forget(s, name)
            index_log.register(s, name, position)
        s.commit()
    rt.engine.dispose()


def _forget(size: str, names: list[str], marker: Path | None = None) -> None:
    """Unregister the bench's nodes (else the log is never pruned); remember where the
    PostgreSQL store's follower stopped, for the next run."""
    from portal.models import IndexCursor
    from portal.services import index_log

    rt = datasets.runtime(size)
    with rt.sessions() as s:
        if marker is not None:
            cursor = s.get(IndexCursor, names[0])
            if cursor is not None:
                marker.write_text(json.dumps({"position": cursor.position}))
        for name in names:
            index_log.forget(s, name)
        s.commit()
        index_log.prune(s)
    rt.engine.dispose()


def _wait_caught_up(size: str, name: str, proc, within: float = 600) -> None:
    """Until follower ``name`` has applied the whole log (read in-process: a ``credit-portal
    index nodes`` per poll would cost a process start each)."""
    from portal.services import index_log

    rt = datasets.runtime(size, migrate=False)

    def done() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"follower {name} exited with {proc.returncode}")
        with rt.sessions() as s:
            return any(n["node"] == name and n["behind"] == 0 for n in index_log.nodes(s))

    try:
        if not poll(done, within, 0.1):
            raise RuntimeError(f"follower {name} did not catch up within {within} s")
    finally:
        rt.engine.dispose()


def _search_latency(base: str, queries: dict) -> dict:
    out = {}
    for cls, qs in queries.items():
        times, found, errors = [], 0, 0
        for text, filters in qs:
            url = f"{base}/search?{urllib.parse.urlencode({'q': text, **filters})}"
            t0 = time.perf_counter()
            status, body = http_get(url)
            times.append(time.perf_counter() - t0)
            errors += status != 200
            found += 'class="hit-name"' in body
        out[cls] = {**summary_ms(times), "found": found, "errors": errors}
    return out


def _changes(size: str, base_b: str, n: int, seed: int) -> dict:
    """Rename ``n`` organisations through ``register_subject`` (node A's configuration: the same
    database), each time polling node B's search until the new name finds it; then put the
    names back. One change before them is not counted: it waits for the followers to be up."""
    from sqlalchemy import select

    from portal.models import Subject
    from portal.services.subjects import register_subject

    rt = datasets.runtime(size)
    con = sqlite3.connect(datasets.fts_path(size))
    ids = [r[0] for r in con.execute("SELECT id FROM docs WHERE kind = 'org'").fetchall()]
    con.close()
    rnd = random.Random(seed)
    commit_s, visible_s, originals = [], [], []

    def rename(s, subj, name):
        register_subject(rt.context(s, "bench"), kind=subj.kind, name=name,
                         code=rt.protector.decrypt(subj.code_cipher), category=subj.category,
                         region_code=subj.region_code)

    try:
        for i, pid in enumerate(rnd.sample(ids, n + 1)):  # the first: a warm-up (followers starting)
            token = "".join(rnd.choice(RARE) for _ in range(6)) + f"{seed:02d}{i:03d}"
            with rt.sessions() as s:
                subj = s.execute(select(Subject).where(Subject.public_id == pid)).scalar_one()
                originals.append((pid, subj.name))
                t0 = time.perf_counter()
                rename(s, subj, subj.name[:180] + token)
                s.commit()
            t1 = time.perf_counter()
            url = f"{base_b}/search?{urllib.parse.urlencode({'q': token})}"
            if not poll(lambda pid=pid, url=url: pid in http_get(url)[1], VISIBLE_WITHIN, 0.01):
                raise RuntimeError(f"change to {pid} not visible on node B after {VISIBLE_WITHIN} s")
            if i:
                commit_s.append(t1 - t0)
                visible_s.append(time.perf_counter() - t1)
    finally:
        with rt.sessions() as s:
            for pid, name in originals:
                subj = s.execute(select(Subject).where(Subject.public_id == pid)).scalar_one()
                rename(s, subj, name)
            s.commit()
        rt.engine.dispose()
    return {"commit": summary_ms(commit_s), "commit_to_visible_on_b": summary_ms(visible_s)}


def _layout(args, layout: str, queries: dict, scans: list[str], tmp: Path) -> dict:
    size = args.size
    base_env = datasets.settings(size)
    base_env["PORTAL_INDEX_MODE"] = "worker"
    out: dict = {}
    if layout == "postgres":
        url, position, seeded = _seed_postgres(size)
        search = {"a": url, "b": url}
        followers = {"a": "bench-search"}
    else:
        seed_dir, position, seeded = _seed_tantivy(size)
        search = {}
        for node in ("a", "b"):
            target = tmp / f"index-{node}"
            shutil.copytree(seed_dir, target)
            search[node] = f"tantivy://{target}"
        followers = {"a": "bench-node-a", "b": "bench-node-b"}
    out["seeded"] = seeded
    _register(size, list(followers.values()), position)
    envs = {node: node_env(**{**base_env, "SEARCH_URL": search[node]}) for node in ("a", "b")}
    envs["bare"] = node_env()
    cluster = Cluster(tmp, envs, cwd=ROOT)  # the repository: gunicorn imports bench.bare_app
    procs = {}
    try:
        for node, name in followers.items():
            procs[name] = cluster.follow(node, name, wait=False)
        for name, proc in procs.items():
            _wait_caught_up(size, name, proc)
        cluster.serve("a", args.workers, preload=True)
        base_b = cluster.serve("b", args.workers, preload=True)
        # warm-up: templates, searchers, the first pages
        _search_latency(base_b, {c: qs[:10] for c, qs in queries.items()})
        out["search_on_b"] = _search_latency(base_b, queries)
        out["changes"] = _changes(size, base_b, args.changes, seed=LAYOUTS.index(layout))
        # the names put back must be applied before the HTTP figures: a follower still writing
        # (and each put-back clearing every page cache) is not what the scan page costs
        for name, proc in procs.items():
            _wait_caught_up(size, name, proc)
        bare = cluster.serve("bare", args.workers, app="bench.bare_app:app", preload=True)
        port_bare = int(bare.rsplit(":", 1)[1])
        wrk(port_bare, ["/"], 2, args.connections)
        out["bare flask route"] = wrk(port_bare, ["/"], args.duration, args.connections)
        out["bare flask route"]["worker_peak_rss_mb"] = [hwm_mb(p) for p in workers(cluster.servers["bare"].pid)]
        cluster.stop(cluster.servers["bare"])
        port_b = cluster.port("b")
        wrk(port_b, scans[:50], 2, args.connections)
        # first pass: mostly renders (every worker builds each plate's page once); second pass:
        # the same plates again, served from the workers' page caches as long as nothing changed
        out["scan page on b"] = wrk(port_b, scans, args.duration, args.connections)
        out["scan page on b, second pass"] = wrk(port_b, scans, args.duration, args.connections)
        out["worker_peak_rss_mb"] = {node: [hwm_mb(p) for p in workers(cluster.servers[node].pid)]
                                     for node in ("a", "b")}
        out["follower_peak_rss_mb"] = {name: hwm_mb(p.pid) for name, p in procs.items()}
        # the followers apply the restored names before they stop
        for name, proc in procs.items():
            _wait_caught_up(size, name, proc)
    finally:
        cluster.close()
        marker = datasets.root(size) / "var" / "search-postgres-nodes.json" if layout == "postgres" else None
        _forget(size, list(followers.values()), marker)
    return out


def cmd_nodes(args) -> dict:
    from .__main__ import QUERY_CLASSES, sample_queries, scan_paths

    if not datasets.DATABASE_URL:
        raise SystemExit("nodes: give --database-url postgresql+psycopg://… (two nodes share one PostgreSQL)")
    datasets.ensure(args.size)
    datasets.runtime(args.size).engine.dispose()  # apply new migrations before any node starts
    queries = sample_queries(args.size, args.queries)
    scans = scan_paths(args.size)
    load_before = _loadavg()
    results = {}
    layouts = LAYOUTS if args.layouts == "both" else (args.layouts,)
    for layout in layouts:
        with tempfile.TemporaryDirectory(prefix=f"bench-nodes-{layout}-") as tmp:
            results[layout] = _layout(args, layout, queries, scans, Path(tmp))
            results[layout]["loadavg_after"] = _loadavg()
    rows = []
    for layout, r in results.items():
        for cls in QUERY_CLASSES:
            s = r["search_on_b"][cls]
            rows.append([layout, f"search {cls}", s["n"], s["p50"], s["p95"], "", f"{s['found']}/{s['n']}",
                         s["errors"]])
        for key in ("commit", "commit_to_visible_on_b"):
            s = r["changes"][key]
            rows.append([layout, key.replace("_", " "), s["n"], s["p50"], s["p95"], f"max {s['max']}", "", ""])
        bare, scan = r["bare flask route"], r["scan page on b"]
        rows.append([layout, "bare flask route (wrk)", bare["requests"], bare["p50_ms"], bare["p95_ms"],
                     f"{bare['rps']} req/s", "", bare["errors"] + bare["non2xx"]])
        for key, label in (("scan page on b", "scan page on B, first pass (wrk)"),
                           ("scan page on b, second pass", "scan page on B, second pass (wrk)")):
            scan = r[key]
            rows.append([layout, label, scan["requests"], scan["p50_ms"], scan["p95_ms"],
                         f"{scan['rps']} req/s = {scan['rps'] / bare['rps']:.0%} of bare", "",
                         scan["errors"] + scan["non2xx"]])
        rss = "; ".join(f"{n}: {' / '.join(str(x) for x in v)}" for n, v in r["worker_peak_rss_mb"].items())
        rss += "; " + "; ".join(f"{n}: {v}" for n, v in r["follower_peak_rss_mb"].items())
        rows.append([layout, "peak RSS MB (workers; followers)", "", "", "", rss, "", ""])
    print(f"two nodes on one PostgreSQL, {args.size}; gunicorn -w {args.workers} sync --preload per node; "
          f"wrk -t1 -c{args.connections} -d{args.duration}s; load average before {load_before}")
    print(table(["layout", "figure", "n", "p50 ms", "p95 ms", "", "found", "errors"], rows))
    bad = [f"{layout}: {k}" for layout, r in results.items() for k in ("bare flask route", "scan page on b", "scan page on b, second pass")
           if r[k]["errors"] or r[k]["non2xx"]]
    bad += [f"{layout}: search {c}" for layout, r in results.items() for c, s in r["search_on_b"].items()
            if s["errors"]]
    if bad:
        print(f"WARNING: errors or non-2xx responses on {', '.join(bad)}: those figures are not valid")
    return emit("nodes", args.size, {"invalid": bad, "workers": args.workers, "connections": args.connections,
                                     "duration_s": args.duration, "loadavg_before": load_before,
                                     "results": results})


def _loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
