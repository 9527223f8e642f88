"""Logged reads of a case: the case itself, its PDFs and its evidence files, for the subject side,
the handling staff and the command line alike.

A case holds the subject's non-public record and statement, so every read is written to the
access log the subject can read back (海南 第二十七条、第五十一条; 湖南 第三十三条). Who reads is
``ctx.caller`` (``portal.permissions``): a logged-in person (the subject itself or its legal
representative, ``can_manage``), a staff member who may see the case, or ``None`` for the
operator's command line. The check and the log entry are made here, once, for every caller.
"""
from __future__ import annotations

import os

from ..domain.identity import Identity
from ..models import Case, CreditRecord, Evidence, Subject
from ..permissions import Decision, require_staff_can_see, require_subject_manager
from .access_log import log_private_view, log_staff_view
from .case_documents import CaseDocument, case_document
from .context import ServiceContext
from .errors import ServiceError
from .evidence import evidence_path

HANDLING = "异议/信用修复办理"  # the purpose recorded when staff read a case
NO_FILE = "文件不存在。"


def _check(ctx: ServiceContext, subject: Subject, decision: Decision | None) -> Decision | None:
    if isinstance(ctx.caller, Identity):
        return decision or require_subject_manager(ctx, subject)
    return None


def log_case_read(ctx: ServiceContext, subject: Subject, *, what: str, ref: str, decision: Decision | None = None,
                  purpose: str = HANDLING) -> None:
    """One access-log entry for reading a case (``what``: case / case_document / evidence)."""
    caller = ctx.caller
    if isinstance(caller, Identity):
        decision = _check(ctx, subject, decision)
        log_private_view(ctx, caller, subject, decision.purpose, decision.via, decision.authorisation_id,
                         what=what, ref=ref)
    elif caller is not None:
        log_staff_view(ctx, caller.username, caller.display_name, subject.id, purpose, what=what, ref=ref)
    else:
        log_staff_view(ctx, "cli", "命令行", subject.id, purpose, what=what, ref=ref)


def case_by_number(session, case_no: str) -> Case | None:
    """The case a URL names (the caller checks it may see it: ``staff_desk.staff_case`` or the
    subject's own ``case.subject_id``)."""
    from sqlalchemy import select

    return session.execute(select(Case).where(Case.case_no == (case_no or "")[:20])).scalar_one_or_none()


def case_record(session, case: Case) -> CreditRecord | None:
    """The current version of the record the case is about."""
    from sqlalchemy import select

    return session.execute(select(CreditRecord).where(CreditRecord.lineage_id == case.record_lineage_id,
                                                      CreditRecord.is_current.is_(True))).scalar_one_or_none()


def subject_record(session, subject: Subject, lineage_id: int) -> CreditRecord | None:
    """The current version of one of the subject's records (an objection or repair form)."""
    from sqlalchemy import select

    return session.execute(select(CreditRecord).where(CreditRecord.subject_id == subject.id,
                                                      CreditRecord.lineage_id == lineage_id,
                                                      CreditRecord.is_current.is_(True))).scalar_one_or_none()


def _subject(ctx: ServiceContext, case: Case) -> Subject:
    return ctx.session.get(Subject, case.subject_id)


def _may_read(ctx: ServiceContext, case: Case, subject: Subject, decision: Decision | None) -> Decision | None:
    require_staff_can_see(ctx, case)
    return _check(ctx, subject, decision)


def read_case(ctx: ServiceContext, case: Case, *, decision: Decision | None = None) -> None:
    """The case page: a logged read."""
    subject = _subject(ctx, case)
    decision = _may_read(ctx, case, subject, decision)
    log_case_read(ctx, subject, what="case", ref=f"case:{case.case_no}", decision=decision)


def read_case_document(ctx: ServiceContext, case: Case, kind: str, *, base_url: str,
                       decision: Decision | None = None, purpose: str = HANDLING) -> CaseDocument:
    """One of the case's PDFs (issued on first request), logged as a read of non-public data."""
    subject = _subject(ctx, case)
    decision = _may_read(ctx, case, subject, decision)
    doc = case_document(ctx, case, (kind or "")[:40], base_url=base_url)
    log_case_read(ctx, subject, what="case_document", ref=f"document:{doc.doc_no}", decision=decision,
                  purpose=purpose)
    return doc


def read_evidence(ctx: ServiceContext, case: Case, evidence_id: int, *, var_dir: str | os.PathLike,
                  decision: Decision | None = None) -> tuple[Evidence, bytes]:
    """An uploaded file of the case and its bytes (at most ``evidence.MAX_BYTES``: no open handle
    outlives the request), logged as a read."""
    subject = _subject(ctx, case)
    decision = _may_read(ctx, case, subject, decision)
    row = ctx.session.get(Evidence, evidence_id)
    if row is None or row.case_id != case.id:
        raise ServiceError(NO_FILE, "evidence", 404)
    path = evidence_path(var_dir, row)
    if not path.is_file():
        raise ServiceError(NO_FILE, "evidence", 404)
    log_case_read(ctx, subject, what="evidence", ref=f"case:{case.case_no}:evidence:{row.id}", decision=decision)
    return row, path.read_bytes()


def subject_case_panel(ctx: ServiceContext, subject: Subject, rows) -> dict:
    """The "异议与信用修复" panel of the subject's own page (``subject/_cases.html``): per record
    row its open case or, for an active dishonesty record, the repair verdict; the subject's
    cases and notices. Plain values only; computed here, never by a template."""
    from sqlalchemy import select

    from ..models import Notification
    from .calendar import load_calendar
    from .cases import KIND_LABELS, eligibility_for, is_provisional

    open_cases = {c.record_lineage_id: {"case_no": c.case_no, "kind": c.kind} for c in ctx.session.execute(
        select(Case).where(Case.subject_id == subject.id, Case.closed_on.is_(None)).order_by(Case.id.desc())).scalars()}
    verdicts = {}
    for row in rows:
        r = row.current
        lineage = r.lineage_id or r.id
        if lineage not in open_cases and r.is_current and r.status == "active" \
                and r.info_class in ("dishonest", "serious"):
            verdicts[lineage] = eligibility_for(ctx, r)
    calendar = load_calendar(ctx.session, ctx.profile)
    cases = [{"case_no": c.case_no, "kind": c.kind, "received_on": c.received_on, "closed_on": c.closed_on,
              "due_on": c.due_on, "provisional": c.closed_on is None and is_provisional(c, calendar)}
             for c in ctx.session.execute(
        select(Case).where(Case.subject_id == subject.id).order_by(Case.id.desc()).limit(100)).scalars()]
    notes = [{"created_at": n.created_at, "text": n.text} for n in ctx.session.execute(
        select(Notification).where(Notification.subject_id == subject.id)
        .order_by(Notification.id.desc()).limit(20)).scalars()]
    return {"open": open_cases, "verdicts": verdicts, "cases": cases, "notes": notes, "kind_labels": KIND_LABELS}
