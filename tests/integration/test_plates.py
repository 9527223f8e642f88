"""QR identity plates (issue #5): issue / revoke / reissue, the scan page and its banners, forged
tokens, anonymous scan counting, the privacy boundary on the scan page, and QR codes that decode
(PNG and every page of the printed PDF) to the plate's scan URL."""
from __future__ import annotations

import io
import subprocess
import time
import zipfile
from datetime import date

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import event, func, select

from portal.documents.plates import batch_pdf, plate_pdf
from portal.documents.qr import encode_qr, qr_png
from portal.domain.plates import RANDOM_LEN, scan_url, verify_token
from portal.models import AuditEvent, Grade, Plate, PlateScanDay
from portal.services import plates as svc
from portal.services.errors import ServiceError
from portal.services.records import set_record_status
from portal.services.subjects import register_subject
from portal.web.facility import scan_counter
from tests.conftest import TODAY, require_tool

CANARIES = ("CANARY-PLATE-SHARED-51e0", "CANARY-PLATE-ONREQ-77aa", "CANARY-PLATE-EXPIRED-0b3c",
            "CANARY-PLATE-REPAIRED-c4d2")


@pytest.fixture
def clinic(make_org, make_record, ctx, session, reindex):
    org = make_org(name="金星口腔诊所", category="clinic", address="长沙市芙蓉区五一大道1号",
                   licence_no="PDY12345643010217A1002", licence_valid_until=date(2028, 12, 31),
                   legal_rep="金星")
    make_record(org, title="公开处罚：未按规定消毒", severity="general")
    make_record(org, record_type="commendation", title="年度优秀基层医疗机构")
    make_record(org, record_type="commitment", title="主动公示承诺：依法执业")
    make_record(org, title=f"不公开 {CANARIES[0]}", scope="shared")
    make_record(org, title=f"申请查询 {CANARIES[1]}", scope="on_request")
    make_record(org, title=f"已过期 {CANARIES[2]}", decided_on=date(2024, 1, 10), publish_until=date(2024, 12, 31))
    repaired = make_record(org, title=f"已修复 {CANARIES[3]}")
    set_record_status(ctx, repaired, "repaired", "信用修复决定")
    session.add(Grade(subject_id=org.id, year=TODAY.year - 1, letter="B", score=85, explanation=[], profile_id="hunan"))
    reindex()
    return org


@pytest.fixture
def plate(ctx, session, clinic):
    p = svc.issue_plate(ctx, clinic)
    session.commit()
    return p


def _soup(resp):
    return BeautifulSoup(resp.get_data(as_text=True), "html.parser")


def _ids(soup):
    return {el["id"] for el in soup.select(".banner[id]")}


def _forge(token: str) -> str:
    """Same random part, a different signature."""
    sig = token[RANDOM_LEN:]
    return token[:RANDOM_LEN] + ("A" if sig[0] != "A" else "B") + sig[1:]


# --- issuing -----------------------------------------------------------------------------------

def test_issue_gives_a_numbered_signed_plate_and_audits(rt, session, clinic, plate):
    assert plate.plate_no == "HN-430102-000001"
    assert plate.status == "active" and plate.issued_on == TODAY
    assert verify_token(rt.protector, plate.token) == plate.token
    assert str(clinic.id) not in plate.token  # opaque: no database id in the token
    actions = session.execute(select(AuditEvent.action).where(AuditEvent.object_ref == f"plate:{plate.id}")).scalars()
    assert list(actions) == ["plate.issue"]


def test_numbers_count_per_county(ctx, session, make_org):
    a = svc.issue_plate(ctx, make_org(name="甲诊所", category="clinic", region_code="430102"))
    b = svc.issue_plate(ctx, make_org(name="乙诊所", category="clinic", region_code="430102"))
    c = svc.issue_plate(ctx, make_org(name="丙诊所", category="clinic", region_code="430103"))
    assert [a.plate_no, b.plate_no, c.plate_no] == ["HN-430102-000001", "HN-430102-000002", "HN-430103-000001"]


def test_issue_refusals(ctx, clinic, plate, make_person, make_org):
    with pytest.raises(ServiceError, match="已有有效身份牌"):
        svc.issue_plate(ctx, clinic)
    with pytest.raises(ServiceError, match="不发给个人"):
        svc.issue_plate(ctx, make_person())
    with pytest.raises(ServiceError, match="注销"):
        svc.issue_plate(ctx, make_org(name="已关门诊所", category="clinic", status="closed"))


def test_issue_missing_skips_units_that_have_one(ctx, clinic, plate, make_org):
    make_org(name="新开药房", category="pharmacy")
    make_org(name="已注销药房", category="pharmacy", status="closed")
    subjects = ctx.session.execute(svc.subjects_query()).scalars().all()
    assert svc.issue_missing(ctx, subjects) == (1, 2)


# --- the scan page -----------------------------------------------------------------------------

def test_scan_page_shows_public_information(client, clinic, plate):
    resp = client.get(f"/p/{plate.token}")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    soup = _soup(resp)
    assert _ids(soup) == {"banner-genuine"}
    assert soup.h1.get_text(strip=True) == "金星口腔诊所"
    text = soup.get_text(" ", strip=True)
    for expected in ("湖南省医疗卫生信用信息公示平台", clinic.credit_code, "诊所、门诊部", "长沙市芙蓉区五一大道1号",
                     "PDY12345643010217A1002", "2028-12-31", "公开处罚：未按规定消毒", "年度优秀基层医疗机构",
                     "主动公示承诺：依法执业", "数据更新时间", plate.plate_no, "12345"):
        assert expected in text, expected
    grade = soup.select_one("#grade")
    assert "B" in grade.get_text() and f"{TODAY.year - 1} 年度" in grade.get_text()
    assert soup.select_one('a[href="tel:12345"]') and soup.select_one('a[href="/chat"]')
    # small, self-contained, nothing to run
    assert len(resp.data) < 50 * 1024
    assert "<script" not in body and "<link" not in body
    assert resp.headers["Cache-Control"].startswith("no-cache")


def test_lower_case_and_upper_case_paths(client, plate):
    assert client.get(f"/P/{plate.token}").status_code == 200
    assert client.get(f"/p/{plate.token.lower()}").status_code == 200


def test_scan_page_never_shows_non_public_records(client, clinic, plate):
    body = client.get(f"/p/{plate.token}").get_data(as_text=True)
    assert "公开处罚：未按规定消毒" in body  # so the check below is not vacuous
    for canary in CANARIES:
        assert canary not in body


def test_live_grade(client, session, clinic, plate):
    """A printed plate never shows a stale grade: the page reads the current one."""
    session.execute(Grade.__table__.update().where(Grade.subject_id == clinic.id).values(letter="D"))
    session.commit()
    grade = _soup(client.get(f"/p/{plate.token}")).select_one("#grade .grade")
    assert grade.get_text(strip=True) == "D"


# --- banners -----------------------------------------------------------------------------------

def test_revoked_plate_keeps_answering_with_a_banner(client, ctx, session, plate):
    svc.revoke_plate(ctx, plate, "lost")
    session.commit()
    resp = client.get(f"/p/{plate.token}")
    assert resp.status_code == 200
    soup = _soup(resp)
    assert _ids(soup) == {"banner-revoked"}
    assert "遗失" in soup.select_one("#banner-revoked").get_text()
    assert soup.h1.get_text(strip=True) == "金星口腔诊所"
    with pytest.raises(ServiceError):
        svc.revoke_plate(ctx, plate, "lost")


def test_reissue_links_old_to_new(client, ctx, session, plate):
    new = svc.reissue_plate(ctx, plate, "damaged")
    session.commit()
    assert new.plate_no == "HN-430102-000002" and new.token != plate.token
    assert plate.status == "replaced" and plate.replaced_by_id == new.id
    old_page = _soup(client.get(f"/p/{plate.token}"))
    assert _ids(old_page) == {"banner-replaced", "banner-current"}
    link = old_page.select_one("#banner-current a")["href"]
    assert link == f"/p/{new.token}"
    assert new.plate_no in old_page.select_one("#banner-current").get_text()
    assert _ids(_soup(client.get(link))) == {"banner-genuine"}
    with pytest.raises(ServiceError, match="已换发"):
        svc.reissue_plate(ctx, plate)
    events = session.execute(select(AuditEvent.action).where(AuditEvent.action.like("plate.%"))
                             .order_by(AuditEvent.id)).scalars().all()
    assert events == ["plate.issue", "plate.reissue"]


def test_revoked_then_reissued_shows_both(client, ctx, session, plate):
    svc.revoke_plate(ctx, plate, "lost")
    new = svc.reissue_plate(ctx, plate, "lost")
    newer = svc.reissue_plate(ctx, new, "damaged")
    session.commit()
    page = _soup(client.get(f"/p/{plate.token}"))
    assert _ids(page) == {"banner-revoked", "banner-current"}
    assert page.select_one("#banner-current a")["href"] == f"/p/{newer.token}"  # follows the chain


@pytest.mark.parametrize("status, banner", [("closed", "banner-closed"), ("licence_revoked", "banner-licence-revoked")])
def test_closed_or_unlicensed_unit(client, ctx, session, clinic, plate, status, banner):
    register_subject(ctx, kind="org", name=clinic.name, code=clinic.credit_code, category=clinic.category,
                     region_code=clinic.region_code, status=status)
    session.commit()
    soup = _soup(client.get(f"/p/{plate.token}"))
    assert _ids(soup) == {banner}
    with pytest.raises(ServiceError):
        svc.reissue_plate(ctx, plate)


# --- forged tokens -----------------------------------------------------------------------------

def _plate_queries(rt):
    seen = []

    def listener(conn, cursor, statement, params, context, executemany):
        if "plates" in statement:
            seen.append(statement)

    event.listen(rt.engine, "before_cursor_execute", listener)
    return seen, lambda: event.remove(rt.engine, "before_cursor_execute", listener)


def test_forged_token_is_said_to_be_not_genuine_and_reveals_nothing(client, rt, clinic, plate):
    forged_existing = _forge(plate.token)  # a real plate's random part, a wrong signature
    forged_unknown = "QQQQQQQQQQ" + forged_existing[RANDOM_LEN:]  # a random part nobody has
    seen, stop = _plate_queries(rt)
    try:
        responses = [client.get(f"/p/{t}") for t in (forged_existing, forged_unknown, "tooshort", "A" * 16,
                                                      plate.token[:-1], plate.token + "A")]
    finally:
        stop()
    assert seen == []  # rejected before any database lookup
    first = responses[0]
    assert first.status_code == 404
    soup = _soup(first)
    assert _ids(soup) == {"banner-not-genuine"}
    body = first.get_data(as_text=True)
    assert "金星" not in body and clinic.credit_code not in body and plate.plate_no not in body
    for other in responses[1:]:
        assert other.status_code == first.status_code
        assert other.data == first.data
        assert {k: v for k, v in other.headers if k not in ("Date", "X-Request-ID")} == \
            {k: v for k, v in first.headers if k not in ("Date", "X-Request-ID")}  # per-request id (portal.logs)


def test_validly_signed_but_unknown_token_looks_the_same(client, rt, plate):
    from portal.domain.plates import new_token

    stranger = client.get(f"/p/{new_token(rt.protector)}")
    forged = client.get(f"/p/{_forge(plate.token)}")
    assert stranger.status_code == forged.status_code == 404
    assert stranger.data == forged.data


# --- scan counting -----------------------------------------------------------------------------

def test_scans_are_counted_per_plate_per_day_and_nothing_else(client, session, plate):
    for _ in range(3):
        assert client.get(f"/p/{plate.token}").status_code == 200
    assert client.head(f"/p/{plate.token}").status_code == 200  # not counted
    client.get(f"/p/{plate.token}", headers={"Sec-Purpose": "prefetch"})  # not counted
    client.get(f"/p/{_forge(plate.token)}")  # not a plate: not counted
    scan_counter(client.application).flush()  # counts are written in batches (ScanCounter)
    session.expire_all()
    rows = session.execute(select(PlateScanDay)).scalars().all()
    assert [(r.plate_id, r.day, r.count) for r in rows] == [(plate.id, TODAY, 3)]
    assert svc.scan_counts(session) == {plate.id: 3}
    # the table has room for nothing personal
    assert set(PlateScanDay.__table__.columns.keys()) == {"plate_id", "day", "count"}


def test_upsert_counts_across_days(session, plate):
    for day in (date(2026, 11, 19), date(2026, 11, 20), date(2026, 11, 20)):
        svc.record_scan(session, plate.id, day)
    session.commit()
    assert svc.scan_days(session, plate.id) == [(date(2026, 11, 19), 1), (date(2026, 11, 20), 2)]
    assert svc.scan_counts(session, since=date(2026, 11, 20)) == {plate.id: 2}


def test_a_failing_counter_never_fails_the_page(client, plate, monkeypatch, caplog):
    def broken(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(svc, "record_scans", broken)
    resp = client.get(f"/p/{plate.token}")
    assert resp.status_code == 200
    assert "金星口腔诊所" in resp.get_data(as_text=True)
    deadline = time.monotonic() + 20  # the writer thread tries, fails and logs; the page never knew
    while "scan count" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "scan count" in caplog.text
    assert scan_counter(client.application).pending() == 1  # kept for the next attempt


# --- QR codes that decode ----------------------------------------------------------------------

def _decode(image) -> list[str]:
    import zxingcpp

    return [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]


def test_png_qr_decodes_to_the_scan_url(rt, session, plate):
    from PIL import Image

    url, matrix = svc.plate_matrix(plate, rt.settings["PORTAL_BASE_URL"])
    assert url == scan_url("http://127.0.0.1:5000", plate.token) == f"HTTP://127.0.0.1:5000/P/{plate.token}"
    assert _decode(Image.open(io.BytesIO(qr_png(matrix)))) == [url]
    assert plate.qr_url == url and plate.qr_modules  # rendered once, kept on the row


def test_qr_is_rendered_once_per_plate(rt, session, plate, monkeypatch):
    import portal.services.plates as module

    svc.plate_matrix(plate, rt.settings["PORTAL_BASE_URL"])
    session.commit()
    monkeypatch.setattr(module, "encode_qr", lambda url: pytest.fail("QR encoded again"))
    svc.plate_matrix(plate, rt.settings["PORTAL_BASE_URL"])  # read back from the row


def _pdf_pages_to_png(pdf: bytes, tmp_path, dpi: int = 110) -> list:
    from PIL import Image

    pdftoppm = require_tool("pdftoppm", "QR decoding from PDF pages needs poppler-utils")
    src = tmp_path / "plates.pdf"
    src.write_bytes(pdf)
    subprocess.run([pdftoppm, "-r", str(dpi), "-gray", "-png", str(src), str(tmp_path / "page")], check=True)
    return [Image.open(p) for p in sorted(tmp_path.glob("page*.png"))]


def test_every_pdf_page_decodes_to_its_plate(rt, ctx, session, clinic, plate, make_org, tmp_path):
    others = [svc.issue_plate(ctx, make_org(name=f"第{i}号诊所（一个相当长的名称用来测试换行和缩小字号）", category="clinic"))
              for i in range(3)]
    session.commit()
    base = rt.settings["PORTAL_BASE_URL"]
    plates = [plate, *others]
    out = io.BytesIO()
    cards = list(svc.iter_cards(session, rt.profile, base, TODAY, plates))
    assert batch_pdf(cards, out, "A6") == 4
    pages = _pdf_pages_to_png(out.getvalue(), tmp_path)
    assert len(pages) == 4
    assert [_decode(p) for p in pages] == [[scan_url(base, p.token)] for p in plates]
    assert cards[0].grade_letter is None  # hunan prints no grade (profile display.plate_shows_grade, #13)


def _grade_profile(profile):
    """The profile with ``display.plate_shows_grade`` on: a deployment that prints the grade."""
    from dataclasses import replace

    return replace(profile, display=replace(profile.display, plate_shows_grade=True))


def _pdf_text(pdf: bytes, tmp_path) -> str:
    pdftotext = require_tool("pdftotext", "text extraction needs poppler-utils")
    (tmp_path / "plate.pdf").write_bytes(pdf)
    return subprocess.run([pdftotext, str(tmp_path / "plate.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_plate_prints_the_live_caption_and_no_grade_by_default(rt, session, plate, tmp_path):
    """Issue #13: a grade on the door goes stale; what a plate prints is a profile choice whose
    default is "扫码查看实时信用信息" (淮安 三（七）: the scan shows the grade)."""
    card = svc.plate_card(session, rt.profile, plate, rt.settings["PORTAL_BASE_URL"], TODAY)
    text = _pdf_text(plate_pdf(card, "A6"), tmp_path)
    assert "扫码查看实时信用信息" in text and "信用等级" not in text
    assert (plate.printed_grade, plate.printed_grade_year) == ("", None)


def test_a_printed_grade_carries_its_year(rt, session, plate, tmp_path):
    card = svc.plate_card(session, _grade_profile(rt.profile), plate, rt.settings["PORTAL_BASE_URL"], TODAY)
    text = _pdf_text(plate_pdf(card, "A6"), tmp_path)
    label = rt.profile.grade("B").label
    assert f"{TODAY.year - 1} 年度信用等级 B（{label}）" in text and "扫码查看实时信用信息" in text
    assert (plate.printed_grade, plate.printed_grade_year) == ("B", TODAY.year - 1)  # kept for the reprint list


def test_a5_plate_decodes_and_names_the_unit(rt, session, plate, tmp_path):
    card = svc.plate_card(session, _grade_profile(rt.profile), plate, rt.settings["PORTAL_BASE_URL"], TODAY)
    pages = _pdf_pages_to_png(plate_pdf(card, "A5"), tmp_path, dpi=72)
    assert _decode(pages[0]) == [card.url]
    pdftotext = require_tool("pdftotext", "text extraction needs poppler-utils")
    (tmp_path / "a5.pdf").write_bytes(plate_pdf(card, "A5"))
    text = subprocess.run([pdftotext, str(tmp_path / "a5.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    for expected in ("湖南省医疗卫生信用信息公示平台", "金星口腔诊所", "扫码查看实时信用信息", "湖南省卫生健康委员会",
                     plate.plate_no, TODAY.isoformat(), f"{TODAY.year - 1} 年度信用等级 B"):
        assert expected in text, expected


def test_plate_svg_holds_the_same_code(rt, session, plate):
    from portal.documents.plates import plate_svg
    from portal.documents.qr import qr_svg_path

    card = svc.plate_card(session, rt.profile, plate, rt.settings["PORTAL_BASE_URL"], TODAY)
    svg = plate_svg(card, "A6")
    assert qr_svg_path(encode_qr(card.url)) in svg
    assert "金星口腔诊所" in svg and plate.plate_no in svg and "扫码查看实时信用信息" in svg
    assert len(svg) < 12 * 1024
    from xml.etree import ElementTree

    root = ElementTree.fromstring(svg)  # well-formed XML
    assert root.get("width") == "105mm" and root.get("height") == "148mm"


# --- the command line --------------------------------------------------------------------------

@pytest.fixture
def cli(settings, monkeypatch, app):
    from click.testing import CliRunner

    from portal.cli import main

    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


def test_cli_issue_print_revoke_reissue_scans(cli, rt, session, clinic, make_org, make_person, client, tmp_path):
    make_org(name="株洲某药房", category="pharmacy", region_code="430202")
    make_org(name="芙蓉某药房", category="pharmacy", region_code="430102")
    make_person()
    session.commit()
    result = cli("plates", "issue", "--region", "430100")  # the city selects its districts
    assert result.exit_code == 0, result.output
    assert "已发放 2 块" in result.output
    assert cli("plates", "issue", "--all").output.count("已发放 1 块") == 1  # 株洲; the person is skipped
    session.expire_all()
    assert session.execute(select(func.count()).select_from(Plate)).scalar_one() == 3

    pdf = tmp_path / "batch.pdf"
    result = cli("plates", "pdf", "--category", "pharmacy", "--size", "A5", "-o", str(pdf))
    assert result.exit_code == 0, result.output
    pages = _pdf_pages_to_png(pdf.read_bytes(), tmp_path, dpi=72)
    tokens = session.execute(svc.plates_query(category="pharmacy")).scalars().all()
    assert [_decode(p) for p in pages] == [[scan_url(rt.settings["PORTAL_BASE_URL"], p.token)] for p in tokens]

    archive = tmp_path / "batch.zip"
    assert cli("plates", "zip", "--region", "430102", "-o", str(archive)).exit_code == 0
    with zipfile.ZipFile(archive) as zf:
        names = sorted(zf.namelist())
        assert names == ["HN-430102-000001.pdf", "HN-430102-000001.svg", "HN-430102-000002.pdf",
                         "HN-430102-000002.svg", "index.csv"]
        assert "金星口腔诊所" in zf.read("index.csv").decode("utf-8-sig")

    first = session.execute(svc.plates_query(region="430102")).scalars().first()
    assert cli("plates", "revoke", first.plate_no, "--reason", "lost").exit_code == 0
    result = cli("plates", "reissue", first.plate_no, "--reason", "lost")
    assert result.exit_code == 0 and "已补发 HN-430102-000003" in result.output
    bad = cli("plates", "revoke", first.plate_no, "--reason", "lost")
    assert bad.exit_code != 0 and "不是有效状态" in bad.output

    client.get(f"/p/{first.token}")
    client.get(f"/p/{first.token}")
    scan_counter(client.application).flush()  # counts are written in batches (ScanCounter)
    result = cli("plates", "scans")
    assert result.exit_code == 0
    assert f"{first.plate_no}\t2\t" in result.output
    listing = cli("plates", "list").output
    assert "HN-430102-000001\t已作废\t2026-11-20\t扫码 2\t金星口腔诊所" in listing
    assert "HN-430102-000003\t有效\t" in listing


# --- staff pages (behind the staff login) ------------------------------------------------------

STAFF_PASSWORD = "correct horse battery"


@pytest.fixture
def staff_login(ctx, session, client):
    import pyotp

    from portal.services import staff as staff_svc

    def login(username, roles, region_code="", authority=""):
        _, uri = staff_svc.create_staff(ctx, username, STAFF_PASSWORD, roles, region_code=region_code,
                                        authority=authority)
        session.commit()
        code = pyotp.TOTP(pyotp.parse_uri(uri).secret).now()
        resp = client.post("/staff/login", data={"username": username, "password": STAFF_PASSWORD, "code": code})
        assert resp.status_code == 302, resp.get_data(as_text=True)

    return login


def test_staff_pages_need_a_plate_role(client, staff_login, plate):
    resp = client.get("/staff/plates")
    assert resp.status_code == 302 and "/staff/login" in resp.headers["Location"]
    staff_login("provider.one", ["provider"], authority="长沙市卫生健康委员会")  # a unit is required
    assert client.get("/staff/plates").status_code == 403
    assert client.post(f"/staff/plates/{plate.plate_no}/revoke", data={"reason": "lost"}).status_code == 403


def test_staff_list_issue_revoke_reissue(client, session, staff_login, ctx, clinic, plate, make_org):
    make_org(name="株洲某药房", category="pharmacy", region_code="430202")
    make_org(name="芙蓉新开药房", category="pharmacy", region_code="430102")
    other = svc.issue_plate(ctx, make_org(name="株洲已发牌诊所", category="clinic", region_code="430211"))
    session.commit()
    client.get(f"/p/{plate.token}")
    staff_login("dept.changsha", ["department"], region_code="430100")

    page = _soup(client.get("/staff/plates"))
    assert [a.get_text() for a in page.select("tr.plate-row td a")] == [plate.plate_no]  # Zhuzhou is not theirs
    assert page.select_one("tr.plate-row .scans-total").get_text() == "1"
    assert page.select_one("#missing").get_text() == "1"
    assert client.get(f"/staff/plates/{other.plate_no}").status_code == 404
    assert client.get("/staff/plates?region=430200").status_code == 403

    resp = client.post("/staff/plates/issue", data={"region": "", "category": ""})
    assert resp.status_code == 302 and "msg=" in resp.headers["Location"]
    assert len(_soup(client.get("/staff/plates")).select("tr.plate-row")) == 2

    resp = client.post(f"/staff/plates/{plate.plate_no}/revoke", data={"reason": "other", "note": ""})
    assert "error=" in resp.headers["Location"]  # "other" needs a note
    client.post(f"/staff/plates/{plate.plate_no}/revoke", data={"reason": "lost", "note": "门诊搬迁时遗失", "confirm": "yes"})
    detail = _soup(client.get(f"/staff/plates/{plate.plate_no}"))
    assert "已作废" in detail.select_one(".plate-status").get_text()
    assert "门诊搬迁时遗失" in detail.select_one(".plate-status").get_text()
    resp = client.post(f"/staff/plates/{plate.plate_no}/reissue", data={"reason": "lost", "confirm": "yes"})
    new_no = resp.headers["Location"].rsplit("/", 1)[-1]
    assert new_no.startswith("HN-430102-")
    session.expire_all()
    assert _ids(_soup(client.get(f"/p/{plate.token}"))) == {"banner-revoked", "banner-current"}
    actors = session.execute(select(AuditEvent.actor).where(AuditEvent.action.in_(["plate.revoke", "plate.reissue"]))) \
        .scalars().all()
    assert actors == ["staff:dept.changsha", "staff:dept.changsha"]


def test_staff_single_download_and_batch(client, session, staff_login, rt, plate, make_org, ctx, tmp_path):
    import time

    svc.issue_plate(ctx, make_org(name="芙蓉第二诊所", category="clinic"))
    session.commit()
    staff_login("op.province", ["operator"])
    png = client.get(f"/staff/plates/{plate.plate_no}/plate.png")
    from PIL import Image

    assert _decode(Image.open(io.BytesIO(png.data))) == [scan_url(rt.settings["PORTAL_BASE_URL"], plate.token)]
    assert client.get(f"/staff/plates/{plate.plate_no}/plate.svg?size=A5").mimetype == "image/svg+xml"

    resp = client.post("/staff/plates/batches", data={"region": "430102", "category": "clinic", "size": "A6",
                                                      "format": "pdf"})
    assert resp.status_code == 302
    status_url = resp.headers["Location"]
    deadline = time.monotonic() + 60
    while True:
        page = _soup(client.get(status_url))
        state = page.select_one("#batch")["data-state"]
        if state in ("done", "failed") or time.monotonic() > deadline:
            break
        assert page.select_one('meta[http-equiv="refresh"]') is not None  # progress without JavaScript
        time.sleep(0.1)
    assert state == "done"
    with client.get(page.select_one("#batch a.button")["href"]) as pdf:  # send_file: close the file
        assert pdf.mimetype == "application/pdf"
        data = pdf.data
    pages = _pdf_pages_to_png(data, tmp_path, dpi=72)
    assert len(pages) == 2 and all(len(_decode(p)) == 1 for p in pages)
    session.expire_all()
    printed = session.execute(select(AuditEvent).where(AuditEvent.action == "plate.print")).scalar_one()
    assert printed.actor == "staff:op.province" and printed.detail["count"] == 2


def _run_batch_to_the_end(client, resp) -> str:
    assert resp.status_code == 302
    status_url = resp.headers["Location"]
    deadline = time.monotonic() + 60
    while True:
        page = _soup(client.get(status_url))
        state = page.select_one("#batch")["data-state"]
        if state in ("done", "failed") or time.monotonic() > deadline:
            return state
        time.sleep(0.1)


def _stale(client) -> dict[str, tuple[str, str]]:
    soup = _soup(client.get("/staff/plates/reprint"))
    return {row.a.get_text(): (row.select_one(".printed").get_text(), row.select_one(".current").get_text())
            for row in soup.select("table.plates-stale tr.plate-row")}


def test_reprint_after_a_grading(client, session, staff_login, rt, plate, monkeypatch, ctx, make_org):
    """Issue #13: when plates print the grade, staff see the plates whose printed grade is not the
    grade in force and reprint them (same QR); after the reprint the list is empty."""
    monkeypatch.setattr(rt, "profile", _grade_profile(rt.profile))
    svc.plate_card(session, rt.profile, plate, rt.settings["PORTAL_BASE_URL"], TODAY)  # printed with B
    other = svc.issue_plate(ctx, make_org(name="芙蓉第三诊所", category="clinic"))  # no grade yet: nothing to print
    session.commit()
    staff_login("op.province", ["operator"])
    assert _stale(client) == {}
    grade = session.execute(select(Grade).where(Grade.subject_id == plate.subject_id)).scalar_one()
    grade.letter = "C"  # the grading changed the grade in force
    session.add(Grade(subject_id=other.subject_id, year=TODAY.year - 1, letter="A", score=95, explanation=[],
                      profile_id="hunan"))
    session.commit()
    stale = _stale(client)
    assert stale == {plate.plate_no: (f"{TODAY.year - 1} 年度 B", f"{TODAY.year - 1} 年度 C"),
                     other.plate_no: ("未印等级或未记录", f"{TODAY.year - 1} 年度 A")}
    state = _run_batch_to_the_end(client, client.post("/staff/plates/reprint", data={"size": "A6", "format": "pdf"}))
    assert state == "done"
    session.expire_all()
    assert _stale(client) == {}
    assert session.get(Plate, plate.id).token == plate.token  # a reprint keeps the plate and its QR
    assert session.execute(select(AuditEvent).where(AuditEvent.action == "plate.print")).scalar_one() \
        .detail["count"] == 2


def test_plates_printed_with_a_grade_are_stale_once_the_profile_prints_none(client, session, staff_login, rt,
                                                                            plate):
    plate.printed_grade, plate.printed_grade_year = "B", TODAY.year - 1  # printed before the switch
    session.commit()
    staff_login("op.province", ["operator"])
    assert _stale(client) == {plate.plate_no: (f"{TODAY.year - 1} 年度 B", "不印等级")}
    assert _run_batch_to_the_end(client, client.post("/staff/plates/reprint", data={"size": "A6"})) == "done"
    assert _stale(client) == {}


def test_reprint_needs_a_plate_role(client, staff_login, plate):
    staff_login("provider.two", ["provider"], authority="长沙市卫生健康委员会")
    assert client.get("/staff/plates/reprint").status_code == 403
    assert client.post("/staff/plates/reprint", data={"size": "A6"}).status_code == 403
