"""Write verbs for credit subjects."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..domain.identifiers import InvalidIdentifier, mask_resident_id, validate_resident_id, validate_uscc
from ..domain.vocab import CATEGORIES, SubjectKind, SubjectStatus
from ..models import Subject
from .audit import record_event
from .context import ServiceContext
from .errors import ServiceError
from .indexing import enqueue

UPDATABLE = ("name", "category", "region_code", "address", "phone", "licence_no",
             "licence_valid_until", "legal_rep", "status", "employer_id")


def identify(ctx: ServiceContext, kind: str, code: str) -> tuple[str, str, date | None]:
    """Validate an identity number: returns (normalised, masked, birth date of a person)."""
    try:
        if kind == SubjectKind.ORG:
            uscc = validate_uscc(code)
            return uscc, uscc, None
        if kind == SubjectKind.PERSON:
            rid = validate_resident_id(code)
            return rid.number, mask_resident_id(rid.number), rid.birth_date
    except InvalidIdentifier as exc:
        raise ServiceError(exc.message, "code") from exc
    raise ServiceError(f"未知的主体类型：{kind}", "kind")


def identity_columns(ctx: ServiceContext, kind: str, code: str) -> dict:
    """The identity columns of a new subject: encrypted number, lookup hash, masked form, public
    USCC of an organisation, birth date of a person and the opaque public id. Shared by
    ``register_subject`` and the bulk loader, so there is one rule."""
    number, masked, birth = identify(ctx, kind, code)
    code_hash = ctx.protector.lookup_hash(number)
    return dict(kind=kind, code_hash=code_hash, code_cipher=ctx.protector.encrypt(number), code_masked=masked,
                credit_code=number if kind == SubjectKind.ORG else None, birth_on=birth,
                public_id=ctx.protector.sign("subject:" + code_hash, 12))


def find_subject_by_code(ctx: ServiceContext, code: str, kind: str) -> Subject | None:
    number, _, _ = identify(ctx, kind, code)
    return ctx.session.execute(
        select(Subject).where(Subject.code_hash == ctx.protector.lookup_hash(number))
    ).scalar_one_or_none()


def check_registration(ctx: ServiceContext, *, kind: str, name: str, category: str, region_code: str,
                       status: str | None = None) -> str:
    """The registration checks of ``register_subject`` (shared with the staged file import);
    the stripped name."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ServiceError("主体名称不能为空，且不超过 200 字", "name")
    if category not in CATEGORIES:
        raise ServiceError(f"未知的主体类别：{category}", "category")
    if CATEGORIES[category][1] != kind:
        raise ServiceError(f"类别“{CATEGORIES[category][0]}”与主体类型不符", "category")
    if ctx.profile.region(region_code) is None:
        raise ServiceError(f"区划代码 {region_code} 不属于{ctx.profile.jurisdiction}", "region_code")
    if status is not None and status not in set(SubjectStatus):
        raise ServiceError(f"未知的主体状态：{status}", "status")
    return name


def register_subject(ctx: ServiceContext, *, kind: str, name: str, code: str, category: str,
                     region_code: str, address: str | None = None, phone: str | None = None,
                     licence_no: str | None = None, licence_valid_until: date | None = None,
                     legal_rep: str | None = None, status: str | None = None,
                     employer_id: int | None = None, source_key: str | None = None,
                     audit: bool = True) -> Subject:
    """Create a subject, or update the registration data of the one with the same code.

    Optional fields left as ``None`` keep their stored value (an import of records does not
    wipe an address it does not carry)."""
    name = check_registration(ctx, kind=kind, name=name, category=category, region_code=region_code,
                              status=status)
    identity = identity_columns(ctx, kind, code)
    code_hash = identity["code_hash"]
    subject = ctx.session.execute(select(Subject).where(Subject.code_hash == code_hash)).scalar_one_or_none()
    optional = dict(address=address, phone=phone, licence_no=licence_no, licence_valid_until=licence_valid_until,
                    legal_rep=legal_rep, status=status, employer_id=employer_id)
    values = dict(name=name, category=category, region_code=region_code)
    values.update({k: (v.strip() if isinstance(v, str) else v) for k, v in optional.items() if v is not None})
    if subject is None:
        subject = Subject(**identity, source_key=source_key, **values)
        ctx.session.add(subject)
        ctx.session.flush()
        if audit:
            record_event(ctx.session, ctx.actor, "subject.create", subject_id=subject.id,
                         object_ref=f"subject:{subject.id}")
    else:
        if subject.kind != kind:
            raise ServiceError("该证件号码已登记为另一类型的主体", "code")
        changed = {k: v for k, v in values.items() if getattr(subject, k) != v}
        if not changed:
            return subject
        for k, v in changed.items():
            setattr(subject, k, v)
        ctx.session.flush()
        if audit:
            record_event(ctx.session, ctx.actor, "subject.update", subject_id=subject.id,
                         object_ref=f"subject:{subject.id}", detail={"fields": sorted(changed)})
    enqueue(ctx.session, subject.id, "subject")
    return subject


def reveal_code(ctx: ServiceContext, subject: Subject, purpose: str) -> str:
    """Decrypt a subject's identity number; every reveal is audited."""
    record_event(ctx.session, ctx.actor, "subject.reveal_code", subject_id=subject.id,
                 object_ref=f"subject:{subject.id}", purpose=purpose)
    return ctx.protector.decrypt(subject.code_cipher)
