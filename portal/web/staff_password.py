"""修改密码: the logged-in staff member sets a new password with their current password and a
fresh TOTP code (issue 14). An account whose password someone else set (an administrator's reset,
the generated first password) is sent here before any other staff page (``staff.current_staff``).
The view only calls ``services.staff_passwords.change_own_password``, which checks the caller,
counts wrong attempts, audits (without the password) and ends the account's sessions; this
session then continues under a new session id."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from ..domain import passwords
from ..identity import _rotate
from ..services import staff_passwords as svc
from ..services.errors import ServiceError
from ..services.staff_guard import LoginEnded
from . import commit
from .common import caller_ctx, no_store

bp = Blueprint("staff_password", __name__, url_prefix="/staff/password")
no_store(bp)


def _user():
    from .staff import current_staff

    user = current_staff(pending_ok=True)
    if user is None:
        abort(redirect(url_for("staff.login", next=request.path)))
    return user


def _page(user, error: str | None = None, status: int = 200, done: bool = False):
    return render_template("staff/password.html", user=user, error=error, done=done,
                           min_length=passwords.MIN_LENGTH, is_admin="admin" in (user.roles or ())), status


@bp.get("", endpoint="form")
def form():
    return _page(_user())


@bp.post("", endpoint="change")
def change():
    user = _user()
    f = request.form
    try:
        svc.change_own_password(caller_ctx(f"staff:{user.username}", user), user, f.get("current", "")[:200],
                                f.get("code", "")[:20], f.get("new", "")[:300], f.get("repeat", "")[:300])
    except ServiceError as exc:
        if isinstance(exc, LoginEnded):
            raise  # web.staff_ended: to the login page, nothing of the attempt kept
        commit()  # the count of wrong attempts persists; nothing else was written
        if exc.status == 401:  # too many wrong attempts: the account's sessions ended, this one too
            session.clear()
            _rotate()
            return render_template("staff/login.html", error=exc.message), 401
        return _page(user, exc.message, exc.status)
    commit()
    _rotate()  # every session of the account ended; this one continues under a new id
    return _page(user, done=True)
