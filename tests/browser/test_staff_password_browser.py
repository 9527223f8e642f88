"""Staff passwords in Chromium at 390×844 (issue 14): an administrator resets a password (the tick
inside the form, the new password shown once); its owner, logging in with it, lands on 修改密码
before anything else, is told in Chinese why a weak password is refused, sets their own and
works on. Both pages have no serious or critical axe violation and no sideways scrolling."""
from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest

from portal.models.base import utcnow
from portal.services import staff as staff_svc
from tests.browser import test_a11y_browser as a11y
from tests.browser.test_staff_desk_browser import PASSWORD, _login
from tests.conftest import require_tool

pytestmark = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)  # the pages, not the database


@pytest.fixture
def accounts(ctx, session):
    out = {}
    for username, roles in (("admin.one", ["admin"]), ("dept.one", ["department"])):
        _, uri = staff_svc.create_staff(ctx, username, PASSWORD, roles, region_code="", display_name=username)
        out[username] = pyotp.parse_uri(uri)
    session.commit()
    return out


def _phone(browser):
    # bypass_csp: axe is injected as a script element (the CSP has its own browser test)
    return browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                               has_touch=True, locale="zh-CN", bypass_csp=True)


@pytest.mark.browser
def test_reset_then_forced_change_on_a_phone(live_server, browser, accounts):
    require_tool(str(a11y.AXE), "the accessibility test needs axe-core (npm ci --prefix tests/a11y)")
    axe_js = a11y.AXE.read_text(encoding="utf-8")
    found = {}

    def check(page, name):
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, name
        passes, violations = a11y._axe(page, axe_js)
        assert passes >= 5, (name, passes)
        bad = [v for v in violations if v["impact"] in ("serious", "critical")]
        if bad:
            found[name] = bad

    admin_ctx = _phone(browser)
    page = admin_ctx.new_page()
    _login(page, live_server, "admin.one", accounts["admin.one"])
    page.goto(live_server + "/staff/accounts")
    page.click("tr[data-username='dept.one'] a")
    page.click("form.account-password button[type=submit]")  # without the tick: refused, nothing changes
    page.wait_for_selector("p.banner.bad")
    assert "勾选确认" in page.inner_text("p.banner.bad")
    page.check("form.account-password input[name=confirm]")
    page.click("form.account-password button[type=submit]")
    page.wait_for_selector(".cred-password")
    new_password = page.inner_text(".cred-password").strip()
    check(page, "reset")
    admin_ctx.close()

    owner_ctx = _phone(browser)
    page = owner_ctx.new_page()
    page.goto(live_server + "/staff/login")
    page.fill("input[name=username]", "dept.one")
    page.fill("input[name=password]", new_password)
    page.fill("input[name=code]", accounts["dept.one"].now())
    page.click("form button[type=submit]")
    page.wait_for_url("**/staff/password")
    assert page.is_visible(".must-change")
    check(page, "forced change")
    page.goto(live_server + "/staff/objections")  # anything else leads back here
    page.wait_for_url("**/staff/password")

    def submit(new):
        page.fill("input[name=current]", new_password)
        page.fill("input[name=code]", accounts["dept.one"].at(utcnow() + timedelta(seconds=30)))
        page.fill("input[name=new]", new)
        page.fill("input[name=repeat]", new)
        with page.expect_navigation():  # the POST's answer, not the page it was sent from
            page.click("form.staff-password button[type=submit]")
        page.wait_for_load_state()

    submit("password1234")  # 12 characters, but the first a guesser tries
    assert "过于常见" in page.inner_text("p.banner.bad")
    submit("plum blossoms in the snow")
    page.wait_for_selector(".password-changed")
    page.click("text=进入工作台")
    page.wait_for_url("**/staff/objections")
    owner_ctx.close()
    assert found == {}
