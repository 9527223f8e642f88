"""Evidence uploads: type by magic bytes, limits, Pillow verification, random names outside
static/, and nothing stored for a refused file."""
from __future__ import annotations

import hashlib
import io
import warnings
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import func, select

from portal.models import AuditEvent, Evidence
from portal.services import cases, evidence
from portal.services.errors import ServiceError

from .pdf_tools import blank_pdf

APPLICANT = cases.Applicant("https://idp.example.test", "sub-rep", "王法人")
PDF = blank_pdf()


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
    kept = (Path(var_dir) / "evidence" / row.stored_name).read_bytes()
    assert row.mime == mime and row.size == len(kept) and row.sha256 == hashlib.sha256(kept).hexdigest()
    assert stored(var_dir) == [row.stored_name] and row.stored_name != name
    if mime == "application/pdf":
        assert kept == data  # checked, not rewritten
    else:  # re-encoded: the same picture
        with Image.open(io.BytesIO(kept)) as a, Image.open(io.BytesIO(data)) as b:
            assert a.size == b.size and a.format == b.format
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



# --- hostile files: active PDFs, polyglots, metadata ------------------------------------------------

def _pdf(build) -> bytes:
    """A one-page PDF written by pypdf after ``build(writer)`` added something to it."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    build(writer)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _js_action(code="app.alert(1)"):
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    return DictionaryObject({NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject(code)})


def _set(path, key, value):
    """writer → set ``key`` on the catalog (path "root"), the first page ("page") or a new annotation."""
    from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject

    def build(writer):
        if path == "root":
            writer._root_object[NameObject(key)] = value
        elif path == "page":
            writer.pages[0][NameObject(key)] = value
        else:  # an annotation carrying the entry
            annot = DictionaryObject({NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject(path),
                                      NameObject("/Rect"): ArrayObject([FloatObject(0)] * 4), NameObject(key): value})
            writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(annot)])
    return build


def _hostile_pdfs():
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

    launch = DictionaryObject({NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("cmd.exe")})
    xfa_form = DictionaryObject({NameObject("/Fields"): DictionaryObject(),
                                 NameObject("/XFA"): TextStringObject("<xdp:xdp/>")})
    return [
        ("document-javascript.pdf", _pdf(_set("root", "/Names", DictionaryObject({NameObject("/JavaScript"): DictionaryObject(
            {NameObject("/Names"): ArrayObject([TextStringObject("init"), _js_action()])})})))),
        ("open-action.pdf", _pdf(_set("root", "/OpenAction", _js_action()))),
        ("page-additional-action.pdf", _pdf(_set("page", "/AA", DictionaryObject({NameObject("/O"): _js_action()})))),
        ("launch-link.pdf", _pdf(_set("/Link", "/A", launch))),
        ("embedded-html.pdf", _pdf(lambda w: w.add_attachment("invoice.html", b"<script>alert(1)</script>"))),
        ("rich-media.pdf", _pdf(_set("/RichMedia", "/RichMediaContent", DictionaryObject()))),
        ("xfa-form.pdf", _pdf(_set("root", "/AcroForm", xfa_form))),
    ]


@pytest.mark.parametrize("name,data", _hostile_pdfs(), ids=lambda v: v if isinstance(v, str) else "")
def test_pdf_with_active_content_is_refused(ctx, session, case, var_dir, name, data):
    assert evidence.sniff(data) == "application/pdf" and b"%%EOF" in data[-64:]  # a well-formed PDF
    with pytest.raises(ServiceError, match="活动内容") as err:
        cases.add_evidence(ctx, case, name, data, var_dir=var_dir, uploaded_by="user:sub-rep")
    assert err.value.status == 415
    assert stored(var_dir) == [] and session.execute(select(func.count()).select_from(Evidence)).scalar_one() == 0


def test_pdf_with_an_escaped_javascript_name_is_refused(ctx, case, var_dir):
    """``/J#61vaScript`` is ``/JavaScript`` to a viewer: the names are compared decoded. The JS
    text is shortened by as many bytes as the escapes add, so the cross-reference stays right."""
    data = _pdf(_set("root", "/OpenAction", _js_action("printxxxx")))
    data = data.replace(b"/JavaScript", b"/J#61vaScript", 1).replace(b"(printxxxx)", b"(printxx)", 1)
    assert b"/JavaScript" not in data and b"/J#61vaScript" in data
    hidden = data.replace(b"/OpenAction", b"/OpenActio#6E", 1).replace(b"(printxx)", b"(print)", 1)
    for sample in (data, hidden):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            PdfReader(io.BytesIO(sample), strict=True)  # still a well-formed file (offsets intact)
        with pytest.raises(ServiceError, match="活动内容"):
            cases.add_evidence(ctx, case, "escaped.pdf", sample, var_dir=var_dir, uploaded_by="x")
    assert stored(var_dir) == []


def test_plain_pdf_with_a_web_link_is_accepted(ctx, case, var_dir):
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    uri = DictionaryObject({NameObject("/S"): NameObject("/URI"), NameObject("/URI"): TextStringObject("https://wjw.example.gov.cn/")})
    row = cases.add_evidence(ctx, case, "link.pdf", _pdf(_set("/Link", "/A", uri)), var_dir=var_dir, uploaded_by="x")
    assert row.mime == "application/pdf"


@pytest.mark.parametrize("name,data,match", [
    ("junk.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "损坏"),  # cannot be checked: refused
    ("locked.pdf", _pdf(lambda w: w.encrypt("secret-password", algorithm="AES-128")), "密码"),
])
def test_pdf_that_cannot_be_checked_is_refused(ctx, case, var_dir, name, data, match):
    with pytest.raises(ServiceError, match=match):
        cases.add_evidence(ctx, case, name, data, var_dir=var_dir, uploaded_by="x")
    assert stored(var_dir) == []


HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


def _jpeg(**save) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 20), "red").save(buf, "JPEG", **save)
    return buf.getvalue()


def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "EvilCam"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° to display
    exif[0x8825] = {2: (28.0, 11.0, 30.0)}  # GPS IFD: latitude
    return exif


def _png_with_text() -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", HTML.decode())
    buf = io.BytesIO()
    Image.new("RGB", (30, 30), "blue").save(buf, "PNG", pnginfo=info)
    return buf.getvalue() + HTML  # and a page after IEND


@pytest.mark.parametrize("name,data,mime", [
    ("polyglot.jpg", _jpeg() + HTML, "image/jpeg"),  # an HTML page after the JPEG's end marker
    ("comment.jpg", _jpeg(comment=HTML), "image/jpeg"),  # HTML in a JPEG comment segment
    ("exif.jpg", _jpeg(exif=_exif()), "image/jpeg"),
    ("text.png", _png_with_text(), "image/png"),
])
def test_images_are_re_encoded_without_extras(ctx, session, case, var_dir, name, data, mime):
    assert b"<script>" in data or b"EvilCam" in data
    row = cases.add_evidence(ctx, case, name, data, var_dir=var_dir, uploaded_by="user:sub-rep")
    kept = (Path(var_dir) / "evidence" / row.stored_name).read_bytes()
    assert row.mime == mime and row.sha256 == hashlib.sha256(kept).hexdigest()
    assert b"<script" not in kept and b"<html" not in kept and b"EvilCam" not in kept
    with Image.open(io.BytesIO(kept)) as img:
        assert not img.getexif() and "comment" not in img.info and "Comment" not in img.info
        img.load()
        if name == "exif.jpg":
            assert img.size == (20, 40)  # the orientation was applied, then dropped
    received = session.execute(select(AuditEvent.detail).where(AuditEvent.action == "case.evidence")).scalar_one()
    assert received["received_sha256"] == hashlib.sha256(data).hexdigest() != row.sha256
