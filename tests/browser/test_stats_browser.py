"""The staff statistics page in a real browser (issue 15): axe-core finds no serious or critical
violation (charts, their data tables in <details>, the filter form), the CSP blocks nothing on it
(no inline script or style in the SVG charts), and opening a table works without JavaScript."""
from __future__ import annotations

from datetime import date

import pyotp
import pytest

from portal.services import plates as plate_svc
from portal.services import staff as staff_svc
from tests.browser.test_a11y_browser import _axe, axe_source  # noqa: F401  (a fixture, used by name)
from tests.integration.test_staff_auth import PASSWORD, _secret

pytestmark = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)  # the page, not the database


@pytest.fixture
def world(ctx, session, make_org, make_record):
    org = make_org(name="芙蓉区德仁堂大药房", category="pharmacy")
    make_record(org, record_type="blacklist", title="列入失信黑名单", decided_on=date(2026, 4, 2))
    make_record(org, title="未按规定储存药品", decided_on=date(2026, 8, 1))
    plate = plate_svc.issue_plate(ctx, org)
    plate_svc.record_scans(session, {(plate.id, date(2026, 11, 2)): 3})
    _, uri = staff_svc.create_staff(ctx, "op.all", PASSWORD, ["operator"], display_name="运行机构甲")
    session.commit()
    return _secret(uri)


@pytest.mark.browser
def test_stats_page_has_no_serious_violations_and_no_csp_errors(live_server, browser, axe_source, world):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", bypass_csp=False)
    page = context.new_page()
    csp_errors = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(live_server + "/staff/login?next=/staff/stats/")
    page.fill("input[name=username]", "op.all")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=code]", pyotp.TOTP(world).now())
    page.click("form button[type=submit]")
    page.wait_for_url("**/staff/stats/**")
    assert page.locator("section.stats-chart svg[role=img]").count() == 9
    page.click("text=查看数据表：每日扫码次数")
    assert page.locator("#scans-table").is_visible()
    assert csp_errors == []
    context.close()
    # axe is injected as a script element, so this context lets it past the CSP
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    page.goto(live_server + "/staff/login?next=/staff/stats/")
    page.fill("input[name=username]", "op.all")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=code]", pyotp.TOTP(world).now())
    page.click("form button[type=submit]")
    page.wait_for_url("**/staff/stats/**")
    page.locator("details").evaluate_all("els => els.forEach(e => e.open = true)")
    passes, violations = _axe(page, axe_source)
    assert passes >= 5
    assert [v for v in violations if v["impact"] in ("serious", "critical")] == []
    context.close()
