"""Over the search limit, live search shows the Chinese 429 fragment in place of the results
(htmx swaps a 429 by the ``htmx-config`` in base.html) instead of silently doing nothing."""
from __future__ import annotations

import pytest


@pytest.fixture
def settings(settings):
    return {**settings, "PORTAL_RATELIMIT_SEARCH": "2/minute"}


@pytest.fixture
def data(make_org, reindex):
    make_org(name="长沙市第一人民医院", category="hospital")
    reindex()


def test_live_search_over_the_limit_says_so(live_server, phone, data):
    phone.goto(live_server + "/")
    statuses = []
    for term in ("民医", "人民", "医院"):
        with phone.expect_response(lambda r: "/search" in r.url) as info:
            phone.fill("#q", term)
        statuses.append(info.value.status)
    assert statuses == [200, 200, 429]
    phone.wait_for_selector("#results >> text=请求过于频繁")
    assert phone.locator(".hit-name").count() == 0
