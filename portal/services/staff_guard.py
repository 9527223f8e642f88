"""A staff member's write commits only while the account is active and its login still exists
(海南 第五十一条; 湖南 第三十三条: who may change credit information is controlled and audited).

The session check at the start of a request (``staff_desk.staff_account``) is not enough: an
administrator may disable the account (``staff_accounts.set_active``, which also deletes its web
sessions) while a request that already passed that check is still working. So the one place every
staff verb passes through — its ``ServiceContext``, whose ``caller`` is the ``StaffUser`` — puts the
database session under watch (:func:`watch`), and the first write of each transaction (an ORM flush
with changes, or an ``insert``/``update``/``delete`` statement) re-reads the account and the web
session inside that transaction (:func:`check`), locking the account's row (``FOR NO KEY UPDATE``
on PostgreSQL; SQLite has one writer at a time). A disable that committed first is seen and the
write is refused with nothing kept; a disable that comes later waits for the write to commit —
the two never interleave."""
from __future__ import annotations

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ..models import StaffUser, WebSession
from .errors import ServiceError

ENDED = "您的工作人员账号已停用或登录已失效，本次操作未保存。请重新登录后再办理。"
# Shown on the staff login page the staff web UI redirects to after such a refusal (web.staff_ended).
LOGIN_ENDED = "您的工作人员账号已停用或登录已失效，刚才的操作未保存。请重新登录后再办理。"


class LoginEnded(ServiceError):
    """The refusal of :func:`check`: not a rule of the verb but the caller being gone. The staff web
    UI ends the session and sends the browser to the login page (``web.staff_ended``); API and JSON
    callers, the CLI and the tests see a ServiceError with status 401 as before."""

    def __init__(self) -> None:
        super().__init__(ENDED, "staff", 401)
_WATCH = "portal.staff_guard"  # session.info: (staff id, web session id or "")
_CHECKED = "portal.staff_guard.checked"  # the transaction already checked
_BUSY = "portal.staff_guard.busy"


def watch(session: Session, user: StaffUser, web_session: str = "") -> None:
    """The writes of ``session`` are ``user``'s (and, from the web, of the login ``web_session``,
    the ``web_sessions.id``); the newest staff context of a session is the one watched. An account
    created in this very transaction (no id yet) has nothing to re-check."""
    user_id = user.id
    if user_id is not None:
        session.info[_WATCH] = (user_id, web_session)
        session.info.pop(_CHECKED, None)


def check(session: Session) -> None:
    """Once per transaction, before its first write: the watched account is still active and its
    web session still exists, read (and the account's row locked) in this transaction."""
    watched = session.info.get(_WATCH)
    if watched is None or session.info.get(_BUSY):
        return
    transaction = session.get_transaction()
    if transaction is None or session.info.get(_CHECKED) is transaction:
        return
    user_id, web_session = watched
    session.info[_BUSY] = True
    try:
        with session.no_autoflush:
            active = session.execute(select(StaffUser.active).where(StaffUser.id == user_id)
                                     .with_for_update(key_share=True)).scalar()
            alive = not web_session or session.execute(
                select(WebSession.id).where(WebSession.id == web_session)).first() is not None
    finally:
        session.info.pop(_BUSY, None)
    if not active or not alive:
        raise LoginEnded()
    session.info[_CHECKED] = transaction


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _flush_context, _instances) -> None:
    if _WATCH in session.info and (session.new or session.dirty or session.deleted):
        check(session)


@event.listens_for(Session, "do_orm_execute")
def _before_statement(state) -> None:
    if _WATCH in state.session.info and (state.is_insert or state.is_update or state.is_delete):
        check(state.session)
