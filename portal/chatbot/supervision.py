"""Rule passages of the supervision workflows (issue 16), written from the active profile like
the others in ``kb``: the serious-dishonesty list procedure (告知、陈述申辩、听证 where the profile
allows it, the deadlines, exit and repair), the red list, commitments (types, 践诺, 违诺 and its
consequences: 海南 第十一条), self-declaration and early warning. Only rules: the chatbot never
looks at a proposal, a warning or a declaration of anyone (those are not public)."""
from __future__ import annotations

import re

from ..profiles import Profile
from ..profiles.supervision import COMMITMENT_TYPES, DECLARATION_KINDS

DEFAULT_MARK = "※"
WARNING_TEXT = {
    "licence_expiring": "执业许可证将在{licence_days}日内到期",
    "second_general": "{second_general_months}个月内第二次出现一般失信信息",
    "grade_drop": "信用等级下降{grade_drop_levels}级及以上",
    "complaints": "{complaints_months}个月内收到投诉{complaints_count}件及以上",
}
#: 海南 第十一条: what a false or broken commitment costs.
BROKEN_ARTICLE = "海南 第十一条"


def _m(obj, key: str) -> str:
    return DEFAULT_MARK if obj.is_default(key) else ""


def supervision_rules(p: Profile, rules) -> None:
    """Adds ``lists.serious``, ``lists.red``, ``commitment.types``, ``commitment.broken``,
    ``commitment.declaration`` and ``warning.rules`` where the profile has the section."""
    add = rules.add
    note = "\n（标“※”的数值文件未作具体规定，是本平台执行的默认标准，由主管部门确定和调整。）"
    if (r := p.lists) is not None:
        hearing = (f"当事人可以在期限内书面或在线陈述、申辩，必要时可以申请听证（{r.article_for('hearing')}）。"
                   if r.hearing else "当事人可以在期限内书面或在线陈述、申辩（本辖区规定未设听证程序）。")
        escalate = (f"\n另外：{r.escalate_months}个月内累计发生{r.escalate_count}次及以上同类一般失信行为的，"
                    f"可以升级为严重失信，按本程序提出列入建议{_m(r, 'escalate_count')}。" if r.escalate_count else "")
        text = ("列入严重失信主体名单的程序：\n"
                f"1. 事先告知：认定部门提出列入建议后{r.notice_workdays}个工作日内{_m(r, 'notice_workdays')}，"
                "书面告知当事人拟列入的事由、依据和依法享有的权利。\n"
                f"2. 陈述申辩：告知后{r.defence_workdays}个工作日内{_m(r, 'defence_workdays')}。{hearing}"
                "期限届满前（已陈述申辩的除外）不作决定。\n"
                f"3. 认定决定：申辩期满后{r.decide_workdays}个工作日内{_m(r, 'decide_workdays')}作出决定，"
                "决定书载明事由、依据、失信惩戒措施提示、移出条件和程序以及救济措施。\n"
                f"4. 公开与报送：决定后{r.publish_workdays}个工作日内{_m(r, 'publish_workdays')}在本平台公开，"
                f"{r.report_workdays}个工作日内{_m(r, 'report_workdays')}报送上级部门。\n"
                f"5. 移出：列入期限{r.listing_months}个月{_m(r, 'listing_months')}，期满自动移出；"
                "期限内完成信用修复的，提前移出。\n"
                "当事人对认定决定有异议的，可以依法提出异议，或申请行政复议、提起行政诉讼。" + escalate)
        add("lists.serious", "lists", "列入严重失信主体名单的程序和期限", text + (note if DEFAULT_MARK in text else ""),
            (r.article, r.article_for("hearing"), r.article_for("report_workdays")), ("login",), "serious")
        text = ("守信红名单：\n"
                f"1. 条件：最近一次正式信用等级为{r.red_min_grade}级{_m(r, 'red_min_grade')}，且近{r.red_clean_months}个月"
                f"{_m(r, 'red_clean_months')}没有失信信息的机构。\n"
                f"2. 程序：认定部门提出建议 → 在本平台“守信红名单拟列入公示”公示不少于{r.red_notice_workdays}个工作日"
                f"{_m(r, 'red_notice_workdays')}（公示期内可以反映意见）→ 作出决定 → 公开。\n"
                f"3. 期限与移出：列入{r.red_listing_months}个月{_m(r, 'red_listing_months')}；期间新增失信信息的，"
                "立即移出。")
        add("lists.red", "lists", "守信红名单的条件和程序", text + (note if DEFAULT_MARK in text else ""),
            (r.article,), (), "red")
    if (c := p.commitments) is not None:
        types = "、".join(COMMITMENT_TYPES[t] for t in c.types)
        text = (f"信用承诺分为{len(c.types)}类：{types}。\n"
                "机构可以在实名登录后在线签署《信用承诺书》（电子签名），也可以提交纸质承诺书由工作人员登记；"
                f"未写明期限的，承诺期为{c.term_months}个月{_m(c, 'term_months')}。"
                "承诺内容和践诺情况在本平台公开，践诺情况纳入日常监管。")
        add("commitment.types", "commitment", "信用承诺有哪些类型、怎样签署", text + (note if DEFAULT_MARK in text else ""),
            (c.article,), ("login",), "types")
        add("commitment.broken", "commitment", "违反信用承诺（违诺）的后果",
            "承诺期内发生失信行为的，该承诺记为“违诺”，并在公开的承诺信息中注明践诺情况。\n"
            "有严重失信行为或曾作出虚假承诺的，不再适用审批替代型信用承诺制和证明事项告知型信用承诺制"
            "（即不能再以承诺代替审批或证明材料）。",
            (c.article, BROKEN_ARTICLE), (), "broken")
        if c.declaration_kinds:
            kinds = "、".join(DECLARATION_KINDS[k] for k in c.declaration_kinds)
            add("commitment.declaration", "commitment", "自主申报信用信息",
                f"信用主体可以在实名登录后自愿申报{kinds}等信用信息，并对真实性作出信用承诺。"
                "申报的信息经工作人员核实后才公开，并标注“自主申报”；未予采信的，会告知理由。",
                (c.article,), ("login",), "declaration")
    if (w := p.warnings) is not None:
        values = {k: getattr(w, k) for k in ("licence_days", "second_general_months", "grade_drop_levels",
                                             "complaints_count", "complaints_months")}
        lines = "\n".join(f"- {WARNING_TEXT[rule].format(**values)}{_m(w, rule)}" for rule in w.rules)
        told = "、".join(WARNING_TEXT[rule].format(**values) for rule in w.to_subject)
        text = (f"信用预警每日自动评估，出现下列情形之一的，向负责的工作人员发出预警：\n{lines}\n"
                + (f"其中“{told}”的预警同时通知信用主体本人（站内通知，并按本人选择的方式发送邮件或短信）。"
                   if told else "预警只发给工作人员。")
                + "\n预警不是处罚，也不在本平台公开；工作人员处理后须写明处理情况方可关闭。")
        add("warning.rules", "warning", "信用预警是什么、什么情况会预警", text + (note if DEFAULT_MARK in text else ""),
            (w.article,), (), "rules")


def pick(topic: str, text: str) -> str:
    """The rule passage a supervision question asks for ("" : none, e.g. where to look the lists
    up, which the FAQ answers)."""
    if topic == "lists" and re.search(r"在哪|哪里|哪儿|怎么查|如何查|查看|查询|网址|页面", text):
        return ""
    if topic == "lists":
        return "lists.red" if re.search(r"红名单|守信名单|守信红", text) else "lists.serious"
    if topic == "commitment":
        if re.search(r"自主申报|申报", text):
            return "commitment.declaration"
        if re.search(r"违诺|违反|违背|没做到|做不到|不履行|虚假|后果|会怎样|怎么办|处罚", text):
            return "commitment.broken"
        return "commitment.types"
    return "warning.rules"
