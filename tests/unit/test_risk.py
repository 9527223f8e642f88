"""The current-risk summary (issue #13 "What the page says first"), from public views only."""
from __future__ import annotations

from datetime import date, datetime

from portal.domain.disclosure import public_subject, public_view
from portal.domain.risk import grade_note, risk_summary
from portal.profiles import load_profile

HUNAN = load_profile("hunan")

TODAY = date(2026, 11, 20)


def org(**kw):
    return {"kind": "org", "name": "安湾儿童医院", "category": "hospital", "region_code": "430102",
            "status": "active", "licence_valid_until": date(2028, 1, 1)} | kw


def rec(record_type="penalty", severity="general", **kw):
    info = {"penalty": "dishonest", "inspection": "dishonest", "serious_list": "serious", "blacklist": "serious",
            "commendation": "positive"}[record_type]
    base = dict(id=kw.pop("id", 1), scope="public", status="active", is_current=True, record_type=record_type,
                info_class=info, severity=severity, title="t", content="", decided_on=date(2026, 3, 1),
                publish_from=date(2026, 3, 2), publish_until=date(2027, 3, 1))
    return base | kw


def summary(subject, records):
    views = [v for v in (public_view(r, TODAY, profile=HUNAN) for r in records) if v is not None]
    return risk_summary(public_subject(subject, TODAY), views, TODAY)


def kinds(s):
    return [(i["level"], i["kind"]) for i in s["items"]]


def test_a_serious_penalty_comes_before_a_good_grade():
    s = summary(org(), [rec(severity="serious", title="责令停业整顿三个月"), rec(severity="general"),
                        rec("commendation", severity=None)])
    assert s["level"] == "bad"
    assert s["items"][0]["text"] == "公示期内行政处罚等失信信息：严重 1 条、一般 1 条"
    assert s["counts"]["serious"] == 1 and s["counts"]["general"] == 1


def test_blacklist_since_and_licence_first():
    s = summary(org(status="licence_revoked"),
                [rec("blacklist", severity="serious", decided_on=date(2025, 6, 2), publish_until=date(2027, 6, 1)),
                 rec(severity="minor")])
    assert kinds(s) == [("bad", "list"), ("bad", "licence"), ("ok", "penalties")]
    assert s["items"][0]["text"] == "列入失信黑名单（自 2025-06-02 起，公示至 2027-06-01）"
    assert s["items"][1]["text"].startswith("许可已被吊销")


def test_expired_licence_and_open_cases():
    subject = public_subject(org(licence_valid_until=date(2026, 10, 31)), TODAY)
    view = public_view(rec(), TODAY, profile=HUNAN) | {"case_marker": "异议处理中"}
    s = risk_summary(subject, [view], TODAY)
    assert kinds(s) == [("bad", "licence"), ("warn", "penalties"), ("warn", "case")]
    assert "许可证已过期（有效期至 2026-10-31）" == s["items"][0]["text"]
    assert s["items"][2]["text"] == "异议处理中（1 条信息）"


def test_non_public_records_move_nothing():
    hidden = [rec("blacklist", severity="serious", scope="shared"), rec(severity="serious", status="repaired"),
              rec(severity="serious", publish_until=date(2026, 1, 1))]
    s = summary(org(), hidden)
    assert s["level"] == "ok" and kinds(s) == [("ok", "none")]
    assert s["items"][0]["text"] == "公示期内无行政处罚和失信信息"


def test_grade_in_time():
    assert grade_note(2025, datetime(2026, 1, 20, 9, 0)) == "2025 年度评定（2026-01-20）；此后新增的信息将在下一年度评定中体现"
    assert grade_note(None, None) == ""


def test_grade_note_of_a_rolling_grade_is_not_next_year():
    """湖南医保 第十六、十九条 动态考评: later information changes the grade through a new 初评, not at
    "the next year's grading"; the date is the day the grade became formal."""
    note = grade_note(2027, date(2027, 1, 13), rolling_article="湖南医保 第三条、第十六条")
    assert note.startswith("动态评价：2027-01-13 形成的正式结果") and "下一年度" not in note
    assert "湖南医保 第三条、第十六条" in note
    assert "下一年度" in grade_note(2027, date(2027, 1, 13))  # yearly: unchanged
