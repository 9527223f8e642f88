"""Write verbs for written authorisations (书面授权).

A credit subject (a person itself, an organisation through its legal representative) lets a
named third party see its non-public information for an agreed purpose, within an agreed scope
and period (海南 第二十七条; 征信业管理条例 第十八条: 向征信机构查询个人信息应当取得信息主体本人
的书面同意并约定用途). Only a keyed hash and the masked form of the grantee's ID number / USCC
are stored (DOMAIN.md: ID numbers are personal information).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import select

from ..domain.identifiers import InvalidIdentifier, mask_resident_id, validate_resident_id, validate_uscc
from ..domain.vocab import InfoClass, SubjectKind
from ..models import Authorisation, Subject
from ..models.base import utcnow
from ..permissions import require_subject_manager
from .audit import record_event
from .context import ServiceContext
from .errors import ServiceError

# A written authorisation names one concrete purpose; a year keeps it from becoming a standing
# licence. Editable product default, not a number from the regulations.
MAX_VALIDITY_DAYS = 366
PURPOSE_LIMIT = 200


def grantee_identifier(kind: str, code: str) -> tuple[str, str]:
    """Validate a grantee's resident ID number / USCC: (normalised, masked)."""
    try:
        if kind == SubjectKind.PERSON:
            number = validate_resident_id(code).number
            return number, mask_resident_id(number)
        if kind == SubjectKind.ORG:
            uscc = validate_uscc(code)
            return uscc, uscc  # an organisation's USCC is public registration information
    except InvalidIdentifier as exc:
        raise ServiceError(exc.message, "grantee_code") from exc
    raise ServiceError("请选择被授权方类型（个人或机构）", "grantee_kind")


def grant_authorisation(ctx: ServiceContext, grantor: Subject, *, grantee_kind: str, grantee_code: str,
                        grantee_name: str, purpose: str, info_classes: Iterable[str],
                        valid_from: date, valid_until: date, include_non_public: bool = True) -> Authorisation:
    """Record a written authorisation given by ``grantor``: the subject itself or its legal
    representative only (海南 第二十七条; ``permissions.require_subject_manager``)."""
    require_subject_manager(ctx, grantor)
    number, masked = grantee_identifier(grantee_kind, grantee_code)
    grantee_hash = ctx.protector.lookup_hash(number)
    if grantee_hash == grantor.code_hash:
        raise ServiceError("不能授权给信用主体自身", "grantee_code")
    grantee_name = (grantee_name or "").strip()
    if not grantee_name or len(grantee_name) > 200:
        raise ServiceError("请填写被授权方名称（不超过 200 字）", "grantee_name")
    purpose = (purpose or "").strip()
    if len(purpose) < 2 or len(purpose) > PURPOSE_LIMIT:
        raise ServiceError(f"请写明授权用途（2 至 {PURPOSE_LIMIT} 字）", "purpose")
    wanted = set(info_classes)
    unknown = sorted(wanted - set(InfoClass))
    if unknown:
        raise ServiceError(f"未知的信息类别：{'、'.join(unknown)}", "info_classes")
    classes = [c.value for c in InfoClass if c in wanted]  # in the order of 湖南 第十一条
    if not classes:
        raise ServiceError("请至少选择一类授权查看的信息", "info_classes")
    if valid_from < ctx.today:
        raise ServiceError("授权生效日期不能早于今天", "valid_from")
    if valid_until < valid_from:
        raise ServiceError("授权截止日期不能早于生效日期", "valid_until")
    if valid_until - valid_from > timedelta(days=MAX_VALIDITY_DAYS):
        raise ServiceError(f"授权期限不能超过 {MAX_VALIDITY_DAYS} 天", "valid_until")
    auth = Authorisation(grantor_subject_id=grantor.id, grantee_kind=grantee_kind, grantee_hash=grantee_hash,
                         grantee_name=grantee_name, grantee_masked=masked, purpose=purpose,
                         info_classes=classes, include_non_public=bool(include_non_public),
                         valid_from=valid_from, valid_until=valid_until, created_by=ctx.actor,
                         revoked_reason="")
    ctx.session.add(auth)
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "authorisation.grant", subject_id=grantor.id,
                 object_ref=f"authorisation:{auth.id}", purpose=purpose,
                 detail={"grantee_kind": grantee_kind, "grantee_name": grantee_name, "grantee_masked": masked,
                         "info_classes": classes, "include_non_public": auth.include_non_public,
                         "valid_from": valid_from.isoformat(), "valid_until": valid_until.isoformat()})
    return auth


def revoke_authorisation(ctx: ServiceContext, authorisation: Authorisation, reason: str = "") -> Authorisation:
    """The grantor withdraws an authorisation; the grantee loses access at once."""
    require_subject_manager(ctx, authorisation.grantor)
    state = authorisation.state(ctx.today)
    if state == "revoked":
        raise ServiceError("该授权已撤销", "authorisation", 409)
    if state == "expired":
        raise ServiceError("该授权已到期，无需撤销", "authorisation", 409)
    reason = (reason or "").strip()[:200] or "授权人撤销"
    authorisation.revoked_at = utcnow()
    authorisation.revoked_reason = reason
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "authorisation.revoke", subject_id=authorisation.grantor_subject_id,
                 object_ref=f"authorisation:{authorisation.id}", detail={"reason": reason})
    return authorisation


def authorisations_of(ctx: ServiceContext, grantor: Subject) -> list[Authorisation]:
    """All authorisations a subject has given, newest first (history stays: nothing is deleted)."""
    return list(ctx.session.execute(select(Authorisation).where(Authorisation.grantor_subject_id == grantor.id)
                                    .order_by(Authorisation.id.desc())).scalars())
