"""What a public page says first (issue #13): is there a current reason for concern?

A citizen who scans a plate or searches a hospital must see in the first screen whether the
unit is on the serious-dishonesty list, has current 严重 / 一般 penalties, has lost its licence,
or has an objection or repair under way, before the grade (a yearly, backward-looking rating:
湖南 第十七–十八条; 阳山 generates last year's grades on 20 January). Computed from *public*
views only (``disclosure.public_subject`` / ``public_view``): whatever the public may not see
cannot move the summary either (DESIGN.md "The privacy boundary").

The result is a plain dict (JSON-serialisable) so that the search document can carry it and the
one template partial (``templates/public/_risk.html``) renders it everywhere.
"""
from __future__ import annotations

from datetime import date, datetime

from .vocab import SEVERITY_LABELS, InfoClass, Severity, SubjectStatus, record_type_label

LIST_TYPES = ("serious_list", "blacklist", "joint_punishment")
BAD, WARN, OK = "bad", "warn", "ok"
_RANK = {OK: 0, WARN: 1, BAD: 2}


def _item(level: str, kind: str, text: str) -> dict:
    return {"level": level, "kind": kind, "text": text}


def risk_summary(subject: dict, records: list[dict], today: date) -> dict:
    """The current-risk summary of one subject from its public views.

    ``subject``: ``public_subject(...)``; ``records``: the ``public_view(...)`` dicts in force
    today (each may carry ``case_marker``: "异议处理中" / "信用修复中"). Returns
    ``{"level": "bad"|"warn"|"ok", "items": [{"level", "kind", "text"}, ...], "counts": {...}}``
    with the most serious item first; ``items`` is never empty.
    """
    items: list[dict] = []
    listed = sorted((r for r in records if r.get("record_type") in LIST_TYPES),
                    key=lambda r: r.get("publish_from") or r.get("decided_on") or today)
    for r in listed:
        since = r.get("decided_on") or r.get("publish_from")
        until = r.get("publish_until")
        items.append(_item(BAD, "list", f"列入{record_type_label(r['record_type'])}（自 {since} 起"
                                        + (f"，公示至 {until}）" if until else "）")))
    status = subject.get("status") or SubjectStatus.ACTIVE
    valid_until = subject.get("licence_valid_until")
    if status == SubjectStatus.LICENCE_REVOKED:
        items.append(_item(BAD, "licence", "许可已被吊销，不得继续执业或经营"))
    elif status == SubjectStatus.CLOSED:
        items.append(_item(BAD, "licence", "已注销或停业"))
    elif isinstance(valid_until, date) and valid_until < today:
        items.append(_item(BAD, "licence", f"许可证已过期（有效期至 {valid_until}）"))
    adverse = [r for r in records if r.get("info_class") == InfoClass.DISHONEST]
    counts = {s.value: sum(1 for r in adverse if r.get("severity") == s) for s in Severity}
    unrated = sum(1 for r in adverse if not r.get("severity"))
    parts = [f"{SEVERITY_LABELS[s]} {counts[s.value]} 条" for s in (Severity.SERIOUS, Severity.GENERAL, Severity.MINOR)
             if counts[s.value]]
    if unrated:
        parts.append(f"其他 {unrated} 条")
    if parts:
        level = BAD if counts[Severity.SERIOUS] else WARN if counts[Severity.GENERAL] else OK
        items.append(_item(level, "penalties", "公示期内行政处罚等失信信息：" + "、".join(parts)))
    markers: dict[str, int] = {}
    for r in records:
        if r.get("case_marker"):
            markers[r["case_marker"]] = markers.get(r["case_marker"], 0) + 1
    for marker, n in sorted(markers.items()):
        items.append(_item(WARN, "case", f"{marker}（{n} 条信息）"))
    if not items:
        items.append(_item(OK, "none", "公示期内无行政处罚和失信信息"))
    items.sort(key=lambda i: -_RANK[i["level"]])  # stable: lists, licence, penalties, cases
    level = max((i["level"] for i in items), key=_RANK.__getitem__)
    return {"level": level, "items": items,
            "counts": {"listed": len(listed), **counts, "cases": sum(markers.values())}}


#: The grades a search hit flags (``templates/public/_results.html``): D of an A–D scale, D and E
#: of an A–E one.
POOR_GRADES = ("D", "E")


def search_rank(risk: dict, grade: str | None) -> int:
    """How far up a search hit moves among equally good matches (issue #13: "risk first among
    equals"): 3 on a serious-dishonesty list / 失信黑名单, 2 with a poor grade (D, E), 1 with
    another serious reason (licence revoked or expired, a current 严重 penalty), else 0.
    ``risk`` is :func:`risk_summary`'s result, so only public information moves a hit."""
    if risk.get("counts", {}).get("listed"):
        return 3
    if grade in POOR_GRADES:
        return 2
    return 1 if risk.get("level") == BAD else 0


def interim_notice(records: list[dict], graded_on: date | None, grade_year: int | None) -> str:
    """"评定后有新增失信信息" (issue #13, where the profile's ``display.interim_notice`` allows it):
    public adverse records in force that arrived after the grade was made. The grade itself does
    not change until the next grading (湖南 第十八条); this only says that it is older than them."""
    if graded_on is None or grade_year is None:
        return ""
    newer = [r for r in records if r.get("info_class") in (InfoClass.DISHONEST, InfoClass.SERIOUS)
             and (r.get("publish_from") or r.get("decided_on") or graded_on) > graded_on]
    if not newer:
        return ""
    return (f"评定后有新增失信信息：{grade_year} 年度等级评定（{graded_on}）之后新增 {len(newer)} 条，"
            "将在下一年度评定中体现，请以上方风险提示和下方公示信息为准。")


def grade_note(year: int | None, computed: date | datetime | None, *, rolling_article: str = "") -> str:
    """What a grade means in time. Yearly: which year it rates, when it was made, and that later
    information counts only at the next grading (湖南 第十八条: fixed for the previous year).
    Rolling (``rolling_article`` given, 湖南医保 第十六、十九条 动态考评): the day it became formal, and
    that later information changes it through a new result and its objection window — not "next
    year". (No word of 初评 here: the public page speaks of formal results only.)"""
    if year is None:
        return ""
    day = computed.date() if isinstance(computed, datetime) else computed
    if rolling_article:
        made = f"{day} 形成的" if day else ""
        return (f"动态评价：{made}正式结果；此后信用信息有变化的，随时重新评价，经异议期后形成新的正式结果"
                f"（{rolling_article}）")
    made = f"（{day}）" if day else ""
    return f"{year} 年度评定{made}；此后新增的信息将在下一年度评定中体现"
