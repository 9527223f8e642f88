"""The subject's side of objections and credit repair, and the public repair notices.

Filing needs the subject itself or its legal representative (``permissions.can_manage``, through
``portal.web.subject._load``); a written authorisation lets a third party read, not file.
"""
from __future__ import annotations

import io

from flask import Blueprint, Response, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from ..domain import cases as engine
from ..domain.disclosure import public_subject, public_view
from ..domain.private_view import own_values, subject_text
from ..domain.vocab import RECORD_STATUS_LABELS, SubjectKind
from ..domain.workdays import PROVISIONAL_NOTE
from ..identity import ACR_FACE, ACR_PASSWORD
from ..models import Case, CreditRecord, Evidence, Notification, Subject
from ..permissions import VIA_LABELS
from ..services import case_documents as docs_svc
from ..services import document_verification as verify_svc
from ..services import cases as svc
from ..services import evidence as evidence_svc
from ..services.access_log import log_private_view
from ..services.errors import ServiceError
from . import abort_with, commit, ctx, db, runtime
from .subject import _load

bp = Blueprint("cases", __name__)
MAX_UPLOAD_FILES = evidence_svc.MAX_FILES
MAX_VERIFY_UPLOAD = 20 * 1024 * 1024
ACR_NAMES = {ACR_FACE: "人脸识别实名认证", ACR_PASSWORD: "账号密码实名登录"}
# Timeline lines for events that do not move the case to another step.
EVENT_LABELS = {"extend": "延长办理期限", "stop_clock": "中止计算期限", "resume_clock": "恢复计算期限",
                "request_materials": "要求补正材料", "supplement": "申请人补正材料",
                "recalculate": "重新计算期限（节假日安排更新）", "file": "提交申请", "withdraw": "撤回申请"}


def event_label(machine, event) -> str:
    """What a timeline line says: the step's own wording for its action, else the event's."""
    if event.action in EVENT_LABELS:
        return EVENT_LABELS[event.action]
    try:
        return machine.step(event.from_state).transition(event.action).label
    except KeyError:
        return event.action


@bp.after_request
def _private_headers(response):
    """The subject's case pages, documents and the verify pages are not for caches or search
    engines (the public 信用修复公示 is)."""
    if request.path.startswith(("/me/", "/verify/")):
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.app_context_processor
def _subject_cases():
    """``subject_cases(subject_id)`` for the include on the subject page (``subject/_cases.html``)."""
    def subject_cases(subject_id: int) -> list[Case]:
        return list(db().execute(select(Case).where(Case.subject_id == subject_id)
                                 .order_by(Case.id.desc()).limit(100)).scalars())

    def record_case(subject_id: int, lineage_id: int) -> Case | None:
        return db().execute(select(Case).where(Case.subject_id == subject_id, Case.record_lineage_id == lineage_id,
                                               Case.closed_on.is_(None))).scalars().first()

    def subject_notifications(subject_id: int) -> list[Notification]:
        return list(db().execute(select(Notification).where(Notification.subject_id == subject_id)
                                 .order_by(Notification.id.desc()).limit(20)).scalars())

    def repair_verdict(record: CreditRecord):
        """Eligibility of one dishonesty record, for the list on the subject page."""
        return svc.eligibility_for(ctx(), record)

    calendars = []

    def case_provisional(case: Case) -> bool:
        """The case's due date is 暂定 (counted through a year whose make-up days are unknown)."""
        if not calendars:
            calendars.append(runtime().calendar(db()))
        return svc.is_provisional(case, calendars[0])

    return {"subject_cases": subject_cases, "record_case": record_case, "case_kind_labels": svc.KIND_LABELS,
            "case_provisional": case_provisional,
            "subject_notifications": subject_notifications, "repair_verdict": repair_verdict}


def _record(subject: Subject, lineage_id: int) -> CreditRecord:
    record = db().execute(select(CreditRecord).where(CreditRecord.subject_id == subject.id,
                                                     CreditRecord.lineage_id == lineage_id,
                                                     CreditRecord.is_current.is_(True))).scalar_one_or_none()
    if record is None:
        abort_with(404, "未找到该信用信息。")
    return record


def _files() -> list[tuple[str, bytes]]:
    """The uploaded evidence, every file checked before anything is stored."""
    files = [f for f in request.files.getlist("evidence") if f and f.filename]
    if len(files) > MAX_UPLOAD_FILES:
        raise ServiceError(f"每件申请最多上传 {MAX_UPLOAD_FILES} 个文件", "evidence")
    out = []
    for f in files:
        data = f.read(evidence_svc.MAX_BYTES + 1)
        evidence_svc.validate(f.filename, data)  # every file checked before anything is stored
        out.append((f.filename, data))
    return out


def _file(kind: str, public_id: str, lineage_id: int):
    identity, subject, decision = _load(public_id, manage=True)
    record = _record(subject, lineage_id)
    profile = runtime().profile
    applicant = svc.Applicant.of(identity, decision.via)
    c = ctx(applicant.actor)
    verdict = svc.eligibility_for(c, record) if kind == svc.REPAIR else None
    error = None
    form = request.form
    if request.method == "GET":  # the form shows the (possibly non-public) record: a logged read
        log_private_view(c, identity, subject, decision.purpose, decision.via, what="case",
                         ref=f"record:{record.lineage_id}")
        commit()
    if request.method == "POST":
        try:
            uploads = _files()
            commitment = form.get("commitment") == "yes"
            confirmed = form.get("identity") == "yes"
            if kind == svc.OBJECTION:
                case = svc.file_objection(c, subject, record, ground=form.get("ground", ""),
                                          statement=form.get("statement", ""), applicant=applicant,
                                          commitment=commitment, identity_confirmed=confirmed)
            else:
                case = svc.apply_repair(c, subject, record, statement=form.get("statement", ""),
                                        applicant=applicant, commitment=commitment, identity_confirmed=confirmed)
            for name, data in uploads:
                evidence_svc.add_evidence(c, case, name, data, var_dir=runtime().settings["PORTAL_VAR_DIR"],
                                          uploaded_by=applicant.actor)
        except ServiceError as exc:
            db().rollback()
            error = exc
        else:
            commit()
            return redirect(url_for("cases.case_show", public_id=subject.public_id, case_no=case.case_no))
    machine = svc.machine_for(profile, kind)
    return render_template("cases/new.html", subject=subject, record=record, kind=kind, error=error, form=form,
                           record_title=subject_text(record.title, own_values(subject)),
                           verdict=verdict, machine=machine, kind_label=svc.KIND_LABELS[kind],
                           open_case=svc.open_case_for(c, record.lineage_id, kind),
                           status_labels=RECORD_STATUS_LABELS, identity=identity,
                           via_label=VIA_LABELS.get(decision.via, ""),
                           acr_label=ACR_NAMES.get(identity.acr, "实名登录"),
                           schedule=schedule(machine)), (error.status if error else 200)


def schedule(machine) -> list:
    """Every step with a statutory limit, in the machine's order: what the applicant can expect
    (the current step's date is on the case itself)."""
    return [s for s in machine.steps if not s.terminal and (s.workdays is not None or s.min_workdays)]


@bp.route("/me/subjects/<public_id>/records/<int:lineage_id>/objection", methods=["GET", "POST"])
def objection_new(public_id: str, lineage_id: int):
    return _file(svc.OBJECTION, public_id, lineage_id)


@bp.route("/me/subjects/<public_id>/records/<int:lineage_id>/repair", methods=["GET", "POST"])
def repair_new(public_id: str, lineage_id: int):
    return _file(svc.REPAIR, public_id, lineage_id)


def _case(subject: Subject, case_no: str) -> Case:
    case = db().execute(select(Case).where(Case.case_no == case_no[:20])).scalar_one_or_none()
    if case is None or case.subject_id != subject.id:
        abort_with(404, "未找到该申请。")
    return case


def _render_case(identity, subject: Subject, decision, case: Case, error: ServiceError | None = None,
                 status: int = 200):
    machine = svc.machine_for(runtime().profile, case.kind)
    record = db().execute(select(CreditRecord).where(CreditRecord.lineage_id == case.record_lineage_id,
                                                     CreditRecord.is_current.is_(True))).scalar_one_or_none()
    today = runtime().today()
    labels = {s.id: s.label for s in machine.steps} | {svc.WITHDRAWN: "申请人已撤回"}
    step = machine.step(case.state) if case.open else None
    applicant = svc.Applicant.of(identity, decision.via)
    mine = applicant.is_applicant_of(case)
    own_actions = [step.transition(a) for a in engine.allowed_actions(machine, svc.state_of(case), "applicant")] \
        if step and mine else []
    c = ctx(applicant.actor)
    return render_template("cases/show.html", subject=subject, case=case, record=record, labels=labels,
                           record_title=subject_text(record.title, own_values(subject)) if record else "",
                           step=step, overdue=case.open and engine.is_overdue(case.due_on, today),
                           ground=runtime().profile.objection.ground(case.ground) if case.ground else None,
                           kind_label=svc.KIND_LABELS[case.kind], can_withdraw=case.open and mine,
                           own_actions=own_actions, status_labels=RECORD_STATUS_LABELS, mine=mine,
                           event_labels=EVENT_LABELS, documents=docs_svc.available_documents(c, case),
                           schedule=schedule(machine), error=error,
                           calendar_note=svc.is_provisional(case, runtime().calendar(db())),
                           provisional_note=PROVISIONAL_NOTE, notice_until=engine.notice_last_day(case.earliest_on),
                           can_supplement=case.open and mine and case.materials_requested_on is not None,
                           max_files=MAX_UPLOAD_FILES), status


@bp.get("/me/subjects/<public_id>/cases/<case_no>")
def case_show(public_id: str, case_no: str):
    identity, subject, decision = _load(public_id, manage=True)
    case = _case(subject, case_no)
    log_private_view(ctx(), identity, subject, decision.purpose, decision.via, what="case", ref=f"case:{case.case_no}")
    commit()
    return _render_case(identity, subject, decision, case)


@bp.post("/me/subjects/<public_id>/cases/<case_no>/supplement")
def case_supplement(public_id: str, case_no: str):
    """The applicant answers a request for more material (补正材料) with files and a note."""
    identity, subject, decision = _load(public_id, manage=True)
    case = _case(subject, case_no)
    applicant = svc.Applicant.of(identity, decision.via)
    try:
        uploads = _files()
        svc.supplement_evidence(ctx(applicant.actor), case, applicant, uploads,
                                var_dir=runtime().settings["PORTAL_VAR_DIR"], note=request.form.get("note", ""))
    except ServiceError as exc:
        db().rollback()
        return _render_case(identity, subject, decision, _case(subject, case_no), exc, exc.status)
    commit()
    return redirect(url_for("cases.case_show", public_id=subject.public_id, case_no=case.case_no), 303)


@bp.get("/me/subjects/<public_id>/cases/<case_no>/documents/<kind>.pdf")
def case_document(public_id: str, case_no: str, kind: str):
    """The case's PDFs for the subject itself or its legal representative; every download is
    logged as a read of non-public information (海南 第二十七条、第五十一条)."""
    identity, subject, decision = _load(public_id, manage=True)
    case = _case(subject, case_no)
    c = ctx(svc.Applicant.of(identity).actor)
    try:
        doc = docs_svc.case_document(c, case, kind[:40], base_url=runtime().settings["PORTAL_BASE_URL"])
    except ServiceError as exc:
        db().rollback()
        abort_with(exc.status if exc.status in (404, 409) else 400, exc.message)
    log_private_view(c, identity, subject, decision.purpose, decision.via, what="case_document",
                     ref=f"document:{doc.doc_no}")
    commit()
    return Response(doc.pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{docs_svc.download_name(doc)}"'})


@bp.get("/me/subjects/<public_id>/cases/<case_no>/evidence/<int:evidence_id>")
def evidence_file(public_id: str, case_no: str, evidence_id: int):
    """The applicant's own uploaded files (served only to the subject side and handling staff)."""
    identity, subject, decision = _load(public_id, manage=True)
    case = _case(subject, case_no)
    row = db().get(Evidence, evidence_id)
    if row is None or row.case_id != case.id:
        abort_with(404, "文件不存在。")
    path = evidence_svc.evidence_path(runtime().settings["PORTAL_VAR_DIR"], row)
    if not path.is_file():
        abort_with(404, "文件不存在。")
    log_private_view(ctx(), identity, subject, decision.purpose, decision.via, what="evidence",
                     ref=f"case:{case.case_no}:evidence:{row.id}")
    commit()
    return send_file(io.BytesIO(path.read_bytes()), mimetype=row.mime, as_attachment=True,
                     download_name=row.original_name)


@bp.route("/verify/document/<doc_no>", methods=["GET", "POST"])
def verify_document(doc_no: str):
    """Public: is this case document genuine? Number, kind, date, an organisation's name and the
    hash only (never a person's name or ID number, never the content)."""
    token = (request.values.get("t") or "")[:64]
    pdf = None
    if request.method == "POST":
        upload = request.files.get("file")
        pdf = upload.read(MAX_VERIFY_UPLOAD + 1) if upload else b""
    result = verify_svc.verify_document(ctx(), doc_no, token, pdf)
    return render_template("cases/verify_document.html", result=result, token=token), 200 if result.genuine else 404


@bp.post("/me/subjects/<public_id>/cases/<case_no>/withdraw")
def case_withdraw(public_id: str, case_no: str):
    identity, subject, decision = _load(public_id, manage=True)
    case = _case(subject, case_no)
    applicant = svc.Applicant.of(identity, decision.via)
    try:
        svc.withdraw_case(ctx(applicant.actor), case, applicant, request.form.get("reason", ""))
    except ServiceError as exc:
        db().rollback()
        abort_with(exc.status if exc.status in (403, 404, 409) else 400, exc.message)
    commit()
    return redirect(url_for("cases.case_show", public_id=subject.public_id, case_no=case.case_no))


@bp.post("/me/subjects/<public_id>/cases/<case_no>/act")
def case_act(public_id: str, case_no: str):
    """The applicant's own steps (湖南 第二十八条第三款: ask for review, or accept the result)."""
    identity, subject, decision = _load(public_id, manage=True)
    case = _case(subject, case_no)
    applicant = svc.Applicant.of(identity, decision.via)
    if not applicant.is_applicant_of(case):
        abort_with(403, "只有申请人本人可以办理。")
    try:
        svc.act(ctx(applicant.actor), case, request.form.get("action", ""), role="applicant",
                reason=request.form.get("reason", ""))
    except ServiceError as exc:
        db().rollback()
        abort_with(exc.status if exc.status in (403, 404, 409) else 400, exc.message)
    commit()
    return redirect(url_for("cases.case_show", public_id=subject.public_id, case_no=case.case_no))


def _public_name(view: dict) -> str:
    """Organisations by name; natural persons masked on the notice (the notice is about the
    record, not the person)."""
    if view["kind"] == SubjectKind.ORG:
        return view["name"]
    return view["name"][:1] + "*" * max(1, len(view["name"]) - 1)


@bp.get("/repair-notices")
def repair_notices():
    """信用修复公示 (湖南 第三十条（三）; 海南 第四十二条（四）; 湖南医保 第二十五条第二款).

    Only through the privacy boundary: the record's ``public_view`` (public scope, inside its
    window, free text scrubbed) and the subject's ``public_subject`` (never a minor)."""
    today = runtime().today()
    rows = db().execute(select(Case, Subject, CreditRecord)
                        .join(Subject, Subject.id == Case.subject_id)
                        .join(CreditRecord, (CreditRecord.lineage_id == Case.record_lineage_id)
                              & CreditRecord.is_current.is_(True))
                        .where(Case.kind == svc.REPAIR, Case.state == "notice", Case.closed_on.is_(None),
                               CreditRecord.scope == "public")
                        .order_by(Case.step_entered_on.desc(), Case.id.desc()).limit(200)).all()
    notices = []
    for c, s, r in rows:
        record, subject = public_view(r, today, s.birth_on), public_subject(s, today)
        if record is None or subject is None:
            continue
        notices.append({"case_no": c.case_no, "name": _public_name(subject), "title": record["title"],
                        "authority": record["authority"], "doc_no": record["doc_no"], "from": c.step_entered_on,
                        "until": engine.notice_last_day(c.earliest_on)})
    article = runtime().profile.repair.step("notice").article if any(
        st.id == "notice" for st in runtime().profile.repair.steps) else runtime().profile.repair.article
    return render_template("cases/notices.html", notices=notices, article=article)
