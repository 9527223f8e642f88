"""Public notices of commendation and typical cases (阳山 四（五）: 加大对守信行为的表彰和宣传力度……
及时曝光违背医疗卫生诚信要求的典型案例; 淮安 三（五）): states, transitions and who may publish.
Pure: no Flask, no SQLAlchemy."""
from __future__ import annotations

import enum

COMMENDATION = "commendation"
TYPICAL_CASE = "typical_case"
KINDS = {COMMENDATION: "守信表彰", TYPICAL_CASE: "失信典型案例"}


class NoticeState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


STATE_LABELS = {NoticeState.DRAFT: "草稿", NoticeState.PUBLISHED: "已公示", NoticeState.WITHDRAWN: "已撤回"}
#: (state, action) → next state; anything else is refused.
TRANSITIONS = {
    (NoticeState.DRAFT, "edit"): NoticeState.DRAFT,
    (NoticeState.DRAFT, "publish"): NoticeState.PUBLISHED,
    (NoticeState.PUBLISHED, "withdraw"): NoticeState.WITHDRAWN,
}


class NoticeRuleError(Exception):
    def __init__(self, message: str, field: str = "state", status: int = 409):
        super().__init__(message)
        self.message, self.field, self.status = message, field, status


def next_state(state: str, action: str) -> NoticeState:
    try:
        return TRANSITIONS[(NoticeState(state), action)]
    except (KeyError, ValueError):
        raise NoticeRuleError(f"当前状态（{STATE_LABELS.get(state, state)}）不能进行该操作") from None


def publish_refusal(created_by: str, publisher: str, second_person: bool) -> str | None:
    """``None`` when ``publisher`` may publish a draft written by ``created_by``: where the profile
    asks for a second person (``[lists] notice_second_person``), the author may not publish it."""
    if second_person and created_by == publisher:
        return "本辖区规则要求由撰稿人以外的另一名工作人员审核发布"
    return None


def link_refusal(kind: str, target: str) -> str | None:
    """A commendation links subjects (e.g. the A-grade units of a year) or records; a typical case
    links the public penalty records it is about."""
    if target not in ("record", "subject"):
        return "未知的关联类型"
    if kind == TYPICAL_CASE and target != "record":
        return "失信典型案例须关联公开的处罚等信用信息"
    return None
