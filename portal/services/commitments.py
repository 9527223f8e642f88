"""Credit commitments and self-declaration (issue 16; 海南 第九–十一条; 阳山 四（一）; 淮安 三（六）).

A commitment is signed online by the subject itself (real-name login at the profile's assurance
level, ``permissions.require_subject_manager``) or registered by staff from paper; it is public as
a credit record of type ``commitment`` (basic information) and its fulfilment is public too: a
dishonesty record decided during its term marks it broken (违诺) through a corrected version of
that record (海南 第五十二条: nothing silently overwritten). Self-declared information is
submitted with a truthfulness commitment, checked by staff, and only then filed as a public record
marked 自主申报.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from ..documents.citations import own_parts
from ..domain import commitments as rules
from ..domain.vocab import RecordStatus, Scope
from ..models import Commitment, CreditRecord, SelfDeclaration, StaffUser, Subject
from ..profiles.supervision import COMMITMENT_TYPES, DECLARATION_KINDS
from .audit import record_event
from .context import ServiceContext
from .errors import ServiceError
from .notify import tell_subject
from .record_hooks import on_dishonesty as after_dishonesty
from .staff import ADMIN, in_region

STAFF_ROLES = {"department", "operator", ADMIN}
TEXT_LIMIT = 2000
TITLE_LIMIT = 200


def _rules(ctx: ServiceContext):
    if ctx.profile.commitments is None:
        raise ServiceError("本辖区规则配置未设置信用承诺（[commitments]）", "ctype", 404)
    return ctx.profile.commitments


def _require_staff(ctx: ServiceContext, subject: Subject) -> StaffUser | None:
    user = ctx.caller
    if user is None:
        return None
    if not isinstance(user, StaffUser) or not user.active or not STAFF_ROLES & set(user.roles) \
            or not in_region(user, subject.region_code):
        raise ServiceError("无权为该地区的信用主体办理", "subject", 403)
    return user


def _text(value: str, field: str, label: str, limit: int = TEXT_LIMIT) -> str:
    value = (value or "").replace("\x00", "").strip()
    if not value:
        raise ServiceError(f"请填写{label}", field)
    if len(value) > limit:
        raise ServiceError(f"{label}不能超过 {limit} 字", field)
    return value


def _number(ctx: ServiceContext) -> str:
    stem = f"CN-{ctx.today.year}-"
    n = ctx.session.execute(select(func.count(Commitment.id)).where(Commitment.number.like(stem + "%"))).scalar_one()
    return f"{stem}{n + 1:05d}"


def _make(ctx: ServiceContext, subject: Subject, ctype: str, text: str, *, signed_on: date, via: str, signer: str,
          acr: str = "", until: date | None = None) -> Commitment:
    r = _rules(ctx)
    if ctype not in r.types:
        raise ServiceError("请选择承诺类型", "ctype")
    text = _text(text, "text", "承诺内容")
    if signed_on > ctx.today:
        raise ServiceError("签署日期不能晚于今天", "signed_on")
    until = rules.valid_until(signed_on, r.term_months, until)
    if until < signed_on:
        raise ServiceError("承诺期限不能早于签署日期", "valid_until")
    records = ctx.session.execute(select(CreditRecord).where(CreditRecord.subject_id == subject.id,
                                                             CreditRecord.is_current.is_(True))).scalars().all()
    earlier = ctx.session.execute(select(Commitment).where(Commitment.subject_id == subject.id)).scalars().all()
    refusal = rules.restriction(ctype, list(records), list(earlier), own_parts("海南 第十一条", ctx.profile.document))
    if refusal:
        raise ServiceError(refusal, "ctype", 409)
    row = Commitment(number=_number(ctx), subject_id=subject.id, ctype=ctype, text=text, signed_on=signed_on,
                     valid_until=until, via=via, signer=signer[:120], signer_acr=acr[:100], status="active",
                     created_by=ctx.actor[:120])
    ctx.session.add(row)
    ctx.session.flush()
    from .records import add_record

    label = COMMITMENT_TYPES[ctype]
    record = add_record(ctx, subject, record_type="commitment", title=f"{label}（{row.number}）",
                        decided_on=signed_on, content=f"{text}\n承诺期限：{signed_on} 至 {until}。",
                        doc_no=row.number, authority=ctx.profile.authority, scope=Scope.PUBLIC, publish_from=signed_on)
    row.record_lineage_id = record.lineage_id
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "commitment.sign", subject_id=subject.id,
                 object_ref=f"commitment:{row.number}", detail={"ctype": ctype, "via": via, "until": str(until)})
    return row


def sign_commitment(ctx: ServiceContext, subject: Subject, ctype: str, text: str, *, agreed: bool,
                    until: date | None = None) -> Commitment:
    """Online signature (阳山 四（一）: 电子签名形式) by the subject itself or its legal representative
    after real-name login; ``agreed`` is the signature's explicit tick."""
    from ..domain.identity import Identity
    from ..permissions import require_subject_manager

    if not isinstance(ctx.caller, Identity):
        raise ServiceError("网上签署须由信用主体本人（法定代表人）实名登录后办理；纸质承诺由工作人员登记", "subject", 403)
    require_subject_manager(ctx, subject)
    if not agreed:
        raise ServiceError("请确认承诺内容并签署", "agreed")
    return _make(ctx, subject, ctype, text, signed_on=ctx.today, via="online", signer=ctx.caller.name,
                 acr=ctx.caller.acr, until=until)


def register_paper_commitment(ctx: ServiceContext, subject: Subject, ctype: str, text: str, *, signed_on: date,
                              signer: str, until: date | None = None) -> Commitment:
    """A commitment signed on paper, registered by staff of the subject's region."""
    _require_staff(ctx, subject)
    return _make(ctx, subject, ctype, text, signed_on=signed_on, via="paper",
                 signer=_text(signer, "signer", "签署人", 120), until=until)


@after_dishonesty
def on_dishonesty(ctx: ServiceContext, subject: Subject, record: CreditRecord) -> list[Commitment]:
    """践诺: a dishonesty record decided during a commitment's term breaks it; the public record
    says so in a corrected version, the subject is told, the audit chain has it."""
    from .records import correct_record, current_version

    if ctx.profile.commitments is None:
        return []
    broken = [c for c in ctx.session.execute(select(Commitment).where(
        Commitment.subject_id == subject.id, Commitment.status == "active")).scalars() if rules.broken_by(c, record)]
    caller, ctx.caller = ctx.caller, None  # a consequence of the record, not an act of whoever filed it
    try:
        for c in broken:
            c.status, c.broken_record_id, c.broken_on = "broken", record.lineage_id or record.id, ctx.today
            public = current_version(ctx, c.record_lineage_id) if c.record_lineage_id else None
            if public is not None and public.status == RecordStatus.ACTIVE:
                correct_record(ctx, public, {"title": f"{public.title}（践诺情况：违诺）"[:300],
                                             "content": f"{public.content}\n践诺情况：承诺期内于 {record.decided_on} "
                                                        f"发生失信行为（{record.title}），违反承诺。"[:5000]},
                               f"承诺期内发生失信行为，标记违诺（record:{record.lineage_id or record.id}）")
            tell_subject(ctx, subject.id,
                         f"您的信用承诺 {c.number} 因承诺期内发生失信行为（{record.decided_on} {record.title}）被记为违诺。")
            record_event(ctx.session, ctx.actor, "commitment.broken", subject_id=subject.id,
                         object_ref=f"commitment:{c.number}", detail={"record": record.lineage_id or record.id})
        ctx.session.flush()
    finally:
        ctx.caller = caller
    return broken


def sweep(ctx: ServiceContext) -> list[Commitment]:
    """``credit-portal commitments run`` (daily, idempotent): records filed without the record verb
    (a file import inserts rows in bulk, ``import_staging``) break commitments too."""
    if ctx.profile.commitments is None:
        return []
    broken: list[Commitment] = []
    active = ctx.session.execute(select(Commitment).where(Commitment.status == "active")
                                 .order_by(Commitment.id)).scalars().all()
    for c in active:
        if c.status != "active":  # broken earlier in this run
            continue
        record = ctx.session.execute(select(CreditRecord).where(
            CreditRecord.subject_id == c.subject_id, CreditRecord.is_current.is_(True),
            CreditRecord.status == RecordStatus.ACTIVE, CreditRecord.info_class.in_(("dishonest", "serious")),
            CreditRecord.decided_on >= c.signed_on, CreditRecord.decided_on <= c.valid_until)
            .order_by(CreditRecord.decided_on, CreditRecord.id)).scalars().first()
        if record is not None:
            broken += on_dishonesty(ctx, ctx.session.get(Subject, c.subject_id), record)
    return broken


# --- self-declaration (淮安 三（六）) -------------------------------------------------------------

def submit_declaration(ctx: ServiceContext, subject: Subject, kind: str, title: str, content: str, *,
                       truthful: bool) -> SelfDeclaration:
    """自主申报 by the subject itself after real-name login, with a truthfulness commitment
    (主动公示承诺, filed as a commitment of its own). Not public until staff checked it."""
    from ..domain.identity import Identity
    from ..permissions import require_subject_manager

    r = _rules(ctx)
    if not isinstance(ctx.caller, Identity):
        raise ServiceError("自主申报须由信用主体本人（法定代表人）实名登录后提交", "subject", 403)
    require_subject_manager(ctx, subject)
    if kind not in r.declaration_kinds:
        raise ServiceError("请选择申报类别", "kind")
    title, content = _text(title, "title", "标题", TITLE_LIMIT), _text(content, "content", "申报内容")
    if not truthful:
        raise ServiceError("请对申报信息的真实性作出信用承诺", "truthful")
    pledge = None
    if "disclosure" in r.types:
        # Generic text: the commitment is public at once, the declared item only after the check.
        pledge = _make(ctx, subject, "disclosure", "本单位承诺自主申报的信用信息真实、准确、完整，如有不实，愿承担相应责任。",
                       signed_on=ctx.today, via="online", signer=ctx.caller.name, acr=ctx.caller.acr)
    row = SelfDeclaration(subject_id=subject.id, kind=kind, title=title, content=content,
                          commitment_id=pledge.id if pledge else None, submitted_by=ctx.actor[:120],
                          submitted_on=ctx.today)
    ctx.session.add(row)
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "declaration.submit", subject_id=subject.id,
                 object_ref=f"declaration:{row.id}", detail={"kind": kind})
    return row


def check_declaration(ctx: ServiceContext, row: SelfDeclaration, verified: bool, note: str) -> SelfDeclaration:
    """Staff check: verified → a public record marked 自主申报; rejected → the subject is told why."""
    subject = ctx.session.get(Subject, row.subject_id)
    _require_staff(ctx, subject)
    if row.state != "submitted":
        raise ServiceError("该申报已核实", "declaration", 409)
    note = (note or "").replace("\x00", "").strip()[:TEXT_LIMIT]
    if not verified and not note:
        raise ServiceError("不予采信的，请说明理由", "note")
    row.state, row.checked_by, row.checked_on, row.check_note = ("verified" if verified else "rejected"), \
        ctx.actor[:120], ctx.today, note
    if verified:
        from .records import add_record

        record = add_record(ctx, subject, record_type=rules.DECLARATION_RECORD_TYPES[row.kind],
                            title=f"【{rules.SELF_DECLARED}】{row.title}"[:300], decided_on=row.submitted_on,
                            content=f"{row.content}\n（信用主体自主申报，经核实后公示；申报人已对真实性作出信用承诺。）",
                            authority=ctx.profile.authority, scope=Scope.PUBLIC, publish_from=ctx.today)
        row.record_lineage_id = record.lineage_id
    else:
        tell_subject(ctx, subject.id, f"您的自主申报“{row.title}”未予采信：{note}")
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "declaration.check", subject_id=subject.id,
                 object_ref=f"declaration:{row.id}", detail={"verified": verified})
    return row


# --- reading ------------------------------------------------------------------------------------

def subject_commitments(ctx: ServiceContext, subject: Subject) -> dict:
    """The subject's own commitments and declarations (its /me page; the caller was checked by
    the view's load → check)."""
    cs = ctx.session.execute(select(Commitment).where(Commitment.subject_id == subject.id)
                             .order_by(Commitment.id.desc())).scalars().all()
    ds = ctx.session.execute(select(SelfDeclaration).where(SelfDeclaration.subject_id == subject.id)
                             .order_by(SelfDeclaration.id.desc())).scalars().all()
    r = ctx.profile.commitments
    return {"commitments": [{"number": c.number, "label": COMMITMENT_TYPES[c.ctype], "signed_on": c.signed_on,
                             "valid_until": c.valid_until, "via": c.via, "status": c.status} for c in cs],
            "declarations": [{"title": d.title, "label": DECLARATION_KINDS[d.kind], "state": d.state,
                              "note": d.check_note} for d in ds],
            "types": {t: COMMITMENT_TYPES[t] for t in (r.types if r else ())},
            "kinds": {k: DECLARATION_KINDS[k] for k in (r.declaration_kinds if r else ())}}


def pending_declarations(ctx: ServiceContext) -> list[dict]:
    """Declarations waiting for the staff member's check, in the region."""
    user = ctx.caller
    if not isinstance(user, StaffUser) or not STAFF_ROLES & set(user.roles):
        raise ServiceError("请先以工作人员身份登录", "declaration", 403)
    rows = ctx.session.execute(select(SelfDeclaration, Subject).join(Subject, Subject.id == SelfDeclaration.subject_id)
                               .where(SelfDeclaration.state == "submitted").order_by(SelfDeclaration.id)).all()
    return [{"id": d.id, "subject": s.name, "label": DECLARATION_KINDS[d.kind], "title": d.title, "content": d.content,
             "submitted_on": d.submitted_on} for d, s in rows if in_region(user, s.region_code)]


def declaration_by_id(ctx: ServiceContext, declaration_id: str) -> SelfDeclaration | None:
    if not (declaration_id.isascii() and declaration_id.isdigit() and len(declaration_id) < 10):
        return None
    return ctx.session.get(SelfDeclaration, int(declaration_id))
