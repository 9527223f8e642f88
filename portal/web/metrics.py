"""``/metrics`` for Prometheus (``portal.metrics``): only for the configured addresses
(``PORTAL_METRICS_ALLOW``, loopback by default) or with ``Authorization: Bearer
PORTAL_METRICS_TOKEN``. Anyone else gets a bare 404 (no error page: that one reads the
database, and a refusal should cost nothing). A request that came through a reverse proxy (``X-Forwarded-For``, ``Forwarded``,
``X-Real-IP``) while ProxyFix is off (``PORTAL_TRUSTED_PROXIES`` 0) is never let in by address: its
``remote_addr`` is the proxy's, usually loopback. The samples name routes and backends, never a
path, a query or a person."""
from __future__ import annotations

import hmac
import ipaddress
import re

from flask import Blueprint, Response, current_app, request

from .. import metrics
from ..runtime import ConfigError
from . import runtime
from .csrf import exempt

bp = Blueprint("metrics", __name__)

ALLOW = "portal.metrics_allow"
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


def parse_networks(value: str) -> tuple:
    nets = []
    for part in re.split(r"[\s,]+", value.strip()):
        if not part:
            continue
        try:
            nets.append(ipaddress.ip_network(part, strict=False))
        except ValueError as exc:
            raise ConfigError(f"PORTAL_METRICS_ALLOW 中的地址无效：{part!r}") from exc
    return tuple(nets)


@bp.record_once
def _setup(state) -> None:
    state.app.extensions[ALLOW] = parse_networks(state.app.extensions["portal"].settings["PORTAL_METRICS_ALLOW"])


def allowed() -> bool:
    token = runtime().settings["PORTAL_METRICS_TOKEN"]
    sent = request.headers.get("Authorization", "")
    if token and sent.startswith("Bearer "):
        return hmac.compare_digest(sent[len("Bearer "):].strip().encode("utf-8", "replace"), token.encode())
    if any(h in request.headers for h in PROXY_HEADERS) and "werkzeug.proxy_fix.orig" not in request.environ:
        return False
    try:
        addr = ipaddress.ip_address((request.remote_addr or "").split("%")[0])
    except ValueError:
        return False
    return any(addr in net for net in current_app.extensions[ALLOW])


@bp.get("/metrics")
@exempt
def scrape():
    if not allowed():
        return Response("页面不存在\n", status=404, mimetype="text/plain",
                        headers={"Cache-Control": "no-store"})
    from .ops import update_scan_buffer

    update_scan_buffer()
    return Response(metrics.render(runtime().engine), mimetype=None,
                    headers={"Content-Type": metrics.CONTENT_TYPE, "Cache-Control": "no-store"})
