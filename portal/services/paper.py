"""Applications received on paper or at a service window (海南 第三十八条: 书面; 湖南医保 第十七条:
线上或线下), registered by staff with the real receipt date and a scan of the signed form.

The deadlines count from the receipt date, not from the day staff typed it in (湖南 第二十八条
"自收到异议申请之日起"); a repair's eligibility is judged as of that date too. The case is the same
as an online one (same machine, timeline, documents, inbox); the applicant did not log in, so
the case binds no login (``applicant_iss = "paper"``) and the file event names the staff member
who registered it.
"""
from __future__ import annotations

import dataclasses
import secrets
from datetime import date

from ..models import Case, CreditRecord, StaffUser, Subject
from .cases import OBJECTION, REPAIR, Applicant, _current_record, _new_case, _text, eligibility_for, machine_for
from .context import ServiceContext
from .errors import ServiceError
from .evidence import add_evidence, validate

PAPER_ISS = "paper"
CHANNELS = {"paper": "书面（邮寄、递交）", "window": "窗口受理"}
NAME_LIMIT = 120
STATEMENT_LIMIT = 2000


def register_paper_application(ctx: ServiceContext, subject: Subject, record: CreditRecord, *, kind: str,
                               received_on: date, channel: str, applicant_name: str, statement: str,
                               scan: tuple[str, bytes], var_dir, role: str, ground: str = "",
                               staff=None) -> Case:
    """Register one paper application. ``role`` is the staff member's role; it must be the actor
    of the step the case starts in (the unit that receives applications). ``staff`` (the web's
    logged-in account; the CLI has none) must hold that role and cover the subject's region.
    Every input is checked before anything is written; the scan is validated like any upload."""
    if kind not in (OBJECTION, REPAIR):
        raise ServiceError("申请类型须为异议或信用修复", "kind")
    if channel not in CHANNELS:
        raise ServiceError(f"受理方式须为：{'、'.join(CHANNELS.values())}", "channel")
    record = _current_record(ctx, subject, record)
    machine = machine_for(ctx.profile, kind)
    first = machine.start_for(record) if kind == OBJECTION else machine.start
    if role != first.actor:
        raise ServiceError("纸质申请由受理申请的部门登记", "role", 403)
    staff = staff if staff is not None else ctx.caller  # the web passes who asks as ctx.caller
    if staff is not None:
        from .staff import in_region

        if not isinstance(staff, StaffUser):  # a logged-in person, not a staff account
            raise ServiceError("纸质申请由受理申请的部门工作人员登记", "role", 403)

        if not staff.active or role not in staff.roles or not in_region(staff, subject.region_code):
            raise ServiceError("您无权登记该主体的申请", "role", 403)
    if not isinstance(received_on, date):
        raise ServiceError("请填写收到申请的日期", "received_on")
    if received_on > ctx.today:
        raise ServiceError("收到日期不能晚于今天", "received_on")
    if received_on < record.decided_on:
        raise ServiceError("收到日期不能早于该信息的决定日期", "received_on")
    name = _text(applicant_name, NAME_LIMIT, "applicant_name", "请填写申请人姓名或单位名称")
    statement = _text(statement, STATEMENT_LIMIT, "statement", "请填写申请内容及理由（按纸质申请书录入）")
    if kind == OBJECTION and ctx.profile.objection.ground(ground) is None:
        raise ServiceError("请选择异议理由", "ground")
    if not scan or not scan[1]:
        raise ServiceError("请上传纸质申请书的扫描件", "scan")
    validate(*scan)  # before any row or file is written
    if kind == REPAIR:  # judged as of the day the application was received
        verdict = eligibility_for(dataclasses.replace(ctx, today=received_on), record)
        if not verdict.eligible:
            reasons = "；".join(f"{r.text_zh}（{r.article}）" for r in verdict.reasons)
            raise ServiceError(f"收到申请时不符合信用修复条件：{reasons}", "record", 422)
    applicant = Applicant(PAPER_ISS, f"{channel}:{secrets.token_hex(8)}", name, channel)
    case = _new_case(ctx, kind, subject, record, applicant, statement, ground if kind == OBJECTION else "",
                     received_on=received_on)
    add_evidence(ctx, case, scan[0], scan[1], var_dir=var_dir, uploaded_by=ctx.actor, stage="filing")
    return case
