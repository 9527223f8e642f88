"""Fixtures shared by the integration tests: staff accounts that log in through the web, the
local servers that receive the notices sent outside the portal (an SMTP sink, an SMS gateway),
and the sharing API's world, client and feed key (``test_api``, ``test_api_feed_sync``)."""
from __future__ import annotations

import email
import json
import socketserver
import threading
from dataclasses import dataclass
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import event

from portal.models import StaffUser
from portal.services import staff as staff_svc

from .api_world import build_api_world
from .test_staff_auth import PASSWORD, _secret, web_login


@dataclass
class StaffAccount:
    """A staff account made through ``services.staff.create_staff`` with its TOTP secret."""

    user: StaffUser
    secret: str

    def login(self, client):
        """Log ``client`` in through ``/staff/login`` (password and a TOTP code); the response."""
        return web_login(client, self.user.username, self.secret)


@pytest.fixture
def make_staff(ctx):
    """Factory: ``make_staff(username, role="department", region_code="", **kw)`` creates the
    account (password ``PASSWORD``; ``role`` a name or a list of names) and returns a
    ``StaffAccount``; the caller commits."""

    def make(username: str, role="department", region_code: str = "", **kw) -> StaffAccount:
        roles = [role] if isinstance(role, str) else list(role)
        user, uri = staff_svc.create_staff(ctx, username, PASSWORD, roles, region_code=region_code, **kw)
        return StaffAccount(user, _secret(uri))

    return make


class _SmtpSink(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) to receive a message from smtplib: greeting, EHLO, MAIL, RCPT,
    DATA with dot-unstuffing, QUIT. Messages land in ``server.messages``."""

    def _reply(self, text: str) -> None:
        self.wfile.write(text.encode("ascii") + b"\r\n")

    def handle(self) -> None:
        self._reply("220 sink ESMTP")
        envelope = {"from": "", "to": []}
        while line := self.rfile.readline():
            cmd = line.decode("ascii", "replace").strip()
            verb = cmd[:4].upper()
            if verb in ("EHLO", "HELO"):
                self._reply("250 sink")
            elif verb == "MAIL":
                envelope = {"from": cmd.split(":", 1)[1].strip(), "to": []}
                self._reply("250 OK")
            elif verb == "RCPT":
                envelope["to"].append(cmd.split(":", 1)[1].strip().strip("<>"))
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 end with .")
                data = []
                while (raw := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(raw[1:] if raw.startswith(b"..") else raw)
                self.server.messages.append({**envelope, "message": email.message_from_bytes(
                    b"".join(data), policy=policy.default)})
                self._reply("250 queued")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("250 OK")


def _serving(server):
    """Run ``server`` on a thread for the test, then stop it."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp_server():
    """A local SMTP server; what it receives lands in ``smtp_server.messages``."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpSink)
    server.daemon_threads = True
    server.messages = []
    yield from _serving(server)


class _Gateway(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append({"auth": self.headers.get("Authorization"), "body": json.loads(body)})
        self.send_response(202)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def sms_gateway():
    """A local SMS gateway (HTTP); the JSON bodies it receives land in ``sms_gateway.received``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    server.received = []
    yield from _serving(server)




@pytest.fixture
def api_world(ctx, session, make_org, make_record):
    """The sharing API's registered clients and subjects (``api_world.build_api_world``)."""
    return build_api_world(ctx, session, make_org, make_record)


@pytest.fixture
def api(app):
    """A plain client: no CSRF token, no cookies of a page (a department's server)."""
    return app.test_client()


@pytest.fixture
def feed_key(api):
    """The feed's Ed25519 public key (PEM), as a consumer fetches it."""
    return api.get("/api/v1/feed/key").get_data(as_text=True)


@pytest.fixture
def statements(rt):
    """The SQL statements a request sends (``before_cursor_execute``, either database): those of
    this thread only, where the test client serves the request (not the scan counter's flush
    thread)."""
    seen: list[str] = []
    request_thread = threading.get_ident()

    def listener(conn, cursor, statement, params, context, executemany):
        if threading.get_ident() == request_thread:
            seen.append(statement)

    event.listen(rt.engine, "before_cursor_execute", listener)
    yield seen
    event.remove(rt.engine, "before_cursor_execute", listener)
