"""Who may do what, given the facts: the pure half of the permissions (no Flask, no SQLAlchemy).

The query half, ``portal.permissions``, loads the facts (the staff account, the case, the
subject's relation to a login, authorisations) and turns a refusal into a ``ServiceError``;
service verbs call it themselves, so a page, a CLI command and an API cannot disagree.

Staff (海南 第五十一条; 湖南 第三十三条: access to credit data is controlled and audited):
roles are the profile's step actors (``operator`` 平台运行机构, ``provider`` 信息提供单位,
``reviewer`` 复核部门, ``department`` 认定部门) plus ``admin`` 系统管理员, who acts on no case step
but maintains the holiday table. A staff member handles a case when the current step's actor is
one of their roles, the case lies in their region (``""`` = the whole jurisdiction; a city code
``xxxx00`` covers its counties) and, for providing units, the record came from their authority
(海南 第三十八条: the unit that provided the information handles its objection).

Subjects (海南 第二十七条; 湖南 第二十七条（三）): objections, repairs, authorisations and
withdrawals are the subject's own acts, by the natural person itself or the organisation's legal
representative; a written authorisation lets a third party read, never file.
"""
from __future__ import annotations

ADMIN = "admin"
PROVIDER = "provider"
APPLICANT = "applicant"
PLATE_ROLES = frozenset({"operator", "department"})  # 淮安 三(七): who issues identity plates
SELF, LEGAL_REP = "self", "legal_rep"  # permissions.Via values that may act for the subject

# Every staff role in the words staff read (the nav, the account list, case timelines).
STAFF_ROLE_LABELS = {"admin": "系统管理员", "head": "负责人", "operator": "平台运行机构", "provider": "信息提供单位",
                     "reviewer": "复核部门", "department": "认定部门"}

NOT_YOUR_STEP = "当前环节不由您办理。"
NOT_FOUND_CASE = "未找到该案件。"
APPLICANT_ONLY = "只有申请人本人可以办理。"
SUBJECT_ONLY = "只有信用主体本人或其法定代表人可以提出申请、管理书面授权。"
PLATES_ONLY = "只有平台运行机构和认定部门的工作人员可以管理二维码身份牌。"
PLATE_REGION = "该身份牌不在您的管辖范围内。"
ADMIN_ONLY = "只有系统管理员可以维护节假日表。"
ACCOUNTS_ONLY = "只有系统管理员可以管理工作人员账号。"
LAST_ADMIN = "至少须保留一个启用的系统管理员账号：不能取消最后一个系统管理员的管理员角色或停用其账号。"
NOT_YOURSELF = "不能停用自己正在使用的账号，请由其他系统管理员办理。"
NO_CALLER = "未能确认办理人身份，操作未执行。"
RECUSED_REVIEW = "回避：您作出了原处理决定，该异议的复核须由其他工作人员办理。"

# The step in which another body checks an objection decision (湖南 第二十八条第三款 复核; 海南
# 第四十条第三款 平台运行机构复核处理决定). Its handler must not be the person who took the decision
# under review (回避: nobody reviews their own decision).
REVIEW_STEP = "review"
# Case events that decide nothing: time limits, materials, filing, system recounts.
NOT_DECISIONS = frozenset({"file", "withdraw", "extend", "stop_clock", "resume_clock", "request_materials",
                           "supplement", "recalculate", "request_review"})


def in_region(user_region: str, region_code: str) -> bool:
    """A staff account's region covers ``region_code``: everything, one city with its
    counties (``xxxx00``), or one county."""
    if not user_region:
        return True
    if user_region.endswith("00"):
        return region_code[:4] == user_region[:4]
    return region_code == user_region


def provider_only(roles) -> bool:
    return set(roles) == {PROVIDER}


def own_records(user_authority: str, case_authority: str) -> bool:
    return bool(user_authority) and case_authority == user_authority


def staff_can_see(user, case) -> bool:
    """The case appears in the staff member's queues: region, and for an account that is only a
    providing unit, the unit's own records (an account without a unit sees none).
    ``user``/``case``: anything with the account's and the case's attributes."""
    if not user.active or not in_region(user.region_code, case.region_code):
        return False
    if provider_only(user.roles) and not own_records(user.authority, case.authority):
        return False
    return True


def staff_acting_role(user, case, step_actor: str | None) -> str | None:
    """The role in which ``user`` may act on the case's current step (whose actor is
    ``step_actor``), or ``None``."""
    if step_actor is None or not case.open or not staff_can_see(user, case):
        return None
    if step_actor not in user.roles:
        return None
    if step_actor == PROVIDER and not own_records(user.authority, case.authority):
        return None
    return step_actor


def is_admin(user) -> bool:
    return user is not None and user.active and ADMIN in user.roles


def leaves_an_admin(active_admin_ids, user_id: int, *, active: bool, roles) -> bool:
    """After changing account ``user_id`` to ``active``/``roles``, at least one active
    administrator remains (``active_admin_ids``: the active admin accounts before the change), so
    nobody can lock the platform out of its own account management."""
    remaining = set(active_admin_ids) - {user_id}
    if active and ADMIN in set(roles):
        remaining.add(user_id)
    return bool(remaining)


def may_manage_plates(user) -> bool:
    return user is not None and user.active and bool(PLATE_ROLES & set(user.roles))


def may_act_for_subject(via: str | None) -> bool:
    """File, withdraw, grant or revoke: the subject itself or its legal representative."""
    return via in (SELF, LEGAL_REP)


def is_applicant(iss: str, sub: str, case) -> bool:
    return (case.applicant_iss, case.applicant_sub) == (iss, sub)


def decider_under_review(kind: str, step_id: str | None, events) -> str | None:
    """The actor whose decision the case's current step reviews, or ``None`` when the step is no
    objection 复核. ``events``: the case's timeline (anything with ``actor``, ``role``, ``action``,
    ``from_state``), oldest first; the decision is the last staff decision taken before the case
    entered the review step."""
    if kind != "objection" or step_id != REVIEW_STEP:
        return None
    decisions = [e for e in events if e.role not in (APPLICANT, "system") and e.action not in NOT_DECISIONS
                 and e.from_state != REVIEW_STEP]
    return decisions[-1].actor if decisions else None


def recused(actor: str, kind: str, step_id: str | None, events) -> bool:
    """``actor`` must stand aside on this step: they decided what it reviews."""
    decider = decider_under_review(kind, step_id, events)
    return decider is not None and decider == actor


def withdrawable(kind: str, step_id: str | None, step_actor: str | None) -> bool:
    """An applicant may withdraw while no decision is out: a repair until it ends; an objection
    until it is decided, i.e. not while the applicant answers a decision (accept it or ask for
    复核) nor during the 复核 (湖南 第二十八条第三款)."""
    if step_id is None or step_actor is None:
        return False
    if kind != "objection":
        return True
    return step_actor != APPLICANT and step_id != REVIEW_STEP
