"""Issue #13 on a phone (390×844, Chromium): the scan page is one request under 50 KB; the chat,
on the full /chat page and in the floating panel, shows the start of each new answer and keeps
the focus in the input."""
from __future__ import annotations

from datetime import date

import pytest

from portal.services import plates as svc

pytestmark = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)  # the pages, not the database


@pytest.fixture
def settings(settings):
    return {**settings, "PORTAL_CHAT_RATE_PER_MINUTE": "1000"}


@pytest.fixture
def plate(ctx, make_org, make_record, reindex):
    org = make_org(name="芙蓉区德仁堂大药房", category="pharmacy", licence_no="湘DA7390008",
                   licence_valid_until=date(2028, 12, 31))
    make_record(org, record_type="blacklist", title="销售假药列入失信黑名单", severity="serious",
                decided_on=date(2026, 4, 2))
    for i in range(6):
        make_record(org, title=f"未按规定储存药品 {i}", severity="general", decided_on=date(2026, 8, 1 + i))
    p = svc.issue_plate(ctx, org)
    reindex()
    return p


@pytest.mark.browser
def test_scan_page_is_one_request_under_50_kb(live_server, phone, plate):
    requests: list[str] = []
    phone.on("request", lambda r: requests.append(r.url))
    resp = phone.goto(f"{live_server}/p/{plate.token}")
    phone.wait_for_load_state("networkidle")
    assert resp.status == 200
    assert len(resp.body()) < 50 * 1024
    # no CSS, script or image: only the page (the browser asks for /favicon.ico on its own)
    assert [u for u in requests if not u.endswith("/favicon.ico")] == [resp.url]
    assert "列入失信黑名单" in phone.locator("#risk").inner_text()


QUESTIONS = ["信用修复要多久？", "异议怎么提？", "信用修复需要什么材料", "失信信息公示多久", "信用等级有什么用"]


def _ask_and_check(page, question: str, count: int) -> None:
    page.fill("#chat-q", question)
    page.press("#chat-q", "Enter")
    page.wait_for_function(f"() => document.querySelectorAll('#chat-log .chat-bot').length >= {count}")
    page.wait_for_timeout(50)  # let the scroll happen (runs right after the swap)
    # the start of the new exchange is on screen, in the upper half: read from its beginning
    top = page.evaluate("""() => {
        const answers = document.querySelectorAll('#chat-log .chat-bot');
        return answers[answers.length - 1].previousElementSibling.getBoundingClientRect().top;
    }""")
    assert 0 <= top <= 844 / 2, (question, top)
    assert page.evaluate("document.activeElement && document.activeElement.id") == "chat-q", question
    assert page.input_value("#chat-q") == ""


@pytest.mark.browser
def test_chat_page_shows_the_start_of_each_answer_and_keeps_the_focus(live_server, phone):
    phone.goto(live_server + "/chat")
    for n, question in enumerate(QUESTIONS, 2):  # the greeting is the first bot message
        _ask_and_check(phone, question, n)
    assert phone.evaluate("window.scrollY") > 0  # the page really had to scroll


@pytest.mark.browser
def test_floating_panel_shows_the_start_of_each_answer_and_keeps_the_focus(live_server, phone):
    phone.goto(live_server + "/")
    phone.click("#chat-launcher a")
    phone.wait_for_selector("#chat-panel #chat-q")
    for n, question in enumerate(QUESTIONS, 2):
        _ask_and_check(phone, question, n)
    assert phone.evaluate("document.getElementById('chat-log').scrollTop") > 0  # the log really scrolled
