"""Everyone can read it (issue #13): axe-core with the WCAG 2.2 AA rules finds no serious or
critical violation on the public pages, on a phone; tap targets are at least 44 px; the 大字 mode
persists across pages. axe-core comes from tests/a11y (``npm ci --prefix tests/a11y``)."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from portal.models import Grade
from portal.services import plates as svc
from tests.conftest import require_tool

pytestmark = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)  # the pages, not the database

AXE = Path(__file__).resolve().parents[1] / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture
def axe_source() -> str:
    require_tool(str(AXE), "the accessibility test needs axe-core (npm ci --prefix tests/a11y)")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def world(ctx, session, make_org, make_record, reindex):
    org = make_org(name="芙蓉区德仁堂大药房", category="pharmacy", address="长沙市芙蓉区五一大道1号",
                   legal_rep="赵法人", licence_no="湘DA7390008", licence_valid_until=date(2028, 12, 31))
    make_record(org, record_type="blacklist", title="销售假药列入失信黑名单", severity="serious",
                decided_on=date(2026, 4, 2))
    make_record(org, title="未按规定储存药品", severity="general", decided_on=date(2026, 8, 1))
    make_record(org, record_type="commendation", title="年度诚信经营示范单位", severity=None)
    session.add(Grade(subject_id=org.id, year=2025, letter="D", score=40, explanation=[], profile_id="hunan"))
    red = make_org(name="天心区仁爱医院", category="hospital", region_code="430103")
    make_record(red, record_type="redlist", title="列入守信红名单", severity=None)
    plate = svc.issue_plate(ctx, org)
    reindex()
    return org, plate


@pytest.fixture
def a11y_phone(browser):
    # bypass_csp: axe is injected as a script element; the CSP itself has its own browser test
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


def _pages(org, plate) -> dict[str, str]:
    return {
        "home": "/",
        "search": "/search?q=" + "德仁堂",
        "facility": f"/facility/{org.public_id}",
        "scan": f"/p/{plate.token}",
        "red list": "/lists/red",
        "serious list": "/lists/serious?city=430100",
        "repair notices": "/repair-notices",
        "chat": "/chat",
        "report verification": "/verify/report/XYBG20261120ZZZZZZZZ?t=guess",
    }


def _axe(page, source: str) -> tuple[int, list[dict]]:
    page.add_script_tag(content=source)
    return page.evaluate("""async (tags) => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations', 'passes']});
        return [r.passes.length, r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))];
    }""", TAGS)


@pytest.mark.browser
def test_no_serious_or_critical_violations(live_server, a11y_phone, axe_source, world):
    found = {}
    for name, path in _pages(*world).items():
        resp = a11y_phone.goto(live_server + path)
        assert resp is not None and resp.status < 500, (name, resp and resp.status)
        passes, violations = _axe(a11y_phone, axe_source)
        assert passes >= 5, (name, passes)  # axe really checked this page
        bad = [v for v in violations if v["impact"] in ("serious", "critical")]
        if bad:
            found[name] = bad
    assert found == {}


# Controls a finger must hit; inline links inside running text are exempt (WCAG 2.5.8).
TARGETS = ("header a, nav a, button, input:not([type=hidden]), select, summary, .chip, .hit-name,"
           " .pager a, .links a, #a11y-toggle")


@pytest.mark.browser
def test_tap_targets_are_at_least_44px(live_server, phone, world):
    for path in ("/", "/search?q=德仁堂", f"/facility/{world[0].public_id}", "/lists/serious"):
        phone.goto(live_server + path)
        small = phone.evaluate("""(sel) => [...document.querySelectorAll(sel)]
            .filter(e => e.offsetParent !== null)
            .map(e => [e.outerHTML.slice(0, 80), e.getBoundingClientRect().height])
            .filter(([_, h]) => h < 44)""", TARGETS)
        assert small == [], path


@pytest.mark.browser
def test_font_follows_the_reader_and_large_mode_persists(live_server, browser, world):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server + "/")
    base = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    # a reader who set a larger default font gets a larger body text (rem, not a fixed 16px)
    page.evaluate("() => { document.documentElement.style.fontSize = '20px'; }")
    assert page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)") > base
    page.reload()
    page.click("#a11y-toggle")
    large = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    assert large >= base * 1.2
    assert page.get_attribute("#a11y-toggle", "aria-pressed") == "true"
    page.goto(live_server + "/lists/red")  # another page, a new load: still large
    assert page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)") == large
    page.click("#a11y-toggle")  # and back
    assert page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)") == base
    page.goto(live_server + "/")
    assert page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)") == base
    context.close()
