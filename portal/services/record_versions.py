"""Withdrawal as a version: the providing unit takes its record off publication with a reason,
by inserting a new version whose status is 撤回 (withdrawn); the old version stays, marked
superseded, so the record's history shows who withdrew it, when and why (海南 第五十二条: nothing
deleted, altered or hidden silently). Corrections are ``records.correct_record``."""
from __future__ import annotations

from ..domain.vocab import RecordStatus
from ..models import CreditRecord
from .audit import record_event
from .context import ServiceContext
from .errors import ServiceError
from .indexing import enqueue

COPIED = ("subject_id", "lineage_id", "record_type", "info_class", "severity", "title", "content", "public_summary",
          "doc_no", "authority", "decided_on", "scope", "publish_from", "publish_until", "ordinary_procedure",
          "source_channel")


def withdraw_record(ctx: ServiceContext, record: CreditRecord, reason: str) -> CreditRecord:
    """A new version with status withdrawn; the caller has checked the permission."""
    reason = (reason or "").strip()
    if not record.is_current:
        raise ServiceError("只能撤回当前版本", "record", 409)
    if record.status == RecordStatus.WITHDRAWN:
        raise ServiceError("该信息已撤回", "record", 409)
    if not reason:
        raise ServiceError("撤回必须说明理由", "reason")
    if len(reason) > 300:
        raise ServiceError("理由不超过 300 字", "reason")
    new = CreditRecord(**{f: getattr(record, f) for f in COPIED}, version=record.version + 1, is_current=True,
                       status=RecordStatus.WITHDRAWN, created_by=ctx.actor, change_reason=reason)
    record.is_current = False
    record.status = RecordStatus.SUPERSEDED
    ctx.session.flush()
    ctx.session.add(new)
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "record.withdraw", subject_id=record.subject_id,
                 object_ref=f"record:{record.lineage_id}", detail={"from": record.id, "to": new.id, "reason": reason})
    enqueue(ctx.session, record.subject_id, "record")
    return new
