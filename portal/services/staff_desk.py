"""Reads and small writes of the staff desk: the account behind a login, the objection and repair
queues, one case with its record, the staff inbox.

Who sees which case is ``portal.domain.permissions.staff_can_see``; the queue applies it *in
the query* (``portal.permissions.staff_case_filter``), so paging counts only cases the staff
member may see, however many others sort before them (海南 第五十一条; 湖南 第三十三条).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from ..domain import cases as engine
from ..domain import permissions as rules
from ..domain.workdays import WorkCalendar, workdays_between
from ..models import Case, Notification, StaffUser, Subject
from ..models.base import utcnow
from ..permissions import staff_case_filter, staff_role
from .audit import record_event
from .case_reads import case_by_number
from .cases import KIND_LABELS, WITHDRAWN, deadline_warning, machine_for
from .context import ServiceContext
from .errors import ServiceError

PER_PAGE = 50
STATUSES = ("open", "closed", "all")
DUE = ("overdue", "soon")
MAX_PAGE = 10_000


def staff_account(session, staff_id) -> StaffUser | None:
    """The active account with this id (a login's session value), else ``None``."""
    user = session.get(StaffUser, staff_id) if isinstance(staff_id, int) else None
    return user if user is not None and user.active else None


@dataclass(frozen=True)
class QueueFilters:
    status: str = "open"
    state: str = ""
    due: str = ""  # "overdue" / "soon" / ""
    text: str = ""  # part of a case number or a subject's name

    @classmethod
    def from_args(cls, args) -> QueueFilters:
        status = args.get("status", "open")
        due = args.get("due", "")
        return cls(status=status if status in STATUSES else "all", state=(args.get("state") or "")[:40],
                   due=due if due in DUE else "", text=(args.get("q") or "").strip()[:40])


@dataclass
class QueuePage:
    items: list[dict]
    total: int
    page: int
    pages: int
    per_page: int = PER_PAGE
    extra: dict = field(default_factory=dict)


def step_label(machine, case: Case) -> str:
    if case.state == WITHDRAWN:
        return "申请人已撤回"
    return machine.step(case.state).label


def _soon_until(today: date, calendar: WorkCalendar, within: int = 1) -> date:
    """The last due date that ``engine.due_soon`` calls soon (at most ``within`` working days)."""
    last = today
    for _ in range(60):  # the longest holiday run is far shorter
        nxt = last + timedelta(days=1)
        if workdays_between(today, nxt, calendar) > within:
            break
        last = nxt
    return last


def list_cases_for(ctx: ServiceContext, user: StaffUser, kind: str, filters: QueueFilters, page: int = 1,
                   calendar: WorkCalendar | None = None, per_page: int = PER_PAGE) -> QueuePage:
    """One page of the staff member's queue of ``kind``: only cases they may see, ordered by due
    date, with the overdue / due-soon flags and whether the current step is theirs."""
    from .calendar import load_calendar

    calendar = calendar or load_calendar(ctx.session)
    today = ctx.today
    q = (select(Case, Subject).join(Subject, Subject.id == Case.subject_id)
         .where(Case.kind == kind, staff_case_filter(user, Case)))
    if filters.status == "open":
        q = q.where(Case.closed_on.is_(None))
    elif filters.status == "closed":
        q = q.where(Case.closed_on.is_not(None))
    if filters.state:
        q = q.where(Case.state == filters.state)
    if filters.text:
        q = q.where(Case.case_no.contains(filters.text, autoescape=True)
                    | Subject.name.contains(filters.text, autoescape=True))
    if filters.due == "overdue":  # engine.is_overdue: past the due day, open cases only
        q = q.where(Case.closed_on.is_(None), Case.due_on < today)
    elif filters.due == "soon":  # engine.due_soon
        q = q.where(Case.closed_on.is_(None), Case.due_on >= today, Case.due_on <= _soon_until(today, calendar))
    total = ctx.session.execute(select(func.count()).select_from(q.subquery())).scalar_one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = ctx.session.execute(q.order_by(Case.due_on.is_(None), Case.due_on, Case.id)
                               .offset((page - 1) * per_page).limit(per_page)).all()
    machine = machine_for(ctx.profile, kind)
    items = []
    for case, subject in rows:
        if not rules.staff_can_see(user, case):  # the SQL filter and the rule must agree
            continue
        items.append({
            "case": {"case_no": case.case_no, "received_on": case.received_on, "due_on": case.due_on,
                     "stop_from": case.stop_from, "materials_requested_on": case.materials_requested_on,
                     "state": case.state},
            "subject": {"name": subject.name},
            "overdue": case.open and engine.is_overdue(case.due_on, today),
            "soon": case.open and engine.due_soon(case.due_on, today, calendar),
            "label": step_label(machine, case), "warning": deadline_warning(case, calendar),
            "mine": staff_role(user, case, ctx.profile) is not None})
    return QueuePage(items=items, total=total, page=page, pages=pages, per_page=per_page,
                     extra={"kind_label": KIND_LABELS[kind]})


def staff_case(ctx: ServiceContext, user: StaffUser, case_no: str) -> Case | None:
    """The case with this number if the staff member may see it (else ``None``: a 404 that
    does not say whether it exists)."""
    case = case_by_number(ctx.session, case_no)
    return case if case is not None and rules.staff_can_see(user, case) else None


def case_subject(session, case: Case) -> Subject | None:
    return session.get(Subject, case.subject_id)


def unread_notifications(session, user: StaffUser, limit: int = 20) -> list[dict]:
    """The staff member's unread notices, newest first."""
    rows = session.execute(select(Notification).where(Notification.staff_id == user.id,
                                                      Notification.read_at.is_(None))
                           .order_by(Notification.id.desc()).limit(limit)).scalars()
    return [{"id": n.id, "created_at": n.created_at, "text": n.text} for n in rows]


def mark_notifications_read(ctx: ServiceContext) -> int:
    """Mark the calling staff member's own unread notices read; audited with the count."""
    user = ctx.caller
    if user is None or not isinstance(user, StaffUser) or not user.active:
        raise ServiceError("只有工作人员本人可以处理自己的通知。", "notifications", 403)
    now = utcnow()
    rows = list(ctx.session.execute(select(Notification).where(Notification.staff_id == user.id,
                                                               Notification.read_at.is_(None))).scalars())
    for note in rows:
        note.read_at = now
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "staff.notifications_read", object_ref=f"staff:{user.id}",
                 detail={"count": len(rows)})
    return len(rows)
