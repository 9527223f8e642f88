"""The chat panel in a real browser: the launcher opens it in place, answers are appended,
follow-ups resolve, a 429 is shown in the panel; and the page works without JavaScript."""
from __future__ import annotations

import pytest


@pytest.fixture
def settings(settings):
    return {**settings, "PORTAL_CHAT_RATE_PER_MINUTE": "4"}


@pytest.fixture
def data(make_org, make_record, reindex):
    org = make_org(name="星城仁爱医院", category="hospital")
    make_record(org, title="未按规定报告传染病疫情", severity="general")
    reindex()


def _ask(page, text: str, count: int) -> str:
    page.fill("#chat-q", text)
    page.press("#chat-q", "Enter")
    # a function, not an expression string: Playwright would eval() a string, which the CSP forbids
    page.wait_for_function(f"() => document.querySelectorAll('#chat-log .chat-bot').length >= {count}")
    return page.locator("#chat-log .chat-bot").nth(count - 1).inner_text()


def test_panel_on_a_public_page(live_server, phone, data):
    phone.goto(live_server + "/")
    phone.click("#chat-launcher a")
    phone.wait_for_selector("#chat-panel #chat-q")
    assert phone.url.rstrip("/") == live_server  # opened in place, no navigation
    first = _ask(phone, "信用修复要多久？", 2)  # the greeting is the first bot message
    assert "10个工作日" in first and "第三十条" in first
    assert phone.input_value("#chat-q") == ""  # the form was reset
    assert "未按规定报告传染病疫情" not in _ask(phone, "星城仁爱医院是什么等级", 3)
    assert "未按规定报告传染病疫情" in _ask(phone, "它有处罚吗", 4)
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert "智能问答助手" in _ask(phone, "你好", 5)
    # the fifth question in a minute is over this test's limit of four: shown in the panel
    assert "提问过于频繁" in _ask(phone, "你好", 6)


def test_chat_works_without_javascript(browser, live_server, data):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + "/")
    page.click("#chat-launcher a")
    page.wait_for_selector("#chat-q")
    page.fill("#chat-q", "异议怎么提？")
    page.click(".chat-form button[type=submit]")
    page.wait_for_selector(".chat-cites")
    assert "第二十八条" in page.locator(".chat-bot").last.inner_text()
    context.close()
