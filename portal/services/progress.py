"""The public progress look-up of an objection or credit-repair case (信用中国 修复进度查询), by case
number + the look-up code printed on the applicant's receipt, without login.

Each new case gets a random code (``lookup_code.issue_lookup_code``); only its SHA-256 is stored
(``Case.lookup_code_hash``), the code itself is shown once to the applicant. The answer
(:func:`public_progress`) holds only the kind, the day received, the current step's label, the
stored due date (with its 暂定 flag), whether and when the case closed and the outcome's label:
never the statement, the record, the reasons, evidence or anyone's name (海南 第二十七条: non-public
information only to the subject; 湖南 第三十三条: security of disclosure). A wrong number and a
wrong code get one and the same ``None``, so the page cannot tell which one was wrong.
"""
from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from ..models import Case
from .cases import KIND_LABELS, WITHDRAWN, is_provisional, machine_for
from .lookup_code import code_hash, normalise_code
from .repair_notice import case_step_label

CASE_NO_PATTERN = re.compile(r"^[A-Z]{2}-\d{4}-\d{6}$")
NOT_FOUND = "未找到该申请：申请编号或查询码不正确。请核对回执上的申请编号和查询码后重试。"
_DUMMY_HASH = "0" * 64


@dataclass(frozen=True)
class Progress:
    case_no: str
    kind_label: str
    received_on: date
    step_label: str
    due_on: date | None
    provisional: bool
    clock_stopped: bool
    closed_on: date | None
    outcome_label: str

    @property
    def closed(self) -> bool:
        return self.closed_on is not None


def find_case(session, case_no: str, code: str) -> Case | None:
    """The case that number and code name together, else ``None`` (whichever was wrong)."""
    case_no = (case_no or "").strip().upper()[:20]
    case = None
    if CASE_NO_PATTERN.match(case_no):
        case = session.execute(select(Case).where(Case.case_no == case_no)).scalar_one_or_none()
    stored = case.lookup_code_hash if case is not None and case.lookup_code_hash else _DUMMY_HASH
    # compared in constant time, and also when there is no such case (no timing oracle)
    matches = hmac.compare_digest(stored, code_hash(case_no, code)) and stored != _DUMMY_HASH
    return case if matches and normalise_code(code) else None


def public_progress(session, profile, case: Case, calendar) -> Progress:
    """What the public look-up shows of a case found by :func:`find_case`: labels and dates only."""
    machine = machine_for(profile, case.kind)
    labels = {s.id: s.label for s in machine.steps} | {WITHDRAWN: "申请人已撤回"}
    closed = case.closed_on is not None
    return Progress(
        case_no=case.case_no, kind_label=KIND_LABELS.get(case.kind, ""), received_on=case.received_on,
        step_label="已办结" if closed else case_step_label(machine, case) if case.state in labels else "办理中",
        due_on=None if closed or case.stop_from else case.due_on,
        provisional=not closed and bool(case.due_on) and is_provisional(case, calendar),
        clock_stopped=not closed and case.stop_from is not None,
        closed_on=case.closed_on, outcome_label=labels.get(case.outcome, "已办结") if closed else "")
