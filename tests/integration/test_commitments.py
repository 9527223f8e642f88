"""Commitments and self-declaration through their whole life on two profiles (issue 16):
海南 第九–十一条 (types, public with fulfilment, restriction after a broken commitment), 阳山 四（一）
(signed electronically by the legal representative, 践诺 in daily supervision), 淮安 三（六）
(self-declared information with a truthfulness commitment, public only after staff checked it,
marked 自主申报). Every step in the audit chain."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.domain.identifiers import make_resident_id
from portal.models import AuditEvent, Commitment, CreditRecord, Notification, SelfDeclaration
from portal.services.audit import verify_chain

from ..conftest import profile_settings
from .subject_world import identity

TODAY = date(2027, 2, 26)
REGION = {"hainan": "460105", "guangdong": "441823"}
CANARY = "CANARY-DECLARATION-5c1e 未核实的申报"


settings = profile_settings(("hainan", "guangdong"), TODAY)


def _facility(client, subject) -> str:
    response = client.get(f"/facility/{subject.public_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_commitments_and_declarations_whole_life(app, client, rt, ctx, session, make_org, make_record, login_as,
                                                 make_staff):
    region = REGION[ctx.profile.id]
    org = make_org(name="承诺示范诊所", category="clinic", region_code=region, legal_rep="孙法人")
    dept = make_staff("dept.cn", region_code=region)
    session.commit()
    rep = identity(rt, "孙法人", resident_id=make_resident_id("430102", date(1972, 3, 3), 15),
                   legal_rep_of=org.credit_code, sub="sub-cn-rep")
    stranger = identity(rt, "路人乙", resident_id=make_resident_id("430102", date(1981, 1, 1), 23), sub="sub-cn-x")
    page = f"/me/subjects/{org.public_id}/commitments"

    # Online signature by the legal representative (阳山 四（一）: 电子签名).
    login_as(client, stranger)
    assert client.post(page, data={"ctype": "self_discipline", "text": "守法经营", "agreed": "yes"}).status_code in (403, 404)
    login_as(client, rep)
    assert client.get(page).status_code == 200
    unsigned = client.post(page, data={"ctype": "self_discipline", "text": "依法执业，诚信经营"})
    assert unsigned.status_code == 400 and "签署" in unsigned.get_data(as_text=True)
    assert client.post(page, data={"ctype": "self_discipline", "text": "依法执业，诚信经营",
                                   "agreed": "yes"}).status_code == 302
    signed = session.execute(select(Commitment).where(Commitment.subject_id == org.id)).scalar_one()
    assert (signed.via, signed.signer, signed.status) == ("online", "孙法人", "active")
    assert signed.valid_until == date(2028, 2, 26)  # the profile's 12-month term (editable default)
    assert signed.number in _facility(client, org) and "行业自律承诺" in _facility(client, org)

    # Staff register a paper one (another type).
    staff = app.test_client()  # a CsrfClient (the client fixture set the class); one TOTP login
    dept.login(staff)
    made = staff.post("/staff/commitments", data={"code": org.credit_code, "ctype": "licensing", "text": "告知承诺",
                                                   "signer": "孙法人", "signed_on": "2027-02-20"})
    assert made.status_code == 302
    paper = session.execute(select(Commitment).where(Commitment.via == "paper")).scalar_one()
    assert paper.signed_on == date(2027, 2, 20)
    assert staff.post("/staff/commitments", data={"code": org.credit_code, "ctype": "licensing", "text": "x",
                                                  "signer": "x", "signed_on": "明天"}).status_code == 400

    # A dishonesty record during the term breaks both; the public page says so; the subject is told.
    penalty = make_record(org, "penalty", title="超范围执业", decided_on=TODAY)  # inside both terms
    session.commit()
    session.expire_all()
    states = {c.number: (c.status, c.broken_record_id) for c in session.execute(select(Commitment)).scalars()}
    assert states == {signed.number: ("broken", penalty.lineage_id), paper.number: ("broken", penalty.lineage_id)}
    public = _facility(client, org)
    assert "践诺情况：违诺" in public
    versions = session.execute(select(CreditRecord).where(CreditRecord.lineage_id == signed.record_lineage_id)
                               .order_by(CreditRecord.version)).scalars().all()
    assert [v.version for v in versions] == [1, 2] and versions[0].status == "superseded"  # history kept
    inbox = session.execute(select(Notification.text).where(Notification.subject_id == org.id)).scalars().all()
    assert sum("违诺" in t for t in inbox) == 2

    # 海南 第十一条: after a broken commitment no 审批替代型 commitment; the refusal cites that
    # article under hainan only, elsewhere it is the platform's practice (a citation names the
    # active jurisdiction's own regulation)
    refused = client.post(page, data={"ctype": "licensing", "text": "告知承诺", "agreed": "yes"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 409
    if ctx.profile.id == "hainan":
        assert "海南 第十一条" in body
    else:
        assert "本平台执行的做法" in body and "海南" not in body

    # Self-declaration: with the truthfulness commitment; public only after the check, marked 自主申报.
    assert client.post(f"/me/subjects/{org.public_id}/declarations",
                       data={"kind": "public_interest", "title": "义诊", "content": "x"}).status_code == 400
    assert client.post(f"/me/subjects/{org.public_id}/declarations",
                       data={"kind": "public_interest", "title": "社区义诊活动", "content": CANARY,
                             "truthful": "yes"}).status_code == 302
    assert client.post(f"/me/subjects/{org.public_id}/declarations",
                       data={"kind": "licence", "title": "新增诊疗科目", "content": "口腔科",
                             "truthful": "yes"}).status_code == 302
    declared = session.execute(select(SelfDeclaration).order_by(SelfDeclaration.id)).scalars().all()
    assert [d.state for d in declared] == ["submitted", "submitted"] and all(d.commitment_id for d in declared)
    assert CANARY not in _facility(client, org) and "社区义诊活动" not in _facility(client, org)

    assert "社区义诊活动" in staff.get("/staff/commitments").get_data(as_text=True)
    assert staff.post(f"/staff/declarations/{declared[1].id}/check", data={"verdict": "rejected"}).status_code == 400
    assert client.post(f"/staff/declarations/{declared[0].id}/check",  # the subject's own login: not staff
                       data={"verdict": "verified"}).status_code == 302  # → the staff login page
    assert staff.post(f"/staff/declarations/{declared[0].id}/check",
                      data={"verdict": "verified", "note": "已电话核实"}).status_code == 302
    assert staff.post(f"/staff/declarations/{declared[1].id}/check",
                      data={"verdict": "rejected", "note": "未见许可变更登记"}).status_code == 302
    assert staff.post(f"/staff/declarations/{declared[0].id}/check",
                      data={"verdict": "verified"}).status_code == 409
    public = _facility(client, org)
    assert "【自主申报】社区义诊活动" in public and "新增诊疗科目" not in public

    actions = list(session.execute(select(AuditEvent.action).where(
        AuditEvent.action.like("commitment.%") | AuditEvent.action.like("declaration.%"))
        .order_by(AuditEvent.id)).scalars())
    assert actions == ["commitment.sign", "commitment.sign", "commitment.broken", "commitment.broken",
                       "commitment.sign", "declaration.submit", "commitment.sign", "declaration.submit",
                       "declaration.check", "declaration.check"]
    assert verify_chain(session) == []


def test_commitments_run_catches_records_imported_in_bulk(settings, ctx, session, make_org):
    """A dishonesty record inserted without the record verb (as a file import does) breaks the
    commitment at the next ``credit-portal commitments run``; a second run changes nothing."""
    from click.testing import CliRunner
    from sqlalchemy import insert

    from portal.cli import main
    from portal.services import commitments as svc

    org = make_org(name="批量导入诊所", category="clinic", region_code=REGION[ctx.profile.id])
    c = svc.register_paper_commitment(ctx, org, "self_discipline", "守法经营", signed_on=date(2027, 1, 4), signer="周某")
    session.execute(insert(CreditRecord), [{
        "subject_id": org.id, "record_type": "penalty", "info_class": "dishonest", "severity": "general",
        "title": "导入的处罚", "content": "", "public_summary": "", "doc_no": "", "authority": "某局",
        "decided_on": date(2027, 2, 1), "scope": "public", "publish_from": date(2027, 2, 1),
        "publish_until": date(2028, 1, 31), "status": "active", "is_current": True, "version": 1,
        "change_reason": "", "created_by": "import"}])
    session.commit()
    env = {k: str(v) for k, v in settings.items()}
    first = CliRunner().invoke(main, ["commitments", "run"], env=env)
    second = CliRunner().invoke(main, ["commitments", "run"], env=env)
    assert first.exit_code == 0 and "新记违诺 1 件" in first.output, first.output
    assert "新记违诺 0 件" in second.output
    session.expire_all()
    assert session.get(Commitment, c.id).status == "broken"
