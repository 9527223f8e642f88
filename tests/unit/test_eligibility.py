"""Repair eligibility (portal.domain.eligibility) per profile."""
from datetime import date

import pytest

from portal.domain.eligibility import repair_eligibility
from portal.profiles import load_profile

D = date


@pytest.fixture(scope="module")
def p():
    return {k: load_profile(k) for k in ("hunan", "hainan", "hunan-mi")}


JAN_10 = D(2026, 1, 10)


def rec(id=1, record_type="penalty", info_class="dishonest", severity="general", decided_on=JAN_10,
        status="active", **kw):
    return dict(id=id, lineage_id=id, record_type=record_type, info_class=info_class, severity=severity,
                decided_on=decided_on, publish_from=kw.pop("publish_from", decided_on), status=status,
                publish_until=kw.pop("publish_until", None), **kw)


def articles(e):
    return " ".join(r.article for r in e.reasons)


def test_hunan_min_period(p):
    """湖南 第二十九条（二）: general dishonesty, minimum 3 months (editable default)."""
    r = rec(decided_on=D(2026, 1, 10))
    early = repair_eligibility(r, [], [], p["hunan"], D(2026, 4, 9))
    assert not early.eligible and not early.never
    assert early.possible_from == D(2026, 4, 10)
    assert "第二十九条（二）" in articles(early)
    assert repair_eligibility(r, [], [], p["hunan"], D(2026, 4, 10)).eligible


def test_hunan_new_same_type(p):
    """湖南 第二十九条（三）: no new same-type dishonesty since it was determined."""
    r = rec()
    newer_same = rec(id=2, decided_on=D(2026, 3, 1))
    newer_other_type = rec(id=3, record_type="misconduct_points", decided_on=D(2026, 3, 1))
    older_same = rec(id=4, decided_on=D(2025, 3, 1))
    e = repair_eligibility(r, [newer_same], [], p["hunan"], D(2026, 11, 20))
    assert not e.eligible and e.never and e.possible_from is None
    assert "第二十九条（三）" in articles(e)
    assert repair_eligibility(r, [newer_other_type, older_same], [], p["hunan"], D(2026, 11, 20)).eligible
    # its own earlier versions and withdrawn records do not count
    own_version = dict(rec(id=9, decided_on=D(2026, 3, 1)), lineage_id=1)
    withdrawn = rec(id=5, decided_on=D(2026, 3, 1), status="withdrawn")
    assert repair_eligibility(r, [own_version, withdrawn], [], p["hunan"], D(2026, 11, 20)).eligible


def test_hainan_cooldown_only_for_penalties_inside_three_months(p):
    """海南 第四十三条（一）: "在最短公示期三个月内的行政处罚信息，距离上一次信用修复时间不到1年的"
    — the 1-year bar holds for penalty information still inside its first 3 months, not for
    every record."""
    minor = rec(severity="minor", decided_on=D(2026, 5, 1))  # 轻微: no minimum period in hainan
    e = repair_eligibility(minor, [], [D(2026, 2, 1)], p["hainan"], D(2026, 6, 1))
    assert not e.eligible and e.possible_from == D(2027, 2, 1) and not e.never
    assert "第四十三条（一）" in articles(e)
    assert repair_eligibility(minor, [], [D(2025, 5, 1)], p["hainan"], D(2026, 6, 1)).eligible
    # past its first three months: the bar no longer applies (before: refused until 2027-02-01)
    assert repair_eligibility(minor, [], [D(2026, 2, 1)], p["hainan"], D(2026, 8, 1)).eligible
    general = rec(decided_on=D(2026, 1, 10))
    assert repair_eligibility(general, [], [D(2026, 2, 1)], p["hainan"], D(2026, 6, 1)).eligible
    # not a penalty: never barred by the cooldown
    court = rec(record_type="court_refusal", severity="minor", decided_on=D(2026, 5, 1))
    assert repair_eligibility(court, [], [D(2026, 2, 1)], p["hainan"], D(2026, 6, 1)).eligible


def test_hunan_mi_repair_only_while_published(p):
    """湖南医保 第二十四条: "在失信信息公示期限内" — no repair once the window has ended."""
    r = rec(severity="general", decided_on=D(2025, 1, 10), publish_until=D(2026, 1, 9))
    assert repair_eligibility(r, [], [], p["hunan-mi"], D(2026, 1, 9)).eligible
    e = repair_eligibility(r, [], [], p["hunan-mi"], D(2026, 1, 10))
    assert not e.eligible and e.never and "湖南医保 第二十四条" in articles(e) and "公示期已于 2026-01-09 届满" in e.reasons[0].text_zh


def test_hunan_same_kind_reading(p):
    """湖南 第二十九条（三）“同类”: the same kind of 失信信息 in 第十四条's list (same record type);
    a newer record that is not 失信 under 第十四条 (simple-procedure penalty, 责令整改) does not block."""
    r = rec(ordinary_procedure=True)
    simple = rec(id=2, decided_on=D(2026, 3, 1), ordinary_procedure=False, severity="minor")
    inspection = rec(id=3, record_type="inspection", decided_on=D(2026, 3, 1))
    criminal = rec(id=4, record_type="criminal", decided_on=D(2026, 3, 1))
    assert repair_eligibility(r, [simple, inspection, criminal], [], p["hunan"], D(2026, 11, 20)).eligible
    ordinary = rec(id=5, decided_on=D(2026, 3, 1), ordinary_procedure=True)
    e = repair_eligibility(r, [ordinary], [], p["hunan"], D(2026, 11, 20))
    assert not e.eligible and e.never and "第二十九条（三）、第十四条" in articles(e)


def test_hainan_new_dishonesty(p):
    """海南 第四十三条（二）: another dishonest act while determined dishonest."""
    r = rec(decided_on=D(2026, 1, 10), publish_until=D(2026, 12, 31))
    other = rec(id=2, record_type="misconduct_points", decided_on=D(2026, 5, 1))
    e = repair_eligibility(r, [other], [], p["hainan"], D(2026, 6, 1))
    assert not e.eligible and e.never and "第四十三条（二）" in articles(e)


def test_hunan_mi_six_months_and_no_new_record(p):
    """湖南医保 第二十四条（一）（三）: published 6 months, no new bad record meanwhile."""
    r = rec(severity="minor", decided_on=D(2026, 1, 10))
    e = repair_eligibility(r, [], [], p["hunan-mi"], D(2026, 7, 9))
    assert not e.eligible and e.possible_from == D(2026, 7, 10)
    assert "湖南医保 第二十四条（一）" in articles(e)
    assert repair_eligibility(r, [], [], p["hunan-mi"], D(2026, 7, 10)).eligible
    other = rec(id=2, record_type="inspection", decided_on=D(2026, 3, 1))
    e = repair_eligibility(r, [other], [], p["hunan-mi"], D(2026, 8, 1))
    assert not e.eligible and e.never and "第二十四条（三）" in articles(e)


def test_several_reasons_give_latest_date(p):
    r = rec(decided_on=D(2026, 5, 10))
    e = repair_eligibility(r, [], [D(2026, 6, 1)], p["hainan"], D(2026, 6, 2))
    assert len(e.reasons) == 2 and e.possible_from == D(2027, 6, 1)


def test_not_dishonest_or_not_active(p):
    assert repair_eligibility(rec(info_class="positive", severity=None), [], [], p["hunan"], D(2026, 11, 1)).never
    e = repair_eligibility(rec(status="repaired"), [], [], p["hunan"], D(2026, 11, 1))
    assert e.never and "已完成信用修复" in e.reasons[0].text_zh


def test_serious_not_repairable_when_profile_says_so(p):
    from dataclasses import replace
    strict = replace(p["hunan"], repair=replace(p["hunan"].repair, serious_repairable=False))
    r = rec(info_class="serious", record_type="serious_list", severity="serious", decided_on=D(2024, 1, 1))
    e = repair_eligibility(r, [], [], strict, D(2026, 11, 1))
    assert not e.eligible and e.never and "不可修复" in e.reasons[0].text_zh
    assert repair_eligibility(r, [], [], p["hunan"], D(2026, 11, 1)).eligible
