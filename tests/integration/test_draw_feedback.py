"""双随机、一公开 through its whole life on two profiles, with the results deadline across 春节 2027
(除夕 2027-02-05 to 初三 2027-02-08 non-working) and the strata read by the one in-force rule
(issue 16 "双随机、一公开"; 阳山 四（四）, 湖南医保 第十六、十九、二十条):

- guangdong (yearly, 阳山 四（三）): on the draw day the 2026 results are still preliminary (初评, in
  their objection window), so each unit is drawn in the stratum of its formal grade in force — the
  one its public page shows — never in its preliminary one;
- hunan-mi (rolling, 湖南医保 第十六条 动态考评): a formal grade formed this year (2027) is the
  stratum, not last year's.

Announce, run, re-run from the published seed (citizen script and ``credit-portal draw verify``),
results published within the profile's deadline (shown, and "逾期" after it), an inspection that
found a problem linked to the credit record it led to (web and CLI), every step in the audit chain.
"""
from __future__ import annotations

from datetime import date

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.domain import draw as algo
from portal.domain.workdays import add_workdays
from portal.models import AuditEvent, DrawItem, Grade
from portal.services import draws as svc
from portal.services import grading_cycle as cycle
from portal.services import indexing
from portal.services import staff as staff_svc
from portal.services.audit import verify_chain
from portal.services.calendar import load_calendar
from portal.services.errors import ServiceError
from portal.services.records import add_record

from ..conftest import DATABASES, SEARCH_BACKEND

PASSWORD = "correct horse battery staple 42"
CANARY = "DRAW-FINDING-CANARY-71b2"
DRAW_DAY = date(2027, 1, 22)  # a Friday; 20 working days later crosses 春节 2027
RESULTS_BY = date(2027, 2, 23)  # 2027-02-05 (Fri) and 2027-02-08 (Mon) are holidays
PROFILES = {"guangdong": ("441823", "clinic"), "hunan-mi": ("430105", "pharmacy")}
SIBLING = {"guangdong": "441821", "hunan-mi": "430103"}


@pytest.fixture(params=[(db, p) for p in sorted(PROFILES) for db in DATABASES], ids=lambda v: f"{v[1]}-{v[0]}")
def settings(request, tmp_path):
    database, profile = request.param
    values = {"PORTAL_VAR_DIR": str(tmp_path / "var"), "PORTAL_TODAY": "2026-11-20",
              "SEARCH_URL": f"{SEARCH_BACKEND}://{tmp_path / 'index'}", "PORTAL_PROFILE": profile,
              "PORTAL_BASE_URL": "http://127.0.0.1:5000"}
    if database == "postgresql":
        values["DATABASE_URL"] = request.getfixturevalue("pg_schema_url")
    return values


def _at(rt, session, day: date, actor: str = "test"):
    """Move "today" (PORTAL_TODAY) for the services, the pages and the CLI alike."""
    rt.settings["PORTAL_TODAY"] = day.isoformat()
    return rt.context(session, actor)


def _dishonest(ctx, org, decided_on: date, title: str):
    return add_record(ctx, org, record_type="penalty", severity="general", title=title, decided_on=decided_on,
                      scope="shared", authority="检查机关")


def _grades(rt, session, make_org, region, category) -> dict[str, tuple]:
    """Units and the stratum each must be drawn in; grades formed through the real cycle."""
    profile = rt.profile.id
    _at(rt, session, date(2026, 11, 20))
    made = {key: make_org(name=f"抽查对象{key}", category=category, region_code=region)
            for key in ("steady", "fallen", "pending")}
    if profile == "guangdong":
        made["fresh"] = make_org(name="抽查对象新开", category=category, region_code=region)  # 初评 only
        # Formal grades of 2025 (last cycle); the 2026 cycle (1-20) is in its window on the draw day.
        for key, letter in (("steady", "B"), ("fallen", "C"), ("pending", "D")):
            session.add(Grade(subject_id=made[key].id, year=2025, letter=letter, score=80, explanation=[],
                              profile_id=profile, formal_on=date(2025, 1, 23)))
        session.commit()
        out = cycle.run_cycle(_at(rt, session, date(2027, 1, 20)))
        assert out["generated"] == 4
        session.commit()
        expect = {"steady": "B", "fallen": "C", "pending": "D", "fresh": algo.UNGRADED}
    else:
        assert cycle.run_cycle(_at(rt, session, date(2026, 12, 1)))["generated"] == 3
        session.commit()
        assert cycle.run_cycle(_at(rt, session, date(2026, 12, 9)))["formal"] == 3  # formal A, 2026
        session.commit()
        _dishonest(_at(rt, session, date(2027, 1, 4)), made["fallen"], date(2027, 1, 4), "串换药品")
        session.commit()
        assert cycle.run_cycle(_at(rt, session, date(2027, 1, 5)))["generated"] == 1
        session.commit()
        assert cycle.run_cycle(_at(rt, session, date(2027, 1, 13)))["formal"] == 1  # formal B, formed in 2027
        session.commit()
        _dishonest(_at(rt, session, date(2027, 1, 20)), made["pending"], date(2027, 1, 20), "虚记费用")
        session.commit()
        assert cycle.run_cycle(_at(rt, session, date(2027, 1, 21)))["generated"] == 1  # 初评 B, in its window
        session.commit()
        made["fresh"] = make_org(name="抽查对象新开", category=category, region_code=region)  # never graded
        expect = {"steady": "A", "fallen": "B", "pending": "A", "fresh": algo.UNGRADED}
    session.commit()
    return {made[k].credit_code: (made[k], expect[k]) for k in made}


def test_draw_life_across_spring_festival(settings, monkeypatch, rt, session, client, make_org):
    from click.testing import CliRunner

    from portal.cli import main

    profile = rt.profile
    region, category = PROFILES[profile.id]
    units = _grades(rt, session, make_org, region, category)
    ctx = _at(rt, session, DRAW_DAY)

    # The strata are the grades the public pages show on the draw day (one rule: grade_in_force).
    for _code, (org, stratum) in units.items():
        shown = indexing.latest_grade(session, org.id, DRAW_DAY)
        assert (shown.letter if shown else algo.UNGRADED) == stratum
    if profile.id == "hunan-mi":
        fallen = next(org for org, s in units.values() if s == "B")
        assert session.execute(select(Grade.year).where(Grade.subject_id == fallen.id, Grade.letter == "B")
                               ).scalar_one() == 2027  # formed this year: a fixed "last year" would miss it

    dept, _ = staff_svc.create_staff(ctx, "dept.draw", PASSWORD, ["department"], region_code=region)
    inspectors = [staff_svc.create_staff(ctx, f"insp.{i}", PASSWORD, ["operator"])[0] for i in range(2)]
    session.flush()
    for user in inspectors:
        svc.add_inspector(ctx, user)
    session.commit()

    # Announce and run through the staff page.
    with client.session_transaction() as s:
        s["staff_id"] = dept.id
    assert client.post("/staff/draws", data={"op": "announce", "category": category, "region": region}).status_code == 302
    assert client.post("/staff/draws", data={"op": "run", "category": category, "region": region}).status_code == 302
    draw = svc.public_draws(_at(rt, session, DRAW_DAY))[0]
    session.refresh(draw)
    assert {code: s for code, _, s in draw.population} == {code: s for code, (_, s) in units.items()}

    # The deadline: 20 working days (profile inspection.publish_workdays) across 春节 2027.
    assert profile.inspection.publish_workdays == 20
    assert draw.drawn_on == DRAW_DAY and draw.publish_results_by == RESULTS_BY
    calendar = load_calendar(session, profile)
    assert not calendar.is_workday(date(2027, 2, 5)) and not calendar.is_workday(date(2027, 2, 8))
    assert add_workdays(DRAW_DAY, 20, calendar) == RESULTS_BY  # Mon–Fri alone would give 2027-02-19
    public = client.get(f"/draws/{draw.number}").get_data(as_text=True)
    assert "2027-02-23" in public and profile.inspection.article in public
    staff_page = client.get("/staff/draws").get_data(as_text=True)
    deadline = BeautifulSoup(staff_page, "html.parser").select_one(f"#{draw.number} .deadline").get_text()
    assert "2027-02-23" in deadline and "逾期" not in deadline

    # Anyone re-runs the draw from the published data: the citizen script and the CLI.
    data = client.get(f"/draws/{draw.number}.json").get_json()
    assert data["grades_as_of"] == DRAW_DAY.isoformat()
    namespace = {"seed": data["seed"], "seed_sha256": data["seed_sha256"],
                 "population": {c: s for c, _, s in data["population"]},
                 "percent": {c["stratum"]: c["percent"] for c in data["counts"]}, "print": lambda *_: None}
    exec(algo.CITIZEN_SCRIPT, namespace)  # noqa: S102 - the script the public page prints
    rerun = namespace["draw"](data["seed"], namespace["population"], namespace["percent"])
    published = [i["code"] for i in data["items"]]
    assert [c for s in namespace["percent"] for c in rerun[s]] == published
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PORTAL_TODAY", DRAW_DAY.isoformat())
    runner = CliRunner()
    verified = runner.invoke(main, ["draw", "verify", draw.number])
    assert verified.exit_code == 0 and "复核一致" in verified.output

    # Inspections: one finds a problem; the penalty decided later is linked to it (web), another by the CLI.
    items = {i.code: i for i in session.execute(select(DrawItem).where(DrawItem.draw_id == draw.id)).scalars()}
    assert set(items) == set(published) and len(items) >= 2
    first, second = (items[c] for c in published[:2])
    post = lambda **form: client.post("/staff/draws", data=form)  # noqa: E731
    assert post(op="link", item=str(first.id), record="1").status_code == 409  # no result yet
    assert post(op="inspect", item=str(first.id), outcome="penalty", finding=f"超范围执业 {CANARY}").status_code == 302
    assert post(op="inspect", item=str(second.id), outcome="rectify", finding="台账不全").status_code == 302
    later = _at(rt, session, date(2027, 2, 9))  # the first working day after 春节
    penalty = add_record(later, units[first.code][0], record_type="penalty", severity="general",
                         title="超范围执业行政处罚", decided_on=date(2027, 2, 9), scope="shared", authority="卫生健康委")
    other = add_record(later, units[second.code][0], record_type="penalty", severity="general",
                       title="另一机构的处罚", decided_on=date(2027, 2, 9), scope="shared", authority="卫生健康委")
    early = add_record(later, units[second.code][0], record_type="penalty", severity="general",
                       title="检查之前的处罚", decided_on=date(2027, 1, 4), scope="shared", authority="卫生健康委")
    session.commit()
    assert post(op="link", item=str(first.id), record=str(other.id)).status_code == 404  # another unit's record
    assert post(op="link", item=str(first.id), record="abc").status_code == 404
    far, _ = staff_svc.create_staff(later, "dept.far", PASSWORD, ["department"], region_code=SIBLING[profile.id])
    session.commit()
    with pytest.raises(ServiceError) as refused_far:  # another county's department may not link
        svc.link_inspection_record(later, session.get(DrawItem, first.id), str(penalty.id), user=far)
    assert refused_far.value.status == 403
    session.rollback()
    assert post(op="link", item=str(first.id), record=str(penalty.id)).status_code == 302
    assert post(op="link", item=str(first.id), record=str(penalty.id)).status_code == 409  # once
    refused = runner.invoke(main, ["draw", "link", draw.number, second.code, str(early.id)])
    assert refused.exit_code != 0 and "检查之日或之后" in refused.output
    linked = runner.invoke(main, ["draw", "link", draw.number, second.code, str(other.id)])
    assert linked.exit_code == 0, linked.output
    session.expire_all()
    assert session.get(DrawItem, first.id).record_id == penalty.id
    assert session.get(DrawItem, second.id).record_id == other.id
    assert f"已关联信用记录 #{penalty.id}" in client.get("/staff/draws").get_data(as_text=True)

    # Public: outcome labels only — no finding, no record, no inspector.
    public = client.get(f"/draws/{draw.number}").get_data(as_text=True)
    assert svc.OUTCOMES["penalty"] in public and CANARY not in public and "超范围执业行政处罚" not in public
    assert all(u.username not in public for u in (dept, *inspectors))

    # On the last day nothing is late; the next working day the open ones are shown as overdue.
    _at(rt, session, RESULTS_BY)
    assert "逾期" not in client.get(f"/draws/{draw.number}").get_data(as_text=True)
    _at(rt, session, date(2027, 2, 24))
    rows = BeautifulSoup(client.get(f"/draws/{draw.number}").get_data(as_text=True), "html.parser").select("table.drawn tr[data-code]")
    late = {r["data-code"] for r in rows if "逾期未公示检查结果" in r.get_text()}
    assert late == set(published) - {first.code, second.code} and late
    deadline = BeautifulSoup(client.get("/staff/draws").get_data(as_text=True), "html.parser").select_one(
        f"#{draw.number} .deadline").get_text()
    assert "已逾期" in deadline

    # A result recorded after the deadline is published, and stays marked as published late — even
    # when the inspection itself is dated inside the period.
    last = items[sorted(late)[0]]
    assert post(op="inspect", item=str(last.id), outcome="compliant", finding="").status_code == 302
    rows = {r["data-code"]: r.get_text() for r in BeautifulSoup(
        client.get(f"/draws/{draw.number}").get_data(as_text=True), "html.parser").select("table.drawn tr[data-code]")}
    assert "逾期公示：2027-02-24" in rows[last.code] and svc.OUTCOMES["compliant"] in rows[last.code]
    assert all("逾期公示" not in rows[c] for c in (first.code, second.code))
    data = client.get(f"/draws/{draw.number}.json").get_json()
    assert {i["code"]: i["published_on"] for i in data["items"]}[first.code] == DRAW_DAY.isoformat()

    # Every step in the audit chain, in order, and the chain verifies.
    actions = list(session.execute(select(AuditEvent.action).where(AuditEvent.action.like("draw.%"))
                                   .order_by(AuditEvent.id)).scalars())
    assert actions == ["draw.inspector_add"] * 2 + ["draw.announce", "draw.run", "draw.inspect", "draw.inspect",
                                                    "draw.link_record", "draw.link_record", "draw.inspect"]
    inspects = session.execute(select(AuditEvent.detail).where(AuditEvent.action == "draw.inspect")
                               .order_by(AuditEvent.id)).scalars().all()
    assert [d["late"] for d in inspects] == [False, False, True]
    run = session.execute(select(AuditEvent).where(AuditEvent.action == "draw.run")).scalar_one()
    assert run.detail["seed"] == data["seed"] and run.detail["drawn"] == published
    assert run.detail["grades_as_of"] == DRAW_DAY.isoformat()
    links = session.execute(select(AuditEvent.detail).where(AuditEvent.action == "draw.link_record")
                            .order_by(AuditEvent.id)).scalars().all()
    assert [d["record_id"] for d in links] == [penalty.id, other.id]
    assert verify_chain(session) == []
