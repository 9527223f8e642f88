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
