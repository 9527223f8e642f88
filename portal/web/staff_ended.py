"""A staff write refused because the account was disabled or the login ended while the request
ran (``services.staff_guard``; 海南 第五十一条; 湖南 第三十三条): in the staff web UI the session
is ended here and the browser goes to the staff login page with the reason, instead of a 401
error page that leaves a dead session behind. A caller that asked for JSON keeps the 401 (as a
JSON error); the API blueprint answers its own refusals (``web.api``)."""
from __future__ import annotations

from flask import Response, jsonify, redirect, request, session, url_for

from ..identity import _rotate
from ..services.staff_guard import LoginEnded
from . import is_htmx

__all__ = ["LoginEnded", "ended_response", "wants_json"]


def wants_json() -> bool:
    """The caller reads JSON (``Accept`` prefers it, or it sent JSON), not a page."""
    if request.is_json:
        return True
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def ended_response(exc: LoginEnded) -> Response:
    """End this browser's session (a new id, nothing of the old login kept) and answer: the login
    page (303; with htmx the whole page through ``HX-Redirect``), or 401 JSON for a JSON caller."""
    session.clear()
    _rotate()
    if wants_json():
        response = jsonify(error={"code": "login_ended", "field": exc.field, "message": exc.message})
        response.status_code = 401
        return response
    target = url_for("staff.login", ended=1)
    if is_htmx():  # a fragment request: the page itself must go to the login
        response = Response(status=401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, 303)
