"""``python -m bench import_stall --rows 50000``: a long ``credit-portal import`` (another
process, same SQLite file) while wrk loads the QR scan page and a client files and withdraws
objections (web writes). Prints the scan page's p50/p95/p99 during the import and the write
failures (issue #12 target: scan p95 ≤ 20 ms, 0 failed writes).

``write_import_csv`` (a valid import file of N rows, 2 records per organisation) is shared
with tests/integration/test_import_concurrency.py."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from . import portal_load as pl
from .load import wrk
from .stats import emit, table


def write_import_csv(path: Path, rows: int, seed: int = 0) -> None:
    from portal.domain.identifiers import make_uscc
    from portal.services.importer import COLUMNS

    base = 60_000_000 + seed * 1_000_000
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([c[1] for c in COLUMNS])
        for i in range(rows):
            n = base + i // 2
            row = {"subject_code": make_uscc("12", "430102", f"{n:08d}"), "subject_name": f"导入测试诊所{n}",
                   "subject_kind": "机构", "category": "诊所、门诊部", "region_code": "430102",
                   "record_type": "行政处罚", "info_class": "失信信息", "severity": "一般",
                   "title": f"未按规定处置医疗废物（{i}）", "content": "罚款三千元", "authority": "长沙市芙蓉区卫生健康局",
                   "doc_no": f"湘芙卫罚〔2026〕{i}号", "decided_on": "2026-05-06", "scope": "社会公开",
                   "publish_from": "", "publish_until": "", "ordinary_procedure": "是"}
            w.writerow([row.get(c[0], "") for c in COLUMNS])


def cmd_import_stall(args) -> dict:
    with tempfile.TemporaryDirectory(prefix="portal-import-stall-") as tmp:
        var = Path(tmp) / "var"
        server, env, paths = pl.start(var, args.threads, subjects=args.subjects)
        base = f"http://127.0.0.1:{server.port}"
        big = Path(tmp) / "big.csv"
        write_import_csv(big, args.rows)
        tally, stop = pl.Tally(), threading.Event()
        budget = pl.Budget(args.max_requests, 3600)
        try:
            pl.warm_up(base, paths)
            wrk(server.port, paths["scans"][:50], 2, args.connections)  # warm-up
            writer = threading.Thread(target=_writes, args=(base, paths, tally, budget, stop), daemon=True)
            writer.start()
            # the same load without an import: how much of the figures is the shared CPU
            baseline = _merge([wrk(server.port, paths["scans"], args.duration, args.connections) for _ in range(2)])
            t0 = time.monotonic()
            log = open(Path(tmp) / "import.log", "wb")  # a file, not a pipe nobody reads meanwhile
            proc = subprocess.Popen([sys.executable, "-c", "from portal.cli import main; main()", "import", str(big)],
                                    env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
            scans = []
            while proc.poll() is None and time.monotonic() - t0 < args.max_seconds:
                scans.append(wrk(server.port, paths["scans"], args.duration, args.connections))
            proc.wait(timeout=args.max_seconds)
            log.close()
            out = (Path(tmp) / "import.log").read_bytes().decode("utf-8", "replace")
            import_s = time.monotonic() - t0
            stop.set()
            writer.join(60)
        finally:
            if 'proc' in locals() and proc.poll() is None:
                proc.kill()
                proc.wait()
            if 'log' in locals():
                log.close()
            server.stop()
    scan = _merge(scans)
    writes = tally.summary()
    print(f"import_stall: {args.rows} rows imported in {import_s:.1f} s (exit {proc.returncode}) while "
          f"wrk -c{args.connections} loaded the scan page in {len(scans)} × {args.duration} s windows, "
          f"gunicorn -w 1 gthread --threads {args.threads}, SQLite")
    print(table(["", "requests", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors / non-2xx"],
                [["scan page (QR), same load, no import", baseline["requests"], baseline["p50_ms"],
                  baseline["p95_ms"], baseline["p99_ms"], baseline["max_ms"],
                  f"{baseline['errors']} / {baseline['non2xx']}"],
                 ["scan page (QR), during import", scan["requests"], scan["p50_ms"], scan["p95_ms"],
                  scan["p99_ms"], scan["max_ms"], f"{scan['errors']} / {scan['non2xx']}"]]
                + [[f"web write: {a}", r["n"], r["p50"], r["p95"], r["p99"], r["max"], r["errors"]]
                   for a, r in writes.items() if a != "all"]))
    print(out.strip().splitlines()[-1] if out.strip() else "(no import output)")
    for e in tally.examples:
        print("  error:", e)
    return emit("import_stall", "demo", {"rows": args.rows, "import_s": round(import_s, 1),
                                         "import_exit": proc.returncode, "scan": scan, "scan_without_import": baseline, "writes": writes,
                                         "write_failures": writes.get("all", {}).get("errors", 0),
                                         "error_examples": tally.examples})


def _writes(base: str, paths: dict, tally: pl.Tally, budget: pl.Budget, stop: threading.Event) -> None:
    """One legal representative filing and withdrawing objections back to back."""
    import random

    v = pl.Visitor(base, tally, paths, random.Random(3), budget)
    try:
        while not stop.is_set():
            v.objection()
            time.sleep(0.05)
    except pl.Budget.Spent:
        return


def _merge(windows: list[dict]) -> dict:
    """wrk windows → one line: requests summed, percentiles the worst window's (conservative)."""
    if not windows:
        return {"requests": 0, "p50_ms": float("nan"), "p95_ms": float("nan"), "p99_ms": float("nan"),
                "max_ms": float("nan"), "errors": 0, "non2xx": 0, "windows": []}
    return {"requests": sum(w["requests"] for w in windows),
            **{k: max(w[k] for w in windows) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")},
            "errors": sum(w["errors"] for w in windows), "non2xx": sum(w["non2xx"] for w in windows),
            "windows": windows}
