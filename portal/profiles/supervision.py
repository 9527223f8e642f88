"""Profile sections of the supervision workflows (issue 16): list procedures (``[lists]``), early
warning (``[warnings]``) and commitments / self-declaration (``[commitments]``).

Kept beside ``model``/``loader`` so that those two files only gain a field and a call each. Every
section is optional in a custom profile; the five shipped profiles have all three, with the
article behind each number and the numbers the documents leave open marked ``default``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .model import Cited

if TYPE_CHECKING:  # pragma: no cover
    from .loader import _Table

#: Early-warning rules the portal can evaluate (淮安 三（二）).
WARNING_RULES = ("licence_expiring", "second_general", "grade_drop", "complaints")
#: 海南 第十条: the six commitment types, by stable code.
COMMITMENT_TYPES = {
    "licensing": "涉企许可事项告知承诺",
    "certification": "证明事项告知承诺",
    "disclosure": "主动公示承诺",
    "tolerance": "审批容缺受理承诺",
    "self_discipline": "行业自律承诺",
    "repair": "信用修复承诺",
}
#: 淮安 三（六）: what a subject may declare itself.
DECLARATION_KINDS = {
    "licence": "资质证照",
    "operation": "市场经营",
    "contract": "合同履行",
    "public_interest": "社会公益",
}


@dataclass(frozen=True, kw_only=True)
class ListRules(Cited):
    """Serious-dishonesty list (湖南 第十五条; 海南 第十五、十六、十八条; 湖南医保 第十八条) and red list
    (淮安 三（一）; 海南 第三十三、四十七条). Limits in working days."""

    notice_workdays: int  # the prior notice (告知) is sent within this after the proposal
    defence_workdays: int  # the subject may state a defence / ask for a hearing within this
    hearing: bool  # 湖南医保 第十八条: 必要时可以组织听证
    decide_workdays: int  # the decision is made within this after the defence window closes
    publish_workdays: int  # the decision is published within this after it is made
    report_workdays: int  # reported to the province within this after the decision (湖南医保 第十八条: 5)
    listing_months: int  # how long an entry stays on the serious list unless repaired earlier
    red_min_grade: str  # 红名单: latest formal grade at least this letter
    red_clean_months: int  # 红名单: no dishonesty record within this many months
    red_notice_workdays: int  # 红名单: the proposal's public notice lasts at least this long
    red_listing_months: int
    escalate_count: int = 0  # 海南 第十四条: this many 一般失信 records …; 0: no escalation
    escalate_months: int = 12  # … within this many months propose the serious list
    notice_second_person: bool = False  # 表彰/典型案例公示 (阳山 四（五）): published by someone other than its author


@dataclass(frozen=True, kw_only=True)
class WarningRules(Cited):
    """Early warning (淮安 三（二）: 对失信情况严重的，及时提出预警报告)."""

    rules: tuple[str, ...]
    licence_days: int = 30
    second_general_months: int = 12
    grade_drop_levels: int = 2
    complaints_count: int = 3
    complaints_months: int = 12
    to_subject: tuple[str, ...] = ()  # rules whose warning the subject sees too (/me)


@dataclass(frozen=True, kw_only=True)
class CommitmentRules(Cited):
    """Commitments (海南 第九–十一条; 阳山 四（一）) and self-declaration (淮安 三（六））."""

    types: tuple[str, ...]
    term_months: int  # a commitment's term when the subject gives none
    declaration_kinds: tuple[str, ...] = ()


def build_lists(t: _Table | None, letters: list[str]) -> ListRules | None:
    if t is None:
        return None
    values = {name: t.int(name, minimum=0) for name in (
        "notice_workdays", "defence_workdays", "decide_workdays", "publish_workdays", "report_workdays")}
    rules = ListRules(
        **values, hearing=t.bool("hearing"),
        listing_months=t.int("listing_months", minimum=12, maximum=36),
        red_min_grade=t.str("red_min_grade", choices=tuple(letters)),
        red_clean_months=t.int("red_clean_months", minimum=1),
        red_notice_workdays=t.int("red_notice_workdays", minimum=1),
        red_listing_months=t.int("red_listing_months", minimum=1),
        escalate_count=t.int("escalate_count", required=False, default=0, minimum=0),
        escalate_months=t.int("escalate_months", required=False, default=12, minimum=1),
        notice_second_person=t.bool("notice_second_person", required=False, default=False),
        **t.cited())
    if rules.escalate_count == 1:
        t.fail("escalate_count", "escalation needs at least 2 records (多次: more than once)", "升级至少需要2次")
    t.done()
    return rules


def build_warnings(t: _Table | None) -> WarningRules | None:
    if t is None:
        return None
    rules = t.str_list("rules", choices=WARNING_RULES)
    w = WarningRules(rules=rules, licence_days=t.int("licence_days", required=False, default=30, minimum=1),
                     second_general_months=t.int("second_general_months", required=False, default=12, minimum=1),
                     grade_drop_levels=t.int("grade_drop_levels", required=False, default=2, minimum=1),
                     complaints_count=t.int("complaints_count", required=False, default=3, minimum=1),
                     complaints_months=t.int("complaints_months", required=False, default=12, minimum=1),
                     to_subject=t.str_list("to_subject", required=False, choices=WARNING_RULES),
                     **t.cited())
    if set(w.to_subject) - set(rules):
        t.fail("to_subject", "names a rule that is not in rules", "通知主体的规则须在 rules 中")
    t.done()
    return w


def build_commitments(t: _Table | None) -> CommitmentRules | None:
    if t is None:
        return None
    c = CommitmentRules(types=t.str_list("types", choices=tuple(COMMITMENT_TYPES)),
                        term_months=t.int("term_months", minimum=1, maximum=120),
                        declaration_kinds=t.str_list("declaration_kinds", required=False,
                                                     choices=tuple(DECLARATION_KINDS)),
                        **t.cited())
    t.done()
    return c
