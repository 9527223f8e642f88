"""Citations (issue 11 §3): every profile cites its own regulation; editable defaults are marked;
quotations of 湖南 第二十八条 match the original text."""
from __future__ import annotations

from pathlib import Path

import pytest

import portal.domain
from portal.profiles import load_profile

OWN = {"hunan": "湖南 ", "hunan-mi": "湖南医保 ", "hainan": "海南 ", "guangdong": "阳山 ", "jiangsu": "淮安 "}
POLICIES = Path(__file__).resolve().parents[3] / "shared" / "policies"  # ../shared beside the checkout


@pytest.mark.parametrize("name", sorted(OWN))
def test_repair_is_free_cites_the_profiles_own_regulation(name):
    """Before: guangdong, jiangsu, hunan (and hunan-mi) cited 海南 第四十一条 for "repair is free"."""
    article = load_profile(name).repair.article_for("free")
    assert article.startswith(OWN[name]), article


@pytest.mark.parametrize("name", ["guangdong", "jiangsu"])
def test_commitment_condition_is_marked_default(name):
    """阳山 四（六） and 淮安 三（六） list a commitment as a way to repair, not as a condition."""
    commitment = next(c for c in load_profile(name).repair.conditions if c.code == "commitment")
    assert commitment.is_default()


def test_hunan_28_quotation_has_no_quarantine():
    """湖南 第二十八条 lists 检验、检测、鉴定或者专家评审 — not 检疫."""
    src = Path(portal.domain.__file__).parent
    for module in ("workdays.py", "cases.py"):
        assert "检疫" not in (src / module).read_text(encoding="utf-8"), module
    text = POLICIES / "hunan-health-credit-measures-2025.txt"
    if text.exists():
        body = text.read_text(encoding="utf-8")
        assert "检验、检测、鉴定或者专家评审" in body and "检疫" not in body
