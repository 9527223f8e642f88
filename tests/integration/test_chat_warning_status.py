"""Canary: the chatbot never confirms or denies that a facility is warned or complained about
(淮安 三（二）; services.warnings: never public). A facility with an open early warning and
complaints, one without, and a name that is no facility at all get the same answer apart from
the name; the warning's message never shows; the answer points to the public credit status and
the serious-dishonesty list."""
from __future__ import annotations

from datetime import date

import pytest
from bs4 import BeautifulSoup

from portal.models import Complaint, EarlyWarning

from .test_chat import Chat

CANARY = "CANARY-WARNING-MSG-3b7e"
QUESTIONS = ("{}有没有被预警", "{}被预警了吗", "{}是不是在预警名单上", "{}被投诉过吗")


@pytest.fixture
def settings(settings):
    return {**settings, "PORTAL_CHAT_RATE_PER_MINUTE": "1000"}


def _answer(chat: Chat, q: str) -> tuple[str, list[str]]:
    resp = chat.ask(q)
    assert resp.status_code == 200, (q, resp.status_code)
    bot = BeautifulSoup(resp.get_data(as_text=True), "html.parser").select(".chat-bot")[-1]
    return bot.get_text(" ", strip=True), [a.get_text(strip=True) for a in bot.select("a")]


def test_warned_and_unwarned_facilities_get_the_same_answer(client, session, make_org, make_record, reindex):
    warned = make_org(name="预警甲口腔诊所", category="clinic")
    calm = make_org(name="平安乙口腔诊所", category="clinic")
    for org in (warned, calm):
        make_record(org, title="公开处罚：未按规定消毒")
    session.add(EarlyWarning(key=f"test:{warned.id}", rule="complaints", subject_id=warned.id,
                             region_code=warned.region_code, raised_on=date(2026, 11, 1),
                             message=f"12个月内收到投诉3件 {CANARY}", detail={}, state="open"))
    session.add(Complaint(subject_id=warned.id, received_on=date(2026, 10, 1), summary=f"投诉 {CANARY}",
                          created_by="staff:test"))
    session.commit()
    reindex()
    chat = Chat(client)
    names = {"warned": warned.name, "calm": calm.name, "none": "丙丁戊口腔诊所"}
    for question in QUESTIONS:
        answers = {k: _answer(chat, question.format(n)) for k, n in names.items()}
        texts = {k: text.replace(names[k], "〇") for k, (text, _) in answers.items()}
        assert texts["warned"] == texts["calm"] == texts["none"], question
        links = {k: links for k, (_, links) in answers.items()}
        assert links["warned"] == links["calm"] == links["none"], question
        text = texts["warned"]
        assert "不在本平台公开" in text and "不确认或否认" in text and "严重失信主体名单" in text
        assert CANARY not in text and "投诉3件" not in text
        assert "已被预警" not in text and "未被预警" not in text and "没有被预警" not in text
    # the rules stay answerable, and the bot still answers public facts about the facility
    rules, _ = _answer(chat, "什么情况会被预警")
    assert "信用预警每日自动评估" in rules and CANARY not in rules
    public, _ = _answer(chat, f"{warned.name}有没有处罚")
    assert "未按规定消毒" in public and CANARY not in public  # a name with 预警 in it is no warning question
    assert "预警" not in public.replace(warned.name, "")
