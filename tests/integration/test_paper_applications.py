"""Applications on paper or at a window (海南 第三十八条 书面; 湖南医保 第十七条 线下): staff register
them with the real receipt date and a scan of the form; deadlines count from that date."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.models import Case, Evidence
from portal.services.errors import ServiceError
from portal.services.paper import register_paper_application

from .pdf_tools import blank_pdf

PDF = blank_pdf()  # a real PDF: uploads are parsed and checked for active content


@pytest.fixture
def world(make_org, make_record):
    org = make_org(name="长沙市天心区百草堂药店", category="pharmacy", region_code="430103")
    rec = make_record(org, title="未凭处方销售处方药", decided_on=date(2026, 5, 8))
    return org, rec


def register(ctx, rt, org, rec, **kw):
    args = dict(kind="objection", received_on=date(2026, 11, 16), channel="window", applicant_name="百草堂药店（法定代表人 周某）",
                statement="处罚决定书记载的药品名称有误", scan=("异议申请书.pdf", PDF),
                var_dir=rt.settings["PORTAL_VAR_DIR"], role="department", ground="fact_error")
    return register_paper_application(ctx, org, rec, **{**args, **kw})


def test_deadline_counts_from_receipt_date(ctx, rt, session, world):
    """湖南 第二十八条 "自收到异议申请之日起3个工作日内": received Monday 11-16, due Thursday 11-19,
    although staff register it on Friday 11-20 (already overdue)."""
    org, rec = world
    case = register(ctx, rt, org, rec)
    session.commit()
    assert case.received_on == date(2026, 11, 16) and case.step_entered_on == date(2026, 11, 16)
    assert case.due_on == date(2026, 11, 19)
    assert case.applicant_iss == "paper" and case.applicant_via == "window"
    assert case.events[0].action == "file" and case.events[0].on == date(2026, 11, 16)
    assert case.events[0].actor == "test"  # the staff member who registered it
    scan = session.execute(select(Evidence).where(Evidence.case_id == case.id)).scalar_one()
    assert scan.original_name == "异议申请书.pdf" and scan.stage == "filing"
    assert (Path(rt.settings["PORTAL_VAR_DIR"]) / "evidence" / scan.stored_name).read_bytes() == PDF


@pytest.mark.parametrize("kw, field", [
    ({"received_on": date(2026, 11, 21)}, "received_on"),        # in the future
    ({"received_on": date(2026, 5, 1)}, "received_on"),          # before the decision
    ({"scan": ("a.pdf", b"")}, "scan"),
    ({"scan": ("a.pdf", b"MZ\x90\x00" * 10)}, "file"),           # not a document
    ({"applicant_name": "  "}, "applicant_name"),
    ({"ground": "nonsense"}, "ground"),
    ({"channel": "fax"}, "channel"),
    ({"role": "reviewer"}, "role"),
])
def test_refused_inputs_write_nothing(ctx, rt, session, world, kw, field):
    org, rec = world
    with pytest.raises(ServiceError) as err:
        register(ctx, rt, org, rec, **kw)
    assert err.value.field == field
    session.rollback()
    assert session.execute(select(func.count()).select_from(Case)).scalar_one() == 0
    folder = Path(rt.settings["PORTAL_VAR_DIR"]) / "evidence"
    assert not folder.exists() or not any(folder.iterdir())


def test_repair_eligibility_judged_on_receipt_date(ctx, rt, session, make_org, make_record):
    """Repair on paper (湖南 第三十条（一）): eligibility as of the receipt date (湖南 第二十九条（二）
    minimum period 3 months for 一般: from 2026-08-21 here)."""
    org = make_org(name="长沙市天心区仁心诊所", category="clinic", region_code="430103")
    rec = make_record(org, title="未按规定登记传染病", decided_on=date(2026, 5, 21))
    with pytest.raises(ServiceError, match="收到申请时不符合信用修复条件"):
        register(ctx, rt, org, rec, kind="repair", received_on=date(2026, 8, 20), ground="")
    case = register(ctx, rt, org, rec, kind="repair", received_on=date(2026, 8, 21), ground="")
    assert case.kind == "repair" and case.received_on == date(2026, 8, 21)
    assert case.due_on == date(2026, 9, 4)  # 10 WD from 2026-08-21 (湖南 第三十条（二）)


def test_cli_register_paper(rt, session, world, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from portal.cli import main

    org, rec = world
    session.commit()
    code = rt.protector.decrypt(org.code_cipher)
    scan = tmp_path / "申请书.pdf"
    scan.write_bytes(PDF)
    for key, value in rt.settings.items():
        if key.startswith(("PORTAL_", "DATABASE_", "SEARCH_")):
            monkeypatch.setenv(key, value)
    args = ["cases", "register-paper", "--kind", "objection", "--subject", code, "--record", str(rec.lineage_id),
            "--received", "2026-11-16", "--channel", "paper", "--name", "周某", "--statement", "记载有误",
            "--ground", "fact_error", "--scan", str(scan)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "收到日期 2026-11-16，办理期限 2026-11-19" in result.output
    bad = CliRunner().invoke(main, args[:-2] + ["--received", "2027-01-01", "--scan", str(scan)])
    assert bad.exit_code != 0 and "收到日期不能晚于今天" in bad.output


def test_staff_form_registers_paper_application(client, ctx, rt, session, world):
    import io

    from portal.services import staff as staff_svc
    from tests.integration.test_staff_auth import PASSWORD, _secret, web_login

    org, rec = world
    user, uri = staff_svc.create_staff(ctx, "dept.tianxin", PASSWORD, ["department"], region_code="430100")
    far, far_uri = staff_svc.create_staff(ctx, "dept.zhuzhou", PASSWORD, ["department"], region_code="430200")
    session.commit()
    code = rt.protector.decrypt(org.code_cipher)
    form = {"kind": "objection", "channel": "paper", "received_on": "2026-11-16", "subject_kind": "org",
            "subject_code": code, "lineage_id": str(rec.lineage_id), "applicant_name": "周某",
            "statement": "记载有误", "ground": "fact_error"}
    assert web_login(client, "dept.zhuzhou", _secret(far_uri)).status_code == 302
    resp = client.post("/staff/paper", data={**form, "scan": (io.BytesIO(PDF), "申请书.pdf")},
                       content_type="multipart/form-data")
    assert resp.status_code == 403 and "无权登记" in resp.get_data(as_text=True)  # another city
    client.post("/staff/logout")
    assert web_login(client, "dept.tianxin", _secret(uri)).status_code == 302
    assert "登记纸质" in client.get("/staff/paper").get_data(as_text=True)
    resp = client.post("/staff/paper", data={**form, "received_on": "2026-13-01", "scan": (io.BytesIO(PDF), "a.pdf")},
                       content_type="multipart/form-data")
    assert resp.status_code == 400 and session.execute(select(func.count()).select_from(Case)).scalar_one() == 0
    resp = client.post("/staff/paper", data={**form, "scan": (io.BytesIO(PDF), "申请书.pdf")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    case = session.execute(select(Case)).scalar_one()
    assert case.received_on == date(2026, 11, 16) and case.due_on == date(2026, 11, 19)
    assert case.events[0].actor == "staff:dept.tianxin"
