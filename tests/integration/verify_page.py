"""Reading the public verification page (/verify/report/…, /verify/document/…) after an upload."""
from __future__ import annotations

from bs4 import BeautifulSoup


def match_verdict(resp) -> str:
    """"yes" or "no" for the uploaded copy, after checking the page states exactly one verdict:
    a match is green under "真实有效"; a mismatch is a single red verdict with no green "真实有效"
    anywhere above or beside it (issue 14)."""
    html = BeautifulSoup(resp.data, "html.parser")
    verdicts = html.select(".banner")
    if html.select_one("#file-verdict") is not None:  # match: the genuine verdict plus the match line
        assert [v.get("id") for v in verdicts] == ["verdict", "file-verdict"]
        assert all("bad" not in v.get("class", []) for v in verdicts)
        assert html.select_one("#verdict")["data-genuine"] == "yes"
        return html.select_one("#file-verdict")["data-match"]
    assert len(verdicts) == 1, [v.get_text() for v in verdicts]
    verdict = verdicts[0]
    assert verdict.get("id") == "verdict" and "bad" in verdict["class"]
    assert verdict["data-genuine"] == "no" and "真实有效" not in html.get_text()
    return verdict["data-match"]
