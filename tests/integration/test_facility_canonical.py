"""The facility page names its one URL for search engines: search results link it with
``?from=search`` (the top-searched statistics), which must not make a second indexed page.
The QR scan page stays out of search engines (noindex), as before."""
from __future__ import annotations

from bs4 import BeautifulSoup

from portal.services import plates as plate_svc

BASE = "https://xyxx.example.gov.cn/portal/"


def _canonical(resp) -> list[str]:
    assert resp.status_code == 200
    soup = BeautifulSoup(resp.get_data(as_text=True), "html.parser")
    return [link["href"] for link in soup.select('link[rel="canonical"]')]


def test_facility_page_has_one_canonical_url_from_the_base_url(rt, client, make_org, session):
    rt.settings["PORTAL_BASE_URL"] = BASE  # before the first render: the page is cached per day
    org = make_org(name="天王星口腔诊所", category="clinic")
    session.commit()
    plain = f"https://xyxx.example.gov.cn/portal/facility/{org.public_id}"
    for url in (f"/facility/{org.public_id}?from=search", f"/facility/{org.public_id}",
                f"/facility/{org.public_id}?from=search&utm=x", f"/facility/{org.public_id}?from=search"):
        assert _canonical(client.get(url)) == [plain], url


def test_scan_page_stays_noindex_without_a_canonical(rt, client, make_org, ctx, session):
    org = make_org(name="海王星口腔诊所", category="clinic")
    plate = plate_svc.issue_plate(ctx, org)
    session.commit()
    resp = client.get(f"/p/{plate.token}")
    assert _canonical(resp) == []
    assert resp.headers["X-Robots-Tag"] == "noindex"
    soup = BeautifulSoup(resp.get_data(as_text=True), "html.parser")
    assert soup.select_one('meta[name="robots"]')["content"] == "noindex"
