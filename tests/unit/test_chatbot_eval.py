"""The chatbot's evaluation set: intent and cited article for 100+ questions (paraphrases,
colloquial wording, typos, traditional characters, follow-ups, hostile messages). Fails below
95 % and prints the figure. A case may name its ``profile`` (default hunan). Also spot-checks
that another profile's numbers come through."""
from __future__ import annotations

import tomllib
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from portal.chatbot import Chatbot, Context, Env
from portal.chatbot.deadline import plan
from portal.domain.workdays import WorkCalendar, add_workdays
from portal.profiles import load_profile

EVAL = Path(__file__).resolve().parents[1] / "data" / "chatbot_eval.toml"
TODAY = date(2026, 11, 20)
THRESHOLD = 0.95


class FakeFacilities:
    """Stands in for portal.services.search.search_public: substring match on the documents' names and
    codes, as the CJK-bigram phrase query does."""

    def __init__(self, docs: list[dict]) -> None:
        self.docs = docs

    def search(self, text: str, limit: int = 10) -> list[dict]:
        return [d for d in self.docs if text in d["name"] or text in d.get("codes", ())][:limit]

    def details(self, public_id: str) -> dict | None:
        return None


def load_eval() -> tuple[list[dict], list[dict]]:
    data = tomllib.loads(EVAL.read_text(encoding="utf-8"))
    return data["case"], data["facility"]


def cites(answer, wanted: list[str]) -> bool:
    return not wanted or any(w == c.article or w in c.doc for c in answer.citations for w in wanted)


def run_case(bot: Chatbot, env: Env, case: dict):
    ctx = Context()
    for q in case.get("before", ()):
        _, ctx = bot.answer(q, ctx, env)
    answer, _ = bot.answer(case["q"], ctx, env)
    ok = answer.intent == case["intent"] and cites(answer, case.get("article", []))
    return ok, answer


@pytest.fixture(scope="module")
def hunan_bot():
    return Chatbot(load_profile("hunan"))


def test_eval_set_is_big_and_varied():
    cases, _ = load_eval()
    assert len(cases) >= 80
    styles = Counter(c["style"] for c in cases)
    for style in ("paraphrase", "colloquial", "typo", "traditional", "followup", "hostile"):
        assert styles[style] >= 2, style
    assert {c["intent"] for c in cases} == {"policy", "objection", "repair", "fee", "deadline", "facility", "grade",
                                             "refusal", "handoff", "greeting", "out_of_scope", "foreign_language"}


def test_eval_accuracy(hunan_bot, capsys):
    cases, facilities = load_eval()
    env = Env(today=TODAY, calendar=WorkCalendar(), facilities=FakeFacilities(facilities))
    bots = {"hunan": hunan_bot}
    failures = []
    by_intent: Counter = Counter()
    right: Counter = Counter()
    for case in cases:
        profile_id = case.get("profile", "hunan")
        bot = bots.get(profile_id) or bots.setdefault(profile_id, Chatbot(load_profile(profile_id)))
        ok, answer = run_case(bot, env, case)
        by_intent[case["intent"]] += 1
        if ok:
            right[case["intent"]] += 1
        else:
            failures.append(f"  {case['q']!r}: expected {case['intent']} {case.get('article', [])}, got "
                            f"{answer.intent} {[c.article or c.doc for c in answer.citations]}")
    accuracy = sum(right.values()) / len(cases)
    with capsys.disabled():
        print(f"\nchatbot evaluation ({', '.join(sorted(bots))}): {sum(right.values())}/{len(cases)} = {accuracy:.1%}")
        print("  " + ", ".join(f"{k} {right[k]}/{n}" for k, n in sorted(by_intent.items())))
        if failures:
            print("misses:\n" + "\n".join(failures))
    assert accuracy >= THRESHOLD, f"accuracy {accuracy:.1%} below {THRESHOLD:.0%}"


def test_no_answer_contradicts_the_profile_numbers(hunan_bot):
    """The objection limit quoted is the profile's own, not another jurisdiction's."""
    env = Env(today=TODAY, calendar=WorkCalendar(), facilities=FakeFacilities([]))
    answer, _ = hunan_bot.answer("异议多久处理完", Context(), env)
    step = load_profile("hunan").objection.start
    assert f"{step.workdays}个工作日内" in answer.text
    assert "7个工作日" not in answer.text


def test_hainan_numbers_differ_correctly():
    """Same questions, Hainan profile: its multi-step objection procedure (第三十八–四十条),
    its serious-list 15 days (第十五条), its repair refusals (第四十三条)."""
    profile = load_profile("hainan")
    bot = Chatbot(profile)
    env = Env(today=TODAY, calendar=WorkCalendar(), facilities=FakeFacilities([]))
    answer, _ = bot.answer("异议多久处理完", Context(), env)
    assert answer.intent == "objection"
    labels = {c.article for c in answer.citations}
    assert {"第三十八条", "第四十条"} <= labels
    assert "7个工作日" in answer.text and "2个工作日" in answer.text
    assert all("湖南" not in c.doc for c in answer.citations)

    answer, _ = bot.answer("我3月2日交的异议什么时候出结果", Context(), env)
    cal = WorkCalendar()
    expected = plan(profile, "objection", date(2026, 3, 2), cal)
    # forward 2 → accept 3 → investigate 7 → review 2 working days, each from the last
    d = date(2026, 3, 2)
    for n in (2, 3, 7, 2):
        d = add_workdays(d, n, cal)
    assert expected.final == d
    assert f"{d.year}年{d.month}月{d.day}日" in answer.text

    answer, _ = bot.answer("对列入严重失信名单有异议，多久答复", Context(), env)
    assert "15日" in answer.text and any(c.article == "第十五条" for c in answer.citations)

    answer, _ = bot.answer("哪些情况不能修复", Context(), env)
    assert any(c.article == "第四十三条" for c in answer.citations)


@pytest.mark.parametrize("profile_id", ["hunan", "hunan-mi", "hainan", "guangdong", "jiangsu"])
def test_every_profile_answers_the_core_questions(profile_id):
    bot = Chatbot(load_profile(profile_id))
    env = Env(today=TODAY, calendar=WorkCalendar(), facilities=FakeFacilities([]))
    for q, intent in (("异议怎么提", "objection"), ("信用修复要多久", "repair"), ("修复收费吗", "fee"),
                      ("信用等级分几级", "grade"), ("我3月2日交的异议什么时候出结果", "deadline")):
        answer, _ = bot.answer(q, Context(), env)
        assert answer.intent == intent, (profile_id, q)
        assert answer.citations, (profile_id, q)
        assert all(c.url or c.doc_id is None for c in answer.citations)
