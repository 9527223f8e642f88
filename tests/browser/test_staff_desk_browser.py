"""The staff side on a phone (issue 14), in Chromium at 390×844: the 复核 of an objection needs a
second staff account (回避: whoever decided it sees why they cannot act, another reviewer decides),
and the staff pages added for issue 14 have no serious or critical axe violation."""
from __future__ import annotations

from datetime import date

import pyotp
import pytest

from portal.services import cases
from portal.services import staff as staff_svc
from portal.services.evidence import add_evidence
from tests.browser import test_a11y_browser as a11y
from tests.conftest import require_tool
from tests.integration.pdf_tools import blank_pdf
from tests.integration.test_evidence_uploads import png

pytestmark = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)  # the pages, not the database

PASSWORD = "correct horse battery staple 42"
APPLICANT = cases.Applicant("https://idp.example.test", "sub-rep", "王法人")


def _account(ctx, username, roles, region=""):
    _, uri = staff_svc.create_staff(ctx, username, PASSWORD, roles, region_code=region, display_name=username)
    return pyotp.parse_uri(uri)


@pytest.fixture
def objection(ctx, session, rt, make_org, make_record):
    org = make_org(name="芙蓉区仁和诊所", region_code="430102")
    case = cases.file_objection(ctx, org, make_record(org, title="未按规定处置医疗废物", decided_on=date(2026, 10, 9)),
                                ground="fact_error", statement="记载有误", applicant=APPLICANT, commitment=True,
                                identity_confirmed=True)
    add_evidence(ctx, case, "处置记录.pdf", blank_pdf(), var_dir=rt.settings["PORTAL_VAR_DIR"], uploaded_by="applicant")
    add_evidence(ctx, case, "现场照片.png", png((120, 80)), var_dir=rt.settings["PORTAL_VAR_DIR"], uploaded_by="applicant")
    totp = {"dept.one": _account(ctx, "dept.one", ["department", "reviewer"], "430102"),
            "rev.two": _account(ctx, "rev.two", ["reviewer"], "430102"),
            "admin.one": _account(ctx, "admin.one", ["admin"])}
    session.commit()
    return case, totp


def _login(page, base, username, totp):
    page.goto(base + "/staff/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=code]", totp.now())
    page.click("form button[type=submit]")
    page.wait_for_url("**/staff/objections")


def _decide(page, action: str, reason: str):
    page.check(f"form.case-actions input[name=action][value={action}]")
    page.fill("form.case-actions textarea[name=reason]", reason)
    page.check("form.case-actions input[name=confirm]")
    with page.expect_navigation():  # the POST's answer, not the page it was sent from
        page.click("form.case-actions button.btn-decide")
    page.wait_for_load_state()


@pytest.mark.browser
def test_review_needs_a_second_staff_account(live_server, browser, ctx, session, objection):
    case, totp = objection
    url = f"{live_server}/staff/cases/{case.case_no}"
    first = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN")
    page = first.new_page()
    _login(page, live_server, "dept.one", totp["dept.one"])
    page.goto(url)
    # the evidence previews inline under the page's own CSP: the image is drawn, the PDF frame loads
    # the file (not a browser error page for a refused frame)
    for summary in page.locator("details.evidence-preview summary").all():
        summary.click()
    image = page.locator("details.evidence-preview img")
    image.wait_for()
    page.wait_for_function("(img) => img.complete && img.naturalWidth === 120", arg=image.element_handle())
    page.wait_for_function("() => [...document.querySelectorAll('iframe')].length === 1")
    # one PDF, from the portal itself (Chromium's PDF viewer may nest a second frame of the same URL)
    frames = sorted({f.url for f in page.frames if "view=inline" in f.url})
    assert len(frames) == 1 and frames[0].startswith(live_server)
    _decide(page, "reject", "经核实，记载与处罚决定书一致")
    assert page.locator("dd.case-state").inner_text().startswith(
        ctx.profile.objection.step("rejected").label)
    # the applicant asks for 复核 (their own step, through the same verb as their page)
    session.expire_all()
    cases.act(ctx, session.get(type(case), case.id), "request_review", role="applicant",
              reason="处置记录证明已按规定处置，请复核")
    session.commit()
    page.reload()
    # the decider holds the reviewer role too, yet is offered nothing and told why
    assert page.locator("form.case-actions").count() == 0
    banner = page.locator("p.recused")
    assert banner.is_visible() and "回避" in banner.inner_text()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    first.close()

    second = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                 locale="zh-CN")
    page = second.new_page()
    _login(page, live_server, "rev.two", totp["rev.two"])
    page.goto(url)
    assert page.locator("p.recused").count() == 0
    _decide(page, "reject", "复核维持原处理决定")
    assert page.locator("dd.case-state").inner_text().startswith(ctx.profile.objection.step("closed").label)
    second.close()
    session.expire_all()
    decided = session.get(type(case), case.id)
    reviewers = [e.actor for e in decided.events if e.from_state == "review"]
    assert decided.closed_on is not None and reviewers == ["staff:rev.two"]


@pytest.fixture
def axe_js() -> str:
    require_tool(str(a11y.AXE), "the accessibility test needs axe-core (npm ci --prefix tests/a11y)")
    return a11y.AXE.read_text(encoding="utf-8")


@pytest.mark.browser
def test_staff_pages_have_no_serious_or_critical_violations(live_server, browser, axe_js, objection):
    case, totp = objection
    # bypass_csp: axe is injected as a script element (the CSP has its own browser test)
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    _login(page, live_server, "admin.one", totp["admin.one"])
    found = {}

    def check(name):
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, name  # no sideways scrolling
        passes, violations = a11y._axe(page, axe_js)
        assert passes >= 5, (name, passes)
        bad = [v for v in violations if v["impact"] in ("serious", "critical")]
        if bad:
            found[name] = bad

    for name, path in (("accounts", "/staff/accounts"), ("queue", "/staff/objections?due=soon&region=430100"),
                       ("in time", "/staff/objections/in-time"), ("repairs in time", "/staff/repairs/in-time")):
        resp = page.goto(live_server + path)
        assert resp is not None and resp.status == 200, name
        check(name)
    # a new account: the page that shows its credentials once
    page.goto(live_server + "/staff/accounts")
    page.fill("form.account-create input[name=username]", "op.new")
    page.check("form.account-create input[name=roles][value=operator]")
    page.click("form.account-create button[type=submit]")
    page.wait_for_selector(".cred-totp-uri")
    check("new credentials")
    page.click("tr[data-username='dept.one'] a")
    page.wait_for_selector("form.account-access")
    check("account")
    page.click("form.account-access button[type=submit]")
    page.wait_for_selector("form.account-access")
    context.close()
    # the case page with its evidence preview, as the department that handles it
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    _login(page, live_server, "dept.one", totp["dept.one"])
    page.goto(f"{live_server}/staff/cases/{case.case_no}")
    page.click("details.evidence-preview summary")
    check("case")
    context.close()
    assert found == {}
