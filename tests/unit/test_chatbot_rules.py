"""The chatbot follows the same rules as the workflows (issue #11 §4).

- Every citation names the ACTIVE jurisdiction's own regulation (or a national notice): a hunan
  deployment never cites 海南, whatever the profile borrows as a default.
- The effects of a repair (publication stops, list exit, regrade, sanctions end) are the profile's
  own effects, each with its own article; one the regulation does not state is said to be open.
- What grades are used for (分级分类监管, 抽查比例, 评先评优, 行政许可 …) comes with its article; the
  ratios quoted are the profile's.
- A question that is not about a facility is never answered with a facility's record, even with
  a facility in the conversation.
"""
from __future__ import annotations

import pytest

from portal.chatbot import Chatbot, Context, Env
from portal.chatbot.applications import effect_kind, load_applications, own_documents
from portal.chatbot.kb import refs_for
from portal.domain.workdays import WorkCalendar
from portal.profiles import load_profile

from .test_chatbot_eval import TODAY, FakeFacilities, load_eval

PROFILES = ["hunan", "hunan-mi", "hainan", "guangdong", "jiangsu"]
FACILITY = {"id": "f-first", "name": "长沙市第一人民医院", "category_label": "医院", "region_name": "开福区",
            "grade": "B", "grade_year": 2025, "record_types": ["penalty"], "titles": ["未按规定报告传染病疫情"]}


def _env(docs=()) -> Env:
    return Env(today=TODAY, calendar=WorkCalendar(), facilities=FakeFacilities(list(docs)))


@pytest.fixture(scope="module", params=PROFILES)
def bot(request):
    return Chatbot(load_profile(request.param))


def test_every_citation_is_the_active_jurisdictions_own(bot):
    """All eval questions, asked of every profile: no citation points into another
    jurisdiction's document (national notices have no doc_id and are fine)."""
    cases, facilities = load_eval()
    env = _env(facilities)
    own = own_documents(bot.profile, bot.kb.regulations)
    others = {d.short for d in bot.kb.regulations.documents.values() if d.id not in own}
    for case in cases:
        ctx = Context()
        for q in case.get("before", ()):
            _, ctx = bot.answer(q, ctx, env)
        answer, _ = bot.answer(case["q"], ctx, env)
        for c in answer.citations:
            assert c.doc_id is None or c.doc_id in own, (bot.profile.id, case["q"], c.label)
        if bot.profile.id == "hunan":
            assert all("海南" not in c.doc for c in answer.citations), case["q"]
        assert not any(f"（{short} 第" in answer.text for short in others), (bot.profile.id, case["q"])


def test_fee_answer_on_hunan_does_not_borrow_hainan():
    """湖南 says nothing on fees; its profile once cited 海南 第四十一条. The answer cites only the
    own document (its repair articles, whose conditions and procedure have no fee) and says that
    the document is silent on fees and not charging is the platform's practice (profile default)."""
    bot = Chatbot(load_profile("hunan"))
    answer, _ = bot.answer("信用修复收费吗", Context(), _env())
    assert answer.intent == "fee"
    assert {c.doc_id for c in answer.citations} == {"hunan"}
    assert {c.article for c in answer.citations} == {"第二十九条", "第三十条"}
    assert "未对信用修复收费作出具体规定" in answer.text
    hainan, _ = Chatbot(load_profile("hainan")).answer("信用修复收费吗", Context(), _env())
    assert any(c.doc_id == "hainan" and c.article == "第四十一条" for c in hainan.citations)


EFFECT_QUESTIONS = {
    "publication_stops": "信用修复后还会公示吗",
    "list_exit": "修复以后能移出失信名单吗",
    "regrade": "修复后信用等级会调整吗",
    "sanctions_end": "修复了以后还会被惩戒吗",
}


@pytest.mark.parametrize("kind", sorted(EFFECT_QUESTIONS))
def test_repair_effects_come_from_the_profile_with_own_articles(bot, kind):
    p = bot.profile
    answer, _ = bot.answer(EFFECT_QUESTIONS[kind], Context(), _env())
    assert answer.intent == "repair"
    for effect in p.repair.effects:  # every effect of the profile, none invented
        assert effect in answer.text
    effects = [e for e in p.repair.effects if effect_kind(e) == kind]
    data = {e["kind"]: e["article"] for e in load_applications().get(p.id, {}).get("repair_effect", [])}
    first = answer.text.splitlines()[0]
    if not effects:
        # the regulation and the profile do not say it: say so, do not guess
        assert first.startswith(p.document_short) and "没有规定" in first
    else:
        assert first.startswith("会。") and effects[0] in first
        if kind in data:
            labels = {r.label for r in refs_for(bot.kb.regulations, data[kind])}
            assert labels and labels <= {c.article for c in answer.citations}, (p.id, kind)
        else:
            assert "未作具体规定" in first


def test_hunan_effects_cite_each_item_of_article_31():
    bot = Chatbot(load_profile("hunan"))
    text = bot.kb.rule("repair.effects").text
    for item in ("（一）", "（二）", "（三）", "（四）"):
        assert f"湖南 第三十一条{item}" in text


USE_QUESTIONS = {
    "licensing": "信用等级和行政许可有关系吗",
    "inspection": "信用等级会影响抽查比例吗",
    "honours": "评先评优看信用等级吗",
    "supervision": "什么是分级分类监管",
    "general": "信用等级有什么用",
}


@pytest.mark.parametrize("kind", sorted(USE_QUESTIONS))
def test_grade_uses_cite_the_own_article_or_say_it_is_open(bot, kind):
    p = bot.profile
    answer, _ = bot.answer(USE_QUESTIONS[kind], Context(), _env())
    assert answer.intent == "grade"
    uses = {u["kind"]: u for u in load_applications()[p.id]["grade_use"]}
    assert answer.citations and all(c.doc_id in own_documents(p, bot.kb.regulations) for c in answer.citations)
    if kind in uses:
        assert uses[kind]["text"] in answer.text
        wanted = {r.label for r in refs_for(bot.kb.regulations, uses[kind]["article"])}
        assert wanted and wanted <= {c.article for c in answer.citations}
    else:
        assert "没有规定" in answer.text and "不作推断" in answer.text
    if kind == "inspection" and kind in uses:
        for r in p.inspection.ratios:  # the profile's own numbers, not a copy
            assert f"{r.grade}级{r.percent}%" in answer.text


def test_a_grade_named_brings_the_measures_for_that_grade():
    bot = Chatbot(load_profile("hunan"))
    a, _ = bot.answer("评为A级有什么好处", Context(), _env())
    d, _ = bot.answer("D级会怎么样", Context(), _env())
    assert "第二十条" in {c.article for c in a.citations} and "A级" in a.text
    assert "第二十一条" in {c.article for c in d.citations} and "D级" in d.text
    assert "第十九条" not in {c.article for c in a.citations} | {c.article for c in d.citations}  # not the overview


POLICY_FOLLOW_UPS = ["修复后还公示吗", "评先评优看等级吗", "其他等级有什么区别", "信用等级有什么用", "A级有什么好处",
                     "分级分类监管是啥", "修复以后会移出名单吗", "D级会被多检查吗", "其中严重失信怎么修复"]


@pytest.mark.parametrize("question", POLICY_FOLLOW_UPS)
def test_policy_questions_are_not_answered_with_the_facility_in_the_conversation(question):
    bot = Chatbot(load_profile("hunan"))
    env = _env([FACILITY])
    first, ctx = bot.answer("长沙市第一人民医院有处罚吗", Context(), env)
    assert first.intent == "facility" and ctx.facility_id == "f-first"  # the facility is remembered
    answer, _ = bot.answer(question, ctx, env)
    assert answer.intent != "facility"
    assert FACILITY["name"] not in answer.text and "未按规定报告传染病疫情" not in answer.text
    # a real follow-up about the facility still works
    again, _ = bot.answer("那它的等级呢", ctx, env)
    assert again.intent == "facility" and FACILITY["name"] in again.text


def test_policy_words_are_never_guessed_as_a_facility_name():
    """The residual-name guess (for "湘雅是什么等级") is not made from policy words: a search
    that happened to match "评先评优" or "行政许可" must not turn into a facility answer."""
    bot = Chatbot(load_profile("hunan"))
    trap = {**FACILITY, "id": "f-trap", "name": "行政许可评先评优分级分类监管信用等级诊所"}
    env = _env([trap])
    for q in ("评先评优看信用等级吗", "行政许可和信用等级有关系吗", "分级分类监管是什么意思"):
        answer, _ = bot.answer(q, Context(), env)
        assert answer.intent == "grade", q
        assert trap["name"] not in answer.text


def test_a_facility_answer_states_only_stored_facts():
    """No grade in the public document: the answer says none is published (not "not graded", not a
    guess); a grade letter the profile does not know is shown without an invented meaning."""
    bot = Chatbot(load_profile("hunan"))
    ungraded = {**FACILITY, "grade": "", "grade_year": None}
    answer, _ = bot.answer("长沙市第一人民医院是什么等级", Context(), _env([ungraded]))
    assert "暂无公示的评定结果" in answer.text and "级（" not in answer.text
    odd = {**FACILITY, "grade": "E"}  # hunan has A–D only
    answer, _ = bot.answer("长沙市第一人民医院是什么等级", Context(), _env([odd]))
    line = next(x for x in answer.text.splitlines() if x.startswith("信用等级"))
    assert line == "信用等级：E级，2025年度评定。"
