"""Who may provide information and who may approve it: the pure rules of the providers'
workspace (信息提供单位). No Flask, no SQLAlchemy: ``user``/``draft`` are anything with the
attributes named.

- A providing unit enters and changes only its own information (its ``authority``) inside its
  region (湖南 第十条: 县级以上卫生健康行政部门和授权的机构 enter what they are responsible for;
  海南 第二十六条: the providing unit decides the disclosure scope of what it provides).
- Other channels (海南 第二十二条: 行业协会、第三方信用服务机构) may offer information; it is marked
  with its channel and published only after the platform operator or a department of the region
  has reviewed it.
- Where the profile requires 审核, an official single entry is published only after a second
  person approves it; nobody approves their own entry.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from ..documents.citations import own_note
from .permissions import PROVIDER, in_region

OFFICIAL = ""
ASSOCIATION, THIRD_PARTY = "association", "third_party"
CHANNEL_LABELS = {OFFICIAL: "卫生健康行政部门及授权机构", ASSOCIATION: "行业协会", THIRD_PARTY: "第三方信用服务机构"}
# Citation tables: each regulation's own article for the point, in shorthand; ``message`` keeps the
# active profile's part (a 湖南 portal never shows 海南's draft). 淮安's plan is silent on both.
# Other channels: 海南 第二十二条 (行业协会、第三方信用服务机构 provide information); 阳山 四（二） (归集
# information that 社会团体、行业组织 obtain or produce).
CHANNEL_ARTICLE = "海南 第二十二条；阳山 四（二）"
# A unit enters what it is responsible for: 湖南 第十条 (依据监管职责录入), 海南 第二十条 (谁管理、谁采集),
# 湖南医保 第十三条第二款 (谁采集、谁负责), 阳山 四（二） (谁产生信息，谁归集信息).
OWN_UNIT_ARTICLE = "湖南 第十条；海南 第二十条；湖南医保 第十三条第二款；阳山 四（二）"
# The information catalogue (what it states for each kind of information): 湖南 第九条, 海南 第十九条
# (信用目录制), 湖南医保 第十条 (信息采集目录). 阳山 and 淮安's plans have no catalogue.
CATALOGUE_ARTICLE = "湖南 第九条；海南 第十九条；湖南医保 第十条"
# Entering information timely, accurately and completely (the units overdue on the catalogue page), a
# different duty from OWN_UNIT_ARTICLE's "who enters": 湖南 第十条 and 海南 第二十一条 (及时准确完整录入、
# 归集), 湖南医保 第十三条第二款 (对信息的及时性、真实性、准确性和完整性负责), 阳山 四（二） (信息产生一个月内
# 报送录入). 淮安's plan is silent.
TIMELY_ENTRY_ARTICLE = "湖南 第十条；海南 第二十一条；湖南医保 第十三条第二款；阳山 四（二）"
REVIEWER_ROLES = frozenset({"operator", "department"})  # review other channels' information

ADD, CORRECT, WITHDRAW = "add", "correct", "withdraw"
ACTION_LABELS = {ADD: "新增", CORRECT: "更正", WITHDRAW: "撤回"}

DRAFT, SUBMITTED, APPROVED, REJECTED = "draft", "submitted", "approved", "rejected"
DRAFT_STATE_LABELS = {DRAFT: "草稿", SUBMITTED: "待审核", APPROVED: "已审核发布", REJECTED: "已退回"}

NOT_PROVIDER = "只有信息提供单位的工作人员可以报送信用信息。"
OTHER_UNIT = "不是本单位提供的信息：信息提供单位只能报送、更正、撤回本单位的信息"
OTHER_REGION = "该信用主体不在您的管辖范围内。"
SELF_APPROVAL = "审核须由另一名工作人员办理：起草人不能审核自己报送的信息。"
NOT_REVIEWER = "只有本单位的其他工作人员或本辖区的认定部门可以审核该信息。"
CHANNEL_REVIEWER = "其他渠道（行业协会、第三方信用服务机构）报送的信息须由平台运行机构或认定部门审核后发布"
CHANNEL_OFFICIAL_ONLY = "行业协会、第三方信用服务机构请逐条报送，信息经审核后发布"
# The refusals that rest on a regulation, with their citation table.
CITED = {OTHER_UNIT: OWN_UNIT_ARTICLE, CHANNEL_REVIEWER: CHANNEL_ARTICLE, CHANNEL_OFFICIAL_ONLY: CHANNEL_ARTICLE}


def message(why: str, document: str) -> str:
    """A refusal as shown under the profile whose ``document`` is given: its citation only where
    that regulation has the article ("…（湖南 第十条）。" under 湖南, "…。" under 淮安), ending with "。"."""
    text = why.rstrip("。") + own_note(CITED.get(why, ""), document)
    return text + "。"


def is_provider(user) -> bool:
    return user is not None and user.active and PROVIDER in user.roles and bool(user.authority)


def channel_of(user) -> str:
    return getattr(user, "channel", "") or OFFICIAL


def provide_refusal(user, region_code: str, authority: str) -> str | None:
    """Why ``user`` may not enter or change information of ``authority`` about a subject in
    ``region_code`` (``None``: they may)."""
    if not is_provider(user):
        return NOT_PROVIDER
    if not in_region(user.region_code, region_code):
        return OTHER_REGION
    if (authority or "").strip() != user.authority:
        return OTHER_UNIT
    return None


def needs_review(approval_required: bool, channel: str) -> bool:
    """Whether a single entry waits for a second person before publication."""
    return approval_required or channel != OFFICIAL


def review_refusal(user, draft) -> str | None:
    """Why ``user`` may not approve or return ``draft`` (``None``: they may)."""
    if user is None or not user.active:
        return NOT_REVIEWER
    if draft.drafted_by == f"staff:{user.username}":
        return SELF_APPROVAL
    if not in_region(user.region_code, draft.region_code):
        return OTHER_REGION
    roles = set(user.roles)
    if draft.channel != OFFICIAL:
        return None if roles & REVIEWER_ROLES and channel_of(user) == OFFICIAL else CHANNEL_REVIEWER
    if "department" in roles and channel_of(user) == OFFICIAL:
        return None
    if PROVIDER in roles and user.authority == draft.authority and channel_of(user) == OFFICIAL:
        return None
    return NOT_REVIEWER


def overdue(last_at: datetime | None, cycle_days: int, today: date) -> bool:
    """湖南 第十条 (及时录入): a unit whose last report of a catalogue entry is older than the
    entry's update cycle (or that never reported it) is overdue."""
    return last_at is None or last_at.date() < today - timedelta(days=cycle_days)
