"""The subject's side of objections and credit repair, and the public repair notices.

Filing needs the subject itself or its legal representative (``permissions.can_manage``, through
``portal.web.subject._load``); a written authorisation lets a third party read, not file.
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy import select

from ..domain import cases as engine
from ..domain.vocab import RECORD_STATUS_LABELS, SubjectKind
from ..models import Case, CreditRecord, Notification, Subject
from ..services import cases as svc
from ..services import evidence as evidence_svc
from ..services.errors import ServiceError
from . import abort_with, commit, ctx, db, runtime
from .subject import _load

bp = Blueprint("cases", __name__)
MAX_UPLOAD_FILES = evidence_svc.MAX_FILES


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

    return {"subject_cases": subject_cases, "record_case": record_case, "case_kind_labels": svc.KIND_LABELS,
            "subject_notifications": subject_notifications}


def _record(subject: Subject, lineage_id: int) -> CreditRecord:
    record = db().execute(select(CreditRecord).where(CreditRecord.subject_id == subject.id,
                                                     CreditRecord.lineage_id == lineage_id,
                                                     CreditRecord.is_current.is_(True))).scalar_one_or_none()
    if record is None:
        abort_with(404, "未找到该信用信息。")
    return record


def _files() -> list[tuple[str, bytes]]:
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
    c = ctx(svc.Applicant.of(identity).actor)
    verdict = svc.eligibility_for(c, record) if kind == svc.REPAIR else None
    error = None
    form = request.form
    if request.method == "POST":
        try:
            uploads = _files()
            applicant = svc.Applicant.of(identity)
            commitment = form.get("commitment") == "yes"
            if kind == svc.OBJECTION:
                case = svc.file_objection(c, subject, record, ground=form.get("ground", ""),
                                          statement=form.get("statement", ""), applicant=applicant,
                                          commitment=commitment)
            else:
                case = svc.apply_repair(c, subject, record, statement=form.get("statement", ""),
                                        applicant=applicant, commitment=commitment)
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
                           verdict=verdict, machine=machine, kind_label=svc.KIND_LABELS[kind],
                           open_case=svc.open_case_for(c, record.lineage_id, kind),
                           status_labels=RECORD_STATUS_LABELS), (error.status if error else 200)


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


@bp.get("/me/subjects/<public_id>/cases/<case_no>")
def case_show(public_id: str, case_no: str):
    identity, subject, decision = _load(public_id, manage=True)
    case = _case(subject, case_no)
    machine = svc.machine_for(runtime().profile, case.kind)
    record = db().execute(select(CreditRecord).where(CreditRecord.lineage_id == case.record_lineage_id,
                                                     CreditRecord.is_current.is_(True))).scalar_one_or_none()
    today = runtime().today()
    labels = {s.id: s.label for s in machine.steps} | {svc.WITHDRAWN: "申请人已撤回"}
    step = machine.step(case.state) if case.open else None
    mine = (case.applicant_iss, case.applicant_sub) == (identity.iss, identity.sub)
    own_actions = [step.transition(a) for a in engine.allowed_actions(machine, svc.state_of(case), "applicant")] \
        if step and mine else []
    return render_template("cases/show.html", subject=subject, case=case, record=record, labels=labels,
                           step=step, overdue=case.open and engine.is_overdue(case.due_on, today),
                           ground=runtime().profile.objection.ground(case.ground) if case.ground else None,
                           kind_label=svc.KIND_LABELS[case.kind], can_withdraw=case.open and mine,
                           own_actions=own_actions, status_labels=RECORD_STATUS_LABELS)


@bp.post("/me/subjects/<public_id>/cases/<case_no>/withdraw")
def case_withdraw(public_id: str, case_no: str):
    identity, subject, decision = _load(public_id, manage=True)
    case = _case(subject, case_no)
    applicant = svc.Applicant.of(identity)
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
    applicant = svc.Applicant.of(identity)
    if (case.applicant_iss, case.applicant_sub) != (applicant.iss, applicant.sub):
        abort_with(403, "只有申请人本人可以办理。")
    try:
        svc.act(ctx(applicant.actor), case, request.form.get("action", ""), role="applicant",
                reason=request.form.get("reason", ""))
    except ServiceError as exc:
        db().rollback()
        abort_with(exc.status if exc.status in (403, 404, 409) else 400, exc.message)
    commit()
    return redirect(url_for("cases.case_show", public_id=subject.public_id, case_no=case.case_no))


def _public_name(subject: Subject) -> str:
    if subject.kind == SubjectKind.ORG:
        return subject.name
    return subject.name[:1] + "*" * max(1, len(subject.name) - 1)


@bp.get("/repair-notices")
def repair_notices():
    """信用修复公示 (湖南 第三十条（三）; 海南 第四十二条（四）; 湖南医保 第二十五条第二款)."""
    rows = db().execute(select(Case, Subject, CreditRecord)
                        .join(Subject, Subject.id == Case.subject_id)
                        .join(CreditRecord, (CreditRecord.lineage_id == Case.record_lineage_id)
                              & CreditRecord.is_current.is_(True))
                        .where(Case.kind == svc.REPAIR, Case.state == "notice", Case.closed_on.is_(None),
                               CreditRecord.scope == "public")
                        .order_by(Case.step_entered_on.desc(), Case.id.desc()).limit(200)).all()
    notices = [{"case_no": c.case_no, "name": _public_name(s), "title": r.title, "authority": r.authority,
                "doc_no": r.doc_no, "from": c.step_entered_on, "until": c.earliest_on} for c, s, r in rows]
    article = runtime().profile.repair.step("notice").article if any(
        st.id == "notice" for st in runtime().profile.repair.steps) else runtime().profile.repair.article
    return render_template("cases/notices.html", notices=notices, article=article)
