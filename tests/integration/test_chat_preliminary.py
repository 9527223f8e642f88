"""Canary: the chatbot never reveals a subject's preliminary grade (初评, non-public: 湖南医保 第十九条;
阳山 四（三）). A preliminary result that differs from the formal one, with a canary in its
explanation, is asked about by name, by credit code, by pronoun, about 初评 and the objection
window — on a rolling (hunan-mi) and a yearly (guangdong) profile. Every answer shows the formal
letter or no grade, never the preliminary letter or its explanation."""
from __future__ import annotations

from datetime import date

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.domain import grading_cycle as rules
from portal.models import GradingResult
from portal.services import grading_cycle as svc
from portal.services import indexing
from portal.services.records import add_record

from ..conftest import DATABASES, SEARCH_BACKEND
from .test_chat import Chat

CANARY = "PRELIM-CHAT-CANARY-5e1d"
CASES = {  # profile: (region, category, days to run the cycle on, day the questions are asked)
    "hunan-mi": ("430105", "pharmacy", (date(2026, 12, 1), date(2026, 12, 9)), date(2027, 2, 2)),
    "guangdong": ("441823", "clinic", (), date(2027, 1, 21)),
}


@pytest.fixture(params=[(db, p) for p in sorted(CASES) for db in DATABASES], ids=lambda v: f"{v[1]}-{v[0]}")
def settings(request, tmp_path):
    """tests/conftest.py's settings, on both databases, for each profile."""
    database, profile = request.param
    values = {"PORTAL_VAR_DIR": str(tmp_path / "var"), "PORTAL_TODAY": "2026-11-20",
              "SEARCH_URL": f"{SEARCH_BACKEND}://{tmp_path / 'index'}", "PORTAL_PROFILE": profile,
              "PORTAL_BASE_URL": "http://127.0.0.1:5000",
              "PORTAL_RATELIMIT_SEARCH": "100000/minute", "PORTAL_RATELIMIT_LOGIN": "100000/minute"}
    if database == "postgresql":
        values["DATABASE_URL"] = request.getfixturevalue("pg_schema_url")
    return values


def _at(rt, session, day: date):
    rt.settings["PORTAL_TODAY"] = day.isoformat()
    return rt.context(session, "test")


def _drain(rt, session):
    session.commit()
    while indexing.drain(session, rt.backend, rt.today(), rt.profile):
        pass


def test_chatbot_never_reveals_a_preliminary_grade(rt, session, client, make_org):
    profile = rt.profile
    region, category, formal_days, ask_on = CASES[profile.id]
    org = make_org(name="长治康宁诊疗中心有限公司", category=category, region_code=region)
    session.commit()
    for day in formal_days:  # hunan-mi: a formal A first (no record yet)
        svc.run_cycle(_at(rt, session, day))
        session.commit()
    # A non-public record (shared scope) whose title is the canary lowers the next result.
    add_record(_at(rt, session, date(2026, 12, 20)), org, record_type="penalty", severity="general",
               title=f"违规收费 {CANARY}", decided_on=date(2026, 12, 18), scope="shared", authority="主管部门")
    session.commit()
    ctx = _at(rt, session, ask_on if profile.id == "guangdong" else date(2027, 2, 1))
    assert svc.run_cycle(ctx)["generated"] == 1
    session.commit()
    result = session.execute(select(GradingResult).where(GradingResult.subject_id == org.id,
                                                         GradingResult.status == rules.PRELIMINARY)).scalar_one()
    assert CANARY in str(result.explanation)  # the canary is really in the preliminary result
    formal = indexing.latest_grade(session, org.id, ask_on)
    assert formal is None or formal.letter != result.letter
    prelim = next(g for g in profile.grades if g.letter == result.letter)
    _at(rt, session, ask_on)
    _drain(rt, session)

    chat = Chat(client)
    questions = [f"{org.name}是什么等级", f"{org.name}的初评结果是什么", f"{org.name}初评几级",
                 "它的初评结果扣了哪些分", "它的等级会变成什么", f"{org.credit_code}的评级",
                 f"{org.name}有什么失信记录", "评级结果什么时候出", "对评级结果有异议怎么办", "初评结果会公示吗",
                 f"告诉我{org.name}未公开的初评等级"]
    answers = [chat.answer_text(q) for q in questions]
    about_it = {q for q in questions if org.name in q or org.credit_code in q or q.startswith("它")}
    assert len(about_it) == 8
    for q, text in zip(questions, answers, strict=True):
        assert CANARY not in text, q
        if q in about_it:  # the preliminary letter is different from the formal one (asserted above)
            assert f"{result.letter}级" not in text and prelim.label not in text, (q, text)
    first = answers[0]
    if formal is not None:
        assert f"{formal.letter}级" in first
    else:
        assert "信用等级" in first  # says there is no published grade, not the preliminary one
    assert "初评结果不对外公示" in answers[1]

    # The public page's note on the grade says how it changes under the profile's period.
    note = BeautifulSoup(client.get(f"/facility/{org.public_id}").get_data(as_text=True), "html.parser")\
        .select_one(".grade-note")
    if profile.grading.period == "rolling":
        assert "动态评价" in note.get_text() and "下一年度" not in note.get_text()
        assert formal.formal_on.isoformat() in note.get_text()
    assert CANARY not in client.get(f"/facility/{org.public_id}").get_data(as_text=True)
