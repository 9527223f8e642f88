"""Reads and small writes of the staff desk: the account behind a login, the objection and repair
queues, one case with its record, the staff inbox.

Who sees which case is ``portal.domain.permissions.staff_can_see``; the queue applies it *in
the query* (``portal.permissions.staff_case_filter``), so paging counts only cases the staff
member may see, however many others sort before them (海南 第五十一条; 湖南 第三十三条).
"""
from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from ..domain import cases as engine
from ..domain import desk_stats
from ..domain import permissions as rules
from ..domain.workdays import WorkCalendar, workdays_between
from ..models import Case, CaseEvent, Notification, StaffUser, Subject
from ..models.base import utcnow
from ..permissions import is_recused, staff_case_filter, staff_role
from .audit import record_event
from .case_reads import case_by_number
from .cases import KIND_LABELS, WITHDRAWN, deadline_warning, machine_for
from .context import ServiceContext
from .errors import ServiceError

PER_PAGE = 50
STATUSES = ("open", "closed", "all")
DUE = ("overdue", "soon")
MAX_PAGE = 10_000
EXPORT_LIMIT = 50_000  # rows in one CSV export; narrow the filters for more
STAT_MONTHS = 12


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
    region: str = ""  # a region code (a city code covers its counties)
    unit: str = ""  # the providing unit (信息提供单位) the record came from

    @classmethod
    def from_args(cls, args) -> QueueFilters:
        status = args.get("status", "open")
        due = args.get("due", "")
        return cls(status=status if status in STATUSES else "all", state=(args.get("state") or "")[:40],
                   due=due if due in DUE else "", text=(args.get("q") or "").strip()[:40],
                   region=(args.get("region") or "").strip()[:6], unit=(args.get("unit") or "").strip()[:120])

    def args(self) -> dict:
        """The query string that selects these filters again (CSV link, pager)."""
        names = {"text": "q"}
        return {names.get(k, k): v for k, v in asdict(self).items() if v}


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


def _region_term(code: str):
    """Cases in ``code``'s area: a city code (``xxxx00``) covers its counties."""
    if code.endswith("00"):
        return func.substr(Case.region_code, 1, 4) == code[:4]
    return Case.region_code == code


def _queue_query(ctx: ServiceContext, user: StaffUser, kind: str, filters: QueueFilters, calendar: WorkCalendar):
    """The staff member's cases of ``kind`` that match ``filters``: the permission is part of the
    query (``staff_case_filter``), so counts and pages hold only what they may see."""
    if filters.region and ctx.profile.region(filters.region) is None:
        raise ServiceError(f"未知的行政区划代码：{filters.region}", "region", 400)
    if filters.state and filters.state != WITHDRAWN and not any(
            s.id == filters.state for s in machine_for(ctx.profile, kind).steps):
        raise ServiceError("未知的办理环节", "state", 400)
    today = ctx.today
    q = (select(Case, Subject).join(Subject, Subject.id == Case.subject_id)
         .where(Case.kind == kind, staff_case_filter(user, Case)))
    if filters.status == "open":
        q = q.where(Case.closed_on.is_(None))
    elif filters.status == "closed":
        q = q.where(Case.closed_on.is_not(None))
    if filters.state:
        q = q.where(Case.state == filters.state)
    if filters.region:
        q = q.where(_region_term(filters.region))
    if filters.unit:
        q = q.where(Case.authority == filters.unit)
    if filters.text:
        q = q.where(Case.case_no.contains(filters.text, autoescape=True)
                    | Subject.name.contains(filters.text, autoescape=True))
    if filters.due == "overdue":  # engine.is_overdue: past the due day, open cases only
        q = q.where(Case.closed_on.is_(None), Case.due_on < today)
    elif filters.due == "soon":  # engine.due_soon
        q = q.where(Case.closed_on.is_(None), Case.due_on >= today, Case.due_on <= _soon_until(today, calendar))
    return q.order_by(Case.due_on.is_(None), Case.due_on, Case.id)


def _item(ctx: ServiceContext, user: StaffUser, machine, case: Case, subject: Subject, calendar) -> dict:
    today = ctx.today
    return {
        "case": {"case_no": case.case_no, "received_on": case.received_on, "due_on": case.due_on,
                 "stop_from": case.stop_from, "materials_requested_on": case.materials_requested_on,
                 "state": case.state, "region_code": case.region_code, "authority": case.authority,
                 "closed_on": case.closed_on},
        "subject": {"name": subject.name},
        "overdue": case.open and engine.is_overdue(case.due_on, today),
        "soon": case.open and engine.due_soon(case.due_on, today, calendar),
        "label": step_label(machine, case), "warning": deadline_warning(case, calendar),
        "mine": staff_role(user, case, ctx.profile) is not None}


def list_cases_for(ctx: ServiceContext, user: StaffUser, kind: str, filters: QueueFilters, page: int = 1,
                   calendar: WorkCalendar | None = None, per_page: int = PER_PAGE) -> QueuePage:
    """One page of the staff member's queue of ``kind``: only cases they may see, ordered by due
    date, with the overdue / due-soon flags and whether the current step is theirs."""
    from .calendar import load_calendar

    calendar = calendar or load_calendar(ctx.session)
    q = _queue_query(ctx, user, kind, filters, calendar)
    total = ctx.session.execute(select(func.count()).select_from(q.order_by(None).subquery())).scalar_one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = ctx.session.execute(q.offset((page - 1) * per_page).limit(per_page)).all()
    machine = machine_for(ctx.profile, kind)
    items = [_item(ctx, user, machine, case, subject, calendar) for case, subject in rows
             if rules.staff_can_see(user, case)]  # the SQL filter and the rule must agree
    return QueuePage(items=items, total=total, page=page, pages=pages, per_page=per_page,
                     extra={"kind_label": KIND_LABELS[kind]})


def queue_units(ctx: ServiceContext, user: StaffUser, kind: str) -> list[str]:
    """The providing units of the cases the staff member may see (the unit filter's choices)."""
    q = (select(Case.authority).where(Case.kind == kind, staff_case_filter(user, Case), Case.authority != "")
         .distinct().order_by(Case.authority).limit(500))
    return list(ctx.session.execute(q).scalars())


CSV_HEADER = ("编号", "信用主体", "当前环节", "行政区划", "信息提供单位", "收到日期", "办理期限", "期限状态", "办结日期")


def _cell(value) -> str:
    """A CSV cell a spreadsheet will not run: text starting with = + - @ (or a tab / CR) is a
    formula to Excel, so it gets a leading apostrophe (subject names come from outside)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_csv(ctx: ServiceContext, user: StaffUser, kind: str, filters: QueueFilters,
               calendar: WorkCalendar | None = None) -> tuple[bytes, int]:
    """Every case of the filtered queue (at most ``EXPORT_LIMIT``) as CSV in UTF-8 with a byte
    order mark, so that Excel opens the Chinese text correctly; an audited read (湖南 第三十三条)."""
    from .calendar import load_calendar

    if not isinstance(user, StaffUser) or not user.active:
        raise ServiceError("只有工作人员可以导出案件列表。", "export", 403)
    calendar = calendar or load_calendar(ctx.session)
    machine = machine_for(ctx.profile, kind)
    regions = {r.code: r.name for r in ctx.profile.regions}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    n = 0
    for case, subject in ctx.session.execute(_queue_query(ctx, user, kind, filters, calendar).limit(EXPORT_LIMIT)):
        if not rules.staff_can_see(user, case):
            continue
        it = _item(ctx, user, machine, case, subject, calendar)
        flag = "已超期" if it["overdue"] else "即将到期" if it["soon"] else ""
        writer.writerow([_cell(v) for v in (
            case.case_no, subject.name, it["label"] + ("（期限中止）" if case.stop_from else ""),
            regions.get(case.region_code, case.region_code), case.authority, case.received_on, case.due_on or "",
            flag, case.closed_on or "")])
        n += 1
    record_event(ctx.session, ctx.actor, "staff.queue_export", object_ref=f"staff:{user.id}",
                 detail={"kind": kind, "rows": n, "filters": filters.args()})
    return "\ufeff".encode() + out.getvalue().encode("utf-8"), n


@dataclass(frozen=True)
class MonthCount:
    month: str  # YYYY-MM
    decided: int
    in_time: int

    @property
    def late(self) -> int:
        return self.decided - self.in_time


def decided_in_time_by_month(ctx: ServiceContext, user: StaffUser, kind: str,
                             months: int = STAT_MONTHS) -> list[MonthCount]:
    """Per month of closing (the last ``months``, newest first): cases of ``kind`` the staff
    member may see that staff decided, and how many of them every step within its time limit
    (``domain.desk_stats.staff_steps_in_time``)."""
    keys = desk_stats.last_months(ctx.today, months)
    first = date.fromisoformat(keys[-1] + "-01")
    cases_q = (select(Case.id, Case.closed_on).where(Case.kind == kind, staff_case_filter(user, Case),
                                                     Case.closed_on.is_not(None), Case.closed_on >= first,
                                                     Case.outcome != WITHDRAWN))
    closed = dict(ctx.session.execute(cases_q).all())
    events: dict[int, list] = {cid: [] for cid in closed}
    if closed:
        ids = cases_q.with_only_columns(Case.id).scalar_subquery()
        # plain rows, not ORM objects: a province's year is tens of thousands of events
        cols = (CaseEvent.case_id, CaseEvent.on, CaseEvent.role, CaseEvent.action, CaseEvent.from_state,
                CaseEvent.to_state, CaseEvent.due_on)
        for ev in ctx.session.execute(select(*cols).where(CaseEvent.case_id.in_(ids))
                                      .order_by(CaseEvent.case_id, CaseEvent.id)):
            events[ev.case_id].append(ev)
    decided = dict.fromkeys(keys, 0)
    in_time = dict.fromkeys(keys, 0)
    for cid, closed_on in closed.items():
        verdict = desk_stats.staff_steps_in_time(events[cid])
        key = desk_stats.month_key(closed_on)
        if verdict is None or key not in decided:
            continue
        decided[key] += 1
        in_time[key] += int(verdict)
    return [MonthCount(k, decided[k], in_time[k]) for k in keys]


def staff_case(ctx: ServiceContext, user: StaffUser, case_no: str) -> Case | None:
    """The case with this number if the staff member may see it (else ``None``: a 404 that
    does not say whether it exists)."""
    case = case_by_number(ctx.session, case_no)
    return case if case is not None and rules.staff_can_see(user, case) else None


def recused_from_step(user: StaffUser, case: Case) -> bool:
    """The staff member holds the current step's role but must stand aside (回避: they decided
    what this 复核 reviews), so the page says why they cannot act."""
    return is_recused(user, case)


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
