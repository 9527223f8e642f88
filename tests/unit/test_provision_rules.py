"""The pure rules of the providers' workspace (portal.domain.provision)."""
from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace as NS

import pytest

from portal.domain import provision as rules

UNIT = "长沙市芙蓉区卫生健康局"


def user(username="a", roles=("provider",), authority=UNIT, region="430102", channel="", active=True):
    return NS(username=username, roles=list(roles), authority=authority, region_code=region, channel=channel,
              active=active)


def draft(drafted_by="staff:a", channel="", authority=UNIT, region="430102"):
    return NS(drafted_by=drafted_by, channel=channel, authority=authority, region_code=region)


@pytest.mark.parametrize("who, region, authority, expected", [
    (user(), "430102", UNIT, None),
    (user(region="430100"), "430102", UNIT, None),  # a city covers its counties
    (user(), "430202", UNIT, rules.OTHER_REGION),
    (user(), "430102", "株洲市卫生健康委员会", rules.OTHER_UNIT),
    (user(roles=("operator",)), "430102", UNIT, rules.NOT_PROVIDER),
    (user(authority=""), "430102", "", rules.NOT_PROVIDER),
    (user(active=False), "430102", UNIT, rules.NOT_PROVIDER),
])
def test_provide_refusal(who, region, authority, expected):
    assert rules.provide_refusal(who, region, authority) == expected


@pytest.mark.parametrize("reviewer, d, expected", [
    (user("a"), draft(), rules.SELF_APPROVAL),  # never one's own entry
    (user("b"), draft(), None),  # a colleague of the unit
    (user("b", authority="别的单位"), draft(), rules.NOT_REVIEWER),
    (user("d", roles=("department",), authority=""), draft(), None),
    (user("d", roles=("department",), region="430202"), draft(), rules.OTHER_REGION),
    (user("b"), draft(channel="association"), rules.CHANNEL_REVIEWER),  # 海南 第二十二条
    (user("o", roles=("operator",), region="", authority=""), draft(channel="association"), None),
    (user("x", roles=("operator",), channel="third_party"), draft(channel="association"), rules.CHANNEL_REVIEWER),
    (user("o", roles=("operator",), region=""), draft(), rules.NOT_REVIEWER),
])
def test_review_refusal(reviewer, d, expected):
    assert rules.review_refusal(reviewer, d) == expected


def test_needs_review():
    assert rules.needs_review(True, "") and rules.needs_review(False, "third_party")
    assert not rules.needs_review(False, "")


def test_overdue_by_cycle():
    today = date(2026, 11, 20)
    assert rules.overdue(None, 7, today)
    assert not rules.overdue(datetime(2026, 11, 13, 9), 7, today)
    assert rules.overdue(datetime(2026, 11, 12, 23), 7, today)
