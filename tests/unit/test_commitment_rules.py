"""The pure commitment rules (portal.domain.commitments): term, 海南 第十一条 restriction, 践诺."""
from __future__ import annotations

from datetime import date

from portal.domain import commitments as rules


def test_term_defaults_to_the_profile_months():
    assert rules.valid_until(date(2027, 1, 31), 12) == date(2028, 1, 31)
    assert rules.valid_until(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert rules.valid_until(date(2027, 1, 31), 12, date(2027, 6, 30)) == date(2027, 6, 30)


def test_restriction_after_serious_dishonesty_or_a_broken_commitment():
    serious = [{"info_class": "serious", "status": "active"}]
    broken = [{"status": "broken"}]
    for ctype in ("licensing", "tolerance", "certification"):
        assert rules.restriction(ctype, serious, [], "海南 第十一条").endswith("（海南 第十一条）")
        assert "虚假承诺" in rules.restriction(ctype, [], broken, "海南 第十一条")
        # another profile passes "" (海南's draft is not its own document): no borrowed citation
        assert rules.restriction(ctype, serious, [], "").endswith("（本平台执行的做法）")
    assert rules.restriction("self_discipline", serious, broken, "海南 第十一条") is None  # not 审批替代型
    assert rules.restriction("licensing", [{"info_class": "serious", "status": "repaired"}], [], "") is None
    assert rules.restriction("licensing", [], [{"status": "active"}], "") is None


def test_restriction_has_no_default_citation():
    """The citation is the caller's (the active profile's own part): before, ``basis`` defaulted to
    "海南 第十一条", so a caller that forgot it showed 海南's draft under 湖南."""
    import inspect

    assert inspect.signature(rules.restriction).parameters["basis"].default is inspect.Parameter.empty


def test_broken_by_a_dishonesty_record_inside_the_term():
    c = {"status": "active", "signed_on": date(2027, 1, 1), "valid_until": date(2027, 12, 31)}
    assert rules.broken_by(c, {"info_class": "dishonest", "decided_on": date(2027, 6, 1)})
    assert rules.broken_by(c, {"info_class": "serious", "decided_on": date(2027, 12, 31)})
    assert not rules.broken_by(c, {"info_class": "dishonest", "decided_on": date(2026, 12, 31)})
    assert not rules.broken_by(c, {"info_class": "positive", "decided_on": date(2027, 6, 1)})
    assert not rules.broken_by({**c, "status": "broken"}, {"info_class": "dishonest", "decided_on": date(2027, 6, 1)})
