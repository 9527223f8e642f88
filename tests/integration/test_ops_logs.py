"""Structured JSON logs with a request id and no personal data (issue 17, Operations)."""
from __future__ import annotations

import io
import json
import logging

import pytest

from portal import logs

ID_NUMBER = "430102198005170013"  # valid check digit (make_resident_id's shape)


@pytest.fixture
def json_app(settings):
    from portal import create_app
    from portal.db.migrate import upgrade

    app = create_app({**settings, "PORTAL_LOG_FORMAT": "json"})
    upgrade(app.extensions["portal"].engine)
    handler = logs.json_handler()
    stream = io.StringIO()
    handler.setStream(stream)
    yield app, stream
    logging.getLogger().removeHandler(handler)
    app.extensions["portal"].close()


def lines(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_request_id_in_and_out(client):
    sent = client.get("/healthz", headers={"X-Request-ID": "lb-2026-abcdef12"})
    assert sent.headers["X-Request-ID"] == "lb-2026-abcdef12"
    made = client.get("/healthz")
    hostile = client.get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert len(made.headers["X-Request-ID"]) == 32
    assert hostile.headers["X-Request-ID"] not in ("<script>alert(1)</script>", made.headers["X-Request-ID"])


def test_json_access_lines_name_the_rule_not_the_path_or_query(json_app):
    app, stream = json_app
    client = app.test_client()
    resp = client.get("/search", query_string={"q": f"{ID_NUMBER} 王小明"}, headers={"X-Request-ID": "req-search-0001"})
    assert resp.status_code == 200
    client.get("/p/AbCdEfGhIjKlMnOpQrStUv")
    out = stream.getvalue()
    assert ID_NUMBER not in out and "王小明" not in out and "AbCdEfGhIjKlMnOpQrStUv" not in out
    access = [line for line in lines(stream) if line["logger"] == "portal.access"]
    search = next(line for line in access if line["route"] == "/search")
    assert search["request_id"] == "req-search-0001"
    assert search["status"] == 200 and search["method"] == "GET" and search["duration_ms"] >= 0
    assert any(line["route"] == "/p/<token>" for line in access)


def test_messages_and_tracebacks_are_masked(json_app):
    app, stream = json_app
    log = logging.getLogger("portal.test_ops_logs")
    with app.test_request_context("/", headers={"X-Request-ID": "req-masked-0002"}):
        from flask import g

        g.request_id = "req-masked-0002"
        log.warning("lookup %s phone 13812345678 url /search?q=%s token=%s", ID_NUMBER, ID_NUMBER,
                    "s3cr3t-session-value")
        try:
            raise ValueError(f"bad id {ID_NUMBER}")
        except ValueError:
            log.exception("failed")
    records = [line for line in lines(stream) if line["logger"] == "portal.test_ops_logs"]
    assert [r["request_id"] for r in records] == ["req-masked-0002"] * 2
    text = stream.getvalue()
    for secret in (ID_NUMBER, "13812345678", "s3cr3t-session-value"):
        assert secret not in text
    assert "exception" in records[1] and "ValueError" in records[1]["exception"]


def test_text_is_the_default_and_an_unknown_format_is_refused(settings):
    from portal import create_app
    from portal.runtime import ConfigError

    with pytest.raises(ConfigError):
        create_app({**settings, "PORTAL_LOG_FORMAT": "xml"})
    app = create_app(settings)
    try:
        assert logs.json_handler() is None
    finally:
        app.extensions["portal"].close()
