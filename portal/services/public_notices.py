"""Public notices of commendation and typical cases (issue 16; 阳山 四（五）: 加大对守信行为的表彰和
宣传力度……及时曝光违背医疗卫生诚信要求的典型案例; 淮安 三（五）).

Staff (a department or admin account of the region) write a draft with its title, text and linked
public records / subjects, publish it (by a second person where the profile says,
``[lists] notice_second_person``) and may withdraw it with a reason; each verb checks the caller and
writes its audit event. The public reads (``/notices``) show published notices only, and their
links only while each is public: a link to a non-public record is refused at publish time, and a
record that later stops being public (repaired, withdrawn, out of its window) drops out of the
page on the next read (``domain.disclosure.public_view``, the one privacy boundary).
"""
from __future__ import annotations

from sqlalchemy import func, select

from ..domain import public_notices as rules
from ..domain.disclosure import public_subject, public_view
from ..domain.identifiers import scrub_personal_data
from ..models import Grade, PublicNotice, PublicNoticeLink, StaffUser, Subject
from .audit import record_event
from .context import ServiceContext
from .errors import ServiceError
from .indexing import grade_in_force
from .records import current_version
from .staff import ADMIN, in_region

OFFICER_ROLES = {"department", ADMIN}
TITLE_LIMIT, BODY_LIMIT, LINK_LIMIT, REASON_LIMIT = 200, 5000, 200, 1000
RECENT = 5


def require_notice_officer(ctx: ServiceContext, region_code: str | None = None) -> None:
    """A department or admin account (covering the notice's region, when one is given); ``None``
    is the command line."""
    user = ctx.caller
    if user is None:
        return
    if not isinstance(user, StaffUser) or not user.active or not OFFICER_ROLES & set(user.roles) \
            or (region_code is not None and not in_region(user, region_code)):
        raise ServiceError("无权办理表彰与典型案例公示", "notice", 403)


def _text(value: str, field: str, label: str, limit: int, required: bool = True) -> str:
    value = (value or "").replace("\x00", "").strip()
    if required and not value:
        raise ServiceError(f"请填写{label}", field)
    if len(value) > limit:
        raise ServiceError(f"{label}不能超过 {limit} 字", field)
    return value


def _second_person(ctx: ServiceContext) -> bool:
    return bool(ctx.profile.lists and ctx.profile.lists.notice_second_person)


def _audit(ctx: ServiceContext, notice: PublicNotice, action: str, **detail) -> None:
    record_event(ctx.session, ctx.actor, f"public_notice.{action}", object_ref=f"notice:{notice.number}",
                 detail={"state": notice.state, **detail})


def notice_by_number(ctx: ServiceContext, number: str) -> PublicNotice | None:
    return ctx.session.execute(select(PublicNotice).where(PublicNotice.number == (number or "")[:20])
                               ).scalar_one_or_none()


# --- links ---------------------------------------------------------------------------------------

def _public_record(ctx: ServiceContext, lineage_id: int) -> tuple[dict, dict] | None:
    """The public view of a record and of its subject, or ``None`` when either is not public."""
    record = current_version(ctx, lineage_id)
    if record is None:
        return None
    subject = ctx.session.get(Subject, record.subject_id)
    subject_view = public_subject(subject, ctx.today) if subject else None
    view = public_view(record, ctx.today, subject.birth_on if subject else None, profile=ctx.profile)
    return (view, subject_view) if view and subject_view else None


def _public_subject(ctx: ServiceContext, subject_id: int) -> dict | None:
    subject = ctx.session.get(Subject, subject_id)
    return public_subject(subject, ctx.today) if subject else None


def parse_links(ctx: ServiceContext, kind: str, records: str, subjects: str) -> list[tuple[str, int, str]]:
    """The form's links: record numbers (lineage ids) and subject public ids, whitespace or comma
    separated. Unknown references are refused here; whether each is public is checked at publish."""
    require_notice_officer(ctx)  # who may not draft learns nothing about which numbers exist
    out: list[tuple[str, int, str]] = []
    record_tokens = (records or "").replace("，", ",").replace(",", " ").split()
    subject_tokens = (subjects or "").replace("，", ",").replace(",", " ").split()
    if len(record_tokens) + len(subject_tokens) > LINK_LIMIT:  # before any look-up
        raise ServiceError(f"关联不能超过 {LINK_LIMIT} 条", "records")
    for token in record_tokens:
        if not token.isdigit() or len(token) > 12:
            raise ServiceError(f"信用信息编号“{token[:20]}”无效", "records")
        record = current_version(ctx, int(token))
        if record is None:
            raise ServiceError(f"未找到编号为 {token} 的信用信息", "records", 404)
        out.append(("record", record.lineage_id, ""))
    for token in subject_tokens:
        subject = ctx.session.execute(select(Subject).where(Subject.public_id == token[:16])).scalar_one_or_none()
        if subject is None:
            raise ServiceError(f"未找到公开编号为“{token[:20]}”的信用主体", "subjects", 404)
        out.append(("subject", subject.id, ""))
    for target, _, _ in out:
        refusal = rules.link_refusal(kind, target)
        if refusal:
            raise ServiceError(refusal, "records" if target == "record" else "subjects")
    return list(dict.fromkeys(out))


def top_grade_subjects(ctx: ServiceContext, year: int) -> list[tuple[str, int, str]]:
    """The units with the profile's best grade for ``year`` among the formal grades in force (阳山
    四（五）: 表彰 A 级单位), as links labelled with the grade; public subjects only."""
    require_notice_officer(ctx)
    best = ctx.profile.grades[0].letter
    rows = ctx.session.execute(select(Grade.subject_id).where(Grade.year == year, Grade.letter == best,
                                                              grade_in_force(ctx.today.year, ctx.today))
                               .order_by(Grade.subject_id)).scalars().all()
    user = ctx.caller
    out = []
    for sid in rows:
        subject = ctx.session.get(Subject, sid)
        if public_subject(subject, ctx.today) and (user is None or in_region(user, subject.region_code)):
            out.append(("subject", sid, f"{year} 年度 {best} 级"))
    return out


def _set_links(ctx: ServiceContext, notice: PublicNotice, links: list[tuple[str, int, str]]) -> None:
    for old in ctx.session.execute(select(PublicNoticeLink).where(PublicNoticeLink.notice_id == notice.id)).scalars():
        ctx.session.delete(old)
    ctx.session.flush()
    for target, ref, label in links:
        ctx.session.add(PublicNoticeLink(notice_id=notice.id, target=target, ref=ref, label=label[:100]))
    ctx.session.flush()


def _links(ctx: ServiceContext, notice: PublicNotice) -> list[PublicNoticeLink]:
    return list(ctx.session.execute(select(PublicNoticeLink).where(PublicNoticeLink.notice_id == notice.id)
                                    .order_by(PublicNoticeLink.id)).scalars())


# --- verbs ---------------------------------------------------------------------------------------

def draft_notice(ctx: ServiceContext, kind: str, title: str, body: str, links: list[tuple[str, int, str]],
                 *, region_code: str = "") -> PublicNotice:
    """A new draft (nothing public yet)."""
    if kind not in rules.KINDS:
        raise ServiceError("请选择公示类别", "kind")
    if isinstance(ctx.caller, StaffUser) and not region_code:
        region_code = ctx.caller.region_code or ""
    require_notice_officer(ctx, region_code)
    title = _text(title, "title", "标题", TITLE_LIMIT)
    body = _text(body, "body", "正文", BODY_LIMIT)
    for target, _, _ in links:
        refusal = rules.link_refusal(kind, target)
        if refusal:
            raise ServiceError(refusal, "records")
    stem = f"GS-{ctx.today.year}-"
    n = ctx.session.execute(select(func.count(PublicNotice.id)).where(PublicNotice.number.like(stem + "%"))).scalar_one()
    notice = PublicNotice(number=f"{stem}{n + 1:04d}", kind=kind, title=title, body=body, region_code=region_code,
                          state=rules.NoticeState.DRAFT, created_by=ctx.actor[:120], published_by="", withdrawn_by="",
                          withdraw_reason="")
    ctx.session.add(notice)
    ctx.session.flush()
    _set_links(ctx, notice, links)
    _audit(ctx, notice, "draft", kind=kind, links=len(links))
    return notice


def _move(ctx: ServiceContext, notice: PublicNotice, action: str) -> None:
    require_notice_officer(ctx, notice.region_code)
    try:
        notice.state = rules.next_state(notice.state, action)
    except rules.NoticeRuleError as exc:
        raise ServiceError(exc.message, exc.field, exc.status) from exc


def edit_notice(ctx: ServiceContext, notice: PublicNotice, title: str, body: str,
                links: list[tuple[str, int, str]]) -> PublicNotice:
    _move(ctx, notice, "edit")
    notice.title = _text(title, "title", "标题", TITLE_LIMIT)
    notice.body = _text(body, "body", "正文", BODY_LIMIT)
    _set_links(ctx, notice, links)
    _audit(ctx, notice, "edit", links=len(links))
    return notice


def publish_notice(ctx: ServiceContext, notice: PublicNotice) -> PublicNotice:
    """发布. Every link must be public today (a typical case names only what is already public:
    海南 第二十三条 publication scope); where the profile asks, not by the notice's author."""
    _move(ctx, notice, "publish")
    refusal = rules.publish_refusal(notice.created_by, ctx.actor[:120], _second_person(ctx))
    if refusal:
        raise ServiceError(refusal, "notice", 409)
    links = _links(ctx, notice)
    if not links:
        raise ServiceError("请至少关联一条公开的信用信息或信用主体", "records", 409)
    for link in links:
        public = _public_record(ctx, link.ref) if link.target == "record" else _public_subject(ctx, link.ref)
        if not public:
            what = f"信用信息 {link.ref}" if link.target == "record" else "所关联的信用主体"
            raise ServiceError(f"{what}不是公开信息，不能在公示中关联", "records", 409)
    notice.published_by, notice.published_on = ctx.actor[:120], ctx.today
    _audit(ctx, notice, "publish", links=len(links))
    return notice


def withdraw_notice(ctx: ServiceContext, notice: PublicNotice, reason: str) -> PublicNotice:
    """撤回 with a reason (kept for staff; the public page no longer shows the notice)."""
    reason = _text(reason, "reason", "撤回理由", REASON_LIMIT)
    _move(ctx, notice, "withdraw")
    notice.withdrawn_by, notice.withdrawn_on, notice.withdraw_reason = ctx.actor[:120], ctx.today, reason
    _audit(ctx, notice, "withdraw")
    return notice


# --- reads ---------------------------------------------------------------------------------------

def _link_views(ctx: ServiceContext, notice: PublicNotice, *, public_only: bool) -> list[dict]:
    out = []
    for link in _links(ctx, notice):
        if link.target == "record":
            found = _public_record(ctx, link.ref)
            if found:
                view, subject = found
                out.append({"target": "record", "ref": link.ref, "label": link.label, "public": True,
                            "title": view["title"], "type_label": view["type_label"], "doc_no": view["doc_no"],
                            "decided_on": view["decided_on"], "subject_name": subject["name"],
                            "public_id": subject["public_id"]})
            elif not public_only:
                out.append({"target": "record", "ref": link.ref, "label": link.label, "public": False,
                            "title": f"信用信息 {link.ref}（当前不公开）"})
        else:
            subject = _public_subject(ctx, link.ref)
            if subject:
                out.append({"target": "subject", "ref": link.ref, "label": link.label, "public": True,
                            "subject_name": subject["name"], "public_id": subject["public_id"],
                            "credit_code": subject.get("credit_code") or ""})
            elif not public_only:
                out.append({"target": "subject", "ref": link.ref, "label": link.label, "public": False,
                            "subject_name": "（当前不公开的信用主体）"})
    return out


def _summary(notice: PublicNotice) -> dict:
    return {"number": notice.number, "kind": notice.kind, "kind_label": rules.KINDS[notice.kind],
            "title": notice.title, "published_on": notice.published_on, "state": notice.state,
            "state_label": rules.STATE_LABELS[rules.NoticeState(notice.state)]}


def public_notices(ctx: ServiceContext, limit: int | None = None) -> list[dict]:
    """Published notices, newest first (``/notices`` and the home page's 最近公示)."""
    q = select(PublicNotice).where(PublicNotice.state == rules.NoticeState.PUBLISHED) \
        .order_by(PublicNotice.published_on.desc(), PublicNotice.id.desc())
    if limit:
        q = q.limit(limit)
    return [_public(_summary(n)) for n in ctx.session.execute(q).scalars()]


def public_notice(ctx: ServiceContext, number: str) -> dict | None:
    """One published notice with its links that are public today; ``None`` otherwise."""
    notice = notice_by_number(ctx, number)
    if notice is None or notice.state != rules.NoticeState.PUBLISHED:
        return None
    return _public({**_summary(notice), "body": notice.body, "links": _link_views(ctx, notice, public_only=True)})


def _public(view: dict) -> dict:
    """Staff-typed title and body as the public sees them: ID numbers, phones, e-mails and third
    parties' names, addresses and health data masked like record text (湖南 第四条; 海南 第五条)."""
    for key in ("title", "body"):
        if key in view:
            view[key] = scrub_personal_data(view[key])
    return view


def staff_notices(ctx: ServiceContext) -> list[dict]:
    require_notice_officer(ctx)
    rows = ctx.session.execute(select(PublicNotice).order_by(PublicNotice.id.desc())).scalars()
    user = ctx.caller
    return [_summary(n) for n in rows if user is None or in_region(user, n.region_code)]


def staff_notice(ctx: ServiceContext, notice: PublicNotice) -> dict:
    require_notice_officer(ctx, notice.region_code)
    links = _links(ctx, notice)
    return {**_summary(notice), "body": notice.body, "created_by": notice.created_by,
            "published_by": notice.published_by, "withdrawn_on": notice.withdrawn_on,
            "withdraw_reason": notice.withdraw_reason, "links": _link_views(ctx, notice, public_only=False),
            "records_text": " ".join(str(ln.ref) for ln in links if ln.target == "record"),
            "subjects_text": " ".join(_subject_public_id(ctx, ln.ref) for ln in links if ln.target == "subject"),
            "second_person": _second_person(ctx)}


def _subject_public_id(ctx: ServiceContext, subject_id: int) -> str:
    subject = ctx.session.get(Subject, subject_id)
    return subject.public_id if subject else ""

