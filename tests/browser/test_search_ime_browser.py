"""Search as you type with a Chinese input method, and Back after typing (issue #13)."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest


@pytest.fixture
def data(make_org, reindex):
    make_org(name="湘潭市中心医院", category="hospital", region_code="430302")
    make_org(name="芙蓉区德仁堂大药房", category="pharmacy")
    reindex()


def _search_queries(page) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda r: seen.append(parse_qs(urlsplit(r.url).query).get("q", [""])[0])
            if urlsplit(r.url).path == "/search" else None)
    return seen


def test_ime_composition_sends_no_request_until_it_ends(live_server, phone, data):
    phone.goto(live_server + "/")
    queries = _search_queries(phone)
    phone.focus("#q")
    cdp = phone.context.new_cdp_session(phone)
    for typed in ("x", "xi", "xia", "xian", "xiang", "xiangt", "xiangta", "xiangtan"):
        # What a pinyin keyboard does: the letters stay a composition, each an input event
        cdp.send("Input.imeSetComposition", {"text": typed, "selectionStart": len(typed),
                                            "selectionEnd": len(typed)})
    assert phone.input_value("#q") == "xiangtan"  # the composition really reached the box
    phone.wait_for_timeout(600)  # longer than the 250 ms debounce: a request would have gone out
    assert queries == []
    assert phone.locator(".notice").count() == 0  # no "没有找到与“xiangtan”…"
    cdp.send("Input.insertText", {"text": "湘潭"})  # the reader picks the characters
    phone.wait_for_selector(".hit-name")
    assert phone.locator(".hit-name").all_inner_texts() == ["湘潭市中心医院"]
    assert queries == ["湘潭"]


def test_plain_typing_still_searches_and_back_leaves_the_page(live_server, phone, data):
    phone.goto(live_server + "/lists/red")
    phone.goto(live_server + "/")
    for text in ("德", "德仁", "德仁堂"):
        phone.fill("#q", text)
        phone.wait_for_function("t => new URL(location.href).searchParams.get('q') === t", arg=text)
    assert phone.locator(".hit-name").all_inner_texts() == ["芙蓉区德仁堂大药房"]
    phone.go_back()
    phone.wait_for_url(live_server + "/lists/red")
    assert urlsplit(phone.url).path == "/lists/red"
