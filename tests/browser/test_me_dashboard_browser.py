"""On a phone (390×844), a 补正材料 request is on ``/me``'s first screen (issue 14), above the fold,
with the link to upload."""
from __future__ import annotations

from datetime import date

from portal.domain.identifiers import make_resident_id, make_uscc
from portal.services import cases
from tests.integration.subject_world import identity

REQUEST = "请补充执业许可证副本"


def test_materials_request_above_the_fold(app, rt, ctx, session, client, login_as, make_org, make_record,
                                          live_server, phone):
    code = make_uscc("12", "430102", "00009999")
    org = make_org(name="芙蓉区安康诊所", region_code="430102", code=code, legal_rep="钱法人")
    rep = identity(rt, "钱法人", resident_id=make_resident_id("430102", date(1970, 1, 1), 11), legal_rep_of=code,
                   sub="sub-rep")
    for i in range(4):  # several cases and notices: the request must still come first
        rec = make_record(org, title=f"未按规定登记{i}", decided_on=date(2026, 10, 9))
        case = cases.file_objection(ctx, org, rec, ground="fact_error", statement="登记有误",
                                    applicant=cases.Applicant.of(rep, "legal_rep"), commitment=True,
                                    identity_confirmed=True)
    cases.request_materials(ctx, case, role="department", reason=REQUEST)
    session.commit()
    login_as(client, rep)  # the server-side session the login would create; the browser carries its cookie
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    phone.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server}])
    phone.goto(f"{live_server}/me")
    banner = phone.locator(".materials-request").first
    assert REQUEST in banner.inner_text()
    box = banner.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 844, box
    link = banner.locator("a.button")
    link_box = link.bounding_box()
    assert link_box["y"] + link_box["height"] <= 844 and link_box["width"] > 0
    assert phone.locator("header a.nav-me").is_visible()


def test_axe_on_me_and_staff_pages(app, rt, ctx, session, client, login_as, make_org, make_record, live_server,
                                   browser):
    """axe-core (WCAG 2.2 AA) finds no serious or critical violation on ``/me`` with a 补正材料
    request, the applicant's case page, and the staff case and plate pages, on a phone."""
    import pyotp

    from portal.services import plates as plate_svc
    from portal.services import staff as staff_svc
    from tests.browser.test_a11y_browser import AXE, _axe
    from tests.conftest import require_tool
    from tests.integration.test_staff_auth import PASSWORD, web_login

    require_tool(str(AXE), "the accessibility test needs axe-core (npm ci --prefix tests/a11y)")
    source = AXE.read_text(encoding="utf-8")
    code = make_uscc("12", "430102", "00009998")
    org = make_org(name="芙蓉区安康诊所", region_code="430102", code=code, legal_rep="钱法人")
    rep = identity(rt, "钱法人", resident_id=make_resident_id("430102", date(1970, 1, 1), 11), legal_rep_of=code,
                   sub="sub-rep")
    rec = make_record(org, title="未按规定登记", decided_on=date(2026, 10, 9))
    case = cases.file_objection(ctx, org, rec, ground="fact_error", statement="登记有误",
                                applicant=cases.Applicant.of(rep, "legal_rep"), commitment=True,
                                identity_confirmed=True)
    cases.request_materials(ctx, case, role="department", reason=REQUEST)
    plate = plate_svc.issue_plate(ctx, org)
    _, uri = staff_svc.create_staff(ctx, "dept.changsha", PASSWORD, ["department", "head"], region_code="430100",
                                    display_name="张科长")
    session.commit()
    pages = {}
    login_as(client, rep)
    pages["subject"] = (client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value,
                        ["/me", f"/me/subjects/{org.public_id}/cases/{case.case_no}"])
    staff_client = app.test_client()  # a second browser: its own session
    web_login(staff_client, "dept.changsha", pyotp.parse_uri(uri).secret)
    pages["staff"] = (staff_client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value,
                      ["/staff/objections", f"/staff/cases/{case.case_no}", f"/staff/plates/{plate.plate_no}"])
    found = {}
    for cookie, paths in pages.values():
        context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                      locale="zh-CN", bypass_csp=True)
        context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": live_server}])
        page = context.new_page()
        for path in paths:
            resp = page.goto(live_server + path)
            assert resp is not None and resp.status == 200, (path, resp and resp.status)
            passes, violations = _axe(page, source)
            assert passes >= 5, path
            bad = [v for v in violations if v["impact"] in ("serious", "critical")]
            if bad:
                found[path] = bad
        context.close()
    assert found == {}
