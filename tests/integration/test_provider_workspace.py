"""The providers' workspace (信息提供单位, /staff/provide): upload with a preview and confirm,
the one-record form with 审核 by a second person, corrections and withdrawals as versions, the
scope of a providing unit, other channels held for review (海南 第二十二条), the catalogue and the
units overdue (湖南 第九条、第十条)."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from portal.domain import provision as rules
from portal.domain.identifiers import make_uscc
from portal.models import AuditEvent, CreditRecord, ProviderUpload, RecordDraft, Subject
from portal.services import provision as svc
from portal.services.errors import ServiceError
from portal.services.importer import COLUMNS

from .test_service_boundary import _as, _staff
from .test_staff_auth import web_login

UNIT = "长沙市芙蓉区卫生健康局"
HEADER = [c[1] for c in COLUMNS]
CANARY = "CHANNEL-CANARY-7f3e 行业协会未审核信息"


def _row(**kw):
    base = {"subject_code": make_uscc("12", "430102", "00000042"), "subject_name": "湘江社区卫生服务中心",
            "subject_kind": "机构", "category": "诊所、门诊部", "region_code": "430102", "record_type": "行政处罚",
            "info_class": "失信信息", "severity": "一般", "title": "未按规定处置医疗废物", "content": "罚款三千元",
            "authority": UNIT, "doc_no": "湘芙卫罚〔2026〕3号", "decided_on": "2026-05-06", "scope": "社会公开"}
    base.update(kw)
    return [base.get(c[0], "") for c in COLUMNS]


def _csv(rows) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(HEADER)
    w.writerows(rows)
    return out.getvalue().encode("utf-8")


def _client(app):
    from tests.conftest import CsrfClient

    app.test_client_class = CsrfClient  # sends the CSRF token, as the pages do
    return app.test_client()


def _soup(resp):
    return BeautifulSoup(resp.get_data(as_text=True), "html.parser")


@pytest.fixture
def world(app, ctx, session, make_org, make_record):
    org = make_org(name="芙蓉区康宁诊所", category="clinic", region_code="430102")
    rec = make_record(org, title="未按规定公示价格", authority=UNIT, decided_on=date(2026, 6, 1))
    gone = make_record(org, title="未按规定登记执业", authority=UNIT, decided_on=date(2026, 6, 2))
    other = make_record(org, title="其他单位的处罚", authority="株洲市卫生健康委员会", decided_on=date(2026, 6, 3))
    w = {"org": org, "rec": rec, "gone": gone, "other": other,
         "a": _staff(ctx, "prov.a", ["provider"], "430102", UNIT),
         "b": _staff(ctx, "prov.b", ["provider"], "430102", UNIT),
         "far": _staff(ctx, "prov.far", ["provider"], "430202", "株洲市卫生健康委员会"),
         "op": _staff(ctx, "op.all", ["operator"])}
    w["assoc"] = _channel_staff(ctx)
    session.commit()
    return w


def _channel_staff(ctx):
    from portal.services import staff as staff_svc

    from .test_staff_auth import PASSWORD, _secret
    user, uri = staff_svc.create_staff(ctx, "assoc.med", PASSWORD, ["provider"], region_code="430102",
                                       authority="湖南省医师协会", channel="association")
    return user, _secret(uri)


def _login(app, w, who):
    c = _client(app)
    user, secret = w[who]
    assert web_login(c, user.username, secret).status_code == 302
    return c


def _count(session, model, *where):
    session.expire_all()
    return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


# --- upload: preview, then a second person confirms --------------------------------------------------

def test_upload_preview_then_second_person_confirms(app, session, world):
    org, rec, gone = world["org"], world["rec"], world["gone"]
    rows = [_row(), _row(subject_code=make_uscc("12", "430102", "00000043"), subject_name="芙蓉区明德药房",
                         category="药店", title="销售过期药品"),
            _row(subject_code=org.credit_code, subject_name=org.name, title="未按规定公示价格（更正）",
                 action="更正", record_ref=str(rec.lineage_id), change_reason="文书号录入有误"),
            _row(subject_code=org.credit_code, action="撤回", record_ref=str(gone.lineage_id),
                 change_reason="经复查不属实", subject_name="", title="", authority="", decided_on="", scope="",
                 record_type="", info_class="", severity="", category="", subject_kind="", region_code="")]
    a = _login(app, world, "a")
    before = _count(session, CreditRecord)
    resp = a.post("/staff/provide/upload", data={"file": (io.BytesIO(_csv(rows)), "报送.csv")},
                  content_type="multipart/form-data")
    assert resp.status_code == 303
    page = _soup(a.get(resp.headers["Location"]))
    assert page.select_one(".n-add").get_text() == "2" and page.select_one(".n-correct").get_text() == "1"
    assert page.select_one(".n-withdraw").get_text() == "1"
    assert [r["data-action"] for r in page.select("tr.preview-row")] == ["add", "add", "correct", "withdraw"]
    assert _count(session, CreditRecord) == before  # a preview writes no record
    assert not page.select("form[action$='/confirm']")  # hunan: 审核 by another person
    upload_id = resp.headers["Location"].rsplit("/", 1)[-1]
    refused = a.post(f"/staff/provide/upload/{upload_id}/confirm")
    assert refused.status_code == 403 and "另一名工作人员" in refused.get_data(as_text=True)
    assert _count(session, CreditRecord) == before

    b = _login(app, world, "b")
    assert _soup(b.get(f"/staff/provide/upload/{upload_id}")).select("form[action$='/confirm']")
    done = b.post(f"/staff/provide/upload/{upload_id}/confirm")
    assert done.status_code == 303
    session.expire_all()
    assert _count(session, CreditRecord) == before + 2 + 2  # two new, one corrected version, one withdrawn version
    versions = session.execute(select(CreditRecord).where(CreditRecord.lineage_id == rec.lineage_id)
                               .order_by(CreditRecord.version)).scalars().all()
    assert [(v.version, v.status, v.is_current) for v in versions] == [(1, "superseded", False), (2, "active", True)]
    assert versions[1].title == "未按规定公示价格（更正）" and versions[1].change_reason == "文书号录入有误"
    gone_now = session.execute(select(CreditRecord).where(CreditRecord.lineage_id == gone.lineage_id,
                                                          CreditRecord.is_current.is_(True))).scalar_one()
    assert gone_now.status == "withdrawn" and gone_now.change_reason == "经复查不属实" and gone_now.version == 2
    assert session.get(ProviderUpload, upload_id).state == "confirmed"
    assert _count(session, AuditEvent, AuditEvent.action == "provider.upload_confirm",
                  AuditEvent.actor == "staff:prov.b") == 1
    # confirming twice is refused, nothing doubles
    assert b.post(f"/staff/provide/upload/{upload_id}/confirm").status_code == 409
    assert _count(session, Subject, Subject.name == "芙蓉区明德药房") == 1
    assert _count(session, Subject, Subject.code_hash.isnot(None), Subject.name == "湘江社区卫生服务中心") == 1


def test_bad_file_reports_every_row_and_writes_nothing(app, session, world):
    rows = [_row(), _row(severity="", title="缺少严重程度"), _row(decided_on="2026-13-01"),
            _row(authority="株洲市卫生健康委员会", title="别的单位")]
    a = _login(app, world, "a")
    before = _count(session, CreditRecord)
    resp = a.post("/staff/provide/upload", data={"file": (io.BytesIO(_csv(rows)), "bad.csv")},
                  content_type="multipart/form-data")
    page = _soup(a.get(resp.headers["Location"]))
    errors = [li.get_text() for li in page.select("ol.import-errors li")]
    assert any(e.startswith("第 3 行") and "严重程度" in e for e in errors)
    assert any(e.startswith("第 4 行") and "日期" in e for e in errors)
    assert any(e.startswith("第 5 行") and "不是本单位提供的信息" in e for e in errors)
    assert _count(session, CreditRecord) == before
    upload_id = resp.headers["Location"].rsplit("/", 1)[-1]
    assert _login(app, world, "b").post(f"/staff/provide/upload/{upload_id}/confirm").status_code == 409
    assert _count(session, CreditRecord) == before
    wrong = a.post("/staff/provide/upload", data={"file": (io.BytesIO(b"x"), "data.pdf")},
                   content_type="multipart/form-data")
    assert wrong.status_code == 400 and "只支持" in wrong.get_data(as_text=True)


def _join_workers() -> None:
    """Let the upload worker threads finish (closing their sessions) before the app is torn down:
    a connection still checked out when the engine is disposed is left for the garbage collector."""
    import threading

    for t in threading.enumerate():
        if t.name.startswith("upload-"):
            t.join(timeout=120)
            assert not t.is_alive()


def test_large_upload_shows_progress_until_checked(app, session, world):
    """A file above the inline limit is checked in the background; the fragment polls itself
    (htmx) while checking and shows the preview when done."""
    rows = [_row(subject_code=make_uscc("12", "430102", f"{70000000 + i:08d}"), subject_name=f"芙蓉区第{i}诊所",
                 title=f"未按规定处置医疗废物（{i}）" + "详" * 60) for i in range(900)]
    raw = _csv(rows)
    assert svc.INLINE_CHECK < len(raw) < 480 * 1024  # above the inline limit, below werkzeug's spool-to-disk size
    a = _login(app, world, "a")
    resp = a.post("/staff/provide/upload", data={"file": (io.BytesIO(raw), "large.csv")},
                  content_type="multipart/form-data")
    url = resp.headers["Location"]
    first = _soup(a.get(url, headers={"HX-Request": "true"}))
    status = first.select_one("#upload-status")
    if status["data-state"] == "checking":
        assert status["hx-trigger"] == "every 1s" and first.select_one("progress") is not None
    import time

    for _ in range(600):  # bounded wait for the worker thread (no timing asserted)
        status = _soup(a.get(url, headers={"HX-Request": "true"})).select_one("#upload-status")
        if status["data-state"] != "checking":
            break
        time.sleep(0.1)
    assert status["data-state"] == "ready" and not status.has_attr("hx-trigger")
    assert status.select_one(".n-add").get_text() == "900"
    _join_workers()
    # a second person confirms; the import runs in the background too and the page polls it
    before = _count(session, CreditRecord)
    b = _login(app, world, "b")
    confirm = b.post(url + "/confirm")
    assert confirm.status_code == 303 and confirm.headers["Location"].endswith(url)
    for _ in range(600):
        status = _soup(b.get(url, headers={"HX-Request": "true"})).select_one("#upload-status")
        if status["data-state"] != "importing":
            break
        assert status["hx-trigger"] == "every 1s"
        time.sleep(0.1)
    assert status["data-state"] == "confirmed"
    _join_workers()  # the worker drains the index after the state is stored
    assert _count(session, CreditRecord) == before + 900
    assert _count(session, AuditEvent, AuditEvent.action == "provider.upload_confirm",
                  AuditEvent.actor == "staff:prov.b") == 1


# --- the record form, drafts, 审核 -------------------------------------------------------------------

FORM = {"subject_code": make_uscc("12", "430102", "00000077"), "subject_name": "芙蓉区仁和诊所",
        "subject_kind": "org", "category": "clinic", "region_code": "430102", "record_type": "penalty",
        "severity": "general", "title": "超范围执业", "content": "警告", "authority": UNIT,
        "doc_no": "湘芙卫罚〔2026〕9号", "decided_on": "2026-09-01", "scope": "public", "ordinary_procedure": "是"}


def test_record_form_draft_and_second_person_approval(app, client, session, world):
    a = _login(app, world, "a")
    before = _count(session, CreditRecord)
    bad = a.post("/staff/provide/records/new", data={**FORM, "severity": "", "op": "submit"})
    assert bad.status_code == 400 and "严重程度" in _soup(bad).select_one("[role=alert]").get_text()
    assert _count(session, RecordDraft) == 0  # nothing written
    late = a.post("/staff/provide/records/new", data={**FORM, "publish_until": "2031-01-01", "op": "submit"})
    assert late.status_code == 400 and _count(session, RecordDraft) == 0
    saved = a.post("/staff/provide/records/new", data={**FORM, "title": "草稿：超范围执业", "op": "save"})
    assert saved.status_code == 303
    draft_url = saved.headers["Location"]
    assert _soup(a.get(draft_url)).select_one(".draft-state").get_text() == "草稿"
    sent = a.post(draft_url, data={**FORM, "op": "submit"})
    assert sent.status_code == 303
    draft = session.execute(select(RecordDraft)).scalar_one()
    assert draft.state == rules.SUBMITTED and _count(session, CreditRecord) == before
    assert _count(session, Subject, Subject.name == "芙蓉区仁和诊所") == 0  # not even registered yet
    # the drafter may not approve their own entry
    own = a.post(f"/staff/provide/drafts/{draft.id}/approve")
    assert own.status_code == 403 and "起草人不能审核" in own.get_data(as_text=True)
    assert _count(session, CreditRecord) == before
    b = _login(app, world, "b")
    assert [int(s["data-draft"]) for s in _soup(b.get("/staff/provide/review")).select(".review-item")] == [draft.id]
    assert b.post(f"/staff/provide/drafts/{draft.id}/approve").status_code == 303
    session.expire_all()
    draft = session.get(RecordDraft, draft.id)
    record = session.execute(select(CreditRecord).where(CreditRecord.lineage_id == draft.record_id)).scalar_one()
    assert draft.state == rules.APPROVED and draft.decided_by == "staff:prov.b"
    assert record.title == "超范围执业" and record.ordinary_procedure is True and record.created_by == "staff:prov.b"
    assert _count(session, AuditEvent, AuditEvent.action == "provider.draft_approve") == 1


def test_rejected_draft_goes_back_with_the_reason(app, session, world):
    a = _login(app, world, "a")
    a.post("/staff/provide/records/new", data={**FORM, "op": "submit"})
    draft = session.execute(select(RecordDraft)).scalar_one()
    b = _login(app, world, "b")
    assert b.post(f"/staff/provide/drafts/{draft.id}/reject", data={"note": ""}).status_code == 400
    assert b.post(f"/staff/provide/drafts/{draft.id}/reject", data={"note": "文书号有误"}).status_code == 303
    session.expire_all()
    assert session.get(RecordDraft, draft.id).state == rules.REJECTED
    assert "文书号有误" in a.get(f"/staff/provide/drafts/{draft.id}").get_data(as_text=True)


# --- corrections and withdrawals: versions, nothing overwritten --------------------------------------

def _pending(session, lineage_id) -> RecordDraft:
    session.expire_all()
    return session.execute(select(RecordDraft).where(RecordDraft.record_id == lineage_id,
                                                     RecordDraft.state == rules.SUBMITTED)).scalar_one()


def test_correction_and_withdrawal_are_versions_with_reasons(app, session, world):
    """Under hunan (审核 required) a correction and a withdrawal wait for a second person; once
    approved each is a new version with its reason, and every old version stays."""
    rec = world["rec"]
    a = _login(app, world, "a")
    page = _soup(a.get(f"/staff/provide/records/{rec.lineage_id}"))
    values = {i["name"]: i.get("value", "") for i in page.select("form.record-form input") if i.get("name")}
    values.update({s["name"]: (s.select_one("option[selected]") or {}).get("value", "")
                   for s in page.select("form.record-form select")})
    values.pop("csrf_token", None)
    no_reason = a.post(f"/staff/provide/records/{rec.lineage_id}/correct", data={**values, "title": "改了"})
    assert no_reason.status_code == 400 and "理由" in _soup(no_reason).select_one("[role=alert]").get_text()
    bad = a.post(f"/staff/provide/records/{rec.lineage_id}/correct",
                 data={**values, "severity": "", "reason": "改严重程度"})
    assert bad.status_code == 400 and "严重程度" in _soup(bad).select_one("[role=alert]").get_text()
    assert _count(session, RecordDraft) == 0
    ok = a.post(f"/staff/provide/records/{rec.lineage_id}/correct",
                data={**values, "title": "未按规定公示药品价格", "reason": "标题不准确"})
    assert ok.status_code == 303
    change = _pending(session, rec.lineage_id)
    assert _count(session, CreditRecord, CreditRecord.lineage_id == rec.lineage_id) == 1  # untouched until 审核
    assert a.post(f"/staff/provide/drafts/{change.id}/approve").status_code == 403  # not the drafter
    # a second change while one waits is refused
    assert a.post(f"/staff/provide/records/{rec.lineage_id}/withdraw", data={"reason": "x"}).status_code == 409
    b = _login(app, world, "b")
    assert "标题不准确" in _soup(b.get(f"/staff/provide/drafts/{change.id}")).select_one(".change-reason").get_text()
    assert b.post(f"/staff/provide/drafts/{change.id}/approve").status_code == 303
    assert a.post(f"/staff/provide/records/{rec.lineage_id}/withdraw", data={"reason": ""}).status_code == 400
    assert a.post(f"/staff/provide/records/{rec.lineage_id}/withdraw",
                  data={"reason": "认定文书已被撤销"}).status_code == 303
    assert b.post(f"/staff/provide/drafts/{_pending(session, rec.lineage_id).id}/approve").status_code == 303
    rows = _soup(a.get(f"/staff/provide/records/{rec.lineage_id}")).select("tr.version-row")
    assert [r["data-version"] for r in rows] == ["1", "2", "3"]
    assert [r.select_one(".reason").get_text() for r in rows] == ["", "标题不准确", "认定文书已被撤销"]
    session.expire_all()
    versions = session.execute(select(CreditRecord).where(CreditRecord.lineage_id == rec.lineage_id)
                               .order_by(CreditRecord.version)).scalars().all()
    assert [v.title for v in versions] == ["未按规定公示价格", "未按规定公示药品价格", "未按规定公示药品价格"]
    assert [v.status for v in versions] == ["superseded", "superseded", "withdrawn"]
    assert [v.created_by for v in versions[1:]] == ["staff:prov.b", "staff:prov.b"]
    assert a.post(f"/staff/provide/records/{rec.lineage_id}/withdraw", data={"reason": "再撤"}).status_code == 409
    assert _count(session, AuditEvent, AuditEvent.action == "provider.change_submit") == 2
    assert _count(session, AuditEvent, AuditEvent.action == "record.withdraw") == 1


# --- scope: another unit, another region -----------------------------------------------------------

def test_out_of_scope_provider_is_refused(app, ctx, session, world):
    rec, other = world["rec"], world["other"]
    far = _login(app, world, "far")
    assert far.get(f"/staff/provide/records/{rec.lineage_id}").status_code == 404  # other region
    assert far.post(f"/staff/provide/records/{rec.lineage_id}/withdraw", data={"reason": "x"}).status_code == 404
    a = _login(app, world, "a")
    resp = a.post(f"/staff/provide/records/{other.lineage_id}/withdraw", data={"reason": "不是我的"})
    assert resp.status_code == 403 and "不是本单位提供的信息" in resp.get_data(as_text=True)
    form = a.post("/staff/provide/records/new", data={**FORM, "authority": "株洲市卫生健康委员会", "op": "submit"})
    assert form.status_code == 403 and _count(session, RecordDraft) == 0
    zz = a.post("/staff/provide/records/new", data={**FORM, "region_code": "430202", "op": "save"})
    assert zz.status_code == 403
    # an operator or a citizen is no provider at all
    with pytest.raises(ServiceError) as refused:
        svc.start_upload(_as(ctx, world["op"][0]), "a.csv", _csv([_row()]))
    assert refused.value.status == 403
    session.rollback()
    session.expire_all()
    assert session.get(CreditRecord, other.id).is_current and session.get(CreditRecord, rec.id).is_current


# --- other channels: held for review, not public before it (海南 第二十二条) --------------------------

def test_channel_record_is_not_public_before_review(app, client, session, world, reindex):
    org = world["org"]
    assoc = _login(app, world, "assoc")
    assert assoc.get("/staff/provide/upload").status_code == 403  # one at a time, reviewed
    sent = assoc.post("/staff/provide/records/new", data={
        **FORM, "subject_code": org.credit_code, "subject_name": org.name, "authority": "湖南省医师协会",
        "record_type": "commendation", "severity": "", "ordinary_procedure": "", "title": CANARY,
        "content": CANARY, "op": "submit"})
    assert sent.status_code == 303
    draft = session.execute(select(RecordDraft)).scalar_one()
    assert draft.state == rules.SUBMITTED and draft.channel == "association"
    reindex()
    for url in (f"/facility/{org.public_id}", "/search?q=行业协会未审核信息", f"/search?q={org.name}"):
        assert "CHANNEL-CANARY" not in client.get(url).get_data(as_text=True), url
    assert _count(session, CreditRecord, CreditRecord.title == CANARY) == 0
    # an official unit of the region cannot review another channel's information; the operator can
    assert _login(app, world, "a").post(f"/staff/provide/drafts/{draft.id}/approve").status_code == 403
    assert assoc.post(f"/staff/provide/drafts/{draft.id}/approve").status_code == 403
    op = _login(app, world, "op")
    assert op.post(f"/staff/provide/drafts/{draft.id}/approve").status_code == 303
    reindex()
    record = session.execute(select(CreditRecord).where(CreditRecord.title == CANARY)).scalar_one()
    assert record.source_channel == "association"
    page = _soup(client.get(f"/facility/{org.public_id}"))
    assert "CHANNEL-CANARY" in page.get_text()
    assert page.select_one(".record-source").get_text() == "信息来源：行业协会（经审核）"


# --- the catalogue and units overdue (湖南 第九条、第十条) -------------------------------------------

def test_catalogue_lists_units_overdue(app, session, world):
    session.execute(CreditRecord.__table__.update().where(CreditRecord.authority == "株洲市卫生健康委员会")
                    .values(created_at=date(2026, 9, 1)))
    session.commit()
    page = _soup(_login(app, world, "op").get("/staff/provide/catalogue"))
    assert len(page.select("table.catalogue tbody tr")) == 4
    overdue = [r.select("td")[0].get_text() for r in page.select("tr.overdue-row")]
    assert "株洲市卫生健康委员会" in overdue and UNIT not in overdue


def test_workspace_pages_for_each_role(app, world):
    """Every page renders for the roles that use it; the nav shows the workspace to providers and
    the review to others."""
    a = _login(app, world, "a")
    for url in ("/staff/provide", "/staff/provide/upload", "/staff/provide/records/new", "/staff/provide/review",
                "/staff/provide/catalogue", "/staff/provide/template.xlsx", "/staff/provide/template.csv"):
        assert a.get(url).status_code == 200, url
    assert _soup(a.get("/staff/objections")).select("nav.staff-nav a[href='/staff/provide']")
    home = _soup(a.get("/staff/provide"))
    assert world["rec"].title in [r.select("td")[2].get_text() for r in home.select("tr.record-row")]
    assert world["other"].title not in home.get_text()  # another unit's record is not listed
    op = _login(app, world, "op")
    assert op.get("/staff/provide").status_code == 403 and op.get("/staff/provide/review").status_code == 200
    nav = _soup(op.get("/staff/objections")).select_one("nav.staff-nav")
    assert nav.select("a[href='/staff/provide/review']") and not nav.select("a[href='/staff/provide']")
    assert _client(app).get("/staff/provide").status_code == 302  # the staff login first
