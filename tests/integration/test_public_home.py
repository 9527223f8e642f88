"""The citizens' home page (issue #13): the site title once, the hotline callable, what a plate
scan does and what the grades mean, and no providers' import template."""
from __future__ import annotations

from bs4 import BeautifulSoup


def test_home_for_citizens(client, rt):
    soup = BeautifulSoup(client.get("/").get_data(as_text=True), "html.parser")
    body = soup.body
    title = rt.profile.portal_name
    assert body.get_text().count(title) == 1  # the header's brand, not again as the page heading
    assert soup.h1.get_text() != title
    assert not soup.select("a[href*='import-template']")
    assert soup.select_one(f"footer a[href='tel:{rt.profile.hotline}']") is not None
    assert "扫码" in soup.select_one("#scan-help").get_text()
    legend = soup.select_one("#grade-help .grade-legend").get_text()
    for g in rt.profile.grades:
        assert g.label in legend and g.meaning in legend


def test_facility_page_hotline_is_a_tel_link(client, make_org, reindex, rt):
    org = make_org(name="长沙市第一人民医院")
    reindex()
    soup = BeautifulSoup(client.get(f"/facility/{org.public_id}").get_data(as_text=True), "html.parser")
    assert soup.select_one(f"main a[href='tel:{rt.profile.hotline}']") is not None
