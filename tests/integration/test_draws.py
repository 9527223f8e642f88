"""双随机、一公开 by grade through its whole life on two profiles (issue 16): 阳山 四（四）
A 5%/B 20%/C 50%/D、E 100% (guangdong) and 湖南 第二十、二十一、二十三条 (hunan). Announce (seed
commitment), run, re-run the citizen script from the published JSON, the public page, 回避,
inspection results with a linked credit record, every step in the audit chain."""
from __future__ import annotations

import math
from datetime import date

import pytest
from sqlalchemy import select

from portal.domain import draw as algo
from portal.models import AuditEvent, CreditRecord, DrawItem, Grade
from portal.services import draws as svc
from portal.services import staff as staff_svc
from portal.services.audit import verify_chain
from portal.services.errors import ServiceError
from portal.services.grading import exclude_from_grading

from ..conftest import DATABASES, SEARCH_BACKEND, TODAY

PASSWORD = "correct horse battery staple 42"
PROFILES = {
    # profile: (region drawn, sibling county left out, grade -> how many units)
    "guangdong": ("441823", "441821", {"A": 21, "B": 6, "C": 3, "D": 1, "E": 2}),
    "hunan": ("430102", "430103", {"A": 21, "B": 6, "C": 3, "D": 2}),
}
UNGRADED_UNITS = 3


@pytest.fixture(params=[(db, p) for p in sorted(PROFILES) for db in DATABASES], ids=lambda v: f"{v[1]}-{v[0]}")
def settings(request, tmp_path):
    """tests/conftest.py's settings, on both databases, for each of the two profiles."""
    database, profile = request.param
    values = {"PORTAL_VAR_DIR": str(tmp_path / "var"), "PORTAL_TODAY": TODAY.isoformat(),
              "SEARCH_URL": f"{SEARCH_BACKEND}://{tmp_path / 'index'}", "PORTAL_PROFILE": profile,
              "PORTAL_BASE_URL": "http://127.0.0.1:5000"}
    if database == "postgresql":
        values["DATABASE_URL"] = request.getfixturevalue("pg_schema_url")
    return values


def _world(ctx, session, make_org, make_person):
    region, sibling, per_grade = PROFILES[ctx.profile.id]
    year = ctx.today.year - 1
    units = {}
    for letter, n in per_grade.items():
        for i in range(n):
            org = make_org(name=f"{letter}级诊所{i:02d}", category="clinic", region_code=region)
            session.add(Grade(subject_id=org.id, year=year, letter=letter, score=90, explanation=[],
                              profile_id=ctx.profile.id))
            units[org.credit_code] = letter
    new = [make_org(name=f"新设诊所{i}", category="clinic", region_code=region) for i in range(UNGRADED_UNITS - 1)]
    excluded = make_org(name="停业整顿诊所", category="clinic", region_code=region)
    session.add(Grade(subject_id=excluded.id, year=year - 1, letter="A", score=99, explanation=[],
                      profile_id=ctx.profile.id))  # an older grade, ended by the exclusion
    session.flush()
    exclude_from_grading(ctx, excluded, year, "停业整顿，依规定不参加本期评价")
    for org in new:
        units[org.credit_code] = algo.UNGRADED
    # Not graded for last year (湖南 第十八条: a yearly period; not taking part = no result for it),
    # so no grade is in force — its public page shows none (services.indexing.grade_in_force) —
    # and the draw counts it 未评级 by that same rule, not by the older A.
    units[excluded.credit_code] = algo.UNGRADED
    outside = [make_org(name="邻县诊所", category="clinic", region_code=sibling),
               make_org(name="同县医院", category="hospital", region_code=region)]
    person = make_person(name="李医生", category="doctor", region_code=region)
    session.commit()
    return units, outside, person


def _staff(ctx, session, name, roles, region=""):
    user, _ = staff_svc.create_staff(ctx, name, PASSWORD, roles, region_code=region, display_name=f"检查员{name}")
    session.flush()
    return user


def test_draw_whole_life(client, rt, ctx, session, make_org, make_person):
    profile = ctx.profile
    region, sibling, per_grade = PROFILES[profile.id]
    units, outside, person = _world(ctx, session, make_org, make_person)
    dept = _staff(ctx, session, "dept.draw", ["department"], region)
    far = _staff(ctx, session, "dept.far", ["department"], sibling)
    pool = [_staff(ctx, session, f"insp.{i}", ["operator"]) for i in range(3)]
    for user in pool:
        svc.add_inspector(ctx, user)
    conflicted_code = sorted(c for c, s in units.items() if s in ("D", "E"))[0]  # drawn for sure (100%)
    from portal.models import Subject
    conflicted_subject = session.execute(select(Subject).where(Subject.credit_code == conflicted_code)).scalar_one()
    svc.add_conflict(ctx, pool[0], "曾在该县执业，近亲属开办诊所", region_code=region)
    svc.add_conflict(ctx, pool[1], "与该机构负责人有利害关系", subject=conflicted_subject)
    session.commit()

    # Running before a commitment is refused; staff of another county may not organise it.
    with pytest.raises(ServiceError) as err:
        svc.run_draw(ctx, "clinic", region, dept)
    assert err.value.status == 409
    with pytest.raises(ServiceError) as err:
        svc.announce_draw(ctx, "clinic", region, far)
    assert err.value.status == 403
    with pytest.raises(ServiceError):
        svc.announce_draw(ctx, "doctor", region, dept)  # persons are not drawn

    draw = svc.announce_draw(ctx, "clinic", region, dept)
    session.commit()
    assert draw.seed_sha256 == algo.commitment(draw.seed)
    page = client.get(f"/draws/{draw.number}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert draw.seed_sha256 in html and draw.seed not in html  # committed, not revealed
    assert "seed" not in client.get(f"/draws/{draw.number}.json").get_json()
    with pytest.raises(ServiceError) as err:
        svc.announce_draw(ctx, "clinic", region, dept)
    assert err.value.status == 409

    draw = svc.run_draw(ctx, "clinic", region, dept)
    session.commit()

    # The ratios per grade, ceil(n × percent / 100); the ungraded stratum at the profile's value.
    percent = {r.grade: r.percent for r in profile.inspection.ratios} | {algo.UNGRADED: profile.inspection.ungraded_percent}
    counts = {c["stratum"]: (c["population"], c["drawn"]) for c in draw.counts}
    expected = dict(per_grade) | {algo.UNGRADED: UNGRADED_UNITS}  # the excluded unit is 未评级 (湖南 第十八条)
    assert {s: n for s, (n, _) in counts.items()} == expected
    for stratum, (n, k) in counts.items():
        assert k == math.ceil(n * percent[stratum] / 100)
    assert counts["A"] == (21, 2) and counts["B"] == (6, 2) and counts["C"] == (3, 2)
    if profile.id == "guangdong":
        assert percent == {"A": 5, "B": 20, "C": 50, "D": 100, "E": 100, algo.UNGRADED: 50}
        assert counts["E"] == (2, 2)
    assert counts[algo.UNGRADED] == (3, 2)  # two new units and the excluded one
    population_codes = {code for code, _, _ in draw.population}
    assert population_codes == set(units)  # no other county, no other category, no person
    assert all(o.credit_code not in population_codes for o in outside)
    assert dict((c, s) for c, _, s in draw.population) == units

    # The citizen's re-run, from the public JSON only.
    data = client.get(f"/draws/{draw.number}.json").get_json()
    namespace = {"seed": data["seed"], "seed_sha256": data["seed_sha256"],
                 "population": {c: s for c, _, s in data["population"]},
                 "percent": {c["stratum"]: c["percent"] for c in data["counts"]}, "print": lambda *_: None}
    exec(algo.CITIZEN_SCRIPT, namespace)  # noqa: S102 - the script printed on the public page
    rerun = namespace["draw"](data["seed"], namespace["population"], namespace["percent"])
    published = [i["code"] for i in data["items"]]
    assert [c for s in namespace["percent"] for c in rerun[s]] == published
    assert svc.verify(data) and not svc.verify({**data, "seed": "0" * 64})
    tampered = {**data, "items": list(reversed(data["items"]))}
    assert not svc.verify(tampered)
    assert sorted(published) == sorted(set(published))
    assert conflicted_code in published

    # 回避: pool[0] excluded for the whole region, pool[1] for one unit.
    items = session.execute(select(DrawItem).where(DrawItem.draw_id == draw.id).order_by(DrawItem.rank)).scalars().all()
    assert all(pool[0].id not in i.inspectors for i in items)
    by_code = {i.code: i for i in items}
    assert by_code[conflicted_code].inspectors == [pool[2].id]  # the only one left
    assert all(sorted(i.inspectors) == sorted([pool[1].id, pool[2].id]) for c, i in by_code.items() if c != conflicted_code)

    # Public page: organisations only, the seed revealed, no inspector, no person.
    html = client.get(f"/draws/{draw.number}").get_data(as_text=True)
    assert draw.seed in html and all(code in html for code in published)
    for secret in (person.name, *(u.username for u in pool), *(u.display_name for u in pool), dept.username):
        assert secret not in html
    assert draw.number in client.get("/draws").get_data(as_text=True)

    # Inspection results; a finding files a credit record through the record verb.
    first, second = items[0], by_code[conflicted_code]
    with pytest.raises(ServiceError):
        svc.record_inspection(ctx, second, "rectify", "")  # a problem needs its finding
    with pytest.raises(ServiceError) as err:
        svc.record_inspection(ctx, second, "compliant", "", user=far)
    assert err.value.status == 403
    svc.record_inspection(ctx, first, "compliant", "", user=pool[2])
    finding = "处方笺未按规定保存，现场责令整改（内部记录）"
    svc.record_inspection(ctx, second, "rectify", finding, user=dept,
                          new_record={"record_type": "inspection", "title": "双随机抽查发现问题，责令整改",
                                      "decided_on": ctx.today, "info_class": "dishonest", "severity": "minor"})
    session.commit()
    with pytest.raises(ServiceError) as err:
        svc.record_inspection(ctx, first, "compliant", "")
    assert err.value.status == 409
    record = session.get(CreditRecord, second.record_id)
    assert record is not None and record.subject_id == second.subject_id
    html = client.get(f"/draws/{draw.number}").get_data(as_text=True)
    assert svc.OUTCOMES["rectify"] in html and svc.OUTCOMES["compliant"] in html and finding not in html
    assert "逾期" not in html
    assert ctx.today == date(2026, 11, 20)  # a Friday: 20 working days (no holiday in between) is 4 weeks
    assert draw.publish_results_by == date(2026, 12, 18) and "2026-12-18" in html
    late = svc.public_view(ctx.__class__(**{**ctx.__dict__, "today": draw.publish_results_by}), draw)
    assert not any(i["overdue"] for i in late["items"])  # due on that day, not yet late
    later = date.fromordinal(draw.publish_results_by.toordinal() + 1)
    late = svc.public_view(ctx.__class__(**{**ctx.__dict__, "today": later}), draw)
    assert [i["code"] for i in late["items"] if i["overdue"]] == [c for c in published if c not in (first.code, second.code)]

    # Every step in the audit chain, in order, and the chain verifies.
    actions = list(session.execute(select(AuditEvent.action).where(AuditEvent.action.like("draw.%"))
                                   .order_by(AuditEvent.id)).scalars())
    assert actions == ["draw.inspector_add"] * 3 + ["draw.conflict_add"] * 2 + ["draw.announce", "draw.run",
                                                                                "draw.inspect", "draw.inspect"]
    run = session.execute(select(AuditEvent).where(AuditEvent.action == "draw.run")).scalar_one()
    assert run.detail["seed"] == draw.seed and run.detail["drawn"] == published
    assert session.execute(select(AuditEvent).where(AuditEvent.action == "record.add",
                                                    AuditEvent.object_ref == f"record:{record.id}")).scalar_one()
    assert verify_chain(session) == []


def test_staff_page_runs_a_draw(client, rt, ctx, session, make_org):
    region, _, _ = PROFILES[ctx.profile.id]
    make_org(name="唯一诊所", category="clinic", region_code=region)
    user = _staff(ctx, session, "dept.web", ["department"], region)
    session.commit()
    assert client.get("/staff/draws").status_code == 302  # login first
    with client.session_transaction() as s:
        s["staff_id"] = user.id
    assert client.get("/staff/draws").status_code == 200
    r = client.post("/staff/draws", data={"op": "run", "category": "clinic", "region": region})
    assert r.status_code == 409 and "先公布种子承诺" in r.get_data(as_text=True)
    r = client.post("/staff/draws", data={"op": "announce", "category": "clinic", "region": "999999"})
    assert r.status_code == 400
    assert client.post("/staff/draws", data={"op": "announce", "category": "clinic", "region": region}).status_code == 302
    assert client.post("/staff/draws", data={"op": "run", "category": "clinic", "region": region}).status_code == 302
    number = svc.public_draws(ctx)[0].number
    data = client.get(f"/draws/{number}.json").get_json()
    assert [i["name"] for i in data["items"]] == ["唯一诊所"]  # ungraded, ceil(1 × 50%) = 1
    item = session.execute(select(DrawItem)).scalar_one()
    r = client.post("/staff/draws", data={"op": "inspect", "item": str(item.id), "outcome": "bogus"})
    assert r.status_code == 400
    r = client.post("/staff/draws", data={"op": "inspect", "item": str(item.id), "outcome": "compliant"})
    assert r.status_code == 302
    assert client.get("/draws/NOPE").status_code == 404
    _, sibling, _ = PROFILES[ctx.profile.id]
    far = _staff(ctx, session, "dept.elsewhere", ["department"], sibling)
    session.commit()
    with client.session_transaction() as s:
        s["staff_id"] = far.id
    page = client.get("/staff/draws").get_data(as_text=True)
    assert number not in page and "唯一诊所" not in page  # staff-only findings stay in their region
    assert client.get("/draws/NOPE.json").status_code == 404


def test_cli_announce_run_result_verify(settings, monkeypatch, rt, ctx, session, make_org):
    from click.testing import CliRunner

    from portal.cli import main

    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    cli = lambda *args: runner.invoke(main, list(args))  # noqa: E731
    region, _, _ = PROFILES[ctx.profile.id]
    orgs = [make_org(name=f"诊所{i}", category="clinic", region_code=region) for i in range(4)]
    user = _staff(ctx, session, "insp.cli", ["operator"])
    session.commit()
    refused = cli("draw", "run", "--category", "clinic", "--region", region)
    assert refused.exit_code != 0 and "先公布种子承诺" in refused.output
    assert cli("draw", "inspector-add", "insp.cli").exit_code == 0
    assert cli("draw", "conflict", "insp.cli", "--subject", orgs[0].credit_code, "--reason", "亲属关系").exit_code == 0
    assert cli("draw", "conflict", "insp.cli", "--reason", "无对象").exit_code != 0
    announced = cli("draw", "announce", "--category", "clinic", "--region", region)
    assert announced.exit_code == 0, announced.output
    ran = cli("draw", "run", "--category", "clinic", "--region", region)
    assert ran.exit_code == 0, ran.output
    assert "未评级\t50%\t对象 4\t抽中 2" in ran.output  # ceil(4 × 50%) = 2
    number = ran.output.split()[1]
    session.expire_all()
    items = session.execute(select(DrawItem).order_by(DrawItem.rank)).scalars().all()
    assert len(items) == 2
    assert all((i.inspectors == []) == (i.code == orgs[0].credit_code) for i in items) and user.id
    assert cli("draw", "result", number, items[0].code, "--outcome", "compliant").exit_code == 0
    again = cli("draw", "result", number, items[0].code, "--outcome", "compliant")
    assert again.exit_code != 0 and "已登记" in again.output
    assert cli("draw", "result", number, "91000000000000000X", "--outcome", "compliant").exit_code != 0
    verified = cli("draw", "verify", number)
    assert verified.exit_code == 0 and "复核一致" in verified.output
