"""portal.domain.record_rules (issue 11 §2), one pure function for every path."""
from __future__ import annotations

from datetime import date

import pytest

from portal.domain.eligibility import repair_eligibility
from portal.domain.grading import grade_subject
from portal.domain.record_rules import RecordRuleError, check_record, counts_as_dishonesty
from portal.profiles import load_profile

START = date(2026, 5, 6)


@pytest.fixture(scope="module")
def profiles():
    return {p: load_profile(p) for p in ("hunan", "hunan-mi", "hainan", "guangdong", "jiangsu")}


@pytest.mark.parametrize("name", ["hunan", "hunan-mi", "hainan", "guangdong", "jiangsu"])
@pytest.mark.parametrize("severity", ["minor", "general"])
def test_serious_class_must_be_severity_serious(profiles, name, severity):
    """湖南 第十五条; 国办发〔2025〕22号: 严重失信 information is published 1 to 3 years."""
    with pytest.raises(RecordRuleError) as err:
        check_record(profiles[name], record_type="serious_list", info_class="serious", severity=severity,
                     publish_from=START, publish_until=date(2026, 8, 5))
    assert err.value.field == "severity" and "必须为“严重”" in err.value.message


@pytest.mark.parametrize("name", ["hunan", "hunan-mi", "hainan", "guangdong", "jiangsu"])
def test_every_profile_tier_minimum_enforced(profiles, name):
    """国办发〔2025〕22号: 一般 at least 3 months, 严重 at least 1 year, per profile windows."""
    p = profiles[name]
    for severity in ("general", "serious"):
        w = p.window(severity)
        with pytest.raises(RecordRuleError, match="最短"):
            check_record(p, record_type="penalty", info_class="dishonest", severity=severity,
                         publish_from=START, publish_until=date(2026, 5, 20))
        assert w.min_months >= 3
    # 15 days is fine for 轻微 (at most 3 months, no minimum)
    check_record(p, record_type="penalty", info_class="dishonest", severity="minor",
                 publish_from=START, publish_until=date(2026, 5, 20))


def _rec(record_type, ordinary=None, severity="general", **kw):
    return {"id": record_type + str(ordinary), "info_class": "dishonest", "record_type": record_type,
            "severity": severity, "title": record_type, "decided_on": date(2025, 6, 1), "status": "active",
            "ordinary_procedure": ordinary, **kw}


def test_hunan_article_14_what_is_dishonesty(profiles):
    """湖南 第十四条: penalties only under the 普通程序, criminal penalties, refusing court rulings."""
    hunan = profiles["hunan"]
    assert counts_as_dishonesty(_rec("penalty", True), hunan)
    assert counts_as_dishonesty(_rec("penalty", None), hunan)  # not recorded (before 0007): keeps counting
    assert not counts_as_dishonesty(_rec("penalty", False), hunan)
    assert counts_as_dishonesty(_rec("criminal"), hunan) and counts_as_dishonesty(_rec("court_refusal"), hunan)
    assert not counts_as_dishonesty(_rec("inspection"), hunan)
    assert not counts_as_dishonesty(_rec("misconduct_points"), hunan)
    # 海南 第二十一条（二） lists 不良执业行为记分 and 责令整改 among dishonesty sources: they count there
    for rt in ("inspection", "misconduct_points"):
        assert counts_as_dishonesty(_rec(rt), profiles["hainan"])


def test_hunan_inspection_and_points_cost_no_dishonesty_points(profiles):
    """湖南 第十四条 in grading: 责令整改 / 记分 / 简易程序 records are listed as not counted."""
    hunan = profiles["hunan"]
    records = [_rec("inspection"), _rec("misconduct_points"), _rec("penalty", False, severity="minor")]
    result = grade_subject(records, hunan, 2025)
    assert result.score == hunan.scoring.base and result.letter == "A"
    texts = [e.rule_text for e in result.not_counted]
    assert len(texts) == 3 and all("湖南 第十四条" in t for t in texts)
    counted = grade_subject([_rec("penalty", True)], hunan, 2025)
    assert counted.score == hunan.scoring.base - 10
    hainan = profiles["hainan"]
    assert grade_subject([_rec("inspection")], hainan, 2025).score < hainan.scoring.base


def test_hunan_not_dishonesty_needs_no_repair(profiles):
    r = _rec("inspection", publish_from=date(2025, 6, 1))
    e = repair_eligibility(r, [], [], profiles["hunan"], date(2026, 11, 20))
    assert not e.eligible and e.never and "湖南 第十四条" in e.reasons[0].article
