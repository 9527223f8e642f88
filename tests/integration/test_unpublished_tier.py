"""``publication.windows.<tier>.published = false`` keeps the tier off every public surface
(国办发〔2025〕22号: 轻微失信信息可以不予公示), enforced in the privacy boundary
(portal.domain.disclosure.is_public / public_view with the profile passed in)."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

import portal.profiles
from portal.profiles import load_profile
from portal.services import plates

CANARY = "CANARY-MINOR-UNPUBLISHED-3b7e"
PUBLIC_TITLE = "一般处罚：未按规定消毒"


@pytest.fixture
def settings(settings, tmp_path):
    """The hunan profile with its 轻微 tier switched off, loaded from a file as an operator would."""
    text = (Path(portal.profiles.__file__).parent / "hunan.toml").read_text(encoding="utf-8")
    minor = text.index('severity = "minor"\nmin_months = 0')
    head, tail = text[:minor], text[minor:]
    tail = tail.replace("published = true", "published = false", 1)
    path = tmp_path / "hunan-minor-off.toml"
    path.write_text(head + tail, encoding="utf-8")
    assert load_profile(path).window("minor").published is False
    return {**settings, "PORTAL_PROFILE": str(path)}


@pytest.fixture
def planted(make_org, make_record, ctx, session, reindex):
    org = make_org(name="银河口腔诊所", category="clinic")
    make_record(org, title=PUBLIC_TITLE, severity="general")
    make_record(org, title=f"轻微处罚 {CANARY}", severity="minor", decided_on=date(2026, 10, 8),
                publish_until=date(2026, 12, 31))
    plate = plates.issue_plate(ctx, org)
    reindex()
    return org, plate


def test_unpublished_tier_on_no_public_surface(client, planted):
    org, plate = planted
    urls = [f"/facility/{org.public_id}", f"/p/{plate.token}", "/search?q=银河",
            "/search?q=轻微处罚", "/lists/red", "/lists/serious"]
    for url in urls:
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert CANARY not in resp.get_data(as_text=True), url
    facility = client.get(f"/facility/{org.public_id}").get_data(as_text=True)
    assert PUBLIC_TITLE in facility  # the check above is not vacuous

    html = client.get("/chat").get_data(as_text=True)
    token = BeautifulSoup(html, "html.parser").find("input", {"name": "csrf_token"})["value"]
    for q in ("银河口腔诊所有什么处罚", "银河口腔诊所的信用记录", "轻微处罚"):
        resp = client.post("/chat", data={"q": q, "csrf_token": token})
        assert resp.status_code == 200
        assert CANARY not in resp.get_data(as_text=True), q


def test_index_holds_no_unpublished_tier(rt, planted):
    from search_index import SearchQuery

    results = rt.backend.search(SearchQuery(text="", filters={"category": "clinic"}, page=1, per_page=50))
    blob = repr([h.doc for h in results.hits])
    assert "银河口腔诊所" in blob and PUBLIC_TITLE in blob
    assert CANARY not in blob


def test_same_record_public_under_the_stock_profile(rt, planted):
    """Control: with the stock hunan profile (轻微 published) the same record is public."""
    from sqlalchemy import select

    from portal.domain.disclosure import is_public
    from portal.models import CreditRecord

    session = rt.sessions()
    rec = session.execute(select(CreditRecord).where(CreditRecord.title.contains(CANARY))).scalar_one()
    today = rt.today()
    assert is_public(rec, today, profile=load_profile("hunan"))
    assert not is_public(rec, today, profile=rt.profile)
    session.close()


def test_loader_refuses_unpublished_general_or_serious_tier(tmp_path):
    """国办发〔2025〕22号 lets only the 轻微 tier go unpublished."""
    text = (Path(portal.profiles.__file__).parent / "hunan.toml").read_text(encoding="utf-8")
    general = text.index('severity = "general"\nmin_months = 3')
    path = tmp_path / "bad.toml"
    path.write_text(text[:general] + text[general:].replace("published = true", "published = false", 1),
                    encoding="utf-8")
    with pytest.raises(Exception, match="只有轻微失信信息可以不予公示"):
        load_profile(path)
