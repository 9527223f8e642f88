"""Issue #2's figures: index build rate and search latency on a 10,000-subject demo, measured
through the portal's own services (load_demo → indexing.rebuild → search.search_public).

    .venv/bin/python -m bench.foundation_10k [--subjects 10000] [--dir /tmp/bench-10k]

Prints a table and one JSON line. The dataset is kept in --dir and reused when present.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import time
from pathlib import Path


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subjects", type=int, default=10_000)
    ap.add_argument("--dir", default="/tmp/bench-foundation-10k")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    os.environ.update({"PORTAL_VAR_DIR": args.dir, "PORTAL_TODAY": "2026-11-20"})

    from sqlalchemy import func, select

    from portal.config import load_settings
    from portal.db.migrate import upgrade
    from portal.models import CreditRecord, Subject
    from portal.runtime import Runtime
    from portal.services import indexing
    from portal.services.demo import load_demo
    from portal.services.search import search_public

    rt = Runtime.from_settings(load_settings())
    upgrade(rt.engine)
    session = rt.sessions()
    figures: dict = {"machine": f"{os.cpu_count()} cores, {platform.machine()}", "subjects": args.subjects}
    if session.execute(select(func.count()).select_from(Subject)).scalar_one() == 0:
        t = time.perf_counter()
        load_demo(rt.context(session, "bench"), args.subjects, args.seed)
        session.commit()
        figures["load_subjects_per_s"] = round(args.subjects / (time.perf_counter() - t))
    figures["records"] = session.execute(select(func.count()).select_from(CreditRecord)).scalar_one()

    t = time.perf_counter()
    docs = indexing.rebuild(session, rt.backend, rt.today(), rt.profile)
    elapsed = time.perf_counter() - t
    figures.update(index_docs=docs, index_docs_per_s=round(docs / elapsed),
                   index_mb=round(sum(f.stat().st_size for f in Path(args.dir, "index").rglob("*") if f.is_file()) / 2**20, 1))

    names = list(session.execute(select(Subject.name).where(Subject.kind == "org")).scalars())
    codes = list(session.execute(select(Subject.credit_code).where(Subject.kind == "org")).scalars())
    rng = random.Random(7)
    classes = {
        "2-char": [n[i:i + 2] for n in rng.sample(names, 100) for i in [rng.randrange(max(1, len(n) - 1))]],
        "4-char": [n[i:i + 4] for n in rng.sample(names, 100) for i in [rng.randrange(max(1, len(n) - 3))]],
        "full name": rng.sample(names, 100),
        "credit code": rng.sample(codes, 100),
        "2-char + facet": [n[:2] for n in rng.sample(names, 100)],
    }
    search_public(session, rt.backend, rt.profile, rt.today(), "医院", {}, 1, 20)  # warm the searcher
    rows = []
    for name, queries in classes.items():
        filters = {"category": "clinic"} if "facet" in name else {}
        times = []
        for q in queries:
            t = time.perf_counter()
            search_public(session, rt.backend, rt.profile, rt.today(), q, filters, 1, 20)
            times.append((time.perf_counter() - t) * 1000)
        rows.append((name, statistics.median(times), pct(times, 95), pct(times, 99)))
        figures[f"search_{name.replace(' ', '_')}_p50_ms"] = round(statistics.median(times), 1)
        figures[f"search_{name.replace(' ', '_')}_p95_ms"] = round(pct(times, 95), 1)
    print(f"machine: {figures['machine']}; subjects {args.subjects}, records {figures['records']}")
    print(f"index build: {docs} docs, {figures['index_docs_per_s']} docs/s, {figures['index_mb']} MB")
    print(f"{'query class':<18}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for name, p50, p95, p99 in rows:
        print(f"{name:<18}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}")
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
