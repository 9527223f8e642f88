"""Third parties' personal data in record text (issue #12 Low, issue #14; 湖南 第四条, 海南 第五条,
阳山 四（七）): a small demo province plus records written the way the demo generator writes its
third-party details (``generator.private_detail``), made public, with canary values. No public
page (facility, scan, search, lists, repair notices, chatbot answers) shows a canary name, phone,
ID number or diagnosis; the subject's own page, its credit report PDF and its case letters mask
them too but keep the subject's own data."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from portal.domain.identifiers import make_resident_id
from portal.models import CreditRecord, Subject
from portal.services import case_documents, cases
from portal.services import plates as plate_svc
from portal.services.demo import load_demo

from .pdf_tools import flat, pdf_text
from .subject_world import identity
from .test_chat import Chat

# Canaries: names that start with a surname (as real ones do), numbers no other text holds.
COMPLAINANT, COMPLAINANT_PHONE = "滕鹭鸶", "16600019283"
PATIENT, PATIENT_PHONE = "仇雁鸣", "16600027461"
PATIENT_ID = make_resident_id("430102", date(1988, 7, 14), 417)
CONTACT, CONTACT_PHONE = "欧阳翠翘", "16600035519"
HIV_PATIENT = "黎晚棠"
WHISTLEBLOWER, WHISTLEBLOWER_PHONE = "雍青禾", "16600042837"
DIAGNOSIS = "急性淋巴细胞白血病"
HIV_STATUS = "艾滋病病毒感染者"
PERSON_COMPLAINANT, PERSON_COMPLAINANT_PHONE = "阙晓岚", "16600058164"
OWN_PHONE, OWN_ADDRESS = "13973100457", "长沙市天心区书院路99号"
SECRETS = [COMPLAINANT, COMPLAINANT_PHONE, PATIENT, PATIENT_PHONE, PATIENT_ID, PATIENT_ID[6:14], CONTACT,
           "翠翘", CONTACT_PHONE, HIV_PATIENT, WHISTLEBLOWER, WHISTLEBLOWER_PHONE, DIAGNOSIS, HIV_STATUS,
           PERSON_COMPLAINANT, PERSON_COMPLAINANT_PHONE]
PUBLIC_ONLY_SECRETS = [OWN_PHONE, OWN_ADDRESS]  # the person's own: the subject may see them
CONTROL = "未按规定开展艾滋病检测"  # an organisation's duty, not a person's health: stays
SERIOUS_TITLE = f"骗取医保基金列入严重失信名单，举报人{WHISTLEBLOWER}（电话{WHISTLEBLOWER_PHONE}）"
APPLICANT = cases.Applicant("https://idp.example.test", "sub-rep", "王法人")

# The generator's sentences (portal/demo/generator.py private_detail), to find its own values.
_GENERATED = (re.compile(r"投诉人([\u4e00-\u9fff]{2,4})（联系电话(\d{11})）"),
              re.compile(r"涉及患者([\u4e00-\u9fff]{2,4})（身份证号(\w{18})，联系电话(\d{11})）"),
              re.compile(r"现场负责人([\u4e00-\u9fff]{2,4})，联系电话(\d{11})"))


@pytest.fixture
def province(ctx, session, rt, make_person, make_record, reindex):
    load_demo(ctx, 60, seed=20261204)
    session.flush()
    generated: dict[int, set[str]] = {}
    for r in session.execute(select(CreditRecord)).scalars():
        for pattern in _GENERATED:
            for m in pattern.finditer(r.content or ""):
                generated.setdefault(r.subject_id, set()).update(m.groups())
    hospital = session.execute(select(Subject).where(Subject.kind == "org", Subject.status == "active",
                                                     Subject.category == "hospital")
                               .order_by(Subject.id).limit(1)).scalar_one()
    make_record(hospital, title=CONTROL, severity="general",
                content=f"投诉人{COMPLAINANT}（联系电话{COMPLAINANT_PHONE}）反映上述问题。")
    make_record(hospital, title="泄露患者隐私", severity="serious",
                content=f"涉及患者{PATIENT}（身份证号{PATIENT_ID}，联系电话{PATIENT_PHONE}），诊断为{DIAGNOSIS}。"
                        f"患者{HIV_PATIENT}系{HIV_STATUS}，该院工作人员将其检测结果告知他人。")
    make_record(hospital, record_type="inspection", title="监督检查发现问题",
                content=f"现场负责人{CONTACT}，联系电话{CONTACT_PHONE}。")
    serious = make_record(hospital, record_type="serious_list", title=SERIOUS_TITLE, severity="serious",
                          decided_on=date(2025, 6, 2), publish_until=date(2027, 6, 1))
    doctor = make_person(name="谢景行", phone=OWN_PHONE, address=OWN_ADDRESS)
    make_record(doctor, title="医师超范围执业", severity="minor", decided_on=date(2026, 10, 1),
                content=f"当事人联系电话{OWN_PHONE}，住址{OWN_ADDRESS}。"
                        f"投诉人{PERSON_COMPLAINANT}（联系电话{PERSON_COMPLAINANT_PHONE}）反映上述问题。")
    repair = cases.apply_repair(ctx, hospital, serious, statement="已全额退回并完成整改", applicant=APPLICANT,
                                commitment=True, identity_confirmed=True)
    cases.advance_repair(ctx, repair, "approve", role="department")  # → the public notice
    plate = plate_svc.issue_plate(ctx, hospital)
    reindex()
    return {"hospital": hospital, "doctor": doctor, "repair": repair, "plate": plate, "generated": generated}


def _text(resp) -> str:
    assert resp.status_code == 200, resp.request.path
    return resp.get_data(as_text=True)


def _leaks(body: str, secrets) -> list[str]:
    return [s for s in secrets if s in body]


def test_no_public_page_shows_a_third_party(client, session, province):
    hospital, doctor = province["hospital"], province["doctor"]
    generated = sorted({v for values in province["generated"].values() for v in values})
    assert generated, "the demo generator wrote no third-party details: the crawl would prove nothing"
    secrets = SECRETS + PUBLIC_ONLY_SECRETS + generated
    subjects = session.execute(select(Subject.public_id)).scalars().all()
    pages: dict[str, str] = {}
    for public_id in subjects:  # every facility page there is (404 for minors and hidden persons)
        resp = client.get(f"/facility/{public_id}")
        if resp.status_code == 200:
            pages[f"/facility/{public_id}"] = _text(resp)
    for url in ("/", f"/p/{province['plate'].token}", "/lists/red", "/lists/serious", "/repair-notices",
                f"/search?q={hospital.name}", "/search?q=投诉", "/search?q=艾滋病", "/search?q=患者",
                "/search?q=医保", "/search?q=超范围执业", "/search?category=hospital"):
        pages[url] = _text(client.get(url))
    chat = Chat(client)
    for q in (f"{hospital.name}有处罚吗", f"{hospital.name}的全部记录", f"{hospital.name}信用怎么样",
              "谢景行有处罚吗"):
        pages[f"chat: {q}"] = _text(chat.ask(q))
    assert len(pages) > 20
    leaks = {url: found for url, body in pages.items() if (found := _leaks(body, secrets))}
    assert leaks == {}
    # the records are there, so the crawl is not vacuous: masked, not missing
    facility = pages[f"/facility/{hospital.public_id}"]
    for shown in (CONTROL, "投诉人滕某", "涉及患者仇某", "现场负责人欧阳某", "诊断为（已隐去）",
                  "患者黎某系（已隐去）", "166****9283"):
        assert shown in facility, shown
    assert "举报人雍某" in pages["/lists/serious"] and "举报人雍某" in pages["/repair-notices"]
    assert "举报人雍某" in pages[f"/p/{province['plate'].token}"]
    assert "投诉人阙某" in pages[f"/facility/{doctor.public_id}"]


def test_the_subject_sees_its_records_not_other_peoples_identities(client, session, rt, login_as, ctx,
                                                                   tmp_path, province):
    hospital, doctor = province["hospital"], province["doctor"]
    rep = identity(rt, "王法人", resident_id=make_resident_id("430102", date(1970, 1, 5), 105),
                   legal_rep_of=ctx.protector.decrypt(hospital.code_cipher))
    login_as(client, rep)
    page = _text(client.get(f"/me/subjects/{hospital.public_id}"))
    pdf = pdf_text(_pdf(client.post(f"/me/subjects/{hospital.public_id}/report.pdf")), tmp_path, "org.pdf")
    letter = case_documents.repair_application_pdf(ctx, province["repair"], base_url="http://portal.test")
    session.commit()
    letter_text = pdf_text(letter.pdf, tmp_path, "letter.pdf")
    for where, body in (("page", page), ("report", flat(pdf)), ("letter", flat(letter_text))):
        assert _leaks(body, SECRETS) == [], where
    assert "投诉人滕某" in page and "诊断为（已隐去）" in page and CONTROL in page
    assert "投诉人滕某" in flat(pdf) and "举报人雍某" in flat(letter_text)

    person = identity(rt, doctor.name, resident_id=ctx.protector.decrypt(doctor.code_cipher))
    login_as(client, person)
    page = _text(client.get(f"/me/subjects/{doctor.public_id}"))
    pdf = flat(pdf_text(_pdf(client.post(f"/me/subjects/{doctor.public_id}/report.pdf")), tmp_path, "doc.pdf"))
    for body in (page, pdf):
        assert _leaks(body, SECRETS) == []
        assert OWN_PHONE in body and OWN_ADDRESS in body  # the subject's own data stays
        assert "投诉人阙某" in body


def test_demo_subjects_do_not_see_the_generators_third_parties(client, session, rt, login_as, ctx, province):
    """The generator puts complainants, patients and on-site contacts into non-public records:
    their owners see the records, masked."""
    checked = 0
    for subject_id, values in province["generated"].items():
        subject = session.get(Subject, subject_id)
        code = ctx.protector.decrypt(subject.code_cipher)
        who = (identity(rt, subject.name, resident_id=code) if subject.kind == "person" else
               identity(rt, "法人", resident_id=make_resident_id("430102", date(1970, 1, 5), 105),
                        legal_rep_of=code))
        login_as(client, who)
        body = _text(client.get(f"/me/subjects/{subject.public_id}"))
        own = {subject.phone, subject.address, subject.name}
        assert _leaks(body, values - own) == [], subject.name
        checked += 1
    assert checked


def _pdf(resp) -> bytes:
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    return resp.data

