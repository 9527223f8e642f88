"""Structured logs (issue 17, Operations): ``PORTAL_LOG_FORMAT=json`` writes one JSON object per
line to stderr with the request id (``X-Request-ID``, taken from the proxy when well-formed,
otherwise made here, and sent back on every response).

No personal data in logs: every message and traceback goes through
``portal.domain.identifiers.scrub_personal_data`` (ID numbers, phone and card numbers, e-mail,
people's names in the patterns it knows), then bearer tokens, long token-like strings, query
strings and plate tokens in paths are masked. The portal's own access line names the URL rule
(``/p/<token>``, ``/search``), never the path or the query; run gunicorn without its access log
(``deploy/gunicorn.conf.py``), which would print raw request lines.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from datetime import UTC, datetime

from .domain.identifiers import scrub_personal_data

FORMATS = ("text", "json")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
_MASKS = (
    (re.compile(r"(?i)\b(bearer|token|secret|password|passwd|key)([\"'=: ]+)[^\s\"',;&]+"), r"\1\2***"),
    (re.compile(r"(/p/)[^\s/?\"']+"), r"\1***"),  # a plate token in a path
    (re.compile(r"((?:^|[\s\"'(])/[^\s?\"']*)\?[^\s\"']*"), r"\1?***"),  # any query string of a path
    (re.compile(r"\b[A-Za-z0-9_\-]{32,}\b"), "***"),  # session ids, tokens, keys
)


def new_request_id(sent: str | None) -> str:
    """The proxy's id when it looks like one (so a trace joins up), otherwise a fresh one."""
    if sent and _REQUEST_ID.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


def mask(text: str) -> str:
    text = scrub_personal_data(text or "")
    for pattern, repl in _MASKS:
        text = pattern.sub(repl, text)
    return text


def _request_id() -> str:
    from flask import g, has_request_context

    return g.get("request_id", "") if has_request_context() else ""


class JsonFormatter(logging.Formatter):
    FIELDS = ("method", "route", "status", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask(record.getMessage()),
            "request_id": getattr(record, "request_id", "") or _request_id(),
        }
        for name in self.FIELDS:
            if hasattr(record, name):
                out[name] = getattr(record, name)
        if record.exc_info:
            out["exception"] = mask(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False, default=str)


class _PortalJsonHandler(logging.StreamHandler):
    """Marks the handler this module installed, so a second app does not add another."""


def configure(fmt: str) -> None:
    """Install the JSON handler on the root logger (once per process) when ``fmt`` is json."""
    from .runtime import ConfigError

    if fmt not in FORMATS:
        raise ConfigError(f"PORTAL_LOG_FORMAT 只能是 {' 或 '.join(FORMATS)}，而不是 {fmt!r}")
    if fmt != "json":
        return
    root = logging.getLogger()
    if any(isinstance(h, _PortalJsonHandler) for h in root.handlers):
        return
    handler = _PortalJsonHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for h in list(root.handlers):  # one format on stderr, not two
        if type(h) is logging.StreamHandler:
            root.removeHandler(h)
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    logging.getLogger("werkzeug").propagate = True


def json_handler() -> logging.Handler | None:
    return next((h for h in logging.getLogger().handlers if isinstance(h, _PortalJsonHandler)), None)


ACCESS = logging.getLogger("portal.access")
