"""Rows of an import file that correct or withdraw an existing record (操作 = 更正 / 撤回).

Checked while the file is read (the record exists and is current, belongs to the subject the row
names, lies inside the caller's scope; a correction's new values pass the same record rules as
every path) and applied after the new rows are published, in the same transaction, so the whole
file still succeeds or fails together. Each change is a new version with the row's reason.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from ..domain.provision import CORRECT
from ..models import CreditRecord, Subject
from .context import ServiceContext
from .errors import ServiceError
from .record_versions import withdraw_record
from .records import _validated, correct_record
from .subjects import identify

CORRECTABLE = ("record_type", "info_class", "severity", "title", "content", "public_summary", "doc_no", "authority",
               "decided_on", "scope", "publish_from", "publish_until", "ordinary_procedure")


def current_of(session, lineage_id: int) -> CreditRecord | None:
    return session.execute(select(CreditRecord).where(CreditRecord.lineage_id == lineage_id,
                                                      CreditRecord.is_current.is_(True))).scalar_one_or_none()


class StagedChanges:
    def __init__(self, ctx: ServiceContext, scope: Callable[[str, str], None] | None = None):
        self.ctx, self.scope = ctx, scope
        self.pending: list[tuple[int, str, int, dict, str]] = []  # row, action, lineage, changes, reason
        self.seen: set[int] = set()
        self.corrections = self.withdrawals = 0

    def target(self, values: dict) -> CreditRecord:
        lineage = int(values["record_ref"])
        record = current_of(self.ctx.session, lineage)
        if record is None:
            raise ServiceError(f"未找到编号为 {lineage} 的信息", "record_ref")
        subject = self.ctx.session.get(Subject, record.subject_id)
        kind = subject.kind
        try:
            number, _, _ = identify(self.ctx, kind, values["subject_code"])
        except ServiceError:
            number = None
        if number is None or self.ctx.protector.lookup_hash(number) != subject.code_hash:
            raise ServiceError(f"编号为 {lineage} 的信息不属于该主体代码", "subject_code")
        if self.scope is not None:
            self.scope(subject.region_code, record.authority)
        return record

    def check(self, row: int, values: dict) -> None:
        record = self.target(values)
        if record.lineage_id in self.seen:
            raise ServiceError("同一条信息在文件中出现多次，请合并为一行", "record_ref")
        changes: dict = {}
        if values["action"] == CORRECT:
            if record.status == "withdrawn":
                raise ServiceError("该信息已撤回，不能更正", "record_ref")
            changes = {k: values[k] for k in CORRECTABLE}
            changes["info_class"] = changes["info_class"] or None
            changes["severity"] = changes["severity"] or None
            _validated(self.ctx, **changes)
            if self.scope is not None:
                self.scope(record.subject.region_code, changes["authority"])
            self.corrections += 1
        else:
            if record.status == "withdrawn":
                raise ServiceError("该信息已撤回", "record_ref")
            self.withdrawals += 1
        self.seen.add(record.lineage_id)
        self.pending.append((row, values["action"], record.lineage_id, changes, values["change_reason"]))

    def apply(self) -> list[tuple[int, str, str]]:
        """Apply every change in the current transaction; row errors instead (the caller rolls back)."""
        for row, action, lineage, changes, reason in self.pending:
            record = current_of(self.ctx.session, lineage)
            if record is None:
                return [(row, "record_ref", f"未找到编号为 {lineage} 的信息")]
            try:
                if action == CORRECT:
                    correct_record(self.ctx, record, changes, reason)
                else:
                    withdraw_record(self.ctx, record, reason)
            except ServiceError as exc:
                return [(row, exc.field, exc.message)]
        return []
