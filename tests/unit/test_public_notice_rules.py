"""The pure rules of commendation / typical-case notices (阳山 四（五）; 淮安 三（五））."""
from __future__ import annotations

import pytest

from portal.domain import public_notices as rules

S = rules.NoticeState


@pytest.mark.parametrize(("state", "action", "expected"), [
    (S.DRAFT, "edit", S.DRAFT), (S.DRAFT, "publish", S.PUBLISHED), (S.PUBLISHED, "withdraw", S.WITHDRAWN),
    (S.DRAFT, "withdraw", None), (S.PUBLISHED, "publish", None), (S.PUBLISHED, "edit", None),
    (S.WITHDRAWN, "publish", None), (S.WITHDRAWN, "edit", None), ("nonsense", "publish", None),
])
def test_transitions(state, action, expected):
    if expected is None:
        with pytest.raises(rules.NoticeRuleError) as err:
            rules.next_state(state, action)
        assert err.value.status == 409 and "不能" in err.value.message
    else:
        assert rules.next_state(state, action) == expected


@pytest.mark.parametrize(("author", "publisher", "second", "refused"), [
    ("staff:a", "staff:a", True, True), ("staff:a", "staff:b", True, False),
    ("staff:a", "staff:a", False, False), ("staff:a", "staff:b", False, False),
])
def test_second_person(author, publisher, second, refused):
    assert (rules.publish_refusal(author, publisher, second) is not None) is refused


@pytest.mark.parametrize(("kind", "target", "refused"), [
    (rules.COMMENDATION, "subject", False), (rules.COMMENDATION, "record", False),
    (rules.TYPICAL_CASE, "record", False), (rules.TYPICAL_CASE, "subject", True),
    (rules.COMMENDATION, "case", True),
])
def test_links(kind, target, refused):
    assert (rules.link_refusal(kind, target) is not None) is refused
