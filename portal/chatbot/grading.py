"""The grading cycle in the chatbot's words: preliminary result (初评), the objection window against
it, the formal result — written from the active profile (``grading.generate_on / publish_by /
objection_workdays`` and their articles) and, at answer time, the dates of the current cycle
computed with the same pure functions as the cycle itself (``portal.domain.grading_cycle``).

The chatbot never sees a subject's preliminary result: it is not in the public search document
(only ``grades``, the formal results, are). These answers speak of the procedure only.
"""
from __future__ import annotations

from datetime import date

from ..domain import grading_cycle as rules
from ..domain.workdays import WorkCalendar
from ..profiles.model import Profile
from .deadline import fmt
from .types import Passage

DEFAULT_MARK = "※"  # as kb.DEFAULT_MARK (kb imports this module)
PROVISIONAL = "（该期间所在年度的节假日安排尚未最终确认，日期为暂定）"


def _md(text: str) -> str:
    m, d = text.split("-")
    return f"{int(m)}月{int(d)}日"


def _mark(p: Profile, key: str) -> str:
    return DEFAULT_MARK if p.grading.is_default(key) else ""


def _window(p: Profile) -> str:
    return f"自初评结果生成之日起{p.grading.objection_workdays}个工作日内{_mark(p, 'objection_workdays')}"


def preliminary_text(p: Profile) -> str:
    g = p.grading
    if g.period == rules.ROLLING:
        head = ("信用评价实行动态考评：信用信息的变化使评价结果改变时，系统生成新的初评结果，"
                "信用主体实名登录后可以查看自己的初评结果及其依据。")
        tail = "对初评结果无异议或异议处理完毕后，形成正式评价结果。"
    else:
        head = "信用评价每年进行一次，先生成初评结果："
        head += (f"每年{_md(g.generate_on)}{_mark(p, 'generate_on')}生成上一年度的初评结果，" if g.generate_on
                 else "每年定期生成上一年度的初评结果，")
        head += "信用主体实名登录后可以查看自己的初评结果及其依据。"
        tail = "对初评结果无异议或异议处理完毕后，形成正式评价结果"
        tail += f"，于{_md(g.publish_by)}{_mark(p, 'publish_by')}前公布。" if g.publish_by else "并公布。"
    return (f"{head}{_window(p)}可以对初评结果提出异议。{tail}\n"
            "初评结果不对外公示：公示页面、信用查询、二维码和本问答只显示正式结果。")


def objection_text(p: Profile) -> str:
    return (f"对信用评价的初评结果有异议的，请在异议期内（{_window(p)}）实名登录本平台，在自己的信用页面"
            "对该初评结果提出异议并说明理由。异议由作出评价的部门处理：异议成立的，依据更正后的信用信息重新评价；"
            "不成立的，维持初评结果。处理完毕后形成正式结果。\n"
            "异议期届满未提出异议的，初评结果即成为正式结果，不能再对初评提出异议；如认为评价所依据的某条信用信息"
            "有误，可以对该信用信息本身提出异议。")


def cycle_articles(p: Profile) -> tuple[str, ...]:
    g = p.grading
    return tuple(dict.fromkeys(a for a in (g.article, g.article_for("objection_workdays"),
                                           g.article_for("generate_on"), g.article_for("publish_by")) if a))


def passages(p: Profile, refs_for, with_note) -> list[Passage]:
    """Two rule passages, cited with the active profile's own articles (``refs_for`` and
    ``with_note`` are the knowledge base's: citations and the editable-default note)."""
    cycle = cycle_articles(p)
    questions_pre = ("什么是初评", "初评结果是什么", "初评和正式结果有什么区别", "初评结果会公示吗")
    questions_obj = ("对评级结果有异议怎么办", "对信用等级不服", "初评结果不对怎么申诉", "评价结果有异议")
    return [
        Passage(id="rule:grade.preliminary", kind="rule", topic="grade", title="信用评价的初评、异议期和正式结果",
                text=with_note(preliminary_text(p)), refs=refs_for(*cycle), links=("login",),
                aspect="preliminary", questions=questions_pre),
        Passage(id="rule:grade.objection", kind="rule", topic="grade", title="对信用评价结果（初评）有异议怎么办",
                text=with_note(objection_text(p)), refs=refs_for(*cycle, p.objection.article),
                links=("login",), aspect="objection", questions=questions_obj),
    ]


def schedule_lead(p: Profile, today: date, calendar: WorkCalendar) -> str:
    """This cycle's dates, computed as the cycle computes them: the yearly cycle still ahead or
    running today (its generation day, the last day to object, the publication date), or for a
    rolling profile the window of a result generated today."""
    g = p.grading
    n = g.objection_workdays
    if g.period == rules.ROLLING:
        until = rules.objection_until(today, p, calendar)
        text = (f"动态考评没有固定的评定日期。例如今天（{fmt(today)}）生成的初评结果，异议期为{n}个工作日，"
                f"最迟{fmt(until)}提出异议")
        return text + (PROVISIONAL if calendar.provisional(today, until) else "") + "。"
    sched = rules.yearly_schedule(p, today.year - 1, calendar)
    end = sched.publish_by or sched.objection_until
    if today > end:
        sched = rules.yearly_schedule(p, today.year, calendar)
    verb = "已于" if today >= sched.generate_on else "将于"
    text = (f"{sched.year}年度的信用评价初评结果{verb}{fmt(sched.generate_on)}生成；异议期{n}个工作日，"
            f"最迟{fmt(sched.objection_until)}提出异议")
    if sched.publish_by is not None:
        text += f"；正式结果{fmt(sched.publish_by)}前公布"
    return text + (PROVISIONAL if sched.provisional else "") + "。"


def window_answer(p: Profile, generated_on: date, calendar: WorkCalendar) -> str:
    """"我1月20日收到初评结果，异议期到哪天": the window of a result generated that day."""
    until = rules.objection_until(generated_on, p, calendar)
    text = (f"{fmt(generated_on)}生成的信用评价初评结果，异议期为{p.grading.objection_workdays}个工作日"
            f"{_mark(p, 'objection_workdays')}（生成当日不计入，节假日不计入），最迟{fmt(until)}提出异议")
    text += (PROVISIONAL if calendar.provisional(generated_on, until) else "") + "。"
    return text + "异议期届满未提出异议的，初评结果即成为正式结果。"

