"""QR identity plates (issue #5): plate generation rate for a batch of 1,000 and scan-page latency
under a bounded local load against a real server on 127.0.0.1.

    .venv/bin/python -m bench.plates [--plates 1000] [--duration 10] [--connections 4] [--workers 2]

1. A demo province is loaded into a temporary directory (organisations only are plated).
2. Generation: issue 1,000 plates through ``services.plates.issue_missing`` (tokens, numbers,
   audit events); encode their QR codes cold; write one A6 PDF (one plate per page) with the
   matrices read back from the rows; write the ZIP (PDF + SVG per plate).
3. Scan page: gunicorn (sync workers) serving ``/P/<token>`` for all plates, loaded by ``wrk``
   for a fixed duration with a fixed number of connections (or, without wrk, a bounded number
   of requests from Python threads). Every request also counts a scan (buffered per worker and
   written in batches); after the server stopped, the counters are compared with the number of
   requests sent (warm-up included).

Prints a table and one JSON line (appended to bench/data/results.jsonl).
"""
from __future__ import annotations

import argparse
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import free_port, wait_port, wrk  # noqa: E402
from bench.stats import emit, summary_ms, table  # noqa: E402

TODAY = "2026-11-20"


def _settings(var: Path) -> dict[str, str]:
    return {"PORTAL_VAR_DIR": str(var), "PORTAL_TODAY": TODAY, "PORTAL_PROFILE": "hunan",
            "PORTAL_INDEX_MODE": "worker", "SEARCH_URL": f"whoosh://{var / 'index'}",
            "PORTAL_BASE_URL": "https://xyxx.wjw.hunan.gov.cn",
            "PORTAL_DEV_IDP": "on"}  # synthetic data; the plates carry a public-looking URL


def prepare(var: Path, plates: int, seed: int) -> dict:
    """Demo data with at least ``plates`` organisations, graded and indexed."""
    from sqlalchemy import func, select

    from portal.config import load_settings
    from portal.db.migrate import upgrade
    from portal.models import Subject
    from portal.runtime import Runtime
    from portal.services.demo import load_demo

    rt = Runtime.from_settings(load_settings(_settings(var)))
    upgrade(rt.engine)
    n = int(plates * 1.6)
    with rt.sessions() as s:
        while True:
            load_demo(rt.context(s, "bench"), n, seed)
            s.commit()
            orgs = s.execute(select(func.count()).select_from(Subject).where(Subject.kind == "org",
                                                                              Subject.status == "active")).scalar_one()
            if orgs >= plates:
                break
            seed += 1
            n = int((plates - orgs) * 1.8) + 10
    return {"rt": rt, "orgs": orgs}


def generation(rt, plates: int, out_dir: Path) -> dict:
    from sqlalchemy import select

    from portal.documents import plates as render
    from portal.documents.qr import encode_qr
    from portal.models import Plate, Subject
    from portal.services import plates as svc

    base = rt.settings["PORTAL_BASE_URL"]
    figures = {}
    with rt.sessions() as s:
        subjects = s.execute(select(Subject).where(Subject.kind == "org", Subject.status == "active")
                             .order_by(Subject.id).limit(plates)).scalars().all()
        t0 = time.perf_counter()
        issued, _ = svc.issue_missing(rt.context(s, "bench"), subjects)
        s.commit()
        figures["issue"] = (issued, time.perf_counter() - t0)

        rows = s.execute(select(Plate).order_by(Plate.id)).scalars().all()
        encode_qr.cache_clear()
        t0 = time.perf_counter()
        for p in rows:
            svc.plate_matrix(p, base)
        s.commit()
        figures["qr encode (cold, stored on row)"] = (len(rows), time.perf_counter() - t0)

        s.expire_all()
        encode_qr.cache_clear()
        rows = s.execute(select(Plate).order_by(Plate.id)).scalars().all()
        render.cjk_font()  # registering the font once per process is not per-plate work
        pdf = out_dir / "plates.pdf"
        t0 = time.perf_counter()
        with pdf.open("wb") as fh:
            n = render.batch_pdf(svc.iter_cards(s, rt.profile, base, rt.today(), rows), fh, "A6")
        figures["batch PDF A6 (1 page per plate)"] = (n, time.perf_counter() - t0)
        figures["pdf_mb"] = round(pdf.stat().st_size / 2**20, 2)

        t0 = time.perf_counter()
        with (out_dir / "plates.zip").open("wb") as fh:
            n = render.batch_zip(svc.iter_cards(s, rt.profile, base, rt.today(), rows), fh, "A6")
        figures["batch ZIP (PDF + SVG per plate)"] = (n, time.perf_counter() - t0)
        figures["zip_mb"] = round((out_dir / "plates.zip").stat().st_size / 2**20, 2)

        card = next(svc.iter_cards(s, rt.profile, base, rt.today(), rows[:1]))
        figures["svg_bytes"] = len(render.plate_svg(card).encode())
        figures["qr_version_modules"] = card.matrix.size
        figures["url"] = card.url
        tokens = [p.token for p in rows]
    return {"figures": figures, "tokens": tokens}


# --- load ----------------------------------------------------------------------------------------

def _python_load(port: int, paths: list[str], requests: int, connections: int, seconds: int) -> dict:
    """Fallback without wrk: ``connections`` keep-alive clients, bounded by count and time."""
    lock = threading.Lock()
    times: list[float] = []
    errors = [0]
    counter = iter(range(requests))
    deadline = time.perf_counter() + seconds

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.perf_counter() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            t = time.perf_counter()
            try:
                conn.request("GET", paths[i % len(paths)])
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == 200
            except OSError:
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            with lock:
                times.append(time.perf_counter() - t)
                errors[0] += not ok

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t0
    s = summary_ms(times)
    return {"requests": len(times), "duration_s": round(elapsed, 3), "rps": round(len(times) / elapsed, 1),
            "p50_ms": s["p50"], "p95_ms": s["p95"], "p99_ms": s["p99"], "max_ms": s["max"],
            "errors": errors[0], "non2xx": errors[0]}


def scan_load(var: Path, tokens: list[str], args) -> dict:
    """Load the scan page; the counters are read after the server stopped, because the workers
    write their last buffered scans (``ScanCounter``) when they exit."""
    from sqlalchemy import func, select

    from portal.config import load_settings
    from portal.models import PlateScanDay
    from portal.runtime import Runtime

    rt = Runtime.from_settings(load_settings(_settings(var)))

    def counted() -> int:
        with rt.sessions() as s:
            return s.execute(select(func.coalesce(func.sum(PlateScanDay.count), 0))).scalar_one()

    before = counted()
    port = free_port()
    env = {**os.environ, **_settings(var)}
    cmd = [str(Path(sys.executable).parent / "gunicorn"), "-w", str(args.workers), "-k", "sync",
           "-b", f"127.0.0.1:{port}", "--log-level", "warning", "--preload", "portal.app:create_app()"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    try:
        wait_port(port, proc)
        paths = [f"/P/{t}" for t in tokens]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", paths[0])
        page = conn.getresponse().read()
        conn.close()
        use_wrk = shutil.which("wrk") and not args.python_client
        if use_wrk:
            warm = wrk(port, paths[:50], 2, args.connections)  # warm-up: templates, connections
            result = wrk(port, paths, args.duration, args.connections)
            result["client"] = "wrk -t1"
        else:
            warm = _python_load(port, paths[:50], 200, args.connections, 5)
            result = _python_load(port, paths, args.requests, args.connections, args.duration)
            result["client"] = "python threads"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    result["scans_sent"] = 1 + warm["requests"] + result["requests"]  # wrk may leave a few unanswered
    result["scans_counted"] = counted() - before
    rt.engine.dispose()
    result["page_bytes"] = len(page)
    return result


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plates", type=int, default=1000)
    ap.add_argument("--duration", type=int, default=10, help="seconds of load on the scan page")
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    ap.add_argument("--requests", type=int, default=5000, help="bound for the Python client (without wrk)")
    ap.add_argument("--python-client", action="store_true", help="use the Python client even if wrk is installed")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="bench-plates-"))
    try:
        t0 = time.perf_counter()
        prep = prepare(work / "var", args.plates, args.seed)
        prep_s = time.perf_counter() - t0
        gen = generation(prep["rt"], args.plates, work)
        prep["rt"].engine.dispose()
        f = gen["figures"]
        rows = []
        out_gen = {}
        for name in ("issue", "qr encode (cold, stored on row)", "batch PDF A6 (1 page per plate)",
                     "batch ZIP (PDF + SVG per plate)"):
            n, s = f[name]
            rows.append([name, n, round(s, 2), round(n / s), round(s / n * 1000, 2)])
            out_gen[name] = {"n": n, "s": round(s, 3), "per_s": round(n / s, 1), "ms_each": round(s / n * 1000, 2)}
        print(f"plate generation, {args.plates} plates ({prep['orgs']} organisations in the demo, "
              f"prepared in {prep_s:.0f} s); QR {f['qr_version_modules']}×{f['qr_version_modules']} modules "
              f"for {f['url']}")
        print(table(["step", "plates", "s", "plates/s", "ms/plate"], rows))
        print(f"PDF {f['pdf_mb']} MB, ZIP {f['zip_mb']} MB, one plate SVG {f['svg_bytes']:,} bytes\n")

        load = scan_load(work / "var", gen["tokens"], args)
        print(f"scan page /P/<token>: gunicorn -w {args.workers} sync on 127.0.0.1, {load['client']}, "
              f"{args.connections} connections, {args.duration} s, {len(gen['tokens'])} plates rotated")
        print(table(["route", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors", "page bytes",
                     "scans sent", "scans counted"],
                    [["scan page", load["requests"], load["rps"], load["p50_ms"], load["p95_ms"], load["p99_ms"],
                      load["max_ms"], load["errors"], load["page_bytes"], load["scans_sent"], load["scans_counted"]]]))
        emit("plates", str(args.plates), {"generation": out_gen, "pdf_mb": f["pdf_mb"], "zip_mb": f["zip_mb"],
                                          "svg_bytes": f["svg_bytes"], "qr_modules": f["qr_version_modules"],
                                          "scan": {**load, "workers": args.workers, "connections": args.connections,
                                                   "duration_s": args.duration}})
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
