"""Filters and the CSV download of the public red and serious-dishonesty lists (issue #13).

Small on purpose: the list query itself belongs to the public-list read service; this module only
turns hostile query arguments into known filter values, those into SQL conditions on ``Subject``,
and already-public entries (``public_view`` / ``public_subject`` dicts) into a CSV file.
"""
from __future__ import annotations

import csv
import io

from ..domain.vocab import CATEGORIES
from ..models import Subject

LIST_FILTER_KEYS = ("city", "county", "category", "q")
MAX_NAME_QUERY = 50
CSV_COLUMNS = ("主体名称", "统一社会信用代码（证件号码）", "类别", "所在地区", "事由", "认定部门", "文书号",
               "决定日期", "公示截止")


def clean_list_filters(args, profile) -> dict[str, str]:
    """Only a city, a county or a category the profile knows passes; anything else is dropped.
    ``q`` (search within the list) is text, cut to 50 characters, matched as a substring.
    A county outside the chosen city is dropped too (the county select lists every county)."""
    cities = {r.code for r in profile.regions if r.level == "city"}
    counties = {r.code: r.parent for r in profile.regions if r.level == "county"}
    out: dict[str, str] = {}
    for key in ("city", "county", "category"):
        value = (args.get(key) or "").strip()[:16]
        if key == "city" and value in cities:
            out[key] = value
        elif key == "county" and value in counties:
            out[key] = value
        elif key == "category" and value in CATEGORIES:
            out[key] = value
    name = " ".join((args.get("q") or "").replace("\x00", "").split())[:MAX_NAME_QUERY]
    if name:  # search within the list: the shown (public) name contains the text
        out["q"] = name
    if "city" in out and "county" in out and counties[out["county"]] not in (None, out["city"]):
        del out["county"]
    return out


def list_conditions(filters: dict[str, str]) -> list:
    """SQL conditions on ``Subject`` for cleaned filters (a city covers its counties: the first
    four digits of the GB/T 2260 code)."""
    conditions = []
    if "county" in filters:
        conditions.append(Subject.region_code == filters["county"])
    elif "city" in filters:
        conditions.append(Subject.region_code.like(filters["city"][:4] + "%"))
    if "category" in filters:
        conditions.append(Subject.category == filters["category"])
    if "q" in filters:
        conditions.append(Subject.name.contains(filters["q"], autoescape=True))
    return conditions


def list_csv(entries: list[dict], profile) -> bytes:
    """The entries as CSV, UTF-8 with a BOM so that Excel opens the Chinese text correctly.
    Only fields of the public views; a cell that starts like a formula is quoted with ' (CSV
    injection: names and titles come from outside)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        s, r = e["subject"], e["record"]
        region = profile.region(s.get("region_code"))
        writer.writerow([_cell(v) for v in (
            s["name"], s.get("credit_code") or s.get("code_masked") or "", s.get("category_label") or "",
            region.name if region else s.get("region_code") or "", r["title"], r.get("authority") or "",
            r.get("doc_no") or "", r.get("decided_on") or "", r.get("publish_until") or "长期")])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
