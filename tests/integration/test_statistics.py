"""Statistics and reports (issue 15; 海南 第五十条, 阳山 四（三）): the figures the dashboard, the
Excel summary, the PDF report and ``credit-portal stats`` show match counts written here directly
in SQL; the Excel opens with openpyxl with the right cells; the PDF parses and holds the figures;
only the supervising staff roles, in their own region, may read them."""
from __future__ import annotations

import dataclasses
import io
import json
from datetime import date, datetime

import pytest
from bs4 import BeautifulSoup
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import text

from portal.domain.statistics import Period, decided_in_time, parse_period
from portal.models import Grade
from portal.services import cases
from portal.services import plates as plate_svc
from portal.services import staff as staff_svc
from portal.services import statistics as svc
from portal.services.errors import ServiceError
from portal.services.records import correct_record, set_record_status

from .pdf_tools import flat, pdf_text
from .test_staff_auth import APPLICANT, PASSWORD, _secret, web_login

YEAR = 2026
P2026 = Period(date(2026, 1, 1), date(2026, 12, 31))


def _on(ctx, day: date):
    return dataclasses.replace(ctx, today=day)


@pytest.fixture
def world(ctx, session, make_org, make_record):
    a = make_org(name="芙蓉区甲医院", region_code="430102")
    b = make_org(name="天心区乙诊所", category="clinic", region_code="430103")
    z = make_org(name="株洲丙药房", category="pharmacy", region_code="430202")
    make_record(a, title="未按规定公示", decided_on=date(2026, 3, 5), authority="长沙市卫生健康委员会")
    make_record(a, record_type="commendation", title="优秀单位", decided_on=date(2026, 3, 20), authority="芙蓉区卫健局")
    old = make_record(b, title="违规执业", decided_on=date(2026, 7, 1), authority="长沙市卫生监督所")
    correct_record(ctx, old, {"title": "违规执业（更正）"}, "文字错误")  # a version, not a new record
    make_record(b, title="去年的处罚", decided_on=date(2025, 6, 1))
    make_record(z, title="株洲处罚", decided_on=date(2026, 9, 9), authority="株洲市卫生健康委员会")
    make_record(a, record_type="blacklist", title="列入失信黑名单", decided_on=date(2026, 4, 2))
    gone = make_record(b, record_type="serious_list", title="严重失信主体名单", decided_on=date(2026, 2, 1))
    set_record_status(ctx, gone, "repaired", "信用修复决定")
    session.flush()
    session.execute(text("UPDATE credit_records SET updated_at = :at WHERE id = :id"),
                    {"at": datetime(2026, 8, 1, 3, 0), "id": gone.id})
    make_record(z, record_type="redlist", title="守信红名单", decided_on=date(2025, 5, 1),
                publish_until=date(2026, 5, 1))
    for subject, year, letter in ((a, 2026, "A"), (b, 2026, "C"), (z, 2026, "A"), (a, 2025, "B")):
        session.add(Grade(subject_id=subject.id, year=year, letter=letter, score=80, explanation=[],
                          profile_id="hunan"))
    # objections: one decided in time, one late, one withdrawn, one open
    r1 = make_record(a, title="异议一", decided_on=date(2026, 1, 5))
    c1 = cases.file_objection(_on(ctx, date(2026, 10, 9)), a, r1, ground="fact_error", statement="有误",
                              applicant=APPLICANT, commitment=True, identity_confirmed=True)
    cases.decide_objection(_on(ctx, date(2026, 10, 12)), c1, "uphold", role="department", reason="属实",
                           effect="withdrawn")
    r2 = make_record(a, title="异议二", decided_on=date(2026, 1, 6))
    c2 = cases.file_objection(_on(ctx, date(2026, 10, 9)), a, r2, ground="fact_error", statement="有误",
                              applicant=APPLICANT, commitment=True, identity_confirmed=True)
    cases.decide_objection(_on(ctx, date(2026, 10, 30)), c2, "uphold", role="department", reason="属实",
                           effect="withdrawn")
    r3 = make_record(b, title="异议三", decided_on=date(2026, 1, 7))
    c3 = cases.file_objection(_on(ctx, date(2026, 11, 2)), b, r3, ground="fact_error", statement="有误",
                              applicant=APPLICANT, commitment=True, identity_confirmed=True)
    cases.withdraw_case(_on(ctx, date(2026, 11, 3)), c3, APPLICANT, "撤回")
    r4 = make_record(z, title="异议四", decided_on=date(2026, 1, 8))
    cases.file_objection(ctx, z, r4, ground="fact_error", statement="有误", applicant=APPLICANT,
                         commitment=True, identity_confirmed=True)
    pa, pz = plate_svc.issue_plate(ctx, a), plate_svc.issue_plate(ctx, z)
    plate_svc.record_scans(session, {(pa.id, date(2026, 11, 1)): 5, (pa.id, date(2026, 11, 2)): 2,
                                     (pz.id, date(2026, 11, 2)): 9, (pz.id, date(2025, 12, 31)): 4})
    _, dept = staff_svc.create_staff(ctx, "dept.changsha", PASSWORD, ["department"], region_code="430100")
    _, prov = staff_svc.create_staff(ctx, "prov.one", PASSWORD, ["provider"], authority="长沙市卫生监督所")
    _, op = staff_svc.create_staff(ctx, "op.all", PASSWORD, ["operator"])
    session.commit()
    return {"a": a, "b": b, "z": z, "dept": _secret(dept), "prov": _secret(prov), "op": _secret(op),
            "late": c2, "in_time": c1}


# --- the figures against SQL written independently ------------------------------------------------

def _sql(session, sql: str, **params):
    return session.execute(text(sql), params).all()


REGION = {"": "1=1", "430100": "substr(s.region_code, 1, 4) = '4301'", "430102": "s.region_code = '430102'"}


@pytest.mark.parametrize("region", ["", "430100", "430102"])
def test_figures_match_direct_sql(ctx, session, world, region):
    dash = svc.dashboard(ctx, svc.period_for(ctx, year=YEAR, region=region))
    where = REGION[region]
    span = {"a": date(2026, 1, 1), "b": date(2026, 12, 31)}

    records = _sql(session, f"""SELECT r.info_class, r.authority, count(*) FROM credit_records r
        JOIN subjects s ON s.id = r.subject_id
        WHERE r.version = 1 AND r.decided_on BETWEEN :a AND :b AND {where}
        GROUP BY r.info_class, r.authority""", **span)
    mine = {}
    for _, c, a, n in dash.records:
        mine[(c, a)] = mine.get((c, a), 0) + n
    assert mine == {(c, a): n for c, a, n in records}
    assert sum(mine.values()) > 0

    grades = _sql(session, f"""SELECT s.region_code, s.category, g.letter, count(*) FROM grades g
        JOIN subjects s ON s.id = g.subject_id WHERE g.year = 2026 AND {where}
        GROUP BY s.region_code, s.category, g.letter""")
    assert sorted(dash.grades) == sorted((r, c, g, n) for r, c, g, n in grades)

    cwhere = where.replace("s.region_code", "c.region_code")
    received = dict(_sql(session, f"""SELECT c.kind, count(*) FROM cases c
        WHERE c.received_on BETWEEN :a AND :b AND {cwhere} GROUP BY c.kind""", **span))
    decided = dict(_sql(session, f"""SELECT c.kind, count(*) FROM cases c WHERE c.closed_on BETWEEN :a AND :b
        AND c.outcome <> 'withdrawn' AND {cwhere} GROUP BY c.kind""", **span))
    # within the limit: the closing event's day is not after the due date stored on the event before it
    in_time = dict(_sql(session, f"""SELECT c.kind, count(*) FROM cases c
        JOIN case_events last ON last.case_id = c.id
          AND last.id = (SELECT max(id) FROM case_events WHERE case_id = c.id)
        LEFT JOIN case_events prev ON prev.case_id = c.id
          AND prev.id = (SELECT max(id) FROM case_events WHERE case_id = c.id AND id < last.id)
        WHERE c.closed_on BETWEEN :a AND :b AND c.outcome <> 'withdrawn' AND {cwhere}
          AND (prev.due_on IS NULL OR last."on" <= prev.due_on) GROUP BY c.kind""", **span))
    assert {k: (f.received, f.decided, f.decided_in_time) for k, f in dash.cases.items()} == {
        k: (received.get(k, 0), decided.get(k, 0), in_time.get(k, 0)) for k in ("objection", "repair")}

    entries = dict(_sql(session, f"""SELECT r.record_type, count(*) FROM credit_records r
        JOIN subjects s ON s.id = r.subject_id WHERE r.version = 1
        AND r.record_type IN ('redlist', 'blacklist', 'serious_list', 'joint_punishment')
        AND r.publish_from BETWEEN :a AND :b AND {where} GROUP BY r.record_type""", **span))
    exits = dict(_sql(session, f"""SELECT r.record_type, count(*) FROM credit_records r
        JOIN subjects s ON s.id = r.subject_id WHERE r.is_current
        AND r.record_type IN ('redlist', 'blacklist', 'serious_list', 'joint_punishment')
        AND ((r.status = 'active' AND r.publish_until BETWEEN :a AND :b)
             OR (r.status IN ('repaired', 'withdrawn', 'deleted')
                 AND r.updated_at >= :ta AND r.updated_at < :tb))
        AND {where} GROUP BY r.record_type""", ta=datetime(2026, 1, 1), tb=datetime(2027, 1, 1), **span))
    assert {t: v for t, v in dash.lists.items() if any(v)} == {
        t: (entries.get(t, 0), exits.get(t, 0)) for t in set(entries) | set(exits)}

    scans = dict(_sql(session, f"""SELECT d.day, sum(d.count) FROM plate_scan_days d
        JOIN plates p ON p.id = d.plate_id JOIN subjects s ON s.id = p.subject_id
        WHERE d.day BETWEEN :a AND :b AND {where} GROUP BY d.day""", **span))
    assert {d: n for d, n in dash.scans if n} == {d if isinstance(d, date) else date.fromisoformat(d): n
                                                  for d, n in scans.items()}
    assert len(dash.scans) == 365

    top = _sql(session, f"""SELECT s.name, sum(d.count) AS n FROM plate_scan_days d
        JOIN plates p ON p.id = d.plate_id JOIN subjects s ON s.id = p.subject_id
        WHERE d.day BETWEEN :a AND :b AND {where} AND s.kind = 'org'
        GROUP BY s.id, s.name ORDER BY n DESC, s.name""", **span)
    assert [(name, n) for name, _, n in dash.top] == [(name, n) for name, n in top]


def test_known_figures_of_the_world(ctx, world):
    """The fixture's own facts, so that a wrong SQL twin cannot hide a wrong figure."""
    dash = svc.dashboard(ctx, svc.period_for(ctx, year=YEAR))
    assert dash.cases["objection"].received == 4  # the withdrawn one was received too
    assert (dash.cases["objection"].decided, dash.cases["objection"].decided_in_time) == (2, 1)
    assert dash.lists["blacklist"] == (1, 0) and dash.lists["serious_list"] == (1, 1)
    assert dash.lists["redlist"] == (0, 1)  # entered 2025, window ended 2026-05-01
    assert sum(n for _, n in dash.scans) == 16  # the 2025 scans are outside
    assert [(name, n) for name, _, n in dash.top] == [("株洲丙药房", 9), ("芙蓉区甲医院", 7)]
    furong = svc.dashboard(ctx, svc.period_for(ctx, year=YEAR, region="430102"))
    assert [(name, n) for name, _, n in furong.top] == [("芙蓉区甲医院", 7)]
    spring = svc.dashboard(ctx, svc.period_for(ctx, month_from="2026-03", month_to="2026-04"))
    assert sorted(m for m, *_ in spring.records) == ["2026-03", "2026-03", "2026-04"]


def test_decided_in_time_reads_the_step_due_date():
    class E:
        def __init__(self, on, due_on):
            self.on, self.due_on = on, due_on

    assert decided_in_time([E(date(2026, 10, 9), date(2026, 10, 14)), E(date(2026, 10, 14), None)])
    assert not decided_in_time([E(date(2026, 10, 9), date(2026, 10, 14)), E(date(2026, 10, 15), None)])
    assert decided_in_time([E(date(2026, 10, 9), None), E(date(2027, 1, 1), None)])


@pytest.mark.parametrize("args, message", [
    ({"year": "20x6"}, "年度应为"), ({"year": "1999"}, "年度应为"), ({"month_from": "2026-13"}, "月份"),
    ({"month_from": "2026-05", "month_to": "2026-01"}, "起始月份"), ({"month_from": "2020-01", "month_to": "2026-01"}, "36"),
])
def test_bad_periods_are_refused_in_chinese(args, message):
    from portal.domain.statistics import PeriodError

    with pytest.raises(PeriodError, match=message):
        parse_period(date(2026, 11, 20), **args)


# --- the Excel summary and the PDF report ---------------------------------------------------------

def test_summary_xlsx_opens_and_has_the_right_cells(client, session, world):
    web_login(client, "dept.changsha", world["dept"])
    resp = client.get(f"/staff/stats/summary.xlsx?year={YEAR}")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(io.BytesIO(resp.data)).active
    header = [c.value for c in ws[3]]
    assert header == list(svc.SUMMARY_COLUMNS)
    rows = {r[0]: r for r in ws.iter_rows(min_row=4, values_only=True)}
    assert set(rows) == {"430102", "430103", None}  # Changsha only: the account's region; Zhuzhou left out
    col = {name: i for i, name in enumerate(header)}
    for code in ("430102", "430103"):
        (n,), = _sql(session, """SELECT count(*) FROM credit_records r JOIN subjects s ON s.id = r.subject_id
            WHERE r.version = 1 AND r.decided_on BETWEEN '2026-01-01' AND '2026-12-31' AND s.region_code = :c""",
                     c=code)
        assert rows[code][col["归集信息合计"]] == n
        (dis,), = _sql(session, """SELECT count(*) FROM credit_records r JOIN subjects s ON s.id = r.subject_id
            WHERE r.version = 1 AND r.info_class = 'dishonest' AND r.decided_on BETWEEN '2026-01-01' AND '2026-12-31'
            AND s.region_code = :c""", c=code)
        assert rows[code][col["失信信息"]] == dis
    assert rows["430102"][col["A"]] == 1 and rows["430103"][col["C"]] == 1
    assert rows["430102"][col["异议受理"]] == 2 and rows["430102"][col["异议按期办结"]] == 1
    assert rows["430102"][col["扫码次数"]] == 7
    total = rows[None]  # the total row has no region code
    assert total[1] == "合计" and total[col["归集信息合计"]] == sum(rows[c][col["归集信息合计"]] for c in ("430102", "430103"))


def test_report_pdf_parses_and_holds_the_figures(client, ctx, world, tmp_path):
    web_login(client, "op.all", world["op"])
    resp = client.get(f"/staff/stats/report.pdf?year={YEAR}")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(resp.data))
    assert len(reader.pages) >= 1 and "归集和应用情况报告" in (reader.metadata.title or "")
    body = flat(pdf_text(resp.data, tmp_path))
    dash = svc.dashboard(ctx, svc.period_for(ctx, year=YEAR))
    assert "2026年医疗卫生信用信息归集和应用情况报告" in body
    assert "《湖南省卫生健康信用信息管理办法（试行）》第三十二条" in body  # the active profile's own article
    assert "海南" not in body
    assert "株洲市卫生健康委员会" in body and "长沙市卫生监督所" in body
    f = dash.cases["objection"]
    assert f"异议{f.received}{f.decided}{f.decided_in_time}" in body
    assert f"二维码身份牌扫码查询{sum(n for _, n in dash.scans)}" in body
    assert "失信黑名单10" in body and "严重失信主体名单11" in body
    assert "不保存公众的搜索词" in body


def test_report_cites_hainan_under_the_hainan_profile():
    from portal.documents.citations import profile_cite
    from portal.domain.statistics import REPORT_BASIS
    from portal.profiles import load_profile

    assert profile_cite(load_profile("hainan"), REPORT_BASIS).endswith("第五十条")
    assert "第三十二条" not in profile_cite(load_profile("hainan"), REPORT_BASIS)


# --- the dashboard page ---------------------------------------------------------------------------

def test_dashboard_charts_have_titles_and_tables(client, ctx, world):
    web_login(client, "dept.changsha", world["dept"])
    resp = client.get(f"/staff/stats/?year={YEAR}")
    assert resp.status_code == 200
    soup = BeautifulSoup(resp.get_data(as_text=True), "html.parser")
    svgs = soup.select("section.stats-chart svg")
    assert len(svgs) == 9
    for svg in svgs:
        assert svg["role"] == "img" and svg.find("title").get_text() and svg.find("desc") is not None
        assert svg.find_parent("section").select_one("details table") is not None
        assert not svg.find_all(attrs={"style": True})  # the CSP allows no inline style
    assert not soup.find_all("script", src=False, string=True) or all(
        not s.string.strip() for s in soup.find_all("script", src=False))
    cases_rows = {tr.th.get_text(): [td.get_text() for td in tr.find_all("td")]
                  for tr in soup.select("#cases-table tbody tr")}
    dash = svc.dashboard(ctx, svc.period_for(ctx, year=YEAR, region="430100"))
    f = dash.cases["objection"]
    assert cases_rows["异议"] == [str(f.received), str(f.decided), str(f.decided_in_time)]
    top = [[c.get_text() for c in tr.find_all(["th", "td"])] for tr in soup.select("#top-table tbody tr")]
    assert top == [["芙蓉区甲医院", "芙蓉区", "7"]]  # Zhuzhou is outside the account's region
    assert "不保存公众的搜索词" in soup.get_text()
    assert soup.select_one("nav.staff-nav a[href='/staff/stats/']") is not None


def test_dashboard_refuses_who_may_not(client, login_as, world):
    resp = client.get("/staff/stats/")
    assert resp.status_code == 302 and "/staff/login" in resp.headers["Location"]
    for path in ("/staff/stats/summary.xlsx", "/staff/stats/report.pdf"):
        assert "/staff/login" in client.get(path).headers["Location"]
    web_login(client, "prov.one", world["prov"])  # a providing unit alone: its workspace, not the figures
    for path in ("/staff/stats/", "/staff/stats/summary.xlsx", "/staff/stats/report.pdf"):
        resp = client.get(path)
        assert resp.status_code == 403 and "统计与报告" in resp.get_data(as_text=True)
    client.post("/staff/logout")
    web_login(client, "dept.changsha", world["dept"])
    resp = client.get("/staff/stats/?region=430202")  # Zhuzhou: outside the account's region
    assert resp.status_code == 403 and "管辖范围" in resp.get_data(as_text=True)
    for bad in ("?year=abcd", "?from=2026-1x", "?region=999999", "?from=2026-06&to=2026-01"):
        resp = client.get("/staff/stats/" + bad)
        assert resp.status_code == 400, bad
    assert client.get("/staff/stats/summary.xlsx?year=99999").status_code == 400


def test_service_refuses_a_citizen_and_a_provider(ctx, session, world, rt):
    from sqlalchemy import select

    from portal.domain.identity import Identity
    from portal.models import StaffUser

    prov = session.execute(select(StaffUser).where(StaffUser.username == "prov.one")).scalar_one()
    citizen = Identity(iss="https://idp", sub="x", name="路人", acr="face")
    for caller in (prov, citizen):
        with pytest.raises(ServiceError) as refused:
            svc.dashboard(dataclasses.replace(ctx, caller=caller), P2026)
        assert refused.value.status == 403


# --- the command line prints the same numbers -----------------------------------------------------

@pytest.fixture
def cli(settings, monkeypatch, app):
    from click.testing import CliRunner

    from portal.cli import main

    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


def test_cli_prints_the_same_figures(cli, ctx, world):
    out = cli("stats", "dashboard", "--year", str(YEAR), "--json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == svc.dashboard(ctx, svc.period_for(ctx, year=YEAR)).to_json()
    out = cli("stats", "summary", "--year", str(YEAR), "--region", "430100", "--json")
    _, rows = svc.annual_summary(ctx, YEAR, "430100")
    assert json.loads(out.output) == [dict(zip(svc.SUMMARY_COLUMNS, r, strict=True)) for r in rows]
    text_out = cli("stats", "dashboard", "--year", str(YEAR))
    assert "按期办结 1" in text_out.output and "扫码次数：16" in text_out.output
    bad = cli("stats", "summary", "--year", "20x6")
    assert bad.exit_code != 0 and "年度应为" in bad.output


@pytest.mark.parametrize("year", ["²⁰²⁶", "٢٠٢٦", "2026\x00", " 2026x", "9" * 400])
def test_odd_digits_are_a_clear_refusal_not_a_crash(year):
    from portal.domain.statistics import PeriodError

    with pytest.raises(PeriodError):
        parse_period(date(2026, 11, 20), year=year)
    with pytest.raises(PeriodError):
        parse_period(date(2026, 11, 20), month_from=f"{year}-01")


def test_summary_rows_equal_the_dashboard_of_each_region(ctx, world):
    """The summary's grouped queries and the dashboard's per-period reads agree region by region."""
    _, rows = svc.annual_summary(ctx, YEAR)
    col = {name: i for i, name in enumerate(svc.SUMMARY_COLUMNS)}
    assert {r[0] for r in rows[:-1]} == {"430102", "430103", "430202"}
    for row in rows[:-1]:
        d = svc.dashboard(ctx, svc.period_for(ctx, year=YEAR, region=row[0]))
        o, rp = d.cases["objection"], d.cases["repair"]
        assert row[col["归集信息合计"]] == sum(n for *_, n in d.records)
        assert row[col["参评主体"]] == sum(n for *_, n in d.grades)
        assert row[col["异议受理"]:col["修复按期办结"] + 1] == [o.received, o.decided, o.decided_in_time,
                                                             rp.received, rp.decided, rp.decided_in_time]
        assert row[col["名单列入"]] == sum(e for e, _ in d.lists.values())
        assert row[col["名单移出"]] == sum(x for _, x in d.lists.values())
        assert row[col["扫码次数"]] == sum(n for _, n in d.scans)


# --- top searched facilities: facility pages opened from a search result ---------------------------

def _open_counter(client):
    from portal.web.public import search_open_counter

    counter = search_open_counter(client.application)
    counter.timer = False  # the test writes the buffer itself (flush), as the scan tests do
    return counter


def test_search_result_links_carry_the_marker(client, world, reindex):
    reindex()
    soup = BeautifulSoup(client.get("/search?q=芙蓉区甲医院").get_data(as_text=True), "html.parser")
    links = [a["href"] for a in soup.select("a.hit-name")]
    assert f"/facility/{world['a'].public_id}?from=search" in links
    assert all(h.endswith("?from=search") and "芙蓉" not in h for h in links)  # never the search text


def test_top_searched_matches_direct_sql_after_opens_from_search(client, ctx, session, world, make_person,
                                                                 make_record):
    person = make_person(name="李医生")
    make_record(person, title="个人处罚")
    session.commit()
    counter = _open_counter(client)
    a, z = world["a"], world["z"]
    for _ in range(3):
        assert client.get(f"/facility/{a.public_id}?from=search").status_code == 200
    assert client.get(f"/facility/{z.public_id}?from=search").status_code == 200
    for _ in range(2):  # opened otherwise (a link, a bookmark): not "searched for"
        assert client.get(f"/facility/{z.public_id}").status_code == 200
    assert client.get(f"/facility/{z.public_id}?from=elsewhere").status_code == 200
    assert client.get(f"/facility/{person.public_id}?from=search").status_code == 200  # a person: not counted
    assert client.get("/facility/nosuchpage?from=search").status_code == 404
    assert counter.pending() == 4
    assert counter.flush() == 4 and counter.pending() == 0
    session.expire_all()
    today = ctx.today
    rows = _sql(session, """SELECT s.name, sum(d.count) AS n FROM facility_search_open_days d
        JOIN subjects s ON s.id = d.subject_id WHERE d.day = :d AND s.kind = 'org'
        GROUP BY s.id, s.name ORDER BY n DESC, s.name""", d=today)
    dash = svc.dashboard(ctx, svc.period_for(ctx, year=today.year))
    assert [(name, n) for name, _, n in dash.searched] == [(name, n) for name, n in rows]
    assert [(name, n) for name, _, n in dash.searched] == [("芙蓉区甲医院", 3), ("株洲丙药房", 1)]
    assert _sql(session, "SELECT count(*) FROM facility_search_open_days WHERE subject_id = :p", p=person.id) == [(0,)]
    data = dash.to_json()
    assert data["top_searched"] == [{"name": "芙蓉区甲医院", "region": "430102", "count": 3},
                                    {"name": "株洲丙药房", "region": "430202", "count": 1}]
    assert "search_terms" not in data and "不保存公众的搜索词" in data["top_searched_note"]


def test_top_searched_never_shows_a_person(ctx, session, world, make_person, make_record):
    """Even a count that reached the table for a person (older data, a bug elsewhere) is not shown."""
    from portal.services.search_opens import record_opens

    person = make_person(name="王护士")
    session.flush()
    record_opens(session, {(person.id, date(2026, 5, 1)): 50, (world["b"].id, date(2026, 5, 1)): 2})
    session.commit()
    dash = svc.dashboard(ctx, svc.period_for(ctx, year=YEAR))
    assert [(name, n) for name, _, n in dash.searched] == [("天心区乙诊所", 2)]
    assert "王护士" not in json.dumps(dash.to_json(), ensure_ascii=False)


def test_top_searched_reaches_dashboard_pdf_and_cli(client, cli, ctx, session, world, tmp_path):
    from portal.services.search_opens import record_opens

    record_opens(session, {(world["a"].id, date(2026, 6, 1)): 4, (world["z"].id, date(2026, 6, 2)): 6})
    session.commit()
    web_login(client, "op.all", world["op"])
    soup = BeautifulSoup(client.get(f"/staff/stats/?year={YEAR}").get_data(as_text=True), "html.parser")
    rows = [[c.get_text() for c in tr.find_all(["th", "td"])] for tr in soup.select("#searched-table tbody tr")]
    assert rows == [["株洲丙药房", "荷塘区", "6"], ["芙蓉区甲医院", "芙蓉区", "4"]]
    assert soup.select_one("#top-table") is not None  # the most-scanned figure stays
    body = flat(pdf_text(client.get(f"/staff/stats/report.pdf?year={YEAR}").data, tmp_path))
    assert "株洲丙药房4302026" in body and "芙蓉区甲医院4301024" in body
    out = cli("stats", "dashboard", "--year", str(YEAR), "--json")
    assert json.loads(out.output)["top_searched"][0] == {"name": "株洲丙药房", "region": "430202", "count": 6}
    assert "从搜索结果打开机构页面：10" in cli("stats", "dashboard", "--year", str(YEAR)).output
