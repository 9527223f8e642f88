"""The subject's side of objections and credit repair, and the public repair notices.

Filing needs the subject itself or its legal representative (``permissions.can_manage``, through
``portal.web.subject._load``, and again inside every verb, which gets the login as ``ctx.caller``);
a written authorisation lets a third party read, not file. A refused verb is answered by the one
``ServiceError`` handler (``portal.web.common``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, redirect, render_template, request, url_for

from ..domain import cases as engine
from ..domain.private_view import own_values, subject_text
from ..domain.vocab import RECORD_STATUS_LABELS
from ..domain.workdays import PROVISIONAL_NOTE
from ..identity import ACR_FACE, ACR_PASSWORD
from ..permissions import VIA_LABELS
from ..services import case_documents as docs_svc
from ..services import cases as svc
from ..services import document_verification as verify_svc
from ..services import evidence as evidence_svc
from ..services import public_pages
from ..services.case_reads import case_by_number, case_record, log_case_read, read_case, subject_record
from ..services.errors import ServiceError
from ..services.repair_notice import case_step_label, timeline_labels
from . import abort_with, commit, ctx, db, runtime
from .common import caller_ctx, no_store, on_refusal, send_case_document, send_evidence
from .progress import remember_code
from .subject import _load

if TYPE_CHECKING:
    from ..models import Case, CreditRecord, Subject

bp = Blueprint("cases", __name__)
MAX_UPLOAD_FILES = evidence_svc.MAX_FILES
MAX_VERIFY_UPLOAD = 20 * 1024 * 1024
ACR_NAMES = {ACR_FACE: "人脸识别实名认证", ACR_PASSWORD: "账号密码实名登录"}
# Timeline lines for events that do not move the case to another step.
EVENT_LABELS = {"extend": "延长办理期限", "stop_clock": "中止计算期限", "resume_clock": "恢复计算期限",
                "request_materials": "要求补正材料", "supplement": "申请人补正材料",
                "recalculate": "重新计算期限（节假日安排更新）", "file": "提交申请", "withdraw": "撤回申请",
                "notice_waived": "不予公示"}


def event_label(machine, event) -> str:
    """What a timeline line says: the step's own wording for its action, else the event's."""
    if event.action in EVENT_LABELS:
        return EVENT_LABELS[event.action]
    try:
        return machine.step(event.from_state).transition(event.action).label
    except KeyError:
        return event.action


# The subject's case pages, documents and the verify pages are not for caches or search engines
# (the public 信用修复公示 is).
no_store(bp, robots=True, prefixes=("/me/", "/verify/"))


def _record(subject: Subject, lineage_id: int) -> CreditRecord:
    record = subject_record(db(), subject, lineage_id)
    if record is None:
        abort_with(404, "未找到该信用信息。")
    return record


def _ctx(identity, decision):
    """The applicant side's service context: the verbs check the login's rights themselves."""
    return caller_ctx(svc.Applicant.of(identity, decision.via).actor, identity)


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
    c = _ctx(identity, decision)
    form = request.form

    def page(error: ServiceError | None = None):
        machine = svc.machine_for(profile, kind)
        verdict = svc.eligibility_for(c, record) if kind == svc.REPAIR else None
        return render_template("cases/new.html", subject=subject, record=record, kind=kind, error=error, form=form,
                               record_title=subject_text(record.title, own_values(subject)),
                               verdict=verdict, machine=machine, kind_label=svc.KIND_LABELS[kind],
                               open_case=svc.open_case_for(c, record.lineage_id, kind),
                               status_labels=RECORD_STATUS_LABELS, identity=identity,
                               via_label=VIA_LABELS.get(decision.via, ""),
                               acr_label=ACR_NAMES.get(identity.acr, "实名登录"),
                               schedule=schedule(machine, record)), (error.status if error else 200)

    if request.method == "GET":  # the form shows the (possibly non-public) record: a logged read
        log_case_read(c, subject, what="case", ref=f"record:{record.lineage_id}", decision=decision)
        commit()
        return page()
    on_refusal(page)
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
    commit()
    remember_code(case)  # the receipt (the case page) shows the look-up code once
    return redirect(url_for("cases.case_show", public_id=subject.public_id, case_no=case.case_no))


def schedule(machine, record=None) -> list:
    """Every step with a statutory limit that the case can pass through, in the machine's order:
    what the applicant can expect (the current step's date is on the case itself). An objection
    against a serious-class record starts at its own step (海南 第十五条第三款)."""
    start = machine.start_for(record) if record is not None and hasattr(machine, "start_for") else machine.start
    reach, todo = set(), [start.id]
    while todo:
        step = machine.step(todo.pop())
        if step.id not in reach:
            reach.add(step.id)
            todo += [t.to for t in step.transitions]
    return [s for s in machine.steps if s.id in reach and not s.terminal
            and (s.workdays is not None or s.min_workdays or s.calendar_days)]


@bp.route("/me/subjects/<public_id>/records/<int:lineage_id>/objection", methods=["GET", "POST"])
def objection_new(public_id: str, lineage_id: int):
    return _file(svc.OBJECTION, public_id, lineage_id)


@bp.route("/me/subjects/<public_id>/records/<int:lineage_id>/repair", methods=["GET", "POST"])
def repair_new(public_id: str, lineage_id: int):
    return _file(svc.REPAIR, public_id, lineage_id)


def _case(subject: Subject, case_no: str) -> Case:
    case = case_by_number(db(), case_no)
    if case is None or case.subject_id != subject.id:
        abort_with(404, "未找到该申请。")
    from ..services.case_sweep import sweep_case  # a window that passed unused closes the case when read

    if sweep_case(ctx("system"), case):
        commit()
    return case


def _render_case(identity, subject: Subject, decision, case: Case, error: ServiceError | None = None,
                 status: int = 200):
    machine = svc.machine_for(runtime().profile, case.kind)
    today = runtime().today()
    labels = {s.id: s.label for s in machine.steps} | {svc.WITHDRAWN: "申请人已撤回"}
    # a timeline line per event: the step it led to (a notice not held says so)
    timeline = timeline_labels(case.events, lambda ev: EVENT_LABELS.get(ev.action, ""),
                               lambda state, names=dict(labels): names.get(state, state))
    if case.open:
        labels[case.state] = case_step_label(machine, case)  # a notice not held says so
    step = machine.step(case.state) if case.open else None
    applicant = svc.Applicant.of(identity, decision.via)
    mine = applicant.is_applicant_of(case)
    own_actions = [step.transition(a) for a in engine.allowed_actions(machine, svc.state_of(case), "applicant")] \
        if step and mine else []
    c = _ctx(identity, decision)
    record = case_record(db(), case)
    return render_template("cases/show.html", subject=subject, case=case, record=record,
                           record_title=subject_text(record.title, own_values(subject)) if record else "",
                           labels=labels, step=step, overdue=case.open and engine.is_overdue(case.due_on, today),
                           ground=runtime().profile.objection.ground(case.ground) if case.ground else None,
                           kind_label=svc.KIND_LABELS[case.kind], can_withdraw=mine and svc.may_withdraw(runtime().profile, case),
                           own_actions=own_actions, status_labels=RECORD_STATUS_LABELS, mine=mine,
                           event_labels=EVENT_LABELS, timeline=timeline, documents=docs_svc.available_documents(c, case),
                           schedule=schedule(machine, record), error=error,
                           calendar_note=svc.is_provisional(case, runtime().calendar(db())),
                           provisional_note=PROVISIONAL_NOTE, notice_until=engine.notice_last_day(case.earliest_on),
                           can_supplement=case.open and mine and case.materials_requested_on is not None,
                           max_files=MAX_UPLOAD_FILES, review_limit=svc.REVIEW_REASON_LIMIT), status


@bp.get("/me/subjects/<public_id>/cases/<case_no>")
def case_show(public_id: str, case_no: str):
    identity, subject, decision = _load(public_id, manage=True)
    case = _case(subject, case_no)
    read_case(_ctx(identity, decision), case, decision=decision)
    commit()
    return _render_case(identity, subject, decision, case)


@bp.post("/me/subjects/<public_id>/cases/<case_no>/supplement")
def case_supplement(public_id: str, case_no: str):
    """The applicant answers a request for more material (补正材料) with files and a note."""
    identity, subject, decision = _load(public_id, manage=True)
    case = _case(subject, case_no)
    applicant = svc.Applicant.of(identity, decision.via)
    on_refusal(lambda exc: _render_case(identity, subject, decision, _case(subject, case_no), exc, exc.status))
    uploads = _files()
    svc.supplement_evidence(_ctx(identity, decision), case, applicant, uploads,
                            var_dir=runtime().settings["PORTAL_VAR_DIR"], note=request.form.get("note", ""))
    commit()
    return redirect(url_for("cases.case_show", public_id=subject.public_id, case_no=case.case_no), 303)


@bp.get("/me/subjects/<public_id>/cases/<case_no>/documents/<kind>.pdf")
def case_document(public_id: str, case_no: str, kind: str):
    """The case's PDFs for the subject itself or its legal representative; every download is
    logged as a read of non-public information (海南 第二十七条、第五十一条)."""
    identity, subject, decision = _load(public_id, manage=True)
    return send_case_document(_ctx(identity, decision), _case(subject, case_no), kind, decision)


@bp.get("/me/subjects/<public_id>/cases/<case_no>/evidence/<int:evidence_id>")
def evidence_file(public_id: str, case_no: str, evidence_id: int):
    """The applicant's own uploaded files (served only to the subject side and handling staff)."""
    identity, subject, decision = _load(public_id, manage=True)
    return send_evidence(_ctx(identity, decision), _case(subject, case_no), evidence_id, decision)


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
    on_refusal(lambda exc: _render_case(identity, subject, decision, _case(subject, case_no), exc, exc.status))
    svc.withdraw_case(_ctx(identity, decision), case, svc.Applicant.of(identity, decision.via),
                      request.form.get("reason", ""), confirmed=request.form.get("confirm") == "yes")
    commit()
    return redirect(url_for("cases.case_show", public_id=subject.public_id, case_no=case.case_no))


@bp.post("/me/subjects/<public_id>/cases/<case_no>/act")
def case_act(public_id: str, case_no: str):
    """The applicant's own steps (湖南 第二十八条第三款: ask for review, or accept the result);
    only the applicant's own login may take them (checked by the verb)."""
    identity, subject, decision = _load(public_id, manage=True)
    case = _case(subject, case_no)
    on_refusal(lambda exc: _render_case(identity, subject, decision, _case(subject, case_no), exc, exc.status))
    svc.act(_ctx(identity, decision), case, request.form.get("action", ""), role="applicant",
            reason=request.form.get("reason", ""))
    commit()
    return redirect(url_for("cases.case_show", public_id=subject.public_id, case_no=case.case_no))


@bp.get("/repair-notices")
def repair_notices():
    """信用修复公示 (湖南 第三十条（三）; 海南 第四十二条（四）; 湖南医保 第二十五条第二款), read
    through the privacy boundary (``services.public_pages.repair_notices``)."""
    profile = runtime().profile
    article = profile.repair.step("notice").article if any(
        st.id == "notice" for st in profile.repair.steps) else profile.repair.article
    return render_template("cases/notices.html", notices=public_pages.repair_notices(db(), runtime().today(), profile=profile), article=article)
