"""gunicorn settings for one web node (``deploy/systemd/credit-portal-web.service``).

    gunicorn -c /srv/credit-portal/deploy/gunicorn.conf.py 'portal:create_app()'

Behind nginx set PORTAL_TRUSTED_PROXIES=1 (the sample .env does): the client address is then
the forwarded one (rate limits, the /metrics allow list, audit sources).
"""
import multiprocessing
import os
import shutil

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")  # only nginx may reach it (PORTAL_TRUSTED_PROXIES=1)
workers = int(os.environ.get("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count()))
worker_class = "sync"
preload_app = True
max_requests = 20000
max_requests_jitter = 2000
timeout = 30
graceful_timeout = 30  # SIGTERM: workers finish their request and flush buffered scan counts
# No gunicorn access log: it prints raw request lines (plate tokens, search text). The portal's
# own access line (PORTAL_LOG_FORMAT=json) names the URL rule and the request id instead.
accesslog = None
errorlog = "-"
forwarded_allow_ips = "127.0.0.1"

# Prometheus multiprocess mode: start from an empty directory (old workers' files would add their
# counts to the new ones). Done here, as the master reads this file, because with preload_app the
# app (and its metrics) is loaded before any server hook runs; not again on a HUP reload.
_prom_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _prom_dir and not os.environ.get("_CREDIT_PORTAL_PROM_DIR_READY"):
    shutil.rmtree(_prom_dir, ignore_errors=True)
    os.makedirs(_prom_dir, mode=0o700, exist_ok=True)
    os.environ["_CREDIT_PORTAL_PROM_DIR_READY"] = "1"


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
