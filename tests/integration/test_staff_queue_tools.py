"""The staff queues a working day needs (issue 14): filters by due date, region, unit and step with
paging, a CSV export Excel opens (UTF-8 with BOM, no formulas from outside), and per month the
cases decided and how many within their time limits, checked against a direct count."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.models import AuditEvent, Case, CaseEvent, StaffUser, Subject
from portal.services import cases, staff_desk
from portal.services import staff as staff_svc
from portal.services.records import current_version

from .subject_world import TODAY
from .test_staff_auth import PASSWORD, _secret, web_login

UNIT_A, UNIT_B = "芙蓉区卫生健康局", "长沙市卫生健康委员会"


def _case(rt, org, rec, no, *, region, unit, due, state="verify", closed_on=None, outcome=""):
    return Case(case_no=no, kind=cases.OBJECTION, subject_id=org.id, record_lineage_id=rec.lineage_id,
                record_id=rec.id, state=state, received_on=TODAY - timedelta(days=30), step_entered_on=TODAY,
                due_on=None if closed_on else due, stops=[], region_code=region, authority=unit,
                closed_on=closed_on, outcome=outcome)


@pytest.fixture
def desk(ctx, session, rt, make_org, make_record):
    """Open objections in 芙蓉区 (two units) and 株洲, due at known distances from TODAY."""
    fr = make_org(name="=HYPERLINK(\"http://evil\")芙蓉诊所", region_code="430102")
    zz = make_org(name="株洲某医院", region_code="430202")
    fr_rec, zz_rec = make_record(fr), make_record(zz)
    rows = []
    for i in range(60):  # unit A, due from yesterday on, one a day
        rows.append(_case(rt, fr, fr_rec, f"YY-A-{i:04d}", region="430102", unit=UNIT_A,
                          due=TODAY - timedelta(days=1) + timedelta(days=i)))
    for i in range(7):
        rows.append(_case(rt, fr, fr_rec, f"YY-B-{i:04d}", region="430102", unit=UNIT_B,
                          due=TODAY - timedelta(days=5)))
    for i in range(4):
        rows.append(_case(rt, zz, zz_rec, f"YY-Z-{i:04d}", region="430202", unit=UNIT_A, due=TODAY))
    rows.append(_case(rt, fr, fr_rec, "YY-A-DONE", region="430102", unit=UNIT_A, due=None, state="closed",
                      closed_on=TODAY - timedelta(days=2), outcome="closed"))
    session.add_all(rows)
    session.commit()
    return {"fr": fr, "zz": zz}


def _login(client, ctx, session, username, roles, region=""):
    _, uri = staff_svc.create_staff(ctx, username, PASSWORD, roles, region_code=region)
    session.commit()
    web_login(client, username, _secret(uri))


def _rows(client, **query):
    resp = client.get("/staff/objections", query_string=query)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:400]
    soup = BeautifulSoup(resp.get_data(as_text=True), "html.parser")
    return [r.a.get_text() for r in soup.select("tr.case-row")], soup


def test_filters_combine_with_permission_and_paging(client, ctx, session, desk):
    _login(client, ctx, session, "op.prov", ["operator"])
    overdue, _ = _rows(client, due="overdue")  # due before today: A-0000 (yesterday) and the 7 of unit B
    assert sorted(overdue) == ["YY-A-0000"] + [f"YY-B-{i:04d}" for i in range(7)]
    soon, _ = _rows(client, due="soon")  # TODAY (a Thursday) up to the day before the 2nd working day
    assert sorted(soon) == ["YY-A-0001", "YY-A-0002", "YY-A-0003", "YY-A-0004"] + [f"YY-Z-{i:04d}" for i in range(4)]
    zhuzhou, _ = _rows(client, region="430200")  # a city covers its counties
    assert sorted(zhuzhou) == [f"YY-Z-{i:04d}" for i in range(4)]
    unit_b, _ = _rows(client, unit=UNIT_B, region="430102")
    assert sorted(unit_b) == [f"YY-B-{i:04d}" for i in range(7)]
    closed, _ = _rows(client, status="closed")
    assert closed == ["YY-A-DONE"]
    # paging keeps the filters: unit A in 芙蓉区 is 60 open cases, 50 a page
    first, soup = _rows(client, unit=UNIT_A, region="430102")
    assert len(first) == staff_desk.PER_PAGE and "共 60 件" in soup.select_one("nav.pager").get_text()
    nxt = soup.select_one("nav.pager a[rel=next]")["href"]
    assert "unit=" in nxt and "region=430102" in nxt
    second = BeautifulSoup(client.get(nxt).get_data(as_text=True), "html.parser")
    assert [r.a.get_text() for r in second.select("tr.case-row")] == [f"YY-A-{i:04d}" for i in range(50, 60)]
    # hostile filter values: a clear 400, never a 500
    assert client.get("/staff/objections", query_string={"region": "999999"}).status_code == 400
    assert client.get("/staff/objections", query_string={"state": "<script>"}).status_code == 400


def test_a_county_account_filters_only_inside_its_own_cases(client, ctx, session, desk):
    _login(client, ctx, session, "dept.zz", ["department"], region="430202")
    assert _rows(client, region="430102")[0] == []  # asking for another county shows nothing of it
    everything, soup = _rows(client, status="all")
    assert sorted(everything) == [f"YY-Z-{i:04d}" for i in range(4)]
    assert [o["value"] for o in soup.select("select[name=unit] option") if o["value"]] == [UNIT_A]


def test_csv_export_is_excel_ready_filtered_and_audited(client, ctx, session, desk):
    _login(client, ctx, session, "op.csv", ["operator"])
    _, soup = _rows(client, due="overdue")
    link = soup.select_one("a.queue-csv")["href"]
    assert "due=overdue" in link
    resp = client.get(link)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in resp.headers["Content-Disposition"]
    body = resp.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == list(staff_desk.CSV_HEADER)
    assert sorted(r[0] for r in rows[1:]) == ["YY-A-0000"] + [f"YY-B-{i:04d}" for i in range(7)]
    assert all(r[7] == "已超期" for r in rows[1:]) and {r[3] for r in rows[1:]} == {"芙蓉区"}
    assert all(r[1].startswith("'=HYPERLINK") for r in rows[1:])  # a formula from outside stays text
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "staff.queue_export")).scalar_one()
    assert event.actor == "staff:op.csv" and event.detail["rows"] == 8 and event.detail["filters"]["due"] == "overdue"
    # the whole queue, every page in one file
    everything = list(csv.reader(io.StringIO(client.get("/staff/objections.csv?status=all").get_data()
                                             .decode("utf-8-sig"))))
    assert len(everything) - 1 == 72
    client.post("/staff/logout")
    assert client.get("/staff/objections.csv").status_code == 302  # staff only


# --- decided within the time limit, per month --------------------------------------------------

def _closed(rt, org, rec, no, *, region, filed, due, decided, closed_on, withdrawn=False, steps=1):
    """A closed case with its timeline: filed (due ``due``), then ``steps`` staff steps, the last on
    ``decided``; or withdrawn by the applicant."""
    case = _case(rt, org, rec, no, region=region, unit=UNIT_A, due=None, state="closed", closed_on=closed_on,
                 outcome="withdrawn" if withdrawn else "closed")
    events = [CaseEvent(on=filed, actor="applicant", role="applicant", action="file", from_state="",
                        to_state="verify", due_on=due)]
    if withdrawn:
        events.append(CaseEvent(on=decided, actor="applicant", role="applicant", action="withdraw",
                                from_state="verify", to_state="withdrawn"))
    else:
        if steps == 2:  # an extension first (same step, new due date), then the decision
            events.append(CaseEvent(on=filed + timedelta(days=1), actor="staff:x", role="department",
                                    action="extend", from_state="verify", to_state="verify",
                                    due_on=due + timedelta(days=3)))
        events.append(CaseEvent(on=decided, actor="staff:x", role="department", action="reject",
                                from_state="verify", to_state="rejected", due_on=date(2026, 12, 31)))
        events.append(CaseEvent(on=closed_on, actor="applicant", role="applicant", action="accept",
                                from_state="rejected", to_state="closed"))
    case.events = events
    return case


@pytest.fixture
def history(ctx, session, rt, make_org, make_record):
    """Closed objections over three months, in time and late, with the truth kept beside them."""
    fr = make_org(name="芙蓉区历史诊所", region_code="430102")
    zz = make_org(name="株洲历史医院", region_code="430202")
    fr_rec, zz_rec = make_record(fr), make_record(zz)
    truth = []  # (case_no, region, closed month, counted, in_time)
    specs = []
    for month, n_in, n_late in (("2026-09", 3, 2), ("2026-10", 4, 1), ("2026-11", 2, 0)):
        base = date.fromisoformat(month + "-03")
        for i in range(n_in + n_late):
            late = i >= n_in
            filed, due = base, base + timedelta(days=7)
            decided = due + timedelta(days=2) if late else due - timedelta(days=1)
            specs.append((f"YY-H{month}-{i}", "430102", filed, due, decided, base + timedelta(days=15), False, 1))
            truth.append((f"YY-H{month}-{i}", "430102", month, True, not late))
    # decided after the first due date but within the extension: in time
    specs.append(("YY-HEXT", "430102", date(2026, 10, 5), date(2026, 10, 12), date(2026, 10, 14),
                  date(2026, 10, 20), False, 2))
    truth.append(("YY-HEXT", "430102", "2026-10", True, True))
    specs.append(("YY-HWD", "430102", date(2026, 10, 5), date(2026, 10, 12), date(2026, 10, 6),
                  date(2026, 10, 6), True, 1))
    truth.append(("YY-HWD", "430102", "2026-10", False, False))  # withdrawn: not counted
    specs.append(("YY-HZZ", "430202", date(2026, 10, 5), date(2026, 10, 12), date(2026, 10, 20),
                  date(2026, 10, 25), False, 1))
    truth.append(("YY-HZZ", "430202", "2026-10", True, False))  # late, in 株洲
    for no, region, filed, due, decided, closed_on, withdrawn, steps in specs:
        org, rec = (fr, fr_rec) if region == "430102" else (zz, zz_rec)
        session.add(_closed(rt, org, rec, no, region=region, filed=filed, due=due, decided=decided,
                            closed_on=closed_on, withdrawn=withdrawn, steps=steps))
    session.commit()
    return truth


def _direct(truth, region_prefix=""):
    out = {}
    for _no, region, month, counted, in_time in truth:
        if counted and region.startswith(region_prefix):
            d, t = out.get(month, (0, 0))
            out[month] = (d + 1, t + int(in_time))
    return out


def test_monthly_in_time_counts_match_a_direct_count(client, ctx, session, history):
    # and a real case, filed and decided today through the verbs, in time
    org = session.execute(select(Case.subject_id).where(Case.case_no == "YY-HEXT")).scalar_one()
    subject = session.get(Subject, org)
    rec_id = session.execute(select(Case.record_lineage_id).where(Case.case_no == "YY-HEXT")).scalar_one()
    real = cases.file_objection(ctx, subject, current_version(ctx, rec_id), ground="fact_error", statement="有误",
                                applicant=cases.Applicant("https://idp.test", "sub-1", "王某"), commitment=True,
                                identity_confirmed=True)
    cases.act(ctx, real, "reject", role="department", reason="核实无误", confirmed=True)
    cases.act(ctx, real, "accept", role="applicant")
    session.commit()
    history = [*history, (real.case_no, "430102", "2026-11", True, True)]

    _login(client, ctx, session, "op.stats", ["operator"])
    soup = BeautifulSoup(client.get("/staff/objections/in-time").get_data(as_text=True), "html.parser")
    shown = {r["data-month"]: (int(r.select_one(".decided").get_text()), int(r.select_one(".in-time-count").get_text()))
             for r in soup.select("tr.month-row")}
    assert len(shown) == staff_desk.STAT_MONTHS and "2026-11" in shown and "2025-12" in shown
    direct = _direct(history)
    assert {m: v for m, v in shown.items() if v != (0, 0)} == direct
    assert direct == {"2026-09": (5, 3), "2026-10": (7, 5), "2026-11": (3, 3)}
    late = {r["data-month"]: int(r.select_one(".late").get_text()) for r in soup.select("tr.month-row")}
    assert late["2026-10"] == 2
    # a county account counts only its own county
    client.post("/staff/logout")
    _login(client, ctx, session, "dept.fr", ["department"], region="430102")
    counts = {m.month: (m.decided, m.in_time) for m in staff_desk.decided_in_time_by_month(
        ctx, _user(session, "dept.fr"), cases.OBJECTION) if m.decided}
    assert counts == _direct(history, "430102")


def _user(session, username):
    return session.execute(select(StaffUser).where(StaffUser.username == username)).scalar_one()
