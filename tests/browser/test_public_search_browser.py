"""Live search as you type, in a real browser, on a phone-sized screen."""
from __future__ import annotations

import pytest


@pytest.fixture
def data(make_org, make_record, reindex):
    make_org(name="长沙市第一人民医院", category="hospital")
    make_org(name="芙蓉区德仁堂大药房", category="pharmacy")
    reindex()


def test_live_results_and_no_horizontal_scroll(live_server, phone, data):
    phone.goto(live_server + "/")
    phone.fill("#q", "民医")
    phone.wait_for_selector(".hit-name")
    assert phone.locator(".hit-name").all_inner_texts() == ["长沙市第一人民医院"]
    assert "q=" in phone.url  # hx-push-url keeps the URL shareable
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone.click(".hit-name")
    phone.wait_for_selector("h1")
    assert phone.locator("h1").first.inner_text() == "长沙市第一人民医院"


def test_search_works_without_javascript(browser, live_server, data):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + "/")
    page.fill("#q", "大药房")
    page.click("button[type=submit]")
    page.wait_for_selector(".hit-name")
    assert page.locator(".hit-name").all_inner_texts() == ["芙蓉区德仁堂大药房"]
    context.close()
