"""The subject's pages on a phone (390×844, issue 14): an objection filed from the record's own row;
tables stacked as label/value rows; axe-core (WCAG 2.2 AA) finds no serious or critical violation
on /me (notices, 补正材料, notification settings), the subject page, its access log and its
authorisations."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal.domain.identifiers import make_resident_id, make_uscc
from portal.models import Case
from portal.services import cases
from portal.services import staff as staff_svc
from portal.services.access_log import log_staff_view
from tests.integration.subject_world import identity

REQUEST = "请补充执业许可证副本"


@pytest.fixture
def desk(ctx, session, rt, make_org, make_record):
    code = make_uscc("12", "430102", "00005555")
    org = make_org(name="芙蓉区安康诊所", region_code="430102", code=code, legal_rep="钱法人")
    first = make_record(org, title="未按规定登记执业地点", decided_on=date(2026, 10, 9))
    second = make_record(org, title="未按规定公示收费项目", decided_on=date(2026, 9, 1))
    rep = identity(rt, "钱法人", resident_id=make_resident_id("430102", date(1970, 1, 1), 11), legal_rep_of=code,
                   sub="sub-rep")
    user, _ = staff_svc.create_staff(ctx, "dept.furong", "Pa55word-long-enough!", ["department"],
                                     region_code="430102", display_name="张科员")
    log_staff_view(ctx, user.username, user.display_name, org.id, "办理异议", what="case")
    session.commit()
    return {"org": org, "first": first, "second": second, "rep": rep}


def _logged_in(app, client, login_as, context, who, live_server):
    login_as(client, who)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server}])


def test_objection_filed_from_the_records_own_row(app, client, login_as, session, live_server, phone, desk):
    org, second = desk["org"], desk["second"]
    _logged_in(app, client, login_as, phone.context, desk["rep"], live_server)
    phone.goto(f"{live_server}/me/subjects/{org.public_id}")
    row = phone.locator(f"#record-{second.lineage_id}")
    assert "未按规定公示收费项目" in row.locator(".record-title").inner_text()
    button = row.locator(".record-actions a.file-objection")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= 390, box  # a tap target
    button.tap()
    phone.wait_for_url("**/objection")
    phone.locator("input[name=ground]").first.check()
    phone.locator("textarea[name=statement]").fill("收费项目已在大厅公示，附照片")
    phone.locator("input[name=identity]").check()
    phone.locator("input[name=commitment]").check()
    phone.locator("form.case-form button[type=submit]").click()
    phone.wait_for_url("**/cases/**")
    session.expire_all()
    filed = session.execute(select(Case)).scalar_one()
    assert filed.record_lineage_id == second.lineage_id  # the row's own record, not one matched by title
    assert filed.case_no in phone.locator("h1").inner_text()
    # back on the subject page: that row now shows its open case instead of the button
    phone.goto(f"{live_server}/me/subjects/{org.public_id}")
    actions = phone.locator(f"#record-{second.lineage_id} .record-actions")
    assert filed.case_no in actions.inner_text() and actions.locator("a.file-objection").count() == 0
    assert phone.locator(f"#record-{desk['first'].lineage_id} .record-actions a.file-objection").count() == 1
    summary = phone.locator("section.summary")
    assert filed.case_no in summary.inner_text()
    box = summary.bounding_box()
    assert box["y"] < 844  # the summary starts on the first screen


def test_tables_stack_with_labels_on_a_phone(app, client, login_as, live_server, phone, desk):
    org = desk["org"]
    _logged_in(app, client, login_as, phone.context, desk["rep"], live_server)
    phone.goto(f"{live_server}/me/subjects/{org.public_id}/access-log")
    cell = phone.locator("table.access-log tbody tr").first.locator("td").first
    label = cell.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"时间"'
    assert phone.locator("table.access-log thead").is_hidden()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width  # no sideways scrolling


def test_axe_on_subject_pages(app, ctx, session, client, login_as, live_server, browser, desk):
    from tests.browser.test_a11y_browser import AXE, _axe
    from tests.conftest import require_tool

    require_tool(str(AXE), "the accessibility test needs axe-core (npm ci --prefix tests/a11y)")
    source = AXE.read_text(encoding="utf-8")
    org = desk["org"]
    case = cases.file_objection(ctx, org, desk["first"], ground="fact_error", statement="登记有误",
                                applicant=cases.Applicant.of(desk["rep"], "legal_rep"), commitment=True,
                                identity_confirmed=True)
    cases.request_materials(ctx, case, role="department", reason=REQUEST)
    session.commit()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  locale="zh-CN", bypass_csp=True)
    _logged_in(app, client, login_as, context, desk["rep"], live_server)
    page = context.new_page()
    found = {}
    base = f"/me/subjects/{org.public_id}"
    for path in ("/me", base, f"{base}/access-log", f"{base}/access-log?who=staff", f"{base}/authorisations"):
        resp = page.goto(live_server + path)
        assert resp is not None and resp.status == 200, (path, resp and resp.status)
        passes, violations = _axe(page, source)
        assert passes >= 5, path
        bad = [v for v in violations if v["impact"] in ("serious", "critical")]
        if bad:
            found[path] = bad
    context.close()
    assert found == {}
