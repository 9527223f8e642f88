"""``python -m bench soak --minutes N``: the whole portal under mixed traffic for N minutes
(search, facility, scan, chat, login, objection), gunicorn on 127.0.0.1, SQLite file database.
Not in CI (the bench smoke test runs it for a few seconds). Reports per-action p50/p95/p99 and
every error; the goal is 0 errors.

Production mode by default (``bench.prod_stack``): ``PORTAL_ENV=production``, explicit keys, https
(gunicorn terminates TLS with a throwaway certificate for 127.0.0.1), JSON logs, ``--workers``
gunicorn workers, and logins through node-oidc-provider over https (tests/oidc; production refuses
the embedded development IdP). ``--dev`` runs the development stack instead (one worker, the
development IdP), for a machine without Node.js."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from . import portal_load as pl
from .stats import emit, table

MIX = {"search": 30, "facility": 25, "scan": 30, "chat": 5, "login": 2, "objection": 3}


def cmd_soak(args) -> dict:
    seconds = max(1.0, args.minutes * 60)
    production = not getattr(args, "dev", False)
    with tempfile.TemporaryDirectory(prefix="portal-soak-") as tmp:
        provider = None
        if production:
            server, provider, env, paths = pl.start_production(Path(tmp) / "var", args.workers, args.threads,
                                                               subjects=args.subjects)
            gunicorn = f"-w {args.workers} -k gthread --threads {args.threads} --certfile (self-signed)"
            mode = "production (PORTAL_ENV=production, https, node-oidc-provider over https)"
        else:
            server, env, paths = pl.start(Path(tmp) / "var", args.threads, subjects=args.subjects)
            gunicorn, mode = f"-w 1 -k gthread --threads {args.threads}", "development (dev IdP)"
        base = env["PORTAL_BASE_URL"]
        tally = pl.Tally()
        try:
            pl.warm_up(base, paths)
            t0 = time.monotonic()
            try:
                budget = pl.Budget(args.max_requests, seconds)
                pl.run_clients(base, paths, MIX, args.connections, budget, tally)
            finally:
                elapsed = time.monotonic() - t0
        finally:
            server.stop()
            if provider is not None:
                provider.stop()
    res = tally.summary()
    rows = [[a, r["n"], r["p50"], r["p95"], r["p99"], r["max"], r["errors"]] for a, r in res.items()]
    print(f"soak: gunicorn {gunicorn} on 127.0.0.1, {mode}, {args.connections} clients, "
          f"{elapsed / 60:.1f} min, {tally.requests} requests ({tally.requests / elapsed:.1f}/s)")
    print(table(["action", "requests", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors"], rows))
    for e in tally.examples:
        print("  error:", e)
    return emit("soak", "demo", {"minutes": round(elapsed / 60, 2), "gunicorn": gunicorn,
                                 "clients": args.connections, "mode": mode,
                                 "requests": tally.requests, "results": res, "error_examples": tally.examples})
