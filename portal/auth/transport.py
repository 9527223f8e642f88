"""A ``requests`` adapter that delivers HTTP calls to a WSGI application in this process.

Used only for the back channel (discovery, JWKS, token) between the portal's OIDC client and the
embedded development identity provider, which is part of the same application: the client still
speaks plain HTTP semantics, but needs neither a listening socket nor a ``PORTAL_BASE_URL`` that
matches the port the server really listens on, and it works under Flask's test client.

The call runs in a fresh thread: Flask would otherwise reuse the calling request's application
context (and its ``g.db`` session) for the nested request.
"""
from __future__ import annotations

import threading
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from werkzeug.test import Client


class WSGIAdapter(BaseAdapter):
    def __init__(self, app) -> None:
        super().__init__()
        self.app = app

    def send(self, request: requests.PreparedRequest, stream=False, timeout=None, verify=True, cert=None,
             proxies=None) -> requests.Response:
        url = urlsplit(request.url)
        body = request.body.encode() if isinstance(request.body, str) else (request.body or b"")
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
        result: dict = {}

        def call() -> None:
            try:
                result["response"] = Client(self.app).open(
                    path=url.path or "/", query_string=url.query, method=request.method, headers=headers,
                    data=body, base_url=f"{url.scheme}://{url.netloc}")
            except BaseException as exc:  # re-raised in the caller's thread
                result["error"] = exc

        worker = threading.Thread(target=call, name="wsgi-adapter", daemon=True)
        worker.start()
        if isinstance(timeout, tuple):
            timeout = sum(t for t in timeout if t) or None
        worker.join(timeout)
        if worker.is_alive():
            raise requests.Timeout(f"in-process call to {request.url} timed out")
        if "error" in result:
            raise requests.ConnectionError(f"in-process call to {request.url} failed") from result["error"]
        wsgi = result["response"]
        response = requests.Response()
        response.status_code = wsgi.status_code
        response.headers = CaseInsensitiveDict(dict(wsgi.headers))
        response._content = wsgi.get_data()
        response.url = request.url
        response.request = request
        response.reason = wsgi.status.partition(" ")[2]
        response.encoding = wsgi.charset if hasattr(wsgi, "charset") else "utf-8"
        wsgi.close()
        return response

    def close(self) -> None:
        pass
