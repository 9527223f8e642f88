"""Write verbs for credit records. A correction is a new version; nothing is silently
overwritten or deleted (海南 第五十二条)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..domain.record_rules import RecordRuleError, check_record
from ..domain.vocab import RECORD_TYPES, InfoClass, RecordStatus, Scope
from ..domain.windows import default_until
from ..models import CreditRecord, Subject
from .audit import record_event
from .context import ServiceContext
from .errors import ServiceError
from .indexing import enqueue
from .record_hooks import dishonesty_filed

DISHONEST_CLASSES = {InfoClass.DISHONEST, InfoClass.SERIOUS}
TEXT_LIMITS = {"title": 300, "content": 5000, "public_summary": 2000, "doc_no": 120, "authority": 120}


def _validated(ctx: ServiceContext, *, record_type: str, info_class: str | None, severity: str | None,
               title: str, content: str, doc_no: str, authority: str, decided_on: date, scope: str,
               publish_from: date | None, publish_until: date | None, public_summary: str = "",
               ordinary_procedure: bool | None = None) -> dict:
    if scope not in set(Scope):
        raise ServiceError(f"未知的公开方式：{scope}", "scope")
    title = (title or "").strip()
    if not title:
        raise ServiceError("标题不能为空", "title")
    fields = {"title": title, "content": (content or "").strip(), "public_summary": (public_summary or "").strip(),
              "doc_no": (doc_no or "").strip(),
              "authority": (authority or "").strip()}
    for name, limit in TEXT_LIMITS.items():
        if len(fields[name]) > limit:
            raise ServiceError(f"{name} 超过 {limit} 字", name)
    if decided_on > ctx.today:
        raise ServiceError("决定日期不能晚于今天", "decided_on")
    publish_from = publish_from or decided_on
    natural = RECORD_TYPES[record_type][1] if record_type in RECORD_TYPES else None
    if publish_until is None:
        try:
            publish_until = default_until(ctx.profile, info_class or natural, severity, publish_from)
        except ValueError:
            pass  # an unknown severity: check_record names it

    try:  # the record rules shared by every path (portal.domain.record_rules)
        checked = check_record(ctx.profile, record_type=record_type, info_class=info_class, severity=severity,
                               publish_from=publish_from, publish_until=publish_until,
                               ordinary_procedure=ordinary_procedure)
    except RecordRuleError as exc:
        raise ServiceError(exc.message, exc.field) from exc
    return dict(record_type=record_type, info_class=checked.info_class, severity=checked.severity, scope=scope,
                decided_on=decided_on, publish_from=publish_from, publish_until=publish_until,
                ordinary_procedure=checked.ordinary_procedure, **fields)


def add_record(ctx: ServiceContext, subject: Subject, *, record_type: str, title: str, decided_on: date,
               info_class: str | None = None, severity: str | None = None, content: str = "",
               doc_no: str = "", authority: str = "", scope: str = Scope.PUBLIC,
               publish_from: date | None = None, publish_until: date | None = None,
               status: str = RecordStatus.ACTIVE, audit: bool = True, public_summary: str = "",
               ordinary_procedure: bool | None = None) -> CreditRecord:
    """``public_summary``: shown on public pages instead of ``content`` when given (公示摘要)."""
    values = _validated(ctx, record_type=record_type, info_class=info_class, severity=severity, title=title,
                        content=content, doc_no=doc_no, authority=authority, decided_on=decided_on,
                        scope=scope, publish_from=publish_from, publish_until=publish_until,
                        public_summary=public_summary, ordinary_procedure=ordinary_procedure)
    if status not in (RecordStatus.ACTIVE, RecordStatus.REPAIRED, RecordStatus.WITHDRAWN):
        raise ServiceError(f"不能以状态 {status} 新增信息", "status")
    record = CreditRecord(subject_id=subject.id, status=status, created_by=ctx.actor, version=1,
                          is_current=True, **values)
    ctx.session.add(record)
    ctx.session.flush()
    record.lineage_id = record.id
    if audit:
        record_event(ctx.session, ctx.actor, "record.add", subject_id=subject.id,
                     object_ref=f"record:{record.id}")
    enqueue(ctx.session, subject.id, "record")
    if record.info_class in DISHONEST_CLASSES and status == RecordStatus.ACTIVE:
        dishonesty_filed(ctx, subject, record)  # red list, broken commitments (issue 16)
    return record


def current_version(ctx: ServiceContext, lineage_id: int) -> CreditRecord | None:
    return ctx.session.execute(
        select(CreditRecord).where(CreditRecord.lineage_id == lineage_id, CreditRecord.is_current.is_(True))
    ).scalar_one_or_none()


def correct_record(ctx: ServiceContext, record: CreditRecord, changes: dict, reason: str) -> CreditRecord:
    """Insert a corrected version; the old one stays, marked superseded."""
    if not record.is_current:
        raise ServiceError("只能更正当前版本", "record", 409)
    if not reason.strip():
        raise ServiceError("更正必须说明理由", "reason")
    fields = ("record_type", "info_class", "severity", "title", "content", "public_summary", "doc_no", "authority",
              "decided_on", "scope", "publish_from", "publish_until", "ordinary_procedure")
    merged = {f: changes.get(f, getattr(record, f)) for f in fields}
    values = _validated(ctx, **merged)
    new = CreditRecord(subject_id=record.subject_id, lineage_id=record.lineage_id, version=record.version + 1,
                       is_current=True, status=record.status, created_by=ctx.actor,
                       change_reason=reason.strip(), **values)
    record.is_current = False
    record.status = RecordStatus.SUPERSEDED
    ctx.session.flush()
    ctx.session.add(new)
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "record.correct", subject_id=record.subject_id,
                 object_ref=f"record:{record.lineage_id}", detail={"from": record.id, "to": new.id,
                                                                    "reason": reason.strip()})
    enqueue(ctx.session, record.subject_id, "record")
    return new


def set_record_status(ctx: ServiceContext, record: CreditRecord, status: str, reason: str) -> CreditRecord:
    """Stop (or resume) publication without deleting: repaired, withdrawn or logically deleted."""
    allowed = {RecordStatus.ACTIVE, RecordStatus.REPAIRED, RecordStatus.WITHDRAWN, RecordStatus.DELETED}
    if status not in allowed:
        raise ServiceError(f"不允许的状态：{status}", "status")
    if not record.is_current:
        raise ServiceError("只能变更当前版本", "record", 409)
    if not reason.strip():
        raise ServiceError("状态变更必须说明理由", "reason")
    old = record.status
    record.status = status
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "record.status", subject_id=record.subject_id,
                 object_ref=f"record:{record.lineage_id}", detail={"from": old, "to": status, "reason": reason})
    enqueue(ctx.session, record.subject_id, "record")
    return record
