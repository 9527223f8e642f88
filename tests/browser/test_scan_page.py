"""The QR scan page on a phone (390×844) in headless Chromium: fits the screen, readable text,
works without JavaScript, and carries nothing from non-public records."""
from __future__ import annotations

from datetime import date

import pytest

from portal.services import plates as svc

CANARY = "CANARY-SCAN-BROWSER-9f1e"
LONG_NAME = "长沙市芙蓉区某某街道社区卫生服务中心附属口腔门诊部ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789（普通合伙）"

READABLE_JS = """() => {
  const small = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim()) continue;
    const el = node.parentElement;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 14) small.push([el.tagName, node.textContent.trim().slice(0, 20), size]);
  }
  return small;
}"""


@pytest.fixture
def plate(make_org, make_record, ctx, session, reindex):
    org = make_org(name=LONG_NAME, category="clinic",
                   address="长沙市芙蓉区五一大道1号金星大厦B座12楼1201-1205室（地铁2号线芙蓉广场站C出口往东200米）",
                   licence_no="PDY12345643010217A1002XYZ", licence_valid_until=date(2028, 12, 31))
    for i in range(3):
        make_record(org, title=f"公开处罚 {i}：未按规定消毒医疗器械，违反《医疗机构管理条例》相关规定", severity="general",
                    doc_no=f"湘卫医罚〔2026〕{100 + i}号")
    make_record(org, record_type="commendation", title="年度优秀基层医疗机构")
    make_record(org, title=f"不公开 {CANARY}", scope="shared")
    p = svc.issue_plate(ctx, org)
    reindex()
    return p


@pytest.mark.browser
def test_scan_page_on_a_phone(live_server, phone, plate):
    resp = phone.goto(f"{live_server}/p/{plate.token}")
    assert resp.status == 200
    phone.wait_for_selector("h1")
    assert LONG_NAME in phone.locator("h1").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert phone.evaluate(READABLE_JS) == []
    assert CANARY not in phone.content()
    assert phone.locator("#banner-genuine").is_visible()
    assert phone.locator('a[href="tel:12345"]').is_visible()


@pytest.mark.browser
def test_scan_page_without_javascript(browser, live_server, plate):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844},
                                  is_mobile=True, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server}/p/{plate.token}")
    assert page.locator("#grade").is_visible()
    assert page.locator("#penalties .record").count() == 3
    context.close()


@pytest.mark.browser
def test_forged_plate_on_a_phone(live_server, phone, plate):
    resp = phone.goto(f"{live_server}/p/AAAAAAAAAAAAAAAA")
    assert resp.status == 404
    assert phone.locator("#banner-not-genuine").is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert phone.evaluate(READABLE_JS) == []
