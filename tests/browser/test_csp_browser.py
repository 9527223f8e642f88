"""The Content-Security-Policy (portal/web/security_headers.py) in a real browser: the pages and
what htmx does on them (live search, the chat panel) report no violation; a violation would be
seen (the listener is checked with a deliberately forbidden inline script)."""
from __future__ import annotations

import pytest

from portal.services import plates as svc

LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sample || ''));
});
"""


@pytest.fixture
def data(make_org, make_record, ctx, reindex):
    org = make_org(name="星城仁爱医院", category="hospital")
    make_record(org, title="未按规定报告传染病疫情", severity="general")
    plate = svc.issue_plate(ctx, org)
    reindex()
    return org, plate


@pytest.fixture
def page(phone):
    console = []
    phone.on("console", lambda msg: console.append(msg.text) if msg.type == "error" else None)
    phone.add_init_script(LISTEN)  # added by the browser itself: not subject to the page's policy
    phone.console_errors = console
    return phone


def violations(page) -> list[str]:
    found = page.evaluate("() => window.__csp || []")
    return found + [m for m in page.console_errors if "Content Security Policy" in m]


def test_no_violation_on_the_pages_and_their_htmx(live_server, page, data):
    org, plate = data
    resp = page.goto(live_server + "/")
    assert "script-src 'self'" in resp.headers["content-security-policy"]  # the policy is in force
    page.wait_for_load_state("networkidle")
    assert violations(page) == []

    page.goto(live_server + "/search")
    page.fill("#q", "星城")  # typing triggers the htmx live search
    page.wait_for_selector("#results a[href*='/facility/']")
    assert page.evaluate("() => location.search").startswith("?q=")  # htmx pushed the URL
    assert violations(page) == []

    page.goto(f"{live_server}/facility/{org.public_id}")
    page.wait_for_load_state("networkidle")
    assert violations(page) == []

    page.goto(f"{live_server}/p/{plate.token}")
    page.wait_for_selector("h1")
    assert page.evaluate("() => getComputedStyle(document.querySelector('header')).backgroundColor") \
        == "rgb(179, 38, 30)"  # the hashed inline style applied
    assert violations(page) == []

    page.goto(live_server + "/")
    page.click("#chat-launcher a")
    page.wait_for_selector("#chat-panel #chat-q")
    page.fill("#chat-q", "信用修复要多久？")
    page.press("#chat-q", "Enter")
    page.wait_for_function("() => document.querySelectorAll('#chat-log .chat-bot').length >= 2")
    assert page.input_value("#chat-q") == ""  # static/js/chat.js reset the form
    page.goto(live_server + "/chat")
    page.wait_for_load_state("networkidle")
    assert violations(page) == []


def test_a_violation_would_be_seen(live_server, page, data):
    page.goto(live_server + "/")
    page.evaluate("""() => { const s = document.createElement('script');
                             s.textContent = 'window.__ran = 1'; document.body.appendChild(s); }""")
    page.wait_for_function("() => window.__csp.length > 0")
    assert page.evaluate("() => window.__ran") is None  # the inline script did not run
    assert any("script-src" in v for v in violations(page))


def test_a_typed_id_number_stays_out_of_title_and_history(live_server, page, data):
    """Live search with a full ID number: searched, but neither the address bar (history) nor the
    title holds it (the server answers htmx with HX-Push-Url: false)."""
    from datetime import date

    from portal.domain.identifiers import make_resident_id

    number = make_resident_id("430102", date(1980, 5, 17), 123)
    page.goto(live_server + "/search")
    page.fill("#q", "星城")
    page.wait_for_selector("#results a[href*='/facility/']")
    assert "q=" in page.url  # an ordinary query is pushed
    with page.expect_response(lambda r: "/search?" in r.url and number in r.url) as answer:
        page.fill("#q", number)
    assert answer.value.headers.get("hx-push-url") == "false"
    page.wait_for_selector("#results .notice")
    assert number not in page.url and number not in page.title()
    assert number not in page.locator("#results").inner_text()
    assert violations(page) == []
