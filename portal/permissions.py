"""The query half of the permissions: loads the facts and decides; the pure rules (who may do
what, given facts) are ``portal.domain.permissions``. Views and service verbs only ask; write
verbs ask themselves (``require_*`` below, with ``ctx.caller``).

Who may see a credit subject's non-public information:

海南 第二十七条: non-public information may be seen by the credit subject after real-name
authentication, or by a third party with the subject's written authorisation, for the agreed
purpose only (also 征信业管理条例 第十八条). An organisation acts through its legal
representative (the IdP asserts ``legal_rep_of``).

Answers, consistently for every non-public URL:

* not logged in → 401 (the page links to the login);
* logged in below the profile's assurance level → ``step_up`` (the view redirects to the login
  asking for that level);
* no relation at all to the subject → 404, exactly as for a subject that does not exist, so that
  a URL reveals nothing;
* a relation that does not permit this now (an authorisation not yet valid, expired, revoked or
  not covering the request; a grantee asking to manage authorisations or read the access log)
  → 403 with the reason.
"""
from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, object_session

from .domain import permissions as rules
from .domain.disclosure import public_view
from .domain.identity import ACR_BY_NAME, ACR_FACE, ACR_LEVELS, Identity, acr_satisfies
from .domain.vocab import InfoClass, SubjectKind
from .models import Authorisation, CreditRecord, Subject

ALL_CLASSES = frozenset(InfoClass)


class Via(enum.StrEnum):
    SELF = "self"  # the natural person the subject is
    LEGAL_REP = "legal_rep"  # the legal representative of the organisation
    AUTHORISATION = "authorisation"  # a third party holding a written authorisation
    STAFF = "staff"  # commission staff (decided by the staff module, logged the same way)


VIA_LABELS = {Via.SELF: "本人", Via.LEGAL_REP: "法定代表人", Via.AUTHORISATION: "经书面授权",
              Via.STAFF: "监管工作人员", "api": "政务共享接口"}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason_zh: str
    via: str | None = None  # Via
    authorisation_id: int | None = None
    status: int = 200  # the HTTP answer a view gives when not allowed: 401, 403 or 404
    step_up: bool = False  # logged in, but below the required assurance level
    required_acr: str = ACR_FACE
    info_classes: frozenset[str] = ALL_CLASSES  # what the viewer may see
    include_non_public: bool = True
    purpose: str = ""  # recorded in the access log

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def full(self) -> bool:
        """Sees everything: the subject itself or an authorisation covering every class."""
        return self.allowed and self.include_non_public and self.info_classes >= ALL_CLASSES


@dataclass(frozen=True)
class SubjectAccess:
    """One entry of "subjects I may see" (the ``/me`` page)."""

    subject: Subject
    via: str
    authorisation: Authorisation | None = None


def required_acr(profile: Any) -> str:
    """The assurance level the profile asks for non-public information (default: face check)."""
    level = None
    for holder in (getattr(profile, "display", None), profile):
        level = level or getattr(holder, "assurance_level_for_private", None)
    if not level:
        return ACR_FACE
    level = ACR_BY_NAME.get(level, level)
    return level if level in ACR_LEVELS else ACR_FACE


def relation(identity: Identity, subject: Subject) -> str | None:
    """``self`` or ``legal_rep`` when the identity *is* the subject, else ``None``."""
    if subject.kind == SubjectKind.PERSON and identity.person_hash and identity.person_hash == subject.code_hash:
        return Via.SELF
    if subject.kind == SubjectKind.ORG and identity.legal_rep_of and identity.legal_rep_of == subject.code_hash:
        return Via.LEGAL_REP
    return None


def _grantee_filter(identity: Identity):
    """The authorisations naming this identity: as a person, or as legal rep of an organisation."""
    terms = []
    if identity.person_hash:
        terms.append((Authorisation.grantee_kind == SubjectKind.PERSON)
                     & (Authorisation.grantee_hash == identity.person_hash))
    if identity.legal_rep_of:
        terms.append((Authorisation.grantee_kind == SubjectKind.ORG)
                     & (Authorisation.grantee_hash == identity.legal_rep_of))
    return or_(*terms) if terms else None


def authorisations_held(session: Session, identity: Identity, subject_id: int | None = None,
                        today: date | None = None) -> list[Authorisation]:
    """Authorisations granted to ``identity`` (only active ones when ``today`` is given)."""
    where = _grantee_filter(identity)
    if where is None:
        return []
    q = select(Authorisation).where(where)
    if subject_id is not None:
        q = q.where(Authorisation.grantor_subject_id == subject_id)
    if today is not None:
        q = q.where(Authorisation.revoked_at.is_(None), Authorisation.valid_from <= today,
                    Authorisation.valid_until >= today)
    return list(session.execute(q.order_by(Authorisation.valid_until.desc(), Authorisation.id.desc())).scalars())


def covers(authorisation: Authorisation, wanted: Iterable[str] | None) -> bool:
    """Whether an authorisation's scope covers the requested information classes."""
    return wanted is None or set(wanted) <= set(authorisation.info_classes)


def subjects_for(identity: Identity | None, session: Session, today: date) -> list[SubjectAccess]:
    """The subjects whose non-public information ``identity`` may see today.

    Its own subject (by ``person_hash``), the organisation it legally represents (by
    ``legal_rep_of``) and the grantors of its active authorisations. The hashes come from the
    login, computed with the same key as ``Subject.code_hash``.
    """
    if identity is None:
        return []
    out: list[SubjectAccess] = []
    own = [h for h in (identity.person_hash, identity.legal_rep_of) if h]
    seen: set[int] = set()
    if own:
        for subject in session.execute(select(Subject).where(Subject.code_hash.in_(own))
                                       .order_by(Subject.kind.desc(), Subject.id)).scalars():
            via = relation(identity, subject)
            if via:
                out.append(SubjectAccess(subject, via))
                seen.add(subject.id)
    for auth in authorisations_held(session, identity, today=today):
        if auth.grantor_subject_id not in seen:
            seen.add(auth.grantor_subject_id)
            out.append(SubjectAccess(auth.grantor, Via.AUTHORISATION, auth))
    return out


_REFUSALS = {
    "revoked": "该书面授权已被授权人撤销，不能再查看非公开信息。",
    "pending": "该书面授权尚未生效（生效日期 {from_}）。",
    "expired": "该书面授权已于 {until} 到期，不能再查看非公开信息。",
}


def can_view_private(identity: Identity | None, subject: Subject, today: date,
                     purpose_scope: Iterable[str] | None = None, *, session: Session | None = None,
                     required: str = ACR_FACE) -> Decision:
    """May ``identity`` see ``subject``'s non-public information today?

    ``purpose_scope``: the information classes the request needs (``None``: whatever the
    viewer's scope allows; the view then filters with ``visible_records``).
    """
    if identity is None:
        return Decision(False, "查看非公开信用信息需要先登录并完成实名认证。", status=401, required_acr=required)
    via = relation(identity, subject)
    if via is None:
        session = session or object_session(subject)
        held = authorisations_held(session, identity, subject.id) if session is not None else []
        if not held:
            return Decision(False, "未找到该主体。", status=404, required_acr=required)
        active = [a for a in held if a.state(today) == "active"]
        usable = [a for a in active if covers(a, purpose_scope)]
        if not usable:
            if active:
                return Decision(False, "您的书面授权不包含所请求的信息范围。", status=403, required_acr=required)
            latest = held[0]
            reason = _REFUSALS[latest.state(today)].format(from_=latest.valid_from, until=latest.valid_until)
            return Decision(False, reason, status=403, required_acr=required)
        # The broadest usable authorisation (ties: the one valid longest).
        auth = max(usable, key=lambda a: (a.include_non_public, len(a.info_classes), a.valid_until, a.id))
        grant = dict(via=Via.AUTHORISATION, authorisation_id=auth.id, info_classes=frozenset(auth.info_classes),
                     include_non_public=auth.include_non_public, purpose=auth.purpose)
    else:
        grant = dict(via=via, purpose="本人查询" if via == Via.SELF else "法定代表人查询")
    if not acr_satisfies(identity.acr, required):
        return Decision(False, "查看非公开信用信息需要更高等级的实名认证（人脸识别核验）。", status=401,
                        step_up=True, required_acr=required)
    return Decision(True, "", required_acr=required, **grant)


def can_manage(identity: Identity | None, subject: Subject, *, session: Session | None = None,
               required: str = ACR_FACE) -> Decision:
    """Grant or revoke authorisations and read "谁查看了我的信息": the subject itself only.

    A grantee must not pass its access on, nor see who else looked (海南 第二十七条: the
    authorisation is the subject's own act).
    """
    if identity is None:
        return Decision(False, "查看非公开信用信息需要先登录并完成实名认证。", status=401, required_acr=required)
    via = relation(identity, subject)
    if via is None:
        session = session or object_session(subject)
        if session is not None and authorisations_held(session, identity, subject.id):
            return Decision(False, "只有信用主体本人或其法定代表人可以管理书面授权、查看访问记录。", status=403,
                            required_acr=required)
        return Decision(False, "未找到该主体。", status=404, required_acr=required)
    if not acr_satisfies(identity.acr, required):
        return Decision(False, "查看非公开信用信息需要更高等级的实名认证（人脸识别核验）。", status=401,
                        step_up=True, required_acr=required)
    return Decision(True, "", via=via, required_acr=required,
                    purpose="本人查询" if via == Via.SELF else "法定代表人查询")


def record_visible(decision: Decision, record: CreditRecord, today: date, profile) -> bool:
    """Whether one record (any version) falls inside the viewer's scope."""
    if not decision.allowed or record.info_class not in decision.info_classes:
        return False
    return decision.include_non_public or public_view(record, today, profile=profile) is not None


def visible_records(decision: Decision, records: Iterable[CreditRecord], today: date,
                    profile) -> list[CreditRecord]:
    return [r for r in records if record_visible(decision, r, today, profile)]


# --- the checks service verbs make themselves (the query half for writes) -------------------------
#
# A verb's ``ctx.caller`` is who asks: a ``StaffUser`` (staff pages), an ``Identity`` (a logged-in
# person) or ``None`` for the operator's own processes (command line, scheduled jobs, seeding),
# which act as the platform and are audited under their actor name. The web sets the caller on
# every context it builds (``portal.web.caller_ctx``); a verb refuses a caller who may not, with a
# Chinese message, whatever the route or command that called it.

def _refuse(message: str, status: int = 403, field: str = "case"):
    from .services.errors import ServiceError

    raise ServiceError(message, field, status)


def _staff(caller) -> bool:
    return caller is not None and not isinstance(caller, Identity)


def step_actor(profile: Any, case) -> str | None:
    """The actor of the case's current step (``None`` when closed)."""
    if not case.open:
        return None
    machine = profile.objection if case.kind == "objection" else profile.repair
    return machine.step(case.state).actor


def staff_role(user, case, profile: Any) -> str | None:
    """The role in which a staff member may act on the case now, or ``None`` (also when they
    must stand aside: :func:`is_recused`)."""
    role = rules.staff_acting_role(user, case, step_actor(profile, case))
    if role is not None and is_recused(user, case):
        return None
    return role


def is_recused(user, case) -> bool:
    """回避: ``user`` decided the objection whose 复核 is the case's current step
    (``domain.permissions.recused``). Only a review step loads the timeline."""
    if not case.open or case.state != rules.REVIEW_STEP or case.kind != "objection":
        return False
    from .models import CaseEvent

    session = object_session(case)
    events = session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)
                             .order_by(CaseEvent.id)).scalars().all() if session is not None else []
    return rules.recused(f"staff:{user.username}", case.kind, case.state, events)


def staff_case_filter(user, case_model):
    """The SQL form of ``domain.permissions.staff_can_see`` over ``case_model`` (``Case``):
    queues filter in the query, so paging counts only what the staff member may see."""
    from sqlalchemy import and_, false, func, true

    if not user.active:
        return false()
    terms = [true()]
    region = user.region_code or ""
    if region.endswith("00"):
        terms.append(func.substr(case_model.region_code, 1, 4) == region[:4])
    elif region:
        terms.append(case_model.region_code == region)
    if rules.provider_only(user.roles):
        terms.append(case_model.authority == user.authority if user.authority else false())
    return and_(*terms)


def require_case_role(ctx, case, role: str) -> None:
    """The caller may take the case's current step as ``role`` (staff: the step's actor among
    their roles, in their region and, for providing units, their own records; a person: only
    the applicant's own steps)."""
    caller = ctx.caller
    if caller is None:
        return
    if isinstance(caller, Identity):
        if role != rules.APPLICANT or not rules.is_applicant(caller.iss, caller.sub, case):
            _refuse(rules.APPLICANT_ONLY)
        return
    if not rules.staff_can_see(caller, case):
        _refuse(rules.NOT_FOUND_CASE, 404)
    if role != rules.APPLICANT and is_recused(caller, case):
        _refuse(rules.RECUSED_REVIEW)
    if role == rules.APPLICANT or staff_role(caller, case, ctx.profile) != role:
        _refuse(rules.NOT_YOUR_STEP)


def require_staff_can_see(ctx, case) -> None:
    """Staff read a case (documents, evidence) only inside their queues; a person only as the
    applicant side, decided by ``require_subject_manager`` before the case is found."""
    caller = ctx.caller
    if _staff(caller) and not rules.staff_can_see(caller, case):
        _refuse(rules.NOT_FOUND_CASE, 404)


def require_applicant(ctx, case) -> None:
    """Withdraw, supplement: the applicant's own login only (staff never act as applicant)."""
    caller = ctx.caller
    if caller is None:
        return
    if _staff(caller) or not rules.is_applicant(caller.iss, caller.sub, case):
        _refuse(rules.APPLICANT_ONLY)


def require_subject_manager(ctx, subject) -> Decision | None:
    """File an objection or a repair, grant or revoke an authorisation: the subject itself or
    its legal representative at the profile's assurance level (``can_manage``)."""
    caller = ctx.caller
    if caller is None:
        return None
    if _staff(caller):
        _refuse(rules.SUBJECT_ONLY)
    decision = can_manage(caller, subject, session=ctx.session, required=required_acr(ctx.profile))
    if not decision.allowed:
        _refuse(decision.reason_zh, decision.status, "subject")
    return decision


def require_plate_manager(ctx, region_code: str | None = None) -> None:
    """Issue, revoke, reissue, print plates: operators and departments, in their own region."""
    caller = ctx.caller
    if caller is None:
        return
    if not _staff(caller) or not rules.may_manage_plates(caller):
        _refuse(rules.PLATES_ONLY)
    if region_code is not None and not rules.in_region(caller.region_code, region_code):
        _refuse(rules.PLATE_REGION, 404, "plate")


def require_admin(ctx, message: str = rules.ADMIN_ONLY) -> None:
    """Administrators only (the holiday table; staff accounts with ``rules.ACCOUNTS_ONLY``)."""
    caller = ctx.caller
    if caller is None:
        return
    if not _staff(caller) or not rules.is_admin(caller):
        _refuse(message, field="staff")
