"""The providers' workspace (信息提供单位): verbs for uploading a file with a preview, entering one
record as a draft with 审核, correcting and withdrawing with a reason, and the reads behind the
workspace pages (the unit's records, a record's versions, the catalogue, units overdue).

Every verb checks its caller (``domain.provision``) and writes its audit event; the record rules
are those of every other path (``importer`` parsing, ``records._validated`` / ``check_record``).
Drafts and uploads live outside ``credit_records``: until a reviewer publishes them no public
page, search, API or index can see them (海南 第二十二条 for other channels).
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, or_, select

from ..domain import provision as rules
from ..domain.permissions import in_region
from ..domain.vocab import RecordStatus
from ..models import CreditRecord, ProviderUpload, RecordDraft, StaffUser, Subject
from ..models.base import utcnow
from .audit import record_event
from .context import ServiceContext
from .errors import ServiceError
from .import_changes import current_of
from .importer import KEYS, ImportFileError, ImportReport, _parse_row, import_file
from .record_versions import withdraw_record
from .records import _validated, add_record, correct_record
from .subjects import check_registration, identity_columns, register_subject

MAX_UPLOAD = 20 * 1024 * 1024
INLINE_CHECK = 256 * 1024  # smaller files are checked in the request; larger ones in the background
SUFFIXES = (".csv", ".xlsx", ".jsonl")
FORM_KEYS = tuple(k for k in KEYS if k not in ("action", "record_ref", "change_reason"))
PER_PAGE = 50


def _refuse(message: str, status: int = 403, field: str = "provider"):
    raise ServiceError(message, field, status)


def _caller(ctx: ServiceContext):
    caller = ctx.caller
    if not isinstance(caller, StaffUser) or not caller.active:  # a person's login is no staff account
        _refuse(rules.NOT_PROVIDER)
    return caller


def require_provider(ctx: ServiceContext, *, official: bool = False):
    user = _caller(ctx)
    if not rules.is_provider(user):
        _refuse(rules.NOT_PROVIDER)
    if official and rules.channel_of(user) != rules.OFFICIAL:
        _refuse(rules.message(rules.CHANNEL_OFFICIAL_ONLY, ctx.profile.document))
    return user


def scope_of(ctx: ServiceContext):
    """The importer's scope check for the caller: its own unit and region."""
    user = require_provider(ctx)

    def check(region_code: str, authority: str) -> None:
        why = rules.provide_refusal(user, region_code, authority)
        if why:
            raise ServiceError(rules.message(why, ctx.profile.document),
                               "authority" if why == rules.OTHER_UNIT else "region_code", 403)
    return check


# --- upload: check (preview), then confirm --------------------------------------------------------

def start_upload(ctx: ServiceContext, filename: str, raw: bytes) -> ProviderUpload:
    user = require_provider(ctx, official=True)
    name = Path(filename or "").name[:120]
    if not name.lower().endswith(SUFFIXES):
        raise ServiceError("只支持 .csv、.xlsx、.jsonl 文件", "file")
    if not raw:
        raise ServiceError("文件为空", "file")
    if len(raw) > MAX_UPLOAD:
        raise ServiceError(f"文件超过 {MAX_UPLOAD // 1024 // 1024} MB，请分批报送", "file", 413)
    total = raw.count(b"\n") if not name.lower().endswith(".xlsx") else 0
    upload = ProviderUpload(id=secrets.token_hex(16), filename=name, raw=raw, uploaded_by=ctx.actor,
                            authority=user.authority, region_code=user.region_code, rows_total=total, report={})
    ctx.session.add(upload)
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "provider.upload", object_ref=f"upload:{upload.id}",
                 detail={"file": name, "bytes": len(raw)})
    return upload


def inline(upload: ProviderUpload) -> bool:
    return len(upload.raw) <= INLINE_CHECK


def _report_dict(report: ImportReport) -> dict:
    return {"rows": report.rows, "records": report.records, "subjects": report.subjects,
            "corrections": report.corrections, "withdrawals": report.withdrawals,
            "errors": [str(e) for e in report.errors[:1000]], "error_count": len(report.errors),
            "preview": report.preview}


def get_upload(ctx: ServiceContext, upload_id: str) -> ProviderUpload:
    """An upload of the caller's own unit (404 otherwise: an id reveals nothing)."""
    user = require_provider(ctx)
    upload = ctx.session.get(ProviderUpload, (upload_id or "")[:32])
    if upload is None or upload.authority != user.authority or not in_region(user.region_code, upload.region_code):
        _refuse("未找到该报送文件。", 404, "upload")
    return upload


def check_upload(ctx: ServiceContext, upload_id: str) -> ProviderUpload:
    """The dry run: the row-by-row report and the preview (新增 / 更正 / 撤回); nothing published.
    Commits its progress as it goes (the page polls it)."""
    upload = get_upload(ctx, upload_id)
    session = ctx.session
    done = [0]

    def progress(n: int) -> None:
        done[0] += n
        if done[0] % 500 == 0:
            upload.rows_done = done[0]
            session.commit()

    try:
        report = import_file(ctx, upload.filename, upload.raw, progress, scope=scope_of(ctx), dry_run=True)
    except ImportFileError as exc:
        session.rollback()
        upload.state, upload.report = "invalid", {"errors": [exc.message], "error_count": 1, "preview": []}
    else:
        upload.state = "ready" if report.ok else "invalid"
        upload.report = _report_dict(report)
        upload.rows_done = report.rows
    if upload.state == "invalid":
        upload.raw = b""  # a refused file is uploaded again after fixing; keep no copy of its rows
    session.flush()
    return upload


def begin_confirm(ctx: ServiceContext, upload_id: str) -> ProviderUpload:
    """Take a checked file for import (state ``importing``, committed by the caller) so that a
    large file can be imported in the background while the page polls; the same checks as
    :func:`confirm_upload`, which then finishes it."""
    upload = _confirmable(ctx, upload_id, ("ready",))
    upload.state, upload.confirmed_by = "importing", ctx.actor
    ctx.session.flush()
    return upload


def _confirmable(ctx: ServiceContext, upload_id: str, states: tuple[str, ...]) -> ProviderUpload:
    require_provider(ctx, official=True)
    upload = get_upload(ctx, upload_id)
    if upload.state not in states or (upload.state == "importing" and upload.confirmed_by != ctx.actor):
        raise ServiceError("该文件尚未通过检查或已导入，不能确认。", "upload", 409)
    if approval_required(ctx) and upload.uploaded_by == ctx.actor:
        _refuse(rules.SELF_APPROVAL)
    return upload


def confirm_upload(ctx: ServiceContext, upload_id: str) -> ImportReport:
    """Publish a checked file, all or nothing. Where the profile requires 审核 the confirmation
    is a second person's (the uploader may not confirm their own file)."""
    user = require_provider(ctx, official=True)
    upload = _confirmable(ctx, upload_id, ("ready", "importing"))
    report = import_file(ctx, upload.filename, upload.raw, scope=scope_of(ctx))
    if not report.ok:  # the data changed since the check: nothing was written
        upload.state, upload.report = "invalid", _report_dict(report)
        upload.raw = b""
        ctx.session.commit()  # the refusal is the upload's outcome; nothing else is pending
        raise ServiceError("文件未能导入：" + "；".join(str(e) for e in report.errors[:5]), "upload", 409)
    upload.state, upload.confirmed_by = "confirmed", ctx.actor
    upload.raw = b""  # the published records are the data now; keep no second copy
    upload.report = {**upload.report, "confirmed": _report_dict(report)}
    record_event(ctx.session, ctx.actor, "provider.upload_confirm", object_ref=f"upload:{upload.id}",
                 detail={"records": report.records, "corrections": report.corrections,
                         "withdrawals": report.withdrawals, "unit": user.authority})
    return report


def list_uploads(ctx: ServiceContext) -> list[ProviderUpload]:
    user = require_provider(ctx)
    return list(ctx.session.execute(select(ProviderUpload).where(ProviderUpload.authority == user.authority)
                                    .order_by(ProviderUpload.created_at.desc()).limit(20)).scalars())


# --- single records: drafts and 审核 ---------------------------------------------------------------

def approval_required(ctx: ServiceContext) -> bool:
    provision = getattr(ctx.profile, "provision", None)
    return bool(provision and provision.approval_required)


def _clean_form(form: dict) -> dict:
    out = {}
    for key in FORM_KEYS:
        value = form.get(key)
        value = "" if value is None else str(value).strip()
        if len(value) > 5000:
            raise ServiceError("填写内容过长", key)
        out[key] = value
    return out


def _load_payload(ctx: ServiceContext, draft: RecordDraft) -> dict:
    return json.loads(ctx.protector.decrypt(draft.payload_cipher))


def draft_form(ctx: ServiceContext, draft: RecordDraft) -> dict:
    """The draft's values for the form (the caller may see it: ``get_draft``)."""
    return _load_payload(ctx, draft)


def _checked(ctx: ServiceContext, form: dict) -> dict:
    """The whole row through the importer's parsing and the service rules (first error raised)."""
    values, errors = _parse_row(dict(form), 2)
    if errors:
        e = errors[0]
        raise ServiceError(str(e).replace("第 2 行", "").lstrip("：") or e.message, e.column)
    check_registration(ctx, kind=values["subject_kind"], name=values["subject_name"], category=values["category"],
                       region_code=values["region_code"])
    identity_columns(ctx, values["subject_kind"], values["subject_code"])
    _validated(ctx, **_record_args(values))
    return values


def _record_args(values: dict) -> dict:
    return dict(record_type=values["record_type"], info_class=values["info_class"] or None,
                severity=values["severity"] or None, title=values["title"], content=values["content"],
                doc_no=values["doc_no"], authority=values["authority"], decided_on=values["decided_on"],
                scope=values["scope"], publish_from=values["publish_from"], publish_until=values["publish_until"],
                public_summary=values["public_summary"], ordinary_procedure=values["ordinary_procedure"])


def get_draft(ctx: ServiceContext, draft_id: int) -> RecordDraft:
    """A draft its unit may see, or one waiting for the caller's review."""
    user = _caller(ctx)
    draft = ctx.session.get(RecordDraft, draft_id)
    if draft is None or not (_own_draft(user, draft) or rules.review_refusal(user, draft) is None
                             and draft.state == rules.SUBMITTED):
        _refuse("未找到该草稿。", 404, "draft")
    return draft


def _own_draft(user, draft: RecordDraft) -> bool:
    return rules.is_provider(user) and draft.authority == user.authority and in_region(user.region_code,
                                                                                        draft.region_code)


def save_draft(ctx: ServiceContext, form: dict, draft_id: int | None = None, *, submit: bool = False) -> RecordDraft:
    """Save the form as a draft of the caller's unit; ``submit``: check it with the record rules
    and publish it, or hand it to 审核 where the profile (or the channel) requires it."""
    user = require_provider(ctx)
    values = _clean_form(form)
    values["authority"] = values["authority"] or user.authority
    why = rules.provide_refusal(user, values["region_code"] or user.region_code or "", values["authority"])
    if why:
        _refuse(rules.message(why, ctx.profile.document))
    if draft_id is None:
        draft = RecordDraft(drafted_by=ctx.actor, channel=rules.channel_of(user), authority=user.authority,
                            region_code=values["region_code"] or user.region_code, payload_cipher="")
        ctx.session.add(draft)
    else:
        draft = get_draft(ctx, draft_id)
        if not _own_draft(user, draft) or draft.state not in (rules.DRAFT, rules.REJECTED):
            raise ServiceError("只能修改本单位尚未提交的草稿。", "draft", 409)
        if _load_payload(ctx, draft).get("_action"):
            raise ServiceError("被退回的更正、撤回请在该信息的页面重新办理。", "draft", 409)
    if submit:
        parsed = _checked(ctx, values)
        why = rules.provide_refusal(user, parsed["region_code"], parsed["authority"])
        if why:
            _refuse(rules.message(why, ctx.profile.document))
    draft.payload_cipher = ctx.protector.encrypt(json.dumps(values, ensure_ascii=False))
    draft.title, draft.region_code = values["title"][:300], values["region_code"] or user.region_code
    draft.state = rules.DRAFT
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "provider.draft_save", object_ref=f"draft:{draft.id}")
    if submit:
        if rules.needs_review(approval_required(ctx), draft.channel):
            draft.state, draft.submitted_at = rules.SUBMITTED, utcnow()
            record_event(ctx.session, ctx.actor, "provider.draft_submit", object_ref=f"draft:{draft.id}",
                         detail={"channel": draft.channel})
        else:
            _publish(ctx, draft)
    return draft


def _publish(ctx: ServiceContext, draft: RecordDraft) -> CreditRecord:
    payload = _load_payload(ctx, draft)
    if payload.get("_action"):
        record = _apply_change(ctx, draft, payload)
        draft.state, draft.decided_by, draft.decided_at = rules.APPROVED, ctx.actor, utcnow()
        ctx.session.flush()
        return record
    values = _checked(ctx, payload)
    subject = register_subject(ctx, kind=values["subject_kind"], name=values["subject_name"],
                               code=values["subject_code"], category=values["category"],
                               region_code=values["region_code"])
    record = add_record(ctx, subject, **_record_args(values))
    record.source_channel = draft.channel
    draft.state, draft.record_id = rules.APPROVED, record.lineage_id
    draft.decided_by, draft.decided_at = ctx.actor, utcnow()
    ctx.session.flush()
    return record


def approve_draft(ctx: ServiceContext, draft_id: int) -> CreditRecord:
    """审核 passed: a second person publishes the draft (never its drafter)."""
    user = _caller(ctx)
    draft = ctx.session.get(RecordDraft, draft_id)
    if draft is None:
        _refuse("未找到该草稿。", 404, "draft")
    why = rules.review_refusal(user, draft)
    if why:
        _refuse(rules.message(why, ctx.profile.document))
    if draft.state != rules.SUBMITTED:
        raise ServiceError("该信息不在待审核状态。", "draft", 409)
    record = _publish(ctx, draft)
    record_event(ctx.session, ctx.actor, "provider.draft_approve", subject_id=record.subject_id,
                 object_ref=f"draft:{draft.id}", detail={"record": record.lineage_id, "drafted_by": draft.drafted_by,
                                                         "channel": draft.channel})
    return record


def reject_draft(ctx: ServiceContext, draft_id: int, note: str) -> RecordDraft:
    user = _caller(ctx)
    draft = ctx.session.get(RecordDraft, draft_id)
    if draft is None:
        _refuse("未找到该草稿。", 404, "draft")
    why = rules.review_refusal(user, draft)
    if why:
        _refuse(rules.message(why, ctx.profile.document))
    note = (note or "").strip()
    if not note or len(note) > 300:
        raise ServiceError("退回须说明理由（不超过 300 字）", "note")
    if draft.state != rules.SUBMITTED:
        raise ServiceError("该信息不在待审核状态。", "draft", 409)
    draft.state, draft.decision_note, draft.decided_by, draft.decided_at = rules.REJECTED, note, ctx.actor, utcnow()
    record_event(ctx.session, ctx.actor, "provider.draft_reject", object_ref=f"draft:{draft.id}", detail={"note": note})
    return draft


def unit_drafts(ctx: ServiceContext) -> list[RecordDraft]:
    user = require_provider(ctx)
    return list(ctx.session.execute(select(RecordDraft).where(RecordDraft.authority == user.authority,
                                                              RecordDraft.state != rules.APPROVED)
                                    .order_by(RecordDraft.updated_at.desc()).limit(100)).scalars())


def review_queue(ctx: ServiceContext) -> list[RecordDraft]:
    """Submitted drafts the caller may approve (never their own)."""
    user = _caller(ctx)
    rows = ctx.session.execute(select(RecordDraft).where(RecordDraft.state == rules.SUBMITTED)
                               .order_by(RecordDraft.submitted_at).limit(500)).scalars()
    return [d for d in rows if rules.review_refusal(user, d) is None]


# --- published records: list, versions, correct, withdraw -----------------------------------------

@dataclass
class RecordPage:
    items: list
    total: int
    page: int
    pages: int


def unit_records(ctx: ServiceContext, q: str = "", page: int = 1) -> RecordPage:
    """The current versions of the caller's unit's records, newest first."""
    user = require_provider(ctx)
    where = [CreditRecord.is_current.is_(True), CreditRecord.authority == user.authority]
    q = (q or "").strip()[:40]
    if q:
        where.append(or_(CreditRecord.title.contains(q), CreditRecord.doc_no.contains(q)))
    total = ctx.session.execute(select(func.count()).select_from(CreditRecord).where(*where)).scalar_one()
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(page, 1), pages)
    rows = ctx.session.execute(select(CreditRecord, Subject.name, Subject.region_code).join(Subject)
                               .where(*where).order_by(CreditRecord.id.desc())
                               .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    items = [(r, name) for r, name, region in rows if in_region(user.region_code, region)]
    return RecordPage(items, total, page, pages)


def _own_record(ctx: ServiceContext, lineage_id: int) -> CreditRecord:
    user = require_provider(ctx)
    record = current_of(ctx.session, lineage_id)
    if record is None or rules.provide_refusal(user, record.subject.region_code, record.authority) == rules.OTHER_REGION:
        _refuse("未找到该信息。", 404, "record")
    why = rules.provide_refusal(user, record.subject.region_code, record.authority)
    if why:
        _refuse(rules.message(why, ctx.profile.document))
    return record


def record_versions(ctx: ServiceContext, lineage_id: int) -> tuple[CreditRecord, list[CreditRecord]]:
    """The record and every version of it, oldest first (the unit's own records only)."""
    record = _own_record(ctx, lineage_id)
    versions = list(ctx.session.execute(select(CreditRecord).where(CreditRecord.lineage_id == lineage_id)
                                        .order_by(CreditRecord.version)).scalars())
    return record, versions


def _correction_args(ctx: ServiceContext, user, record: CreditRecord, form: dict) -> dict:
    """The corrected values through the importer's parsing and the record rules."""
    base = {"subject_code": "-", "subject_name": "-", "subject_kind": "org", "category": "hospital",
            "region_code": record.subject.region_code}
    values, errors = _parse_row({**base, **{k: form.get(k, "") for k in FORM_KEYS if k not in base}}, 2)
    if errors:
        raise ServiceError(str(errors[0]).replace("第 2 行", "").lstrip("："), errors[0].column)
    args = _record_args(values)
    why = rules.provide_refusal(user, record.subject.region_code, args["authority"])
    if why:
        _refuse(rules.message(why, ctx.profile.document))
    _validated(ctx, **args)
    return args


def _reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(f"{what}必须说明理由", "reason")
    if len(reason) > 300:
        raise ServiceError("理由不超过 300 字", "reason")
    return reason


def _pending_change(ctx: ServiceContext, user, record: CreditRecord, action: str, values: dict, reason: str,
                    title: str) -> RecordDraft:
    """A correction or withdrawal waiting for 审核 (kept as a draft; the record is untouched)."""
    open_change = ctx.session.execute(select(RecordDraft.id).where(
        RecordDraft.record_id == record.lineage_id, RecordDraft.state == rules.SUBMITTED)).first()
    if open_change:
        raise ServiceError("该信息已有待审核的更正或撤回，请待审核后再办理。", "record", 409)
    draft = RecordDraft(state=rules.SUBMITTED, submitted_at=utcnow(), channel=rules.OFFICIAL, authority=user.authority,
                        region_code=record.subject.region_code, title=title[:300], drafted_by=ctx.actor,
                        record_id=record.lineage_id, payload_cipher=ctx.protector.encrypt(json.dumps(
                            {**values, "_action": action, "_reason": reason}, ensure_ascii=False)))
    ctx.session.add(draft)
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "provider.change_submit", subject_id=record.subject_id,
                 object_ref=f"draft:{draft.id}", detail={"action": action, "record": record.lineage_id})
    return draft


def correct(ctx: ServiceContext, lineage_id: int, form: dict, reason: str) -> CreditRecord | RecordDraft:
    """A correction from the workspace: a new version with the reason (海南 第五十二条); where the
    profile requires 审核, a second person applies it (``approve_draft``)."""
    user = require_provider(ctx, official=True)
    record = _own_record(ctx, lineage_id)
    if record.status == RecordStatus.WITHDRAWN:
        raise ServiceError("该信息已撤回，不能更正", "record", 409)
    reason = _reason(reason, "更正")
    args = _correction_args(ctx, user, record, form)
    if approval_required(ctx):
        return _pending_change(ctx, user, record, rules.CORRECT, {k: str(form.get(k, "")) for k in FORM_KEYS},
                               reason, f"更正：{args['title']}")
    return correct_record(ctx, record, args, reason)


def withdraw(ctx: ServiceContext, lineage_id: int, reason: str) -> CreditRecord | RecordDraft:
    """Withdrawal with a reason: a new version with status 撤回 (``record_versions``); where the
    profile requires 审核, a second person applies it."""
    user = require_provider(ctx, official=True)
    record = _own_record(ctx, lineage_id)
    if record.status == RecordStatus.WITHDRAWN:
        raise ServiceError("该信息已撤回", "record", 409)
    reason = _reason(reason, "撤回")
    if approval_required(ctx):
        return _pending_change(ctx, user, record, rules.WITHDRAW, {}, reason, f"撤回：{record.title}")
    return withdraw_record(ctx, record, reason)


def _apply_change(ctx: ServiceContext, draft: RecordDraft, payload: dict) -> CreditRecord:
    record = current_of(ctx.session, draft.record_id)
    if record is None or record.authority != draft.authority:
        raise ServiceError("该信息已不存在或已不属于报送单位，不能审核通过。", "draft", 409)
    if record.status == RecordStatus.WITHDRAWN:
        raise ServiceError("该信息已撤回", "draft", 409)
    drafter = ctx.session.execute(select(StaffUser).where(
        StaffUser.username == draft.drafted_by.removeprefix("staff:"))).scalar_one_or_none()
    if payload["_action"] == rules.CORRECT:
        args = _correction_args(ctx, drafter or ctx.caller, record, payload)
        return correct_record(ctx, record, args, payload["_reason"])
    return withdraw_record(ctx, record, payload["_reason"])


# --- the catalogue and units overdue (湖南 第九条、第十条) -------------------------------------------

def _staff(ctx: ServiceContext):
    user = ctx.caller
    if not isinstance(user, StaffUser) or not user.active:
        _refuse("需要工作人员登录。")
    return user


def catalogue(ctx: ServiceContext) -> tuple:
    _staff(ctx)
    provision = getattr(ctx.profile, "provision", None)
    return provision.catalogue if provision else ()


@dataclass(frozen=True)
class Overdue:
    unit: str
    entry: object  # CatalogueEntry
    last_at: datetime | None


def overdue_units(ctx: ServiceContext) -> list[Overdue]:
    """湖南 第十条 (及时准确完整录入): per catalogue entry, the units that have not reported within
    its update cycle. Units considered: those that have reported the entry's record types before
    (they keep the duty) and active providing units named in the entry's source units."""
    _staff(ctx)
    out = []
    accounts = {a for a, in ctx.session.execute(select(StaffUser.authority).where(
        StaffUser.active.is_(True), StaffUser.authority != "")) if a}
    for entry in catalogue(ctx):
        last = dict(ctx.session.execute(select(CreditRecord.authority, func.max(CreditRecord.created_at))
                                        .where(CreditRecord.record_type.in_(entry.record_types))
                                        .group_by(CreditRecord.authority)).all())
        units = set(last) | (accounts & set(entry.source_units))
        for unit in sorted(u for u in units if u):
            if rules.overdue(last.get(unit), entry.update_cycle_days, ctx.today):
                out.append(Overdue(unit, entry, last.get(unit)))
    return out


def mark_failed(ctx: ServiceContext, upload_id: str) -> None:
    """A background check that crashed: the page says so instead of polling forever."""
    upload = ctx.session.get(ProviderUpload, upload_id)
    if upload is not None and upload.state in ("checking", "importing"):
        upload.state = "invalid"
        upload.report = {"errors": ["文件检查或导入未能完成，没有导入任何信息，请重新上传。"], "error_count": 1,
                         "preview": []}
