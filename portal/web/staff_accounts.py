"""Staff account management for administrators (issue 14): the list, a new account, disable /
enable, a new TOTP second factor, roles, unit and region. The views only call the verbs of
``services.staff_accounts``, which check the caller and audit; new credentials are shown once, on
the answer to the POST that made them (``no_store``: never cached)."""
from __future__ import annotations

import base64

from flask import Blueprint, abort, redirect, render_template, request, url_for

from ..documents.qr import encode_qr, qr_png
from ..domain import permissions as rules
from ..services import staff_accounts as svc
from ..services import staff_notify as notify_svc
from ..services import staff_passwords as passwords_svc
from ..services.errors import ServiceError
from ..services.staff_guard import LoginEnded
from . import abort_with, commit, db, runtime
from .common import caller_ctx, no_store

bp = Blueprint("staff_accounts", __name__, url_prefix="/staff/accounts")
no_store(bp)
# A providing unit's channel (海南 第二十二条), as ``credit-portal staff create --channel``.
CHANNEL_OPTIONS = [("", "信息提供单位本身（官方渠道）"), ("association", "行业协会"),
                   ("third_party", "第三方信用服务机构")]


def _require():
    from .staff import current_staff

    user = current_staff()
    if user is None:
        abort(redirect(url_for("staff.login", next=request.path)))
    if not rules.is_admin(user):
        abort_with(403, rules.ACCOUNTS_ONLY)
    return user


def _ctx(user):
    return caller_ctx(f"staff:{user.username}", user)


def _roles_options():
    return [(r, rules.STAFF_ROLE_LABELS.get(r, r)) for r in svc.STAFF_ROLES]


def _credentials(creds: svc.NewCredentials | None) -> dict | None:
    """The one-time credentials with the QR code of the TOTP URI (a data: PNG, allowed by the CSP)."""
    if creds is None:
        return None
    qr = ""
    if creds.totp_uri:  # a password reset leaves the second factor as it is
        png = base64.b64encode(qr_png(encode_qr(creds.totp_uri), scale=4)).decode("ascii")
        qr = f"data:image/png;base64,{png}"
    return {"username": creds.username, "password": creds.password, "totp_uri": creds.totp_uri, "qr": qr}


def _list_page(user, error: str | None = None, status: int = 200, form=None, created=None):
    return render_template("staff/accounts.html", user=user, accounts=svc.list_accounts(_ctx(user)),
                           roles=_roles_options(), channels=CHANNEL_OPTIONS, channel_labels=dict(CHANNEL_OPTIONS),
                           regions=runtime().profile.regions, error=error,
                           form=form or {}, created=_credentials(created), is_admin=True), status


@bp.get("", endpoint="index")
def index():
    return _list_page(_require())


@bp.post("", endpoint="create")
def create():
    user = _require()
    form = request.form
    try:
        creds = svc.create_account(_ctx(user), form.get("username", "")[:80], form.getlist("roles"),
                                   authority=form.get("authority", "")[:200],
                                   region_code=form.get("region_code", "")[:6],
                                   display_name=form.get("display_name", "")[:80],
                                   channel=form.get("channel", "")[:20])
    except ServiceError as exc:
        if isinstance(exc, LoginEnded):
            raise  # web.staff_ended: to the login page
        db().rollback()
        return _list_page(user, exc.message, exc.status, form=form)
    commit()
    return _list_page(user, created=creds)


def _account_page(user, account, error: str | None = None, status: int = 200, reset=None):
    return render_template("staff/account.html", user=user, account=account, roles=_roles_options(),
                           regions=runtime().profile.regions, error=error, reset=_credentials(reset),
                           channels=CHANNEL_OPTIONS, contact=notify_svc.masked_contact(_ctx(user), account),
                           is_self=account.id == user.id, is_admin=True), status


def _account(user, staff_id: int):
    try:
        return svc.get_account(_ctx(user), staff_id)
    except ServiceError as exc:
        abort_with(exc.status, exc.message)


@bp.get("/<int:staff_id>", endpoint="show")
def show(staff_id: int):
    user = _require()
    return _account_page(user, _account(user, staff_id))


def _post(staff_id: int, do):
    """Run one verb on the account; a refusal shows the account page again with the message."""
    user = _require()
    account = _account(user, staff_id)
    try:
        out = do(_ctx(user), account)
    except ServiceError as exc:
        if isinstance(exc, LoginEnded):
            raise  # web.staff_ended: to the login page
        db().rollback()
        return _account_page(user, _account(user, staff_id), exc.message, exc.status)
    commit()
    if isinstance(out, svc.NewCredentials):
        return _account_page(user, account, reset=out)
    if not rules.is_admin(user):  # an administrator who gave up their own role leaves the page
        return redirect(url_for("staff.objections"), 303)
    return redirect(url_for("staff_accounts.show", staff_id=staff_id), 303)


@bp.post("/<int:staff_id>/access", endpoint="access")
def access(staff_id: int):
    form = request.form
    return _post(staff_id, lambda c, account: svc.change_access(
        c, account, form.getlist("roles"), authority=form.get("authority", "")[:200],
        region_code=form.get("region_code", "")[:6], display_name=form.get("display_name", "")[:80],
        channel=form.get("channel", "")[:20]))


@bp.post("/<int:staff_id>/active", endpoint="active")
def active(staff_id: int):
    wanted = request.form.get("active")
    if wanted not in ("0", "1"):
        abort_with(400, "请选择停用或启用。")
    return _post(staff_id, lambda c, account: svc.set_active(c, account, wanted == "1"))


@bp.post("/<int:staff_id>/totp", endpoint="totp")
def totp(staff_id: int):
    confirmed = request.form.get("confirm") == "yes"
    return _post(staff_id, lambda c, account: svc.reset_totp(c, account, confirmed=confirmed))


@bp.post("/<int:staff_id>/password", endpoint="password")
def password(staff_id: int):
    """A new random password, shown once; the owner must choose their own at the next login."""
    confirmed = request.form.get("confirm") == "yes"
    return _post(staff_id, lambda c, account: passwords_svc.reset_password(c, account, confirmed=confirmed))


@bp.post("/<int:staff_id>/contact", endpoint="contact")
def contact(staff_id: int):
    """The e-mail address or mobile number for the account's security notices (services.staff_notify)."""
    text = request.form.get("contact", "")[:300]
    return _post(staff_id, lambda c, account: notify_svc.set_contact(c, account, text))
