"""Paths that wrote formal grades around the grading cycle (初评 → 异议期 → 正式, 湖南医保 第十九条;
阳山 四（三）; 湖南 第十八条): the plain ``credit-portal grade`` and its yearly systemd timer."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from portal.cli import main
from portal.models import AuditEvent, Grade

ROOT = Path(__file__).resolve().parents[2]


def _cli(settings, monkeypatch, today: str) -> CliRunner:
    for key, value in {**settings, "PORTAL_TODAY": today}.items():
        monkeypatch.setenv(key, value)
    return CliRunner()


def _grades(session) -> int:
    session.expire_all()
    return session.execute(select(func.count()).select_from(Grade)).scalar_one()


def test_plain_grade_writes_no_formal_grade(settings, monkeypatch, session, make_org, make_record):
    """The command a yearly timer ran every 1 January wrote last year's formal grades directly."""
    from datetime import date

    org = make_org(name="长沙市开福区某诊所", category="clinic", region_code="430105")
    make_record(org, decided_on=date(2026, 6, 1), publish_until=date(2027, 5, 31))
    session.commit()
    runner = _cli(settings, monkeypatch, "2027-01-01")
    plain = runner.invoke(main, ["grade"])
    assert plain.exit_code == 0, plain.output
    assert "grade run" in plain.output and "--load-historical" in plain.output  # the help
    assert _grades(session) == 0
    old_style = runner.invoke(main, ["grade", "--year", "2026"])
    assert old_style.exit_code != 0 and "grade run" in old_style.output
    assert _grades(session) == 0
    missing_year = runner.invoke(main, ["grade", "--load-historical"])
    assert missing_year.exit_code != 0 and "--year" in missing_year.output


def test_load_historical_refuses_years_the_cycle_manages(settings, monkeypatch, session, make_org):
    make_org(name="长沙市天心区某药店", category="pharmacy", region_code="430103")
    session.commit()
    runner = _cli(settings, monkeypatch, "2027-03-01")
    for year in ("2026", "2027"):  # last year is the cycle's (湖南 第十八条), this year too
        refused = runner.invoke(main, ["grade", "--load-historical", "--year", year])
        assert refused.exit_code != 0 and "评价周期管理" in refused.output, refused.output
    assert _grades(session) == 0
    loaded = runner.invoke(main, ["grade", "--load-historical", "--year", "2024"])
    assert loaded.exit_code == 0 and "已迁移 2024 年度历史信用等级" in loaded.output, loaded.output
    assert _grades(session) == 1
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "grade.load_historical")).scalar_one()
    assert event.detail["year"] == 2024 and event.detail["graded"] == 1


def test_load_historical_never_overwrites_a_cycle_result(settings, monkeypatch, ctx, session, make_org, make_record):
    """A year with a formal grade a cycle wrote is refused; compute_grades leaves such a row alone."""
    from datetime import date

    from portal.services.grading import compute_grades

    org = make_org(name="长沙市芙蓉区某诊所", category="clinic", region_code="430102")
    session.add(Grade(subject_id=org.id, year=2024, letter="A", score=100, explanation=[], profile_id="hunan-mi",
                      formal_on=date(2025, 1, 27)))
    make_record(org, decided_on=date(2024, 6, 1), publish_until=date(2027, 5, 31), severity="serious")
    session.commit()
    runner = _cli(settings, monkeypatch, "2027-03-01")
    refused = runner.invoke(main, ["grade", "--load-historical", "--year", "2024"])
    assert refused.exit_code != 0 and "评价周期管理" in refused.output
    compute_grades(ctx, 2024)  # demo / bulk-load path: a cycle's formal result stays as it was
    session.expire_all()
    assert session.execute(select(Grade.letter).where(Grade.subject_id == org.id)).scalar_one() == "A"


def test_no_deployed_unit_writes_formal_grades_directly():
    """deploy/systemd: the only grading unit is ``grade run`` (the cycle); nothing runs the plain
    ``credit-portal grade`` (which wrote formal grades every 1 January, beside the cycle)."""
    lines = [(unit.name, line) for unit in (ROOT / "deploy" / "systemd").glob("*.service")
             for line in unit.read_text(encoding="utf-8").splitlines() if line.startswith("ExecStart")]
    grading = [(name, line) for name, line in lines if " grade" in line]
    assert grading == [("credit-portal-grading.service", line) for _, line in grading]
    assert all(line.split(" grade", 1)[1].split()[:1] == ["run"] for _, line in grading), grading
    assert not (ROOT / "deploy" / "systemd" / "credit-portal-grade.timer").exists()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "credit-portal-grade.timer" not in readme
