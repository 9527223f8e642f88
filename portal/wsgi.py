"""The WSGI entry point behind a reverse proxy: ``gunicorn -c deploy/gunicorn.conf.py portal.wsgi:app``.

ProxyFix trusts one proxy hop (nginx, ``deploy/nginx/credit-portal.conf``) for
``X-Forwarded-For``, ``-Proto``, ``-Host`` and ``-Port``: ``request.remote_addr`` is then the
visitor's address (chatbot rate limit, ``/metrics`` allow list, audit source) and
``request.scheme`` is https. Use it only when gunicorn listens on an address nobody but that
proxy can reach (``bind = 127.0.0.1:8000``); serving directly, use ``portal:create_app()``.
"""
from __future__ import annotations

from werkzeug.middleware.proxy_fix import ProxyFix

from . import create_app

app = create_app()
app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1)
