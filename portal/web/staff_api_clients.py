"""``/staff/api-clients``: administrators register the sharing API's department clients, rotate
their secrets and disable them (the same verbs as ``credit-portal api-client``). A new or
rotated secret is shown once, on the page that answers the POST, and never stored in clear."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for

from ..domain.api_access import SCOPES
from ..services import api_clients as svc
from . import abort_with, commit, db
from .common import caller_ctx, no_store, on_refusal

bp = Blueprint("staff_api", __name__, url_prefix="/staff/api-clients")
no_store(bp)


def _admin():
    from ..services.staff import is_admin
    from .staff import current_staff

    user = current_staff()
    if user is None:
        abort(redirect(url_for("staff.login", next=request.path)))
    if not is_admin(user):
        abort_with(403, "只有系统管理员可以管理政务共享接口客户端。")
    return user


def _ctx(user):
    return caller_ctx(f"staff:{user.username}", user)


def _page(user, *, error: str | None = None, status: int = 200, secret: tuple[str, str] | None = None,
          form: dict | None = None):
    clients = svc.list_clients(_ctx(user))
    return render_template("staff/api_clients.html", user=user, clients=clients, scopes=SCOPES, error=error,
                           secret=secret, form=form or {}), status


@bp.get("")
def index():
    return _page(_admin())


@bp.post("")
def create():
    user = _admin()
    form = {k: request.form.get(k, "")[:300] for k in ("client_id", "name", "purpose", "region_code", "authority",
                                                        "rate_limit")}
    scopes = request.form.getlist("scope")[:10]
    on_refusal(lambda exc: _page(user, error=exc.message, status=exc.status if exc.status != 400 else 422,
                                 form=form))
    client, secret = svc.create_client(_ctx(user), form["client_id"], name=form["name"], purpose=form["purpose"],
                                       scopes=scopes, region_code=form["region_code"].strip(),
                                       authority=form["authority"],
                                       rate_limit=form["rate_limit"].strip() or svc.DEFAULT_RATE)
    commit()
    return _page(user, secret=(client.client_id, secret))


def _client(client_id: str):
    client = svc.find_client(db(), client_id)
    if client is None:
        abort_with(404, "没有这个客户端")
    return client


@bp.post("/<client_id>/rotate")
def rotate(client_id: str):
    user = _admin()
    client = _client(client_id)
    secret = svc.rotate_secret(_ctx(user), client)
    commit()
    return _page(user, secret=(client.client_id, secret))


@bp.post("/<client_id>/disable")
def disable(client_id: str):
    user = _admin()
    svc.disable_client(_ctx(user), _client(client_id), request.form.get("reason", "")[:200])
    commit()
    return redirect(url_for("staff_api.index"), 303)
