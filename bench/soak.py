"""``python -m bench soak --minutes N``: the whole portal under mixed traffic for N minutes
(search, facility, scan, chat, login, objection), gunicorn on 127.0.0.1, SQLite file database.
Not in CI (the bench smoke test runs it for a few seconds). Reports per-action p50/p95/p99 and
every error; the goal is 0 errors.

Development mode: production refuses the embedded development IdP, and the soak's logins need
an identity provider on 127.0.0.1 (see portal_load.settings)."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from . import portal_load as pl
from .stats import emit, table

MIX = {"search": 30, "facility": 25, "scan": 30, "chat": 5, "login": 2, "objection": 3}


def cmd_soak(args) -> dict:
    seconds = max(1.0, args.minutes * 60)
    with tempfile.TemporaryDirectory(prefix="portal-soak-") as tmp:
        server, env, paths = pl.start(Path(tmp) / "var", args.threads, subjects=args.subjects)
        pl.warm_up(f"http://127.0.0.1:{server.port}", paths)
        tally = pl.Tally()
        t0 = time.monotonic()
        try:
            budget = pl.Budget(args.max_requests, seconds)
            pl.run_clients(f"http://127.0.0.1:{server.port}", paths, MIX, args.connections, budget, tally)
        finally:
            elapsed = time.monotonic() - t0
            server.stop()
    res = tally.summary()
    rows = [[a, r["n"], r["p50"], r["p95"], r["p99"], r["max"], r["errors"]] for a, r in res.items()]
    print(f"soak: gunicorn -w 1 gthread --threads {args.threads} on 127.0.0.1 (development mode), {args.connections} clients, "
          f"{elapsed / 60:.1f} min, {tally.requests} requests ({tally.requests / elapsed:.1f}/s)")
    print(table(["action", "requests", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors"], rows))
    for e in tally.examples:
        print("  error:", e)
    return emit("soak", "demo", {"minutes": round(elapsed / 60, 2), "gunicorn": f"-w 1 -k gthread --threads {args.threads}",
                                 "clients": args.connections, "mode": "development (dev IdP)",
                                 "requests": tally.requests, "results": res, "error_examples": tally.examples})
