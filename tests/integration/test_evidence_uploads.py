"""Evidence uploads: type by magic bytes, limits, Pillow verification, random names outside
static/, and nothing stored for a refused file."""
from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from portal.models import AuditEvent, Evidence
from portal.services import cases, evidence
from portal.services.errors import ServiceError

APPLICANT = cases.Applicant("https://idp.example.test", "sub-rep", "王法人")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png(size=(40, 30), mode="RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size).save(buf, "PNG")
    return buf.getvalue()


def jpg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture
def case(ctx, make_org, make_record):
    org = make_org(name="上传测试诊所")
    rec = make_record(org, decided_on=date(2026, 10, 9))
    return cases.file_objection(ctx, org, rec, ground="fact_error", statement="有误", applicant=APPLICANT,
                                commitment=True, identity_confirmed=True)


@pytest.fixture
def var_dir(rt):
    return rt.settings["PORTAL_VAR_DIR"]


def stored(var_dir):
    folder = Path(var_dir) / "evidence"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("name,data,mime", [
    ("处罚决定书.pdf", PDF, "application/pdf"),
    ("现场照片.PNG", png(), "image/png"),
    ("收据.jpeg", jpg(), "image/jpeg"),
    ("scan.bin", jpg(), "image/jpeg"),  # the name does not decide, the bytes do
])
def test_accepted(ctx, session, case, var_dir, name, data, mime):
    row = cases.add_evidence(ctx, case, name, data, var_dir=var_dir, uploaded_by="user:sub-rep")
    assert row.mime == mime and row.size == len(data)
    assert stored(var_dir) == [row.stored_name] and row.stored_name != name
    assert (Path(var_dir) / "evidence" / row.stored_name).read_bytes() == data
    assert row.original_name.endswith(evidence.EXTENSIONS[mime])
    assert "static" not in str(evidence.evidence_path(var_dir, row))
    assert session.execute(select(AuditEvent).where(AuditEvent.action == "case.evidence")).scalar_one()


def _bomb() -> bytes:
    buf = io.BytesIO()
    Image.new("1", (12000, 12000)).save(buf, "PNG")  # 144 MP, a few kB compressed
    return buf.getvalue()


@pytest.mark.parametrize("name,data,match", [
    ("合同.pdf", b"MZ\x90\x00\x03" + b"\x00" * 200, "只能上传"),  # a renamed Windows executable
    ("照片.png", b"\x7fELF\x02\x01\x01" + b"\x00" * 200, "只能上传"),  # a renamed ELF binary
    ("a.pdf", b"<html><script>alert(1)</script></html>", "只能上传"),
    ("bomb.png", _bomb(), "压缩炸弹|尺寸过大"),
    ("../../static/x.png", png(), "文件名不合法"),
    ("..\\..\\evil.png", png(), "文件名不合法"),
    ("/etc/passwd.png", png(), "文件名不合法"),
    ("broken.png", png()[:60], "损坏"),
    ("fake.jpg", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "损坏|不符"),
    ("empty.pdf", b"", "为空"),
    ("truncated.pdf", b"%PDF-1.4\n" + b"x" * 100, "不完整"),
])
def test_refused_and_nothing_stored(ctx, session, case, var_dir, name, data, match):
    with pytest.raises(ServiceError, match=match):
        cases.add_evidence(ctx, case, name, data, var_dir=var_dir, uploaded_by="user:sub-rep")
    assert stored(var_dir) == []
    assert session.execute(select(func.count()).select_from(Evidence)).scalar_one() == 0


def test_oversized(ctx, session, case, var_dir):
    big = PDF[:-7] + b"0" * (evidence.MAX_BYTES + 1) + b"\n%%EOF\n"
    with pytest.raises(ServiceError) as err:
        cases.add_evidence(ctx, case, "big.pdf", big, var_dir=var_dir, uploaded_by="x")
    assert err.value.status == 413 and stored(var_dir) == []


def test_count_limit(ctx, case, var_dir):
    for i in range(3):
        cases.add_evidence(ctx, case, f"{i}.pdf", PDF, var_dir=var_dir, uploaded_by="x", max_files=3)
    with pytest.raises(ServiceError, match="最多上传 3 个"):
        cases.add_evidence(ctx, case, "4.pdf", PDF, var_dir=var_dir, uploaded_by="x", max_files=3)
    assert len(stored(var_dir)) == 3


def test_closed_case_refuses(ctx, case, var_dir):
    cases.withdraw_case(ctx, case, APPLICANT)
    with pytest.raises(ServiceError, match="已办结"):
        cases.add_evidence(ctx, case, "a.pdf", PDF, var_dir=var_dir, uploaded_by="x")


def test_pillow_limit_restored(ctx, case, var_dir):
    before = Image.MAX_IMAGE_PIXELS
    with pytest.raises(ServiceError):
        cases.add_evidence(ctx, case, "bomb.png", _bomb(), var_dir=var_dir, uploaded_by="x")
    assert Image.MAX_IMAGE_PIXELS == before


@pytest.mark.parametrize("raw,clean", [
    ("报告\x00.pdf", "报告.pdf"),
    ("a\u202egnp.pdf", "agnp.pdf"),  # right-to-left override removed
    ("<script>.pdf", "_script_.pdf"),
    ("x" * 300 + ".pdf", "x" * 80 + ".pdf"),
])
def test_sanitise_name(raw, clean):
    assert evidence.sanitise_name(raw, "application/pdf") == clean
