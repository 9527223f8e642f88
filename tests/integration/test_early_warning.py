"""Early warning through its whole life on two profiles (issue 16; 淮安 三（二）): the rules
of the profile evaluated by ``credit-portal warnings run`` (idempotent), the staff queue of the
region, the subject's inbox where the profile says so, closing only with a note, every step in the
audit chain, nothing on a public page."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from sqlalchemy import select

from portal.cli import main
from portal.models import AuditEvent, EarlyWarning, Grade, Notification
from portal.services import warnings as svc
from portal.services.audit import verify_chain
from portal.services.errors import ServiceError

from ..conftest import profile_settings

TODAY = date(2027, 2, 26)
REGION = {"jiangsu": "320803", "hainan": "460105"}
OTHER = {"jiangsu": "320826", "hainan": "460202"}


settings = profile_settings(("jiangsu", "hainan"), TODAY)


def _run(settings) -> str:
    result = CliRunner().invoke(main, ["warnings", "run"], env={k: str(v) for k, v in settings.items()})
    assert result.exit_code == 0, result.output
    return result.output


def test_early_warning_whole_life(settings, app, client, ctx, session, make_org, make_record, make_staff):
    pid, region = ctx.profile.id, REGION[ctx.profile.id]
    r = ctx.profile.warnings
    ctx = replace(ctx, today=TODAY)
    expiring = make_org(name="许可将到期诊所", category="clinic", region_code=region,
                        licence_valid_until=TODAY + timedelta(days=r.licence_days - 5))
    far_future = make_org(name="许可有效诊所", category="clinic", region_code=region,
                          licence_valid_until=TODAY + timedelta(days=r.licence_days + 30))
    twice = make_org(name="再次失信诊所", category="clinic", region_code=region)
    make_record(twice, "penalty", title="未按规定公示收费标准", decided_on=date(2026, 5, 10))
    second = make_record(twice, "inspection", title="消毒记录不全，责令整改", decided_on=date(2027, 1, 20),
                         info_class="dishonest")
    once = make_org(name="一次失信诊所", category="clinic", region_code=region)
    make_record(once, "penalty", title="一次处罚", decided_on=date(2026, 12, 1))
    dropped = make_org(name="等级下降医院", category="hospital", region_code=region)
    slipped = make_org(name="小幅下降医院", category="hospital", region_code=region)
    for subject, (old, new) in ((dropped, ("A", "C")), (slipped, ("A", "B"))):
        session.add_all([Grade(subject_id=subject.id, year=2025, letter=old, score=99, explanation=[], profile_id=pid),
                         Grade(subject_id=subject.id, year=2026, letter=new, score=80, explanation=[], profile_id=pid)])
    dept_account = make_staff("dept.warn", region_code=region)
    far_account = make_staff("dept.warnfar", region_code=OTHER[pid])
    dept, far = dept_account.user, far_account.user
    noisy = make_org(name="投诉较多诊所", category="clinic", region_code=region)
    for i in range(r.complaints_count):
        svc.register_complaint(replace(ctx, caller=dept), noisy, TODAY - timedelta(days=10 * i),
                               f"CANARY-COMPLAINT-{i} 患者投诉候诊秩序")
    with pytest.raises(ServiceError) as err:
        svc.register_complaint(replace(ctx, caller=far), noisy, TODAY, "外区登记")
    assert err.value.status == 403
    session.commit()

    first = _run(settings)
    assert "新增预警 4 条" in first
    assert "新增预警 0 条" in _run(settings)  # idempotent
    session.expire_all()
    rows = session.execute(select(EarlyWarning).order_by(EarlyWarning.id)).scalars().all()
    by_rule = {w.rule: w for w in rows}
    assert {w.rule: w.subject_id for w in rows} == {"licence_expiring": expiring.id, "second_general": twice.id,
                                                   "grade_drop": dropped.id, "complaints": noisy.id}
    assert str(second.lineage_id) in by_rule["second_general"].key
    assert far_future.id not in {w.subject_id for w in rows} and once.id not in {w.subject_id for w in rows}
    assert slipped.id not in {w.subject_id for w in rows}  # one level is not two

    # The subject is told where the profile says so (to_subject), and only then.
    told = {n.subject_id for n in session.execute(select(Notification).where(
        Notification.text.like("信用预警%"))).scalars()}
    assert told == {w.subject_id for w in rows if w.rule in r.to_subject} == {expiring.id, twice.id}

    # The staff queue of the region; the other region sees none of it.
    dept_account.login(client)
    soup = BeautifulSoup(client.get("/staff/warnings").get_data(as_text=True), "html.parser")
    assert len(soup.select("tr.warning-row")) == 4
    other = client.application.test_client()
    far_account.login(other)
    assert BeautifulSoup(other.get("/staff/warnings").get_data(as_text=True), "html.parser").select("tr.warning-row") == []
    target = by_rule["grade_drop"]
    assert other.post(f"/staff/warnings/{target.id}/close", data={"note": "外区关闭"}).status_code == 403

    # Closing needs a note.
    assert client.post(f"/staff/warnings/{target.id}/close", data={"note": "  "}).status_code == 400
    assert client.post(f"/staff/warnings/{target.id}/close", data={"note": "已约谈负责人，督促整改"}).status_code == 302
    assert client.post(f"/staff/warnings/{target.id}/close", data={"note": "再关"}).status_code == 409
    assert client.post("/staff/warnings/99999/close", data={"note": "x"}).status_code == 404
    session.expire_all()
    closed = session.get(EarlyWarning, target.id)
    assert closed.state == "closed" and closed.close_note == "已约谈负责人，督促整改" and closed.closed_by == "staff:dept.warn"
    assert "已约谈负责人" in client.get("/staff/warnings", query_string={"closed": 1}).get_data(as_text=True)

    # A complaint registered through the page counts; a new complaint while one warning is open adds none.
    made = client.post("/staff/complaints", data={"code": noisy.credit_code, "received_on": TODAY.isoformat(),
                                                   "summary": "又一件投诉"})
    assert made.status_code == 302
    assert client.post("/staff/complaints", data={"code": noisy.credit_code, "received_on": "昨天",
                                                  "summary": "x"}).status_code == 400
    assert "新增预警 0 条" in _run(settings)

    # Nothing of it on public pages.
    for subject in (expiring, twice, dropped, noisy):
        response = client.get(f"/facility/{subject.public_id}")
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and subject.name in page
        assert "CANARY-COMPLAINT" not in page and "候诊秩序" not in page
        assert not any(w.message in page for w in rows) and "信用预警" not in page

    actions = list(session.execute(select(AuditEvent.action).where(
        AuditEvent.action.like("warning.%") | AuditEvent.action.like("complaint.%")).order_by(AuditEvent.id)).scalars())
    assert actions == ["complaint.add"] * r.complaints_count + ["warning.raise"] * 4 + ["warning.close", "complaint.add"]
    assert verify_chain(session) == []
