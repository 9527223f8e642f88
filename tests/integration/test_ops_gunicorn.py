"""deploy/gunicorn.conf.py + PORTAL_TRUSTED_PROXIES=1 under a real gunicorn with two workers (issue 17):
metrics add up across workers (PROMETHEUS_MULTIPROC_DIR), ProxyFix makes the forwarded client
the remote address (so /metrics is not open to everyone behind nginx), request ids go round."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def test_two_workers_behind_one_proxy_hop(tmp_path):
    port = _port()
    env = {**os.environ, "PORTAL_VAR_DIR": str(tmp_path / "var"),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
           "SEARCH_URL": f"tantivy://{tmp_path / 'index'}", "PORTAL_TODAY": "2026-11-20",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"), "GUNICORN_BIND": f"127.0.0.1:{port}",
           "GUNICORN_WORKERS": "2", "PORTAL_LOG_FORMAT": "json", "PORTAL_TRUSTED_PROXIES": "1"}
    for k in ("PORTAL_METRICS_TOKEN", "PORTAL_METRICS_ALLOW", "DATABASE_URL_OVERRIDE"):
        env.pop(k, None)
    bin_dir = Path(sys.executable).parent
    subprocess.run([str(bin_dir / "credit-portal"), "db", "upgrade"], env=env, check=True, capture_output=True)
    server = subprocess.Popen([str(bin_dir / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
                               "portal:create_app()"], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # wait for the workers (not a timing assertion)
            try:
                if _get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("gunicorn did not start")
        for i in range(20):
            status, headers, _ = _get(base + "/readyz", {"X-Request-ID": f"probe-{i:04d}-abcdef"})
            assert status == 200 and headers["X-Request-ID"] == f"probe-{i:04d}-abcdef"
        status, _, body = _get(base + "/metrics")
        assert status == 200
        counts = {tuple(sorted(s.labels.items())): s.value
                  for f in text_string_to_metric_families(body) for s in f.samples
                  if s.name == "portal_request_duration_seconds_count"}
        assert counts[(("method", "GET"), ("route", "/readyz"), ("status", "200"))] == 20
        # through nginx: the visitor's address, not loopback
        assert _get(base + "/metrics", {"X-Forwarded-For": "203.0.113.5"})[0] == 404
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=60)
    assert server.returncode == 0, err.decode()[-2000:]
    assert b"probe-0003-abcdef" in err  # the JSON access line carries the request id
