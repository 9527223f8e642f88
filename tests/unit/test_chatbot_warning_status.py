"""Who is warned or complained about is never public (淮安 三（二）; services.warnings): the
chatbot recognises the question, answers it the same way for every facility, before any lookup,
and cites only an own article that says so. The rules of warnings stay a policy question."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from portal.chatbot import Chatbot, Context, Env
from portal.chatbot.articles import load_regulations
from portal.chatbot.normalise import normalise
from portal.chatbot.warning_status import asks_warning_status, own_refs
from portal.domain.workdays import WorkCalendar
from portal.profiles import load_profile

PROFILES = ("hunan", "hunan-mi", "hainan", "guangdong", "jiangsu")


class Lookups:
    """A facility source that records every lookup: a warning question must make none."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def search(self, text: str, limit: int = 10) -> list[dict]:
        self.calls.append(text)
        return [{"id": "F1", "name": text, "grade": "", "codes": []}]

    def details(self, public_id: str) -> dict | None:
        self.calls.append(public_id)
        return None


@pytest.mark.parametrize(("q", "name"), [
    ("哪些医院正在被预警", ""), ("哪些医院被预警了", ""), ("被预警的机构有哪些", ""), ("预警名单在哪看", ""),
    ("哪几家诊所上了预警名单", ""), ("长沙市第一人民医院有没有被预警", "长沙市第一人民医院"),
    ("请问湘雅医院被预警了吗", "湘雅医院"), ("金星口腔诊所是不是在预警", "金星口腔诊所"),
    ("金星口腔诊所被投诉过吗", "金星口腔诊所"), ("哪家医院被投诉最多", ""), ("它有没有被预警", ""),
])
def test_warning_status_questions(q, name):
    assert asks_warning_status(normalise(q)) == (True, name)


@pytest.mark.parametrize("q", [
    "信用预警是什么", "什么情况会被预警", "哪些情况会被预警", "信用预警会通知本人吗", "被预警了怎么办",
    "我要投诉金星口腔诊所", "长沙市第一人民医院是什么等级", "预警街口腔诊所有没有处罚", "信用修复要多久",
])
def test_not_warning_status_questions(q):
    assert asks_warning_status(normalise(q))[0] is False


@pytest.mark.parametrize("profile_id", PROFILES)
def test_same_answer_for_every_facility_no_lookup_no_borrowed_citation(profile_id):
    bot = Chatbot(load_profile(profile_id))
    source = Lookups()
    env = Env(today=date(2026, 11, 20), calendar=WorkCalendar(), facilities=source)
    texts, links = set(), set()
    for name in ("甲乙医院", "丙丁口腔诊所", "戊己大药房"):
        answer, ctx = bot.answer(f"{name}有没有被预警", Context(), env)
        assert answer.intent == "refusal" and answer.citations == [] and not ctx.facility_id
        texts.add(answer.text.replace(name, "〇"))
        links.add(tuple(link.label for link in answer.links))
        assert "不在本平台公开" in answer.text and "严重失信主体名单" in answer.text
    assert len(texts) == 1 and len(links) == 1
    assert source.calls == []
    # after a facility question, "它" is that facility: still nothing confirmed, nothing looked up
    answer, ctx = bot.answer("甲乙医院是什么等级", Context(), env)
    source.calls.clear()
    followup, _ = bot.answer("它有没有被预警", ctx, env)
    assert followup.text.replace(ctx.facility_name, "〇") in texts and source.calls == []


def test_an_own_article_that_says_so_is_cited():
    """Cited only where the profile's own document says warnings are not published: jiangsu's
    淮安 三（二） does not today (no citation); were its text to say so, it would be cited."""
    profile = load_profile("jiangsu")
    regs = load_regulations()
    assert own_refs(profile, regs) == []
    units = regs.articles["jiangsu"]
    said = [replace(u, text=u.text + "预警信息仅供监管使用，不向社会公开。") if u.label == "三（二）" else u
            for u in units]
    regs.articles["jiangsu"] = said
    assert [r.label for r in own_refs(profile, regs)] == ["三（二）"]
    assert own_refs(load_profile("hunan"), regs) == []  # another province's article: never
