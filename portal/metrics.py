"""Prometheus metrics (issue 17, Operations), exposed at ``/metrics`` by ``portal.web.metrics``.

Per request and per search, counted in the process that served it:

* ``portal_request_duration_seconds{route,method,status}``: the URL *rule* (``/p/<token>``),
  never the raw path, so no token, ID number or search text becomes a label;
* ``portal_search_duration_seconds{backend}``: one ``search_public`` call (tantivy, whoosh,
  postgres, memory);
* ``portal_scan_buffer``: scans counted in memory and not yet written (``ScanCounter``).
* ``portal_search_open_buffer``: facility pages opened from a search result, counted in memory
  and not yet written (``services.search_opens``, the same buffer kind as scans).

Read from the database when scraped (the same for every node, so any worker can answer):

* ``portal_index_lag_seconds``: age of the oldest index job not yet applied (0: none waiting),
  ``portal_index_jobs_pending``;
* ``portal_audit_chain_head_id`` and ``portal_audit_chain_length``: the audit chain head
  (``audit_head``); compare it with the last signed checkpoint.

Under gunicorn set ``PROMETHEUS_MULTIPROC_DIR`` (an empty directory, emptied at each start) in
the environment *before* the master starts: every worker then writes its samples there and a
scrape of any worker adds them up (``deploy/gunicorn.conf.py`` marks dead workers). Without it
the samples are this process's.
"""
from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
#: Methods kept as themselves in the ``method`` label; anything else (a fuzzer's) is "other".
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"

#: This process's own samples (in multiprocess mode they go to files under the directory).
PROCESS = CollectorRegistry(auto_describe=True)

REQUEST_SECONDS = Histogram(
    "portal_request_duration_seconds", "Request latency by URL rule (never the raw path)",
    ("route", "method", "status"), registry=PROCESS,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
SEARCH_SECONDS = Histogram(
    "portal_search_duration_seconds", "Public search latency by search backend",
    ("backend",), registry=PROCESS,
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5))
SCAN_BUFFER = Gauge(
    "portal_scan_buffer", "Plate scans counted in memory and not yet written to the database",
    registry=PROCESS, multiprocess_mode="livesum")
SEARCH_OPEN_BUFFER = Gauge(
    "portal_search_open_buffer",
    "Facility pages opened from a search result, counted in memory and not yet written to the database",
    registry=PROCESS, multiprocess_mode="livesum")


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def backend_label(backend) -> str:
    name = type(backend).__name__
    return (name[:-len("Backend")] if name.endswith("Backend") else name).lower() or "unknown"


def observe_search(backend, seconds: float) -> None:
    SEARCH_SECONDS.labels(backend_label(backend)).observe(seconds)


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(route, method if method in METHODS else "other", str(status)).observe(seconds)


class DatabaseCollector:
    """Figures read from the database at scrape time: index lag and the audit chain head."""

    def __init__(self, engine):
        self.engine = engine

    def describe(self):
        return []

    def collect(self):
        from sqlalchemy import func, select

        from .models import AuditHead, IndexCursor, IndexJob

        up = GaugeMetricFamily("portal_metrics_database_up", "1 if the figures below could be read")
        try:
            with self.engine.connect() as conn:
                oldest, pending = conn.execute(
                    select(func.min(IndexJob.created_at), func.count()).where(IndexJob.done_at.is_(None))).one()
                head = conn.execute(select(AuditHead.last_id, AuditHead.seq).where(AuditHead.id == 1)).first()
                # follower nodes (index follow): jobs after each node's cursor
                behind = conn.execute(select(IndexCursor.node, func.count(IndexJob.id))
                                      .select_from(IndexCursor).outerjoin(IndexJob, IndexJob.seq > IndexCursor.position)
                                      .group_by(IndexCursor.node)).all()
        except Exception as exc:  # a scrape must not fail because the database does
            log.warning("metrics: database figures unavailable (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        now = datetime.now(UTC).replace(tzinfo=None)  # stored as naive UTC
        lag = max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
        yield GaugeMetricFamily("portal_index_lag_seconds", "Age of the oldest index job not yet applied", value=lag)
        yield GaugeMetricFamily("portal_index_jobs_pending", "Index jobs not yet applied", value=pending)
        nodes = GaugeMetricFamily("portal_index_node_jobs_behind", "Index jobs after a follower node's cursor",
                                  labels=["node"])
        for node, count in behind:
            nodes.add_metric([node], count)
        yield nodes
        yield GaugeMetricFamily("portal_audit_chain_head_id", "Id of the last audit event (the chain head)",
                                value=head[0] if head else 0)
        yield GaugeMetricFamily("portal_audit_chain_length", "Number of audit events in the chain",
                                value=head[1] if head else 0)


def render(engine) -> bytes:
    """The exposition text: every worker's samples (multiprocess mode) or this process's, and
    the database figures."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
        out = b""
    else:
        out = generate_latest(PROCESS)
    registry.register(DatabaseCollector(engine))
    return out + generate_latest(registry)


def monotonic() -> float:
    return time.perf_counter()
