"""What the government sharing API reads and writes (海南 第二十五条; 湖南 第六条、第二十四条), as
service verbs: each checks the calling client (scope, region, unit) itself, then reads through
the privacy boundary or writes through the record verbs (``services.records``, whose rules are
``domain.record_rules.check_record``). ``ctx.caller`` is the ``ApiClient``.

- Public reads return ``disclosure.public_view`` / ``public_subject`` dicts only.
- A read of 政务共享 records (``records:read:shared``) is written to the subject's
  谁查看了我的信息 with the client's purpose (用途), like every other view of non-public data.
- Writes carry an ``Idempotency-Key``: the same key and body give the stored answer again.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..domain import api_access as rules
from ..domain.api_fields import NEW_RECORD, NEW_RECORD_REQUIRED, RECORD_FIELDS, FieldError, clean_object, clean_reason
from ..domain.disclosure import public_subject, public_view
from ..domain.identifiers import InvalidIdentifier, validate_resident_id, validate_uscc
from ..domain.vocab import RecordStatus, SubjectKind
from ..models import ApiClient, ApiIdempotency, CreditRecord, Grade, Subject
from ..models.base import utcnow
from . import records as record_verbs
from .access_log import PRIVATE_VIEW
from .audit import record_event
from .context import ServiceContext
from .errors import ServiceError
from .grading import grade_absence
from .indexing import grade_published, latest_grade
from .public_pages import LIST_TYPES, grade_view, public_list
from .subjects import register_subject

API_VIA = "api"  # access-log "via" of a sharing client's read
IDEMPOTENCY_KEEP = timedelta(days=1)


class ApiError(ServiceError):
    """A refusal with a stable code (``domain.api_access.ERRORS``) and its Chinese message."""

    def __init__(self, code: str, field: str = "", **fmt):
        status, template = rules.ERRORS[code]
        super().__init__(template.format(field=field, **fmt), field, status)
        self.code = code


def as_api_error(exc: ServiceError) -> ApiError:
    """A record verb's refusal (a rule of ``check_record`` …) with its code."""
    if isinstance(exc, ApiError):
        return exc
    if exc.status == 409:
        return ApiError("conflict", exc.field, reason=exc.message)
    if exc.status in (401, 403, 404, 413, 429):
        err = ApiError("validation_failed", exc.field, reason=exc.message)
        err.status = exc.status
        return err
    return ApiError("validation_failed", exc.field, reason=exc.message)


def actor(client: ApiClient) -> str:
    return f"api:{client.client_id}"


@dataclass(frozen=True)
class ApiCaller:
    """Who calls: a registered client with the scopes of its token (``ctx.caller``)."""

    client: ApiClient
    scopes: tuple[str, ...]


def _client(ctx: ServiceContext) -> tuple[ApiClient, tuple[str, ...]]:
    caller = ctx.caller
    if not isinstance(caller, ApiCaller) or not caller.client.active:
        raise ApiError("invalid_token")
    return caller.client, caller.scopes


def require_scope(ctx: ServiceContext, scope: str) -> ApiClient:
    client, granted = _client(ctx)
    if not rules.has_scope(granted, scope):
        raise ApiError("insufficient_scope", scope=scope)
    return client


def _require_region(client: ApiClient, subject: Subject) -> None:
    if not rules.covers_region(client.region_code, subject.region_code):
        raise ApiError("out_of_region")


def _find_subject(ctx: ServiceContext, code: str) -> Subject | None:
    """A subject by its unified social credit code or resident ID number (looked up by keyed hash)."""
    code = (code or "").strip().upper()
    number = None
    for check in (validate_uscc, lambda c: validate_resident_id(c).number):
        try:
            number = check(code)
            break
        except InvalidIdentifier:
            continue
    if number is None:
        raise ApiError("invalid_parameter", "code", reason="须为 18 位统一社会信用代码或公民身份号码（校验位正确）")
    return ctx.session.execute(select(Subject).where(Subject.code_hash == ctx.protector.lookup_hash(number))
                               ).scalar_one_or_none()


def _jsonable(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _grade_in_force(ctx: ServiceContext, subject: Subject):
    """The formal grade in force and, without one, why — the facility page's sentence
    (``grading.grade_absence``: the year not evaluated, from the stored exclusion; never its reason)."""
    grade = latest_grade(ctx.session, subject.id, ctx.today)
    return grade, None if grade is not None else grade_absence(ctx.session, subject.id, ctx.today, ctx.profile)


def _subject_out(subject: Subject, view: dict | None, grade, absence: dict | None = None) -> dict:
    base = view or {"public_id": subject.public_id, "kind": subject.kind, "name": subject.name,
                    "category": subject.category, "region_code": subject.region_code, "status": subject.status}
    out = {k: base.get(k) for k in ("public_id", "kind", "name", "category", "region_code", "status")}
    out["credit_code"] = subject.credit_code or "" if subject.kind == SubjectKind.ORG else ""
    out["code_masked"] = subject.code_masked
    out["grade"] = grade_view(grade)
    out["grade_absence"] = absence  # 湖南 第十八条: not evaluated for a period (year and sentence)
    return out


def shared_record(record: CreditRecord, today: date, profile, birth_on) -> dict:
    """A record as a 政务共享 client sees it: the stored fields, and whether the public sees it."""
    return _jsonable({
        "id": record.lineage_id, "version": record.version, "record_type": record.record_type,
        "info_class": record.info_class, "severity": record.severity, "title": record.title,
        "content": record.content, "public_summary": record.public_summary, "doc_no": record.doc_no,
        "authority": record.authority, "decided_on": record.decided_on, "scope": record.scope,
        "publish_from": record.publish_from, "publish_until": record.publish_until,
        "ordinary_procedure": record.ordinary_procedure, "status": record.status,
        "public": public_view(record, today, birth_on, profile=profile) is not None})


def _log_private(ctx: ServiceContext, client: ApiClient, subject: Subject, what: str) -> None:
    """A read of non-public information, in the subject's 谁查看了我的信息 with the client's purpose."""
    record_event(ctx.session, actor(client), PRIVATE_VIEW, subject_id=subject.id, object_ref=what,
                 purpose=client.purpose[:200],
                 detail={"viewer_name": client.name, "via": API_VIA, "what": what, "client_id": client.client_id})


def _public_records(ctx: ServiceContext, subject: Subject) -> tuple[list[CreditRecord], list[dict]]:
    current = list(ctx.session.execute(select(CreditRecord).where(
        CreditRecord.subject_id == subject.id, CreditRecord.is_current.is_(True)).order_by(
        CreditRecord.decided_on.desc(), CreditRecord.id)).scalars())
    public = [v for v in (public_view(r, ctx.today, subject.birth_on, profile=ctx.profile) for r in current)
              if v is not None]
    return current, public


def _visible_subject(ctx: ServiceContext, code: str, what: str) -> tuple[Subject, dict | None, bool]:
    """The subject a code names, as far as the client may see it: its public view (a natural
    person is public only through a public record, as on the facility page), or, for a
    ``records:read:shared`` client, the subject itself, that read logged. Returns the subject,
    its public view (or ``None``) and whether a non-public read was logged."""
    client, granted = _client(ctx)
    subject = _find_subject(ctx, code)
    if subject is None:
        raise ApiError("unknown_subject")
    _require_region(client, subject)
    view = public_subject(subject, ctx.today)
    if view is not None and subject.kind == SubjectKind.PERSON and not _public_records(ctx, subject)[1]:
        view = None
    if view is not None:
        return subject, view, False
    if not rules.visible_scopes(granted):
        raise ApiError("unknown_subject")  # the public may not see this subject (a minor, no public record …)
    _log_private(ctx, client, subject, what)
    return subject, None, True


def read_subject(ctx: ServiceContext, code: str) -> dict:
    """A subject by code: its public registration data and grade in force."""
    require_scope(ctx, rules.READ_PUBLIC)
    subject, view, _ = _visible_subject(ctx, code, "api_subject")
    return _subject_out(subject, view, *_grade_in_force(ctx, subject))


def read_records(ctx: ServiceContext, code: str) -> dict:
    """A subject's records by the scope the client is entitled to: public views for
    ``records:read:public``; with ``records:read:shared`` the current versions of scope 社会公开
    and 政务共享 that ``api_access.shareable`` allows (never 申请查询), the read logged for the
    subject with the client's purpose."""
    client = require_scope(ctx, rules.READ_PUBLIC)
    granted = _client(ctx)[1]
    subject, view, logged = _visible_subject(ctx, code, "api_records")
    current, public = _public_records(ctx, subject)
    if rules.visible_scopes(granted):
        shown = [shared_record(r, ctx.today, ctx.profile, subject.birth_on) for r in current
                 if rules.shareable(r, ctx.today, subject.birth_on, profile=ctx.profile)]
        if not logged and any(not r["public"] for r in shown):  # non-public information was read
            _log_private(ctx, client, subject, "api_records")
        access = "shared"
    else:
        shown = [_jsonable(v) for v in public]
        access = "public"
    return {"subject": _subject_out(subject, view, *_grade_in_force(ctx, subject)), "access": access,
            "records": shown}


def read_grades(ctx: ServiceContext, code: str) -> dict:
    """The subject's formal grades the public may see, newest first (letter and year; the
    explanation names records that may not be public, so it is not given): the rule of the grade in
    force (``indexing.grade_published``), so under a rolling profile the running year's formal
    result is listed from the day it became formal (湖南医保 第十六、十九条) and a 初评 never is."""
    require_scope(ctx, rules.READ_PUBLIC)
    subject, _view, _ = _visible_subject(ctx, code, "api_grades")
    grades = ctx.session.execute(select(Grade).where(Grade.subject_id == subject.id,
                                                     grade_published(ctx.today.year, ctx.today))
                                 .order_by(Grade.year.desc())).scalars()
    return {"public_id": subject.public_id, "grades": [grade_view(g) for g in grades],
            "grade_absence": _grade_in_force(ctx, subject)[1]}


def read_list(ctx: ServiceContext, name: str, page: int) -> dict:
    """A public list (守信红名单 / 严重失信主体名单), one page; region-bound clients get their region."""
    client = require_scope(ctx, rules.READ_PUBLIC)
    if name not in LIST_TYPES:
        raise ApiError("unknown_list")
    filters = {}
    if client.region_code:
        key = "city" if client.region_code.endswith("00") else "county"
        filters[key] = client.region_code
    result = public_list(ctx.session, name, ctx.today, page, profile=ctx.profile, filters=filters)
    return _jsonable({"name": name, "title": result["title"], "total": result["total"], "page": result["page"],
                      "pages": result["pages"], "entries": result["entries"]})


# --- writes ---------------------------------------------------------------------------------------

def _require_writer(ctx: ServiceContext) -> ApiClient:
    client = require_scope(ctx, rules.WRITE)
    if not client.authority:
        raise ApiError("no_authority")
    return client


def _fields(body, fields, required=()) -> dict:
    try:
        return clean_object(body, fields, required)
    except FieldError as exc:
        raise ApiError("invalid_field", exc.field, reason=exc.reason) from None


def add_record(ctx: ServiceContext, body) -> dict:
    """Submit one record for the client's own unit; a subject not yet registered is registered
    from ``subject_name`` / ``subject_kind`` / ``category`` / ``region_code``."""
    client = _require_writer(ctx)
    values = _fields(body, NEW_RECORD, NEW_RECORD_REQUIRED)
    subject = _find_subject(ctx, values.pop("subject_code"))
    registration = {k: values.pop(k, None) for k in ("subject_name", "subject_kind", "category", "region_code")}
    if subject is None:
        missing = [k for k, v in registration.items() if not v]
        if missing:
            raise ApiError("unknown_subject") if len(missing) == 4 else \
                ApiError("invalid_field", missing[0], reason="新主体须同时提供主体名称、主体类型、主体类别和区划代码")
        if not rules.covers_region(client.region_code, registration["region_code"]):
            raise ApiError("out_of_region")
        code = (body.get("subject_code") or "").strip().upper()
        try:
            subject = register_subject(ctx, kind=registration["subject_kind"], name=registration["subject_name"],
                                       code=code, category=registration["category"],
                                       region_code=registration["region_code"])
        except ServiceError as exc:
            raise as_api_error(exc) from None
    _require_region(client, subject)
    try:
        record = record_verbs.add_record(ctx, subject, authority=client.authority, **values)
    except ServiceError as exc:
        raise as_api_error(exc) from None
    return {"subject": {"public_id": subject.public_id},
            "record": shared_record(record, ctx.today, ctx.profile, subject.birth_on)}


def _own_record(ctx: ServiceContext, client: ApiClient, lineage_id: int) -> CreditRecord:
    record = record_verbs.current_version(ctx, lineage_id) if 0 < lineage_id < 2**31 else None
    if record is None:
        raise ApiError("unknown_record")
    subject = ctx.session.get(Subject, record.subject_id)
    if not rules.covers_region(client.region_code, subject.region_code):
        raise ApiError("unknown_record")  # outside the region: not even its existence
    if not rules.may_write_for(client.authority, record.authority):
        raise ApiError("not_your_record", authority=client.authority)
    return record


def correct_record(ctx: ServiceContext, lineage_id: int, body) -> dict:
    """A correction: a new version with a reason; the old one stays (海南 第五十二条)."""
    client = _require_writer(ctx)
    if not isinstance(body, dict):
        raise ApiError("invalid_field", "body", reason="请求体须为 JSON 对象")
    rest = {k: v for k, v in body.items() if k != "changes"}
    reason = _reason(rest)
    changes = _fields(body.get("changes"), RECORD_FIELDS) if "changes" in body else {}
    if not changes:
        raise ApiError("invalid_field", "changes", reason="须至少更正一个字段")
    record = _own_record(ctx, client, lineage_id)
    try:
        new = record_verbs.correct_record(ctx, record, changes, reason)
    except ServiceError as exc:
        raise as_api_error(exc) from None
    subject = ctx.session.get(Subject, new.subject_id)
    return {"record": shared_record(new, ctx.today, ctx.profile, subject.birth_on)}


def _reason(body) -> str:
    try:
        return clean_reason(body)["reason"].strip()
    except FieldError as exc:
        raise ApiError("invalid_field", exc.field, reason=exc.reason) from None


def withdraw_record(ctx: ServiceContext, lineage_id: int, body) -> dict:
    """Withdraw a record from publication with a reason; it is kept, not deleted."""
    client = _require_writer(ctx)
    reason = _reason(body)
    record = _own_record(ctx, client, lineage_id)
    if record.status == RecordStatus.WITHDRAWN:
        raise ApiError("conflict", reason="该信息已撤销公示")
    try:
        record_verbs.set_record_status(ctx, record, RecordStatus.WITHDRAWN, reason)
    except ServiceError as exc:
        raise as_api_error(exc) from None
    subject = ctx.session.get(Subject, record.subject_id)
    return {"record": shared_record(record, ctx.today, ctx.profile, subject.birth_on)}


# --- idempotency ----------------------------------------------------------------------------------

def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def stored_answer(ctx: ServiceContext, key: str, fp: str) -> tuple[int, dict] | None:
    """The answer already given to this key, or ``None``; a key reused for another body is refused."""
    client, _ = _client(ctx)
    row = ctx.session.execute(select(ApiIdempotency).where(ApiIdempotency.client_pk == client.id,
                                                           ApiIdempotency.key == key)).scalar_one_or_none()
    if row is None:
        return None
    if row.fingerprint != fp:
        raise ApiError("idempotency_key_reused")
    return row.status, json.loads(row.body)


def store_answer(ctx: ServiceContext, key: str, fp: str, status: int, answer: dict) -> None:
    """Kept in the write's own transaction: the answer exists exactly when the write does. A
    concurrent twin with the same key fails on the unique key and is refused as a duplicate."""
    client, _ = _client(ctx)
    ctx.session.add(ApiIdempotency(client_pk=client.id, key=key, fingerprint=fp, status=status,
                                   body=json.dumps(answer, ensure_ascii=False)))
    try:
        ctx.session.flush()
    except IntegrityError:  # the caller rolls back, the record written before this with it
        raise ApiError("conflict", reason="同一 Idempotency-Key 的请求正在处理或已处理，请查询结果后再试") from None


def log_call(ctx: ServiceContext, client: ApiClient, *, method: str, route: str, status: int, code: str = "") -> None:
    """Every call of a client in the audit log (海南 第五十一条 查询、使用的安全审计)."""
    record_event(ctx.session, actor(client), "api.call", object_ref=route[:120], purpose=client.purpose[:200],
                 detail={"method": method, "status": status, "code": code})
    cutoff = utcnow() - IDEMPOTENCY_KEEP
    ctx.session.execute(ApiIdempotency.__table__.delete().where(ApiIdempotency.client_pk == client.id,
                                                               ApiIdempotency.created_at < cutoff))
